import Foundation
import Packing
import Testing
import TestSupport

/// Generated corruptions of a real pack (random byte flips, truncations, extensions, edited and
/// deleted files, edited manifest values): `longmix inspect --verify` must report every one
/// (non-zero exit with a message) and never end in a signal.
@Suite(.serialized) struct PackCorruptionTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
    }

    @Test(.needsBinary) func everyCorruptionIsReportedAndNoneTraps() throws {
        let (pack, _, _) = try FixturePacks.shared.pack("instruct-32k")
        let clean = try CommandRunner.run(["inspect", pack, "--verify"])
        #expect(clean.status == 0 && clean.stdout.contains("verify: OK"), "\(clean.stdout) \(clean.stderr)")
        let scratch = try TestEnvironment.temporaryDirectory("corrupt")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = try FileManager.default.contentsOfDirectory(atPath: pack).sorted()
        #expect(files.contains(PackFormat.segmentIndexFile) && files.contains(PackFormat.manifestFile))
        var random = Generator(state: 20231201)
        var kinds: [String: Int] = [:]
        // 72 cases over every file and operation, then 16 edits of manifest numbers.
        for k in 0..<88 {
            let copy = scratch.appendingPathComponent("p\(k)").path
            try FileManager.default.copyItem(atPath: pack, toPath: copy)
            let name = k < 72 ? files[k % files.count] : PackFormat.manifestFile
            let path = copy + "/" + name
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let operation = k < 72 ? (k / files.count) % 4 : 3
            var what: String
            switch operation {
            case 0 where !bytes.isEmpty:
                let at = random.next(bytes.count)
                bytes[at] ^= UInt8(1 + random.next(255))
                what = "flip byte \(at)"
            case 1 where !bytes.isEmpty:
                let length = random.next(bytes.count)
                bytes.removeSubrange(length...)
                what = "truncate to \(length)"
            case 2:
                bytes += (0..<(1 + random.next(40))).map { _ in UInt8(random.next(256)) }
                what = "append"
            default:
                if name == PackFormat.manifestFile {
                    // Edit a number the way a person would: the text stays valid JSON.
                    var text = String(decoding: bytes, as: UTF8.self)
                    let keys = ["\"sequences\" : ", "\"paddingTokens\" : ", "\"documentTokens\" : ", "\"seqLen\" : ", "\"bytes\" : "]
                    let key = keys[random.next(keys.count)]
                    if let r = text.range(of: key) {
                        let digits = text[r.upperBound...].prefix { $0.isNumber }
                        text.replaceSubrange(r.upperBound..<text.index(r.upperBound, offsetBy: digits.count), with: String((Int(digits) ?? 0) + 1 + random.next(5)))
                    }
                    bytes = Array(text.utf8)
                    what = "edit \(key)"
                } else {
                    try FileManager.default.removeItem(atPath: path)
                    kinds["delete", default: 0] += 1
                    try check(copy, "\(name): delete")
                    continue
                }
            }
            kinds[what.split(separator: " ")[0].description, default: 0] += 1
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try check(copy, "\(name): \(what)")
            try? FileManager.default.removeItem(atPath: copy)
        }
        print("corruptions: \(kinds.sorted { $0.key < $1.key })")
    }

    private func check(_ copy: String, _ what: String) throws {
        let o = try CommandRunner.run(["inspect", copy, "--verify"])
        #expect(!o.signaled && !o.timedOut, "\(what): ended by signal \(o.status): \(o.stderr.suffix(300))")
        #expect(o.status != 0, "\(what): not reported")
        #expect(o.stdout.contains("verify: ") || o.stderr.contains("Error:"), "\(what): no message")
    }
}
