import Foundation

/// AdamW as PyTorch's `torch.optim.AdamW`: p -= lr * wd * p (matrices only), then
/// p -= lr * m̂ / (sqrt(v̂) + eps) with bias-corrected moments. State (m, v) in two flat buffers
/// laid out like the parameters.
public final class AdamW {
    public let count: Int
    public let beta1, beta2, epsilon, weightDecay: Float
    public let m: UnsafeMutablePointer<Float>
    public let v: UnsafeMutablePointer<Float>
    private let decayRanges: [Range<Int>]
    private let plainRanges: [Range<Int>]

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        count = layout.count
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        m = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count)
        v = .allocate(capacity: count)
        v.initialize(repeating: 0, count: count)
        decayRanges = layout.tensors.filter(\.isMatrix).map { $0.offset..<($0.offset + $0.count) }
        plainRanges = layout.tensors.filter { !$0.isMatrix }.map { $0.offset..<($0.offset + $0.count) }
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update at optimizer step `t` (1-based, for the bias corrections).
    public func update(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, learningRate lr: Float, step t: Int) {
        let c1 = 1 - Float(pow(Double(beta1), Double(t))), c2 = 1 - Float(pow(Double(beta2), Double(t)))
        for (ranges, decay) in [(decayRanges, weightDecay), (plainRanges, Float(0))] {
            for range in ranges {
                for i in range {
                    let grad = g[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * grad
                    v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
                    let mHat = m[i] / c1, vHat = v[i] / c2
                    p[i] = p[i] * (1 - lr * decay) - lr * mHat / (vHat.squareRoot() + epsilon)
                }
            }
        }
    }
}

/// Linear warmup to `peak` over `warmup` steps, then cosine decay to `peak * minRatio` at `total`.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public var peak: Double
    public var minRatio: Double
    public var warmup: Int
    public var total: Int

    public init(peak: Double, minRatio: Double = 0.1, warmup: Int, total: Int) {
        self.peak = peak
        self.minRatio = minRatio
        self.warmup = warmup
        self.total = total
    }

    /// The rate for 0-based step `step`.
    public func rate(at step: Int) -> Double {
        if step < warmup { return peak * Double(step + 1) / Double(warmup) }
        let progress = min(1, Double(step - warmup) / Double(max(1, total - warmup)))
        let floor = peak * minRatio
        return floor + 0.5 * (peak - floor) * (1 + cos(Double.pi * progress))
    }
}

/// Scales `g` so its global L2 norm is at most `maxNorm`; returns the norm before clipping.
public func clipGradients(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
    var sum = 0.0
    for i in 0..<count { sum += Double(g[i]) * Double(g[i]) }
    let norm = sum.squareRoot()
    if maxNorm > 0 && norm > maxNorm {
        let scale = Float(maxNorm / norm)
        for i in 0..<count { g[i] *= scale }
    }
    return norm
}
