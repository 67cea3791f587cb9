/// Token embedding lookup.
/// out[N, C] = table[tokens[n], :].
public func embeddingForward(_ out: UnsafeMutablePointer<Float>, _ tokens: UnsafePointer<Int32>,
                             _ table: UnsafePointer<Float>, rows n: Int, dim c: Int) {
    for i in 0..<n {
        (out + i * c).update(from: table + Int(tokens[i]) * c, count: c)
    }
}

/// dtable[V, C] += dout[N, C] scattered to rows tokens[n] (in row order, so the sum is deterministic).
public func embeddingBackward(_ dtable: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                              _ tokens: UnsafePointer<Int32>, rows n: Int, dim c: Int) {
    for i in 0..<n {
        let d = dtable + Int(tokens[i]) * c, g = dout + i * c
        for j in 0..<c { d[j] += g[j] }
    }
}
