import EventLog

/// An event's payload: what goes into a log line's `data`.
///
/// Each payload is declared in one place, here: its stored fields, its `describe(_:)`
/// (the keys of `data`, in contract order, and which may be absent), and its audit
/// summary. The writer, the replay's byte-level decoder and the reader of parsed JSON all
/// run `describe`; nothing else spells an event's keys.
public protocol EventPayload: DescribedValue, Equatable {
    /// The log line's `type`.
    static var type: String { get }
    /// One line about the event for the audit trail: ids, dates, codes and figures; never
    /// names or texts.
    var auditSummary: String { get }
    /// The id a recording outcome names for the event: the tandem, person, goal or run it
    /// is about.
    var identity: String { get }
}

/// A programme was launched. The programme's name and dates are not personal data.
public struct ProgrammeLaunched: EventPayload {
    public static let type = "ProgrammeLaunched"
    public var programme: ProgrammeID
    public var name: String
    public var starts: BusinessDate
    public var ends: BusinessDate
    /// Days between regular sessions (monthly: 30; every two to three weeks: 14–21).
    public var cadenceDays: Int
    /// The smallest group an analyst may see counted (k for suppression), at least 3.
    public var minGroupSize: Int

    public init(
        programme: ProgrammeID, name: String, starts: BusinessDate, ends: BusinessDate, cadenceDays: Int,
        minGroupSize: Int
    ) {
        self.programme = programme
        self.name = name
        self.starts = starts
        self.ends = ends
        self.cadenceDays = cadenceDays
        self.minGroupSize = minGroupSize
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            programme: try f.required("programme", { $0.programme }), name: try f.required("name", { $0.name }),
            starts: try f.required("starts", { $0.starts }), ends: try f.required("ends", { $0.ends }),
            cadenceDays: try f.required("cadenceDays", { $0.cadenceDays }),
            minGroupSize: try f.required("minGroupSize", { $0.minGroupSize }))
    }

    public var identity: String { programme.rawValue }

    public var auditSummary: String {
        "programme \(programme) launched: \(starts) to \(ends), sessions every \(cadenceDays) days, k = \(minGroupSize)"
    }
}

/// Someone signed up; everything about them is in the vault line `personal` points to.
public struct ParticipantSignedUp: EventPayload {
    public static let type = "ParticipantSignedUp"
    public var participant: ParticipantID
    public var programme: ProgrammeID
    public var role: Role
    public var on: BusinessDate
    public var personal: PersonalReference

    public init(
        participant: ParticipantID, programme: ProgrammeID, role: Role, on: BusinessDate, personal: PersonalReference
    ) {
        self.participant = participant
        self.programme = programme
        self.role = role
        self.on = on
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            participant: try f.required("participant", { $0.participant }),
            programme: try f.required("programme", { $0.programme }), role: try f.required("role", { $0.role }),
            on: try f.required("on", { $0.on }), personal: try f.required("personal", { $0.personal }))
    }

    public var identity: String { participant.rawValue }

    public var auditSummary: String {
        "\(participant) signed up as \(role.rawValue) for \(programme) on \(on)"
    }
}

/// A mentor and a mentee became a tandem.
public struct TandemMatched: EventPayload {
    public static let type = "TandemMatched"
    public var tandem: TandemID
    public var programme: ProgrammeID
    public var mentor: ParticipantID
    public var mentee: ParticipantID
    public var on: BusinessDate
    /// Set when a rule was waived: `waived`, the reason being in the vault
    /// (`overrideReason`). Logs written before reasons went to the vault hold the reason's
    /// text here, which no erasure can remove.
    public var override: String?
    /// The vault record of why the rule was waived.
    public var overrideReason: PersonalReference?
    /// The match run that proposed this pair, if any.
    public var run: MatchRunID?

