import EventLog

/// An event's payload: what goes into a log line's `data`, in the documented key order.
public protocol EventPayload: Sendable, Equatable, Codable {
    /// The log line's `type`.
    static var type: String { get }
    /// The `data` object, keys in contract order; optional fields omitted when absent.
    var json: JSONObject { get }
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

    public var json: JSONObject {
        [
            "programme": .string(programme.rawValue), "name": .string(name), "starts": .string(starts.description),
            "ends": .string(ends.description), "cadenceDays": .int(Int64(cadenceDays)),
            "minGroupSize": .int(Int64(minGroupSize)),
        ]
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

    public var json: JSONObject {
        [
            "participant": .string(participant.rawValue), "programme": .string(programme.rawValue),
            "role": .string(role.rawValue),
            "on": .string(on.description), "personal": personal.json,
        ]
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

    public var json: JSONObject {
        var o: JSONObject = [
            "tandem": .string(tandem.rawValue), "programme": .string(programme.rawValue),
            "mentor": .string(mentor.rawValue), "mentee": .string(mentee.rawValue), "on": .string(on.description),
        ]
        if let override { o["override"] = .string(override) }
        if let overrideReason { o["overrideReason"] = overrideReason.json }
        if let run { o["run"] = .string(run.rawValue) }
        return o
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

    enum CodingKeys: String, CodingKey { case tandem, on, minutes, mode, topics, personal }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tandem = try c.decode(TandemID.self, forKey: .tandem)
        on = try c.decode(BusinessDate.self, forKey: .on)
        minutes = try c.decode(Int.self, forKey: .minutes)
        mode = try c.decode(SessionMode.self, forKey: .mode)
        topics = try c.decodeIfPresent([String].self, forKey: .topics) ?? []
        personal = try c.decodeIfPresent(PersonalReference.self, forKey: .personal)
    }

    public var json: JSONObject {
        var o: JSONObject = [
            "tandem": .string(tandem.rawValue), "on": .string(on.description),
            "minutes": .int(Int64(minutes)), "mode": .string(mode.rawValue),
        ]
        if !topics.isEmpty { o["topics"] = .array(topics.map(JSONValue.string)) }
        if let personal { o["personal"] = personal.json }
        return o
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

    public var json: JSONObject {
        var o: JSONObject = [
            "tandem": .string(tandem.rawValue), "goal": .string(goal.rawValue), "on": .string(on.description),
        ]
        if let due { o["due"] = .string(due.description) }
        if let category { o["category"] = .string(category) }
        o["personal"] = personal.json
        return o
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

    public var json: JSONObject {
        ["tandem": .string(tandem.rawValue), "goal": .string(goal.rawValue), "on": .string(on.description)]
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

    public var json: JSONObject {
        var o: JSONObject = [
            "tandem": .string(tandem.rawValue), "newTandem": .string(newTandem.rawValue),
            "leaving": .string(leaving.rawValue), "joining": .string(joining.rawValue),
            "on": .string(on.description), "reason": .string(reason.rawValue),
        ]
        if let override { o["override"] = .string(override) }
        if let overrideReason { o["overrideReason"] = overrideReason.json }
        if let personal { o["personal"] = personal.json }
        return o
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

    public var json: JSONObject {
        var o: JSONObject = [
            "participant": .string(participant.rawValue), "on": .string(on.description),
            "reason": .string(reason.rawValue),
        ]
        if let personal { o["personal"] = personal.json }
        return o
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

    public var json: JSONObject { ["tandem": .string(tandem.rawValue), "on": .string(on.description)] }
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

    public var json: JSONObject {
        var o: JSONObject = ["seq": .int(Int64(seq))]
        if let reason { o["reason"] = .string(reason) }
        if let personal { o["personal"] = personal.json }
        return o
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

    public var json: JSONObject {
        ["participant": .string(participant.rawValue), "refs": .array(refs.map(JSONValue.string))]
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

    public struct ProposedPair: Sendable, Equatable, Codable, Hashable {
        public var mentor: ParticipantID
        public var mentee: ParticipantID
        public init(mentor: ParticipantID, mentee: ParticipantID) {
            self.mentor = mentor
            self.mentee = mentee
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

    public var json: JSONObject {
        [
            "run": .string(run.rawValue), "programme": .string(programme.rawValue), "on": .string(on.description),
            "weights": .object(
                JSONObject(weights.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.double($0.value)) })),
            "mentors": .array(mentors.map { .string($0.rawValue) }),
            "mentees": .array(mentees.map { .string($0.rawValue) }),
            "pairs": .array(
                pairs.map { .object(["mentor": .string($0.mentor.rawValue), "mentee": .string($0.mentee.rawValue)]) }),
        ]
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

    public var json: JSONObject { ["programme": .string(programme.rawValue), "on": .string(on.description)] }
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

    public var json: JSONObject {
        [
            "participant": .string(participant.rawValue), "fields": .array(fields.map(JSONValue.string)),
            "on": .string(on.description),
            "personal": personal.json,
        ]
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

    public var json: JSONObject {
        var o: JSONObject = [
            "tandem": .string(tandem.rawValue), "participant": .string(participant.rawValue),
            "rating": .int(Int64(rating)), "on": .string(on.description),
        ]
        if let personal { o["personal"] = personal.json }
        return o
    }
}

/// Every event of the programme log (v1), plus a case for types this build does not know.
public enum ProgrammeEvent: Sendable, Equatable {
    case programmeLaunched(ProgrammeLaunched)
    case participantSignedUp(ParticipantSignedUp)
    case tandemMatched(TandemMatched)
    case sessionHeld(SessionHeld)
    case goalSet(GoalSet)
    case goalReached(GoalReached)
    case partnerSwapped(PartnerSwapped)
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

    /// The `data` object.
    public var json: JSONObject {
        switch self {
        case .programmeLaunched(let e): e.json
        case .participantSignedUp(let e): e.json
        case .tandemMatched(let e): e.json
        case .sessionHeld(let e): e.json
        case .goalSet(let e): e.json
        case .goalReached(let e): e.json
        case .partnerSwapped(let e): e.json
        case .participantWithdrew(let e): e.json
        case .tandemCompleted(let e): e.json
        case .eventVoided(let e): e.json
        case .personalDataErased(let e): e.json
        case .matchRunRecorded(let e): e.json
        case .programmeClosed(let e): e.json
        case .checkInRecorded(let e): e.json
        case .profileUpdated(let e): e.json
        case .logCreated(let id): ["log": .string(id), "format": .int(Int64(logFormatVersion))]
        case .unknown(_, let data): data
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

    /// The personal references the event introduces.
    public var personalReferences: [PersonalReference] {
        switch self {
        case .participantSignedUp(let e): [e.personal]
        case .sessionHeld(let e): e.personal.map { [$0] } ?? []
        case .goalSet(let e): [e.personal]
        case .partnerSwapped(let e): [e.personal, e.overrideReason].compactMap { $0 }
        case .participantWithdrew(let e): e.personal.map { [$0] } ?? []
        case .tandemMatched(let e): e.overrideReason.map { [$0] } ?? []
        case .eventVoided(let e): e.personal.map { [$0] } ?? []
        case .checkInRecorded(let e): e.personal.map { [$0] } ?? []
        case .profileUpdated(let e): [e.personal]
        // Events of the store rather than the programme (`LogRecovered`) keep their free
        // text in the vault the same way, so that verify and forget see it.
        case .unknown(_, let data): PersonalReference(json: data["personal"]).map { [$0] } ?? []
        default: []
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
    public var onBehalfOf: String?
    /// The vault record of whom the actor acted for (new events; `onBehalfOf` holds the name
    /// in logs written before).
    public var onBehalfOfRef: PersonalReference?
    /// The idempotency key it was recorded with.
    public var key: String?
    /// SHA-256 over the command's non-personal fields, to tell a retry from a key reuse.
    public var keyDigest: String?
    public var event: ProgrammeEvent

    public init(
        seq: Int, at: Timestamp, actor: String, onBehalfOf: String? = nil, onBehalfOfRef: PersonalReference? = nil,
        key: String? = nil,
        keyDigest: String? = nil, event: ProgrammeEvent
    ) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.onBehalfOfRef = onBehalfOfRef
        self.key = key.map(IdempotencyKey.stored)
        self.keyDigest = keyDigest
        self.event = event
    }
}
