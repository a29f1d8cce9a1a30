import EventLog

/// What a coordinator asks for. Each command, if the rules allow it, becomes exactly one
/// event. Personal data arrives sealed (see `SealedRecord`), and ids left out are filled in
/// by the service before deciding, so that `decide` itself is pure.
public enum ProgrammeCommand: Sendable {
    case launch(LaunchProgramme)
    case signUp(SignUp)
    case match(Match)
    case recordSession(RecordSession)
    case setGoal(SetGoal)
    case reachGoal(ReachGoal)
    case swap(SwapPartner)
    case withdraw(Withdraw)
    case complete(CompleteTandem)
    case void(VoidEvent)
    case forget(Forget)
    case recordMatchRun(RecordMatchRun)
    case close(CloseProgramme)
    case checkIn(RecordCheckIn)
    case updateProfile(UpdateProfile)

    /// The command's name as `tandem append` spells it.
    public var name: String {
        switch self {
        case .launch: "launch"
        case .signUp: "signup"
        case .match: "match"
        case .recordSession: "session"
        case .setGoal: "goal-set"
        case .reachGoal: "goal-reached"
        case .swap: "swap"
        case .withdraw: "withdraw"
        case .complete: "complete"
        case .void: "void"
        case .forget: "forget"
        case .recordMatchRun: "match-run"
        case .close: "programme-close"
        case .checkIn: "checkin"
        case .updateProfile: "update"
        }
    }

    /// The command's non-personal fields as given (absent fields absent), in a canonical
    /// order: its idempotency digest is the SHA-256 of this object's JSON.
    public var fingerprint: JSONObject {
        var f: [(String, JSONValue)] = [("command", .string(name))]
        func add(_ key: String, _ value: (any CustomStringConvertible)?) {
            if let value { f.append((key, .string(value.description))) }
        }
        switch self {
        case .launch(let c):
            add("id", c.id)
            add("name", c.name)
            add("starts", c.starts)
            add("ends", c.ends)
            add("cadenceDays", c.cadenceDays)
            add("minGroupSize", c.minGroupSize)
        case .signUp(let c):
            add("programme", c.programme)
            add("role", c.role.rawValue)
            add("id", c.requestedID)
            add("on", c.on)
        case .match(let c):
            add("programme", c.programme)
            add("mentor", c.mentor)
            add("mentee", c.mentee)
            add("id", c.requestedID)
            add("override", c.override.map { _ in "waived" })
            add("run", c.run)
            add("on", c.on)
        case .recordSession(let c):
            add("tandem", c.tandem)
            add("on", c.on)
            add("minutes", c.minutes)
            add("mode", c.mode?.rawValue)
            add("topics", c.topics.isEmpty ? nil : c.topics.joined(separator: ","))
        case .setGoal(let c):
            add("tandem", c.tandem)
            add("goal", c.goal)
            add("due", c.due)
            add("category", c.category)
            add("on", c.on)
        case .reachGoal(let c):
            add("tandem", c.tandem)
            add("goal", c.goal)
            add("on", c.on)
        case .swap(let c):
            add("tandem", c.tandem)
            add("leaving", c.leaving)
            add("joining", c.joining)
            add("on", c.on)
            add("reason", c.reason.rawValue)
            add("newTandem", c.requestedNewTandem)
            add("override", c.override.map { _ in "waived" })
        case .withdraw(let c):
            add("participant", c.participant)
            add("on", c.on)
            add("reason", c.reason.rawValue)
        case .complete(let c):
            add("tandem", c.tandem)
            add("on", c.on)
        case .void(let c):
            add("seq", c.seq)
        case .forget(let c):
            add("participant", c.participant)
        case .recordMatchRun(let c):
            add("run", c.event.run)
            add("programme", c.event.programme)
        case .close(let c):
            add("programme", c.programme)
            add("on", c.on)
        case .checkIn(let c):
            add("tandem", c.tandem)
            add("participant", c.participant)
            add("rating", c.rating)
            add("on", c.on)
        case .updateProfile(let c):
            add("participant", c.participant)
            add("fields", c.changes.fields.joined(separator: ","))
            add("on", c.on)
        }
        return JSONObject(f)
    }

