import Foundation

/// Rotary position embedding tables for positions 0 ..< count in the Hugging Face layout: for
/// frequency j < head_dim / 2, angle = (position / factor) * theta^(-2j / head_dim) — linear
/// Position Interpolation divides positions by `factor`. cos and sin are [count, head_dim / 2].
public struct RoPETable {
    public let half: Int
    public let count: Int
    public let cos: UnsafeMutablePointer<Float>
    public let sin: UnsafeMutablePointer<Float>

    public init(headDim: Int, positions count: Int, theta: Double, factor: Double) {
        half = headDim / 2
        self.count = count
        cos = .allocate(capacity: count * half)
        sin = .allocate(capacity: count * half)
        for p in 0..<count {
            for j in 0..<half {
                // HF computes inv_freq in float32, then position * inv_freq in float32.
                let invFreq = Float(1 / pow(theta, Double(2 * j) / Double(headDim))) / Float(factor)
                let angle = Float(p) * invFreq
                cos[p * half + j] = Foundation.cos(angle)
                sin[p * half + j] = Foundation.sin(angle)
            }
        }
    }

    public func deallocate() { cos.deallocate(); sin.deallocate() }
}

/// RoPE in place, HF `rotate_half` pairing (x_j, x_{j + d/2}):
/// x[N, heads * d] per head: (a, b) -> (a cos - b sin, b cos + a sin) at positions[n].
public func ropeForward(_ x: UnsafeMutablePointer<Float>, _ positions: UnsafePointer<Int32>, _ table: RoPETable,
                        rows n: Int, heads: Int, headDim d: Int) {
    let half = d / 2
    for i in 0..<n {
        let c = table.cos + Int(positions[i]) * half, s = table.sin + Int(positions[i]) * half
        for h in 0..<heads {
            let v = x + i * heads * d + h * d
            for j in 0..<half {
                let a = v[j], b = v[j + half]
                v[j] = a * c[j] - b * s[j]
                v[j + half] = b * c[j] + a * s[j]
            }
        }
    }
}

/// RoPE's backward in place (the transpose rotation): (ga, gb) -> (ga cos + gb sin, gb cos - ga sin).
public func ropeBackward(_ dx: UnsafeMutablePointer<Float>, _ positions: UnsafePointer<Int32>, _ table: RoPETable,
                         rows n: Int, heads: Int, headDim d: Int) {
    let half = d / 2
    for i in 0..<n {
        let c = table.cos + Int(positions[i]) * half, s = table.sin + Int(positions[i]) * half
        for h in 0..<heads {
            let v = dx + i * heads * d + h * d
            for j in 0..<half {
                let ga = v[j], gb = v[j + half]
                v[j] = ga * c[j] + gb * s[j]
                v[j + half] = gb * c[j] - ga * s[j]
            }
        }
    }
}
