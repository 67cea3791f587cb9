/// The Porter stemmer exactly as NLTK's `PorterStemmer()` in its default `NLTK_EXTENSIONS` mode,
/// which google-research rouge-score applies when stemming is on.
///
/// Input: a lowercase ASCII word (`[a-z0-9]`, what the ROUGE tokenizer produces); digits count as
/// consonants. Differences from Porter's 1980 paper that NLTK makes and this type reproduces: a
/// table of irregular forms (`skies` -> `sky`, `dying` -> `die`, ...), words of one or two letters
/// left alone, `ies`/`ied` of four-letter words kept as `ie`, `ied` -> `i`, `y` -> `i` only after a
/// consonant that is not the first letter, `bli` -> `ble`, `alli` -> `al` applied before the other
/// step-2 rules, `fulli` -> `ful` and `logi` -> `log`, and `*o` also true of two-letter
/// vowel-consonant stems.
public struct PorterStemmer: Sendable {
    public init() {}

    public func stem(_ word: [UInt8]) -> [UInt8] {
        if let irregular = Self.irregularForms[word] { return irregular }
        if word.count <= 2 { return word }
        var w = step1a(word)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        return step5b(w)
    }

    public func stem(_ word: String) -> String {
        String(decoding: stem(Array(word.utf8)), as: UTF8.self)
    }

    // MARK: - Letters and measures

    private static let irregularForms: [[UInt8]: [UInt8]] = {
        let groups: [(String, [String])] = [
            ("sky", ["sky", "skies"]), ("die", ["dying"]), ("lie", ["lying"]), ("tie", ["tying"]),
            ("news", ["news"]), ("inning", ["innings", "inning"]), ("outing", ["outings", "outing"]),
            ("canning", ["cannings", "canning"]), ("howe", ["howe"]), ("proceed", ["proceed"]),
            ("exceed", ["exceed"]), ("succeed", ["succeed"]),
        ]
        var table: [[UInt8]: [UInt8]] = [:]
        for (stem, forms) in groups { for form in forms { table[Array(form.utf8)] = Array(stem.utf8) } }
        return table
    }()

