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
