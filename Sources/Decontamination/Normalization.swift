import Foundation

/// How text is turned into the words whose n-grams are compared. Tokenizer-independent: words
/// come from the characters themselves (REFERENCE.md section 3).
///
/// Each normalization is defined per Unicode scalar ("character" below) so that the byte-level
/// scanner and the Python oracle (`Tests/Oracles/decontam_normalize.py`) compute the same words.
/// Lowercasing is the full per-character lowercase mapping (Python's `c.lower()` for one
/// character): it equals Python's `str.lower()` everywhere except the context-dependent Greek
/// final sigma, which is always mapped to `σ`. "Whitespace" is exactly Python's `str.isspace()`
/// set (what `\s` and `str.split()` use), including U+001C..U+001F. "ASCII punctuation" is
/// Python's `string.punctuation`.
public enum Normalization: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// HELM's data-overlap normalization: lowercase; words are the runs between whitespace or
    /// ASCII punctuation. Non-ASCII punctuation (curly quotes, dashes) stays inside words.
    case helm
    /// GPT-3 (Brown et al. 2020, App. C): lowercase; punctuation removed (deleted, joining its
    /// neighbours: "don't" -> "dont"), where punctuation is ASCII punctuation or any character
    /// of Unicode category P*; words are the runs between whitespace.
    case gpt3
    /// datatrove-style: each character NFKD-decomposed, then lowercased; combining marks (Mn)
    /// removed (accents stripped); ASCII punctuation and Unicode P* become word breaks; decimal
    /// digits (Nd) become `0`; words are the runs between whitespace.
    /// Decomposition is per character, so the canonical reordering of NFKD is not applied (it
    /// only matters for sequences of several non-Mn combining marks).
    case unicode

    public var description: String { rawValue }

    /// The per-character mapping tables, built once per process on first use.
    var table: NormalizationTable {
        switch self {
        case .helm: return NormalizationTable.helm
        case .gpt3: return NormalizationTable.gpt3
        case .unicode: return NormalizationTable.unicode
        }
    }

    /// The normalized words of `text`, each with the byte range of the original text it came from
    /// (from the first to the last character that contributed to it). Not for hot loops: the
    /// scanner hashes words without building them; this serves reports, importers and tests.
    public func words(of text: [UInt8]) -> [(word: [UInt8], range: Range<Int>)] {
        var result: [(word: [UInt8], range: Range<Int>)] = []
        var current: [UInt8] = []
        var start = 0, end = 0
        text.withUnsafeBufferPointer { buffer in
            table.forEachMappedCharacter(in: buffer) { offset, length, mapped in
                for byte in mapped {
                    if byte == NormalizationTable.separator {
                        if !current.isEmpty { result.append((current, start..<end)); current = [] }
                    } else {
                        if current.isEmpty { start = offset }
                        current.append(byte)
                        end = offset + length
                    }
                }
            }
        }
        if !current.isEmpty { result.append((current, start..<end)) }
        return result
    }

    /// The normalized words of `text` joined by single spaces (used for report rows).
    public func normalizedText(of text: [UInt8]) -> String {
        String(decoding: Array(words(of: text).map(\.word).joined(separator: [0x20])), as: UTF8.self)
    }
}

/// Maps every Unicode scalar to the UTF-8 bytes it contributes to words under one normalization,
/// with `separator` (a space, which never occurs inside a word) marking a word break and an empty
/// mapping meaning "deleted". ASCII and the Basic Multilingual Plane are precomputed; other planes
/// are computed on demand (rare in practice).
///
/// Invalid UTF-8 bytes (documents should not contain them) map to themselves as word bytes.
final class NormalizationTable: @unchecked Sendable {  // immutable after init
    static let separator: UInt8 = 0x20
    /// In `ascii`: the character is deleted.
    static let deleted: UInt8 = 0xFF

    static let helm = NormalizationTable(.helm)
    static let gpt3 = NormalizationTable(.gpt3)
    static let unicode = NormalizationTable(.unicode)

    let normalization: Normalization
    /// For ASCII bytes: the mapped byte; `separator` for a break; `deleted` when removed.
    let ascii: [UInt8]
    /// `ascii` at a stable address for the hot loop (the tables live as long as the process).
    let asciiMap: UnsafePointer<UInt8>
    /// For BMP scalars: `bmpBytes[bmpOffsets[s] ..< bmpOffsets[s + 1]]`.
    let bmpOffsets: [UInt32]
    let bmpBytes: [UInt8]

    private init(_ normalization: Normalization) {
        self.normalization = normalization
        var ascii = [UInt8](repeating: 0, count: 128)
        for b in 0..<128 {
            let mapped = Self.map(Unicode.Scalar(UInt8(b)), normalization)
            precondition(mapped.count <= 1, "ASCII maps to at most one byte")
            ascii[b] = mapped.first ?? Self.deleted
        }
        self.ascii = ascii
        let map = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
        map.initialize(from: ascii, count: 128)
        self.asciiMap = UnsafePointer(map)
        var offsets = [UInt32](repeating: 0, count: 0x10001)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(200_000)
        for value in 0..<0x10000 {
            offsets[value] = UInt32(bytes.count)
            if value >= 0x80, let scalar = Unicode.Scalar(UInt32(value)) {
                bytes.append(contentsOf: Self.map(scalar, normalization))
            }
        }
        offsets[0x10000] = UInt32(bytes.count)
        self.bmpOffsets = offsets
        self.bmpBytes = bytes
    }

