@testable import Evaluation
