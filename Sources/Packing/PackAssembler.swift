import LongMixCore
import Tokenization

/// One source's selected documents, as the assembler needs them: the tokens each may use, its
/// whole stream length, the prompt tokens at its start (mask 0 under completion-only) and its
/// few-shot group.
public struct AssemblySource: Sendable {
    public struct Pick: Sendable {
        /// Identifies the document inside its source (a repeat under up-sampling has the same entry).
        public var entry: Int
        public var id: String
        /// Tokens of the stream this pick may use (less than `length` for concat's cut last document).
        public var limit: Int
        public var length: Int
        public var promptTokens: Int
        /// Index into `headers`, or -1 for no group.
        public var group: Int

        public init(entry: Int, id: String, limit: Int, length: Int, promptTokens: Int, group: Int) {
            self.entry = entry
            self.id = id
            self.limit = limit
            self.length = length
            self.promptTokens = promptTokens
            self.group = group
        }
    }

    /// How the picks become sequences (the mixture's `packing`).
    public enum Layout: Sendable {
        case concat, bestFit, fewShot
    }

    public var name: String
    public var packing: Layout
    public var picks: [Pick]
    /// Few-shot group headers (BOS included when the mixture adds it), and the groups' names.
    public var headers: [[TokenID]]
    public var groupNames: [String]
    /// Few-shot only: leftover space takes other groups' blocks (`FewShotPlanner`'s `fill`).
    public var fewShotFill: Bool

    public init(name: String, packing: Layout, picks: [Pick], headers: [[TokenID]], groupNames: [String] = [],
                fewShotFill: Bool = false) {
        self.name = name
        self.packing = packing
        self.picks = picks
        self.headers = headers
        self.groupNames = groupNames
        self.fewShotFill = fewShotFill
    }
}