    public init(
        tandem: TandemID, programme: ProgrammeID, mentor: ParticipantID, mentee: ParticipantID, on: BusinessDate,
        override: String? = nil, overrideReason: PersonalReference? = nil, run: MatchRunID? = nil
    ) {
        self.tandem = tandem
        self.programme = programme
        self.mentor = mentor
        self.mentee = mentee
        self.on = on
        self.override = override
        self.overrideReason = overrideReason
        self.run = run
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }), programme: try f.required("programme", { $0.programme }),
            mentor: try f.required("mentor", { $0.mentor }), mentee: try f.required("mentee", { $0.mentee }),
            on: try f.required("on", { $0.on }), override: try f.optional("override", { $0.override }),
            overrideReason: try f.optional("overrideReason", { $0.overrideReason }),
            run: try f.optional("run", { $0.run }))
    }

    public var identity: String { tandem.rawValue }

    public var auditSummary: String {
        var text = "tandem \(tandem) matched on \(on): mentor \(mentor), mentee \(mentee)"
        if let run {
            // With an override, the run need not have proposed the pair.
            text += override == nil ? ", as proposed by match run \(run)" : ", under match run \(run)"
        } else {
            text += ", by hand"
        }
        if override != nil { text += "; a rule was waived" + reasonNote(overrideReason) }
        return text
    }
}

/// A tandem met. Notes, if any, are in the vault and belong to the tandem.
public struct SessionHeld: EventPayload {
    public static let type = "SessionHeld"
    public var tandem: TandemID
    public var on: BusinessDate
    public var minutes: Int
    public var mode: SessionMode
    public var topics: [String]
    public var personal: PersonalReference?

    public init(
        tandem: TandemID, on: BusinessDate, minutes: Int, mode: SessionMode, topics: [String] = [],
        personal: PersonalReference? = nil
    ) {
        self.tandem = tandem
        self.on = on
        self.minutes = minutes
        self.mode = mode
        self.topics = topics
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }), on: try f.required("on", { $0.on }),
            minutes: try f.required("minutes", { $0.minutes }), mode: try f.required("mode", { $0.mode }),
            topics: try f.omittedWhenEmpty("topics", { $0.topics }),
            personal: try f.optional("personal", { $0.personal }))
    }

    public var identity: String { tandem.rawValue }

    public var auditSummary: String {
        "session of \(tandem) on \(on): \(minutes) min, \(mode.rawValue)"
            + (personal == nil ? "" : ", notes in the vault")
    }
}

/// A tandem set itself a goal; its text is in the vault.
public struct GoalSet: EventPayload {
    public static let type = "GoalSet"
    public var tandem: TandemID
    public var goal: GoalID
    public var on: BusinessDate
    public var due: BusinessDate?
    public var category: String?
    public var personal: PersonalReference

    public init(
        tandem: TandemID, goal: GoalID, on: BusinessDate, due: BusinessDate? = nil, category: String? = nil,
        personal: PersonalReference
    ) {
        self.tandem = tandem
        self.goal = goal
        self.on = on
        self.due = due
        self.category = category
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }), goal: try f.required("goal", { $0.goal }),
            on: try f.required("on", { $0.on }), due: try f.optional("due", { $0.due }),
            category: try f.optional("category", { $0.category }), personal: try f.required("personal", { $0.personal })
        )
    }

    public var identity: String { "\(tandem)/\(goal)" }

    public var auditSummary: String {
        "goal \(goal) set for \(tandem) on \(on)" + (due.map { ", due \($0)" } ?? "")
            + (category.map { ", category \($0)" } ?? "")
    }
}

/// A tandem reached one of its goals.
public struct GoalReached: EventPayload {
    public static let type = "GoalReached"
    public var tandem: TandemID
    public var goal: GoalID
    public var on: BusinessDate

    public init(tandem: TandemID, goal: GoalID, on: BusinessDate) {
        self.tandem = tandem
        self.goal = goal
        self.on = on
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }), goal: try f.required("goal", { $0.goal }),
            on: try f.required("on", { $0.on }))
    }

    public var identity: String { "\(tandem)/\(goal)" }

    public var auditSummary: String {
        "goal \(goal) of \(tandem) reached on \(on)"
    }
}

