import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The durable log: a JSON Lines file, appended under an exclusive flock, fsync'ed before
/// any append is acknowledged.
///
/// Crash safety rests on three rules (see FORMAT.md):
/// - a batch is one `write` and one `fsync`; its lines carry `batch: [first, last]`;
/// - a reader's view ends at the last complete line of the last complete batch;
/// - the next writer moves anything after that (a torn tail) to the quarantine
///   directory byte for byte, truncates, and says so through `warn`.
///
/// Damage anywhere else (a bad line before the tail) makes every write refuse.
public final class FileLog: AppendOnlyLog {
    /// The log file.
    public let path: String
    /// Where torn tails are kept.
    public let quarantineDirectory: String
    /// How long a writer waits for the lock before giving up.
    public let lockTimeout: Double
    /// Receives warnings, e.g. that a torn tail was quarantined.
    public let warn: @Sendable (String) -> Void
    /// The durable record of the last acknowledged head (`events.head`), or nil for a log
    /// that keeps none (tests of the bare format).
    let acknowledged: AcknowledgedHeadFile?
    /// The store-wide record of damage found earlier; while it exists, nothing is written.
    public let damageMarker: DamageMarker?
    private let clock: any Clock
    /// The first line this process already checked, by file identity: saves re-reading it
    /// on every append.
    private let known = Mutex<(device: UInt64, inode: UInt64, logID: String)?>(nil)

    /// The log file kept open between sessions. The mutex also serialises this process's
    /// own threads, which one shared descriptor's flock cannot tell apart.
    private let openLog = Mutex<OwnedDescriptor?>(nil)

    /// A log at `path`. Nothing is opened until it is used.
    ///
    /// - Parameters:
    ///   - headRecordPath: where the acknowledged head is kept; nil keeps none, and then a
    ///     removed or rewritten acknowledged line at the end cannot be told from a torn tail.
    ///   - damageMarker: where damage found by anyone is recorded, so that writers refuse.
    public init(
        path: String, quarantineDirectory: String, headRecordPath: String? = nil, damageMarker: DamageMarker? = nil,
        lockTimeout: Double = 10, clock: any Clock = SystemClock(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.path = path
        self.quarantineDirectory = quarantineDirectory
        self.acknowledged = headRecordPath.map(AcknowledgedHeadFile.init(path:))
        self.damageMarker = damageMarker
        self.lockTimeout = lockTimeout
        self.clock = clock
        self.warn = warn
    }

    // MARK: Creating

    /// Creates the file (mode 0600) if needed and writes the `LogCreated` line if the log
    /// is empty. Idempotent: on an existing log it only checks the first line.
    /// - Returns: whether the first line was written now, and the head.
    public func initialize(actor: String, logID: String) throws -> (created: Bool, head: LogHead) {
        let existed = FileSystem.kind(of: path).exists
        do {
            let fd = try FileDescriptor(path: path, flags: O_RDWR | O_APPEND | O_CREAT)
            if !existed {
                try fd.setMode(0o600)
                try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
            }
        } catch { throw LogError.system(error) }
        return try withExclusiveAccess { session in
            if session.head.seq > 0 { return (false, session.head) }
            let heads = try session.append([LogCreation.record(logID: logID, actor: actor, at: clock.now())], expectedHead: 0)
            return (true, heads[0])
        }
    }

    // MARK: Reading

    /// The head a reader sees: the last complete line.
    ///
    /// - Throws: `LogError.damaged` if damage was recorded earlier, or if the log no longer
    ///   holds the acknowledged head intact (which is then recorded, so writers refuse).
    public func readHead() throws -> LogHead {
        let fd = try openForReading()
        return try readerTail(fd).head
    }

    public func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
        let fd = try openForReading()
        let tail = try readerTail(fd)
        try ChainReader.read(fd, path: path, from: seq, after: after, tail: tail, body)
    }

    /// The log as `verify` reads it after checking the chain: without refusing for damage
    /// recorded earlier, since a full verification is how a restored store is found whole.
    public var verifyingReader: some LineSource { VerifyingReader(log: self) }

