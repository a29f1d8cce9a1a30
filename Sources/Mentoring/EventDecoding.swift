import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// A line whose JSON is fine but whose event is not: a missing field, an invalid id or
/// date. Only another tool could have written it; reported like damage (exit 65).
public struct EventDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var seq: Int
    public var type: String
    public var reason: String

    public init(seq: Int, type: String, reason: String) {
        self.seq = seq
        self.type = type
        self.reason = reason
    }

    public var description: String {
        "seq \(seq) (\(type)) cannot be read: \(reason). The log was written by another tool or version"
    }
}

extension JSONScanner {
    /// A string value (null counts as absent).
    mutating func readOptionalString() throws(JSONSyntaxError) -> String? {
        if consume("null") { return nil }
        return try parseString()
    }
}

/// Decodes log lines straight from their bytes, with the validating scanner: one pass, no
/// intermediate JSON tree. Types it does not know are kept as `.unknown` with their data.
public struct EventDecoder {
    /// The last actor read, and its bytes: a log has few actors and long runs of the same
    /// one, so one string serves many events instead of one allocation each.
    private var lastActor = ""
    private var lastActorBytes: [UInt8]?

    /// The last `at` read, and its twenty bytes (`YYYY-MM-DDTHH:MM:SSZ`): the events of one
    /// command share their time, so most lines need no parse.
    private var lastAt: (bytes: (UInt64, UInt64, UInt32), time: Timestamp)?

    /// A decoder for a stream of lines.
    public init() {}

    /// What stands between the prev and the hash digits.
    private static let hashKey: StaticString = "\",\"hash\":\""

    /// Decodes one line (without its newline) whose chain links the reader has checked.
    /// - Throws: `EventDecodingError` naming the seq, the type and what is wrong.
    package static func decode(_ line: UnsafeRawBufferPointer, seq: Int) throws(EventDecodingError) -> RecordedEvent {
        var decoder = EventDecoder()
        return try decoder.decode(line, seq: seq)
    }

    /// Decodes a `LogLine` from a reader.
    public static func decode(_ line: LogLine) throws(EventDecodingError) -> RecordedEvent {
        try decode(line.bytes, seq: line.seq)
    }

    /// Decodes the next line of a stream.
    public mutating func decode(_ line: LogLine) throws(EventDecodingError) -> RecordedEvent {
        try decode(line.bytes, seq: line.seq)
    }

    private mutating func at(_ s: JSONScanner, _ range: Range<Int>) throws(JSONSyntaxError) -> Timestamp {
        let raw = s.bytes(range)
        guard raw.count == 20 else {
            guard let time = Timestamp(rfc3339: raw) else { throw s.fail("at is not RFC 3339") }
            return time
        }
        let bytes = (
            raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
        )
        if let last = lastAt, last.bytes == bytes { return last.time }
        guard let time = Timestamp(rfc3339: raw) else { throw s.fail("at is not RFC 3339") }
        lastAt = (bytes, time)
        return time
    }

    private mutating func actor(_ s: JSONScanner, _ range: Range<Int>, escaped: Bool) -> String {
        let raw = s.bytes(range)
        if !escaped, let cached = lastActorBytes, cached.count == raw.count,
            raw.isEmpty
                || cached.withUnsafeBufferPointer({
                    JSONScanner.equalBytes(
                        raw.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.baseAddress!, raw.count)
                })
        {
            return lastActor
        }
        lastActor = s.decodeString(range, escaped: escaped)
        // An escaped actor is not kept: its bytes are not the string's.
        lastActorBytes = escaped ? nil : Array(raw)
        return lastActor
    }

    /// Steps over 1 to 18 digits without a leading zero and stops at the comma after them
    /// (what `parseInt` reads as an integer without a doubt); false, with the scanner where
    /// it was, for anything else.
    @inline(__always)
    static func skipWrittenSeq(_ s: inout JSONScanner) -> Bool {
        var i = s.position
        guard i < s.end, s.byte(at: i) &- 49 < 9 else { return false }
        i &+= 1
        while i < s.end, s.byte(at: i) &- 48 < 10 { i &+= 1 }
        guard i - s.position <= 18, i < s.end, s.byte(at: i) == UInt8(ascii: ",") else { return false }
        s.position = i
        return true
    }

