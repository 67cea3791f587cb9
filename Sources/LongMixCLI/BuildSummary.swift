import Foundation
import Mixing
import Packing
import Pipeline

/// Text tables for `build`, `plan` and `inspect`.
enum BuildSummary {
    static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        s.count >= width ? s : left ? String(repeating: " ", count: width - s.count) + s : s + String(repeating: " ", count: width - s.count)
    }

    static func dropped(_ d: [String: Int]) -> String {
        d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func table(_ m: PackManifest) -> String {
        var lines = [pad("source", 18) + pad("docs read", 11, left: true) + pad("tokens read", 13, left: true)
            + pad("available", 12, left: true) + pad("taken", 12, left: true) + pad("rate", 7, left: true)
            + pad("target", 8, left: true) + pad("achieved", 9, left: true) + pad("loss", 8, left: true)
            + pad("padding (bound)", 20, left: true) + "  documents dropped"]
        for s in m.sources {
            lines.append(pad(s.name, 18) + pad("\(s.documentsRead)", 11, left: true) + pad("\(s.tokensRead)", 13, left: true)
                + pad("\(s.tokensAvailable)", 12, left: true) + pad("\(s.tokensTaken)", 12, left: true)
                + pad(String(format: "%.3f", s.samplingRate), 7, left: true)
                + pad(String(format: "%.2f%%", s.targetShare * 100), 8, left: true)
                + pad(String(format: "%.2f%%", s.achievedShare * 100), 9, left: true)
                + pad(String(format: "%.2f%%", s.lossShare * 100), 8, left: true)
                + pad("\(s.packing_.paddingTokens) (\(s.packing_.paddingLowerBound))", 20, left: true) + "  " + dropped(s.documentsDropped))
        }
        let t = m.totals
        lines.append(String(format: "padding %d tokens (%.2f%%), truncated %d tokens (%.2f%% of taken), %d documents split across sequences",
                            t.paddingTokens, m.paddingRate * 100, t.truncatedTokens, m.truncationRate * 100, t.documentsSplit))
        if !m.recordsSkipped.isEmpty { lines.append("records skipped: " + dropped(m.recordsSkipped)) }
        lines += unreadable(m)
        return lines.joined(separator: "\n")
    }

    static func planTable(_ m: PackManifest, targets: [SourceTarget], seqLen: Int) -> String {
        var lines = [pad("source", 18) + pad("weight", 8, left: true) + pad("docs avail", 12, left: true)
            + pad("tokens avail", 14, left: true) + pad("target", 14, left: true) + pad("rate", 8, left: true) + "  sampling"]
        for (s, t) in zip(m.sources, targets) {
            let how = t.rate <= 1 ? String(format: "down-sample to %.1f%%", t.rate * 100)
                : String(format: "up-sample x%.2f (%d epochs)", t.rate, t.epochs)
            lines.append(pad(s.name, 18) + pad(String(format: "%.1f%%", s.weight * 100), 8, left: true)
                + pad("\(s.documentsAvailable)", 12, left: true) + pad("\(s.tokensAvailable)", 14, left: true)
                + pad("\(t.tokens)", 14, left: true) + pad(String(format: "%.3f", t.rate), 8, left: true) + "  " + how)
        }
        let total = targets.reduce(0) { $0 + $1.tokens }
        lines.append("total \(total) tokens, about \(total / seqLen) sequences of \(seqLen)")
        for s in m.sources where !s.documentsDropped.isEmpty { lines.append("  \(s.name) dropped: " + dropped(s.documentsDropped)) }
        if !m.recordsSkipped.isEmpty { lines.append("records skipped: " + dropped(m.recordsSkipped)) }
        lines += unreadable(m)
        return lines.joined(separator: "\n")
    }

    /// Files not read to the end (--keep-going), per source, and where each stopped: the records
    /// after that point are unknown, so the counts above stop there.
    static func unreadable(_ m: PackManifest) -> [String] {
        var lines = m.sources.filter { !$0.filesUnreadable.isEmpty }.map {
            "  \($0.name): files not read to the end: " + dropped($0.filesUnreadable)
        }
        var tails = ""
        printUnreadTails(m.recordsUnknownAfter ?? [], to: &tails)
        if !tails.isEmpty { lines.append(String(tails.dropLast())) }
        return lines
    }

    /// Documents tokenized versus read, and threshold raises, per source.
    static func tokenizedLine(_ m: PackManifest, raises: [Int]) -> String {
        let parts = zip(m.sources, raises).map { s, r in
            "\(s.name) \(s.documentsTokenized ?? s.documentsRead)/\(s.documentsRead)" + (r > 0 ? " (\(r) raise\(r == 1 ? "" : "s"))" : "")
        }
        let tokens = m.sources.reduce(0) { $0 + $1.tokensRead }
        return "tokenized \(tokens) tokens; documents tokenized/read: " + parts.joined(separator: ", ")
    }

    /// "0-3, 5, 7-9"
    static func ranges(_ numbers: [Int]) -> String {
        var out: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count && numbers[j + 1] == numbers[j] + 1 { j += 1 }
            out.append(i == j ? "\(numbers[i])" : "\(numbers[i])-\(numbers[j])")
            i = j + 1
        }
        return out.joined(separator: ", ")
    }

    /// The counting pass's plan: estimated supplies with error bounds, targets, thresholds.
    static func estimateTable(_ plan: SamplingPlan, spec: MixtureSpec) -> String {
        var lines = [pad("source", 18) + pad("weight", 8, left: true) + pad("docs", 10, left: true) + pad("MB", 9, left: true)
            + pad("tokens avail (est.)", 30, left: true) + pad("target", 12, left: true) + pad("rate", 8, left: true)
            + pad("tokenize", 10, left: true)]
        for (s, source) in plan.sources.enumerated() {
            let estimate = source.estimateIsExact ? "\(source.estimatedTokens) (exact)"
                : "~\(source.estimatedTokens) ±\(source.errorBound)"
            let rate = source.estimatedTokens > 0 ? Double(source.estimatedTarget) / Double(source.estimatedTokens) : .infinity
            lines.append(pad(source.name, 18) + pad(String(format: "%.1f%%", spec.sources[s].weight * 100), 8, left: true)
                + pad("\(source.count.documents)", 10, left: true)
                + pad(String(format: "%.1f", Double(source.count.textBytes) / 1e6), 9, left: true)
                + pad(estimate, 30, left: true) + pad("\(source.estimatedTarget)", 12, left: true)
                + pad(String(format: "%.3f", rate), 8, left: true)
                + pad(String(format: "%.1f%%", source.threshold * 100), 10, left: true))
        }
        let total = plan.sources.reduce(0) { $0 + $1.estimatedTarget }
        lines.append("total ~\(total) tokens, about \(total / spec.seqLen) sequences of \(spec.seqLen) (estimates from the counting pass: "
            + "a bottom-k sample of \(plan.sources.map(\.sampleDocuments).max() ?? 0) documents per source; bounds are about two standard errors; "
            + "`plan --exact` tokenizes everything)")
        if let note = plan.note { lines.append(note) }
        for source in plan.sources where !source.count.dirtyGroups.isEmpty {
            lines.append("  \(source.name): \(source.count.dirtyGroups.count) groups dropped whole (contaminated member)")
        }
        return lines.joined(separator: "\n")
    }
}
