@testable import Packing
