/// The few Python `str` behaviours that the published metric scripts rely on, reproduced over
/// Unicode scalars (Python strings are sequences of code points, not grapheme clusters).
///
/// - `lower`: Python's `str.lower()`: the full lowercase mapping of every code point, with the
///   Final_Sigma rule for U+03A3 (`ΣΑΣ` -> `σας`).
/// - `isSpace`: Python's `str.isspace()` for one code point (Unicode White_Space plus the
///   information separators U+001C...U+001F), which `str.split()` splits on.
/// - `isWordCharacter`: `\w` of Python's `re` on `str` patterns (`str.isalnum()` or `_`).
enum PythonText {
    static func lower(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, scalar) in scalars.enumerated() {
            if scalar.value < 0x80 {
                let v = scalar.value
                out.append((v >= 0x41 && v <= 0x5A) ? Unicode.Scalar(v + 0x20)! : scalar)
            } else if scalar.value == 0x03A3 {
                out.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// Final_Sigma (Unicode 3.13): a cased letter, then any case-ignorables, before the sigma, and
    /// no case-ignorables followed by a cased letter after it.
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        var j = index - 1
        while j >= 0 && scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && scalars[j].properties.isCased else { return false }
        j = index + 1
        while j < scalars.count && scalars[j].properties.isCaseIgnorable { j += 1 }
        return !(j < scalars.count && scalars[j].properties.isCased)
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) || (v >= 0x1C && v <= 0x1F) }
        return scalar.properties.isWhitespace
    }

    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }

    /// Python's `str.split()` with no argument: runs of non-space code points.
    static func splitOnSpace(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var parts: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in scalars {
            if isSpace(scalar) {
                if !current.isEmpty { parts.append(current); current.removeAll(keepingCapacity: true) }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
