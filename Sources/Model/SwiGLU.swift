import Foundation

/// SwiGLU: out[N * F] = silu(gate) * up, silu(g) = g * sigmoid(g).
public func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>,
                          _ up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        out[i] = g / (1 + exp(-g)) * up[i]
    }
}

/// dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), dup = dout * silu(g) (overwritten).
public func swigluBackward(_ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>,
                           _ dout: UnsafePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i], s = 1 / (1 + exp(-g))
        dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s))
        dup[i] = dout[i] * g * s
    }
}
