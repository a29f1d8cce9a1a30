import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The writer's view of a locked `FileLog`.
final class FileLogSession: LogSession {
    let fd: FileDescriptor
    unowned let log: FileLog
    private(set) var head: LogHead
    private var size: Int
    private var logID: String

    init(fd: consuming FileDescriptor, log: FileLog) throws {
        self.log = log
        try log.refuseIfDamageRecorded()
        (head, size, logID) = try log.recordingDamage { try Self.openChain(fd, log: log) }
        self.fd = fd
    }

    /// Reads the tail under the lock and makes the log ready for appending: checks the
    /// acknowledged head, quarantines a torn tail past it, verifies and adopts complete lines
    /// a crashed writer left past it, and (for a log without a record) verifies everything
    /// once and creates the record.
    private static func openChain(_ fd: borrowing FileDescriptor, log: FileLog) throws -> (LogHead, Int, String) {
        let record = try log.acknowledged?.read()
        var tail = try TailInspection.inspect(fd, path: log.path)
        var logID = ""
        if let record {
            logID = try log.checkedLogID(fd)
            guard record.logID == logID else {
                throw LogError.damaged(
                    LogDamage(
                        seq: 1, offset: 0,
                        reason:
                            "the acknowledged head belongs to log \(record.logID), but this file is log \(logID): the log was replaced"
                    ),
                    path: log.path)
            }
            try log.checkAcknowledged(record, in: fd, tail: tail)
        }
        if let torn = tail.torn {
            // Past the acknowledged head (checked above), so it was never acknowledged.
            try log.quarantine(fd, range: torn.range, afterSeq: tail.head.seq, reason: torn.reason)
            tail = try TailInspection.inspect(fd, path: log.path)
            precondition(tail.torn == nil, "a quarantined tail must leave an intact log")
        }
        guard tail.head.seq > 0 else { return (tail.head, tail.intactEnd, "") }
        if logID.isEmpty { logID = try log.checkedLogID(fd) }
        if let record, record.seq == tail.head.seq { return (tail.head, tail.intactEnd, logID) }
        // Lines nobody acknowledged yet: all of them for a log without a record, or complete
        // lines a writer fsync'ed before it died without recording them.
        let start = record.map { ($0.end, $0.head) } ?? (0, LogHead.empty)
        let verified = try LogVerifier.verifyLines(
            fd, path: log.path, from: start.0, after: start.1, end: tail.intactEnd,
            threads: LogVerifier.processorCount)
        precondition(verified == tail.head, "the verified chain must end at the inspected head")
        let offset =
            tail.headOffset >= 0
            ? tail.headOffset
            : try ChainReader.offset(ofSeq: tail.head.seq, in: fd, path: log.path, end: tail.intactEnd)
        try log.acknowledged?.write(
            AcknowledgedHead(
                logID: logID, seq: tail.head.seq, offset: offset, end: tail.intactEnd, hash: tail.head.hash))
        return (tail.head, tail.intactEnd, logID)
    }

    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
        let tail = TailInspection(head: head, intactEnd: size, torn: nil)
        try ChainReader.read(fd, path: log.path, from: seq, after: after, tail: tail, body)
    }

    func forEachLine(from seq: Int, after: LogHead?, near offset: Int, _ body: (LogLine) throws -> Void) throws {
        let tail = TailInspection(head: head, intactEnd: size, torn: nil)
        try ChainReader.read(fd, path: log.path, from: seq, after: after, tail: tail, near: offset, body)
    }

    func append(_ records: [LogRecord], expectedHead: Int?) throws -> [LogHead] {
        try appendRecords(records, expectedHead: expectedHead)
    }

    func append(_ pending: PendingRecords, expectedHead: Int?, line: (LogHead) -> Void) throws -> LogHead {
        try checkAppend(firstType: pending.firstType, expectedHead: expectedHead, name: log.path)
        guard pending.count > 0 else { return head }
        let first = head.seq + 1
        let batch = pending.count > 1 ? first...(head.seq + pending.count) : nil
        var chunk: [UInt8] = []
        chunk.reserveCapacity(min(pending.count * 400, 1 << 21))
        var prev = head.hash
        var seq = first
        var handed = 0
        var written = 0
        var lastLineStart = size
        // A batch past a megabyte is written beside the hashing, a megabyte at a time: a
        // batch of a million lines is never held whole. Readers see none of it until its
        // last line (the batch marker).
        let writes = BackgroundWrites(borrowing: fd.rawValue, path: log.path)
        do {
            try pending.forEachBody { body in
                lastLineStart = size + handed + chunk.count
                prev = LineEncoder.encode(body: body, seq: seq, prev: prev, batch: batch, into: &chunk)
                line(LogHead(seq: seq, hash: prev))
                seq += 1
                if chunk.count >= 1 << 20 {
                    handed += chunk.count
                    try writes.write(chunk)
                    chunk = []
                    chunk.reserveCapacity(1 << 20 + 1 << 16)
                }
            }
            if handed == 0 {
                // A batch of one chunk (every single command) is written here, at once.
                try fd.writeAll(chunk)
                written = chunk.count
            } else {
                try writes.write(chunk)
                written = try writes.finish()
            }
            try fd.sync()
        } catch {
            // Roll back whatever reached the file: the append was not acknowledged. (The
            // writes are over first: none may land after the cut.)
            _ = try? writes.finish()
            try? fd.truncate(to: size)
            try? fd.sync()
            if let error = error as? SystemError { throw LogError.system(error) }
            throw error
        }
        size += written
        head = LogHead(seq: seq - 1, hash: prev)
        if logID.isEmpty, pending.firstType == "LogCreated" {
            logID = try ChainReader.checkFirstLine(fd, path: log.path)
        }
        // Acknowledged only once the record is durable too: a crash before this point leaves
        // complete lines past the record, which the next writer verifies and adopts.
        try log.acknowledged?.write(
            AcknowledgedHead(logID: logID, seq: head.seq, offset: lastLineStart, end: size, hash: head.hash))
        return head
    }
}