/// A pair did not fit: `tandem` ends, the staying partner and `joining` form `newTandem`,
/// and `leaving` returns to the pool.
public struct PartnerSwapped: EventPayload {
    public static let type = "PartnerSwapped"
    public var tandem: TandemID
    public var newTandem: TandemID
    public var leaving: ParticipantID
    public var joining: ParticipantID
    public var on: BusinessDate
    public var reason: ReasonCode
    /// As for `TandemMatched`: `waived`, or a legacy reason text.
    public var override: String?
    /// The vault record of why a rule was waived.
    public var overrideReason: PersonalReference?
    public var personal: PersonalReference?

    public init(
        tandem: TandemID, newTandem: TandemID, leaving: ParticipantID, joining: ParticipantID, on: BusinessDate,
        reason: ReasonCode, override: String? = nil, overrideReason: PersonalReference? = nil,
        personal: PersonalReference? = nil
    ) {
        self.tandem = tandem
        self.newTandem = newTandem
        self.leaving = leaving
        self.joining = joining
        self.on = on
        self.reason = reason
        self.override = override
        self.overrideReason = overrideReason
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }), newTandem: try f.required("newTandem", { $0.newTandem }),
            leaving: try f.required("leaving", { $0.leaving }), joining: try f.required("joining", { $0.joining }),
            on: try f.required("on", { $0.on }), reason: try f.required("reason", { $0.reason }),
            override: try f.optional("override", { $0.override }),
            overrideReason: try f.optional("overrideReason", { $0.overrideReason }),
            personal: try f.optional("personal", { $0.personal }))
    }

    public var identity: String { newTandem.rawValue }

    public var auditSummary: String {
        "\(tandem) ended by a swap on \(on) (\(reason.rawValue)): \(leaving) left, \(joining) joined in \(newTandem)"
            + (override == nil ? "" : "; a rule was waived" + reasonNote(overrideReason))
    }
}

/// Someone left the programme; their tandem ends and their partner is free again.
public struct ParticipantWithdrew: EventPayload {
    public static let type = "ParticipantWithdrew"
    public var participant: ParticipantID
    public var on: BusinessDate
    public var reason: ReasonCode
    public var personal: PersonalReference?

    public init(participant: ParticipantID, on: BusinessDate, reason: ReasonCode, personal: PersonalReference? = nil) {
        self.participant = participant
        self.on = on
        self.reason = reason
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            participant: try f.required("participant", { $0.participant }), on: try f.required("on", { $0.on }),
            reason: try f.required("reason", { $0.reason }), personal: try f.optional("personal", { $0.personal }))
    }

    public var identity: String { participant.rawValue }

    public var auditSummary: String {
        "\(participant) withdrew on \(on) (\(reason.rawValue))"
    }
}

/// A tandem ran to its end.
public struct TandemCompleted: EventPayload {
    public static let type = "TandemCompleted"
    public var tandem: TandemID
    public var on: BusinessDate

    public init(tandem: TandemID, on: BusinessDate) {
        self.tandem = tandem
        self.on = on
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(tandem: try f.required("tandem", { $0.tandem }), on: try f.required("on", { $0.on }))
    }

    public var identity: String { tandem.rawValue }

    public var auditSummary: String {
        "\(tandem) completed on \(on)"
    }
}

/// A correction: every projection ignores the event at `seq`.
public struct EventVoided: EventPayload {
    public static let type = "EventVoided"
    public var seq: Int
    /// The reason's text in logs written before reasons went to the vault (it stays there
    /// for good); nil in new events.
    public var reason: String?
    /// The vault record of why.
    public var personal: PersonalReference?

    public init(seq: Int, reason: String? = nil, personal: PersonalReference? = nil) {
        self.seq = seq
        self.reason = reason
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            seq: try f.required("seq", { $0.seq }), reason: try f.optional("reason", { $0.reason }),
            personal: try f.optional("personal", { $0.personal }))
    }

    public var identity: String { String(seq) }

    public var auditSummary: String {
        "voids seq \(seq)" + reasonNote(personal)
    }
}

/// A participant's personal data was erased: these vault lines are gone for good.
public struct PersonalDataErased: EventPayload {
    public static let type = "PersonalDataErased"
    public var participant: ParticipantID
    /// The vault refs removed (opaque; they say nothing about the person).
    public var refs: [String]

