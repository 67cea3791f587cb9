import Foundation

/// A bounded first-in-first-out hand-off of values between threads: producers `put`, consumers
/// `take`, and at most `capacity` values wait in between, so producers run at most that far ahead.
///
/// Contract:
/// - Any thread may call any method (the usual case is one producer thread and one consumer
///   thread). Values come out of `take()` in the order their `put` returned true; with several
///   consumers, each value goes to exactly one of them.
/// - `put` blocks while `capacity` values wait and the hand-off has not ended; `take` blocks while
///   none wait and the hand-off has not ended. A call blocked when the hand-off ends returns at
///   once as described below.
/// - The hand-off ends in one of three ways, each permanent (later calls of the same kind change
///   nothing, except that only the first `fail` error is kept):
///   - `close()`, from the producer side: nothing more will come. `put` returns false (the value
///     is not queued); `take` returns the values that wait, then nil.
///   - `fail(_:)`, from either side: the work failed. `put` returns false, and a producer that
///     wants the cause reads `failure`; `take` returns the values that wait (those put before the
///     failure), then throws the error, on every later call too. Failing a closed hand-off still
///     records the error: takers get it instead of the final nil.
///   - `cancel()`, from either side: nobody wants the rest. The waiting values are dropped; `put`
///     returns false and `take` returns nil, whether or not the hand-off was closed or failed.
/// - What a thread did before a `put` that returned true is visible to the thread that takes that
///   value; what it did before `close`, `fail` or `cancel` is visible to a thread whose `put` or
///   `take` returns because of it.
public final class BoundedHandOff<Element: Sendable>: @unchecked Sendable {
    /// The most values that wait at once (at least 1).
    public let capacity: Int
    private let condition = NSCondition()
    /// A ring of `capacity` slots: `count` values from `head` on, in order.
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private var cancelled = false
    private var recordedFailure: (any Error)?

    /// An open hand-off holding `contents` (at most `capacity` values), first value first; for
    /// example a pool of buffers for the consumer to take.
    public init(capacity: Int, contents: [Element] = []) {
        precondition(capacity >= 1, "a hand-off holds at least one value")
        precondition(contents.count <= capacity, "more initial values than capacity")
        self.capacity = capacity
        slots = contents.map { Optional($0) } + Array(repeating: nil, count: capacity - contents.count)
        count = contents.count
    }

    /// Queues `element` after the values put before it, waiting while the hand-off is full.
    /// Returns false, without queuing it, if the hand-off is closed, failed or cancelled (also
    /// when that happens while waiting).
    public func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == capacity && !ended { condition.wait() }
        guard !ended else { return false }
        slots[(head + count) % capacity] = element
        count += 1
        condition.broadcast()
        return true
    }

    /// The oldest waiting value, waiting while there is none and the hand-off is open. Nil once
    /// cancelled, or closed with nothing waiting; throws the failure once failed with nothing
    /// waiting.
    public func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !ended { condition.wait() }
        if cancelled { return nil }
        if count > 0 {
            let element = slots[head]
            slots[head] = nil
            head = (head + 1) % capacity
            count -= 1
            condition.broadcast()
            return element
        }
        if let recordedFailure { throw recordedFailure }
        return nil
    }

    /// Ends the hand-off normally: no more puts; takers get what waits, then nil.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the hand-off with `error` (kept only if no failure was recorded before): no more puts;
    /// takers get what waits, then the error.
    public func fail(_ error: any Error) {
        condition.lock()
        if recordedFailure == nil { recordedFailure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the hand-off at once: the waiting values are dropped, puts return false and takes nil.
    public func cancel() {
        condition.lock()
        cancelled = true
        slots = Array(repeating: nil, count: capacity)
        count = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The error given to `fail(_:)`, if any (the first one), whether or not takers have reached it.
    public var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return recordedFailure
    }

    /// Whether `close`, `fail` or `cancel` has been called (with the lock held).
    private var ended: Bool { closed || cancelled || recordedFailure != nil }
}
