import Dispatch

/// Applies `transform` to every element on `threads` threads, each with its own `State` (an
/// encoder with its cache, say), and returns the results in input order.
///
/// Element i is handled by worker `i % threads`, so which state sees which element is fixed
/// by the thread count, and the results never depend on scheduling.
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
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                var i = worker
                while i < inputBox.value.count {
                    (box.value.baseAddress! + i).initialize(to: work.value(inputBox.value[i], stateBox.value[worker]))
                    i += threads
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