    /// The idempotency digest: SHA-256 of the fingerprint's JSON.
    public var digest: String { SHA256.hash(JSONValue.object(fingerprint).description).hex }

    /// The sealed personal payloads the command carries.
    public var sealed: [SealedRecord] {
        switch self {
        case .signUp(let c): [c.profile]
        case .recordSession(let c): c.notes.map { [$0] } ?? []
        case .setGoal(let c): [c.text]
        case .swap(let c): [c.notes, c.override].compactMap { $0 }
        case .withdraw(let c): c.notes.map { [$0] } ?? []
        case .match(let c): c.override.map { [$0] } ?? []
        case .void(let c): [c.reason]
        case .checkIn(let c): c.notes.map { [$0] } ?? []
        case .updateProfile(let c): c.changes.sealed.map { [$0] } ?? []
        default: []
        }
    }
}

public struct LaunchProgramme: Sendable {
    public var id: ProgrammeID
    public var name: String
    public var starts: BusinessDate
    public var ends: BusinessDate
    public var cadenceDays: Int
    public var minGroupSize: Int
    public init(
        id: ProgrammeID, name: String, starts: BusinessDate, ends: BusinessDate, cadenceDays: Int = 30,
        minGroupSize: Int = 5
    ) {
        self.id = id
        self.name = name
        self.starts = starts
        self.ends = ends
        self.cadenceDays = cadenceDays
        self.minGroupSize = minGroupSize
    }
}

public struct SignUp: Sendable {
    public var programme: ProgrammeID
    public var role: Role
    public var profile: SealedRecord
    /// The id asked for, if any.
    public var requestedID: ParticipantID?
    /// The id to use: the requested one, or one the service generated.
    public var id: ParticipantID?
    public var on: BusinessDate?
    public init(
        programme: ProgrammeID, role: Role, profile: SealedRecord, id: ParticipantID? = nil, on: BusinessDate? = nil
    ) {
        self.programme = programme
        self.role = role
        self.profile = profile
        self.requestedID = id
        self.id = id
        self.on = on
    }
}

public struct Match: Sendable {
    public var programme: ProgrammeID
    public var mentor: ParticipantID
    public var mentee: ParticipantID
    public var requestedID: TandemID?
    public var id: TandemID?
    /// Why the cross-unit rule is waived, sealed (it goes to the vault, like every free text).
    public var override: SealedRecord?
    public var run: MatchRunID?
    public var on: BusinessDate?
    public init(
        programme: ProgrammeID, mentor: ParticipantID, mentee: ParticipantID, id: TandemID? = nil,
        override: SealedRecord? = nil, run: MatchRunID? = nil, on: BusinessDate? = nil
    ) {
        self.programme = programme
        self.mentor = mentor
        self.mentee = mentee
        self.requestedID = id
        self.id = id
        self.override = override
        self.run = run
        self.on = on
    }
}

public struct RecordSession: Sendable {
    public var tandem: TandemID
    public var on: BusinessDate?
    public var minutes: Int
    public var mode: SessionMode?
    public var topics: [String]
    public var notes: SealedRecord?
    public init(
        tandem: TandemID, on: BusinessDate?, minutes: Int, mode: SessionMode? = nil, topics: [String] = [],
        notes: SealedRecord? = nil
    ) {
        self.tandem = tandem
        self.on = on
        self.minutes = minutes
        self.mode = mode
        self.topics = topics
        self.notes = notes
    }
}

/// What a profile update changes: every field given replaces the old value.
public struct ProfileChanges: Sendable, Hashable {
    public var name: String?
    public var email: String?
    public var unit: String?
    public var level: Int?
    public var born: Int?
    public var gender: String?
    public var offers: [String]?
    public var wants: [String]?
    public var interests: [String]?
    /// The whole new profile, sealed by the service (which reads the old one from the vault).
    public var sealed: SealedRecord?

