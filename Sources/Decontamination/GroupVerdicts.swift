import LongMixCore

/// A group of documents that stands or falls together: a source's group value, for example one
/// Natural Instructions task.
public struct GroupKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var source: String
    public var group: String

    public init(source: String, group: String) {
        self.source = source
        self.group = group
    }

    public static func < (a: GroupKey, b: GroupKey) -> Bool {
        (a.source, a.group) < (b.source, b.group)
    }

    public var description: String { "\(source)/\(group)" }
}

/// The groups with at least one contaminated member, for the Together protocol's rule "a task
/// found overlapping is removed whole", and the groups whose shared header (a few-shot task
/// definition, written at the top of every sequence of the group) is contaminated: a dirty
/// header drops its group whatever the members hold (`contaminated-header`), since every
/// example is trained beside it.
///
/// Contract (a pre-pass): before writing anything from a grouped source, scan every one of its
/// documents and `record` each result; `merge` counters filled on different threads. Then in the
/// writing pass send each document's result through `apply`, which drops members of dirty groups
/// (`contaminated-group`) even when they are clean themselves. A document with hits counts as
/// contaminated whatever the action (so `reportOnly` scans can still mark groups).
public struct GroupVerdicts: Sendable {
    public private(set) var dirtyGroups: Set<GroupKey> = []
    /// Groups whose header hit the index (a subset of `dirtyGroups`).
    public private(set) var dirtyHeaders: Set<GroupKey> = []

    public init() {}

    /// Records the scan of a group's header (`ContaminationScanner.scanHeader`): any hit makes
    /// the group dirty, with reason `contaminated-header`.
    public mutating func recordHeader(source: String, group: String, _ result: ScanResult) {
        guard !result.hits.isEmpty else { return }
        let key = GroupKey(source: source, group: group)
        dirtyGroups.insert(key)
        dirtyHeaders.insert(key)
    }

    /// Why members of `group` are dropped: `contaminated-header`, `contaminated-group`, or nil (clean).
    public func dropReason(source: String, group: String) -> DropReason? {
        let key = GroupKey(source: source, group: group)
        if dirtyHeaders.contains(key) { return .contaminatedHeader }
        return dirtyGroups.contains(key) ? .contaminatedGroup : nil
    }

    public mutating func record(_ document: Document, _ result: ScanResult) {
        guard let group = document.group, !result.hits.isEmpty else { return }
        dirtyGroups.insert(GroupKey(source: document.source, group: group))
    }

    public mutating func merge(_ other: GroupVerdicts) {
        dirtyGroups.formUnion(other.dirtyGroups)
        dirtyHeaders.formUnion(other.dirtyHeaders)
    }

    public func isDirty(_ document: Document) -> Bool {
        guard let group = document.group else { return false }
        return dirtyGroups.contains(GroupKey(source: document.source, group: group))
    }

    /// `result` with the group rule applied: members of dirty groups that would otherwise be
    /// kept (whole or cut) are dropped (`contaminated-header` when the header is dirty, else
    /// `contaminated-group`); the hits are unchanged.
    public func apply(_ result: ScanResult, to document: Document) -> ScanResult {
        guard let group = document.group, let reason = dropReason(source: document.source, group: group) else { return result }
        switch result.verdict {
        case .drop: return result
        case .keep, .cleaned: return ScanResult(verdict: .drop(reason: reason), hits: result.hits)
        }
    }
}