    @inline(__always)
    private static func isVowelLetter(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "a") || c == UInt8(ascii: "e") || c == UInt8(ascii: "i") || c == UInt8(ascii: "o")
            || c == UInt8(ascii: "u")
    }

    /// Porter's consonant: not a, e, i, o, u, and not a `y` that follows a consonant.
    private func isConsonant(_ w: ArraySlice<UInt8>, _ i: Int) -> Bool {
        let c = w[w.startIndex + i]
        if Self.isVowelLetter(c) { return false }
        if c == UInt8(ascii: "y") { return i == 0 ? true : !isConsonant(w, i - 1) }
        return true
    }

    /// m in [C](VC){m}[V]: the number of vowel-to-consonant transitions.
    private func measure(_ w: ArraySlice<UInt8>) -> Int {
        var m = 0
        var previousConsonant = true
        var first = true
        for c in w {
            let consonant: Bool
            if Self.isVowelLetter(c) {
                consonant = false
            } else if c == UInt8(ascii: "y") {
                consonant = first ? true : !previousConsonant
            } else {
                consonant = true
            }
            if consonant && !previousConsonant && !first { m += 1 }
            previousConsonant = consonant
            first = false
        }
        return m
    }

    private func containsVowel(_ w: ArraySlice<UInt8>) -> Bool {
        (0..<w.count).contains { !isConsonant(w, $0) }
    }

    /// *d: ends with a double consonant.
    private func endsDoubleConsonant(_ w: ArraySlice<UInt8>) -> Bool {
        let n = w.count
        return n >= 2 && w[w.startIndex + n - 1] == w[w.startIndex + n - 2] && isConsonant(w, n - 1)
    }

    /// *o: ends consonant-vowel-consonant with the last not w, x or y; NLTK adds two-letter
    /// vowel-consonant stems.
    private func endsCVC(_ w: ArraySlice<UInt8>) -> Bool {
        let n = w.count
        if n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) {
            let last = w[w.startIndex + n - 1]
            if last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y") { return true }
        }
        return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
    }

    // MARK: - Rules

    private enum Condition {
        case always, measureAbove0, measureAbove1
        /// Step 4's `ion`: m > 1 and the stem ends in `s` or `t`.
        case measureAbove1EndingST
        /// NLTK's `logi` -> `log`: m > 0 of the word without its last three letters (`...l`).
        case measureAbove0OfWordLessThree
    }

    private struct Rule {
        let suffix: [UInt8]
        let replacement: [UInt8]
        let condition: Condition
        init(_ suffix: String, _ replacement: String, _ condition: Condition) {
            self.suffix = Array(suffix.utf8)
            self.replacement = Array(replacement.utf8)
            self.condition = condition
        }
    }

    private func holds(_ condition: Condition, stem: ArraySlice<UInt8>, word: [UInt8]) -> Bool {
        switch condition {
        case .always: return true
        case .measureAbove0: return measure(stem) > 0
        case .measureAbove1: return measure(stem) > 1
        case .measureAbove1EndingST:
            guard measure(stem) > 1, let last = stem.last else { return false }
            return last == UInt8(ascii: "s") || last == UInt8(ascii: "t")
        case .measureAbove0OfWordLessThree: return measure(word.dropLast(3)) > 0
        }
    }

    /// The first rule whose suffix ends the word decides: it applies when its condition holds,
    /// otherwise the word is returned unchanged (later rules are not tried).
    private func apply(_ rules: [Rule], to word: [UInt8]) -> [UInt8] {
        for rule in rules where word.hasSuffix(rule.suffix) {
            let stem = word.dropLast(rule.suffix.count)
            return holds(rule.condition, stem: stem, word: word) ? Array(stem) + rule.replacement : word
        }
        return word
    }

    private static let step1aRules = [
        Rule("sses", "ss", .always), Rule("ies", "i", .always), Rule("ss", "ss", .always), Rule("s", "", .always),
    ]

    private func step1a(_ w: [UInt8]) -> [UInt8] {
        if w.count == 4 && w.hasSuffix(Array("ies".utf8)) { return Array(w.dropLast(3)) + Array("ie".utf8) }
        return apply(Self.step1aRules, to: w)
    }

    private func step1b(_ w: [UInt8]) -> [UInt8] {
        if w.hasSuffix(Array("ied".utf8)) {
            return Array(w.dropLast(3)) + Array((w.count == 4 ? "ie" : "i").utf8)
        }
        if w.hasSuffix(Array("eed".utf8)) {
            let stem = w.dropLast(3)
            return measure(stem) > 0 ? Array(stem) + Array("ee".utf8) : w
        }
        var intermediate: ArraySlice<UInt8>? = nil
        for suffix in ["ed", "ing"] where w.hasSuffix(Array(suffix.utf8)) {
            let stem = w.dropLast(suffix.utf8.count)
            if containsVowel(stem) { intermediate = stem; break }
        }
        guard let stem = intermediate else { return w }
        let s = Array(stem)
        for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] where s.hasSuffix(Array(suffix.utf8)) {
            return Array(s.dropLast(2)) + Array(replacement.utf8)
        }
        if endsDoubleConsonant(stem) {
            let last = s[s.count - 1]
            let keepsDouble = last == UInt8(ascii: "l") || last == UInt8(ascii: "s") || last == UInt8(ascii: "z")
            return keepsDouble ? s : Array(s.dropLast())
        }
        return (measure(stem) == 1 && endsCVC(stem)) ? s + [UInt8(ascii: "e")] : s
    }

    private func step1c(_ w: [UInt8]) -> [UInt8] {
        guard w.last == UInt8(ascii: "y") else { return w }
        let stem = w.dropLast()
        return (stem.count > 1 && isConsonant(stem, stem.count - 1)) ? Array(stem) + [UInt8(ascii: "i")] : w
    }

    private static let step2Rules = [
        Rule("ational", "ate", .measureAbove0), Rule("tional", "tion", .measureAbove0),
        Rule("enci", "ence", .measureAbove0), Rule("anci", "ance", .measureAbove0),
        Rule("izer", "ize", .measureAbove0), Rule("bli", "ble", .measureAbove0),
        Rule("alli", "al", .measureAbove0), Rule("entli", "ent", .measureAbove0),
        Rule("eli", "e", .measureAbove0), Rule("ousli", "ous", .measureAbove0),
        Rule("ization", "ize", .measureAbove0), Rule("ation", "ate", .measureAbove0),
        Rule("ator", "ate", .measureAbove0), Rule("alism", "al", .measureAbove0),
        Rule("iveness", "ive", .measureAbove0), Rule("fulness", "ful", .measureAbove0),
        Rule("ousness", "ous", .measureAbove0), Rule("aliti", "al", .measureAbove0),
        Rule("iviti", "ive", .measureAbove0), Rule("biliti", "ble", .measureAbove0),
        Rule("fulli", "ful", .measureAbove0), Rule("logi", "log", .measureAbove0OfWordLessThree),
    ]

    private func step2(_ w: [UInt8]) -> [UInt8] {
        if w.hasSuffix(Array("alli".utf8)) && measure(w.dropLast(4)) > 0 {
            return step2(Array(w.dropLast(4)) + Array("al".utf8))
        }
        return apply(Self.step2Rules, to: w)
    }

    private static let step3Rules = [
        Rule("icate", "ic", .measureAbove0), Rule("ative", "", .measureAbove0),
        Rule("alize", "al", .measureAbove0), Rule("iciti", "ic", .measureAbove0),
        Rule("ical", "ic", .measureAbove0), Rule("ful", "", .measureAbove0), Rule("ness", "", .measureAbove0),
    ]

    private func step3(_ w: [UInt8]) -> [UInt8] { apply(Self.step3Rules, to: w) }

    private static let step4Rules: [Rule] = {
        var rules = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent"]
            .map { Rule($0, "", .measureAbove1) }
        rules.append(Rule("ion", "", .measureAbove1EndingST))
        rules += ["ou", "ism", "ate", "iti", "ous", "ive", "ize"].map { Rule($0, "", .measureAbove1) }
        return rules
    }()

    private func step4(_ w: [UInt8]) -> [UInt8] { apply(Self.step4Rules, to: w) }

    private func step5a(_ w: [UInt8]) -> [UInt8] {
        guard w.last == UInt8(ascii: "e") else { return w }
        let stem = w.dropLast()
        let m = measure(stem)
        if m > 1 || (m == 1 && !endsCVC(stem)) { return Array(stem) }
        return w
    }

    private func step5b(_ w: [UInt8]) -> [UInt8] {
        if w.hasSuffix(Array("ll".utf8)) && measure(w.dropLast()) > 1 { return Array(w.dropLast()) }
        return w
    }
}

extension Array where Element == UInt8 {
    fileprivate func hasSuffix(_ suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
