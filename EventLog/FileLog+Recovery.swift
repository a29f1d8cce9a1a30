/// What an explicit recovery did to a log.
public struct LogRecovery: Equatable, Sendable {
    /// The acknowledged head before the recovery (nil if there was no readable record).
    public var previous: AcknowledgedHead?
    /// The damage that made the recovery necessary, if a line was bad; nil when the chain
    /// itself is intact (lines cut at the end, or a rewritten chain).
    public var damage: LogDamage?
    /// The last line kept: the end of the longest intact prefix.
    public var kept: LogHead
    /// The bytes moved to quarantine (empty if none).
    public var cut: Range<Int>
    /// Where they went, if anywhere.
    public var quarantined: String?
    /// The `LogRecovered` line that records all this in the log itself.
    public var recorded: LogHead
}

extension FileLog {
    /// Runs `body` holding this log's writer lock, without reading or checking the log: for
    /// work that must be serialised with writers while the log itself may be damaged (the
    /// recovery of the access ledger, which writes the vault under the programme log's lock).
    public func withWriterLock<R>(_ body: () throws -> R) throws -> R {
        try withLockedDescriptor { _ in try body() }
    }

    /// Accepts the loss of what cannot be vouched for, explicitly and on the record.
    ///
    /// Under the writer lock, and whatever damage was recorded: keeps the longest prefix
    /// whose every line verifies, moves everything after it to quarantine byte for byte,
    /// makes that prefix's head the acknowledged head (the only way the record ever moves
    /// backwards), clears the damage marker, and appends a `LogRecovered` line. Its data
    /// names the previous acknowledged head, the damage, the head kept and the bytes cut,
    /// plus what `extra` returns (the caller's reference to the reason, kept outside the
    /// log); `extra` runs under the lock, after the cut, so its own writes are serialised
    /// with every other writer's.
    ///
    /// - Throws: `LogError.damaged` if not even the `LogCreated` line is intact (nothing to
    ///   keep: restore from a backup); `LogError.system` for I/O.
    public func recover(actor: String, at: Timestamp, extra: () throws -> JSONObject) throws -> LogRecovery {
        try withLockedDescriptor { fd in
            let previous = try? acknowledged?.read()
            var damage: LogDamage? = nil
            var keptEnd: Int
            var kept: LogHead
            do {
                let report = try LogVerifier.verify(fd, path: path, anchors: [], threads: LogVerifier.processorCount)
                (keptEnd, kept) = (report.bytes, report.head)
            } catch LogError.damaged(let found, _) {
                damage = found
                keptEnd = found.offset
                kept = try TailInspection.headBefore(offset: found.offset, fd: fd, path: path)
            }
            guard kept.seq >= 1 else {
                throw LogError.damaged(
                    LogDamage(
                        seq: 1, offset: 0, reason: "not even the first line is intact, so there is nothing to keep"),
                    path: path)
            }
            let size = try fd.size()
            var quarantined: String? = nil
            if keptEnd < size {
                quarantined = try quarantine(
                    fd, range: keptEnd..<size, afterSeq: kept.seq, reason: "cut by recovery", announce: false)
            }
            let logID = try ChainReader.checkFirstLine(fd, path: path)
            let offset = try ChainReader.offset(ofSeq: kept.seq, in: fd, path: path, end: keptEnd)
            try acknowledged?.write(
                AcknowledgedHead(logID: logID, seq: kept.seq, offset: offset, end: keptEnd, hash: kept.hash))
            try damageMarker?.clear()

            var data: JSONObject = [
                "keptSeq": .int(Int64(kept.seq)), "keptHash": .string(kept.hash.hex),
                "cutBytes": .int(Int64(size - keptEnd)),
                "previousSeq": previous.map { .int(Int64($0.seq)) } ?? .null,
                "previousHash": previous.map { .string($0.hash.hex) } ?? .null,
                "damagedSeq": damage.map { .int(Int64($0.seq)) } ?? .null,
            ]
            for (key, value) in try extra() { data[key] = value }
            let session = try FileLogSession(fd: FileDescriptor(borrowing: fd.rawValue, path: path), log: self)
            let recorded = try session.append(
                [LogRecord(type: "LogRecovered", actor: actor, at: at, data: data)], expectedHead: kept.seq)
            return LogRecovery(
                previous: previous, damage: damage, kept: kept, cut: keptEnd..<size, quarantined: quarantined,
                recorded: recorded[0])
        }
    }
}