    public init(participant: ParticipantID, refs: [String]) {
        self.participant = participant
        self.refs = refs
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(participant: try f.required("participant", { $0.participant }), refs: try f.required("refs", { $0.refs }))
    }

    public var identity: String { participant.rawValue }

    public var auditSummary: String {
        "personal data of \(participant) erased (\(refs.count) vault lines)"
    }
}

/// A matching run's proposal, recorded so the audit trail can tell proposed matches from
/// hand-made ones. Ids only.
public struct MatchRunRecorded: EventPayload {
    public static let type = "MatchRunRecorded"
    public var run: MatchRunID
    public var programme: ProgrammeID
    public var on: BusinessDate
    /// The score's weights by name.
    public var weights: [String: Double]
    public var mentors: [ParticipantID]
    public var mentees: [ParticipantID]
    /// The proposed pairs, mentor first.
    public var pairs: [ProposedPair]

    public struct ProposedPair: DescribedValue, Equatable, Hashable {
        public var mentor: ParticipantID
        public var mentee: ParticipantID
        public init(mentor: ParticipantID, mentee: ParticipantID) {
            self.mentor = mentor
            self.mentee = mentee
        }

        public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
            Self(mentor: try f.required("mentor", { $0.mentor }), mentee: try f.required("mentee", { $0.mentee }))
        }
    }

    public init(
        run: MatchRunID, programme: ProgrammeID, on: BusinessDate, weights: [String: Double],
        mentors: [ParticipantID], mentees: [ParticipantID], pairs: [ProposedPair]
    ) {
        self.run = run
        self.programme = programme
        self.on = on
        self.weights = weights
        self.mentors = mentors
        self.mentees = mentees
        self.pairs = pairs
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            run: try f.required("run", { $0.run }), programme: try f.required("programme", { $0.programme }),
            on: try f.required("on", { $0.on }), weights: try f.required("weights", { $0.weights }),
            mentors: try f.required("mentors", { $0.mentors }), mentees: try f.required("mentees", { $0.mentees }),
            pairs: try f.required("pairs", { $0.pairs }))
    }

    public var identity: String { run.rawValue }

    public var auditSummary: String {
        "match run \(run) for \(programme): \(pairs.count) pairs proposed from \(mentors.count) mentors and \(mentees.count) mentees"
    }
}

/// A programme ended: its tandems were completed (in the same batch), and it takes no
/// signups, matches, sessions or goals any more.
public struct ProgrammeClosed: EventPayload {
    public static let type = "ProgrammeClosed"
    public var programme: ProgrammeID
    public var on: BusinessDate

    public init(programme: ProgrammeID, on: BusinessDate) {
        self.programme = programme
        self.on = on
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(programme: try f.required("programme", { $0.programme }), on: try f.required("on", { $0.on }))
    }

    public var identity: String { programme.rawValue }

    public var auditSummary: String {
        "programme \(programme) closed on \(on)"
    }
}

/// A participant's profile changed from `on`: the whole new profile is in the vault (its
/// reference in `personal`), and `fields` names what changed, without the values.
public struct ProfileUpdated: EventPayload {
    public static let type = "ProfileUpdated"
    public var participant: ParticipantID
    public var fields: [String]
    public var on: BusinessDate
    public var personal: PersonalReference

    public init(participant: ParticipantID, fields: [String], on: BusinessDate, personal: PersonalReference) {
        self.participant = participant
        self.fields = fields
        self.on = on
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            participant: try f.required("participant", { $0.participant }),
            fields: try f.required("fields", { $0.fields }),
            on: try f.required("on", { $0.on }), personal: try f.required("personal", { $0.personal }))
    }

    public var identity: String { participant.rawValue }

    public var auditSummary: String {
        "profile of \(participant) updated from \(on): \(fields.joined(separator: ", ")) (values in the vault)"
    }
}

