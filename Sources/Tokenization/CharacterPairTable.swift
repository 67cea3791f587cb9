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

    private let joinable: UnsafeMutablePointer<Bool>

    /// Builds the table from the pieces that merges may produce.
    init(pieces: [[UInt8]]) {
        let n = Self.classCount
        joinable = .allocate(capacity: n * n)
        joinable.initialize(repeating: false, count: n * n)
        for piece in pieces {
            piece.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                var i = 0
                var previous = -1
                while i < buffer.count {
                    let (characterClass, length) = Self.classify(base, i, buffer.count)
                    if previous >= 0 { joinable[previous * n + characterClass] = true }
                    previous = characterClass
                    i += length
                }
            }
        }
    }

    deinit { joinable.deallocate() }

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
    func canJoin(_ left: Int, _ right: Int) -> Bool { joinable[left * Self.classCount + right] }

    /// Calls `body(start, length)` for each maximal run of `text` containing no cut, in order.
    ///
    /// With `unnormalized`, the text is SentencePiece input not yet normalized (no
    /// remove_extra_whitespaces), cut exactly where its normalized form would be: a space counts as
    /// the `▁` it becomes when `spaceIsSymbol`, and each byte that does not start a well-formed
    /// UTF-8 sequence as one character of the other class (the U+FFFD it becomes).
    @inline(__always)
    func forEachSegment(_ text: UnsafePointer<UInt8>, _ count: Int, unnormalized: Bool = false,
                        spaceIsSymbol: Bool = false, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let spaceClass = unnormalized && spaceIsSymbol ? Self.spaceSymbolClass : 0x20
        @inline(__always) func classify(_ i: Int) -> (Int, Int) {
            if text[i] == 0x20 { return (spaceClass, 1) }
            let (characterClass, length) = Self.classify(text, i, count)
            guard unnormalized && characterClass == Self.otherClass else { return (characterClass, length) }
            return (characterClass, max(UTF8Scanning.validSequenceLength(text, i, count), 1))
        }
        var segmentStart = 0
        var (previous, i) = classify(0)
        while i < count {
            let (characterClass, length) = classify(i)
            if !canJoin(previous, characterClass) {
                body(segmentStart, i &- segmentStart)
                segmentStart = i
            }
            previous = characterClass
            i &+= length
        }
        body(segmentStart, count &- segmentStart)
    }
}
