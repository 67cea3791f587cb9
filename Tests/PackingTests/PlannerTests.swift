import Foundation
import Testing
import TestSupport
import Tokenization
@testable import Packing

@Suite struct PlannerTests {
    @Test func concatCutsExactChunksAndKeepsOrder() {
        let plan = ConcatPlanner.plan(lengths: [5, 3, 9, 2], seqLen: 4, padLastSequence: false)
        #expect(plan.sequences.count == 4)  // 19 tokens: 4 full chunks, 3 dropped
        #expect(plan.sequences.allSatisfy { $0.used == 4 })
        #expect(plan.sequences[1].pieces == [.item(0, offset: 4, length: 1), .item(1, offset: 0, length: 3)])
        #expect(plan.counts.truncatedTokens == 3 && plan.counts.paddingTokens == 0)
        #expect(plan.counts.documentsSplit == 2)  // items 0 and 2 span two sequences
        let padded = ConcatPlanner.plan(lengths: [5, 3, 9, 2], seqLen: 4, padLastSequence: true)
        #expect(padded.sequences.count == 5 && padded.counts.paddingTokens == 1 && padded.counts.truncatedTokens == 0)
    }

    @Test func bestFitNeverCutsWhatFitsAndPlacesEveryToken() {
        var seed: UInt64 = 5
        for round in 0..<200 {
            let seqLen = 64 + round % 50
            let lengths = (0..<(1 + round % 40)).map { _ -> Int in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Int(seed >> 33) % (seqLen * 2) + 1
            }
            let plan = BestFitPlanner.plan(lengths: lengths, seqLen: seqLen)
            var placed = [Int](repeating: 0, count: lengths.count)
            var pieces = [Int](repeating: 0, count: lengths.count)
            for sequence in plan.sequences {
                #expect(sequence.used <= seqLen)
                for piece in sequence.pieces { placed[piece.item] += piece.length; pieces[piece.item] += 1 }
            }
            #expect(placed == lengths)
            for (item, length) in lengths.enumerated() where length <= seqLen { #expect(pieces[item] == 1) }
            #expect(plan.counts.paddingTokens == plan.sequences.count * seqLen - lengths.reduce(0, +))
            // Best fit opens a sequence only when no open one has room: lower bound on sequences.
            #expect(plan.sequences.count >= (lengths.reduce(0, +) + seqLen - 1) / seqLen)
        }
    }

    @Test func bestFitChoosesTheTightestSequence() {
        // Decreasing: 6, 5, 4, 3, 2 into 10: 6 opens A, 5 opens B, 4 -> A (room 4, exact), 3 -> B (room 5 -> 2), 2 -> B.
        let bins = BestFitPlanner.bins(lengths: [3, 6, 2, 5, 4], capacity: 10)
        #expect(bins.map { $0.pieces.map(\.item) } == [[1, 4], [3, 0, 2]])
    }

    @Test func fewShotPutsTheHeaderFirstAndLeavesOutWhatCannotFit() {
        let plan = FewShotPlanner.plan(groups: [.init(headerLength: 3, items: [0, 1, 2]), .init(headerLength: 2, items: [3])],
                                       lengths: [4, 5, 20, 6], seqLen: 10)
        // Group 0 has room for 7 beside its header: 4 and 5 need a sequence each; 20 never fits.
        #expect(plan.sequences.count == 3)
        #expect(plan.sequences.allSatisfy { if case .header? = $0.pieces.first?.kind { true } else { false } })
        #expect(plan.sequences.allSatisfy { $0.used <= 10 })
        #expect(plan.counts.truncatedTokens == 20 && plan.counts.documentsTruncated == 1)
        #expect(plan.counts.headerTokens == 3 + 3 + 2)
    }

    /// Fill: blocks of header + examples are packed together; every example follows its own
    /// group's header in its sequence, nothing is cut, the bounds hold, and fill never uses more
    /// sequences than packing groups apart.
    @Test func fewShotFillKeepsEveryExampleUnderItsOwnHeader() {
        var seed: UInt64 = 11
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33) % n
        }
        for round in 0..<200 {
            let seqLen = 50 + round % 60
            var lengths: [Int] = []
            var groups: [FewShotPlanner.Group] = []
            for _ in 0..<(1 + next(8)) {
                let items = (0..<(1 + next(10))).map { _ -> Int in lengths.append(1 + next(seqLen / 2)); return lengths.count - 1 }
                groups.append(.init(headerLength: next(seqLen / 4), items: items))
            }
            let separate = FewShotPlanner.plan(groups: groups, lengths: lengths, seqLen: seqLen)
            let filled = FewShotPlanner.plan(groups: groups, lengths: lengths, seqLen: seqLen, fill: true)
            #expect(filled.sequences.count <= separate.sequences.count)
            #expect(filled.counts.documentTokens == separate.counts.documentTokens && filled.counts.truncatedTokens == 0)
            for plan in [separate, filled] {
                #expect(plan.counts.paddingTokens >= plan.counts.paddingLowerBound)
                #expect(plan.counts.paddingTokens == plan.sequences.count * seqLen - plan.counts.documentTokens - plan.counts.headerTokens)
            }
            var groupOf: [Int: Int] = [:]
            for (g, group) in groups.enumerated() { for item in group.items { groupOf[item] = g } }
            var seen = Set<Int>()
            for sequence in filled.sequences {
                #expect(sequence.used <= seqLen)
                var current: Int?
                for piece in sequence.pieces {
                    if case .header(let g) = piece.kind { current = g; continue }
                    #expect(piece.offset == 0 && piece.length == lengths[piece.item])
                    let g = groupOf[piece.item]!
                    // Under its own header (a group without header tokens opens no header piece).
                    if groups[g].headerLength > 0 { #expect(current == g) }
                    seen.insert(piece.item)
                }
            }
            #expect(seen.count == lengths.count)
        }
    }

