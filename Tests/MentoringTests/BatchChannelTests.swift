import Dispatch
import EventLog
import Synchronization
import Testing

@testable import Mentoring

#if canImport(Glibc)
    import Glibc
#endif

/// The hand-over between a reading thread and the thread that folds, decides or prints.
@Suite("Batch channel: order, failure, and a consumer that leaves early")
struct BatchChannelTests {
    @Test("batches arrive in order, then the producer's failure")
    func orderThenFailure() throws {
        struct Broken: Error, Equatable {}
        let channel = BatchChannel<Int>(capacity: 2)
        DispatchQueue.global().async {
            for n in 0..<50 { _ = channel.send([n, n]) }
            channel.finish(Broken())
        }
        var received: [Int] = []
        #expect(throws: Broken.self) {
            while let batch = try channel.receive() { received += batch }
        }
        #expect(received == (0..<50).flatMap { [$0, $0] })
    }

    /// A consumer that stops while the producer waits for room (the queue full) must let it
    /// go, and the channel must go away cleanly: libdispatch traps when a semaphore is freed
    /// below its starting value, which a producer that waited after the cancel left it at.
    /// Whether the producer is already waiting when the consumer leaves depends on timing;
    /// either way `send` must return false and nothing may trap, which is all that is
    /// asserted. Sixty rounds make the waiting case near certain.
    @Test("a consumer that leaves while the producer waits for room frees it, and nothing traps")
    func earlyLeaveWhileFull() {
        for capacity in [1, 2, 4] {
            for _ in 0..<20 {
                let sent = Mutex<[Bool]>([])
                let done = DispatchSemaphore(value: 0)
                do {
                    let channel = BatchChannel<Int>(capacity: capacity)
                    DispatchQueue.global().async {
                        // One more batch than there is room for: the last send waits.
                        for n in 0...capacity {
                            let accepted = channel.send([n])
                            sent.withLock { $0.append(accepted) }
                            if !accepted { break }
                        }
                        channel.finish(nil)
                        done.signal()
                    }
                    // Wait until the queue is full, so that the producer is at (or in) its
                    // last send.
                    while sent.withLock({ $0.count }) < capacity { usleep(100) }
                    channel.cancel()
                    done.wait()
                }
                // The channel has gone; the last send was refused, before or after it waited.
                let outcome = sent.withLock { $0 }
                #expect(outcome.count == capacity + 1)
                #expect(outcome.prefix(capacity).allSatisfy { $0 } && outcome.last == false)
            }
        }
    }
}
