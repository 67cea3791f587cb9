@testable import Tasks
