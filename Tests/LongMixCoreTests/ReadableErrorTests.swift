import Foundation
import Testing
@testable import LongMixCore

/// Foundation and Codable errors are restated in plain words, never as NSCocoaErrorDomain dumps.
@Suite struct ReadableErrorTests {
    static func raw(_ text: String) -> Bool {
        text.contains("NSCocoaErrorDomain") || text.contains("NSPOSIXErrorDomain") || text.contains("Code=")
            || text.contains("DecodingError") || text.contains("CodingKeys")
    }

    struct Manifest: Decodable {
        struct Inner: Decodable { var count: Int }
        var version: Int
        var inner: Inner?
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return ReadableError.describe(error) }
        return nil
    }

    @Test func missingFile() throws {
        let missing = "/nonexistent-longmix-\(UUID().uuidString)/x.json"
        let error = try #require(message { _ = try Data(contentsOf: URL(fileURLWithPath: missing)) })
        #expect(error == "no such file or directory")
    }

    @Test func directoryUnderAFile() throws {
        let error = try #require(message {
            try FileManager.default.createDirectory(atPath: "/dev/null/longmix", withIntermediateDirectories: true)
        })
        #expect(!Self.raw(error), "\(error)")
        #expect(!error.isEmpty)
    }

    @Test func invalidJSONKeepsTheParsersDetail() throws {
        let error = try #require(message { _ = try JSONDecoder().decode(Manifest.self, from: Data("{not json".utf8)) })
        #expect(error.hasPrefix("not valid JSON"), "\(error)")
        #expect(!Self.raw(error), "\(error)")
        let serialization = try #require(message { _ = try JSONSerialization.jsonObject(with: Data("[1,".utf8)) })
        #expect(serialization.hasPrefix("not valid JSON"), "\(serialization)")
        #expect(!Self.raw(serialization), "\(serialization)")
    }

    @Test func decodingErrorsNameTheKeyPath() throws {
        let missing = try #require(message { _ = try JSONDecoder().decode(Manifest.self, from: Data("{}".utf8)) })
        #expect(missing == "missing key 'version' at the top level")
        let wrong = try #require(message {
            _ = try JSONDecoder().decode(Manifest.self, from: Data(#"{"version": 1, "inner": {"count": "x"}}"#.utf8))
        })
        #expect(wrong == "wrong type at 'inner.count': expected an integer")
        let null = try #require(message { _ = try JSONDecoder().decode(Manifest.self, from: Data(#"{"version": null}"#.utf8)) })
        #expect(null.contains("'version'") && !Self.raw(null), "\(null)")
    }

    @Test func otherErrorsAreTheirOwnDescription() {
        struct Plain: Error, CustomStringConvertible { var description: String { "plain words" } }
        #expect(ReadableError.describe(Plain()) == "plain words")
        #expect(!ReadableError.isFoundationError(Plain()))
    }
}
