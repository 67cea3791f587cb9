/// The pack directory layout (format version 2), everything little-endian and memory-mappable
/// with numpy:
///
/// | file | content |
/// |---|---|
/// | `tokens.bin` | `N × seq_len` token ids, `uint16` when the vocabulary has at most 65,536 ids, else `uint32` |
/// | `loss_mask.bin` | `N × seq_len` `uint8`: 1 where a token counts in the loss |
/// | `segments.bin` | records of 24 bytes: `start u32, length u32, document i32, document_offset u32, group i32, source u16, kind u16` |
/// | `segment_index.bin` | `N + 1` `uint64`: sequence i owns segments `index[i] ..< index[i+1]` |
/// | `documents.jsonl` | line k: `{"document": k, "source": ..., "id": ..., "group": ..., "tokens": ..., "written": ..., "cut": ...}` |
/// | `manifest.json` | format, shapes, dtype, tokenizer, mixture, seed, sources with counts and shares |
///
/// A sequence's segments tile it: their `start` values are its `cu_seqlens` (with `seq_len`
/// appended). `kind` is 0 document, 1 few-shot header, 2 padding (document -1). `group` is the
/// few-shot group (header and its examples share it; -1 otherwise).
///
/// Version 2 (from 1): segment records grew from 20 to 24 bytes (`group` before `source`);
/// documents.jsonl rows gained `group`, `tokens`, `written` and `cut`; the manifest gained
/// provenance and loss accounting.
public enum PackFormat {
    public static let version = 2
    public static let tokensFile = "tokens.bin"
    public static let lossMaskFile = "loss_mask.bin"
    public static let segmentsFile = "segments.bin"
    public static let segmentIndexFile = "segment_index.bin"
    public static let documentsFile = "documents.jsonl"
    public static let manifestFile = "manifest.json"
    public static let segmentRecordSize = 24
    /// Byte offset of `kind` (u16) inside a segment record.
    public static let segmentKindOffset = 22

    /// Bytes per token id for a vocabulary of `vocabularySize` ids.
    public static func tokenWidth(vocabularySize: Int) -> Int { vocabularySize <= 65_536 ? 2 : 4 }

    public static func dtypeName(tokenWidth: Int) -> String { tokenWidth == 2 ? "uint16" : "uint32" }
}
