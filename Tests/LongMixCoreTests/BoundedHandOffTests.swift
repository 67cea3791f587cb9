import Foundation
import Testing
@testable import LongMixCore

/// The hand-off's contract: order, the bound, and how close, cancel and failure end it. Threads
/// are waited for with a semaphore; the only timed waits check that a call is still blocked
/// (a correct hand-off never returns there, so they cannot fail spuriously) or give a thread a
/// minute to finish.
@Suite struct BoundedHandOffTests {
    struct Boom: Error, Equatable { let n: Int }

    /// Runs `body` on its own thread.
    final class Spawned<T: Sendable>: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: T?

        init(_ body: @escaping @Sendable () -> T) {
            Thread { [self] in
                result = body()
                done.signal()
            }.start()
        }

        /// Whether the thread finished within `seconds`.
        func finishes(within seconds: Double) -> Bool {
            guard done.wait(timeout: .now() + seconds) == .success else { return false }
            done.signal()
            return true
        }

        /// What `body` returned (after `finishes(within:)` said true).
        var value: T { result! }
    }

    /// A call that is blocked stays blocked for this long (a window for a wrong return to show).
    static let stillBlocked = 0.2
    /// Ample time for a thread that is free to run to finish.
    static let finishing = 60.0

    @Test func valuesComeOutInOrderAcrossThreads() throws {
        let handOff = BoundedHandOff<Int>(capacity: 2)
        let producer = Spawned {
            for i in 0..<10_000 { guard handOff.put(i) else { return false } }
            handOff.close()
            return true
        }
        var taken: [Int] = []
        while let value = try handOff.take() { taken.append(value) }
        #expect(taken == Array(0..<10_000))
        #expect(producer.finishes(within: Self.finishing) && producer.value)
    }

    @Test func initialContentsComeFirst() throws {
        let handOff = BoundedHandOff(capacity: 3, contents: ["a", "b"])
        #expect(handOff.put("c"))
        #expect(try handOff.take() == "a")
        #expect(try handOff.take() == "b")
        #expect(try handOff.take() == "c")
    }

    @Test func aProducerWaitsWhileFullUntilATake() throws {
        let handOff = BoundedHandOff<Int>(capacity: 2)
        #expect(handOff.put(1) && handOff.put(2))
        let producer = Spawned { handOff.put(3) }
        #expect(!producer.finishes(within: Self.stillBlocked))
        #expect(try handOff.take() == 1)
        #expect(producer.finishes(within: Self.finishing) && producer.value)
        #expect(try handOff.take() == 2)
        #expect(try handOff.take() == 3)
    }

    @Test func closeDrainsThenNil() throws {
        let handOff = BoundedHandOff<Int>(capacity: 4)
        #expect(handOff.put(1) && handOff.put(2))
        handOff.close()
        #expect(!handOff.put(3))
        #expect(try handOff.take() == 1)
        #expect(try handOff.take() == 2)
        #expect(try handOff.take() == nil)
        #expect(try handOff.take() == nil)
        #expect(handOff.failure == nil)
    }

    @Test func closeWakesAWaitingConsumer() throws {
        let handOff = BoundedHandOff<Int>(capacity: 1)
        let consumer = Spawned { (try? handOff.take()) ?? -1 }
        #expect(!consumer.finishes(within: Self.stillBlocked))
        handOff.close()
        #expect(consumer.finishes(within: Self.finishing))
        #expect(consumer.value == -1)
    }

    @Test func cancelWakesAWaitingProducerAndDropsTheValues() throws {
        let handOff = BoundedHandOff<Int>(capacity: 1)
        #expect(handOff.put(1))
        let producer = Spawned { handOff.put(2) }
        #expect(!producer.finishes(within: Self.stillBlocked))
        handOff.cancel()
        #expect(producer.finishes(within: Self.finishing))
        #expect(!producer.value)
        #expect(try handOff.take() == nil)
        #expect(!handOff.put(3))
    }

    @Test func cancelWakesAWaitingConsumer() throws {
        let handOff = BoundedHandOff<Int>(capacity: 1)
        let consumer = Spawned { (try? handOff.take()) ?? -1 }
        #expect(!consumer.finishes(within: Self.stillBlocked))
        handOff.cancel()
        #expect(consumer.finishes(within: Self.finishing))
        #expect(consumer.value == -1)
    }

    @Test func cancelOverridesCloseAndFailure() throws {
        let closed = BoundedHandOff<Int>(capacity: 2)
        #expect(closed.put(1))
        closed.close()
        closed.cancel()
        #expect(try closed.take() == nil)

        let failed = BoundedHandOff<Int>(capacity: 2)
        #expect(failed.put(1))
        failed.fail(Boom(n: 1))
        failed.cancel()
        #expect(try failed.take() == nil)
    }

    @Test func aFailureComesAfterTheValuesBeforeIt() throws {
        let handOff = BoundedHandOff<Int>(capacity: 2)
        let producer = Spawned {
            for i in 0..<1_000 { guard handOff.put(i) else { return false } }
            handOff.fail(Boom(n: 1))
            return true
        }
        var taken: [Int] = []
        #expect(throws: Boom(n: 1)) {
            while let value = try handOff.take() { taken.append(value) }
        }
        #expect(taken == Array(0..<1_000))
        #expect(producer.finishes(within: Self.finishing) && producer.value)
        // The failure stays: every later take throws it, puts are refused, the first error is kept.
        #expect(!handOff.put(7))
        handOff.fail(Boom(n: 2))
        #expect(throws: Boom(n: 1)) { try handOff.take() }
        #expect(handOff.failure as? Boom == Boom(n: 1))
    }

    @Test func aConsumerFailureWakesAWaitingProducer() throws {
        let handOff = BoundedHandOff<Int>(capacity: 1)
        #expect(handOff.put(1))
        let producer = Spawned { handOff.put(2) ? nil : handOff.failure as? Boom }
        #expect(!producer.finishes(within: Self.stillBlocked))
        handOff.fail(Boom(n: 3))
        #expect(producer.finishes(within: Self.finishing))
        #expect(producer.value == Boom(n: 3))
    }

    @Test func failingAfterCloseReplacesTheFinalNil() throws {
        let handOff = BoundedHandOff<Int>(capacity: 2)
        #expect(handOff.put(1))
        handOff.close()
        handOff.fail(Boom(n: 4))
        #expect(try handOff.take() == 1)
        #expect(throws: Boom(n: 4)) { try handOff.take() }
    }
}
