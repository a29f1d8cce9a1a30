import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The last line a writer acknowledged: where it is, and what it hashed to.
///
/// Everything up to `end` was fsync'ed and reported as written, so it can never be a torn
/// tail. A log shorter than `end`, or whose line at `offset` no longer has `hash`, lost or
/// changed acknowledged events: that is damage, never something to quarantine.
public struct AcknowledgedHead: Equatable, Sendable {
    /// The log id of the `LogCreated` line, so that a record is never applied to another log.
    public var logID: String
    /// The acknowledged line's seq.
    public var seq: Int
    /// Byte offset of the line's first byte.
    public var offset: Int
    /// Byte offset just after the line's newline: the acknowledged length of the file.
    public var end: Int
    /// The line's hash.
    public var hash: SHA256Digest

    public init(logID: String, seq: Int, offset: Int, end: Int, hash: SHA256Digest) {
        self.logID = logID
        self.seq = seq
        self.offset = offset
        self.end = end
        self.hash = hash
    }

    /// The head as a `LogHead`.
    public var head: LogHead { LogHead(seq: seq, hash: hash) }

    /// The record's line: one JSON object padded with spaces to a fixed width, so that it is
    /// rewritten in place by one `pwrite` and never changes the file's size.
    static let recordWidth = 256

    var encoded: [UInt8] {
        let object: JSONValue = .object([
            "log": .string(logID), "seq": .int(Int64(seq)), "offset": .int(Int64(offset)),
            "end": .int(Int64(end)), "hash": .string(hash.hex),
        ])
        var bytes = Array(object.description.utf8)
        bytes += [UInt8](repeating: 0x20, count: max(0, Self.recordWidth - 1 - bytes.count)) + [0x0A]
        return bytes
    }

    init?(decoding bytes: [UInt8]) {
        guard let value = try? JSONScanner.parse(bytes.prefix { $0 != 0x0A }).objectValue,
            let log = value["log"]?.stringValue, let seq = value["seq"]?.intValue, seq >= 1,
            let offset = value["offset"]?.intValue, offset >= 0, let end = value["end"]?.intValue, end > offset,
            let hex = value["hash"]?.stringValue, let hash = SHA256Digest(hex: hex)
        else { return nil }
        self.init(logID: log, seq: Int(seq), offset: Int(offset), end: Int(end), hash: hash)
    }
}

/// The durable file that holds a log's `AcknowledgedHead` (`events.head` beside
/// `events.jsonl`). Unlike `cache/`, it is part of the store: a writer rewrites it and
/// fsyncs it after every append, and nothing moves it backwards except an explicit
/// recovery.
///
/// Failure modes: a record that does not parse is damage (`LogError.damaged`), since only
/// a writer under the lock ever writes it and it never changes size. A missing record is
/// not: a store created before records existed has none, and its first writer verifies
/// the whole chain and creates one.
final class AcknowledgedHeadFile: Sendable {
    let path: String
    /// The open descriptor, reused while the path names the same file.
    private let cachedDescriptor = Mutex<OwnedDescriptor?>(nil)

    init(path: String) { self.path = path }

    /// The record, or nil if there is none.
    func read() throws(LogError) -> AcknowledgedHead? {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            if error.code == ENOENT { return nil }
            throw .system(error)
        }
        guard let record = AcknowledgedHead(decoding: bytes) else {
            throw .damaged(
                LogDamage(seq: 0, offset: 0, reason: "the acknowledged-head record \(path) is unreadable"),
                path: path)
        }
        return record
    }

    /// Rewrites the record in place and fsyncs it before returning.
    func write(_ record: AcknowledgedHead) throws(LogError) {
        let bytes = record.encoded
        let outcome = cachedDescriptor.withLock { (cached: inout OwnedDescriptor?) -> Result<Void, SystemError> in
            Result { () throws(SystemError) in
                if cached == nil || !cached!.stillNames(path) {
                    cached = try OwnedDescriptor(path: path, flags: O_RDWR | O_CREAT)
                    try cached!.descriptor.setMode(0o600)
                }
                let fd = cached!.descriptor
                try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try fd.writeAll(raw, at: 0) } }
                    .get()
                if try fd.size() != bytes.count { try fd.truncate(to: bytes.count) }
                try fd.dataSync()
            }
        }
        do { try outcome.get() } catch { throw .system(error) }
    }
}

/// A descriptor that stays open across calls, with the identity it was opened on.
final class OwnedDescriptor: Sendable {
    let raw: Int32
    let device: UInt64
    let inode: UInt64

    init(path: String, flags: Int32) throws(SystemError) {
        let fd = try Syscall.open(path, flags: flags)
        let identity: (device: UInt64, inode: UInt64)
        do { identity = try FileDescriptor(borrowing: fd, path: path).identity() } catch {
            // The fstat error is the one to report; a failing close of a descriptor we only
            // opened for reading its identity loses nothing.
            Syscall.close(fd, path: path)
            throw error
        }
        raw = fd
        device = identity.device
        inode = identity.inode
    }

    deinit { Syscall.close(raw) }

    /// A borrowed view of the descriptor (closed by this owner, not by the view).
    var descriptor: FileDescriptor { FileDescriptor(borrowing: raw, path: "") }

    /// Whether `path` still names the file this descriptor has open.
    func stillNames(_ path: String) -> Bool {
        guard let now = FileSystem.identity(of: path) else { return false }
        return now.device == device && now.inode == inode
    }
}
