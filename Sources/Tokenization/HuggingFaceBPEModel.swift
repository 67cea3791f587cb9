public final class HuggingFaceBPEModel: TokenizerModel {
    public init(json: [UInt8], path: String) throws { throw TokenizerError(path: path, "not yet") }
    public var vocabularySize: Int { 0 }
    public var bosID: TokenID? { nil }
    public var eosID: TokenID? { nil }
    public func makeEncoder() -> any TokenEncoder { fatalError() }
    public func decode(_ ids: [TokenID]) throws -> [UInt8] { [] }
}