    public init(
        name: String? = nil, email: String? = nil, unit: String? = nil, level: Int? = nil, born: Int? = nil,
        gender: String? = nil,
        offers: [String]? = nil, wants: [String]? = nil, interests: [String]? = nil
    ) {
        self.name = name
        self.email = email
        self.unit = unit
        self.level = level
        self.born = born
        self.gender = gender
        self.offers = offers
        self.wants = wants
        self.interests = interests
    }

    /// The names of the fields given, in a fixed order.
    public var fields: [String] {
        [
            ("name", name != nil), ("email", email != nil), ("unit", unit != nil), ("level", level != nil),
            ("born", born != nil),
            ("gender", gender != nil), ("offers", offers != nil), ("wants", wants != nil),
            ("interests", interests != nil),
        ]
        .filter(\.1).map(\.0)
    }

    /// `profile` with these changes.
    public func applied(to profile: Profile) -> Profile {
        var p = profile
        if let name { p.name = name }
        if let email { p.email = email }
        if let unit { p.unit = unit }
        if let level { p.level = level }
        if let born { p.born = born }
        if let gender { p.gender = gender }
        if let offers { p.offers = offers }
        if let wants { p.wants = wants }
        if let interests { p.interests = interests }
        return p
    }
}

/// A change to a participant's profile, valid from `on`.
public struct UpdateProfile: Sendable {
    public var participant: ParticipantID
    public var changes: ProfileChanges
    public var on: BusinessDate?
    public init(participant: ParticipantID, changes: ProfileChanges, on: BusinessDate? = nil) {
        self.participant = participant
        self.changes = changes
        self.on = on
    }
}

/// "Does it fit?": a member's rating of their tandem, 1 to 5, with notes for themselves.
public struct RecordCheckIn: Sendable {
    public var tandem: TandemID
    public var participant: ParticipantID
    public var rating: Int
    public var notes: SealedRecord?
    public var on: BusinessDate?
    public init(
        tandem: TandemID, participant: ParticipantID, rating: Int, notes: SealedRecord? = nil, on: BusinessDate? = nil
    ) {
        self.tandem = tandem
        self.participant = participant
        self.rating = rating
        self.notes = notes
        self.on = on
    }
}

public struct SetGoal: Sendable {
    public var tandem: TandemID
    public var goal: GoalID
    public var text: SealedRecord
    public var due: BusinessDate?
    public var category: String?
    public var on: BusinessDate?
    public init(
        tandem: TandemID, goal: GoalID, text: SealedRecord, due: BusinessDate? = nil, category: String? = nil,
        on: BusinessDate? = nil
    ) {
        self.tandem = tandem
        self.goal = goal
        self.text = text
        self.due = due
        self.category = category
        self.on = on
    }
}

public struct ReachGoal: Sendable {
    public var tandem: TandemID
    public var goal: GoalID
    public var on: BusinessDate?
    public init(tandem: TandemID, goal: GoalID, on: BusinessDate?) {
        self.tandem = tandem
        self.goal = goal
        self.on = on
    }
}

public struct SwapPartner: Sendable {
    public var tandem: TandemID
    public var leaving: ParticipantID
    public var joining: ParticipantID
    public var on: BusinessDate?
    public var reason: ReasonCode
    public var requestedNewTandem: TandemID?
    public var newTandem: TandemID?
    /// Why a rule is waived, sealed.
    public var override: SealedRecord?
    public var notes: SealedRecord?
    public init(
        tandem: TandemID, leaving: ParticipantID, joining: ParticipantID, on: BusinessDate?, reason: ReasonCode,
        newTandem: TandemID? = nil, override: SealedRecord? = nil, notes: SealedRecord? = nil
    ) {
        self.tandem = tandem
        self.leaving = leaving
        self.joining = joining
        self.on = on
        self.reason = reason
        self.requestedNewTandem = newTandem
        self.newTandem = newTandem
        self.override = override
        self.notes = notes
    }
}

