/// RMSNorm (LLaMA): out = weight * x / sqrt(mean(x^2) + eps), statistics in float32 as in HF.
/// out[N, C], rstd[N] (kept for the backward pass), inp[N, C], weight[C].
public func rmsnormForward(_ out: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                           _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           rows n: Int, dim c: Int, eps: Float) {
    for i in 0..<n {
        let x = inp + i * c, o = out + i * c
        let r = 1 / (RowKernels.dot(x, x, c) / Float(c) + eps).squareRoot()
        rstd[i] = r
        for j in 0..<c { o[j] = weight[j] * (x[j] * r) }
    }
}

/// RMSNorm's output recomputed from the input and the stored rstd (no new statistics), for the
/// backward pass when the normalized activations were not kept.
public func rmsnormRecompute(_ out: UnsafeMutablePointer<Float>, _ rstd: UnsafePointer<Float>,
                             _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, rows n: Int, dim c: Int) {
    for i in 0..<n {
        let x = inp + i * c, o = out + i * c, r = rstd[i]
        for j in 0..<c { o[j] = weight[j] * (x[j] * r) }
    }
}

/// dinp[N, C] += d/dx, dweight[C] += sum_n dout * x * rstd, given dout[N, C], inp[N, C], rstd[N].
/// With g = dout * weight: dx = rstd * g - rstd^3 * x * mean(g * x).
public func rmsnormBackward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                            _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                            _ rstd: UnsafePointer<Float>, rows n: Int, dim c: Int) {
    for i in 0..<n {
        let x = inp + i * c, g = dout + i * c, dx = dinp + i * c, r = rstd[i]
        var dot: Float = 0
        for j in 0..<c { dot += g[j] * weight[j] * x[j] }
        let k = r * r * r * dot / Float(c)
        for j in 0..<c {
            dx[j] += r * g[j] * weight[j] - k * x[j]
            dweight[j] += g[j] * x[j] * r
        }
    }
}
