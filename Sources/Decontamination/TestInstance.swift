/// Which text of a test instance an n-gram came from. HELM indexes inputs and references
/// separately and reports overlap for each.
public enum InstancePart: Int, Sendable, Codable, CustomStringConvertible {
    case input = 0
    case reference = 1

    public var description: String { self == .input ? "input" : "reference" }

    public init?(name: String) {
        switch name {
        case "input": self = .input
        case "reference", "references": self = .reference
        default: return nil
        }
    }
}

/// One evaluation instance to index: a scenario (for example `MMLUScenario(subject=anatomy)`),
/// a split, the instance id, its input and its reference texts.
public struct TestInstance: Sendable, Equatable {
    public var scenario: String
    /// HELM's `scenario_spec` as canonical JSON (sorted keys), when the export gave one.
    public var scenarioSpec: String?
    public var split: String
    public var id: String
    public var input: String
    public var references: [String]

    public init(scenario: String, scenarioSpec: String? = nil, split: String, id: String,
                input: String, references: [String]) {
        self.scenario = scenario
        self.scenarioSpec = scenarioSpec
        self.split = split
        self.id = id
        self.input = input
        self.references = references
    }
}
