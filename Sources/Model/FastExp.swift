/// exp(x) for float32 without a libm call: Cody-Waite range reduction x = n ln2 + r, Cephes'
/// degree-6 polynomial for e^r, then 2^n by exponent bits. Relative error below 2e-7 on [-87, 88]
/// (checked against Foundation's exp in the tests); 0 below -87 (and for -infinity), e^88 above 88.
/// The SIMD8 overload computes the same, lane by lane, bit for bit.
@inline(__always)
public func fastExp(_ x: Float) -> Float {
    let c = Swift.min(Swift.max(x, -87), 88)
    let n = (c * 1.442_695_04 + 12_582_912) - 12_582_912  // round to nearest via the 1.5 * 2^23 trick
    let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let e = p * r * r + r + 1
    let scale = Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
    return x < -87 ? 0 : e * scale
}

/// `fastExp` on 8 lanes at once (SIMD registers on any x86-64 or arm64; the scalar version's
/// operations in the same order, so each lane equals `fastExp` of it).
@inline(__always)
public func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamped by selects: the standard library's pointwiseMin/Max are not inlined here.
    let c = x.replacing(with: -87, where: x .< -87).replacing(with: 88, where: x .> 88)
    let shifted = c * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let e = p * r * r + r + 1
    // shifted = 1.5 * 2^23 + n exactly, so its low bits hold n: 2^n = (n + 127) << 23.
    let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
    let scale = unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
    return (e * scale).replacing(with: 0, where: x .< -87)
}

/// Row kernels over contiguous floats, 8 lanes at a time with a scalar tail; every sum is formed
/// in a fixed order (8 lane partials, then the lanes in order, then the tail), so results depend
/// only on the inputs.
enum RowKernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// max(start, p[0 ..< n]).
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int, start: Float) -> Float {
        var m = SIMD8<Float>(repeating: start), i = 0
        while i + 8 <= n {
            let v = load(p, i)
            m.replace(with: v, where: v .> m)
            i += 8
        }
        var result = m.max()
        while i < n {
            result = Swift.max(result, p[i])
            i += 1
        }
        return result
    }

    /// p[i] = exp(p[i] - shift) for i < n; returns their sum.
    @inline(__always)
    static func expShiftedSum(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        var s = SIMD8<Float>(), i = 0
        while i + 8 <= n {
            let e = fastExp(load(p, i) - shift)
            store(e, p, i)
            s += e
            i += 8
        }
        var result = s.sum()
        while i < n {
            let e = fastExp(p[i] - shift)
            p[i] = e
            result += e
            i += 1
        }
        return result
    }

    /// p[i] = scale * exp(p[i] - shift) for i < n.
    @inline(__always)
    static func expShifted(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float, scale: Float = 1) {
        var i = 0
        while i + 8 <= n {
            store(scale * fastExp(load(p, i) - shift), p, i)
            i += 8
        }
        while i < n {
            p[i] = scale * fastExp(p[i] - shift)
            i += 1
        }
    }

    /// sum of exp(p[i] - shift) for i < n (p unchanged).
    @inline(__always)
    static func expShiftedTotal(_ p: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
        var s = SIMD8<Float>(), i = 0
        while i + 8 <= n {
            s += fastExp(load(p, i) - shift)
            i += 8
        }
        var result = s.sum()
        while i < n {
            result += fastExp(p[i] - shift)
            i += 1
        }
        return result
    }

    /// sum of a[i] * b[i] for i < n.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = SIMD8<Float>(), i = 0
        while i + 8 <= n {
            s += load(a, i) * load(b, i)
            i += 8
        }
        var result = s.sum()
        while i < n {
            result += a[i] * b[i]
            i += 1
        }
        return result
    }
}
