import Foundation
import Testing
import LongMixCore
@testable import Decontamination

@Suite struct NGramSetTests {
    @Test func containsExactlyTheInsertedHashes() {
        var generator = TestText(seed: 5)
        let inserted = (0..<50_000).map { _ in generator.next() } + [0, 1, UInt64.max]
        let set = NGramSet(inserted + inserted.prefix(100))
        #expect(set.count == inserted.count)
        #expect(inserted.allSatisfy { set.contains($0) })
        let members = Set(inserted)
        let absent = (0..<200_000).map { _ in generator.next() }.filter { !members.contains($0) }
        #expect(absent.allSatisfy { !set.contains($0) })
        // The filter passes every member and rejects most non-members.
        #expect(inserted.allSatisfy { set.mayContain($0) })
        let passed = absent.filter { set.mayContain($0) }.count
        #expect(passed < absent.count / 10, "filter false positives: \(passed) of \(absent.count)")
        #expect(!NGramSet([]).contains(0) && !NGramSet([1]).contains(0))
    }

    @Test func scanningFromManyThreadsGivesTheSequentialResults() throws {
        var generator = TestText(seed: 11)
        let contaminants = (0..<20).map { _ in generator.string(words: 60) }
        let hasher = NGramHasher(n: 8, normalization: .unicode)
        let set = NGramSet(contaminants.flatMap { hasher.ngrams(of: Array($0.utf8)).map(\.hash) })
        let scanner = try ContaminationScanner(ngrams: set, parameters: ScanParameters(
            n: 8, normalization: .unicode, action: .cutWindows(window: 50, minimumPieceLength: 20, maximumPieces: 4)))
        let documents = (0..<64).map { k in
            Document(id: "\(k)", source: "s",
                     text: Array((generator.string(words: 50) + " " + contaminants[k % 20].prefix(200 + k)
                                  + " " + generator.string(words: 50)).utf8),
                     location: RecordLocation(file: "f", line: k + 1))
        }
        let sequential = documents.map { scanner.scan($0) }
        #expect(sequential.allSatisfy { !$0.hits.isEmpty })
        final class Results: @unchecked Sendable {
            var values: [ScanResult?]
            init(count: Int) { values = Array(repeating: nil, count: count) }
        }
        let results = Results(count: documents.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: documents.count) { k in
            let result = scanner.scan(documents[k])
            lock.lock()
            results.values[k] = result
            lock.unlock()
        }
        #expect(results.values.map { $0! } == sequential)
    }
}
