import LongMixCore
import Packing
import ShardIO
import Tokenization

/// One source after the reading pass: its kept documents' token streams in a Megatron indexed
/// dataset on disk, and a small in-memory table per document for selection and packing.
///
/// Counts are in documents and stream tokens (BOS/EOS included as the mixture adds them);
/// `counts` balances (read = kept + dropped by reason), group drops applied by `applyGroupDrops`.
final class SourceStore {
    let name: String
    /// Per kept document (or GPT-3 piece): id, selection key, stream length (BOS/EOS included),
    /// tokens without loss at its start, few-shot group (-1 none).
    var ids: [String] = []
    var keys: [UInt64] = []
    var lengths: [Int] = []
    var promptTokens: [Int] = []
    var groups: [Int32] = []
    var excluded: [Bool] = []
    var groupNames: [String] = []
    var groupIndex: [String: Int32] = [:]
    var groupHeaders: [[TokenID]] = []
    var counts = StageCounts()
    var reading = ReadCounts()
    var firstErrors: [InputError] = []
    var tokensSampled = 0
    let spill: IndexedDatasetWriter?
    private(set) var tokens: IndexedDatasetReader?

    init(name: String, spillPrefix: String?, vocabularySize: Int) throws {
        self.name = name
        spill = try spillPrefix.map { try IndexedDatasetWriter(prefix: $0, vocabularySize: vocabularySize) }
    }

    func add(id: String, key: UInt64, stream: [TokenID], promptTokens: Int, group: Int32) throws {
        ids.append(id)
        keys.append(key)
        lengths.append(stream.count)
        self.promptTokens.append(promptTokens)
        groups.append(group)
        excluded.append(false)
        try spill?.append(stream)
    }

    func finishSpill() throws {
        guard let spill else { return }
        try spill.finish()
        tokens = try IndexedDatasetReader(prefix: spill.prefix)
    }

    /// Excludes the documents of `dirty` groups, moving them from kept to `contaminated-group`.
    func applyGroupDrops(_ dirty: Set<String>) {
        guard !dirty.isEmpty else { return }
        for k in ids.indices where groups[k] >= 0 && dirty.contains(groupNames[Int(groups[k])]) {
            excluded[k] = true
            counts.reclassify(documents: 1, units: lengths[k], as: .contaminatedGroup)
        }
    }

    var availableTokens: Int { ids.indices.reduce(0) { $0 + (excluded[$1] ? 0 : lengths[$1]) } }
    var availableDocuments: Int { excluded.lazy.filter { !$0 }.count }
}
