import Foundation
import LongMixCore
import ShardIO

/// Reads test-set files for the index, one JSON object per line, in either form (detected per
/// line):
/// - HELM's scenario export (stanford-crfm/helm scripts/data_overlap):
///   `{"scenario_key": {"scenario_spec": {"class_name": ..., "args": {...}}, "split": "valid"},
///     "instances": [{"input": "...", "references": ["...", ...], "id": "id5"}, ...]}`.
///   A reference may also be an object `{"output": {"text": "..."}}`. The scenario is named
///   `<last component of class_name>(k=v,...)` with args sorted by key.
/// - Plain: `{"scenario": ..., "split": ..., "id": ..., "text": ...}` with optional
///   `"part": "input" | "reference"` (default input).
/// Blank lines are skipped. Any other line is an `InputError` naming file, line and field.
/// Lines are parsed with Foundation's JSON parser: test sets are small and this is not a hot path.
public enum TestSetReader {
    /// All instances of a file (`.jsonl`, `.jsonl.zst` or `.jsonl.gz`), streamed line by line.
    public static func read(path: String) throws -> [TestInstance] {
        var strict = RecordLedger(skipBadRecords: false)
        return try read(path: path, ledger: &strict)
    }

    /// The instances of a file, with bad lines and unreadable files handled by `ledger` (skipped
    /// and counted under `--keep-going`, else thrown). File bytes are counted into `progress`.
    public static func read(path: String, ledger: inout RecordLedger,
                            progress: ProgressMeter? = nil) throws -> [TestInstance] {
        var instances: [TestInstance] = []
        try ledger.forEachLine(of: path, progress: progress) { line, location in
            instances += try parse(line: Data(line), location: location)
        }
        return instances
    }

    /// The instances of one line.
    public static func parse(line: Data, location: RecordLocation) throws -> [TestInstance] {
        func fail(_ field: String?, _ reason: DropReason, _ message: String) -> InputError {
            InputError(location: location, field: field, reason: reason, message: message)
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                throw fail(nil, .notAnObject, "expected a JSON object (HELM scenario export or {scenario, split, id, text})")
            }
            object = parsed
        } catch let error as InputError {
            throw error
        } catch {
            throw fail(nil, .malformedJSON, "malformed JSON: \(ReadableError.describe(error))")
        }
        if object["scenario_key"] != nil || object["instances"] != nil {
            return try parseHELM(object, fail: fail)
        }
        if object["text"] != nil || object["scenario"] != nil {
            return [try parsePlain(object, fail: fail)]
        }
        throw fail(nil, .unknownFormat,
                   "neither a HELM scenario export line (scenario_key, instances) nor a plain line (scenario, split, id, text)")
    }

    private static func parseHELM(_ object: [String: Any],
                                  fail: (String?, DropReason, String) -> InputError) throws -> [TestInstance] {
        guard let key = object["scenario_key"] as? [String: Any] else {
            throw fail("scenario_key", .missingField, "expected an object with scenario_spec and split")
        }
        guard let spec = key["scenario_spec"] as? [String: Any] else {
            throw fail("scenario_key.scenario_spec", .missingField, "expected an object with class_name and args")
        }
        guard let className = spec["class_name"] as? String, !className.isEmpty else {
            throw fail("scenario_key.scenario_spec.class_name", .missingField, "expected a non-empty string")
        }
        guard let split = key["split"] as? String, !split.isEmpty else {
            throw fail("scenario_key.split", .missingField, "expected a split name (train, valid, test)")
        }
        let args = spec["args"] as? [String: Any] ?? [:]
        let argsText = args.keys.sorted().map { "\($0)=\(describe(args[$0]!))" }.joined(separator: ",")
        let scenario = String(className.split(separator: ".").last ?? Substring(className)) + "(\(argsText))"
        let specJSON = (try? JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]))
            .flatMap { String(data: $0, encoding: .utf8) }
        guard let instances = object["instances"] as? [Any] else {
            throw fail("instances", .missingField, "expected an array of {input, references, id}")
        }
        return try instances.enumerated().map { index, element in
            let field = "instances[\(index)]"
            guard let instance = element as? [String: Any] else {
                throw fail(field, .wrongType, "expected an object {input, references, id}")
            }
            guard let input = instance["input"] as? String else {
                throw fail(field + ".input", .missingField, "expected a string")
            }
            guard let id = instance["id"] as? String ?? (instance["id"] as? NSNumber)?.stringValue else {
                throw fail(field + ".id", .missingField, "expected a string id")
            }
            let rawReferences = instance["references"] as? [Any] ?? []
            let references = try rawReferences.enumerated().map { k, reference -> String in
                if let text = reference as? String { return text }
                if let output = (reference as? [String: Any])?["output"] as? [String: Any],
                   let text = output["text"] as? String { return text }
                throw fail(field + ".references[\(k)]", .wrongType, "expected a string or {output: {text}}")
            }
            return TestInstance(scenario: scenario, scenarioSpec: specJSON, split: split, id: id,
                                input: input, references: references)
        }
    }

    private static func parsePlain(_ object: [String: Any],
                                   fail: (String?, DropReason, String) -> InputError) throws -> TestInstance {
        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String, key == "text" || !value.isEmpty else {
                throw fail(key, .missingField, "expected a string")
            }
            return value
        }
        let part: InstancePart
        if let name = object["part"] {
            guard let name = name as? String, let parsed = InstancePart(name: name) else {
                throw fail("part", .wrongValue, "expected \"input\" or \"reference\"")
            }
            part = parsed
        } else {
            part = .input
        }
        let text = try string("text")
        return TestInstance(scenario: try string("scenario"), split: try string("split"), id: try string("id"),
                            input: part == .input ? text : "", references: part == .reference ? [text] : [])
    }

    private static func describe(_ value: Any) -> String {
        if let string = value as? String { return string }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
           let text = String(data: data, encoding: .utf8) { return text }
        return "\(value)"
    }
}
