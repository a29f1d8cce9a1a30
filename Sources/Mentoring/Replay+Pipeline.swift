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

    /// How many batches are sent and not yet received.
    package var waiting: Int { state.withLock { $0.batches.count } }

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
    /// still moves the head, and for a line left for the folding thread to decode.
    var recorded: RecordedEvent?
    var seq: Int
    /// The line's hash digits, kept only for the last line of a batch (the head).
    var hashHex: [UInt8]?
    /// Where the line's bytes are in its batch's `undecoded`, when the folding thread
    /// decodes it.
    var undecoded: Range<Int>? = nil
}

/// A batch of lines as the reading thread hands it over: decoded there, or (some of them)
/// copied for the folding thread to decode.
struct LineBatch: Sendable {
    var lines: [DecodedLine] = []
    /// Per line, what the fold will look up (`EventFold.prefetchHint`), for the lines
    /// decoded by the reading thread; empty when the fold wants no hints.
    var hints: [PrefetchHint] = []
    /// The bytes of the lines left undecoded, back to back.
    var undecoded: [UInt8] = []
}

/// Which batches the folding thread decodes itself.
package enum DecodeSharing: Sendable {
    /// A batch is handed over undecoded when at most the one just sent is waiting for the
    /// fold: the folding thread, about to be idle otherwise, decodes it while the reading
    /// thread reads on. When decoding
    /// is the slower side, both cores decode; when folding is, the reading thread decodes
    /// everything, as before.
    case adaptive
    /// The reading thread decodes every line.
    case never
    /// The folding thread decodes every line (tests).
    case always
    /// Every other batch (tests).
    case alternate

    /// Whether batch number `batch` goes over undecoded, with `waiting` batches unread.
    func leavesUndecoded(batch: Int, waiting: Int) -> Bool {
        switch self {
        case .adaptive: waiting <= 1
        case .never: false
        case .always: true
        case .alternate: batch % 2 == 1
        }
    }
}

/// Lets a line source be read on the producer thread while the caller waits for its
/// batches (the source is used by one thread at a time).
struct UncheckedSource: @unchecked Sendable {
    let source: any LineSource
}

/// A fold's `prefetchHint(for:)`, called on the reading thread: a static function of the
/// fold's type, which reads nothing but the event it is given.
struct HintFunction: @unchecked Sendable {
    let call: (RecordedEvent) -> PrefetchHint
}

/// The reading side of `Replay.pipelined`: puts lines into batches, decoding them or
/// copying their bytes for the folding thread, and sends each full batch.
private struct BatchFiller {
    let channel: BatchChannel<LineBatch>
    let window: ReplayWindow
    let sharing: DecodeSharing
    let batchSize: Int
    let hint: ((RecordedEvent) -> PrefetchHint)?
    var decoder = EventDecoder()
    var batch = LineBatch()
    var batches = 0
    /// Whether the batch being filled goes over undecoded.
    var handingOver: Bool
    /// The last line's hash digits, copied into the batch when it is sent (a fixed buffer:
    /// as an array, emptying and refilling it for every line cost more than the copy).
    var lastHex: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    var lastHexCount = 0
    /// How many bytes the last batch handed over undecoded held.
    var undecodedBytes = 0

    init(
        channel: BatchChannel<LineBatch>, window: ReplayWindow, sharing: DecodeSharing, batchSize: Int,
        hint: ((RecordedEvent) -> PrefetchHint)?
    ) {
        self.channel = channel
        self.window = window
        self.sharing = sharing
        self.batchSize = batchSize
        self.hint = hint
        batch.lines.reserveCapacity(batchSize)
        if hint != nil { batch.hints.reserveCapacity(batchSize) }
        handingOver = sharing.leavesUndecoded(batch: 0, waiting: 0)
        // Log lines are some hundreds of bytes.
        undecodedBytes = batchSize * 512
        if handingOver { batch.undecoded.reserveCapacity(undecodedBytes) }
    }

