#if canImport(Glibc)
    import Glibc
#endif

/// The records a batch has decided but not yet appended, in the order they will be
/// appended, each kept as its encoded body (`LineEncoder.encodeBody`): no allocation per
/// record, and the seqs, `prev` and hashes are added only when the batch is written.
///
/// Past `memoryLimit` bytes the bodies go to a spill file (in a directory the caller names,
/// normally the store's disposable `cache/`), so that a batch of a million commands is
/// decided in bounded memory. The file holds what the log will hold, and no personal data:
/// that goes to the vault. It is removed when the value goes away.
///
/// Failure modes: `SystemError` if the spill file cannot be written or read back;
/// `LogError.invalidRecord` for a record the format cannot hold (checked on `append`).
public final class PendingRecords {
    /// How many records are pending.
    public private(set) var count = 0
    /// Bytes of bodies held in memory before spilling.
    public let memoryLimit: Int
    private let spillDirectory: String?
    /// Bodies, each after its length as 4 little-endian bytes.
    private var buffer: [UInt8] = []
    private var spillPath: String?
    private var spill: Int32 = -1
    private var spilled = 0
    /// The last record's `LineEncoder.encodeBodyStart`, and what it was made of: the next
    /// record of the same time, actor and type starts with the same bytes.
    private var start: (at: Timestamp, actor: String, type: String, bytes: [UInt8])?

    /// - Parameters:
    ///   - spillDirectory: where to spill past `memoryLimit`; nil keeps everything in memory.
    public init(spillDirectory: String? = nil, memoryLimit: Int = 4 << 20) {
        self.spillDirectory = spillDirectory
        self.memoryLimit = memoryLimit
        // Room for the limit and the record that crosses it: the buffer never doubles past it.
        if spillDirectory != nil { buffer.reserveCapacity(memoryLimit + 1 << 16) }
    }

    deinit {
        if spill >= 0 { Syscall.close(spill, path: spillPath ?? "") }
        // A scratch file left behind (the directory went away, say) holds no acknowledged
        // data; the next batch truncates it. Nothing to report from a deinit.
        if let spillPath { try? Syscall.unlink(spillPath) }
    }

    /// Adds a record after checking that the format can hold it.
    public func append(_ record: LogRecord) throws {
        try append(type: record.type, actor: record.actor, at: record.at, extras: record.extras) {
            $0.write(record.data)
        }
    }

    /// Adds the record of these parts whose `data` object `writeData` writes (see
    /// `LineEncoder.encodeBody(type:actor:at:extras:into:writeData:)`), after checking that
    /// the format can hold it. `writeData` must write one JSON object.
    public func append(
        type: String, actor: String, at: Timestamp, extras: JSONObject = JSONObject(),
        writeData: (inout JSONWriter) -> Void
    ) throws {
        try LogRecord.validate(type: type, actor: actor, extras: extras)
        if count == 0 { firstType = type }
        let lengthAt = buffer.count
        buffer += [0, 0, 0, 0]
        if let start, start.at == at, start.actor == actor, start.type == type {
            buffer += start.bytes
        } else {
            var bytes: [UInt8] = []
            LineEncoder.encodeBodyStart(type: type, actor: actor, at: at, into: &bytes)
            buffer += bytes
            start = (at, actor, type, bytes)
        }
        LineEncoder.encodeBodyRest(extras: extras, into: &buffer, writeData: writeData)
        let length = UInt32(buffer.count - lengthAt - 4)
        for i in 0..<4 { buffer[lengthAt + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        count += 1
        if buffer.count >= memoryLimit, spillDirectory != nil { try flush() }
    }

    /// The type of the first record (a log's first line must be `LogCreated`).
    public private(set) var firstType: String?

    private func flush() throws {
        guard let spillDirectory, !buffer.isEmpty else { return }
        if spill < 0 {
            try FileSystem.makeDirectory(spillDirectory)
            let path = spillDirectory + "/batch.pending-\(getpid())"
            spill = try Syscall.open(path, flags: O_RDWR | O_CREAT | O_TRUNC)
            spillPath = path
        }
        let fd = FileDescriptor(borrowing: spill, path: spillPath!)
        try buffer.withUnsafeBytes { raw in Result { () throws(SystemError) in try fd.writeAll(raw, at: spilled) } }
            .get()
        spilled += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Streams every body in order.
    package func forEachBody(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if spill >= 0 {
            let fd = FileDescriptor(borrowing: spill, path: spillPath!)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var carried = 0
            var offset = 0
            while offset < spilled {
                let n = try chunk.withUnsafeMutableBytes { raw in
                    try fd.read(
                        into: raw.baseAddress! + carried, count: min(raw.count - carried, spilled - offset), at: offset)
                }
                guard n > 0 else { throw SystemError("read", path: spillPath!, code: EIO) }
                offset += n
                let filled = carried + n
                let used = try Self.walk(chunk, upTo: filled, body)
                carried = filled - used
                if carried > 0 {
                    chunk.withUnsafeMutableBytes { raw in
                        raw.baseAddress!.copyMemory(from: raw.baseAddress! + used, byteCount: carried)
                    }
                    // A body larger than the chunk: grow until it fits.
                    if carried == chunk.count { chunk += [UInt8](repeating: 0, count: chunk.count) }
                }
            }
        }
        _ = try Self.walk(buffer, upTo: buffer.count, body)
    }

    /// Hands out the complete length-prefixed bodies in `bytes[..<end]`; returns the bytes used.
    private static func walk(
        _ bytes: [UInt8], upTo end: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        try bytes.withUnsafeBytes { raw in
            var at = 0
            while at + 4 <= end {
                let length = Int(raw[at]) | Int(raw[at + 1]) << 8 | Int(raw[at + 2]) << 16 | Int(raw[at + 3]) << 24
                guard at + 4 + length <= end else { break }
                try body(UnsafeRawBufferPointer(rebasing: raw[(at + 4)..<(at + 4 + length)]))
                at += 4 + length
            }
            return at
        }
    }

    /// The pending records decoded back (for a rule that must re-read what the batch decided
    /// so far: a void's re-check of the history).
    public func records() throws -> [LogRecord] {
        var out: [LogRecord] = []
        try forEachBody { body in
            var bytes: [UInt8] = [UInt8(ascii: "{")]
            bytes += body
            bytes.append(UInt8(ascii: "}"))
            guard var object = try JSONScanner.parse(bytes).objectValue, let type = object["type"]?.stringValue,
                let actor = object["actor"]?.stringValue, let atText = object["at"]?.stringValue,
                let at = Timestamp(rfc3339: atText), let data = object["data"]?.objectValue
            else { throw LogError.invalidRecord("a pending record does not read back") }
            for key in ["type", "actor", "at", "data"] { object[key] = nil }
            out.append(LogRecord(type: type, actor: actor, at: at, data: data, extras: object))
        }
        return out
    }
}
