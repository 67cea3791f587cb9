import Foundation
import LongMixCore
import Packing
import Testing
import TestSupport
import Tokenization
@testable import Evaluation

/// `eval ppl --pack`: pack sequences as perplexity streams, up to their padding, with the text
/// bytes of their documents.
@Suite struct PerplexityPackCorpusTests {
    static let tokenizer = CompletionGeneratorTests.tokenizer
    static let texts = ["The river runs past the mill.", "Zwei Wörter über Öl.", "A third, shorter one."]

    /// Sequence 0: [BOS] A [EOS] [BOS] B [EOS] + padding; sequence 1: [BOS] C [EOS] + padding.
    static func pack(tokenizerSHA: String = tokenizer.sha256) throws -> (PackReader, [[TokenID]], Int) {
        let ids = texts.map { [tokenizer.bosID!] + tokenizer.encode(Array($0.utf8)) + [tokenizer.eosID!] }
        let seqLen = ids[0].count + ids[1].count + 3
        let dir = try TestEnvironment.temporaryDirectory("ppl-pack").appendingPathComponent("pack").path
        let writer = try PackWriter(directory: dir, seqLen: seqLen, vocabularySize: tokenizer.vocabularySize)
        for (i, _) in texts.enumerated() {
            try writer.addDocument(source: "s", id: "d\(i)", tokens: ids[i].count, written: ids[i].count, cut: false)
        }
        var streams: [[TokenID]] = []
        for documents in [[0, 1], [2]] {
            var sequence = PackedSequence(source: 0, capacity: seqLen)
            for d in documents {
                ids[d].withUnsafeBufferPointer { sequence.append($0, mask: nil, document: Int32(d), documentOffset: 0, kind: .document) }
            }
            streams.append(sequence.tokens)
            sequence.pad(to: seqLen, with: 0)
            try writer.write(sequence)
        }
        var manifest = PackManifest(seqLen: seqLen, sequences: 2, tokenDtype: "uint16",
                                    tokenizer: .init(path: tokenizer.path, sha256: tokenizerSHA, format: "sentencepiece",
                                                     vocabularySize: tokenizer.vocabularySize),
                                    mixture: .init(name: "m", path: "m.yaml", sha256: ""), seed: 0,
                                    specialTokens: .init(bos: 1, eos: 2, pad: 0), loss: "all", decontamination: nil, sources: [],
                                    totals: PackingCounts(), paddingRate: 0, truncationRate: 0, recordsRead: 3, recordsSkipped: [:])
        try writer.commit(manifest: &manifest)
        return (try PackReader(directory: dir), streams, seqLen)
    }

    @Test func sequencesStopAtTheirPaddingAndCountTheirDocumentsTextBytes() throws {
        let (pack, streams, seqLen) = try Self.pack()
        let corpus = try PerplexityCorpus(pack: pack, tokenizer: Self.tokenizer, minTokens: 2, maxTokens: seqLen)
        #expect(corpus.streams == streams && corpus.streams[0].count == seqLen - 3)
        let utf8 = Self.texts.map { $0.utf8.count }
        #expect(corpus.bytes == [utf8[0] + utf8[1], utf8[2]])
        #expect(corpus.documentsRead == 2 && corpus.documentsTooShort == 0 && corpus.documentsCut == 0)
    }

    @Test func shortSequencesAreCountedAndLongOnesCut() throws {
        let (pack, streams, _) = try Self.pack()
        let minimum = streams[1].count + 1
        let corpus = try PerplexityCorpus(pack: pack, tokenizer: Self.tokenizer, minTokens: minimum, maxTokens: minimum)
        #expect(corpus.documentsRead == 2 && corpus.documents == 1 && corpus.documentsTooShort == 1 && corpus.documentsCut == 1)
        #expect(corpus.streams == [Array(streams[0].prefix(minimum))])
        // The cut keeps A whole and the first tokens of B; their bytes are what those tokens decode to.
        let kept = Array(streams[0][(streams[0].firstIndex(of: Self.tokenizer.eosID!)! + 1)..<minimum])
        #expect(corpus.bytes == [Self.texts[0].utf8.count + (try Self.tokenizer.decode(kept)).count])
    }

    @Test func aPackOfAnotherTokenizerIsRefused() throws {
        let (pack, _, seqLen) = try Self.pack(tokenizerSHA: String(repeating: "0", count: 64))
        let error = #expect(throws: EvaluationError.self) {
            try PerplexityCorpus(pack: pack, tokenizer: Self.tokenizer, minTokens: 2, maxTokens: seqLen)
        }
        #expect(error?.description.contains("built with tokenizer") == true)
    }
}
