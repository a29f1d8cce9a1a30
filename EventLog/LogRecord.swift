/// The version of the line format this build writes and reads.
public let logFormatVersion = 1

/// The position of a log's last line: its seq and hash. `seq` 0 means an empty log.
public struct LogHead: Hashable, Sendable, CustomStringConvertible {
    /// The seq of the last line (0 for an empty log).
    public var seq: Int
    /// The hash of the last line (`SHA256Digest.zero` for an empty log).
    public var hash: SHA256Digest

    public init(seq: Int, hash: SHA256Digest) {
        self.seq = seq
        self.hash = hash
    }

    /// The head of a log with no lines.
    public static let empty = LogHead(seq: 0, hash: .zero)

    /// `SEQ:HASH`, the anchor form.
    public var description: String { "\(seq):\(hash.hex)" }
}

/// One record to append: the parts of a line the caller chooses. The log adds `seq`,
/// `prev` and `hash`.
public struct LogRecord: Sendable, Equatable {
    /// The record's type, e.g. `SessionHeld`. Never empty.
    public var type: String
    /// Who recorded it. Never empty.
    public var actor: String
    /// When it was recorded.
    public var at: Timestamp
    /// The payload, an object.
    public var data: JSONObject
    /// Optional envelope keys that stand between `data` and `prev`, e.g. `onBehalfOf` or
    /// `key`, in this order.
    public var extras: JSONObject

    public init(type: String, actor: String, at: Timestamp, data: JSONObject, extras: JSONObject = JSONObject()) {
        self.type = type
        self.actor = actor
        self.at = at
        self.data = data
        self.extras = extras
    }

    /// Keys the envelope itself uses; `extras` may not use them.
    public static let reservedKeys: Set<String> = ["seq", "at", "actor", "type", "data", "prev", "hash", "batch"]

    /// Whether `key` is one of `reservedKeys`, without hashing it (the line parser asks for
    /// every extra key of every line).
    @inline(__always)
    static func isReserved(_ key: String) -> Bool {
        switch key {
        case "seq", "at", "actor", "type", "data", "prev", "hash", "batch": return true
        default: return false
        }
    }

    /// Checks what the line format requires of a record.
    /// - Throws: `LogError.invalidRecord` naming the offending part.
    public func validate() throws(LogError) {
        try Self.validate(type: type, actor: actor, extras: extras)
    }

    /// `validate()` of a record with these parts (its data is any object).
    static func validate(type: String, actor: String, extras: JSONObject) throws(LogError) {
        if type.isEmpty { throw .invalidRecord("a record's type must not be empty") }
        if actor.isEmpty { throw .invalidRecord("a record's actor must not be empty") }
        for key in extras.keys {
            if Self.reservedKeys.contains(key) { throw .invalidRecord("the envelope key '\(key)' is reserved") }
            guard let first = key.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
                key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) })
            else { throw .invalidRecord("the envelope key '\(key)' must be a lower camel-case word") }
        }
    }
}

/// Writes log lines byte for byte as FORMAT.md specifies.
public enum LineEncoder {
    /// Appends one complete line, newline included, and returns its hash.
    ///
    /// - Parameters:
    ///   - batch: for a line of a multi-line batch, the seqs of the batch's first and last
    ///     lines; readers and recovery use it to keep batches all or nothing.
    @discardableResult
    public static func encode(
        _ record: LogRecord, seq: Int, prev: SHA256Digest, batch: ClosedRange<Int>? = nil,
        into out: inout [UInt8]
    ) -> SHA256Digest {
        var body: [UInt8] = []
        encodeBody(record, into: &body)
        return body.withUnsafeBytes { encode(body: $0, seq: seq, prev: prev, batch: batch, into: &out) }
    }

    /// Appends the part of a line that depends on the record alone, from `"at"` to the last
    /// extra: what a batch keeps of each record until it knows the seqs.
    public static func encodeBody(_ record: LogRecord, into out: inout [UInt8]) {
        encodeBody(
            type: record.type, actor: record.actor, at: record.at, extras: record.extras, into: &out
        ) { $0.write(record.data) }
    }

    /// `encodeBody` of a record whose `data` object `writeData` writes: the bytes a
    /// `LogRecord` holding that object would give, without making the object.
    public static func encodeBody(
        type: String, actor: String, at: Timestamp, extras: JSONObject, into out: inout [UInt8],
        writeData: (inout JSONWriter) -> Void
    ) {
        encodeBodyStart(type: type, actor: actor, at: at, into: &out)
        encodeBodyRest(extras: extras, into: &out, writeData: writeData)
    }