/// A member of a tandem said how well it fits ("does it fit?"), 1 (not at all) to 5 (very
/// well). Notes, if any, are in the vault and for their author only.
public struct CheckInRecorded: EventPayload {
    public static let type = "CheckInRecorded"
    public var tandem: TandemID
    public var participant: ParticipantID
    public var rating: Int
    public var on: BusinessDate
    public var personal: PersonalReference?

    public init(
        tandem: TandemID, participant: ParticipantID, rating: Int, on: BusinessDate, personal: PersonalReference? = nil
    ) {
        self.tandem = tandem
        self.participant = participant
        self.rating = rating
        self.on = on
        self.personal = personal
    }

    public static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
        Self(
            tandem: try f.required("tandem", { $0.tandem }),
            participant: try f.required("participant", { $0.participant }),
            rating: try f.required("rating", { $0.rating }), on: try f.required("on", { $0.on }),
            personal: try f.optional("personal", { $0.personal }))
    }

    public var identity: String { tandem.rawValue }

    public var auditSummary: String {
        "check-in on \(tandem) by \(participant) on \(on): rating \(rating) of 5"
            + (personal == nil ? "" : ", notes in the vault")
    }
}

/// Every event of the programme log (v1), plus a case for types this build does not know.
///
/// The three largest payloads are boxed (`indirect`): an event is as large as its largest
/// case, and a replay moves every event from the decoder to the batch to the fold; boxed,
/// a swap (184 bytes) and a match (152) no longer make every session (96) that large. They
/// are rare, so the boxes cost less than the moves they save.
public enum ProgrammeEvent: Sendable, Equatable {
    case programmeLaunched(ProgrammeLaunched)
    case participantSignedUp(ParticipantSignedUp)
    indirect case tandemMatched(TandemMatched)
    case sessionHeld(SessionHeld)
    indirect case goalSet(GoalSet)
    case goalReached(GoalReached)
    indirect case partnerSwapped(PartnerSwapped)
    case participantWithdrew(ParticipantWithdrew)
    case tandemCompleted(TandemCompleted)
    case eventVoided(EventVoided)
    case personalDataErased(PersonalDataErased)
    case matchRunRecorded(MatchRunRecorded)
    case programmeClosed(ProgrammeClosed)
    case checkInRecorded(CheckInRecorded)
    case profileUpdated(ProfileUpdated)
    /// `LogCreated`, the first line of every log.
    case logCreated(logID: String)
    /// A type written by a newer build; projections ignore it.
    case unknown(type: String, data: JSONObject)

    /// The log line's `type`.
    public var type: String {
        switch self {
        case .programmeLaunched: ProgrammeLaunched.type
        case .participantSignedUp: ParticipantSignedUp.type
        case .tandemMatched: TandemMatched.type
        case .sessionHeld: SessionHeld.type
        case .goalSet: GoalSet.type
        case .goalReached: GoalReached.type
        case .partnerSwapped: PartnerSwapped.type
        case .participantWithdrew: ParticipantWithdrew.type
        case .tandemCompleted: TandemCompleted.type
        case .eventVoided: EventVoided.type
        case .personalDataErased: PersonalDataErased.type
        case .matchRunRecorded: MatchRunRecorded.type
        case .programmeClosed: ProgrammeClosed.type
        case .checkInRecorded: CheckInRecorded.type
        case .profileUpdated: ProfileUpdated.type
        case .logCreated: "LogCreated"
        case .unknown(let type, _): type
        }
    }

    /// Runs `visitor` on the payload, specialised for its type: the one switch that what
    /// every event answers alike (its data, references, subjects, summary) goes through.
    /// Nil for `LogCreated` and unknown types, which have no payload type.
    public func visit<Visitor: PayloadVisitor>(_ visitor: Visitor) -> Visitor.Output? {
        switch self {
        case .programmeLaunched(let e): visitor.visit(e)
        case .participantSignedUp(let e): visitor.visit(e)
        case .tandemMatched(let e): visitor.visit(e)
        case .sessionHeld(let e): visitor.visit(e)
        case .goalSet(let e): visitor.visit(e)
        case .goalReached(let e): visitor.visit(e)
        case .partnerSwapped(let e): visitor.visit(e)
        case .participantWithdrew(let e): visitor.visit(e)
        case .tandemCompleted(let e): visitor.visit(e)
        case .eventVoided(let e): visitor.visit(e)
        case .personalDataErased(let e): visitor.visit(e)
        case .matchRunRecorded(let e): visitor.visit(e)
        case .programmeClosed(let e): visitor.visit(e)
        case .checkInRecorded(let e): visitor.visit(e)
        case .profileUpdated(let e): visitor.visit(e)
        case .logCreated, .unknown: nil
        }
    }

