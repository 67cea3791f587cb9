import Foundation
import Testing
import TestSupport
@testable import ShardIO

@Suite struct JSONReaderTests {
    /// Differential test against Python's json on generated tricky records: every record Python
    /// rejects is rejected, and every record it accepts gives the same `text` bytes.
    @Test(.needsPython) func agreesWithPythonJSONOnGeneratedRecords() throws {
        let output = try Oracle.run("shardio_json_cases.py", arguments: ["20231", "20000"])
        let extractor = FieldExtractor(paths: [FieldPath("text")])
        var values: [FieldValue?] = []
        var checked = 0, rejected = 0
        for caseLine in output.split(separator: UInt8(ascii: "\n")) {
            let oracle = try JSONValue.parse(Array(caseLine))
            let line = [UInt8](Data(base64Encoded: oracle["line"]!.stringValue!)!)
            let verdict = oracle["verdict"]!.stringValue!
            var swiftReason: String?
            do {
                try line.withUnsafeBufferPointer { (p) throws(JSONSyntaxError) in try extractor.extract(p, into: &values) }
            } catch {
                swiftReason = error.reason.rawValue
            }
            checked += 1
            let printable = String(decoding: line.prefix(120), as: UTF8.self)
            switch verdict {
            case "ok":
                #expect(swiftReason == nil, "Python accepts, LongMix says \(swiftReason ?? ""): \(printable)")
                if swiftReason == nil {
                    if let expected = oracle["text"]?.stringValue {
                        #expect(values[0] == .string([UInt8](Data(base64Encoded: expected)!)), "text differs: \(printable)")
                    } else if let kind = oracle["text_kind"]?.stringValue {
                        #expect(values[0] != nil && values[0].map { if case .string = $0 { false } else { true } } == true,
                                "Python found a \(kind): \(printable)")
                    } else {
                        #expect(values[0] == nil, "Python found no text field: \(printable)")
                    }
                }
            case "lone-surrogate":
                rejected += 1
                #expect(swiftReason == "lone-surrogate", "\(printable)")
            case "invalid-utf8":
                rejected += 1
                #expect(swiftReason == "invalid-utf8" || swiftReason == "malformed-json", "\(printable)")
            default:  // malformed-json, not-object: a defect may be met before or after a surrogate one
                rejected += 1
                #expect(swiftReason == "malformed-json" || swiftReason == "lone-surrogate", "\(verdict): \(printable)")
            }
        }
        #expect(checked == 20000 && rejected > 4000)
    }

    @Test func extractsNestedPathsAndKeepsLastDuplicate() throws {
        let line = Array(#"{"text": "a", "meta": {"title": "T\u00e9", "n": -1.5e3, "x": [1]}, "text": "b\n"}"#.utf8)
        let extractor = FieldExtractor(paths: [FieldPath("text"), FieldPath("meta.title"), FieldPath("meta.n"),
                                               FieldPath("meta.x"), FieldPath("meta.missing")])
        var values: [FieldValue?] = []
        try line.withUnsafeBufferPointer { (p) throws(JSONSyntaxError) in try extractor.extract(p, into: &values) }
        #expect(values[0] == .string(Array("b\n".utf8)))
        #expect(values[1] == .string(Array("Té".utf8)))
        #expect(values[2] == .number(Array("-1.5e3".utf8)))
        #expect(values[3] == .other(kind: "array"))
        #expect(values[4] == nil)
    }

    @Test func parsesTreesForOffPathRecords() throws {
        let value = try JSONValue.parse(#" {"a": [true, null, 3], "b": {"c": "\ud83d\ude00"}} "#)
        #expect(value["a"] == .array([.bool(true), .null, .number("3")]))
        #expect(value["b"]?["c"]?.stringValue == "😀")
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(#"{"a": 1,}"#) }
    }

    @Test func escapesWhatItWritesSoPythonAndWeReadItBack() throws {
        var text: [UInt8] = Array("quote \" backslash \\ newline \n tab \t bell \u{07} é 😀".utf8)
        text.append(0x1F)
        var out = JSONOutput()
        out.raw("{")
        out.key("text")
        out.string(text)
        out.raw(",")
        out.key("ids")
        out.integers([0, -5, 31999, Int32.max])
        out.raw("}")
        let parsed = try JSONValue.parse(out.bytes)
        #expect(parsed["text"]?.stringValue.map { Array($0.utf8) } == text)
        #expect(parsed["ids"] == .array([.number("0"), .number("-5"), .number("31999"), .number("2147483647")]))
    }
}
