@testable import Mixing