    /// Decodes one line (without its newline) whose chain links the reader has checked.
    /// - Throws: `EventDecodingError` naming the seq, the type and what is wrong.
    package mutating func decode(_ line: UnsafeRawBufferPointer, seq: Int) throws(EventDecodingError) -> RecordedEvent {
        var s = JSONScanner(line)
        var type = "?"
        // The payload type, named in an error only: no string is made for it otherwise.
        var known: StaticString?
        do throws(JSONSyntaxError) {
            guard s.consume("{\"seq\":") else { throw s.fail("not a log line") }
            // The caller read the seq (the chain reader, from these bytes); here it is
            // stepped over where it is plain digits, as written, and read anywhere else.
            if !Self.skipWrittenSeq(&s) { _ = try s.parseInt() }
            guard s.consume(",\"at\":") else { throw s.fail("expected at") }
            let (atRange, _) = try s.scanString()
            let at = try self.at(s, atRange)
            guard s.consume(",\"actor\":") else { throw s.fail("expected actor") }
            let (actorRange, actorEscaped) = try s.scanString()
            let actor = self.actor(s, actorRange, escaped: actorEscaped)
            guard s.consume(",\"type\":") else { throw s.fail("expected type") }
            let (typeRange, typeEscaped) = try s.scanString()
            guard s.consume(",\"data\":") else { throw s.fail("expected data") }
            let event: ProgrammeEvent
            if !typeEscaped, let payload = try ProgrammeEvent.read(typeNamed: s.bytes(typeRange), &s, known: &known) {
                event = payload
            } else if !typeEscaped && s.keyEquals(typeRange, "LogCreated") {
                type = "LogCreated"
                let data = try s.parseValue().objectValue ?? JSONObject()
                event = .logCreated(logID: data["log"]?.stringValue ?? "")
            } else {
                type = s.decodeString(typeRange, escaped: typeEscaped)
                guard let data = try s.parseValue().objectValue else { throw s.fail("data is not an object") }
                event = .unknown(type: type, data: data)
            }
            var onBehalfOf: String?, onBehalfOfRef: PersonalReference?, key: String?, keyDigest: String?
            var sawPrev = false
            // The batch marker and prev, as this code writes them, are matched where they
            // stand; any other member is read as a member.
            if s.consume(#","batch":"#) && !s.consumeIntegerPair() { try s.skipValue() }
            while s.consume(",") {
                if s.consumeQuoted("prev") {
                    guard s.consume(":") else { throw s.fail("expected ':'") }
                    sawPrev = true
                    break
                }
                let (name, _) = try s.scanString()
                guard s.consume(":") else { throw s.fail("expected ':'") }
                if s.keyEquals(name, "prev") {
                    sawPrev = true
                    break
                }
                if s.keyEquals(name, "onBehalfOf") {
                    if s.peek() == UInt8(ascii: "{") {
                        onBehalfOfRef = try PersonalReference.read(&s)
                    } else {
                        onBehalfOf = try s.readOptionalString()
                    }
                } else if s.keyEquals(name, "key") {
                    key = try s.readOptionalString()
                } else if s.keyEquals(name, "keyDigest") {
                    keyDigest = try s.readOptionalString()
                } else {
                    try s.skipValue()
                }
            }
            // The line ends with "prev" and "hash", 64 lowercase hex digits each, and nothing
            // after: checked where they must stand, without scanning them as strings.
            guard sawPrev else { throw s.fail("expected prev") }
            let p = s.position
            guard s.end - p == 1 + 64 + 10 + 64 + 2, s.byte(at: p) == UInt8(ascii: "\""),
                SHA256Digest.isHex(s.bytes((p + 1)..<(p + 65))),
                JSONScanner.equalBytes(s.pointer(at: p + 65), Self.hashKey.utf8Start, 10),
                SHA256Digest.isHex(s.bytes((p + 75)..<(p + 139))),
                s.byte(at: p + 139) == UInt8(ascii: "\""), s.byte(at: p + 140) == UInt8(ascii: "}")
            else {
                throw s.fail("the line does not end with prev and hash")
            }
            return RecordedEvent(
                seq: seq, at: at, actor: actor, onBehalfOf: onBehalfOf, onBehalfOfRef: onBehalfOfRef, key: key,
                keyDigest: keyDigest, event: event)
        } catch {
            let label = known.map { "\($0)" } ?? type
            throw EventDecodingError(seq: seq, type: label, reason: "\(error.reason) at byte \(error.offset)")
        }
    }
}

extension ProgrammeEvent {
    /// Reads `data` at the scanner as the payload type named `name`, or returns nil when this
    /// build does not know the type (the scanner is left as it was). `known` is set to the
    /// type's name before its data is read, so that an error can name it.
    ///
    /// Literal names and direct calls, not the `kinds` table: a table entry copied for each
    /// line retained its name and closures, and the reading and folding threads of a replay
    /// both decode, so the two cores took turns at the same reference counts for every line.
    /// - Throws: `JSONSyntaxError` from reading the payload.
    @inline(__always)
    static func read(
        typeNamed name: UnsafeRawBufferPointer, _ s: inout JSONScanner, known: inout StaticString?
    ) throws(JSONSyntaxError) -> ProgrammeEvent? {
        /// Whether `name` is `literal` (and if so, `known` says it).
        func isNamed(_ literal: StaticString) -> Bool {
            guard name.count == literal.utf8CodeUnitCount,
                memcmp(name.baseAddress!, literal.utf8Start, name.count) == 0
            else { return false }
            known = literal
            return true
        }
        // The most frequent types first.
        if isNamed("SessionHeld") { return .sessionHeld(try SessionHeld.read(&s)) }
        if isNamed("ParticipantSignedUp") { return .participantSignedUp(try ParticipantSignedUp.read(&s)) }
        if isNamed("TandemMatched") { return .tandemMatched(try TandemMatched.read(&s)) }
        if isNamed("GoalSet") { return .goalSet(try GoalSet.read(&s)) }
        if isNamed("GoalReached") { return .goalReached(try GoalReached.read(&s)) }
        if isNamed("CheckInRecorded") { return .checkInRecorded(try CheckInRecorded.read(&s)) }
        if isNamed("PartnerSwapped") { return .partnerSwapped(try PartnerSwapped.read(&s)) }
        if isNamed("ParticipantWithdrew") { return .participantWithdrew(try ParticipantWithdrew.read(&s)) }
        if isNamed("TandemCompleted") { return .tandemCompleted(try TandemCompleted.read(&s)) }
        if isNamed("ProgrammeLaunched") { return .programmeLaunched(try ProgrammeLaunched.read(&s)) }
        if isNamed("EventVoided") { return .eventVoided(try EventVoided.read(&s)) }
        if isNamed("PersonalDataErased") { return .personalDataErased(try PersonalDataErased.read(&s)) }
        if isNamed("MatchRunRecorded") { return .matchRunRecorded(try MatchRunRecorded.read(&s)) }
        if isNamed("ProgrammeClosed") { return .programmeClosed(try ProgrammeClosed.read(&s)) }
        if isNamed("ProfileUpdated") { return .profileUpdated(try ProfileUpdated.read(&s)) }
        return nil
    }
}
