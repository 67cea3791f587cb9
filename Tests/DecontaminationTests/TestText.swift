import Foundation
import LongMixCore

/// Deterministic random text for oracle comparisons: ASCII words and punctuation mixed with the
/// non-ASCII characters the normalizations treat specially (Unicode whitespace, accents,
/// ligatures, fullwidth forms, curly quotes, dashes, non-ASCII digits, Greek sigma, İ, CJK,
/// astral symbols, ASCII controls).
struct TestText {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.splitMix(state)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    static let words = ["the", "Model", "DATA", "river", "contamination", "Zürich", "naïve", "café", "ΣΟΦΙΑ",
                        "σοφός", "İstanbul", "straße", "ﬁnal", "Ångström", "кошка", "ПРИВЕТ", "漢字", "한국어",
                        "x2", "1984", "٣٤٥", "१२३", "Ａｂｃ", "１２", "don't", "state-of-the-art", "e.g.", "U.S.A",
                        "½", "x²", "Ⅻ", "ℌilbert", "ǅemal", "ΣΑΣ", "µs", "ﬀ", "‽", "a_b", "😀grin", "x\u{0301}y"]
    static let separators = [" ", " ", " ", "  ", "\n", "\r\n", "\t", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1F}",
                             "\u{85}", "\u{A0}", "\u{1680}", "\u{2003}", "\u{2009}", "\u{200B}", "\u{2028}",
                             "\u{202F}", "\u{205F}", "\u{3000}", ", ", ". ", "; ", " - ", " — ", "–", "—",
                             "...", "…", "!", "?", "\"", "'", "‘", "’", "“", "”", "«", "»", "(", ")", "[",
                             "]", "{", "}", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "+", "=", "|", "~",
                             "`", "<", ">", "_", "¿", "¡", "·", "、", "。", "「", "」", "！", "，", "\u{7}",
                             "\u{7F}", "€", "≤", "©"]

    mutating func string(words count: Int) -> String {
        var parts: [String] = []
        for _ in 0..<count {
            parts.append(pick(Self.words))
            parts.append(pick(Self.separators))
        }
        return parts.joined()
    }
}
