import Synchronization

/// A log held in memory, with the same line format, chain checks and batch semantics as
/// `FileLog`, for tests and tools that need no durability.
public final class InMemoryLog: AppendOnlyLog {
    private let storage: Mutex<[UInt8]>
    /// A name used in messages.
    public let name: String

    /// An empty log (call `initialize` or append a `LogCreated` record first).
    public init(name: String = "memory") {
        self.name = name
        storage = Mutex([])
    }

    /// A log holding `bytes` as they are, e.g. to test damage detection.
    public init(bytes: [UInt8], name: String = "memory") {
        self.name = name
        storage = Mutex(bytes)
    }

    /// The log's bytes, exactly as a file would hold them.
    public var bytes: [UInt8] { storage.withLock { $0 } }

    /// Writes the `LogCreated` line if the log is empty.
    @discardableResult
    public func initialize(actor: String, logID: String, at: Timestamp) throws -> LogHead {
        try withExclusiveAccess { session in
            if session.head.seq > 0 { return session.head }
            return try session.append([LogCreation.record(logID: logID, actor: actor, at: at)], expectedHead: 0)[0]
        }
    }

    public func readHead() throws -> LogHead {
        let source = MemoryBytes(bytes)
        return try TailInspection.inspect(source, path: name).head
    }

    public func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
        let source = MemoryBytes(bytes)
        let tail = try TailInspection.inspect(source, path: name)
        try ChainReader.read(source, path: name, from: seq, after: after, tail: tail, body)
    }

    public func forEachLine(inRuns runs: [ClosedRange<Int>], _ body: (LogLine) throws -> Void) throws {
        let source = MemoryBytes(bytes)
        let tail = try TailInspection.inspect(source, path: name)
        try ChainReader.read(source, path: name, runs: runs, tail: tail, body)
    }

    public func withExclusiveAccess<R>(_ body: (inout any LogSession) throws -> R) throws -> R {
        try storage.withLock { bytes in
            let tail = try TailInspection.inspect(MemoryBytes(bytes), path: name)
            if let torn = tail.torn { bytes.removeSubrange(torn.range) }
            // Small by nature: every session verifies every line, so damage anywhere
            // refuses writes, as a file log's checkpoint makes it.
            if tail.head.seq > 0 {
                try ChainReader.checkFirstLine(MemoryBytes(bytes), path: name)
                _ = try LogVerifier.verifyLines(
                    MemoryBytes(bytes), path: name, from: 0, after: .empty, end: tail.intactEnd, threads: 1)
            }
            let session = InMemorySession(bytes: bytes, head: tail.head, name: name)
            var existential: any LogSession = session
            defer { bytes = session.bytes }
            return try body(&existential)
        }
    }
}

final class InMemorySession: LogSession {
    var bytes: [UInt8]
    private(set) var head: LogHead
    let name: String

    init(bytes: [UInt8], head: LogHead, name: String) {
        self.bytes = bytes
        self.head = head
        self.name = name
    }

    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
        let tail = TailInspection(head: head, intactEnd: bytes.count, torn: nil)
        try ChainReader.read(MemoryBytes(bytes), path: name, from: seq, after: after, tail: tail, body)
    }

    func append(_ records: [LogRecord], expectedHead: Int?) throws -> [LogHead] {
        try appendRecords(records, expectedHead: expectedHead)
    }

    func append(_ pending: PendingRecords, expectedHead: Int?, line: (LogHead) -> Void) throws -> LogHead {
        try checkAppend(firstType: pending.firstType, expectedHead: expectedHead, name: name)
        guard pending.count > 0 else { return head }
        let batch = pending.count > 1 ? (head.seq + 1)...(head.seq + pending.count) : nil
        var out = bytes
        var current = head
        try pending.forEachBody { body in
            let hash = LineEncoder.encode(
                body: body, seq: current.seq + 1, prev: current.hash, batch: batch, into: &out)
            current = LogHead(seq: current.seq + 1, hash: hash)
            line(current)
        }
        bytes = out
        head = current
        return head
    }
}

/// Bytes in memory, readable like a file.
struct MemoryBytes: RandomAccessBytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func size() throws(SystemError) -> Int { bytes.count }
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(SystemError) -> Int {
        let n = max(0, min(count, bytes.count - offset))
        if n > 0 { bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + offset, byteCount: n) } }
        return n
    }
}
