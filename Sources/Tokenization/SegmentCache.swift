import CPrefetch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A per-encoder memo of segment encodings: normalized segment bytes -> token ids.
///
/// Natural text repeats the same few thousand words, so after warm-up almost every segment is a
/// hit and encoding costs a hash and a copy. The cost of a hit is memory latency, so the common
/// case touches one cache line:
/// - every entry is 32 bytes, aligned so it never straddles a line; a key of at most 16 bytes is
///   stored inline (as two words) and up to 3 ids are stored inline, so a short, common word is
///   one load and two compares; longer keys keep (hash, offset) into a key arena and more ids an
///   offset into an id arena;
/// - a front table for short segments, 2-way set-associative with both ways of a set in one
///   64-byte line (newest first), serves the frequent words before the growable open-addressing
///   main table; it is small enough to stay in the CPU's caches, so a front hit is one line from
///   cache, and only a front miss goes on to the main table (one more line, usually from memory);
/// - tables of 2 MB or more are backed by transparent huge pages where the OS has them, so the
///   lookups do not also miss the TLB.
/// Tables are mapped zero-filled (an empty entry is all zero bytes), so the OS hands out pages as
/// they are first touched and no pass initializes them. First touches are what a large table
/// costs (on a fresh virtual machine a new page can cost more than the BPE it saves), so the main
/// table grows by doubling, when it would be more than 3/4 full: a short job (a build's few
/// hundred sampled documents) never pays for the size a whole corpus needs, and a whole corpus
/// pays for half the pages that growing at half full would touch (the longer probes cost less).
/// The cache belongs to one `TokenEncoder` (one thread), so it needs no locking; it never changes
/// results, only speed. Memory is bounded: past `maxEntries` segments (or the arena limits) the
/// main table is cleared and refills. Longer segments are not cached (they rarely repeat).
///
/// Contract: keys are 1 to `maxKeyLength` bytes and must have 16 readable bytes from their start
/// (callers pad their buffers), so short keys load as two words; bytes past the key's length are
/// masked off.
final class SegmentCache {
    static let maxKeyLength = 96
    /// Entries the main table holds before it is cleared; it never exceeds twice as many slots.
    let maxEntries: Int
    private static let maxKeyBytes = 32 << 20
    private static let maxIDs = 8 << 20
    /// The front table has `1 << frontSetBits` sets of 2 entries (65,536 entries, 2 MB: one huge page).
    private static let frontSetBits = 15
    /// Keys up to this long are stored inline.
    private static let inlineKeyLength = 16
    /// Up to this many ids are stored inline.
    private static let inlineIDs = 3

    /// One entry (32 bytes). Inline key: `word0`/`word1` are the key bytes, zero-padded. Longer
    /// key: `word0` is its hash and `word1` its offset in the key arena. With more than
    /// `inlineIDs` ids, `ids.0` is their offset in the id arena. All zero bytes: an empty entry.
    private struct Entry {
        var word0: UInt64
        var word1: UInt64
        var length: Int16  // key length; 0 marks an empty entry
        var count: Int16
        var ids: (TokenID, TokenID, TokenID)
    }
    // Computed, not stored: a stored `static let` costs a `swift_once` check on every use, and
    // these are used on every lookup.
    @inline(__always) private static var empty: Entry { Entry(word0: 0, word1: 0, length: 0, count: 0, ids: (0, 0, 0)) }
    /// Offset of the inline ids in an entry (checked against the layout in `init`).
    @inline(__always) private static var idsOffset: Int { 20 }

    private let front: EntryTable
    /// `front`'s entries, kept apart for the hot path.
    private let frontEntries: UnsafeMutablePointer<Entry>
    private var main: EntryTable
    /// `main`'s entries and slot count, kept apart for the hot path.
    private var slots: UnsafeMutablePointer<Entry>
    private var capacity: Int
    private var keys: UnsafeMutablePointer<UInt8>
    private var keyCount = 0
    private var keyCapacity: Int
    private var ids: UnsafeMutablePointer<TokenID>
    private var idCount = 0
    private var idCapacity: Int
    private var entries = 0

    /// A cache that holds up to `maxEntries` segments (a power of two) before it clears; tests
    /// pass small limits to reach the growth and clearing paths.
    init(maxEntries: Int = 1 << 20) {
        precondition(MemoryLayout<Entry>.stride == 32 && MemoryLayout<Entry>.offset(of: \Entry.ids) == Self.idsOffset)
        precondition(maxEntries >= 512 && maxEntries & (maxEntries - 1) == 0, "maxEntries: a power of two, at least 512")
        self.maxEntries = maxEntries
        front = EntryTable(count: 2 << Self.frontSetBits)
        frontEntries = front.entries
        keyMasks = .allocate(capacity: Self.inlineKeyLength + 1)
        for length in 0...Self.inlineKeyLength {
            let bits0 = min(length, 8) * 8, bits1 = max(length - 8, 0) * 8
            keyMasks[length] = (bits0 == 0 ? 0 : UInt64.max >> (64 - bits0), bits1 == 0 ? 0 : UInt64.max >> (64 - bits1))
        }
        main = EntryTable(count: 1024)
        slots = main.entries
        capacity = main.count
        keyCapacity = 16 << 10
        keys = .allocate(capacity: keyCapacity)
        idCapacity = 4 << 10
        ids = .allocate(capacity: idCapacity)
    }

