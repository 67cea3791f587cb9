@testable import Decontamination
