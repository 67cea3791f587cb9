@testable import ShardIO
