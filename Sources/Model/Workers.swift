import Dispatch

/// A fixed number of worker threads for the element-wise and attention loops. Work is split
/// statically (task t goes to worker t mod count, rows in equal contiguous chunks), so for a given
/// thread count every sum is formed in the same order and results are bit-for-bit reproducible.
public struct Workers: Sendable {
    public let count: Int

    public init(count: Int) { self.count = max(1, count) }

    /// Runs body(task, worker) for task in 0 ..< n; worker < count indexes per-worker scratch.
    public func forEach(_ n: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        if count == 1 || n <= 1 {
            for t in 0..<n { body(t, 0) }
            return
        }
        let workers = min(count, n), stride = count
        withoutActuallyEscaping(body) { body in
            // The caller's closure only runs inside this call; each task touches disjoint memory.
            let box = WorkBox(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var t = w
                while t < n {
                    box.body(t, w)
                    t += stride
                }
            }
        }
    }

    /// Runs body(chunk, lo, hi) on at most `count` contiguous chunks covering 0 ..< n; the split
    /// depends only on n and count.
    public func forRows(_ n: Int, _ body: (_ chunk: Int, _ lo: Int, _ hi: Int) -> Void) {
        let chunks = min(count, max(1, n / 16))
        forEach(chunks) { c, _ in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if hi > lo { body(c, lo, hi) }
        }
    }
}

private struct WorkBox: @unchecked Sendable {
    let body: (Int, Int) -> Void
}