    @Test func segmentsKeepTheirGroupThroughTheWriterAndReader() throws {
        let dir = try TestEnvironment.temporaryDirectory("segments").appendingPathComponent("pack").path
        let writer = try PackWriter(directory: dir, seqLen: 8, vocabularySize: 100)
        try writer.addDocument(source: "s", id: "a", group: "task", tokens: 3, written: 3, cut: false)
        var sequence = PackedSequence(source: 0, capacity: 8)
        let header: [TokenID] = [1, 5], example: [TokenID] = [7, 8, 9]
        header.withUnsafeBufferPointer { sequence.append($0, mask: nil, document: -1, documentOffset: 0, group: 4, kind: .header) }
        example.withUnsafeBufferPointer { sequence.append($0, mask: nil, document: 0, documentOffset: 0, group: 4, kind: .document) }
        sequence.pad(to: 8, with: 0)
        try writer.write(sequence)
        #expect(writer.lossTokensBySource == [5])
        var manifest = PackManifest(seqLen: 8, sequences: 1, tokenDtype: "uint16",
                                    tokenizer: .init(path: "t", sha256: "", format: "sentencepiece", vocabularySize: 100),
                                    mixture: .init(name: "m", path: "m.yaml", sha256: ""), seed: 0,
                                    specialTokens: .init(bos: 1, eos: 2, pad: 0), loss: "all", decontamination: nil, sources: [],
                                    totals: PackingCounts(), paddingRate: 0, truncationRate: 0, recordsRead: 0, recordsSkipped: [:])
        var source = PackManifest.Source(
            name: "s", weight: 1, packing: "few-shot", documentsRead: 1, tokensRead: 3, documentsDropped: [:], tokensDropped: [:],
            documentsAvailable: 1, tokensAvailable: 3, documentsTaken: 1, tokensTaken: 3, samplingRate: 1, targetShare: 1,
            achievedShare: 1, packing_: PackingCounts())
        source.packing_.documentTokens = 3
        source.lossTokens = 5
        manifest.sources = [source]
        manifest.totals.sequences = 1
        manifest.totals.documentTokens = 3
        manifest.totals.headerTokens = 2
        manifest.totals.paddingTokens = 3
        try writer.commit(manifest: &manifest)
        let reader = try PackReader(directory: dir)
        #expect(reader.segments(of: 0).map(\.group) == [4, 4, -1])
        #expect(reader.segments(of: 0).map(\.kind) == [.header, .document, .padding])
        #expect(try reader.verify().isEmpty)
        let row = try String(contentsOfFile: dir + "/documents.jsonl", encoding: .utf8)
        #expect(row == "{\"document\":0,\"source\":\"s\",\"id\":\"a\",\"group\":\"task\",\"tokens\":3,\"written\":3,\"cut\":false}\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/segments.bin")).count == 3 * 24)
        // A version-1 pack (20-byte segments) is refused by version, not misread.
        manifest.version = 1
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        do {
            _ = try PackReader(directory: dir)
            Issue.record("a version-1 pack was read")
        } catch let error as PackError {
            #expect(error.description.contains("pack format version 1"))
        }
    }

    @Test func blendingFollowsTheShares() {
        let order = SequenceBlender.order(counts: [6, 3, 1])
        #expect(order.count == 10)
        #expect(order.filter { $0 == 0 }.count == 6 && order.filter { $0 == 2 }.count == 1)
        // Every prefix stays within one sequence of the target proportions.
        var taken = [0, 0, 0]
        for (i, s) in order.enumerated() {
            taken[s] += 1
            for d in 0..<3 { #expect(abs(Double(taken[d]) - Double([6, 3, 1][d]) / 10 * Double(i + 1)) <= 1) }
        }
    }
}