public struct Withdraw: Sendable {
    public var participant: ParticipantID
    public var on: BusinessDate?
    public var reason: ReasonCode
    public var notes: SealedRecord?
    public init(participant: ParticipantID, on: BusinessDate?, reason: ReasonCode, notes: SealedRecord? = nil) {
        self.participant = participant
        self.on = on
        self.reason = reason
        self.notes = notes
    }
}

public struct CompleteTandem: Sendable {
    public var tandem: TandemID
    public var on: BusinessDate?
    public init(tandem: TandemID, on: BusinessDate?) {
        self.tandem = tandem
        self.on = on
    }
}

public struct VoidEvent: Sendable {
    public var seq: Int
    /// Why, sealed: a correction's reason often names the person it is about.
    public var reason: SealedRecord
    public init(seq: Int, reason: SealedRecord) {
        self.seq = seq
        self.reason = reason
    }
}

public struct Forget: Sendable {
    public var participant: ParticipantID
    public init(participant: ParticipantID) { self.participant = participant }
}

/// Closes a programme (after the service has completed its active tandems in the batch).
public struct CloseProgramme: Sendable {
    public var programme: ProgrammeID
    public var on: BusinessDate?
    public init(programme: ProgrammeID, on: BusinessDate?) {
        self.programme = programme
        self.on = on
    }
}

public struct RecordMatchRun: Sendable {
    public var event: MatchRunRecorded
    public init(event: MatchRunRecorded) { self.event = event }
}

/// What an event's `override` holds when a rule was waived: the reason itself is in the vault.
public let waivedMarker = "waived"

/// What deciding a command yields: the events to append, and the vault lines they need.
public struct Decision: Sendable, Equatable {
    public var events: [ProgrammeEvent]
    public var vault: [SealedRecord]
}

