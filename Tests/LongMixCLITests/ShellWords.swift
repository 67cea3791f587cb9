/// Splits a command line as a POSIX shell would for the README's examples: whitespace separates
/// words, single quotes keep everything literally, double quotes keep everything but `\"` and
/// `\\`, an unquoted backslash escapes the next character, and an unquoted `#` starting a word
/// begins a comment.
enum ShellWords {
    struct Unterminated: Error, CustomStringConvertible {
        let line: String
        var description: String { "unterminated quote in: \(line)" }
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = "", inWord = false
        var quote: Character? = nil
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                if c == q { quote = nil; continue }
                if q == "\"", c == "\\", let next = chars.first, next == "\"" || next == "\\" {
                    current.append(chars.removeFirst())
                    continue
                }
                current.append(c)
                continue
            }
            switch c {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "#" where !inWord:
                return words
            case "'", "\"":
                quote = c; inWord = true
            case "\\":
                if let next = chars.popFirst() { current.append(next) }
                inWord = true
            default:
                current.append(c); inWord = true
            }
        }
        if quote != nil { throw Unterminated(line: line) }
        if inWord { words.append(current) }
        return words
    }
}
