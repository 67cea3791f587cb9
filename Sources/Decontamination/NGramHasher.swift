import LongMixCore

/// One word n-gram found in a text: its 64-bit hash, the index of its first word, and the byte
/// range of the original text from its first word's first character to its last word's last.
public struct NGramOccurrence: Sendable, Equatable {
    public var hash: UInt64
    public var firstWord: Int
    public var range: Range<Int>
}

/// Hashes the normalized word n-grams of a text in one pass over its bytes.
///
/// Contract: the hash of an n-gram depends only on its `n` normalized words (not on how the
/// original text spelled, cased or separated them), so the index (built from test sets) and the
/// scanner (run over training text) agree. Words are hashed byte by byte as they are read
/// (FNV-1a over the normalized UTF-8, finished with SplitMix64); the n-gram hash is a rolling
/// polynomial over the last `n` word hashes, finished with SplitMix64. ASCII bytes go through a
/// 128-entry table; other characters through the normalization's per-scalar table. No `String`
/// is built. Values are stable across runs and machines (they are stored in the index).
public struct NGramHasher: Sendable {
    public let n: Int
    public let normalization: Normalization
    let table: NormalizationTable
    /// base^n, to remove the word leaving the window.
    let outgoingFactor: UInt64

    static let base: UInt64 = 0x9E37_79B9_7F4A_7C15 | 1
    static let fnvBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    public init(n: Int, normalization: Normalization) {
        precondition(n >= 1, "n-gram length must be at least 1")
        self.n = n
        self.normalization = normalization
        self.table = normalization.table
        var factor: UInt64 = 1
        for _ in 0..<n { factor = factor &* Self.base }
        self.outgoingFactor = factor
    }

    /// The hash of one normalized word given as bytes (what the scanner computes incrementally).
    static func wordHash(_ normalizedWord: some Sequence<UInt8>) -> UInt64 {
        var h = fnvBasis
        for byte in normalizedWord { h = (h ^ UInt64(byte)) &* fnvPrime }
        return StableHash.splitMix(h)
    }

    /// Calls `body` for every n-gram of `text`, in order of position.
    @inline(__always)
    public func forEachNGram(in text: UnsafeBufferPointer<UInt8>, _ body: (NGramOccurrence) -> Void) {
        let n = self.n
        let base = Self.base, outgoing = outgoingFactor
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { ringHashes in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { ringStarts in
                ringHashes.initialize(repeating: 0)
                ringStarts.initialize(repeating: 0)
                table.ascii.withUnsafeBufferPointer { ascii in
                    var rolling: UInt64 = 0
                    var wordCount = 0
                    var slot = 0
                    var inWord = false
                    var wordHash = Self.fnvBasis
                    var wordStart = 0
                    var wordEnd = 0

                    @inline(__always) func endWord() {
                        let w = StableHash.splitMix(wordHash)
                        rolling = rolling &* base &+ w &- ringHashes[slot] &* outgoing
                        ringHashes[slot] = w
                        ringStarts[slot] = wordStart
                        slot += 1
                        if slot == n { slot = 0 }
                        wordCount += 1
                        if wordCount >= n {
                            // `slot` now points at the oldest word of the window.
                            body(NGramOccurrence(hash: StableHash.splitMix(rolling),
                                                 firstWord: wordCount - n,
                                                 range: ringStarts[slot]..<wordEnd))
                        }
                        inWord = false
                    }

                    @inline(__always) func feed(_ mapped: UInt8, start: Int, end: Int) {
                        if mapped == NormalizationTable.separator {
                            if inWord { endWord() }
                        } else {
                            if !inWord {
                                inWord = true
                                wordHash = Self.fnvBasis
                                wordStart = start
                            }
                            wordHash = (wordHash ^ UInt64(mapped)) &* Self.fnvPrime
                            wordEnd = end
                        }
                    }

                    var i = 0
                    let count = text.count
                    while i < count {
                        let byte = text[i]
                        if byte < 0x80 {
                            let mapped = ascii[Int(byte)]
                            if mapped != NormalizationTable.deleted { feed(mapped, start: i, end: i + 1) }
                            i += 1
                        } else {
                            let (value, length) = UTF8Decoding.decode(text, at: i)
                            let start = i
                            table.withMapping(value: value, rawByte: byte) { mapped in
                                for m in mapped { feed(m, start: start, end: start + length) }
                            }
                            i += length
                        }
                    }
                    if inWord { endWord() }
                }
            }
        }
    }

    /// All n-grams of `text` (convenience for importers and tests).
    public func ngrams(of text: [UInt8]) -> [NGramOccurrence] {
        var result: [NGramOccurrence] = []
        text.withUnsafeBufferPointer { buffer in forEachNGram(in: buffer) { result.append($0) } }
        return result
    }

    /// The hash of the n-gram made of exactly these normalized words (`words.count == n`);
    /// used by tests to check the rolling hash against a direct computation.
    static func directHash(ofNormalizedWords words: [[UInt8]]) -> UInt64 {
        var h: UInt64 = 0
        for word in words { h = h &* base &+ wordHash(word) }
        return StableHash.splitMix(h)
    }
}