    /// Adds a line; false when the fold has stopped taking batches.
    mutating func take(_ line: LogLine) throws -> Bool {
        if let cutoff = window.recordedBy, Replay.recordedAfter(line, cutoff) { return true }
        // An event about a day after `--as-of` is not folded: not decoding it saves most of
        // its cost (the fold would skip it anyway).
        if let asOf = window.asOf, Replay.datedAfter(line, asOf) {
            batch.lines.append(DecodedLine(recorded: nil, seq: line.seq, hashHex: nil))
            if hint != nil { batch.hints.append(.none) }
        } else if handingOver {
            let start = batch.undecoded.count
            batch.undecoded.append(contentsOf: line.bytes)
            batch.lines.append(
                DecodedLine(recorded: nil, seq: line.seq, hashHex: nil, undecoded: start..<batch.undecoded.count))
            if hint != nil { batch.hints.append(.none) }
        } else {
            let recorded = try decoder.decode(line)
            if let hint { batch.hints.append(hint(recorded)) }
            batch.lines.append(DecodedLine(recorded: recorded, seq: line.seq, hashHex: nil))
        }
        let hex = line.hashHex
        lastHexCount = min(hex.count, MemoryLayout.size(ofValue: lastHex))
        withUnsafeMutableBytes(of: &lastHex) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: hex[..<lastHexCount]))
        }
        if batch.lines.count == batchSize { return send() }
        return true
    }

    /// Sends the batch (if any); false when the fold has stopped taking batches.
    mutating func send() -> Bool {
        guard !batch.lines.isEmpty else { return true }
        batch.lines[batch.lines.count - 1].hashHex = withUnsafeBytes(of: lastHex) { Array($0[..<lastHexCount]) }
        if !batch.undecoded.isEmpty { undecodedBytes = batch.undecoded.count }
        let sent = channel.send([batch])
        batch.lines.removeAll(keepingCapacity: true)
        batch.hints.removeAll(keepingCapacity: true)
        batch.undecoded = []
        batches += 1
        handingOver = sharing.leavesUndecoded(batch: batches, waiting: channel.waiting)
        // The bytes go to the other thread with the batch, so each batch starts a new
        // buffer: made as large as the last one at once, or it doubled its way up (a
        // quarter of the reading thread, in copies and reallocations).
        if handingOver { batch.undecoded.reserveCapacity(undecodedBytes + undecodedBytes / 8) }
        return sent
    }
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
    /// `observe` sees every line read, on the reading thread. `sharing` says which batches
    /// (of `batchSize` lines) this thread decodes itself; tests force each way.
    static func pipelined(
        _ source: any LineSource, window: ReplayWindow, runs: [ClosedRange<Int>]? = nil,
        observe: LineObserver? = nil, sharing: DecodeSharing = .adaptive, batchSize: Int = 2048,
        beforeFolding: () throws -> Void = {}, hints: ((RecordedEvent) -> PrefetchHint)? = nil,
        prefetch: (PrefetchHint, PrefetchStage) -> Void = { _, _ in }, _ body: (RecordedEvent) throws -> Void
    ) throws -> LogHead {
        // Up to 8 batches (about 16,000 events, some 5 MB) may wait: the reader gets a head
        // start while the vault loads, and memory stays small. A deeper queue filled up
        // during a long vault load and cost 40 MB for no gain; and once decoding got faster
        // than folding, 16 stood full all the time, 4 MB more at the peak of a 10M replay.
        let channel = BatchChannel<LineBatch>(capacity: 8)
        let box = UncheckedSource(source: source)
        let hint = hints.map(HintFunction.init)
        DispatchQueue.global().async {
            // One value holds the reading side's state: captured piecemeal by the closures
            // here, each variable was checked for exclusive access at run time on every
            // line (a tenth of the reading thread on the 1M store).
            var filler = BatchFiller(
                channel: channel, window: window, sharing: sharing, batchSize: batchSize, hint: hint?.call)
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
                    guard try filler.take(line) else { throw StopReading() }
                }
                _ = filler.send()
                channel.finish(nil)
            } catch is StopReading {
                _ = filler.send()
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        var head = LogHead.empty
        var decoder = EventDecoder()
        do {
            try beforeFolding()
            while var batches = try channel.receive() {
                for b in batches.indices {
                    // The lines are moved out of the batch one by one, not copied: a copy
                    // retained everything its event holds, and the batch released it all
                    // again. Taken out before anything else is read of the batch: a copy of
                    // the batch would share the lines, and the first move would copy them all.
                    var lines: [DecodedLine] = []
                    swap(&lines, &batches[b].lines)
                    let hinted = batches[b].hints, undecoded = batches[b].undecoded
                    for i in lines.indices {
                        var item = lines.withUnsafeMutableBufferPointer { buffer in
                            let slot = buffer.baseAddress! + i
                            defer { slot.initialize(to: DecodedLine(recorded: nil, seq: 0)) }
                            return slot.move()
                        }
                        // A few events ahead, the fold asks for what they will look up:
                        // first the index slot, then the row it names.
                        let far = i + PrefetchStage.distance, near = i + PrefetchStage.distance / 2
                        if far < hinted.count, hinted[far].table != 0 { prefetch(hinted[far], .slot) }
                        if near < hinted.count, hinted[near].table != 0 { prefetch(hinted[near], .row) }
                        if let recorded = item.recorded.take() {
                            try body(recorded)
                        } else if let range = item.undecoded {
                            let recorded = try undecoded.withUnsafeBytes { bytes in
                                try decoder.decode(
                                    LogLine(
                                        bytes: UnsafeRawBufferPointer(rebasing: bytes[range]), offset: 0, seq: item.seq)
                                )
                            }
                            try body(recorded)
                        }
                        if let hex = item.hashHex {
                            head = LogHead(seq: item.seq, hash: hex.withUnsafeBytes { SHA256Digest(hexBytes: $0)! })
                        }
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
