/// Where a record came from: the shard file and its 1-based line number.
///
/// Every error about input data and every report row carries one, so a user can open the file
/// at the line that caused it.
public struct RecordLocation: Hashable, Sendable, CustomStringConvertible {
    /// The shard path as the user gave it (or as it was found under a directory).
    public var file: String
    /// 1-based line number inside the decompressed shard.
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One training document as it flows through the pipeline.
///
/// Contract:
/// - `text` is valid UTF-8 (readers reject or repair invalid input before building one).
/// - `id` is stable across runs and across job-array task splits: the record's own id field when the
///   source names one, else `"<shard file name>:<line>"`. Sampling decisions hash it.
/// - `source` is the mixture source name (for example `rp_book`), never a file name.
/// - `group` is the value of the source's group key (for example a Natural Instructions task name)
///   when the source declares one; decontamination may drop a whole group and the few-shot packer
///   packs one group per sequence.
/// - `completionStart`, when set, splits `text` into a prompt (`..<completionStart`) and its
///   completion, for losses that train on completions only.
/// - `header` is the group's shared instruction for few-shot packing, when the source has one.
public struct Document: Sendable {
    public var id: String
    public var source: String
    public var text: [UInt8]
    public var group: String?
    public var location: RecordLocation
    public var completionStart: Int?
    public var header: [UInt8]?

    public init(id: String, source: String, text: [UInt8], group: String? = nil, location: RecordLocation,
                completionStart: Int? = nil, header: [UInt8]? = nil) {
        self.id = id
        self.source = source
        self.text = text
        self.group = group
        self.location = location
        self.completionStart = completionStart
        self.header = header
    }
}
