/// Residual connection: out[N] = a + b (out may alias a or b). Its backward is the identity: the
/// incoming gradient flows unchanged to both inputs, which the model does by reusing one buffer.
public func residualForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { out[i] = a[i] + b[i] }
}

/// da[N] += dout, db[N] += dout (for callers that keep the two branches' gradients apart).
public func residualBackward(_ da: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        da[i] += dout[i]
        db[i] += dout[i]
    }
}
