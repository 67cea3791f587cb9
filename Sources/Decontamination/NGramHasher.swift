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
        var window = NGramWindow(n: n, outgoingFactor: outgoingFactor)
        defer { window.deallocate() }
        let ascii = table.asciiMap
        var inWord = false
        var wordHash = Self.fnvBasis
        var wordStart = 0
        var wordEnd = 0
        var i = 0
        let count = text.count
        while i < count {
            let byte = text[i]
            if byte < 0x80 {
                let mapped = ascii[Int(byte)]
                i += 1
                if mapped == NormalizationTable.separator {
                    if inWord {
                        window.push(StableHash.splitMix(wordHash), start: wordStart, end: wordEnd, body)
                        inWord = false
                    }
                } else if mapped != NormalizationTable.deleted {
                    if !inWord {
                        inWord = true
                        wordHash = Self.fnvBasis
                        wordStart = i - 1
                    }
                    // The rest of an ASCII word in a tight loop with few live variables;
                    // separators and non-ASCII bytes go back to the outer loop.
                    var h = (wordHash ^ UInt64(mapped)) &* Self.fnvPrime
                    var end = i
                    while i < count {
                        let next = text[i]
                        if next >= 0x80 { break }
                        let m = ascii[Int(next)]
                        if m == NormalizationTable.separator { break }
                        i += 1
                        if m != NormalizationTable.deleted {
                            h = (h ^ UInt64(m)) &* Self.fnvPrime
                            end = i
                        }
                    }
                    wordHash = h
                    wordEnd = end
                }
            } else {
                let (value, length) = UTF8Decoding.decode(text, at: i)
                let start = i
                table.withMapping(value: value, rawByte: byte) { mapped in
                    for m in mapped {
                        if m == NormalizationTable.separator {
                            if inWord {
                                window.push(StableHash.splitMix(wordHash), start: wordStart, end: wordEnd, body)
                                inWord = false
                            }
                        } else {
                            if !inWord {
                                inWord = true
                                wordHash = Self.fnvBasis
                                wordStart = start
                            }
                            wordHash = (wordHash ^ UInt64(m)) &* Self.fnvPrime
                            wordEnd = start + length
                        }
                    }
                }
                i += length
            }
        }
        if inWord { window.push(StableHash.splitMix(wordHash), start: wordStart, end: wordEnd, body) }
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

/// The last `n` words (hashes and start offsets) and their rolling polynomial hash.
struct NGramWindow {
    let n: Int
    let outgoingFactor: UInt64
    let hashes: UnsafeMutablePointer<UInt64>
    let starts: UnsafeMutablePointer<Int>
    var rolling: UInt64 = 0
    var words = 0
    /// The ring position of the oldest word (where the next word goes).
    var slot = 0

    init(n: Int, outgoingFactor: UInt64) {
        self.n = n
        self.outgoingFactor = outgoingFactor
        hashes = .allocate(capacity: n)
        hashes.initialize(repeating: 0, count: n)
        starts = .allocate(capacity: n)
        starts.initialize(repeating: 0, count: n)
    }

    func deallocate() {
        hashes.deallocate()
        starts.deallocate()
    }

    /// Adds a word; once `n` words are in, reports the n-gram ending with it.
    @inline(__always)
    mutating func push(_ wordHash: UInt64, start: Int, end: Int, _ body: (NGramOccurrence) -> Void) {
        rolling = rolling &* NGramHasher.base &+ wordHash &- hashes[slot] &* outgoingFactor
        hashes[slot] = wordHash
        starts[slot] = start
        slot += 1
        if slot == n { slot = 0 }
        words += 1
        if words >= n {
            body(NGramOccurrence(hash: StableHash.splitMix(rolling), firstWord: words - n,
                                 range: starts[slot]..<end))
        }
    }
}