    /// The payload types this build reads, with the case that carries each: the table the
    /// decoders look a line's `type` up in. The most frequent type comes first.
    static let kinds: [EventKind] = [
        EventKind(SessionHeld.self, ProgrammeEvent.sessionHeld),
        EventKind(ParticipantSignedUp.self, ProgrammeEvent.participantSignedUp),
        EventKind(TandemMatched.self, ProgrammeEvent.tandemMatched),
        EventKind(GoalSet.self, ProgrammeEvent.goalSet),
        EventKind(GoalReached.self, ProgrammeEvent.goalReached),
        EventKind(CheckInRecorded.self, ProgrammeEvent.checkInRecorded),
        EventKind(PartnerSwapped.self, ProgrammeEvent.partnerSwapped),
        EventKind(ParticipantWithdrew.self, ProgrammeEvent.participantWithdrew),
        EventKind(TandemCompleted.self, ProgrammeEvent.tandemCompleted),
        EventKind(ProgrammeLaunched.self, ProgrammeEvent.programmeLaunched),
        EventKind(EventVoided.self, ProgrammeEvent.eventVoided),
        EventKind(PersonalDataErased.self, ProgrammeEvent.personalDataErased),
        EventKind(MatchRunRecorded.self, ProgrammeEvent.matchRunRecorded),
        EventKind(ProgrammeClosed.self, ProgrammeEvent.programmeClosed),
        EventKind(ProfileUpdated.self, ProgrammeEvent.profileUpdated),
    ]

    /// The `data` object.
    public var json: JSONObject {
        switch self {
        case .logCreated(let id): ["log": .string(id), "format": .int(Int64(logFormatVersion))]
        case .unknown(_, let data): data
        default: visit(PayloadFields()) ?? JSONObject()
        }
    }

    /// Writes `json`'s bytes, without making the object.
    public func writeData(to writer: inout JSONWriter) {
        switch self {
        case .logCreated, .unknown: writer.write(json)
        default: withUnsafeMutablePointer(to: &writer) { _ = visit(PayloadBytes(writer: $0)) }
        }
    }

    /// Reads an event from its `type` and a parsed `data` object; unknown types are kept.
    /// - Throws: `JSONSyntaxError` naming the field missing or ill-typed.
    public init(type: String, data: JSONObject) throws(JSONSyntaxError) {
        if type == "LogCreated" {
            self = .logCreated(logID: data["log"]?.stringValue ?? "")
        } else if let kind = Self.kinds.first(where: { $0.name == Array(type.utf8) }) {
            self = try kind.readTree(data)
        } else {
            self = .unknown(type: type, data: data)
        }
    }

    /// The id a recording outcome names for the event.
    public var identity: String {
        switch self {
        case .logCreated(let id): id
        case .unknown(let type, _): type
        default: visit(PayloadIdentity()) ?? type
        }
    }

    /// The tandems and participants the event names, in field order.
    public var subjects: EventSubjects { visit(PayloadSubjects()) ?? EventSubjects() }

    /// One line about the event for the audit trail; never names or texts.
    public var auditSummary: String {
        switch self {
        case .logCreated: return "log created (format \(logFormatVersion))"
        case .unknown("LogRecovered", let data):
            let kept = data["keptSeq"]?.intValue.map(String.init) ?? "?"
            let previous =
                data["previousSeq"]?.intValue.map { "the acknowledged head had been seq \($0)" }
                ?? "no acknowledged head was recorded"
            let damaged = data["damagedSeq"]?.intValue.map { "; first damaged seq \($0)" } ?? ""
            let cut = data["cutBytes"]?.intValue ?? 0
            return
                "recovery accepted a loss: kept seq 1…\(kept), \(previous)\(damaged); \(cut) bytes moved to quarantine"
        case .unknown(let type, _): return "\(type) (not known to this version)"
        default: return visit(PayloadSummary()) ?? type
        }
    }