    deinit {
        keyMasks.deallocate()
        keys.deallocate()
        ids.deallocate()
    }

    /// The main table's slot count (for tests).
    var slotCount: Int { capacity }
    /// Segments in the main table (for tests).
    var entryCount: Int { entries }

    /// A table of `count` empty entries, mapped zero-filled on a page boundary (so no entry
    /// spans two cache lines, and a front set is one line); from 2 MB on, with huge pages
    /// requested and its first entry on a huge-page boundary. Unmapped when released.
    private final class EntryTable {
        let entries: UnsafeMutablePointer<Entry>
        let count: Int
        private let mapping: UnsafeMutableRawPointer
        private let mappedBytes: Int

        init(count: Int) {
            let bytes = count * MemoryLayout<Entry>.stride
            let hugePage = 2 << 20
            let huge = bytes >= hugePage
            // Mapped one huge page larger, so an aligned start fits; the slack is never touched.
            mappedBytes = huge ? bytes + hugePage : bytes
            guard let memory = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  memory != MAP_FAILED else {
                fatalError("SegmentCache: cannot map \(mappedBytes) bytes")
            }
            mapping = memory
            var start = memory
            if huge {
                let address = UInt(bitPattern: memory)
                let aligned = (address + UInt(hugePage) - 1) & ~UInt(hugePage - 1)
                start = memory + Int(aligned - address)
                #if os(Linux)
                _ = madvise(start, bytes, MADV_HUGEPAGE)  // a hint; fine if refused
                #endif
            }
            entries = start.bindMemory(to: Entry.self, capacity: count)
            self.count = count
        }

        deinit { munmap(mapping, mappedBytes) }
    }

    /// For each key length up to `inlineKeyLength`, the masks that keep a key's bytes of its
    /// two words and zero the bytes past it.
    private let keyMasks: UnsafeMutablePointer<(UInt64, UInt64)>

