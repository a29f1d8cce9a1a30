/// One line as a reader sees it: a view of its bytes (without the newline), valid only
/// for the duration of the callback that receives it.
public struct LogLine {
    /// The line's bytes, newline excluded.
    public let bytes: UnsafeRawBufferPointer
    /// Byte offset of the line's first byte in the log.
    public let offset: Int
    /// The line's seq (already checked to be contiguous).
    public let seq: Int
    /// Where the line's parts stand, when the reader parsed its envelope anyway (the
    /// verifier does): a scanner can look inside `data` alone, or read `type` without a
    /// search. Nil from readers that did not parse the line.
    public let parts: LineParts?

    public init(bytes: UnsafeRawBufferPointer, offset: Int, seq: Int, parts: LineParts? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.seq = seq
        self.parts = parts
    }

    /// The 64 hex digits of the line's hash (fixed position from the end of the line).
    public var hashHex: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            rebasing: bytes[(bytes.count - LineLayout.hashFromEnd)..<(bytes.count - LineLayout.closing)])
    }

    /// The line's hash.
    public var hash: SHA256Digest { SHA256Digest(hexBytes: hashHex)! }

    /// The 64 hex digits of `prev`, the hash of the line before (fixed position from the end).
    public var prevHex: UnsafeRawBufferPointer {
        let start = bytes.count - LineLayout.prevFromEnd
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + LineLayout.digestDigits)])
    }

    /// Parses the line into owned values.
    public func entry() throws(LineDefect) -> LogEntry { try LogEntry(line: bytes) }
}

/// Where the parts of a parsed line stand, as byte ranges of the line.
public struct LineParts: Sendable, Equatable {
    /// `type`'s string content, between its quotes.
    public let type: Range<Int>
    /// The `data` object, braces included.
    public let data: Range<Int>
    /// The optional keys between `data` and `prev` (`onBehalfOf`, `key`, `batch`), from the
    /// comma after `data` up to the comma before `"prev"`; empty when there are none.
    public let extras: Range<Int>

    public init(type: Range<Int>, data: Range<Int>, extras: Range<Int>) {
        self.type = type
        self.data = data
        self.extras = extras
    }
}

/// Anything that streams a log's lines in order: a log, or a writer's session on it.
public protocol LineSource {
    /// Streams lines from `seq` on, checking seq contiguity and prev links.
    /// - Parameter after: the head the first line must link to, if known (seq − 1).
    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws
    /// Calls `body` with the lines `seqs` (ascending) only, each found by its seq.
    func forEachLine(at seqs: [Int], _ body: (LogLine) throws -> Void) throws
    /// Calls `body` with the lines of `runs` (ascending, not overlapping) only: each run is
    /// found by its first seq and then streamed.
    func forEachLine(inRuns runs: [ClosedRange<Int>], _ body: (LogLine) throws -> Void) throws
    /// `forEachLine(from:after:_:)` for a caller that knows where line `seq` probably starts
    /// (a snapshot's `logEnd`): the offset is checked and used, else the line is searched for
    /// as usual. The lines are the same either way.
    func forEachLine(from seq: Int, after: LogHead?, near offset: Int, _ body: (LogLine) throws -> Void) throws
}

/// Stops a line stream early.
struct StopReading: Error {}

extension LineSource {
    /// Sources without random access ignore the hint.
    public func forEachLine(from seq: Int, after: LogHead?, near offset: Int, _ body: (LogLine) throws -> Void) throws {
        try forEachLine(from: seq, after: after, body)
    }

    /// One stream per run, stopped after its last line.
    public func forEachLine(inRuns runs: [ClosedRange<Int>], _ body: (LogLine) throws -> Void) throws {
        for run in runs {
            do {
                try forEachLine(from: run.lowerBound, after: nil) { line in
                    try body(line)
                    if line.seq >= run.upperBound { throw StopReading() }
                }
            } catch is StopReading {}
        }
    }

    /// The seqs as runs of consecutive seqs, read with `forEachLine(inRuns:)`.
    public func forEachLine(at seqs: [Int], _ body: (LogLine) throws -> Void) throws {
        try forEachLine(inRuns: SeqRuns.of(seqs), body)
    }
}

/// Ascending seqs as runs of consecutive ones: `[3, 4, 5, 9]` is `[3...5, 9...9]`.
public enum SeqRuns {
    /// The runs of `seqs` (ascending).
    public static func of(_ seqs: some Sequence<Int>) -> [ClosedRange<Int>] {
        var runs: [ClosedRange<Int>] = []
        for seq in seqs { append(seq, to: &runs) }
        return runs
    }

    /// Adds `seq` (above every seq in `runs`) to the last run, or as a new one.
    @inline(__always)
    public static func append(_ seq: Int, to runs: inout [ClosedRange<Int>]) {
        if let last = runs.last, last.upperBound + 1 == seq {
            runs[runs.count - 1] = last.lowerBound...seq
        } else {
            runs.append(seq...seq)
        }
    }
}