/// Sequence assembly: plans each source's sequences from its selected documents (concat,
/// best-fit or few-shot), interleaves sources (`SequenceBlender`), and writes every sequence with
/// its loss mask and segments.
///
/// Contract: the output depends only on the picks, headers and tokens, never on timing. Loss
/// masks: 1 everywhere except prompt tokens and few-shot headers under `completionOnly`, and
/// padding. Documents are registered in `documents.jsonl` in first-use order, source by source,
/// with their group, stream length, tokens written and whether some were left out (`cut`).
/// Segments carry the group of headers and examples. Each plan's `lossTokens` is counted from
/// the masks written.
public enum PackAssembler {
    /// - Parameter tokens: tokens `range` of the stream of pick `pick` of source `source` (only
    ///   the piece is read, so a huge document costs its length once, not once per piece).
    /// - Parameter progress: when set, a `pack` stage over the bytes of the token file to write,
    ///   advanced as each sequence is written.
    /// - Returns: each source's plan with its counts (truncation of cut picks included).
    public static func assemble(_ sources: [AssemblySource], seqLen: Int, padID: TokenID, completionOnly: Bool,
                                writer: PackWriter, progress: ProgressMeter? = nil,
                                tokens: (_ source: Int, _ pick: AssemblySource.Pick, _ range: Range<Int>) throws -> [TokenID]) throws -> [PackPlan] {
        var plans: [PackPlan] = []
        var documentRefs: [[Int: Int32]] = []
        for source in sources {
            let plan = plan(source, seqLen: seqLen)
            var counted = plan
            for pick in source.picks where pick.limit < pick.length {
                counted.counts.truncatedTokens += pick.length - pick.limit
                counted.counts.documentsTruncated += 1
            }
            plans.append(counted)
            // Tokens placed per pick, then per document (a repeat under up-sampling is the same document).
            var placed = [Int](repeating: 0, count: source.picks.count)
            for sequence in plan.sequences {
                for piece in sequence.pieces where piece.kind == .item { placed[piece.item] += piece.length }
            }
            var written: [Int: Int] = [:], cut: Set<Int> = []
            for (i, pick) in source.picks.enumerated() {
                written[pick.entry, default: 0] += placed[i]
                if placed[i] < pick.length { cut.insert(pick.entry) }
            }
            var refs: [Int: Int32] = [:]
            for sequence in plan.sequences {
                for piece in sequence.pieces where piece.kind == .item {
                    let pick = source.picks[piece.item]
                    if refs[pick.entry] == nil {
                        refs[pick.entry] = Int32(writer.documentsWritten)
                        try writer.addDocument(source: source.name, id: pick.id,
                                               group: pick.group >= 0 && pick.group < source.groupNames.count ? source.groupNames[pick.group] : nil,
                                               tokens: pick.length, written: written[pick.entry]!, cut: cut.contains(pick.entry))
                    }
                }
            }
            documentRefs.append(refs)
        }

        let sequenceBytes = seqLen * writer.tokenWidth
        progress?.stage("pack", total: plans.reduce(0) { $0 + $1.sequences.count } * sequenceBytes)
        var next = [Int](repeating: 0, count: sources.count)
        for s in SequenceBlender.order(counts: plans.map(\.sequences.count)) {
            let planned = plans[s].sequences[next[s]]
            next[s] += 1
            var sequence = PackedSequence(source: UInt16(s), capacity: seqLen)
            for piece in planned.pieces {
                switch piece.kind {
                case .header(let g):
                    let header = sources[s].headers[g]
                    let mask = [UInt8](repeating: completionOnly ? 0 : 1, count: header.count)
                    header.withUnsafeBufferPointer { ids in
                        mask.withUnsafeBufferPointer {
                            sequence.append(ids, mask: $0, document: -1, documentOffset: 0, group: Int32(g), kind: .header)
                        }
                    }
                case .item:
                    let pick = sources[s].picks[piece.item]
                    let range = piece.offset..<(piece.offset + piece.length)
                    let ids = try tokens(s, pick, range)
                    let prompt = completionOnly ? pick.promptTokens : 0
                    let mask = range.map { UInt8($0 < prompt ? 0 : 1) }
                    ids.withUnsafeBufferPointer { ids in
                        mask.withUnsafeBufferPointer {
                            sequence.append(ids, mask: $0, document: documentRefs[s][pick.entry]!, documentOffset: piece.offset,
                                            group: Int32(pick.group), kind: .document)
                        }
                    }
                }
            }
            sequence.pad(to: seqLen, with: padID)
            try writer.write(sequence)
            progress?.add(sequenceBytes)
        }
        for s in plans.indices where s < writer.lossTokensBySource.count { plans[s].counts.lossTokens = writer.lossTokensBySource[s] }
        return plans
    }

    /// A source's plan; few-shot header pieces name indices into `source.headers`.
    public static func plan(_ source: AssemblySource, seqLen: Int) -> PackPlan {
        let lengths = source.picks.map(\.limit)
        switch source.packing {
        case .concat:
            return ConcatPlanner.plan(lengths: lengths, seqLen: seqLen, padLastSequence: true)
        case .bestFit:
            return BestFitPlanner.plan(lengths: lengths, seqLen: seqLen)
        case .fewShot:
            var groupItems: [Int: [Int]] = [:]
            var groupOrder: [Int] = []
            for (i, pick) in source.picks.enumerated() {
                if groupItems[pick.group] == nil { groupOrder.append(pick.group) }
                groupItems[pick.group, default: []].append(i)
            }
            let groups = groupOrder.map {
                FewShotPlanner.Group(headerLength: $0 >= 0 ? source.headers[$0].count : 0, items: groupItems[$0]!)
            }
            var fewShot = FewShotPlanner.plan(groups: groups, lengths: lengths, seqLen: seqLen, fill: source.fewShotFill)
            // Header pieces name positions in `groups`; map them back to header indices.
            for i in fewShot.sequences.indices {
                for j in fewShot.sequences[i].pieces.indices {
                    if case .header(let g) = fewShot.sequences[i].pieces[j].kind {
                        fewShot.sequences[i].pieces[j].kind = .header(group: groupOrder[g])
                    }
                }
            }
            return fewShot
        }
    }
}