/// Decides a command against the state: the event it becomes, or the rule it breaks.
///
/// Pure: no clock (today comes in), no randomness (ids and vault lines come in resolved
/// and sealed), no I/O. Idempotency keys and the void's history check are the service's.
/// - Throws: `DomainError`.
public func decide(
    _ command: ProgrammeCommand, _ state: ProgrammeState, today: BusinessDate
) throws(DomainError) -> Decision {
    func notFuture(_ date: BusinessDate) throws(DomainError) {
        guard date <= today else { throw .dateInFuture(date, today: today) }
    }
    func resolved<T>(_ value: T?, _ field: String) throws(DomainError) -> T {
        guard let value else {
            throw .invalidInput(what: field, value: "", expected: "the service fills in generated ids before deciding")
        }
        return value
    }
    let event: ProgrammeEvent
    switch command {
    case .launch(let c):
        event = .programmeLaunched(
            ProgrammeLaunched(
                programme: c.id, name: c.name.trimmed, starts: c.starts, ends: c.ends,
                cadenceDays: c.cadenceDays, minGroupSize: c.minGroupSize))
    case .signUp(let c):
        let on = c.on ?? today
        try notFuture(on)
        guard case .profile(let profile) = c.profile.payload else {
            throw .invalidInput(what: "profile", value: "", expected: "a signup carries a profile")
        }
        try profile.validate(signingUpOn: on)
        if let requested = c.requestedID { try Field.idNamesNobody(requested.rawValue, name: profile.name) }
        event = .participantSignedUp(
            ParticipantSignedUp(
                participant: try resolved(c.id, "id"), programme: c.programme, role: c.role,
                on: on, personal: c.profile.reference))
    case .match(let c):
        let on = c.on ?? today
        try notFuture(on)
        if let text = c.override?.payload.text { try Field.text("override", text, maximum: 200) }
        event = .tandemMatched(
            TandemMatched(
                tandem: try resolved(c.id, "id"), programme: c.programme, mentor: c.mentor, mentee: c.mentee,
                on: on, override: c.override.map { _ in waivedMarker }, overrideReason: c.override?.reference,
                run: c.run))
    case .recordSession(let c):
        let on = c.on ?? today
        try notFuture(on)
        try c.notes?.payload.validateText("notes", maximum: 10_000)
        for topic in c.topics { try Field.slug("topics", topic.trimmed) }
        event = .sessionHeld(
            SessionHeld(
                tandem: c.tandem, on: on, minutes: c.minutes, mode: c.mode ?? .inPerson,
                topics: c.topics.map(\.trimmed), personal: c.notes?.reference))
    case .setGoal(let c):
        let on = c.on ?? today
        try notFuture(on)
        try c.text.payload.validateText("text", maximum: 500)
        if let category = c.category { try Field.slug("category", category.trimmed) }
        event = .goalSet(
            GoalSet(
                tandem: c.tandem, goal: c.goal, on: on, due: c.due, category: c.category?.trimmed,
                personal: c.text.reference))
    case .reachGoal(let c):
        let on = c.on ?? today
        try notFuture(on)
        event = .goalReached(GoalReached(tandem: c.tandem, goal: c.goal, on: on))
    case .swap(let c):
        let on = c.on ?? today
        try notFuture(on)
        try c.notes?.payload.validateText("notes", maximum: 2_000)
        if let text = c.override?.payload.text { try Field.text("override", text, maximum: 200) }
        event = .partnerSwapped(
            PartnerSwapped(
                tandem: c.tandem, newTandem: try resolved(c.newTandem, "new-id"), leaving: c.leaving,
                joining: c.joining, on: on, reason: c.reason, override: c.override.map { _ in waivedMarker },
                overrideReason: c.override?.reference, personal: c.notes?.reference))
    case .withdraw(let c):
        let on = c.on ?? today
        try notFuture(on)
        try c.notes?.payload.validateText("notes", maximum: 2_000)
        event = .participantWithdrew(
            ParticipantWithdrew(participant: c.participant, on: on, reason: c.reason, personal: c.notes?.reference))
    case .complete(let c):
        let on = c.on ?? today
        try notFuture(on)
        event = .tandemCompleted(TandemCompleted(tandem: c.tandem, on: on))
    case .void(let c):
        try Field.text("reason", c.reason.payload.text ?? "", maximum: 200)
        event = .eventVoided(EventVoided(seq: c.seq, personal: c.reason.reference))
    case .forget(let c):
        event = .personalDataErased(
            PersonalDataErased(participant: c.participant, refs: state.erasableRefs(of: c.participant)))
    case .recordMatchRun(let c):
        event = .matchRunRecorded(c.event)
    case .close(let c):
        let on = c.on ?? today
        try notFuture(on)
        event = .programmeClosed(ProgrammeClosed(programme: c.programme, on: on))
    case .updateProfile(let c):
        let on = c.on ?? today
        try notFuture(on)
        guard !c.changes.fields.isEmpty else {
            throw .invalidInput(what: "update", value: "", expected: "at least one field to change")
        }
        guard let sealed = c.changes.sealed, case .profile(let profile) = sealed.payload else {
            throw .invalidInput(what: "profile", value: "", expected: "the service seals the updated profile")
        }
        try profile.validate(signingUpOn: on)
        event = .profileUpdated(
            ProfileUpdated(participant: c.participant, fields: c.changes.fields, on: on, personal: sealed.reference))
    case .checkIn(let c):
        let on = c.on ?? today
        try notFuture(on)
        try c.notes?.payload.validateText("notes", maximum: 2_000)
        event = .checkInRecorded(
            CheckInRecorded(
                tandem: c.tandem, participant: c.participant, rating: c.rating, on: on, personal: c.notes?.reference))
    }
    try state.validate(event)
    return Decision(events: [event], vault: command.sealed)
}
