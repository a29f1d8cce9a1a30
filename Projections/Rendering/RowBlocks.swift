import Dispatch
import EventLog
import Synchronization

/// A streamed list's rows as consecutive blocks, each of which can be written by itself:
/// rendering writes them on every core at once and hands their text on in block order
/// (`StreamedList.blocks`). Six million session rows written on one thread took two
/// seconds; the bytes of each row depend on nothing outside it but the table's widths.
public struct RowBlocks: Sendable {
    /// How many blocks there are.
    public let count: Int
    /// Writes the rows of block `block` (of `count`), in order: block after block, the rows
    /// `StreamedList.write` writes.
    let write: @Sendable (_ block: Int, _ writer: inout RowWriter) throws -> Void

    /// `count` blocks, `write(block, &writer)` writing each block's rows.
    public init(count: Int, write: @escaping @Sendable (_ block: Int, _ writer: inout RowWriter) throws -> Void) {
        self.count = count
        self.write = write
    }

    /// What one block came to: its text (empty when measuring), its rows, or its failure.
    private struct Written: @unchecked Sendable {
        /// Buffers a writer handed over whole (each copy's own: a writer goes on with a new one).
        var text: [OutputBytes] = []
        var rows = 0
        var failure: (any Error)?
    }

    /// What the writing threads and the handing-on thread share.
    private final class HandOver: Sendable {
        /// Each block's result, from when it is written until it is handed on.
        let written: Mutex<[Written?]>
        /// Signalled when block i is written (or has failed).
        let ready: [DispatchSemaphore]
        /// Signalled when block i may be started: `ahead` blocks before it have been handed on.
        let mayStart: [DispatchSemaphore]
        /// The next block a writing thread takes: blocks are taken in order.
        let next = Atomic<Int>(0)
        /// Set when the handing-on stops early (a failure): no further block is started.
        let stopped = Atomic<Bool>(false)
        /// Each writing thread's layout, when it has finished (measured cells).
        let layouts = Mutex<[TableLayout]>([])

        init(count: Int) {
            written = Mutex([Written?](repeating: nil, count: count))
            // Made at 0 and signalled: libdispatch traps when a semaphore goes away below
            // the value it was made with.
            ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
            mayStart = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        }
    }

    /// Collects what a block's writer hands on.
    private final class Collected {
        var text: [OutputBytes] = []
    }

    /// Writes every block in `form` on `threads` threads and calls `out` on this thread with
    /// each block's text, in block order. At most `ahead` blocks are written and not yet
    /// handed on, so memory holds a few blocks, not the list. A JSON block's rows each begin
    /// with the separator; the list's first row is handed on without it.
    /// - Returns: the layout with every block's cells measured (`.measure`), else `layout`.
    /// - Throws: the first failure of a block, in block order; no later block's text is
    ///   handed on after it, and every thread has stopped when it is thrown.
    func render(
        _ form: RowWriter.Form, layout: TableLayout, widths: [Int], keys: [String],
        threads: Int = LogVerifier.processorCount, ahead: Int? = nil, out: (UnsafeRawBufferPointer) -> Void
    ) throws -> TableLayout {
        let count = self.count
        guard count > 0 else { return layout }
        let threads = max(1, min(threads, count))
        let ahead = max(1, ahead ?? 2 * threads)
        let shared = HandOver(count: count)
        for block in 0..<min(ahead, count) { shared.mayStart[block].signal() }
        let group = DispatchGroup()
        let write = self.write
        for _ in 0..<threads {
            DispatchQueue.global().async(group: group) {
                let collected = Collected()
                var writer = RowWriter(
                    form, layout: layout, widths: widths, keys: keys, continuing: true,
                    handOn: { written in
                        // Kept as they are, and the writer goes on in a new buffer: no copy.
                        collected.text.append(written)
                        written = OutputBytes(capacity: RowWriter.handOnAt + 4096)
                    })
                while true {
                    let block = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard block < count else { break }
                    shared.mayStart[block].wait()
                    guard !shared.stopped.load(ordering: .acquiring) else { break }
                    let rowsBefore = writer.rows
                    var done = Written()
                    do {
                        try write(block, &writer)
                        writer.handOnWritten()
                        done.text = collected.text
                        done.rows = writer.rows - rowsBefore
                    } catch {
                        done.failure = error
                    }
                    collected.text = []
                    shared.written.withLock { $0[block] = done }
                    shared.ready[block].signal()
                }
                let measured = writer.layout
                shared.layouts.withLock { $0.append(measured) }
            }
        }
        var handedOn = 0
        defer {
            // Threads waiting to start a block go on, see `stopped` and end.
            if handedOn < count {
                shared.stopped.store(true, ordering: .releasing)
                for block in min(handedOn + ahead, count)..<count { shared.mayStart[block].signal() }
            }
            group.wait()
        }
        var rows = 0
        while handedOn < count {
            let block = handedOn
            shared.ready[block].wait()
            let done = shared.written.withLock { $0[block].take()! }
            if let failure = done.failure { throw failure }
            handedOn += 1
            if block + ahead < count { shared.mayStart[block + ahead].signal() }
            for (i, text) in done.text.enumerated() {
                text.withBytes { bytes in
                    // The list's first row has no separator before it.
                    let first = form == .json && rows == 0 && i == 0 && done.rows > 0
                    out(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[(first ? 2 : 0)...]))
                }
            }
            rows += done.rows
        }
        group.wait()
        guard form == .measure else { return layout }
        return shared.layouts.withLock { $0 }.reduce(into: layout) { $0.merge($1) }
    }
}
