/// UTF-8 helpers shared by the normalizers and decoders, on raw bytes.
enum UTF8Scanning {
    /// The bytes of U+FFFD, which replaces each invalid byte.
    static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]
    /// The bytes of U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's whitespace symbol.
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    /// The length of the well-formed UTF-8 sequence starting at `text[i]`, or 0 when the byte
    /// there does not start one (overlong forms, surrogates, code points above U+10FFFF, bad or
    /// missing continuation bytes). This is SentencePiece's `DecodeUTF8` rule, which is also the
    /// Unicode definition of well-formed UTF-8; the caller then consumes a single byte.
    @inline(__always)
    static func validSequenceLength(_ text: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let b0 = text[i]
        if b0 < 0x80 { return 1 }
        let available = end - i
        @inline(__always) func isTrail(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        if b0 & 0xE0 == 0xC0 {
            guard available >= 2, isTrail(text[i + 1]) else { return 0 }
            let cp = UInt32(b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F)
            return cp >= 0x80 ? 2 : 0
        }
        if b0 & 0xF0 == 0xE0 {
            guard available >= 3, isTrail(text[i + 1]), isTrail(text[i + 2]) else { return 0 }
            let cp = UInt32(b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F)
            return cp >= 0x800 && !(0xD800...0xDFFF).contains(cp) ? 3 : 0
        }
        if b0 & 0xF8 == 0xF0 {
            guard available >= 4, isTrail(text[i + 1]), isTrail(text[i + 2]), isTrail(text[i + 3]) else { return 0 }
            let cp = UInt32(b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12
                | UInt32(text[i + 2] & 0x3F) << 6 | UInt32(text[i + 3] & 0x3F)
            return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0
        }
        return 0
    }

    /// Length of the character whose lead byte is `b`, judged by the lead byte alone
    /// (SentencePiece's `OneCharLen`; input is already well-formed where it is used).
    @inline(__always)
    static func leadByteLength(_ b: UInt8) -> Int {
        if b < 0xC0 { return 1 }
        if b < 0xE0 { return 2 }
        if b < 0xF0 { return 3 }
        return 4
    }

    /// Appends `bytes` to `out`, replacing each byte that does not start a well-formed sequence
    /// with U+FFFD (one replacement per invalid byte).
    static func appendRepairing(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var i = 0
            while i < buffer.count {
                let length = validSequenceLength(base, i, buffer.count)
                if length == 0 {
                    out.append(contentsOf: replacementCharacter)
                    i += 1
                } else {
                    out.append(contentsOf: buffer[i..<(i + length)])
                    i += length
                }
            }
        }
    }
}