    /// A key of 1 to 16 bytes as two words, bytes past `length` zeroed.
    @inline(__always)
    private func shortKey(_ key: UnsafePointer<UInt8>, _ length: Int) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(key)
        let masks = keyMasks[length]
        return (raw.loadUnaligned(as: UInt64.self) & masks.0, raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & masks.1)
    }

    /// Hash of an inline key from its two words.
    @inline(__always)
    private static func shortHash(_ short: (UInt64, UInt64), _ length: Int) -> UInt64 {
        var h = (short.0 ^ UInt64(length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 31) ^ short.1) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// The first of the two entries of the key's front set.
    @inline(__always)
    private static func frontSet(_ hash: UInt64) -> Int {
        (Int(truncatingIfNeeded: hash >> 40) & ((1 << frontSetBits) - 1)) << 1
    }

    /// Makes `entry` the newest way of front set `set` (the older newest moves to the second way).
    @inline(__always)
    private func promote(_ entry: Entry, set: Int) {
        let front = frontEntries
        front[set + 1] = front[set]
        front[set] = entry
    }

    /// The entry's ids (inline or in the id arena).
    @inline(__always)
    private func idsOf(_ entry: UnsafeMutablePointer<Entry>, _ count: Int) -> UnsafeBufferPointer<TokenID> {
        if count <= Self.inlineIDs {
            let inline = (UnsafeRawPointer(entry) + Self.idsOffset).assumingMemoryBound(to: TokenID.self)
            return UnsafeBufferPointer(start: inline, count: count)
        }
        return UnsafeBufferPointer(start: ids + Int(entry.pointee.ids.0), count: count)
    }

    /// A key's hash and, for an inline key, its two words: computed once for its lookup and, on
    /// a miss, its insertion.
    struct Probe {
        fileprivate(set) var hash: UInt64 = 0
        fileprivate(set) var short: (UInt64, UInt64) = (0, 0)
    }

    /// The key's probe, after starting to load the lines its lookup reads first (its front set
    /// and main-table slot) without waiting for them: probing a run of keys before looking them
    /// up overlaps their memory latencies, which are most of a lookup's cost.
    @inline(__always)
    func probe(_ key: UnsafePointer<UInt8>, _ length: Int) -> Probe {
        var probe = Probe()
        if length <= Self.inlineKeyLength {
            probe.short = shortKey(key, length)
            probe.hash = Self.shortHash(probe.short, length)
            longmix_prefetch(frontEntries + Self.frontSet(probe.hash))
        } else {
            probe.hash = tokenizerHash(key, length)
        }
        longmix_prefetch(slots + tokenizerSlot(probe.hash, capacity &- 1))
        return probe
    }

    /// The cached ids for the key (whose probe this is), or nil on a miss. The buffer is valid
    /// until the next `insert` or lookup.
    @inline(__always)
    func cached(_ key: UnsafePointer<UInt8>, _ length: Int, _ probe: Probe) -> UnsafeBufferPointer<TokenID>? {
        let hash = probe.hash
        let front = frontEntries
        if length <= Self.inlineKeyLength {
            let short = probe.short
            let set = Self.frontSet(hash)
            let first = front[set], second = front[set + 1]
            if first.length == Int16(length) && first.word0 == short.0 && first.word1 == short.1 {
                return idsOf(front + set, Int(first.count))
            }
            if second.length == Int16(length) && second.word0 == short.0 && second.word1 == short.1 {
                return idsOf(front + set + 1, Int(second.count))
            }
            let mask = capacity - 1
            var index = tokenizerSlot(hash, mask)
            while true {
                let slot = slots + index
                let entry = slot.pointee
                if entry.length == 0 { return nil }
                if entry.length == Int16(length) && entry.word0 == short.0 && entry.word1 == short.1 {
                    let count = Int(entry.count)
                    if count <= Self.inlineIDs { promote(entry, set: set) }
                    return idsOf(slot, count)
                }
                index = (index + 1) & mask
            }
        }
        let mask = capacity - 1
        var index = tokenizerSlot(hash, mask)
        while true {
            let slot = slots + index
            let entry = slot.pointee
            if entry.length == 0 { return nil }
            if entry.word0 == hash && entry.length == Int16(length)
                && memoryEqual(keys + Int(entry.word1), key, length) {
                return idsOf(slot, Int(entry.count))
            }
            index = (index + 1) & mask
        }
    }

    /// Remembers `value` for a key (whose probe this is) that `cached` just missed.
    func insert(_ key: UnsafePointer<UInt8>, _ length: Int, probe: Probe, value: UnsafeBufferPointer<TokenID>) {
        let isShort = length <= Self.inlineKeyLength
        let keyBytes = isShort ? 0 : length
        let arenaIDs = value.count > Self.inlineIDs ? value.count : 0
        if entries >= maxEntries || keyCount + keyBytes > Self.maxKeyBytes || idCount + arenaIDs > Self.maxIDs {
            UnsafeMutableRawPointer(slots).initializeMemory(as: UInt8.self, repeating: 0,
                                                           count: capacity * MemoryLayout<Entry>.stride)
            keyCount = 0
            idCount = 0
            entries = 0
        } else if (entries + 1) * 4 > capacity * 3 {
            grow()
        }
        var entry = Self.empty
        entry.length = Int16(length)
        entry.count = Int16(value.count)
        let hash = probe.hash
        if isShort {
            (entry.word0, entry.word1) = probe.short
        } else {
            reserveKeys(length)
            (keys + keyCount).update(from: key, count: length)
            entry.word0 = hash
            entry.word1 = UInt64(keyCount)
            keyCount += length
        }
        if arenaIDs > 0 {
            reserveIDs(arenaIDs)
            if let base = value.baseAddress { (ids + idCount).update(from: base, count: arenaIDs) }
            entry.ids.0 = TokenID(idCount)
            idCount += arenaIDs
        } else {
            withUnsafeMutableBytes(of: &entry.ids) { raw in
                for (k, id) in value.enumerated() { raw.storeBytes(of: id, toByteOffset: k * 4, as: TokenID.self) }
            }
            if isShort { promote(entry, set: Self.frontSet(hash)) }
        }
        place(entry, hash: hash)
        entries += 1
    }

    private func reserveKeys(_ extra: Int) { Self.reserve(extra, in: &keys, count: keyCount, capacity: &keyCapacity) }

    private func reserveIDs(_ extra: Int) { Self.reserve(extra, in: &ids, count: idCount, capacity: &idCapacity) }

    /// Grows the arena `buffer` (holding `count` of `capacity` elements) to fit `extra` more,
    /// at least doubling it, keeping its contents.
    private static func reserve<Element>(_ extra: Int, in buffer: inout UnsafeMutablePointer<Element>, count: Int,
                                         capacity: inout Int) {
        guard count + extra > capacity else { return }
        capacity = max(capacity * 2, count + extra)
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
        bigger.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = bigger
    }

    /// The hash an entry was placed by.
    private static func hash(of entry: Entry) -> UInt64 {
        Int(entry.length) <= inlineKeyLength ? shortHash((entry.word0, entry.word1), Int(entry.length)) : entry.word0
    }

    private func place(_ entry: Entry, hash: UInt64) {
        let mask = capacity - 1
        var index = tokenizerSlot(hash, mask)
        while slots[index].length != 0 { index = (index + 1) & mask }
        slots[index] = entry
    }

    /// Doubles the main table (up to `2 * maxEntries` slots), rehashing every entry into it.
    private func grow() {
        let old = main
        main = EntryTable(count: 2 * capacity)
        slots = main.entries
        capacity = main.count
        for i in 0..<old.count where old.entries[i].length != 0 {
            place(old.entries[i], hash: Self.hash(of: old.entries[i]))
        }
    }
}
