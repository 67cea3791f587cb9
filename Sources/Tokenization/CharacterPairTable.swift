/// Which adjacent character pairs some vocabulary piece contains, by character class, so that text
/// can be cut where no piece could ever span and the pieces encoded independently.
///
/// Exactness: a merge can only produce a vocabulary piece, and a symbol spanning the boundary
/// between characters `a` and `b` would be a piece containing `a` immediately followed by `b`. If no
/// piece contains that pair, no symbol ever spans the boundary, the two sides merge independently
/// (the relative order of their merges is unchanged), and encoding them separately gives the same
/// ids. For LLaMA-2 this cuts before every `▁` that follows a non-`▁` (no piece holds such a pair),
/// around every newline and tab (no piece holds them), and between many punctuation pairs.
///
/// Classes: each ASCII byte is its own class (0...127), `▁` (U+2581) is 128, and every other
/// character shares class 129. Sharing a class only over-approximates joinability, so cuts stay
/// exact; they are merely missed between two non-ASCII characters.
final class CharacterPairTable: @unchecked Sendable {
    static let classCount = 130
    static let spaceSymbolClass = 128
    static let otherClass = 129

    /// For each pair of classes `left << 8 | right`, 0 when some piece joins them and 1 when a
    /// cut falls between them (the cutting loop adds it to a count, without a branch).
    private let cuts: UnsafeMutablePointer<UInt8>
    /// Two tables of each byte's class when it is a character by itself (ASCII) and `multiByte`
    /// for the lead and trail bytes of longer ones: the first with a space in class 0x20, the
    /// second (at 256) with a space in the `▁` class (unnormalized SentencePiece input).
    private let byteClasses: UnsafeMutablePointer<UInt8>
    private static let multiByte: UInt8 = 0xFF

    /// Builds the table from the pieces that merges may produce.
    init(pieces: [[UInt8]]) {
        let n = Self.classCount
        let cuts = UnsafeMutablePointer<UInt8>.allocate(capacity: n << 8)
        cuts.initialize(repeating: 1, count: n << 8)
        for piece in pieces {
            piece.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                var i = 0
                var previous = -1
                while i < buffer.count {
                    let (characterClass, length) = Self.classify(base, i, buffer.count)
                    if previous >= 0 { cuts[previous << 8 | characterClass] = 0 }
                    previous = characterClass
                    i += length
                }
            }
        }
        self.cuts = cuts
        byteClasses = .allocate(capacity: 512)
        for b in 0..<256 { byteClasses[b] = b < 0x80 ? UInt8(b) : Self.multiByte }
        (byteClasses + 256).update(from: byteClasses, count: 256)
        byteClasses[256 + 0x20] = UInt8(Self.spaceSymbolClass)
    }

    deinit {
        cuts.deallocate()
        byteClasses.deallocate()
    }

    /// The class of the character starting at `text[i]` and its length in bytes.
    @inline(__always)
    static func classify(_ text: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> (Int, Int) {
        let b = text[i]
        if b < 0x80 { return (Int(b), 1) }
        if b == 0xE2 && i + 2 < end && text[i + 1] == 0x96 && text[i + 2] == 0x81 { return (spaceSymbolClass, 3) }
        return (otherClass, min(UTF8Scanning.leadByteLength(b), end - i))
    }

    /// Whether some piece contains a character of class `left` directly followed by one of `right`.
    @inline(__always)
    func canJoin(_ left: Int, _ right: Int) -> Bool { cuts[left << 8 | right] == 0 }

    /// Calls `body(start, length)` for each maximal run of `text` containing no cut, in order
    /// (`Cutter` with default options, a batch at a time into a buffer on the stack: this runs
    /// once per pre-tokenized word, so it allocates nothing).
    func forEachSegment(_ text: UnsafePointer<UInt8>, _ count: Int, _ body: (Int, Int) -> Void) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { buffer in
            guard let ends = buffer.baseAddress else { return }
            var cutter = Cutter(self, text, count)
            var start = 0
            while case let n = cutter.next(into: ends, capacity: buffer.count), n > 0 {
                for k in 0..<n {
                    body(start, ends[k] &- start)
                    start = ends[k]
                }
            }
        }
    }

    /// Cuts a text into its maximal runs containing no cut, a batch of segment ends at a time:
    /// each `next` call writes the ends (exclusive byte offsets) of the following segments, so a
    /// segment starts where the one before it ended (the first at 0) and the last ends at `count`.
    ///
    /// With `unnormalized`, the text is SentencePiece input not yet normalized (no
    /// remove_extra_whitespaces), cut exactly where its normalized form would be: a space counts as
    /// the `▁` it becomes when `spaceIsSymbol`, and each byte that does not start a well-formed
    /// UTF-8 sequence as one character of the other class (the U+FFFD it becomes).
    ///
    /// The loop is branch-free for ASCII: a byte's class comes from a 256-entry table, and each
    /// boundary's end is stored whether or not it is a cut, the count advancing by the cut table's
    /// 0 or 1. Only a byte of 0x80 or more takes the slower path that reads the whole character.
    struct Cutter {
        private let table: CharacterPairTable
        private let text: UnsafePointer<UInt8>
        private let count: Int
        private let unnormalized: Bool
        private let byteClasses: UnsafePointer<UInt8>
        private var position = 0
        /// The class of the character before `position`; -1 before the first.
        private var previous = -1
        private var finished: Bool

        init(_ table: CharacterPairTable, _ text: UnsafePointer<UInt8>, _ count: Int,
             unnormalized: Bool = false, spaceIsSymbol: Bool = false) {
            self.table = table
            self.text = text
            self.count = count
            self.unnormalized = unnormalized
            byteClasses = UnsafePointer(table.byteClasses + (unnormalized && spaceIsSymbol ? 256 : 0))
            finished = count == 0
        }

        /// The class and byte length of the character at `i`, whose byte is 0x80 or more.
        @inline(__always)
        private func classifyMultiByte(_ i: Int) -> (Int, Int) {
            let (characterClass, length) = CharacterPairTable.classify(text, i, count)
            guard unnormalized && characterClass == CharacterPairTable.otherClass else { return (characterClass, length) }
            return (characterClass, max(UTF8Scanning.validSequenceLength(text, i, count), 1))
        }

        /// Writes the ends of the next at most `capacity` (at least 1) segments to `ends`; returns
        /// how many, 0 once the text is done.
        @inline(__always)
        mutating func next(into ends: UnsafeMutablePointer<Int>, capacity: Int) -> Int {
            guard !finished else { return 0 }
            let text = text, count = count, cuts = table.cuts, classes = byteClasses
            var i = position, previous = previous, k = 0
            if previous < 0 {
                let b = text[0]
                (previous, i) = b < 0x80 ? (Int(classes[Int(b)]), 1) : classifyMultiByte(0)
            }
            while i < count && k < capacity {
                let b = text[i]
                var characterClass = Int(classes[Int(b)]), length = 1
                if b >= 0x80 { (characterClass, length) = classifyMultiByte(i) }
                ends[k] = i
                k &+= Int(cuts[previous &<< 8 | characterClass])
                previous = characterClass
                i &+= length
            }
            if i >= count && k < capacity {
                ends[k] = count
                k &+= 1
                finished = true
            }
            position = i
            self.previous = previous
            return k
        }
    }
}