    /// The start of a body, up to its data: `"at":…,"actor":…,"type":…,"data":`. The
    /// records of a batch mostly share it (one time, one actor, a few types).
    public static func encodeBodyStart(type: String, actor: String, at: Timestamp, into out: inout [UInt8]) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &out)
        writer.writeRaw("\"at\":\"")
        at.writeRFC3339(into: &writer.bytes)
        writer.writeRaw("\",\"actor\":")
        writer.write(actor)
        writer.writeRaw(",\"type\":")
        writer.write(type)
        writer.writeRaw(",\"data\":")
        swap(&writer.bytes, &out)
    }

    /// The rest of a body after `encodeBodyStart`: the data object and the extras.
    public static func encodeBodyRest(
        extras: JSONObject, into out: inout [UInt8], writeData: (inout JSONWriter) -> Void
    ) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &out)
        writeData(&writer)
        for (key, value) in extras.members {
            writer.writeRaw(",")
            writer.write(key)
            writer.writeRaw(":")
            writer.write(value)
        }
        swap(&writer.bytes, &out)
    }

    /// Appends one complete line around a body from `encodeBody`, and returns its hash.
    @discardableResult
    package static func encode(
        body: UnsafeRawBufferPointer, seq: Int, prev: SHA256Digest, batch: ClosedRange<Int>? = nil,
        into out: inout [UInt8]
    ) -> SHA256Digest {
        let start = out.count
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &out)
        writer.writeRaw("{\"seq\":")
        writer.write(seq)
        writer.writeRaw(",")
        writer.writeRaw(body)
        if let batch {
            writer.writeRaw(",\"batch\":[")
            writer.write(batch.lowerBound)
            writer.writeRaw(",")
            writer.write(batch.upperBound)
            writer.writeRaw("]")
        }
        writer.writeRaw(",\"prev\":\"")
        prev.writeHex(into: &writer.bytes)
        writer.writeRaw("\"")
        let hash = writer.bytes.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        writer.writeRaw(",\"hash\":\"")
        hash.writeHex(into: &writer.bytes)
        writer.writeRaw("\"}\n")
        swap(&writer.bytes, &out)
        return hash
    }
}

/// A structural defect of one line, found by `LineParser`.
public struct LineDefect: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset of the problem within the line.
    public var offset: Int
    /// What is wrong.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { reason }
}

/// The envelope of one line, as byte ranges into the line (no copies).
public struct LineEnvelope: Sendable {
    /// The line's seq.
    public var seq: Int
    /// `at`'s content, between its quotes.
    public var at: Range<Int>
    /// `actor`'s string content and whether it holds escapes.
    public var actor: Range<Int>, actorEscaped: Bool
    /// `type`'s string content and whether it holds escapes.
    public var type: Range<Int>, typeEscaped: Bool
    /// The `data` object, braces included.
    public var data: Range<Int>
    /// Optional keys between `data` and `prev`: key content and value token ranges.
    public var extras: [(key: Range<Int>, value: Range<Int>)]
    /// The `batch` marker, if the line belongs to a multi-line batch.
    public var batch: ClosedRange<Int>?
    /// The 64 hex digits of `prev` and `hash`.
    public var prev: Range<Int>, hash: Range<Int>
    /// The number of bytes the hash covers: up to, not including, `,"hash":`.
    public var hashedLength: Int

    /// Where `type`, `data` and the optional keys stand.
    public var parts: LineParts {
        LineParts(type: type, data: data, extras: data.upperBound..<(prev.lowerBound - Self.prevKey))
    }

    /// The bytes of `,"prev":"` before `prev`'s digits.
    private static let prevKey = 9
}