    /// The business date the event is about, used by `--as-of`; nil for events that are
    /// about no day (corrections, erasures, the launch itself).
    public var businessDate: BusinessDate? {
        switch self {
        case .participantSignedUp(let e): e.on
        case .tandemMatched(let e): e.on
        case .sessionHeld(let e): e.on
        case .goalSet(let e): e.on
        case .goalReached(let e): e.on
        case .partnerSwapped(let e): e.on
        case .participantWithdrew(let e): e.on
        case .tandemCompleted(let e): e.on
        case .matchRunRecorded(let e): e.on
        case .programmeClosed(let e): e.on
        case .checkInRecorded(let e): e.on
        case .profileUpdated(let e): e.on
        case .programmeLaunched, .eventVoided, .personalDataErased, .logCreated, .unknown: nil
        }
    }

    /// The vault line of the profile this event puts in force: a signup's, or an update's.
    public var profileReference: PersonalReference? {
        switch self {
        case .participantSignedUp(let e): e.personal
        case .profileUpdated(let e): e.personal
        default: nil
        }
    }

    /// The personal references the event introduces: every reference field its
    /// description lists.
    public var personalReferences: [PersonalReference] {
        switch self {
        // Events of the store rather than the programme (`LogRecovered`) keep their free
        // text in the vault the same way, so that verify and forget see it.
        case .unknown(_, let data): PersonalReference(json: data["personal"]).map { [$0] } ?? []
        default: visit(PayloadReferences()) ?? []
        }
    }
}

/// An event as it stands in the log: the envelope and the payload.
public struct RecordedEvent: Sendable, Equatable {
    /// Every vault record the line points to: the payload's, and whom the actor acted for.
    public var personalReferences: [PersonalReference] {
        onBehalfOfRef.map { event.personalReferences + [$0] } ?? event.personalReferences
    }

    public var seq: Int
    /// When it was recorded.
    public var at: Timestamp
    public var actor: String
    public var event: ProgrammeEvent
    /// The envelope's rare fields, boxed; nil where all are absent (most lines). Held inline
    /// they were about 100 of an event's 230 bytes, moved from the decoding thread to the
    /// fold and released field by field for every line of a replay.
    private var rare: RareEnvelope?

    /// Whom the actor acted for, by name (logs written before `onBehalfOfRef`).
    public var onBehalfOf: String? {
        get { rare?.fields.onBehalfOf }
        set { self[rare: \.onBehalfOf] = newValue }
    }
    /// The vault record of whom the actor acted for (new events; `onBehalfOf` holds the name
    /// in logs written before).
    public var onBehalfOfRef: PersonalReference? {
        get { rare?.fields.onBehalfOfRef }
        set { self[rare: \.onBehalfOfRef] = newValue }
    }
    /// The idempotency key it was recorded with.
    public var key: String? {
        get { rare?.fields.key }
        set { self[rare: \.key] = newValue }
    }
    /// SHA-256 over the command's non-personal fields, to tell a retry from a key reuse.
    public var keyDigest: String? {
        get { rare?.fields.keyDigest }
        set { self[rare: \.keyDigest] = newValue }
    }