    struct VerifyingReader: LineSource {
        let log: FileLog
        func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
            let fd = try log.openForReading()
            let tail = try TailInspection.inspect(fd, path: log.path)
            try ChainReader.read(fd, path: log.path, from: seq, after: after, tail: tail, body)
        }
    }

    /// The tail as a reader may use it: no recorded damage, and the acknowledged head intact.
    /// The record is read before the log: it is written after the log's fsync, so any log
    /// read afterwards holds at least what it names, unless acknowledged lines were lost.
    private func readerTail(_ fd: borrowing FileDescriptor) throws -> TailInspection {
        try refuseIfDamageRecorded()
        return try recordingDamage { () throws -> TailInspection in
            let record = try acknowledged?.read()
            let tail = try TailInspection.inspect(fd, path: path)
            if let record { try checkAcknowledged(record, in: fd, tail: tail) }
            return tail
        }
    }

    private func openForReading() throws(LogError) -> FileDescriptor {
        do { return try FileDescriptor(path: path, flags: O_RDONLY) } catch {
            if error.code == ENOENT { throw .notInitialized(path: path) }
            throw .system(error)
        }
    }

    // MARK: Acknowledged head

    /// Throws the damage recorded earlier, if any: a damaged store is read and written again
    /// only after it is restored (and `verify` passes) or after an explicit recovery.
    func refuseIfDamageRecorded() throws(LogError) {
        if let notice = damageMarker?.read() { throw .damageRecorded(notice) }
    }

    /// Runs `body`, and records any damage it finds in the store's damage marker.
    func recordingDamage<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as LogError {
            if case .damaged(let damage, let path) = error { damageMarker?.record(damage, file: path) }
            throw error
        }
    }

    /// The log id of the first line, checked once per file identity.
    func checkedLogID(_ fd: borrowing FileDescriptor) throws -> String {
        let identity = try fd.identity()
        if let cached = known.withLock({ $0 }), cached.device == identity.device, cached.inode == identity.inode {
            return cached.logID
        }
        let logID = try ChainReader.checkFirstLine(fd, path: path)
        known.withLock { $0 = (identity.device, identity.inode, logID) }
        return logID
    }

    /// Checks that the log still holds the acknowledged head: at least `record.end` intact
    /// bytes, and at `record.offset` the line with `record.seq` and `record.hash`.
    ///
    /// - Throws: `LogError.damaged` naming the acknowledged seq and what is missing or changed.
    /// - Complexity: O(1): one line is read and hashed.
    func checkAcknowledged<Source: RandomAccessBytes & ~Copyable>(
        _ record: AcknowledgedHead, in fd: borrowing Source, tail: TailInspection
    ) throws {
        let intactEnd = tail.intactEnd
        guard intactEnd >= record.end else {
            let missing = tail.head.seq + 1 == record.seq ? "seq \(record.seq) is missing"
                : tail.head.seq < record.seq ? "seq \(tail.head.seq + 1)…\(record.seq) are missing"
                : "the log is shorter than it was, so lines were removed or rewritten"
            let torn = tail.torn.map { "; what follows byte \($0.range.lowerBound) is not a complete, valid line (\($0.reason))" } ?? ""
            throw LogError.damaged(LogDamage(seq: min(tail.head.seq, record.seq - 1) + 1, offset: intactEnd, reason:
                "the log's intact lines end at byte \(intactEnd) (seq \(tail.head.seq)), but seq \(record.seq) was acknowledged up to byte \(record.end): \(missing)\(torn)"),
                path: path)
        }
        if tail.headOffset == record.offset, tail.head.seq == record.seq, tail.head.hash == record.hash { return }
        let line = try ChainReader.line(at: record.offset, in: fd, path: path, end: intactEnd)
        let intact = line.map { bytes in
            bytes.count == record.end - record.offset
                && bytes.withUnsafeBytes { raw in
                    TailInspection.verifiedHead(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 1)]))
                } == LogHead(seq: record.seq, hash: record.hash)
        } ?? false
        guard intact else {
            throw LogError.damaged(LogDamage(seq: record.seq, offset: record.offset, reason:
                "seq \(record.seq) was acknowledged with hash \(record.hash.hex), but the line at byte \(record.offset) no longer holds it: the log was changed or rewritten"),
                path: path)
        }
    }

    /// Verifies every line, compares the log with its acknowledged head, and checks
    /// `anchors`: what `tandem verify` runs. Damage is recorded in the damage marker.
    ///
    /// - Throws: `LogError.damaged` for a bad line, for acknowledged lines lost or changed,
    ///   or for a torn tail that reaches below the acknowledged head;
    ///   `LogError.anchorMismatch`; `LogError.notInitialized`.
    public func verify(anchors: [LogHead] = [], threads: Int? = nil) throws -> VerificationReport {
        try recordingDamage {
            let record = try acknowledged?.read()
            let report = try LogVerifier.verify(path: path, anchors: anchors, threads: threads)
            if let record {
                guard record.logID == report.logID else {
                    throw LogError.damaged(LogDamage(seq: 1, offset: 0, reason:
                        "the acknowledged head belongs to log \(record.logID), but this file is log \(report.logID): the log was replaced"),
                        path: path)
                }
                let fd = try openForReading()
                let headOffset = report.head.seq == 0 ? -1 : try ChainReader.offset(ofSeq: report.head.seq, in: fd, path: path, end: report.bytes)
                let tail = TailInspection(head: report.head, intactEnd: report.bytes,
                                          torn: report.tornTail.map { .init(range: $0.offset..<($0.offset + $0.length), reason: $0.reason) },
                                          headOffset: headOffset)
                try checkAcknowledged(record, in: fd, tail: tail)
            }
            return report
        }
    }

    // MARK: Writing

    public func withExclusiveAccess<R>(_ body: (inout any LogSession) throws -> R) throws -> R {
        try withLockedDescriptor { fd in
            let session = try FileLogSession(fd: FileDescriptor(borrowing: fd.rawValue, path: path), log: self)
            var existential: any LogSession = session
            return try body(&existential)
        }
    }

    /// Runs `body` with the log's descriptor under the exclusive lock, before any check of
    /// the log's content (recovery needs the lock on a log that fails those checks).
    func withLockedDescriptor<R>(_ body: (borrowing FileDescriptor) throws -> R) throws -> R {
        try openLog.withLock { cached throws -> R in
            // Reuse the descriptor while the path still names the same file.
            if cached == nil || !cached!.stillNames(path) {
                cached = nil
                do { cached = try OwnedDescriptor(path: path, flags: O_RDWR | O_APPEND) } catch let error as SystemError {
                    if error.code == ENOENT { throw LogError.notInitialized(path: path) }
                    throw LogError.system(error)
                }
            }
            let fd = FileDescriptor(borrowing: cached!.raw, path: path)
            try acquireLock(fd)
            defer { flock(fd.rawValue, LOCK_UN) }
            return try body(fd)
        }
    }

    private func acquireLock(_ fd: borrowing FileDescriptor) throws(LogError) {
        var waited = 0.0
        let step = 0.02
        while true {
            let locked: Bool
            do { locked = try fd.tryLockExclusive() } catch { throw .system(error) }
            // The lock is released when the descriptor closes, at the end of the session.
            if locked { return }
            guard waited < lockTimeout else { throw .lockTimeout(path: path, seconds: lockTimeout) }
            usleep(useconds_t(step * 1_000_000))
            waited += step
        }
    }

    /// Moves `range` of the file to the quarantine directory, byte for byte, then cuts the
    /// file. The copy is fsync'ed before the cut, so the bytes exist somewhere at all times.
    /// - Returns: the quarantine file's path.
    @discardableResult
    func quarantine(_ fd: borrowing FileDescriptor, range: Range<Int>, afterSeq: Int, reason: String,
                    announce: Bool = true) throws(LogError) -> String {
        do {
            let bytes = try fd.read(count: range.count, at: range.lowerBound)
            let stamp = clock.now().rfc3339.filter { $0.isNumber || $0 == "T" || $0 == "Z" }
            let base = (path.split(separator: "/").last.map(String.init) ?? "log") + ".after-seq-\(afterSeq).\(stamp)"
            let target = try FileSystem.keepInNewFile(bytes, in: quarantineDirectory, base: base)
            try fd.truncate(to: range.lowerBound)
            try fd.sync()
            if announce { warn("moved a torn tail of \(range.count) bytes after seq \(afterSeq) (byte offset \(range.lowerBound)) to \(target): \(reason); it was never acknowledged") }
            return target
        } catch {
            throw .system(error)
        }
    }
}

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
                throw LogError.damaged(LogDamage(seq: 1, offset: 0, reason:
                    "the acknowledged head belongs to log \(record.logID), but this file is log \(logID): the log was replaced"),
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
        let verified = try LogVerifier.verifyLines(fd, path: log.path, from: start.0, after: start.1, end: tail.intactEnd,
                                                   threads: LogVerifier.processorCount)
        precondition(verified == tail.head, "the verified chain must end at the inspected head")
        let offset = tail.headOffset >= 0 ? tail.headOffset : try ChainReader.offset(ofSeq: tail.head.seq, in: fd, path: log.path, end: tail.intactEnd)
        try log.acknowledged?.write(AcknowledgedHead(logID: logID, seq: tail.head.seq, offset: offset, end: tail.intactEnd, hash: tail.head.hash))
        return (tail.head, tail.intactEnd, logID)
    }

    func forEachLine(from seq: Int, after: LogHead?, _ body: (LogLine) throws -> Void) throws {
        let tail = TailInspection(head: head, intactEnd: size, torn: nil)
        try ChainReader.read(fd, path: log.path, from: seq, after: after, tail: tail, body)
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
        var written = 0
        var lastLineStart = size
        do {
            try pending.forEachBody { body in
                lastLineStart = size + written + chunk.count
                prev = LineEncoder.encode(body: body, seq: seq, prev: prev, batch: batch, into: &chunk)
                line(LogHead(seq: seq, hash: prev))
                seq += 1
                // Written a megabyte at a time: a batch of a million lines is never held
                // whole. Readers see none of it until its last line (the batch marker).
                if chunk.count >= 1 << 20 {
                    try fd.writeAll(chunk)
                    written += chunk.count
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            try fd.writeAll(chunk)
            written += chunk.count
            try fd.sync()
        } catch {
            // Roll back whatever reached the file: the append was not acknowledged.
            try? fd.truncate(to: size)
            try? fd.sync()
            if let error = error as? SystemError { throw LogError.system(error) }
            throw error
        }
        size += written
        head = LogHead(seq: seq - 1, hash: prev)
        if logID.isEmpty, pending.firstType == "LogCreated" { logID = try ChainReader.checkFirstLine(fd, path: log.path) }
        // Acknowledged only once the record is durable too: a crash before this point leaves
        // complete lines past the record, which the next writer verifies and adopts.
        try log.acknowledged?.write(AcknowledgedHead(logID: logID, seq: head.seq, offset: lastLineStart, end: size, hash: head.hash))
        return head
    }
}

/// What the end of a log file holds: the intact head, and a torn tail if any.
struct TailInspection {
    struct Torn {
        var range: Range<Int>
        var reason: String
    }

    /// The last acknowledged line.
    var head: LogHead
    /// Byte offset just after the head's newline.
    var intactEnd: Int
    /// Bytes after the intact end: a partial line, a line whose hash fails, or an
    /// unfinished batch.
    var torn: Torn?
    /// Where the head line starts, when the inspection saw it (-1 otherwise).
    var headOffset: Int = -1

    /// Reads the end of the file, O(1) in the log's length (except when walking back over
    /// an unfinished batch, which is bounded by the batch).
    static func inspect<Source: RandomAccessBytes & ~Copyable>(_ fd: borrowing Source, path: String) throws(LogError) -> TailInspection {
        let size: Int
        do { size = try fd.size() } catch { throw .system(error) }
        if size == 0 { return TailInspection(head: .empty, intactEnd: 0, torn: nil) }
        var window = min(size, 1 << 12)
        var bytes: [UInt8]
        // Grow the window until it holds the last two complete lines (or the whole file).
        while true {
            do { bytes = try fd.read(count: window, at: size - window) } catch { throw .system(error) }
            if countNewlines(bytes, atLeast: 3) || window == size { break }
            window = min(size, window * 4)
        }
        let base = size - window
        var cut = size
        var reason = ""
        // 1. A last line without its newline.
        if bytes.last != 0x0A {
            let lastNewline = bytes.lastIndex(of: 0x0A)
            cut = lastNewline.map { base + $0 + 1 } ?? 0
            reason = "the last line has no newline"
        }
        // 2. A last complete line whose hash does not verify (or that does not parse).
        var lines = completeLines(bytes, base: base, end: cut)
        if let last = lines.last, lineStatus(bytes, base: base, range: last) == nil {
            cut = last.lowerBound
            reason = reason.isEmpty ? "the last line's hash does not verify" : reason
            lines.removeLast()
            if let previous = lines.last, lineStatus(bytes, base: base, range: previous) == nil {
                // Two bad lines in a row is not a torn write.
                throw .damaged(LogDamage(seq: max(1, envelopeSeq(bytes, base: base, range: previous) ?? 1),
                                         offset: previous.lowerBound, reason: "hash does not verify"), path: path)
            }
        }
        guard let lastRange = lines.last, let last = lineStatus(bytes, base: base, range: lastRange) else {
            if cut == 0 {
                // Nothing intact would remain. Only an interrupted first write (a prefix of
                // a first line, without a newline) may go; anything else is not a log at all.
                let firstLine = Array("{\"seq\":1,\"at\":\"".utf8)
                let prefix = Array(bytes.prefix(firstLine.count))
                guard base == 0, !bytes.contains(0x0A), prefix == Array(firstLine.prefix(prefix.count)) else {
                    throw .damaged(LogDamage(seq: 1, offset: 0, reason: "this is not a Tandem log: the first line is not a valid LogCreated line"), path: path)
                }
                return TailInspection(head: .empty, intactEnd: 0, torn: Torn(range: 0..<size, reason: reason))
            }
            // The window held one line only and it was torn: find the line before it.
            return try inspectBefore(fd, path: path, end: cut, size: size, reason: reason)
        }
        // 3. An unfinished batch: lines of a batch whose last line never arrived.
        if let batch = last.batch, last.seq < batch.upperBound {
            let start = try ChainReader.offset(ofSeq: batch.lowerBound, in: fd, path: path, end: lastRange.upperBound + 1)
            let before = try headBefore(offset: start, fd: fd, path: path)
            return TailInspection(head: before, intactEnd: start, torn: Torn(
                range: start..<size, reason: "batch \(batch.lowerBound)…\(batch.upperBound) is unfinished (its last line is missing)"))
        }
        return TailInspection(head: LogHead(seq: last.seq, hash: last.hash), intactEnd: lastRange.upperBound + 1,
                              torn: cut < size ? Torn(range: cut..<size, reason: reason) : nil, headOffset: lastRange.lowerBound)
    }

    private static func inspectBefore<Source: RandomAccessBytes & ~Copyable>(_ fd: borrowing Source, path: String, end: Int, size: Int, reason: String) throws(LogError) -> TailInspection {
        let head = try headBefore(offset: end, fd: fd, path: path)
        return TailInspection(head: head, intactEnd: end, torn: Torn(range: end..<size, reason: reason))
    }

    /// The head of the prefix `0..<offset`, which must end with a newline.
    static func headBefore<Source: RandomAccessBytes & ~Copyable>(offset: Int, fd: borrowing Source, path: String) throws(LogError) -> LogHead {
        if offset == 0 { return .empty }
        var window = min(offset, 1 << 16)
        while true {
            let bytes: [UInt8]
            do { bytes = try fd.read(count: window, at: offset - window) } catch { throw .system(error) }
            let base = offset - window
            let lines = completeLines(bytes, base: base, end: offset)
            if let last = lines.last, lines.count >= 2 || window == offset {
                guard let status = lineStatus(bytes, base: base, range: last) else {
                    throw .damaged(LogDamage(seq: envelopeSeq(bytes, base: base, range: last) ?? 1, offset: last.lowerBound,
                                             reason: "hash does not verify"), path: path)
                }
                return LogHead(seq: status.seq, hash: status.hash)
            }
            window = min(offset, window * 4)
        }
    }

    /// Whether `bytes` holds at least `count` newlines (counted from the end).
    private static func countNewlines(_ bytes: [UInt8], atLeast count: Int) -> Bool {
        bytes.withUnsafeBytes { raw in
            var found = 0
            var i = raw.count - 1
            while i >= 0 {
                if raw[i] == 0x0A { found += 1; if found >= count { return true } }
                i -= 1
            }
            return false
        }
    }

    /// The last three complete lines (newline excluded) in `bytes[..<end-base]`, as absolute
    /// ranges; the window's first partial line is skipped unless it starts at offset 0.
    private static func completeLines(_ bytes: [UInt8], base: Int, end: Int) -> [Range<Int>] {
        bytes.withUnsafeBytes { raw in
            var newlines: [Int] = []
            var i = end - base - 1
            while i >= 0 && newlines.count < 4 {
                if raw[i] == 0x0A { newlines.append(i) }
                i -= 1
            }
            newlines.reverse()
            var result: [Range<Int>] = []
            var start: Int? = (newlines.count < 4 && base == 0) ? 0 : nil
            for n in newlines {
                if let s = start { result.append((base + s)..<(base + n)) }
                start = n + 1
            }
            return result
        }
    }

    private struct LineStatus {
        var seq: Int
        var hash: SHA256Digest
        var batch: ClosedRange<Int>?
    }

    /// The line's seq and hash if it parses and its hash verifies; else nil.
    static func verifiedHead(_ line: UnsafeRawBufferPointer) -> LogHead? {
        guard let envelope = try? LineParser.parse(line) else { return nil }
        let computed = SHA256.hash(UnsafeRawBufferPointer(rebasing: line[0..<envelope.hashedLength]))
        guard computed.matches(hexBytes: UnsafeRawBufferPointer(rebasing: line[envelope.hash])) else { return nil }
        return LogHead(seq: envelope.seq, hash: computed)
    }

    /// The line's seq, hash and batch if it parses and its hash verifies; else nil.
    private static func lineStatus(_ bytes: [UInt8], base: Int, range: Range<Int>) -> LineStatus? {
        bytes.withUnsafeBytes { raw in
            let line = UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)])
            guard let envelope = try? LineParser.parse(line) else { return nil }
            let computed = SHA256.hash(UnsafeRawBufferPointer(rebasing: line[0..<envelope.hashedLength]))
            guard computed.matches(hexBytes: UnsafeRawBufferPointer(rebasing: line[envelope.hash])) else { return nil }
            return LineStatus(seq: envelope.seq, hash: computed, batch: envelope.batch)
        }
    }

    private static func envelopeSeq(_ bytes: [UInt8], base: Int, range: Range<Int>) -> Int? {
        bytes.withUnsafeBytes { raw in
            ChainReader.leadingSeq(UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)]))
        }
    }
}