/// Parses a line's envelope strictly: keys in the contract's order, compact separators,
/// and a fully validated JSON document (UTF-8 included).
public enum LineParser {
    /// Parses `line`, which excludes its newline.
    /// - Throws: `LineDefect` naming the first problem and its byte offset in the line.
    package static func parse(_ line: UnsafeRawBufferPointer) throws(LineDefect) -> LineEnvelope {
        var s = JSONScanner(line)
        func defect(_ reason: String, _ at: Int? = nil) -> LineDefect {
            LineDefect(offset: at ?? s.position, reason: reason)
        }
        do {
            guard s.consume("{\"seq\":") else { throw defect("the line does not start with {\"seq\":") }
            let seqStart = s.position
            guard let first = s.peek(), first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else {
                throw defect("seq is not a positive integer")
            }
            let seq = try s.parseInt()
            guard seq > 0 else { throw defect("seq is not a positive integer", seqStart) }
            guard s.consume(",\"at\":") else { throw defect("expected \"at\" after seq") }
            let (at, atEscaped) = try s.scanString()
            guard !atEscaped, Timestamp(rfc3339: s.bytes(at)) != nil else {
                throw defect("at is not an RFC 3339 UTC time ending in Z", at.lowerBound)
            }
            guard s.consume(",\"actor\":") else { throw defect("expected \"actor\" after at") }
            let (actor, actorEscaped) = try s.scanString()
            guard !actor.isEmpty else { throw defect("actor is empty", actor.lowerBound) }
            guard s.consume(",\"type\":") else { throw defect("expected \"type\" after actor") }
            let (type, typeEscaped) = try s.scanString()
            guard !type.isEmpty else { throw defect("type is empty", type.lowerBound) }
            guard s.consume(",\"data\":") else { throw defect("expected \"data\" after type") }
            let dataStart = s.position
            guard s.peek() == UInt8(ascii: "{") else { throw defect("data is not an object") }
            try s.skipValue()
            let data = dataStart..<s.position
            var extras: [(key: Range<Int>, value: Range<Int>)] = []
            var batch: ClosedRange<Int>?
            // Extra keys are few (a batch marker, an on-behalf-of): a list searched in turn
            // costs less than hashing each name into a set. The batch marker, on most lines
            // of a large log, is told by its bytes: no string and no list for it.
            var seen: [String] = []
            while true {
                guard s.consume(",") else { throw defect("expected \",\" after data") }
                let keyStart = s.position
                let (key, keyEscaped) = try s.scanString()
                guard s.consume(":") else { throw defect("expected ':' after a key") }
                if s.keyEquals(key, "prev") && !keyEscaped { break }
                let isBatch: Bool
                if !keyEscaped && s.keyEquals(key, "batch") {
                    isBatch = true
                } else {
                    let name = s.decodeString(key, escaped: keyEscaped)
                    guard name == "batch" || !LogRecord.isReserved(name) else {
                        throw defect("key \"\(name)\" is out of place", keyStart)
                    }
                    guard !seen.contains(name) else { throw defect("duplicate key \"\(name)\"", keyStart) }
                    isBatch = name == "batch"
                    if !isBatch { seen.append(name) }
                }
                if isBatch && batch != nil { throw defect("duplicate key \"batch\"", keyStart) }
                let valueStart = s.position
                if isBatch {
                    let bounds = try Self.batchBounds(&s)
                    guard let bounds, bounds.first >= 1, bounds.first <= Int64(seq), Int64(seq) <= bounds.last else {
                        throw defect("batch must be [first, last] around the line's seq", valueStart)
                    }
                    batch = Int(bounds.first)...Int(bounds.last)
                } else {
                    try s.skipValue()
                    extras.append((key, valueStart..<s.position))
                }
            }
            let prevStart = s.position
            guard let prev = try Self.digest(&s) else { throw defect("prev is not 64 lowercase hex digits", prevStart) }
            let hashedLength = s.position
            guard s.consume(",\"hash\":") else { throw defect("expected \"hash\" after prev") }
            let hashStart = s.position
            guard let hash = try Self.digest(&s) else { throw defect("hash is not 64 lowercase hex digits", hashStart) }
            guard s.consume("}") else { throw defect("expected '}' after hash") }
            guard s.isAtEnd else { throw defect("unexpected bytes after the closing brace") }
            return LineEnvelope(
                seq: Int(seq), at: at, actor: actor, actorEscaped: actorEscaped, type: type, typeEscaped: typeEscaped,
                data: data, extras: extras, batch: batch, prev: prev, hash: hash, hashedLength: hashedLength)
        } catch let error as JSONSyntaxError {
            throw LineDefect(offset: error.offset, reason: "malformed JSON: \(error.reason)")
        } catch let error as LineDefect {
            throw error
        } catch {
            throw LineDefect(offset: s.position, reason: "\(error)")
        }
    }

    /// The content of a string of 64 lowercase hex digits (`prev`, `hash`), or nil for
    /// another string. The digits are checked eight at a time where they stand, with no scan
    /// for the closing quote: a digit is never a quote, a backslash or a control byte.
    /// - Throws: `JSONSyntaxError` if the value is not a valid string at all.
    @inline(__always)
    private static func digest(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Range<Int>? {
        let start = s.position
        if s.end - start >= 66, s.base[start] == UInt8(ascii: "\""), s.base[start + 65] == UInt8(ascii: "\""),
            SHA256Digest.isHex(s.bytes((start + 1)..<(start + 65)))
        {
            s.position = start + 66
            return (start + 1)..<(start + 65)
        }
        let (content, escaped) = try s.scanString()
        guard !escaped, content.count == 64, SHA256Digest.isHex(s.bytes(content)) else { return nil }
        return content
    }

    /// A batch marker's two numbers, or nil when the array holds another count of them.
    /// `[first,last]` as written is read straight; any other spelling through the general
    /// array reader, which validates it the same way.
    /// - Throws: `JSONSyntaxError` if the value is not an array of integers.
    private static func batchBounds(_ s: inout JSONScanner) throws(JSONSyntaxError) -> (first: Int64, last: Int64)? {
        let start = s.position
        if s.consume("["), let first = try? s.parseInt(), s.consume(","), let last = try? s.parseInt(), s.consume("]") {
            return (first, last)
        }
        s.position = start
        var bounds: [Int64] = []
        try s.forEachElement { (inner: inout JSONScanner) throws(JSONSyntaxError) in
            bounds.append(try inner.parseInt())
        }
        return bounds.count == 2 ? (bounds[0], bounds[1]) : nil
    }
}
