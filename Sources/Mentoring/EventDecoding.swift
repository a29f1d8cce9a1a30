import EventLog

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
    fileprivate func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: position, reason: reason) }

    /// A string value (null counts as absent).
    mutating func readOptionalString() throws(JSONSyntaxError) -> String? {
        if consume("null") { return nil }
        return try parseString()
    }

    mutating func readInt() throws(JSONSyntaxError) -> Int { Int(try parseInt()) }

    mutating func readDate() throws(JSONSyntaxError) -> BusinessDate {
        let (range, escaped) = try scanString()
        guard !escaped, let day = CivilCalendar.parseDate(bytes(range)) else { throw fail("not a YYYY-MM-DD date") }
        return BusinessDate(dayNumber: day)
    }

    mutating func readOptionalDate() throws(JSONSyntaxError) -> BusinessDate? {
        if consume("null") { return nil }
        return try readDate()
    }

    mutating func readID<Kind>(_: Kind.Type = Kind.self) throws(JSONSyntaxError) -> Identifier<Kind> {
        let (range, escaped) = try scanString()
        // An id has no character that needs escaping: an escaped one is checked as text.
        guard !escaped, Identifier<Kind>.isValid(bytes(range)) else {
            throw fail("invalid \(Kind.noun) id '\(decodeString(range, escaped: escaped))'")
        }
        return Identifier(unchecked: decodeString(range, escaped: false))
    }

    mutating func readOptionalID<Kind>(_: Kind.Type = Kind.self) throws(JSONSyntaxError) -> Identifier<Kind>? {
        if consume("null") { return nil }
        return try readID(Kind.self)
    }

    mutating func readStrings() throws(JSONSyntaxError) -> [String] {
        var out: [String] = []
        try forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in out.append(try s.parseString()) }
        return out
    }

    mutating func readEnum<E: RawRepresentable>(_: E.Type) throws(JSONSyntaxError) -> E where E.RawValue == String {
        let text = try parseString()
        guard let value = E(rawValue: text) else { throw fail("unknown value '\(text)'") }
        return value
    }

    mutating func readReference() throws(JSONSyntaxError) -> PersonalReference {
        var ref: String?, commit: SHA256Digest?
        try forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(key, "ref") {
                ref = try s.parseString()
            } else if s.keyEquals(key, "commit") {
                let (range, _) = try s.scanString()
                commit = SHA256Digest(hexBytes: s.bytes(range))
                if commit == nil { throw s.fail("commit is not 64 hex digits") }
            } else {
                try s.skipValue()
            }
        }
        guard let ref, let commit else { throw fail("personal needs ref and commit") }
        return PersonalReference(ref: ref, commit: commit)
    }

    mutating func readOptionalReference() throws(JSONSyntaxError) -> PersonalReference? {
        if consume("null") { return nil }
        return try readReference()
    }
}

/// Reads a required field or says which is missing.
@inline(__always)
private func required<T>(_ value: T?, _ name: StaticString, _ scanner: JSONScanner) throws(JSONSyntaxError) -> T {
    guard let value else { throw JSONSyntaxError(offset: scanner.position, reason: "missing \"\(name)\"") }
    return value
}

/// Decodes log lines straight from their bytes, with the validating scanner: one pass, no
/// intermediate JSON tree. Types it does not know are kept as `.unknown` with their data.
public struct EventDecoder {
    /// The last actor read, and its bytes: a log has few actors and long runs of the same
    /// one, so one string serves many events instead of one allocation each.
    private var lastActor = ""
    private var lastActorBytes: [UInt8] = []

    /// A decoder for a stream of lines.
    public init() {}

