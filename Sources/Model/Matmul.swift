import LongMixCore
import Dispatch

/// A linear layer without bias, as `nn.Linear`: out[N, OC] = inp[N, C] · weight[OC, C]^T (sgemm).
public func matmulForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                          _ weight: UnsafePointer<Float>, rows n: Int, inDim c: Int, outDim oc: Int) {
    sgemm(.none, .transposed, Int32(n), Int32(oc), Int32(c),
                1, inp, Int32(c), weight, Int32(c), 0, out, Int32(oc))
}

/// dinp[N, C] = (accumulate ? dinp : 0) + dout[N, OC] · weight[OC, C];
/// dweight[OC, C] += dout^T · inp (always accumulated, for gradient accumulation).
public func matmulBackward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                           _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           rows n: Int, inDim c: Int, outDim oc: Int, accumulateInput: Bool) {
    sgemm(.none, .none, Int32(n), Int32(c), Int32(oc),
                1, dout, Int32(oc), weight, Int32(c), accumulateInput ? 1 : 0, dinp, Int32(c))
    sgemm(.transposed, .none, Int32(oc), Int32(c), Int32(n),
                1, dout, Int32(oc), inp, Int32(c), 1, dweight, Int32(c))
}

/// Times `cblas_sgemm` on [size x size] · [size x size] (best of `repeats`) with the thread count
/// `loadOpenBLAS(threads:)` set; returns GFLOPS. The reference point for a training run's achieved rate.
public func measureSGEMMPeak(size: Int = 1024, repeats: Int = 5) -> Double {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    var rng = SplitMix64(seed: 1)
    for i in 0..<(size * size) { a[i] = Float(rng.uniform()); b[i] = Float(rng.uniform()) }
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        sgemm(.none, .none, Int32(size), Int32(size), Int32(size),
                    1, a, Int32(size), b, Int32(size), 0, c, Int32(size))
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return 2 * Double(size * size * size) / best / 1e9
}