    public init(
        seq: Int, at: Timestamp, actor: String, onBehalfOf: String? = nil, onBehalfOfRef: PersonalReference? = nil,
        key: String? = nil,
        keyDigest: String? = nil, event: ProgrammeEvent
    ) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.event = event
        // Tested field by field: most lines have none, and then nothing is built.
        if RareEnvelope.Fields.none(onBehalfOf, onBehalfOfRef, key, keyDigest) {
            rare = nil
        } else {
            rare = RareEnvelope(
                .init(
                    onBehalfOf: onBehalfOf, onBehalfOfRef: onBehalfOfRef, key: key.map(IdempotencyKey.stored),
                    keyDigest: keyDigest))
        }
    }

    /// A rare field, set: the box is immutable (and so `Sendable`), and a change makes a
    /// new one.
    private subscript<Value>(rare field: WritableKeyPath<RareEnvelope.Fields, Value?>) -> Value? {
        get { rare?.fields[keyPath: field] }
        set {
            var fields = rare?.fields ?? RareEnvelope.Fields()
            fields[keyPath: field] = newValue
            rare = fields.isEmpty ? nil : RareEnvelope(fields)
        }
    }

    public static func == (a: RecordedEvent, b: RecordedEvent) -> Bool {
        a.seq == b.seq && a.at == b.at && a.actor == b.actor && a.event == b.event
            && (a.rare === b.rare || a.rare?.fields == b.rare?.fields)
    }
}

/// The fields of a line's envelope that few lines have, held apart from the event.
private final class RareEnvelope: Sendable {
    struct Fields: Equatable, Sendable {
        var onBehalfOf: String?
        var onBehalfOfRef: PersonalReference?
        var key: String?
        var keyDigest: String?

        var isEmpty: Bool { Self.none(onBehalfOf, onBehalfOfRef, key, keyDigest) }

        /// Whether all four are absent.
        @inline(__always)
        static func none(
            _ onBehalfOf: String?, _ onBehalfOfRef: PersonalReference?, _ key: String?, _ keyDigest: String?
        ) -> Bool {
            onBehalfOf == nil && onBehalfOfRef == nil && key == nil && keyDigest == nil
        }
    }

    let fields: Fields

    init(_ fields: Fields) { self.fields = fields }
}

/// Where a free-text reason is: in the vault (erasable, shown to no report), or, in a log
/// written before reasons went to the vault, in the log itself (not printed in summaries
/// either: verify lists such events).
func reasonNote(_ reference: PersonalReference?) -> String {
    reference == nil
        ? " (the reason stands in the log, written by an older version)" : " (the reason is in the vault)"
}

/// A payload type as the decoders see it: its `type` bytes, and how to read its `data`
/// into the case that carries it.
struct EventKind: Sendable {
    /// The `type` as UTF-8.
    let name: [UInt8]
    /// Reads `data` from a parsed object.
    let readTree: @Sendable (JSONObject) throws(JSONSyntaxError) -> ProgrammeEvent

    init<Payload: EventPayload>(_: Payload.Type, _ wrap: @escaping @Sendable (Payload) -> ProgrammeEvent) {
        name = Array(Payload.type.utf8)
        readTree = { (data: JSONObject) throws(JSONSyntaxError) in wrap(try Payload(fields: data)) }
    }
}

/// Something done to an event's payload, whatever its type (`ProgrammeEvent.visit`).
public protocol PayloadVisitor {
    /// What the visit returns.
    associatedtype Output
    /// Visits a payload of a concrete type.
    func visit<Payload: EventPayload>(_ payload: Payload) -> Output
}

struct PayloadFields: PayloadVisitor {
    func visit<Payload: EventPayload>(_ payload: Payload) -> JSONObject { payload.fields }
}

/// Writes the payload's fields through a writer that outlives the visit (`writeData`).
struct PayloadBytes: PayloadVisitor {
    let writer: UnsafeMutablePointer<JSONWriter>
    func visit<Payload: EventPayload>(_ payload: Payload) { payload.write(to: &writer.pointee) }
}

struct PayloadIdentity: PayloadVisitor {
    func visit<Payload: EventPayload>(_ payload: Payload) -> String { payload.identity }
}

struct PayloadSubjects: PayloadVisitor {
    func visit<Payload: EventPayload>(_ payload: Payload) -> EventSubjects { payload.subjects }
}

struct PayloadSummary: PayloadVisitor {
    func visit<Payload: EventPayload>(_ payload: Payload) -> String { payload.auditSummary }
}

struct PayloadReferences: PayloadVisitor {
    func visit<Payload: EventPayload>(_ payload: Payload) -> [PersonalReference] { payload.personalReferences }
}
