import Foundation
import LongMixCore

/// Deterministic random text for oracle comparisons: English word forms (generated suffix
/// variants, plus the GCIDE dictionary's headwords when Debian's dict-gcide is installed), mixed
/// with case changes, punctuation, digits, newlines and a few non-ASCII characters that exercise
/// Python's lowercasing, whitespace and `\w` rules.
struct TextGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 1
        return StableHash.splitMix(state)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    static let stems = [
        "connect", "relate", "condition", "rational", "valence", "hesitate", "digit", "conform", "radical",
        "differ", "vile", "analog", "vietnam", "predicate", "operate", "feudal", "decisive", "hope", "callous",
        "formal", "sensitive", "sensible", "triplicate", "form", "electric", "good", "revive", "allow", "infer",
        "airline", "gyroscope", "adjust", "defend", "irritate", "replace", "depend", "adopt", "homolog",
        "commune", "activate", "angular", "effect", "bowdler", "probe", "rate", "cease", "control", "roll",
        "cat", "pony", "tie", "caress", "feed", "agree", "plaster", "bled", "motor", "sing", "conflate",
        "trouble", "size", "hop", "tan", "fall", "hiss", "fizz", "fail", "file", "happy", "sky", "enjoy",
        "spy", "fly", "try", "die", "lie", "news", "inning", "outing", "canning", "howe", "proceed", "exceed",
        "succeed", "generous", "nation", "general", "create", "civil", "able", "analyze", "critic", "music",
        "geology", "biology", "apology", "ideal", "usual", "beauty", "duty", "city", "marry", "carry", "study",
        "play", "obey", "employ", "boy", "toy", "syzygy", "yellow", "yoyo", "rhythm", "tryst", "gyp", "ally",
        "rally", "tally", "fully", "hopefully", "faithfully", "logic", "analogy", "archaeology", "noble",
        "humble", "able", "possible", "visible", "sense", "tense", "fuse", "use", "abuse", "refuse",
        "run", "swim", "big", "stop", "plan", "admit", "begin", "refer", "prefer", "travel", "cancel",
        "model", "label", "level", "panel", "install", "spill", "till", "bell", "dwell", "excel", "feel",
        "agreeable", "bleed", "speed", "need", "creed", "breed", "heed", "weed", "seed", "deed",
        "oat", "tree", "ivy", "orrery", "oaten", "private", "probate", "dying", "lying", "tying", "eye",
        "dye", "bye", "rye", "key", "monkey", "journey", "valley", "alley", "survey", "convey",
        "ion", "lion", "union", "onion", "opinion", "region", "religion", "fusion", "vision", "passion",
    ]

    static let suffixes = [
        "", "s", "es", "ed", "ing", "ly", "er", "ers", "est", "ness", "ful", "fully", "fulness", "ation",
        "ations", "ational", "ationally", "tional", "ize", "izes", "ized", "izing", "izer", "ization",
        "ity", "ities", "ive", "ively", "iveness", "ivity", "ous", "ously", "ousness", "ment", "ments",
        "ement", "ent", "ently", "ence", "ences", "ance", "ancy", "anci", "enci", "able", "ably", "ability",
        "ible", "ibly", "al", "ally", "alli", "alism", "alist", "ality", "aliti", "logi", "bli", "eli",
        "entli", "ousli", "fulli", "y", "ies", "ied", "ying", "iness", "ical", "ically", "icate", "iciti",
        "ative", "alize", "ism", "ist", "ant", "ants", "ate", "ated", "ating", "ator", "ators", "iti", "ou",
        "ion", "ions", "e", "ee", "eed", "ll", "lled", "lling", "bled", "bling", "ss", "sses",
    ]

    /// Every stem with every suffix (about 23,000 forms) and the stems alone.
    static let suffixVariants: [String] = stems.flatMap { stem in suffixes.map { stem + $0 } }

    /// GCIDE headwords made only of letters, lowercased, when /usr/share/dictd/gcide.index exists.
    static let dictionaryWords: [String]? = {
        guard let data = FileManager.default.contents(atPath: "/usr/share/dictd/gcide.index") else { return nil }
        var words = Set<String>()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            let word = line[..<tab]
            if !word.isEmpty && word.allSatisfy({ $0.isASCII && $0.isLetter }) { words.insert(word.lowercased()) }
        }
        return words.sorted()
    }()

    static let vocabulary: [String] = suffixVariants + (dictionaryWords ?? [])

    static let oddPieces = [
        ",", ".", "!", "?", "'s", "-", "—", "\"", "(", ")", ";", ":", "_", "/", "İstanbul", "\u{212A}elvin",
        "café", "naïve", "ΣΑΣ", "straße", "x²", "1990", "3.14", "\u{00A0}", "\t", "\n", "\u{2003}", "\u{1C}",
        "A", "An", "THE", "the", "a", "an", "a-b", "the_end", "an\u{0301}", "日本語", "l'an", "x1y2",
    ]

    /// A word, sometimes capitalized or upper-cased, sometimes an odd piece.
    mutating func word() -> String {
        if below(10) == 0 { return pick(Self.oddPieces) }
        let w = pick(Self.vocabulary)
        switch below(8) {
        case 0: return w.capitalized
        case 1: return w.uppercased()
        default: return w
        }
    }

    mutating func sentence(maxWords: Int) -> String {
        let count = below(maxWords + 1)
        var out = ""
        for i in 0..<count {
            if i > 0 { out += pick([" ", " ", " ", " ", "  ", ", ", "\n", "-"]) }
            out += word()
        }
        return out
    }

    /// A copy of `text`'s words with some dropped, replaced or swapped, so scores land between 0 and 1.
    mutating func perturbed(_ text: String) -> String {
        var words = text.split(separator: " ").map(String.init)
        for _ in 0..<below(4) where !words.isEmpty {
            let i = below(words.count)
            switch below(3) {
            case 0: words.remove(at: i)
            case 1: words[i] = word()
            default: words.swapAt(i, below(words.count))
            }
        }
        return words.joined(separator: " ")
    }
}
