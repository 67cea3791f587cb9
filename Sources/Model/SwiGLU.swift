/// SwiGLU: out[N * F] = silu(gate) * up, silu(g) = g * sigmoid(g) (8 lanes at a time).
public func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>,
                          _ up: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let g = RowKernels.load(gate, i)
        RowKernels.store(g / (1 + fastExp(-g)) * RowKernels.load(up, i), out, i)
        i += 8
    }
    while i < count {
        let g = gate[i]
        out[i] = g / (1 + fastExp(-g)) * up[i]
        i += 1
    }
}

/// dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), dup = dout * silu(g) (overwritten).
public func swigluBackward(_ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>,
                           _ dout: UnsafePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let g = RowKernels.load(gate, i), d = RowKernels.load(dout, i), s = 1 / (1 + fastExp(-g))
        RowKernels.store(d * RowKernels.load(up, i) * s * (1 + g * (1 - s)), dgate, i)
        RowKernels.store(d * g * s, dup, i)
        i += 8
    }
    while i < count {
        let g = gate[i], s = 1 / (1 + fastExp(-g))
        dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s))
        dup[i] = dout[i] * g * s
        i += 1
    }
}
