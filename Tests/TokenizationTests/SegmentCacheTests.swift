import Testing
@testable import Tokenization

/// The segment cache returns exactly what was inserted, through growth and the clear at
/// `maxEntries`; short and long keys, inline and arena ids.
@Suite struct SegmentCacheTests {
    /// Key `i`: its decimal digits then `i % 30` x's (distinct for distinct `i`; 1 to 36 bytes).
    static func key(_ i: Int) -> [UInt8] { Array("\(i)".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: i % 30) }

    /// Value `i`: 1 to 6 ids derived from `i`.
    static func value(_ i: Int) -> [TokenID] { (0..<(1 + i % 6)).map { TokenID(truncatingIfNeeded: i &* 7 &+ $0) } }

    /// Looks key `i` up; inserts it on a miss when `insertOnMiss`. Returns the cached ids, if any.
    static func lookUp(_ cache: SegmentCache, _ i: Int, insertOnMiss: Bool) -> [TokenID]? {
        var bytes = key(i)
        let length = bytes.count
        bytes += [UInt8](repeating: 0xAB, count: 16)  // readable slack past the key, not part of it
        return bytes.withUnsafeBufferPointer { buffer -> [TokenID]? in
            let base = buffer.baseAddress!
            let probe = cache.probe(base, length)
            if let hit = cache.cached(base, length, probe) { return Array(hit) }
            if insertOnMiss { value(i).withUnsafeBufferPointer { cache.insert(base, length, probe: probe, value: $0) } }
            return nil
        }
    }

    @Test func returnsWhatWasInsertedThroughGrowth() {
        let cache = SegmentCache(maxEntries: 1 << 18)
        #expect(cache.slotCount == 1024)
        let count = 100_000  // eight doublings, from 1,024 slots
        var early = 0  // hits before insertion: impossible, every key is new
        for i in 0..<count where Self.lookUp(cache, i, insertOnMiss: true) != nil { early += 1 }
        #expect(early == 0)
        #expect(cache.entryCount == count)
        #expect(cache.slotCount == 1 << 18)  // the first power of two above 4/3 of the entries
        var wrong = 0
        for i in 0..<count where Self.lookUp(cache, i, insertOnMiss: false) != Self.value(i) { wrong += 1 }
        #expect(wrong == 0)
        // Keys never inserted miss, including ones sharing a prefix with inserted keys.
        #expect(Self.lookUp(cache, count, insertOnMiss: false) == nil)
        #expect(Self.lookUp(cache, count + 12_345, insertOnMiss: false) == nil)
    }

    /// The main table doubles only when it would be more than 3/4 full.
    @Test func growsPastThreeQuartersFull() {
        let cache = SegmentCache(maxEntries: 1 << 18)
        for i in 0..<768 { _ = Self.lookUp(cache, i, insertOnMiss: true) }
        #expect(cache.slotCount == 1024)  // 768 of 1,024: full to 3/4, not past it
        _ = Self.lookUp(cache, 768, insertOnMiss: true)
        #expect(cache.slotCount == 2048)
        #expect(cache.entryCount == 769)
    }

    @Test func clearsAtMaxEntriesAndStaysExact() {
        let cache = SegmentCache(maxEntries: 1024)
        let count = 5_000  // four clears
        for i in 0..<count { _ = Self.lookUp(cache, i, insertOnMiss: true) }
        #expect(cache.entryCount == count % 1024)
        #expect(cache.slotCount == 2048)
        // After clears, a key hits with its own ids or misses; never another key's ids.
        var wrong = 0, hits = 0
        for i in 0..<count {
            guard let hit = Self.lookUp(cache, i, insertOnMiss: false) else { continue }
            hits += 1
            if hit != Self.value(i) { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(hits >= count % 1024)  // at least every key since the last clear
        for i in (count - count % 1024)..<count { #expect(Self.lookUp(cache, i, insertOnMiss: false) == Self.value(i)) }
    }
}
