/// SQuAD answer normalization (`normalize_answer` of the official SQuAD v1.1 evaluation script,
/// reused verbatim by Lost in the Middle's `metrics.py`), in its exact order:
///
/// 1. lowercase (Python `str.lower()`),
/// 2. delete every character of Python's `string.punctuation` (the 32 ASCII punctuation marks;
///    other punctuation such as `—` or `«` stays),
/// 3. replace each whole word `a`, `an` or `the` by a space (`\b(a|an|the)\b`, word characters as
///    Python's `re`: letters, numerals and `_`),
/// 4. collapse whitespace: split on Python whitespace and join with single spaces.
///
/// Lost in the Middle compiles step 3 with the third-party `regex` module, whose `\w` also counts
/// combining marks; the two differ only when an article touches a combining mark.
public enum AnswerNormalization {
    /// The normalized answer as a string.
    public static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for (i, word) in normalizedWords(text).enumerated() {
            if i > 0 { out.append(" ") }
            out.append(contentsOf: word)
        }
        return String(out)
    }

    /// The normalized answer's whitespace-separated tokens (`normalize_answer(s).split()`).
    public static func tokens(_ text: String) -> [String] {
        normalizedWords(text).map { String(String.UnicodeScalarView($0)) }
    }

    static func normalizedWords(_ text: String) -> [[Unicode.Scalar]] {
        let lowered = PythonText.lower(Array(text.unicodeScalars))
        let unpunctuated = lowered.filter { !isASCIIPunctuation($0) }
        return PythonText.splitOnSpace(removingArticles(unpunctuated))
    }

    /// `string.punctuation`: `!"#$%&'()*+,-./:;<=>?@[\]^_\`{|}~`.
    static func isASCIIPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v >= 0x21 && v <= 0x2F) || (v >= 0x3A && v <= 0x40) || (v >= 0x5B && v <= 0x60)
            || (v >= 0x7B && v <= 0x7E)
    }

    /// Replaces each maximal run of word characters equal to `a`, `an` or `the` by one space: both
    /// `\b` anchors of the SQuAD pattern hold exactly when the match is a whole run.
    static func removingArticles(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var i = 0
        while i < scalars.count {
            guard PythonText.isWordCharacter(scalars[i]) else {
                out.append(scalars[i])
                i += 1
                continue
            }
            var end = i
            while end < scalars.count && PythonText.isWordCharacter(scalars[end]) { end += 1 }
            let run = scalars[i..<end]
            if isArticle(run) { out.append(" ") } else { out.append(contentsOf: run) }
            i = end
        }
        return out
    }

    private static func isArticle(_ run: ArraySlice<Unicode.Scalar>) -> Bool {
        run.elementsEqual(["a"]) || run.elementsEqual(["a", "n"]) || run.elementsEqual(["t", "h", "e"])
    }
}
