import Foundation
import Testing
import LongMixCore
import TestSupport
@testable import Decontamination

@Suite struct WindowCutterTests {
    /// A scanner over the n-grams of `contaminants`, with GPT-3 cutting at the given sizes.
    func scanner(_ contaminants: [String], n: Int, normalization: Normalization = .gpt3,
                 window: Int, minimumPieceLength: Int, maximumPieces: Int) throws -> ContaminationScanner {
        let hasher = NGramHasher(n: n, normalization: normalization)
        let set = NGramSet(contaminants.flatMap { hasher.ngrams(of: Array($0.utf8)).map(\.hash) })
        let parameters = ScanParameters(n: n, normalization: normalization,
            action: .cutWindows(window: window, minimumPieceLength: minimumPieceLength, maximumPieces: maximumPieces))
        return try ContaminationScanner(ngrams: set, parameters: parameters)
    }

    func clean(_ scanner: ContaminationScanner, _ text: String) -> (verdict: String, pieces: [String]) {
        let document = Document(id: "d", source: "s", text: Array(text.utf8), location: RecordLocation(file: "f", line: 1))
        let result = scanner.scan(document)
        switch result.verdict {
        case .keep: return ("keep", [text])
        case let .drop(reason): return ("dropped:\(reason.rawValue)", [])
        case let .cleaned(pieces):
            return ("cut", pieces.map { String(decoding: document.text[$0], as: UTF8.self) })
        }
    }

    @Test func removesTheHitWithItsWindowAndKeepsBothSides() throws {
        let s = try scanner(["Red, green; BLUE!"], n: 3, window: 5, minimumPieceLength: 8, maximumPieces: 3)
        let result = clean(s, "one two three four red green blue five six seven eight nine ten")
        #expect(result.verdict == "cut")
        #expect(result.pieces == ["one two three ", " six seven eight nine ten"])
    }

    @Test func dropsPiecesShorterThanTheMinimum() throws {
        let s = try scanner(["red green blue"], n: 3, window: 5, minimumPieceLength: 8, maximumPieces: 3)
        #expect(clean(s, "ab cd red green blue five six seven eight nine ten").pieces == [" six seven eight nine ten"])
        #expect(clean(s, "ab cd red green blue five six").verdict == "dropped:contaminated-no-clean-piece")
    }

    @Test func countsCharactersAsUnicodeScalarsNotBytes() throws {
        let s = try scanner(["red green blue"], n: 3, window: 2, minimumPieceLength: 5, maximumPieces: 3)
        // Back 2 characters from "red" leaves "éééé" (4 characters, 8 bytes): under the minimum.
        #expect(clean(s, "ééééé red green blue ççççççç").pieces == ["çççççç"])
    }

    @Test func mergesOverlappingWindowsAndDropsDocumentsWithTooManyPieces() throws {
        let s = try scanner(["red green blue"], n: 3, window: 2, minimumPieceLength: 1, maximumPieces: 3)
        // Two hits whose windows overlap make one removal: two pieces.
        #expect(clean(s, "aaaa red green blue b red green blue cccc").pieces == ["aaa", "ccc"])
        // Three separate hits: four pieces, more than three.
        #expect(clean(s, "aaaa red green blue bbbbbb red green blue cccccc red green blue dddd").verdict
            == "dropped:contaminated-too-many-pieces")
        #expect(clean(s, "no contamination here at all").verdict == "keep")
    }

    @Test(.needsPython) func matchesThePythonOracleUnderGPT3Parameters() throws {
        var generator = TestText(seed: 7)
        let contaminants = (0..<6).map { _ in generator.string(words: 80) }
        var documents: [String] = []
        for k in 0..<150 {
            var parts: [String] = []
            let plants = k % 15
            for plant in 0...plants {
                parts.append(generator.string(words: generator.below(12) == 0 ? 3 : 80 + generator.below(120)))
                if plant < plants {
                    // A window of 13..20 contaminant words, re-spelled by the generator's separators.
                    let words = Normalization.gpt3.words(of: Array(generator.pick(contaminants).utf8))
                    let length = min(words.count, 13 + generator.below(8))
                    let start = generator.below(max(1, words.count - length + 1))
                    parts.append(words[start..<start + length].map { String(decoding: $0.word, as: UTF8.self) }
                        .joined(separator: generator.pick([" ", "\n", " — ", ", "])))
                }
            }
            documents.append(parts.joined(separator: " "))
        }
        // Short documents that are mostly contaminant: nothing clean is left.
        documents += contaminants.map { String($0.prefix(250)) }
        let job: [String: Any] = ["n": 13, "window": 200, "min_piece": 200, "max_pieces": 10,
                                  "contaminants": contaminants, "documents": documents]
        let output = try Oracle.run("decontam_gpt3.py", input: try JSONSerialization.data(withJSONObject: job))
        let lines = output.split(separator: 0x0A)
        #expect(lines.count == documents.count)
        let s = try scanner(contaminants, n: 13, window: 200, minimumPieceLength: 200, maximumPieces: 10)
        var verdicts: [String: Int] = [:]
        for (document, line) in zip(documents, lines) {
            let expected = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            let actual = clean(s, document)
            verdicts[actual.verdict, default: 0] += 1
            #expect(actual.verdict == expected["verdict"] as! String)
            #expect(actual.pieces == expected["pieces"] as! [String])
        }
        // The generated set exercises every outcome.
        #expect(Set(verdicts.keys).isSuperset(of: ["keep", "cut", "dropped:contaminated-too-many-pieces", "dropped:contaminated-no-clean-piece"]))
    }
}
