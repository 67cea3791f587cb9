import Foundation
import Testing
@testable import Evaluation

/// Hugging Face's "Perplexity of fixed-length models" loop, transcribed from its documentation:
/// for begin in range(0, n, stride): end = min(begin + max_length, n); trg_len = end - prev_end;
/// labels before the last trg_len are -100; the model's shift means a window's first position is
/// never predicted. Returns, per window, (inputs, scored positions).
private func huggingFaceWindows(count: Int, context: Int, stride: Int) -> [(Range<Int>, Range<Int>)] {
    var windows: [(Range<Int>, Range<Int>)] = []
    var previousEnd = 0
    var begin = 0
    while begin < count {
        let end = min(begin + context, count)
        let targetLength = end - previousEnd
        windows.append((begin..<end, max(end - targetLength, begin + 1)..<end))
        previousEnd = end
        if end == count { break }
        begin += stride
    }
    return windows
}

@Suite struct PerplexityWindowsTests {
    @Test func everyPositionAfterTheFirstIsScoredOnceWithBoundedContext() throws {
        for count in [0, 1, 2, 3, 7, 64, 65, 100, 257] {
            for context in [2, 3, 8, 16, 64] {
                for stride in Set([1, context / 2, context - 1].filter { $0 >= 1 }) {
                    let windows = Array(try PerplexityWindows(count: count, context: context, stride: stride))
                    let scored = windows.flatMap { Array($0.scored) }
                    #expect(scored == Array(1..<max(count, 1)), "count \(count) context \(context) stride \(stride)")
                    for w in windows {
                        #expect(w.inputs.count <= context && w.inputs.upperBound == w.scored.upperBound)
                        #expect(w.scored.lowerBound > w.inputs.lowerBound)
                        // Everything but the first window scores at most `stride` tokens, each with
                        // at least context - stride tokens before it once the stream is long enough.
                        if w.inputs.lowerBound > 0 {
                            #expect(w.scored.count <= stride && w.inputs.count == context)
                            #expect(w.scored.lowerBound - w.inputs.lowerBound >= context - stride)
                        }
                    }
                }
            }
        }
    }

    @Test func matchesHuggingFacesLoopExceptTheLastWindowsFullContext() throws {
        for (count, context, stride) in [(1000, 64, 16), (1000, 128, 127), (513, 256, 100), (50, 64, 16), (4096, 512, 256)] {
            let ours = Array(try PerplexityWindows(count: count, context: context, stride: stride))
            let theirs = huggingFaceWindows(count: count, context: context, stride: stride)
            #expect(ours.count == theirs.count)
            for (w, (inputs, scored)) in zip(ours, theirs) {
                #expect(w.scored == scored)
                if w != ours.last { #expect(w.inputs == inputs) }
                #expect(w.inputs.lowerBound <= inputs.lowerBound)
            }
        }
    }

    @Test func nonOverlappingWindowsTileTheScoredPositions() throws {
        let windows = Array(try PerplexityWindows(count: 10, context: 4))
        #expect(windows.map(\.inputs) == [0..<4, 3..<7, 6..<10])
        #expect(windows.map(\.scored) == [1..<4, 4..<7, 7..<10])
    }

    @Test func rejectsContextsAndStridesThatCannotScore() {
        #expect(throws: EvaluationError.self) { try PerplexityWindows(count: 10, context: 1) }
        #expect(throws: EvaluationError.self) { try PerplexityWindows(count: 10, context: 8, stride: 8) }
        #expect(throws: EvaluationError.self) { try PerplexityWindows(count: 10, context: 8, stride: 0) }
    }

    @Test func perplexityPerByteFollowsTheHarnessDefinition() {
        var p = PerplexityPerByte()
        p.add(negativeLogLikelihood: 3.0, tokens: 2)
        p.add(negativeLogLikelihood: 1.5, tokens: 1)
        p.add(bytes: 9)
        #expect(abs(p.perplexityPerByte - exp(0.5)) < 1e-12)
        #expect(abs(p.bitsPerByte - 0.5 / log(2.0)) < 1e-12)
        #expect(abs(p.perplexityPerToken - exp(1.5)) < 1e-12)
        #expect(PerplexityPerByte().perplexityPerByte.isNaN)
    }
}

/// A model whose loss at a position depends only on the token and on how many tokens it sees,
/// so that the evaluation's sum can be computed independently of its windows.
private struct ContextCountingScorer: NextTokenScorer {
    var calls = 0
    static func loss(token: UInt32, seen: Int) -> Double { Double(token % 7 + 1) / Double(seen + 1) }

    mutating func negativeLogLikelihood(of stream: UnsafeBufferPointer<UInt32>, window: PerplexityWindows.Window) throws -> Double {
        calls += 1
        return window.scored.reduce(0.0) { $0 + Self.loss(token: stream[$1], seen: $1 - window.inputs.lowerBound) }
    }
}

@Suite struct PerplexityEvaluationTests {
    @Test func sumsEachScoredTokenOnceWithItsWindowsContext() throws {
        let stream = (0..<300).map { UInt32(($0 * 7919) % 1000) }
        for (context, stride) in [(32, nil), (32, 8), (64, 63), (512, nil)] as [(Int, Int?)] {
            var scorer = ContextCountingScorer()
            var result = PerplexityPerByte()
            try PerplexityEvaluation.score(stream: stream, textBytes: 1234, context: context, stride: stride,
                                           scorer: &scorer, into: &result)
            // Independently: token p is scored once, with min(p, c) tokens before it, where the first
            // window gives p, and later ones the window reaching back `context` from its end.
            let s = stride ?? context - 1
            var expected = 0.0
            for p in 1..<stream.count {
                let seen: Int
                if p < context { seen = p } else {
                    let end = min(context + ((p - context) / s + 1) * s, stream.count)
                    seen = p - (end - context)
                }
                expected += ContextCountingScorer.loss(token: stream[p], seen: seen)
            }
            #expect(abs(result.negativeLogLikelihood - expected) < 1e-9, "context \(context) stride \(String(describing: stride))")
            #expect(result.tokens == stream.count - 1 && result.bytes == 1234)
        }
    }

    @Test func tableRendersARowPerModelAndMarksExtrapolation() {
        var r = PerplexityPerByte()
        r.add(negativeLogLikelihood: 100, tokens: 50)
        r.add(bytes: 200)
        let table = PerplexityTable(contexts: [64, 128], stride: nil, documents: 3, rows: [
            .init(name: "base", checkpoint: "ckpt/base", trainedContext: 64, ropeFactor: 1,
                  cells: [.init(context: 64, result: r, extrapolated: false), .init(context: 128, result: r, extrapolated: true)]),
        ])
        let text = table.rendered()
        #expect(text.contains("base") && text.contains(String(format: "%.4f", exp(0.5)) + "*"))
        #expect(text.contains("extrapolation"))
    }
}
