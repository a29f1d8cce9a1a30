/// A parsed log line with owned values: convenient where speed does not matter
/// (audits, tests, the in-memory log).
public struct LogEntry: Sendable, Equatable {
    public var seq: Int
    public var at: Timestamp
    public var actor: String
    public var type: String
    public var data: JSONObject
    /// Optional keys between `data` and `prev`, except `batch`.
    public var extras: JSONObject
    public var batch: ClosedRange<Int>?
    public var prev: SHA256Digest
    public var hash: SHA256Digest

    /// Parses a line (without its newline) strictly; does not check the hash.
    package init(line: UnsafeRawBufferPointer) throws(LineDefect) {
        let e = try LineParser.parse(line)
        var s = JSONScanner(line)
        seq = e.seq
        at = Timestamp(rfc3339: s.bytes(e.at))!
        actor = s.decodeString(e.actor, escaped: e.actorEscaped)
        type = s.decodeString(e.type, escaped: e.typeEscaped)
        s.position = e.data.lowerBound
        do {
            data = try s.parseValue().objectValue ?? JSONObject()
            var extras = JSONObject()
            for (key, value) in e.extras {
                let name = s.decodeString(key, escaped: true)
                s.position = value.lowerBound
                extras[name] = try s.parseValue()
            }
            self.extras = extras
        } catch {
            throw LineDefect(offset: error.offset, reason: "malformed JSON: \(error.reason)")
        }
        batch = e.batch
        prev = SHA256Digest(hexBytes: s.bytes(e.prev))!
        hash = SHA256Digest(hexBytes: s.bytes(e.hash))!
    }

    /// Parses a line held in bytes.
    public init(line: some Collection<UInt8>) throws(LineDefect) {
        var bytes = Array(line)
        if bytes.last == 0x0A { bytes.removeLast() }
        self = try bytes.withUnsafeBytes { raw in Result { () throws(LineDefect) in try LogEntry(line: raw) } }.get()
    }

    /// The record this line was appended from.
    public var record: LogRecord { LogRecord(type: type, actor: actor, at: at, data: data, extras: extras) }
}
