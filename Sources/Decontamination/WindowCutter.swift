/// GPT-3's cleaning of a contaminated document (Brown et al. 2020, App. C).
///
/// Contract, with characters counted as Unicode scalars of the UTF-8 text:
/// 1. Each hit (byte range of the matched n-gram, from its first word to its last) is widened by
///    `window` characters on each side, clamped to the text.
/// 2. Widened ranges that overlap or touch are merged; removing them splits the text into the
///    non-empty pieces between them.
/// 3. More than `maximumPieces` pieces: the document is dropped (`contaminated-too-many-pieces`).
/// 4. Pieces shorter than `minimumPieceLength` characters are dropped; if none is left the
///    document is dropped (`contaminated-no-clean-piece`), else the pieces are kept.
/// `Tests/Oracles/decontam_gpt3.py` implements the same rules on Python strings.
public struct WindowCutter: Sendable {
    public var window: Int
    public var minimumPieceLength: Int
    public var maximumPieces: Int

    public init(window: Int, minimumPieceLength: Int, maximumPieces: Int) {
        self.window = window
        self.minimumPieceLength = minimumPieceLength
        self.maximumPieces = maximumPieces
    }

    public func verdict(text: [UInt8], hitRanges: [Range<Int>]) -> Verdict {
        guard !hitRanges.isEmpty else { return .keep }
        let removed = text.withUnsafeBufferPointer { buffer -> [Range<Int>] in
            var widened = hitRanges.map { hit in
                Self.back(from: hit.lowerBound, characters: window, in: buffer)
                    ..< Self.forward(from: hit.upperBound, characters: window, in: buffer)
            }
            widened.sort { $0.lowerBound < $1.lowerBound }
            var merged: [Range<Int>] = []
            for range in widened {
                if let last = merged.last, range.lowerBound <= last.upperBound {
                    merged[merged.count - 1] = last.lowerBound ..< max(last.upperBound, range.upperBound)
                } else {
                    merged.append(range)
                }
            }
            return merged
        }
        var pieces: [Range<Int>] = []
        var start = 0
        for range in removed {
            if range.lowerBound > start { pieces.append(start..<range.lowerBound) }
            start = range.upperBound
        }
        if start < text.count { pieces.append(start..<text.count) }
        if pieces.count > maximumPieces { return .drop(reason: .contaminatedTooManyPieces) }
        let kept = pieces.filter { Self.characterCount(text[$0]) >= minimumPieceLength }
        return kept.isEmpty ? .drop(reason: .contaminatedNoCleanPiece) : .cleaned(pieces: kept)
    }

    /// Characters (scalars) in UTF-8 bytes: every byte that is not a continuation byte.
    static func characterCount(_ bytes: ArraySlice<UInt8>) -> Int {
        var count = 0
        for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
        return count
    }

    /// The byte offset `characters` scalars before `offset` (a scalar boundary), or 0.
    static func back(from offset: Int, characters: Int, in text: UnsafeBufferPointer<UInt8>) -> Int {
        var i = offset, remaining = characters
        while i > 0 && remaining > 0 {
            i -= 1
            while i > 0 && text[i] & 0xC0 == 0x80 { i -= 1 }
            remaining -= 1
        }
        return i
    }

    /// The byte offset `characters` scalars after `offset` (a scalar boundary), or the end.
    static func forward(from offset: Int, characters: Int, in text: UnsafeBufferPointer<UInt8>) -> Int {
        var i = offset, remaining = characters
        while i < text.count && remaining > 0 {
            i += 1
            while i < text.count && text[i] & 0xC0 == 0x80 { i += 1 }
            remaining -= 1
        }
        return i
    }
}