/// Streams lines from a log file in bounded memory, checking the chain's cheap invariants:
/// contiguous seqs and `prev` equal to the previous line's `hash`.
enum ChainReader {
    static let bufferSize = 1 << 20
    static let maximumLineLength = 64 << 20
    static let prevMarker = Array(",\"prev\":\"".utf8)
    static let hashMarker = Array("\",\"hash\":\"".utf8)

    /// Reads `{"seq":N,` at the start of a line.
    static func leadingSeq(_ line: UnsafeRawBufferPointer) -> Int? {
        guard line.count > 8, line[0] == UInt8(ascii: "{"), line[1] == UInt8(ascii: "\""), line[2] == UInt8(ascii: "s"),
              line[3] == UInt8(ascii: "e"), line[4] == UInt8(ascii: "q"), line[5] == UInt8(ascii: "\""),
              line[6] == UInt8(ascii: ":") else { return nil }
        var value = 0
        var i = 7
        while i < line.count, line[i] >= 48, line[i] <= 57, i < 26 {
            value = value * 10 + Int(line[i] - 48)
            i += 1
        }
        guard i > 7, i < line.count, line[i] == UInt8(ascii: ","), line[7] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// Checks the fixed-position suffix `,"prev":"…","hash":"…"}` and returns nil if it is
    /// malformed.
    static func suffixIsWellFormed(_ line: UnsafeRawBufferPointer) -> Bool {
        let n = line.count
        guard n >= 160 else { return false }
        return memcmp(line.baseAddress! + (n - 149), prevMarker, 9) == 0
            && memcmp(line.baseAddress! + (n - 76), hashMarker, 10) == 0
            && line[n - 2] == UInt8(ascii: "\"") && line[n - 1] == UInt8(ascii: "}")
    }

    /// The line starting at `offset`, newline included, however long; nil if no complete
    /// line starts there before `end`.
    static func line<Source: RandomAccessBytes & ~Copyable>(
        at offset: Int, in fd: borrowing Source, path: String, end: Int
    ) throws(LogError) -> [UInt8]? {
        guard offset < end else { return nil }
        var length = min(4096, end - offset)
        while true {
            let bytes: [UInt8]
            do { bytes = try fd.read(count: length, at: offset) } catch { throw .system(error) }
            if let newline = bytes.firstIndex(of: 0x0A) { return Array(bytes[...newline]) }
            if offset + length >= end || length >= maximumLineLength { return nil }
            length = min(end - offset, length * 4)
        }
    }

    /// Checks the `LogCreated` line and returns the log id.
    @discardableResult
    static func checkFirstLine<Source: RandomAccessBytes & ~Copyable>(_ fd: borrowing Source, path: String) throws(LogError) -> String {
        let bytes: [UInt8]
        do { bytes = try fd.read(count: 4096, at: 0) } catch { throw .system(error) }
        guard let newline = bytes.firstIndex(of: 0x0A) else {
            throw .damaged(LogDamage(seq: 1, offset: 0, reason: "the first line is longer than 4 KiB or has no newline"), path: path)
        }
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(LogError) -> String in
                let line = LogLine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<newline]), offset: 0, seq: 1)
                try LogCreation.checkFirstLine(line, path: path)
                return (try? line.entry())?.data["log"]?.stringValue ?? ""
            }
        }.get()
    }

    /// The byte offset of line `seq`, found by binary search over byte offsets: seqs rise
    /// with offsets, so O(log n) small reads and no index.
    static func offset<Source: RandomAccessBytes & ~Copyable>(ofSeq seq: Int, in fd: borrowing Source, path: String, end: Int) throws(LogError) -> Int {
        if seq <= 1 { return 0 }
        func notFound(_ at: Int) -> LogError {
            .damaged(LogDamage(seq: seq, offset: at, reason: "no line holds seq \(seq)"), path: path)
        }
        // Invariant: `low` is a line start, and line `seq` starts in low..<high.
        var low = 0, high = end
        while true {
            if high - low <= 1 << 16 {
                let bytes: [UInt8]
                do { bytes = try fd.read(count: min(end, high + 64) - low, at: low) } catch { throw .system(error) }
                var start = 0
                while start < high - low {
                    let found = bytes.withUnsafeBytes { raw in
                        leadingSeq(UnsafeRawBufferPointer(rebasing: raw[start..<min(raw.count, start + 32)]))
                    }
                    if found == seq { return low + start }
                    guard let newline = bytes[start...].firstIndex(of: 0x0A) else { break }
                    start = newline + 1
                }
                throw notFound(low)
            }
            let mid = low + (high - low) / 2
            // The first line start at or after `mid`.
            var probe = mid - 1
            var lineStart: Int? = nil
            while lineStart == nil && probe < high {
                let chunk: [UInt8]
                do { chunk = try fd.read(count: min(4096, end - probe), at: probe) } catch { throw .system(error) }
                if chunk.isEmpty { break }
                if let i = chunk.firstIndex(of: 0x0A) { lineStart = probe + i + 1 } else { probe += chunk.count }
            }
            guard let start = lineStart, start < high else {
                high = mid
                continue
            }
            let head: [UInt8]
            do { head = try fd.read(count: min(32, end - start), at: start) } catch { throw .system(error) }
            guard let found = head.withUnsafeBytes({ leadingSeq($0) }) else {
                throw .damaged(LogDamage(seq: seq, offset: start, reason: "a line does not start with {\"seq\":N,"), path: path)
            }
            if found == seq { return start }
            if found < seq { low = start } else { high = start }
        }
    }

    /// Streams lines `seq…tail.head.seq` to `body`.
    static func read<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String, from seq: Int, after: LogHead?, tail: TailInspection,
        _ body: (LogLine) throws -> Void
    ) throws {
        let head = tail.head.seq
        guard seq >= 1, seq <= head + 1 else { throw LogError.seqOutOfRange(requested: seq, head: head) }
        if seq == head + 1 { return }
        var offset = try offset(ofSeq: seq, in: fd, path: path, end: tail.intactEnd)
        var expected = seq
        var previousHash = [UInt8](repeating: 0, count: 64)
        var checkPrev = false
        if let after {
            precondition(after.seq == seq - 1, "`after` must be the line before `seq`")
            previousHash = Array(after.hash.hex.utf8)
            checkPrev = true
        } else if seq == 1 {
            previousHash = Array(SHA256Digest.zero.hex.utf8)
            checkPrev = true
        }
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0      // bytes in buffer
        var consumed = 0    // bytes of buffer already handed out
        var bufferOffset = offset  // file offset of buffer[0]
        let end = tail.intactEnd
        while offset < end {
            // Find the next newline in the buffer, refilling as needed.
            var newline: Int? = nil
            while true {
                if consumed < filled,
                   let p = memchr(buffer.baseAddress! + consumed, 0x0A, filled - consumed) {
                    newline = buffer.baseAddress!.distance(to: p)
                    break
                }
                // Move the unconsumed rest to the front and read more.
                let rest = filled - consumed
                if rest > 0 && consumed > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + consumed, rest) }
                bufferOffset += consumed
                consumed = 0
                filled = rest
                if filled == buffer.count {
                    guard buffer.count < maximumLineLength else {
                        throw LogError.damaged(LogDamage(seq: expected, offset: offset, reason: "a line is longer than 64 MiB"), path: path)
                    }
                    let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                    bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                    buffer.deallocate()
                    buffer = bigger
                }
                let want = min(buffer.count - filled, end - (bufferOffset + filled))
                guard want > 0 else { break }
                let n: Int
                do { n = try fd.read(into: buffer.baseAddress! + filled, count: want, at: bufferOffset + filled) }
                catch { throw LogError.system(error) }
                if n == 0 { break }
                filled += n
            }
            guard let newlineIndex = newline else {
                throw LogError.damaged(LogDamage(seq: expected, offset: offset, reason: "the log ends inside a line"), path: path)
            }
            let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[consumed..<newlineIndex])
            guard let found = leadingSeq(line), suffixIsWellFormed(line) else {
                throw LogError.damaged(LogDamage(seq: expected, offset: offset, reason: "the line is not a well-formed log line"), path: path)
            }
            guard found == expected else {
                throw LogError.damaged(LogDamage(seq: expected, offset: offset, reason: "seq is \(found), expected \(expected)"), path: path)
            }
            let count = line.count
            if checkPrev && memcmp(line.baseAddress! + (count - 140), previousHash, 64) != 0 {
                throw LogError.damaged(LogDamage(seq: expected, offset: offset, reason: "prev does not match the hash of seq \(expected - 1)"), path: path)
            }
            previousHash.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: line.baseAddress! + (count - 66), byteCount: 64) }
            checkPrev = true
            try body(LogLine(bytes: line, offset: offset, seq: expected))
            expected += 1
            let advance = newlineIndex + 1 - consumed
            consumed = newlineIndex + 1
            offset += advance
        }
    }
}
