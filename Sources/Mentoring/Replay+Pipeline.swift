import Dispatch
import EventLog
import Synchronization

/// A bounded hand-over of batches from one producer thread to one consumer: the reader
/// decodes lines on one core while the fold applies events on the other.
package final class BatchChannel<Item: Sendable>: @unchecked Sendable {
    private struct State {
        var batches: [[Item]] = []
        var finished = false
        var failure: (any Error)?
        var cancelled = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore

    private let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
        // Made empty and then given its room: libdispatch traps when a semaphore goes away
        // with a value below the one it was made with, and a cancelled channel can end one
        // short (a producer that waited for room after the consumer had gone).
        free = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { free.signal() }
    }

    /// Hands a batch over, waiting while `capacity` batches are unread. False once the
    /// consumer has gone.
    package func send(_ batch: [Item]) -> Bool {
        if state.withLock({ $0.cancelled }) { return false }
        free.wait()
        let open = state.withLock { s -> Bool in
            guard !s.cancelled else { return false }
            s.batches.append(batch)
            return true
        }
        if open { available.signal() }
        return open
    }

    /// No more batches; `failure` is rethrown to the consumer after the last one.
    package func finish(_ failure: (any Error)?) {
        state.withLock { s in
            s.finished = true
            s.failure = failure
        }
        available.signal()
    }

    /// The next batch, or nil at the end.
    /// - Throws: what the producer failed with.
    package func receive() throws -> [Item]? {
        while true {
            available.wait()
            let next = try state.withLock { s throws -> [Item]?? in
                if !s.batches.isEmpty { return .some(s.batches.removeFirst()) }
                if s.finished {
                    if let failure = s.failure { throw failure }
                    return .some(nil)
                }
                return nil
            }
            if let next {
                if next != nil { free.signal() } else { available.signal() }  // keep "finished" visible
                return next
            }
        }
    }

    /// The consumer stops early: the producer's next `send` returns false.
    package func cancel() {
        state.withLock { $0.cancelled = true }
        // Wake a producer waiting for room, however many batches are unread.
        for _ in 0..<capacity { free.signal() }
    }
}

/// What the reading thread hands to the fold for each line.
struct DecodedLine: Sendable {
    /// The event; nil for a line the window leaves out before decoding (`--as-of`), which
    /// still moves the head.
    var recorded: RecordedEvent?
    var seq: Int
    /// The line's hash digits, kept only for the last line of a batch (the head).
    var hashHex: [UInt8]?
}

/// Lets a line source be read on the producer thread while the caller waits for its
/// batches (the source is used by one thread at a time).
struct UncheckedSource: @unchecked Sendable {
    let source: any LineSource
}

extension Replay {
    /// Reads and decodes `source` on another thread, in batches, calling `body` on this
    /// thread with each decoded line in order.
    ///
    /// `window.knownAt` stops the reading there; lines recorded after `window.recordedBy`
    /// are skipped before decoding.
    /// - Returns: the head: the last line passed on.
    /// `beforeFolding` runs on this thread once the reading has started (the vault's
    /// traits load meanwhile).
    /// `runs`, when given, are the only lines read (ascending), each run found by its seq;
    /// `observe` sees every line read, on the reading thread.
    static func pipelined(
        _ source: any LineSource, window: ReplayWindow, runs: [ClosedRange<Int>]? = nil,
        observe: LineObserver? = nil, beforeFolding: () throws -> Void = {},
        _ body: (RecordedEvent) throws -> Void
    ) throws -> LogHead {
        // Up to 16 batches (about 33,000 events, some 10 MB) may wait: the reader gets a
        // head start while the vault loads, and memory stays small (a deeper queue filled
        // up during a long vault load and cost 40 MB for no gain).
        let channel = BatchChannel<DecodedLine>(capacity: 16)
        let box = UncheckedSource(source: source)
        let batchSize = 2048
        DispatchQueue.global().async {
            var decoder = EventDecoder()
            var batch: [DecodedLine] = []
            batch.reserveCapacity(batchSize)
            var last: (line: Int, hex: [UInt8])?
            do {
                func lines(_ body: (LogLine) throws -> Void) throws {
                    if let runs {
                        try box.source.forEachLine(inRuns: runs, body)
                    } else {
                        try box.source.forEachLine(from: 1, after: nil, body)
                    }
                }
                try lines { line in
                    if let limit = window.knownAt, line.seq > limit { throw StopReading() }
                    try observe?(line)
                    if let cutoff = window.recordedBy, Self.recordedAfter(line, cutoff) { return }
                    // An event about a day after `--as-of` is not folded: not decoding it
                    // saves most of its cost (the fold would skip it anyway).
                    if let asOf = window.asOf, Self.datedAfter(line, asOf) {
                        batch.append(DecodedLine(recorded: nil, seq: line.seq, hashHex: nil))
                    } else {
                        batch.append(DecodedLine(recorded: try decoder.decode(line), seq: line.seq, hashHex: nil))
                    }
                    last = (batch.count - 1, Array(line.hashHex))
                    if batch.count == batchSize {
                        batch[last!.line].hashHex = last!.hex
                        guard channel.send(batch) else { throw StopReading() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty, let last { batch[last.line].hashHex = last.hex }
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch is StopReading {
                if !batch.isEmpty, let last { batch[last.line].hashHex = last.hex }
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        var head = LogHead.empty
        do {
            try beforeFolding()
            while let batch = try channel.receive() {
                for item in batch {
                    if let recorded = item.recorded { try body(recorded) }
                    if let hex = item.hashHex {
                        head = LogHead(seq: item.seq, hash: hex.withUnsafeBytes { SHA256Digest(hexBytes: $0)! })
                    }
                }
            }
        } catch {
            channel.cancel()
            throw error
        }
        return head
    }
}
