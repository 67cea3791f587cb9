@testable import Tokenization
