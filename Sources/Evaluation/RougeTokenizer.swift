/// The tokenizer of google-research rouge-score (`rouge_score.tokenize.tokenize`), on UTF-8 bytes.
///
/// rouge-score lowercases with Python's `str.lower()`, replaces every run of characters outside
/// `[a-z0-9]` by a space, splits on whitespace and, when stemming, replaces each token longer than
/// three characters by its Porter stem. Only ASCII survives, so the work is a byte loop: ASCII
/// letters are lowercased, digits kept, and every other byte separates tokens, except the two
/// non-ASCII code points whose Python lowercase contains ASCII letters: U+0130 (`İ`, lowercases to
/// `i` + U+0307) and U+212A (Kelvin sign, lowercases to `k`).
public struct RougeTokenizer: Sendable {
    public let stemmer: PorterStemmer?

    public init(useStemmer: Bool) {
        stemmer = useStemmer ? PorterStemmer() : nil
    }

    /// The tokens of `text`, stemmed when the tokenizer was made with `useStemmer`.
    public func tokenize(_ text: String) -> [[UInt8]] {
        var copy = text
        return copy.withUTF8 { tokenize(utf8: $0) }
    }

    public func tokenize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var current: [UInt8] = []
        func finishToken() {
            guard !current.isEmpty else { return }
            if let stemmer, current.count > 3 {
                // NLTK's stem of a [a-z0-9]+ word is again [a-z0-9]+ (possibly empty, then dropped).
                let stemmed = stemmer.stem(current)
                if !stemmed.isEmpty { tokens.append(stemmed) }
            } else {
                tokens.append(current)
            }
            current.removeAll(keepingCapacity: true)
        }
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") || b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                current.append(b)
                i += 1
            } else if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") {
                current.append(b | 0x20)
                i += 1
            } else if b == 0xC4 && i + 1 < n && bytes[i + 1] == 0xB0 {
                // U+0130 -> "i" followed by U+0307, a separator.
                current.append(UInt8(ascii: "i"))
                finishToken()
                i += 2
            } else if b == 0xE2 && i + 2 < n && bytes[i + 1] == 0x84 && bytes[i + 2] == 0xAA {
                current.append(UInt8(ascii: "k"))  // U+212A KELVIN SIGN -> "k"
                i += 3
            } else {
                finishToken()
                i += 1
            }
        }
        finishToken()
        return tokens
    }
}
