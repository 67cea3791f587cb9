import Dispatch
import Foundation

/// Applies `transform` to every element on `threads` threads, each with its own `State` (an
/// encoder with its cache, say), and returns the results in input order.
///
/// Workers claim the next unclaimed element as they finish (documents differ in size by orders
/// of magnitude, so fixed shares would leave a thread idle). `transform` must give the same
/// result whatever state handles an element (a cache may differ, never the answer), so the
/// output does not depend on scheduling.
func orderedParallelMap<Element, State, Result>(
    _ elements: [Element], states: [State], _ transform: (Element, State) -> Result
) -> [Result] {
    let threads = max(1, min(states.count, elements.count))
    guard threads > 1 else { return elements.map { transform($0, states[0]) } }
    let output = UnsafeMutableBufferPointer<Result>.allocate(capacity: elements.count)
    defer { output.deallocate() }
    let box = UnsafeSendableBox(output)
    elements.withUnsafeBufferPointer { input in
        let inputBox = UnsafeSendableBox(input)
        withoutActuallyEscaping(transform) { transform in
            let work = UnsafeSendableBox(transform)
            let stateBox = UnsafeSendableBox(states)
            let next = ClaimCounter()
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                while let i = next.claim(below: inputBox.value.count) {
                    (box.value.baseAddress! + i).initialize(to: work.value(inputBox.value[i], stateBox.value[worker]))
                }
            }
        }
    }
    let results = Array(output)
    _ = output.deinitialize()
    return results
}

/// Carries a value across a `concurrentPerform` boundary where the caller guarantees that
/// threads touch disjoint parts of it (or only read it).
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Hands out 0, 1, 2, ... to competing threads.
final class ClaimCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func claim(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