    /// Decodes one line (without its newline) whose chain links the reader has checked.
    /// - Throws: `EventDecodingError` naming the seq, the type and what is wrong.
    public static func decode(_ line: UnsafeRawBufferPointer, seq: Int) throws(EventDecodingError) -> RecordedEvent {
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

    private mutating func actor(_ s: JSONScanner, _ range: Range<Int>, escaped: Bool) -> String {
        let raw = s.bytes(range)
        if !escaped && raw.elementsEqual(lastActorBytes) { return lastActor }
        lastActor = s.decodeString(range, escaped: escaped)
        lastActorBytes = escaped ? [] : Array(raw)
        return lastActor
    }

    /// Decodes one line (without its newline) whose chain links the reader has checked.
    /// - Throws: `EventDecodingError` naming the seq, the type and what is wrong.
    public mutating func decode(_ line: UnsafeRawBufferPointer, seq: Int) throws(EventDecodingError) -> RecordedEvent {
        var s = JSONScanner(line)
        var type = "?"
        do throws(JSONSyntaxError) {
            guard s.consume("{\"seq\":") else { throw s.fail("not a log line") }
            _ = try s.parseInt()
            guard s.consume(",\"at\":") else { throw s.fail("expected at") }
            let (atRange, _) = try s.scanString()
            guard let at = Timestamp(rfc3339: s.bytes(atRange)) else { throw s.fail("at is not RFC 3339") }
            guard s.consume(",\"actor\":") else { throw s.fail("expected actor") }
            let (actorRange, actorEscaped) = try s.scanString()
            let actor = self.actor(s, actorRange, escaped: actorEscaped)
            guard s.consume(",\"type\":") else { throw s.fail("expected type") }
            let (typeRange, typeEscaped) = try s.scanString()
            guard s.consume(",\"data\":") else { throw s.fail("expected data") }
            let event: ProgrammeEvent
            func named(_ name: StaticString) -> Bool { !typeEscaped && s.keyEquals(typeRange, name) }
            if named("SessionHeld") {
                type = SessionHeld.type
                event = .sessionHeld(try Self.decodeSession(&s))
            } else if named("ParticipantSignedUp") {
                type = ParticipantSignedUp.type
                event = .participantSignedUp(try Self.decodeSignUp(&s))
            } else if named("TandemMatched") {
                type = TandemMatched.type
                event = .tandemMatched(try Self.decodeMatch(&s))
            } else if named("GoalSet") {
                type = GoalSet.type
                event = .goalSet(try Self.decodeGoalSet(&s))
            } else if named("GoalReached") {
                type = GoalReached.type
                event = .goalReached(try Self.decodeGoalReached(&s))
            } else if named("PartnerSwapped") {
                type = PartnerSwapped.type
                event = .partnerSwapped(try Self.decodeSwap(&s))
            } else if named("ParticipantWithdrew") {
                type = ParticipantWithdrew.type
                event = .participantWithdrew(try Self.decodeWithdrawal(&s))
            } else if named("TandemCompleted") {
                type = TandemCompleted.type
                event = .tandemCompleted(try Self.decodeCompletion(&s))
            } else if named("ProgrammeLaunched") {
                type = ProgrammeLaunched.type
                event = .programmeLaunched(try Self.decodeLaunch(&s))
            } else if named("EventVoided") {
                type = EventVoided.type
                event = .eventVoided(try Self.decodeVoid(&s))
            } else if named("PersonalDataErased") {
                type = PersonalDataErased.type
                event = .personalDataErased(try Self.decodeErasure(&s))
            } else if named("MatchRunRecorded") {
                type = MatchRunRecorded.type
                event = .matchRunRecorded(try Self.decodeRun(&s))
            } else if named("ProgrammeClosed") {
                type = ProgrammeClosed.type
                event = .programmeClosed(try Self.decodeClose(&s))
            } else if named("ProfileUpdated") {
                type = ProfileUpdated.type
                event = .profileUpdated(try Self.decodeUpdate(&s))
            } else if named("CheckInRecorded") {
                type = CheckInRecorded.type
                event = .checkInRecorded(try Self.decodeCheckIn(&s))
            } else if named("LogCreated") {
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
            while s.consume(",") {
                let (name, _) = try s.scanString()
                guard s.consume(":") else { throw s.fail("expected ':'") }
                if s.keyEquals(name, "prev") {
                    sawPrev = true
                    break
                }
                if s.keyEquals(name, "onBehalfOf") {
                    if s.peek() == UInt8(ascii: "{") {
                        onBehalfOfRef = try s.readReference()
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
            // The line ends with "prev" and "hash", 64 hex digits each, and nothing after.
            guard sawPrev else { throw s.fail("expected prev") }
            let (prev, prevEscaped) = try s.scanString()
            guard s.consume(",\"hash\":") else { throw s.fail("expected hash after prev") }
            let (hash, hashEscaped) = try s.scanString()
            guard !prevEscaped, !hashEscaped, prev.count == 64, hash.count == 64, s.consume("}"), s.isAtEnd else {
                throw s.fail("the line does not end with prev and hash")
            }
            return RecordedEvent(
                seq: seq, at: at, actor: actor, onBehalfOf: onBehalfOf, onBehalfOfRef: onBehalfOfRef, key: key,
                keyDigest: keyDigest, event: event)
        } catch {
            throw EventDecodingError(seq: seq, type: type, reason: "\(error.reason) at byte \(error.offset)")
        }
    }

    private static func decodeSession(_ s: inout JSONScanner) throws(JSONSyntaxError) -> SessionHeld {
        var tandem: TandemID?, on: BusinessDate?, minutes: Int?, mode: SessionMode?, topics: [String] = [],
            personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "minutes") {
                minutes = try s.readInt()
            } else if s.keyEquals(k, "mode") {
                mode = try s.readEnum(SessionMode.self)
            } else if s.keyEquals(k, "topics") {
                topics = try s.readStrings()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readOptionalReference()
            } else {
                try s.skipValue()
            }
        }
        return SessionHeld(
            tandem: try required(tandem, "tandem", s), on: try required(on, "on", s),
            minutes: try required(minutes, "minutes", s),
            mode: try required(mode, "mode", s), topics: topics, personal: personal)
    }

    private static func decodeSignUp(_ s: inout JSONScanner) throws(JSONSyntaxError) -> ParticipantSignedUp {
        var participant: ParticipantID?, programme: ProgrammeID?, role: Role?, on: BusinessDate?,
            personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "participant") {
                participant = try s.readID()
            } else if s.keyEquals(k, "programme") {
                programme = try s.readID()
            } else if s.keyEquals(k, "role") {
                role = try s.readEnum(Role.self)
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readReference()
            } else {
                try s.skipValue()
            }
        }
        return ParticipantSignedUp(
            participant: try required(participant, "participant", s),
            programme: try required(programme, "programme", s),
            role: try required(role, "role", s), on: try required(on, "on", s),
            personal: try required(personal, "personal", s))
    }

    private static func decodeMatch(_ s: inout JSONScanner) throws(JSONSyntaxError) -> TandemMatched {
        var tandem: TandemID?, programme: ProgrammeID?, mentor: ParticipantID?, mentee: ParticipantID?,
            on: BusinessDate?
        var override: String?, overrideReason: PersonalReference?, run: MatchRunID?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "programme") {
                programme = try s.readID()
            } else if s.keyEquals(k, "mentor") {
                mentor = try s.readID()
            } else if s.keyEquals(k, "mentee") {
                mentee = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "override") {
                override = try s.readOptionalString()
            } else if s.keyEquals(k, "overrideReason") {
                overrideReason = try s.readOptionalReference()
            } else if s.keyEquals(k, "run") {
                run = try s.readOptionalID()
            } else {
                try s.skipValue()
            }
        }
        return TandemMatched(
            tandem: try required(tandem, "tandem", s), programme: try required(programme, "programme", s),
            mentor: try required(mentor, "mentor", s), mentee: try required(mentee, "mentee", s),
            on: try required(on, "on", s), override: override, overrideReason: overrideReason, run: run)
    }

    private static func decodeGoalSet(_ s: inout JSONScanner) throws(JSONSyntaxError) -> GoalSet {
        var tandem: TandemID?, goal: GoalID?, on: BusinessDate?, due: BusinessDate?, category: String?,
            personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "goal") {
                goal = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "due") {
                due = try s.readOptionalDate()
            } else if s.keyEquals(k, "category") {
                category = try s.readOptionalString()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readReference()
            } else {
                try s.skipValue()
            }
        }
        return GoalSet(
            tandem: try required(tandem, "tandem", s), goal: try required(goal, "goal", s),
            on: try required(on, "on", s),
            due: due, category: category, personal: try required(personal, "personal", s))
    }

    private static func decodeGoalReached(_ s: inout JSONScanner) throws(JSONSyntaxError) -> GoalReached {
        var tandem: TandemID?, goal: GoalID?, on: BusinessDate?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "goal") {
                goal = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else {
                try s.skipValue()
            }
        }
        return GoalReached(
            tandem: try required(tandem, "tandem", s), goal: try required(goal, "goal", s),
            on: try required(on, "on", s))
    }

    private static func decodeSwap(_ s: inout JSONScanner) throws(JSONSyntaxError) -> PartnerSwapped {
        var tandem: TandemID?, newTandem: TandemID?, leaving: ParticipantID?, joining: ParticipantID?, on: BusinessDate?
        var reason: ReasonCode?, override: String?, overrideReason: PersonalReference?, personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "newTandem") {
                newTandem = try s.readID()
            } else if s.keyEquals(k, "leaving") {
                leaving = try s.readID()
            } else if s.keyEquals(k, "joining") {
                joining = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "reason") {
                reason = try s.readEnum(ReasonCode.self)
            } else if s.keyEquals(k, "override") {
                override = try s.readOptionalString()
            } else if s.keyEquals(k, "overrideReason") {
                overrideReason = try s.readOptionalReference()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readOptionalReference()
            } else {
                try s.skipValue()
            }
        }
        return PartnerSwapped(
            tandem: try required(tandem, "tandem", s), newTandem: try required(newTandem, "newTandem", s),
            leaving: try required(leaving, "leaving", s), joining: try required(joining, "joining", s),
            on: try required(on, "on", s), reason: try required(reason, "reason", s), override: override,
            overrideReason: overrideReason, personal: personal)
    }

    private static func decodeWithdrawal(_ s: inout JSONScanner) throws(JSONSyntaxError) -> ParticipantWithdrew {
        var participant: ParticipantID?, on: BusinessDate?, reason: ReasonCode?, personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "participant") {
                participant = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "reason") {
                reason = try s.readEnum(ReasonCode.self)
            } else if s.keyEquals(k, "personal") {
                personal = try s.readOptionalReference()
            } else {
                try s.skipValue()
            }
        }
        return ParticipantWithdrew(
            participant: try required(participant, "participant", s), on: try required(on, "on", s),
            reason: try required(reason, "reason", s), personal: personal)
    }

    private static func decodeCompletion(_ s: inout JSONScanner) throws(JSONSyntaxError) -> TandemCompleted {
        var tandem: TandemID?, on: BusinessDate?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else {
                try s.skipValue()
            }
        }
        return TandemCompleted(tandem: try required(tandem, "tandem", s), on: try required(on, "on", s))
    }

    private static func decodeLaunch(_ s: inout JSONScanner) throws(JSONSyntaxError) -> ProgrammeLaunched {
        var programme: ProgrammeID?, name: String?, starts: BusinessDate?, ends: BusinessDate?, cadence: Int?,
            minGroup: Int?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "programme") {
                programme = try s.readID()
            } else if s.keyEquals(k, "name") {
                name = try s.parseString()
            } else if s.keyEquals(k, "starts") {
                starts = try s.readDate()
            } else if s.keyEquals(k, "ends") {
                ends = try s.readDate()
            } else if s.keyEquals(k, "cadenceDays") {
                cadence = try s.readInt()
            } else if s.keyEquals(k, "minGroupSize") {
                minGroup = try s.readInt()
            } else {
                try s.skipValue()
            }
        }
        return ProgrammeLaunched(
            programme: try required(programme, "programme", s), name: try required(name, "name", s),
            starts: try required(starts, "starts", s), ends: try required(ends, "ends", s),
            cadenceDays: try required(cadence, "cadenceDays", s),
            minGroupSize: try required(minGroup, "minGroupSize", s))
    }

    private static func decodeVoid(_ s: inout JSONScanner) throws(JSONSyntaxError) -> EventVoided {
        var seq: Int?, reason: String?, personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "seq") {
                seq = try s.readInt()
            } else if s.keyEquals(k, "reason") {
                reason = try s.readOptionalString()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readOptionalReference()
            } else {
                try s.skipValue()
            }
        }
        return EventVoided(seq: try required(seq, "seq", s), reason: reason, personal: personal)
    }

    private static func decodeClose(_ s: inout JSONScanner) throws(JSONSyntaxError) -> ProgrammeClosed {
        var programme: ProgrammeID?, on: BusinessDate?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "programme") {
                programme = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else {
                try s.skipValue()
            }
        }
        return ProgrammeClosed(programme: try required(programme, "programme", s), on: try required(on, "on", s))
    }

    private static func decodeUpdate(_ s: inout JSONScanner) throws(JSONSyntaxError) -> ProfileUpdated {
        var participant: ParticipantID?, fields: [String]?, on: BusinessDate?, personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "participant") {
                participant = try s.readID()
            } else if s.keyEquals(k, "fields") {
                fields = try s.readStrings()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readReference()
            } else {
                try s.skipValue()
            }
        }
        return ProfileUpdated(
            participant: try required(participant, "participant", s), fields: try required(fields, "fields", s),
            on: try required(on, "on", s), personal: try required(personal, "personal", s))
    }

    private static func decodeCheckIn(_ s: inout JSONScanner) throws(JSONSyntaxError) -> CheckInRecorded {
        var tandem: TandemID?, participant: ParticipantID?, rating: Int?, on: BusinessDate?,
            personal: PersonalReference?
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "tandem") {
                tandem = try s.readID()
            } else if s.keyEquals(k, "participant") {
                participant = try s.readID()
            } else if s.keyEquals(k, "rating") {
                rating = try s.readInt()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "personal") {
                personal = try s.readOptionalReference()
            } else {
                try s.skipValue()
            }
        }
        return CheckInRecorded(
            tandem: try required(tandem, "tandem", s), participant: try required(participant, "participant", s),
            rating: try required(rating, "rating", s), on: try required(on, "on", s), personal: personal)
    }

    private static func decodeErasure(_ s: inout JSONScanner) throws(JSONSyntaxError) -> PersonalDataErased {
        var participant: ParticipantID?, refs: [String] = []
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "participant") {
                participant = try s.readID()
            } else if s.keyEquals(k, "refs") {
                refs = try s.readStrings()
            } else {
                try s.skipValue()
            }
        }
        return PersonalDataErased(participant: try required(participant, "participant", s), refs: refs)
    }

    private static func decodeRun(_ s: inout JSONScanner) throws(JSONSyntaxError) -> MatchRunRecorded {
        var run: MatchRunID?, programme: ProgrammeID?, on: BusinessDate?, weights: [String: Double] = [:]
        var mentors: [ParticipantID] = [], mentees: [ParticipantID] = [], pairs: [MatchRunRecorded.ProposedPair] = []
        // All four lists are required, as the Codable reading requires them.
        var seen: Set<String> = []
        try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(k, "run") {
                run = try s.readID()
            } else if s.keyEquals(k, "programme") {
                programme = try s.readID()
            } else if s.keyEquals(k, "on") {
                on = try s.readDate()
            } else if s.keyEquals(k, "weights") {
                seen.insert("weights")
                for (name, value) in try s.parseValue().objectValue ?? JSONObject() {
                    weights[name] = value.doubleValue ?? 0
                }
            } else if s.keyEquals(k, "mentors") {
                seen.insert("mentors")
                try s.forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in mentors.append(try s.readID())
                }
            } else if s.keyEquals(k, "mentees") {
                seen.insert("mentees")
                try s.forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in mentees.append(try s.readID())
                }
            } else if s.keyEquals(k, "pairs") {
                seen.insert("pairs")
                try s.forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in
                    var mentor: ParticipantID?, mentee: ParticipantID?
                    try s.forEachMember { (s: inout JSONScanner, k: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                        if s.keyEquals(k, "mentor") {
                            mentor = try s.readID()
                        } else if s.keyEquals(k, "mentee") {
                            mentee = try s.readID()
                        } else {
                            try s.skipValue()
                        }
                    }
                    pairs.append(
                        .init(mentor: try required(mentor, "mentor", s), mentee: try required(mentee, "mentee", s)))
                }
            } else {
                try s.skipValue()
            }
        }
        if !seen.contains("weights") { _ = try required(nil as Int?, "weights", s) }
        if !seen.contains("mentors") { _ = try required(nil as Int?, "mentors", s) }
        if !seen.contains("mentees") { _ = try required(nil as Int?, "mentees", s) }
        if !seen.contains("pairs") { _ = try required(nil as Int?, "pairs", s) }
        return MatchRunRecorded(
            run: try required(run, "run", s), programme: try required(programme, "programme", s),
            on: try required(on, "on", s), weights: weights, mentors: mentors, mentees: mentees, pairs: pairs)
    }
}

