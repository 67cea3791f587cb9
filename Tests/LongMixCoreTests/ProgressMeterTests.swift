import Foundation
import Testing
@testable import LongMixCore

@Suite struct ProgressMeterTests {
    @Test func barShowsPercentRateAndETA() {
        let bar = ProgressMeter.render(label: "tokenize", done: 250_000_000, total: 1_000_000_000, seconds: 5, style: .bar)
        #expect(bar.hasPrefix("\rtokenize [######------------------]  25.0%  50.0 MB/s  ETA 0:15"))
    }

    @Test func linesAreSelfContained() {
        let line = ProgressMeter.render(label: "scan", done: 3_000_000_000, total: 4_000_000_000, seconds: 4000, style: .lines)
        #expect(line == "scan: 75.0% of 4.00 GB, 0.8 MB/s, ETA 22:13, elapsed 1:06:40\n")
    }

    @Test func itemsRenderAsCountsWithTheNote() {
        let line = ProgressMeter.render(label: "train", done: 3_000, total: 12_000, seconds: 2, style: .lines,
                                        unit: .items("tokens"), note: "step 3/12  loss 4.1000")
        #expect(line == "train: 25.0% of 12,000 tokens, 1,500 tokens/s, ETA 0:06, elapsed 0:02, step 3/12  loss 4.1000\n")
        let bar = ProgressMeter.render(label: "train", done: 3_000, total: 12_000, seconds: 2, style: .bar,
                                       unit: .items("tokens"), note: "step 3/12")
        #expect(bar.hasPrefix("\rtrain [######------------------]  25.0%  1,500 tokens/s  ETA 0:06  step 3/12"))
        #expect(ProgressMeter.grouped(999) == "999" && ProgressMeter.grouped(1_000) == "1,000" && ProgressMeter.grouped(-1_234_567) == "-1,234,567")
    }

    @Test func unknownRateHasNoETA() {
        #expect(ProgressMeter.render(label: "x", done: 0, total: 10, seconds: 0, style: .lines).contains("ETA --:--"))
    }

    /// Feeding from several threads counts every byte; renderings are throttled and the final
    /// one shows 100%.
    @Test func countsFromManyThreadsAndFinishesAt100Percent() {
        final class Sink: @unchecked Sendable {
            let lock = NSLock()
            var texts: [String] = []
            func append(_ s: String) { lock.lock(); texts.append(s); lock.unlock() }
        }
        let sink = Sink()
        let meter = ProgressMeter(label: "t", total: 8 * 10_000, style: .lines, interval: .seconds(3600),
                                  output: { sink.append($0) })
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { meter.add(1) }
        }
        meter.finish()
        meter.finish()
        #expect(sink.texts.count == 2)  // the first add renders, then throttled; finish once
        #expect(sink.texts.last?.hasPrefix("t: 100.0% of 0.1 MB") == true)
    }
}