/// Exclusive access to a log, handed out by `AppendOnlyLog.withExclusiveAccess`.
///
/// Everything a writer needs between reading the tail and appending: nobody else can
/// append while a session is open.
public protocol LogSession: LineSource {
    /// The last line when the session began, updated by each append.
    var head: LogHead { get }
    /// Streams lines `seq…head` in order, checking seq contiguity and prev links.
    /// - Parameter after: the head the first line must link to, if known (seq − 1).
    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws
    /// Appends records as one write and one fsync, and returns each new line's head.
    ///
    /// - Parameter expectedHead: if given, the append fails with `LogError.conflict`
    ///   unless the log's head seq equals it.
    /// - Throws: `LogError`; on failure nothing is appended.
    mutating func append(_ records: [LogRecord], expectedHead: Int?) throws -> [LogHead]
    /// Appends every pending record as one batch: encoded and written in bounded chunks,
    /// one fsync, all or nothing; `line` sees each new line's head in order.
    ///
    /// - Parameter expectedHead: as for `append(_:expectedHead:)`.
    /// - Throws: `LogError`; on failure nothing is appended.
    /// - Returns: the new head.
    mutating func append(_ pending: PendingRecords, expectedHead: Int?, line: (LogHead) -> Void) throws -> LogHead
}

extension LogSession {
    /// The shared front of both appends: the expected head, and a first line that starts a
    /// log only if it is `LogCreated`.
    func checkAppend(firstType: String?, expectedHead: Int?, name: String) throws(LogError) {
        if let expectedHead, expectedHead != head.seq { throw .conflict(expected: expectedHead, actual: head.seq) }
        if head.seq == 0, let firstType, firstType != "LogCreated" { throw .notInitialized(path: name) }
    }

    /// Appends records through `append(_:expectedHead:line:)`.
    func appendRecords(_ records: [LogRecord], expectedHead: Int?) throws -> [LogHead] {
        var session = self
        let pending = PendingRecords()
        for record in records { try pending.append(record) }
        var heads: [LogHead] = []
        heads.reserveCapacity(records.count)
        _ = try session.append(pending, expectedHead: expectedHead) { heads.append($0) }
        return heads
    }
}

/// An append-only, hash-chained log of JSON lines.
///
/// Implementations: `FileLog` (durable, locked, crash-safe) and `InMemoryLog` (for tests).
/// Both pass the same conformance suite.
public protocol AppendOnlyLog: LineSource, Sendable {
    /// Runs `body` under the log's exclusive lock: read the tail, decide, append.
    func withExclusiveAccess<R>(_ body: (inout any LogSession) throws -> R) throws -> R
    /// The head as a reader sees it now: the last complete, acknowledged line.
    func readHead() throws -> LogHead
    /// Streams lines from `seq` up to the head at the time of the call, checking seq
    /// contiguity and prev links (not hashes: that is `verify`'s job).
    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws
}

extension AppendOnlyLog {
    /// Streams every line from the first.
    public func forEachLine(_ body: (LogLine) throws -> Void) throws {
        try forEachLine(from: 1, after: nil, body)
    }

    /// Appends under the lock in one call.
    @discardableResult
    public func append(_ records: [LogRecord], expectedHead: Int? = nil) throws -> [LogHead] {
        try withExclusiveAccess { session in try session.append(records, expectedHead: expectedHead) }
    }

    /// All lines parsed into entries (tests and small logs only: this holds them all).
    public func entries() throws -> [LogEntry] {
        var out: [LogEntry] = []
        try forEachLine { line in out.append(try line.entry()) }
        return out
    }
}

/// The first line of every log.
public enum LogCreation {
    /// The record of a log's first line: `LogCreated` with a random log id and the format.
    public static func record(logID: String, actor: String, at: Timestamp) -> LogRecord {
        LogRecord(
            type: "LogCreated", actor: actor, at: at,
            data: ["log": .string(logID), "format": .int(Int64(logFormatVersion))])
    }

    /// A random RFC 4122 version-4 UUID, lowercase.
    public static func randomLogID(using random: some RandomSource) -> String {
        var bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: random.next().bigEndian) { Array($0) } }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { byte -> String in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
        }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4),
            hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    /// Checks that `line` is a `LogCreated` line of a supported format.
    /// - Throws: `LogError.unsupportedFormat`, or `LogError.damaged` if it is no LogCreated line.
    public static func checkFirstLine(_ line: LogLine, path: String) throws(LogError) {
        let entry: LogEntry
        do { entry = try line.entry() } catch {
            throw .damaged(LogDamage(seq: 1, offset: 0, reason: error.reason), path: path)
        }
        guard entry.type == "LogCreated", entry.seq == 1, entry.prev == .zero else {
            throw .damaged(
                LogDamage(
                    seq: 1, offset: 0, reason: "the first line is not LogCreated with seq 1 and prev of 64 zeros"),
                path: path)
        }
        guard let format = entry.data["format"] else {
            throw .damaged(LogDamage(seq: 1, offset: 0, reason: "LogCreated has no format"), path: path)
        }
        guard format.intValue == Int64(logFormatVersion) else {
            throw .unsupportedFormat(found: format.description, path: path)
        }
        guard entry.data["log"]?.stringValue?.isEmpty == false else {
            throw .damaged(LogDamage(seq: 1, offset: 0, reason: "LogCreated has no log id"), path: path)
        }
    }
}
