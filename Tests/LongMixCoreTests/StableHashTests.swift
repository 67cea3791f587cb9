import Testing
@testable import LongMixCore

@Suite struct StableHashTests {
    @Test func sameKeysSameValueDifferentKeysDiffer() {
        let a = StableHash.hash(keys: ["rp_book", "doc-1"], seed: 42)
        #expect(a == StableHash.hash(keys: ["rp_book", "doc-1"], seed: 42))
        #expect(a != StableHash.hash(keys: ["rp_book", "doc-2"], seed: 42))
        #expect(a != StableHash.hash(keys: ["rp_book", "doc-1"], seed: 43))
        // Length delimiting: a different split of the same bytes is a different key list.
        #expect(StableHash.hash(keys: ["ab", "c"], seed: 1) != StableHash.hash(keys: ["a", "bc"], seed: 1))
    }

    /// Pinned values: a change here silently changes every sampling decision of past builds.
    @Test func valuesArePinnedAcrossReleases() {
        #expect(StableHash.hash([UInt8]("hello".utf8), seed: 0) == StableHash.hash("hello", seed: 0))
        #expect(StableHash.splitMix(0) == 0xE220_A839_7B1D_CDAF)
    }

    @Test func unitIntervalIsUniformEnough() {
        var buckets = [Int](repeating: 0, count: 10)
        for i in 0..<100_000 {
            let u = StableHash.unitInterval(seed: 7, keys: ["src", String(i)])
            #expect(u >= 0 && u < 1)
            buckets[Int(u * 10)] += 1
        }
        for b in buckets { #expect(abs(b - 10_000) < 500) }
    }
}

@Suite struct StageCountsTests {
    @Test func countsBalance() {
        var c = StageCounts()
        c.keep(units: 10)
        c.drop(units: 3, reason: .tooShort)
        c.drop(units: 4, reason: .contaminated)
        #expect(c.isBalanced)
        #expect(c.documentsRead == 3 && c.unitsRead == 17 && c.totalUnitsDropped == 7)
        var d = StageCounts()
        d.add(c)
        d.add(c)
        #expect(d.isBalanced && d.documentsDropped["too-short"] == 2)
    }
}
