import Decontamination
import LongMixCore
import Mixing
import Tokenization

/// What the reading pass makes of one document: the decontamination verdict and the token
/// streams of what survives it.
struct ProcessedDocument {
    struct Item {
        var idSuffix: String
        /// The stream as packed: BOS/EOS framing as the source's packing asks. Its length is
        /// what every count and the length filter measure.
        var stream: [TokenID]
        /// Leading stream tokens that are prompt (loss mask 0 under completion-only).
        var promptTokens: Int
    }

    var scan: ScanResult?
    var items: [Item] = []
    /// Stream tokens of the whole document as read (for a cut document: its pieces plus the
    /// removed stretches, each tokenized on its own, so read = kept + dropped exactly).
    var tokensRead = 0
    var tokensCut = 0
}

/// Scans and tokenizes documents; one per worker thread, kept for the whole build so its
/// encoder's cache stays warm from source to source.
final class DocumentProcessor {
    let encoder: any TokenEncoder
    let scanner: ContaminationScanner?
    let addEOS: Bool
    /// Set per source (few-shot sources put BOS in the group header instead).
    var addBOS: Bool
    private var ids: [TokenID] = []

    init(encoder: any TokenEncoder, scanner: ContaminationScanner?, addBOS: Bool, addEOS: Bool) {
        self.encoder = encoder
        self.scanner = scanner
        self.addBOS = addBOS
        self.addEOS = addEOS
    }

    func process(_ document: Document) -> ProcessedDocument {
        var out = ProcessedDocument()
        let scan = scanner?.scan(document)
        out.scan = scan
        switch scan?.verdict {
        case .cleaned(let pieces)?:
            var removedStart = 0
            for (k, range) in pieces.enumerated() {
                out.tokensCut += framedCount(document.text[removedStart..<range.lowerBound])
                let item = makeItem(Array(document.text[range]), completionStart: nil, suffix: "#\(k)")
                out.items.append(item)
                removedStart = range.upperBound
            }
            out.tokensCut += framedCount(document.text[removedStart...])
            out.tokensRead = out.items.reduce(out.tokensCut) { $0 + $1.stream.count }
        default:
            let item = makeItem(document.text, completionStart: document.completionStart, suffix: "")
            out.tokensRead = item.stream.count
            if scan?.verdict == nil || scan?.verdict == .keep { out.items.append(item) }
        }
        return out
    }

    /// Tokens of a removed stretch, counted as the stream it would have been.
    private func framedCount(_ bytes: ArraySlice<UInt8>) -> Int {
        guard !bytes.isEmpty else { return 0 }
        ids.removeAll(keepingCapacity: true)
        bytes.withUnsafeBufferPointer { encoder.encode($0, into: &ids) }
        return ids.count
    }

    private func makeItem(_ text: [UInt8], completionStart: Int?, suffix: String) -> ProcessedDocument.Item {
        var stream: [TokenID] = []
        stream.reserveCapacity(text.count / 3 + 2)
        if addBOS, let bos = encoder.bosID { stream.append(bos) }
        let framing = stream.count
        text.withUnsafeBufferPointer { encoder.encode($0, into: &stream) }
        if addEOS, let eos = encoder.eosID { stream.append(eos) }
        var prompt = 0
        if let completionStart {
            // As common fine-tuning code does: the prompt's own token count masks the start of
            // the jointly tokenized text (the text itself is encoded once, whole).
            ids.removeAll(keepingCapacity: true)
            text[..<completionStart].withUnsafeBufferPointer { encoder.encode($0, into: &ids) }
            prompt = min(framing + ids.count, stream.count)
        }
        return ProcessedDocument.Item(idSuffix: suffix, stream: stream, promptTokens: prompt)
    }
}
