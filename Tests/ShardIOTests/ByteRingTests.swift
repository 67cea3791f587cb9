import Foundation
import Testing
@testable import ShardIO

/// `ByteRing` on its own, with a producer and a consumer thread: the bytes arrive in order, and
/// neither side waits for the other forever.
@Suite struct ByteRingTests {
    /// Runs `produce` on a producer thread and reads the ring on a consumer thread; returns the
    /// bytes read, or nil when the two did not finish within 20 seconds (the ring is then
    /// cancelled, which wakes both).
    static func run(_ ring: ByteRing, _ produce: @escaping @Sendable (ByteRing) -> Void) -> [UInt8]? {
        final class Result: @unchecked Sendable { var bytes: [UInt8] = [] }
        let result = Result()
        let done = DispatchSemaphore(value: 0)
        Thread { produce(ring); ring.finish(); done.signal() }.start()
        Thread {
            while let chunk = try? ring.next() { result.bytes += chunk }
            done.signal()
        }.start()
        let finished = done.wait(timeout: .now() + 20) == .success && done.wait(timeout: .now() + 20) == .success
        if !finished { ring.cancel() }
        return finished ? result.bytes : nil
    }

    /// Writes `count` bytes counting up from `first` (mod 251) through `space`/`commit`, in regions
    /// of at most `maximum`.
    static func write(_ ring: ByteRing, _ count: Int, from first: Int, minimum: Int, maximum: Int) {
        var k = 0
        while k < count {
            guard let space = ring.space(minimum: minimum, maximum: maximum) else { return }
            let n = min(space.count, count - k)
            for i in 0..<n { space[i] = UInt8((first + k + i) % 251) }
            ring.commit(n)
            k += n
        }
    }

    /// Many laps of a small ring: regions that do not divide it (the writer skips the storage's
    /// end again and again, or fills it exactly with bytes still pending), and regions that
    /// divide it (every lap ends exactly at the end, below the chunk target): every byte, in order.
    @Test(arguments: [(70, 130), (40, 40), (1, 7)])
    func lapsAroundTheStorageKeepTheBytesInOrder(minimum: Int, maximum: Int) {
        let ring = ByteRing(capacity: 1000, depth: 2, chunkTarget: 300)
        let bytes = Self.run(ring) { ring in Self.write(ring, 50_000, from: 0, minimum: minimum, maximum: maximum) }
        let expected = (0..<50_000).map { UInt8($0 % 251) }
        #expect(bytes == expected ? true : false, "\(bytes?.count ?? -1) of 50000 bytes, in order")
    }

    /// A region asked for where the storage's end is too short (so the writer skips it) and then
    /// not written (zstd stages that output nothing), then a larger storage: `reserve` waits for
    /// what was published, not for the skipped room no chunk covers, and the stream goes on.
    @Test func reserveAfterAnUnusedSkipDoesNotWait() {
        let ring = ByteRing(capacity: 1000, depth: 2, chunkTarget: 100)
        let bytes = Self.run(ring) { ring in
            Self.write(ring, 950, from: 0, minimum: 1, maximum: 950)
            _ = ring.space(minimum: 200, maximum: 200)  // skips the last 50 bytes; nothing written
            guard ring.reserve(capacity: 4000) else { return }
            Self.write(ring, 3000, from: 950, minimum: 300, maximum: 300)
        }
        let expected = (0..<3950).map { UInt8($0 % 251) }
        #expect(bytes != nil, "the producer waited forever in reserve")
        #expect(bytes == expected ? true : false, "\(bytes?.count ?? -1) of 3950 bytes, in order")
    }
}