    /// Python's `str.isspace()` set.
    static func isPythonWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
             0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `string.punctuation`.
    static func isASCIIPunctuation(_ value: UInt32) -> Bool {
        switch value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    static func isUnicodePunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Full lowercase mapping of one scalar (ASCII handled without allocation).
    static func lowercased(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.isASCII {
            let v = scalar.value
            return [(0x41...0x5A).contains(v) ? Unicode.Scalar(UInt8(v + 0x20)) : scalar]
        }
        return Array(scalar.properties.lowercaseMapping.unicodeScalars)
    }

    static func utf8(_ scalars: [Unicode.Scalar]) -> [UInt8] {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return Array(String(s).utf8)
    }

    /// The definition of each normalization for one character; the tables cache it.
    static func map(_ scalar: Unicode.Scalar, _ normalization: Normalization) -> [UInt8] {
        let value = scalar.value
        switch normalization {
        case .helm:
            if isPythonWhitespace(value) || isASCIIPunctuation(value) { return [separator] }
            return utf8(lowercased(scalar))
        case .gpt3:
            if isPythonWhitespace(value) { return [separator] }
            if isASCIIPunctuation(value) || isUnicodePunctuation(scalar) { return [] }
            return utf8(lowercased(scalar))
        case .unicode:
            var out: [UInt8] = []
            let decomposed = scalar.isASCII
                ? String(scalar) : String(scalar).decomposedStringWithCompatibilityMapping
            for part in decomposed.unicodeScalars {
                for lower in lowercased(part) {
                    let v = lower.value
                    if lower.properties.generalCategory == .nonspacingMark { continue }
                    if isPythonWhitespace(v) || isASCIIPunctuation(v) || isUnicodePunctuation(lower) {
                        out.append(separator)
                    } else if lower.properties.generalCategory == .decimalNumber {
                        out.append(0x30)
                    } else {
                        out.append(contentsOf: utf8([lower]))
                    }
                }
            }
            return out
        }
    }

    /// Walks `text` character by character and calls `body(byteOffset, byteLength, mappedBytes)`.
    /// The n-gram hasher inlines its own ASCII fast path; this is the reference walk used off
    /// the hot path.
    func forEachMappedCharacter(in text: UnsafeBufferPointer<UInt8>,
                                _ body: (Int, Int, UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        let count = text.count
        while i < count {
            let lead = text[i]
            if lead < 0x80 {
                var single = ascii[Int(lead)]
                if single == Self.deleted {
                    body(i, 1, UnsafeBufferPointer(start: nil, count: 0))
                } else {
                    withUnsafePointer(to: &single) { body(i, 1, UnsafeBufferPointer(start: $0, count: 1)) }
                }
                i += 1
                continue
            }
            let (value, length) = UTF8Decoding.decode(text, at: i)
            withMapping(value: value, rawByte: lead) { body(i, length, $0) }
            i += length
        }
    }

    /// Calls `body` with the mapping of the non-ASCII scalar `value` (or of an invalid byte,
    /// `value < 0`, which maps to itself).
    @inline(__always)
    func withMapping<R>(value: Int32, rawByte: UInt8, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if value < 0 {
            var byte = rawByte
            return withUnsafePointer(to: &byte) { body(UnsafeBufferPointer(start: $0, count: 1)) }
        }
        if value < 0x10000 {
            let start = Int(bmpOffsets[Int(value)]), end = Int(bmpOffsets[Int(value) + 1])
            return bmpBytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
        }
        let mapped = Self.map(Unicode.Scalar(UInt32(value))!, normalization)
        return mapped.withUnsafeBufferPointer(body)
    }
}

/// Minimal validating UTF-8 decoding for the non-ASCII path.
enum UTF8Decoding {
    /// Decodes the scalar starting at `i` (a non-ASCII lead byte). Returns its value and byte
    /// length, or `(-1, 1)` for an invalid or truncated sequence (the byte is then taken as is).
    @inline(__always)
    static func decode(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int32, Int) {
        let lead = UInt32(text[i])
        let count = text.count
        @inline(__always) func continuation(_ k: Int) -> UInt32? {
            guard k < count else { return nil }
            let b = UInt32(text[k])
            return b & 0xC0 == 0x80 ? b & 0x3F : nil
        }
        if lead >= 0xC2 && lead <= 0xDF {
            guard let c1 = continuation(i + 1) else { return (-1, 1) }
            return (Int32(bitPattern: (lead & 0x1F) << 6 | c1), 2)
        }
        if lead >= 0xE0 && lead <= 0xEF {
            guard let c1 = continuation(i + 1), let c2 = continuation(i + 2) else { return (-1, 1) }
            let v = (lead & 0x0F) << 12 | c1 << 6 | c2
            guard v >= 0x800, !(0xD800...0xDFFF).contains(v) else { return (-1, 1) }
            return (Int32(bitPattern: v), 3)
        }
        if lead >= 0xF0 && lead <= 0xF4 {
            guard let c1 = continuation(i + 1), let c2 = continuation(i + 2), let c3 = continuation(i + 3)
            else { return (-1, 1) }
            let v = (lead & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard v >= 0x10000, v <= 0x10FFFF else { return (-1, 1) }
            return (Int32(bitPattern: v), 4)
        }
        return (-1, 1)
    }
}