/// A log line as Foundation's `JSONDecoder` reads it: the reference the byte-level decoder
/// is tested against (it must agree on every line, and refuse what this refuses).
public struct CodableLogLine: Decodable, Sendable {
    public var seq: Int
    public var at: String
    public var actor: String
    public var type: String
    public var event: ProgrammeEvent?
    public var onBehalfOf: String?
    public var onBehalfOfRef: PersonalReference?
    public var key: String?
    public var keyDigest: String?
    public var prev: String
    public var hash: String

    enum CodingKeys: String, CodingKey { case seq, at, actor, type, data, onBehalfOf, key, keyDigest, prev, hash }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seq = try c.decode(Int.self, forKey: .seq)
        at = try c.decode(String.self, forKey: .at)
        actor = try c.decode(String.self, forKey: .actor)
        type = try c.decode(String.self, forKey: .type)
        if let ref = try? c.decodeIfPresent(PersonalReference.self, forKey: .onBehalfOf) {
            onBehalfOfRef = ref
        } else {
            onBehalfOf = try c.decodeIfPresent(String.self, forKey: .onBehalfOf)
        }
        key = try c.decodeIfPresent(String.self, forKey: .key)
        keyDigest = try c.decodeIfPresent(String.self, forKey: .keyDigest)
        prev = try c.decode(String.self, forKey: .prev)
        hash = try c.decode(String.self, forKey: .hash)
        switch type {
        case ProgrammeLaunched.type: event = .programmeLaunched(try c.decode(ProgrammeLaunched.self, forKey: .data))
        case ParticipantSignedUp.type:
            event = .participantSignedUp(try c.decode(ParticipantSignedUp.self, forKey: .data))
        case TandemMatched.type: event = .tandemMatched(try c.decode(TandemMatched.self, forKey: .data))
        case SessionHeld.type: event = .sessionHeld(try c.decode(SessionHeld.self, forKey: .data))
        case GoalSet.type: event = .goalSet(try c.decode(GoalSet.self, forKey: .data))
        case GoalReached.type: event = .goalReached(try c.decode(GoalReached.self, forKey: .data))
        case PartnerSwapped.type: event = .partnerSwapped(try c.decode(PartnerSwapped.self, forKey: .data))
        case ParticipantWithdrew.type:
            event = .participantWithdrew(try c.decode(ParticipantWithdrew.self, forKey: .data))
        case TandemCompleted.type: event = .tandemCompleted(try c.decode(TandemCompleted.self, forKey: .data))
        case EventVoided.type: event = .eventVoided(try c.decode(EventVoided.self, forKey: .data))
        case PersonalDataErased.type: event = .personalDataErased(try c.decode(PersonalDataErased.self, forKey: .data))
        case MatchRunRecorded.type: event = .matchRunRecorded(try c.decode(MatchRunRecorded.self, forKey: .data))
        case ProgrammeClosed.type: event = .programmeClosed(try c.decode(ProgrammeClosed.self, forKey: .data))
        case CheckInRecorded.type: event = .checkInRecorded(try c.decode(CheckInRecorded.self, forKey: .data))
        case ProfileUpdated.type: event = .profileUpdated(try c.decode(ProfileUpdated.self, forKey: .data))
        case "LogCreated":
            struct Created: Decodable { var log: String }
            event = .logCreated(logID: try c.decode(Created.self, forKey: .data).log)
        default: event = nil
        }
    }
}
