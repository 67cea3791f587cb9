/// Documents and bytes (or tokens) that a stage read, kept and dropped, with drops by reason.
///
/// Invariant, checked by `isBalanced`: `read == kept + dropped.values.sum()` for documents and for
/// the measured unit. Every stage returns one so that a summary can prove nothing was lost silently.
public struct StageCounts: Sendable, Equatable, Codable {
    public var documentsRead = 0
    public var documentsKept = 0
    public var unitsRead = 0
    public var unitsKept = 0
    /// Reason key -> number of documents dropped for it.
    public var documentsDropped: [String: Int] = [:]
    /// Reason key -> units (bytes or tokens) dropped for it.
    public var unitsDropped: [String: Int] = [:]

    public init() {}

    public mutating func keep(units: Int) {
        documentsRead += 1
        documentsKept += 1
        unitsRead += units
        unitsKept += units
    }

    public mutating func drop(units: Int, reason: DropReason) {
        documentsRead += 1
        unitsRead += units
        documentsDropped[reason.rawValue, default: 0] += 1
        unitsDropped[reason.rawValue, default: 0] += units
    }

    /// Drops `units` more of an already counted document (for example the part GPT-3 cutting
    /// removes, or the tokens of a piece under the minimum length).
    public mutating func dropUnits(_ units: Int, reason: DropReason) {
        unitsDropped[reason.rawValue, default: 0] += units
    }

    /// Moves one kept document and `units` from kept to dropped for `reason`.
    public mutating func reclassify(documents: Int, units: Int, as reason: DropReason) {
        documentsKept -= documents
        unitsKept -= units
        documentsDropped[reason.rawValue, default: 0] += documents
        unitsDropped[reason.rawValue, default: 0] += units
    }

    public var totalDocumentsDropped: Int { documentsDropped.values.reduce(0, +) }
    public var totalUnitsDropped: Int { unitsDropped.values.reduce(0, +) }

    public var isBalanced: Bool {
        documentsRead == documentsKept + totalDocumentsDropped && unitsRead == unitsKept + totalUnitsDropped
    }

    public mutating func add(_ other: StageCounts) {
        documentsRead += other.documentsRead
        documentsKept += other.documentsKept
        unitsRead += other.unitsRead
        unitsKept += other.unitsKept
        for (k, v) in other.documentsDropped { documentsDropped[k, default: 0] += v }
        for (k, v) in other.unitsDropped { unitsDropped[k, default: 0] += v }
    }
}
