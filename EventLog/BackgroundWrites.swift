import Dispatch
import Synchronization

/// Chunks of bytes written to a file on a thread of their own, in the order they are handed
/// over, while the caller makes the next chunk: a large batch is then encoded and hashed on
/// one core while the kernel copies the previous megabyte into the page cache on the other.
///
/// The descriptor is borrowed: the caller keeps it open, and touches neither it nor the
/// file's end until `finish()` has returned.
///
/// Failure modes: the first failed write's `SystemError` is thrown by the next `write` or by
/// `finish()`; nothing handed over after a failed chunk is written, so the file holds a
/// prefix of what was handed over (which the caller then truncates, as after any failed
/// write).
package final class BackgroundWrites: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    /// Where the first chunk goes (pwrite); nil writes at the descriptor's current offset.
    private let start: Int?
    private let queue = DispatchQueue(label: "tandem.background-writes")
    /// Chunks handed over and not yet written, at most `depth`: memory stays bounded when
    /// the disk is slower than the caller.
    private let room: DispatchSemaphore
    private let failure = Mutex<SystemError?>(nil)
    /// Bytes handed over so far; only the caller's thread reads or writes it.
    private var handed = 0

    /// - Parameters:
    ///   - at: the file offset of the first chunk; nil for the descriptor's current offset.
    ///   - depth: how many chunks may wait to be written.
    package init(borrowing fd: Int32, path: String, at offset: Int? = nil, depth: Int = 2) {
        self.fd = fd
        self.path = path
        self.start = offset
        // Made empty and then given its room: libdispatch traps when a semaphore goes away
        // with a value below the one it was made with.
        room = DispatchSemaphore(value: 0)
        for _ in 0..<depth { room.signal() }
    }

    /// Hands `chunk` over to be written after the chunks before it; waits while `depth`
    /// chunks are unwritten.
    /// - Throws: `SystemError` of an earlier chunk's failed write.
    package func write(_ chunk: [UInt8]) throws(SystemError) {
        if let failed = failure.withLock({ $0 }) { throw failed }
        guard !chunk.isEmpty else { return }
        room.wait()
        let offset = start.map { $0 + handed }
        handed += chunk.count
        queue.async { [self] in
            defer { room.signal() }
            guard failure.withLock({ $0 == nil }) else { return }
            let written = chunk.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    let file = FileDescriptor(borrowing: fd, path: path)
                    if let offset { try file.writeAll(raw, at: offset) } else { try file.writeAll(raw) }
                }
            }
            if case .failure(let error) = written { failure.withLock { $0 = error } }
        }
    }

    /// Waits until every chunk handed over is written. It may be called again, after more
    /// writes.
    /// - Returns: the bytes handed over so far.
    /// - Throws: `SystemError` of the first failed write.
    @discardableResult
    package func finish() throws(SystemError) -> Int {
        queue.sync {}
        if let failed = failure.withLock({ $0 }) { throw failed }
        return handed
    }
}
