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
        lockTimeout: Double = 10, clock: any Clock = SystemClock(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
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
            let heads = try session.append(
                [LogCreation.record(logID: logID, actor: actor, at: clock.now())], expectedHead: 0)
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

    public func forEachLine(
        from seq: Int, after: LogHead?, near offset: Int, _ body: (LogLine) throws -> Void
    ) throws {
        let fd = try openForReading()
        let tail = try readerTail(fd)
        try ChainReader.read(fd, path: path, from: seq, after: after, tail: tail, near: offset, body)
    }

    /// The lines of `runs` only, with one open and one check of the tail for all of them
    /// (see `ChainReader.read(runs:)`).
    public func forEachLine(inRuns runs: [ClosedRange<Int>], _ body: (LogLine) throws -> Void) throws {
        guard !runs.isEmpty else { return }
        let fd = try openForReading()
        let tail = try readerTail(fd)
        try ChainReader.read(fd, path: path, runs: runs, tail: tail, body)
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
            let missing =
                tail.head.seq + 1 == record.seq
                ? "seq \(record.seq) is missing"
                : tail.head.seq < record.seq
                    ? "seq \(tail.head.seq + 1)…\(record.seq) are missing"
                    : "the log is shorter than it was, so lines were removed or rewritten"
            let torn =
                tail.torn.map {
                    "; what follows byte \($0.range.lowerBound) is not a complete, valid line (\($0.reason))"
                } ?? ""
            throw LogError.damaged(
                LogDamage(
                    seq: min(tail.head.seq, record.seq - 1) + 1, offset: intactEnd,
                    reason:
                        "the log's intact lines end at byte \(intactEnd) (seq \(tail.head.seq)), but seq \(record.seq) was acknowledged up to byte \(record.end): \(missing)\(torn)"
                ),
                path: path)
        }
        if tail.headOffset == record.offset, tail.head.seq == record.seq, tail.head.hash == record.hash { return }
        let line = try ChainReader.line(at: record.offset, in: fd, path: path, end: intactEnd)
        let intact =
            line.map { bytes in
                bytes.count == record.end - record.offset
                    && bytes.withUnsafeBytes { raw in
                        TailInspection.verifiedHead(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 1)]))
                    } == LogHead(seq: record.seq, hash: record.hash)
            } ?? false
        guard intact else {
            throw LogError.damaged(
                LogDamage(
                    seq: record.seq, offset: record.offset,
                    reason:
                        "seq \(record.seq) was acknowledged with hash \(record.hash.hex), but the line at byte \(record.offset) no longer holds it: the log was changed or rewritten"
                ),
                path: path)
        }
    }

    /// Verifies every line, compares the log with its acknowledged head, and checks
    /// `anchors`: what `tandem verify` runs. Damage is recorded in the damage marker.
    ///
    /// - Throws: `LogError.damaged` for a bad line, for acknowledged lines lost or changed,
    ///   or for a torn tail that reaches below the acknowledged head;
    ///   `LogError.anchorMismatch`; `LogError.notInitialized`.
    public func verify(
        anchors: [LogHead] = [], threads: Int? = nil, scan: LogVerifier.PieceScanner? = nil
    ) throws -> VerificationReport {
        try recordingDamage {
            let record = try acknowledged?.read()
            let report = try LogVerifier.verify(path: path, anchors: anchors, threads: threads, scan: scan)
            if let record {
                guard record.logID == report.logID else {
                    throw LogError.damaged(
                        LogDamage(
                            seq: 1, offset: 0,
                            reason:
                                "the acknowledged head belongs to log \(record.logID), but this file is log \(report.logID): the log was replaced"
                        ),
                        path: path)
                }
                let fd = try openForReading()
                let headOffset =
                    report.head.seq == 0
                    ? -1 : try ChainReader.offset(ofSeq: report.head.seq, in: fd, path: path, end: report.bytes)
                let tail = TailInspection(
                    head: report.head, intactEnd: report.bytes,
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
                do { cached = try OwnedDescriptor(path: path, flags: O_RDWR | O_APPEND) } catch let error as SystemError
                {
                    if error.code == ENOENT { throw LogError.notInitialized(path: path) }
                    throw LogError.system(error)
                }
            }
            let fd = FileDescriptor(borrowing: cached!.raw, path: path)
            try acquireLock(fd)
            defer {
                // If the lock cannot be released, close the descriptor, which releases it for
                // sure (flock locks belong to the open file); the next call opens it again.
                do { try fd.unlock() } catch { cached = nil }
            }
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
    func quarantine(
        _ fd: borrowing FileDescriptor, range: Range<Int>, afterSeq: Int, reason: String,
        announce: Bool = true
    ) throws(LogError) -> String {
        do {
            let bytes = try fd.read(count: range.count, at: range.lowerBound)
            let stamp = clock.now().rfc3339.filter { $0.isNumber || $0 == "T" || $0 == "Z" }
            let base = (path.split(separator: "/").last.map(String.init) ?? "log") + ".after-seq-\(afterSeq).\(stamp)"
            let target = try FileSystem.keepInNewFile(bytes, in: quarantineDirectory, base: base)
            try fd.truncate(to: range.lowerBound)
            try fd.sync()
            if announce {
                warn(
                    "moved a torn tail of \(range.count) bytes after seq \(afterSeq) (byte offset \(range.lowerBound)) to \(target): \(reason); it was never acknowledged"
                )
            }
            return target
        } catch {
            throw .system(error)
        }
    }
}
