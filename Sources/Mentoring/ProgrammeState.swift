/// A programme as launched.
public struct Programme: Sendable, Equatable {
    public var id: ProgrammeID
    public var name: String
    public var starts: BusinessDate
    public var ends: BusinessDate
    public var cadenceDays: Int
    public var minGroupSize: Int
    /// The day it was closed, if it was.
    public var closedOn: BusinessDate?

    public init(
        id: ProgrammeID, name: String, starts: BusinessDate, ends: BusinessDate, cadenceDays: Int, minGroupSize: Int
    ) {
        self.id = id
        self.name = name
        self.starts = starts
        self.ends = ends
        self.cadenceDays = cadenceDays
        self.minGroupSize = minGroupSize
    }

    /// Whether `date` falls inside the programme.
    public func contains(_ date: BusinessDate) -> Bool { date >= starts && date <= ends }
}

/// What the write side knows of a participant.
public struct ParticipantRecord: Sendable, Equatable {
    public var id: ParticipantID
    public var programme: ProgrammeID
    public var role: Role
    public var signedUpOn: BusinessDate
    /// The unit, from the vault; nil once erased. The cross-unit rule needs it.
    public var unit: String?
    public var withdrawnOn: BusinessDate?
    public var activeTandem: TandemID?
    public var erased = false
    /// Every tandem they were ever in, oldest first.
    public var tandems: [TandemID] = []
    /// The vault refs about them alone: their profile and withdrawal text.
    public var refs: RefList = []
    /// Whom each match run proposed as their partner: a match that names a run must be one
    /// it proposed (or say why not with an override). Kept with the person, so that a
    /// writer reads only the two people it matches.
    public var proposals: [MatchRunID: ParticipantID] = [:]
}

/// A goal of a tandem.
public struct GoalRecord: Sendable, Equatable {
    public var setOn: BusinessDate
    public var due: BusinessDate?
    public var category: String?
    public var reachedOn: BusinessDate?
}

/// What the write side knows of a tandem.
public struct TandemRecord: Sendable, Equatable {
    public var id: TandemID
    public var programme: ProgrammeID
    public var mentor: ParticipantID
    public var mentee: ParticipantID
    public var since: BusinessDate
    public var until: BusinessDate?
    public var status: TandemStatus = .active
    public var lastSession: BusinessDate?
    /// The seq that matched the pair (or swapped them together), and the seq that ended it.
    public var sinceSeq = 0
    public var untilSeq: Int?
    /// The latest business date of anything recorded about the tandem while it ran (a
    /// session, a goal set or reached, a check-in), and the seq that recorded it: an end
    /// dated before it would contradict the history.
    public var lastActivity: BusinessDate?
    public var lastActivitySeq = 0
    public var goals: [GoalID: GoalRecord] = [:]
    /// Vault refs that belong to the tandem: session notes, goal texts, swap notes.
    public var refs: RefList = []

    /// Keeps the latest dated activity (on a tie, the later seq).
    mutating func noteActivity(on date: BusinessDate, seq: Int) {
        if lastActivity == nil || date >= lastActivity! {
            lastActivity = date
            lastActivitySeq = seq
        }
    }

    /// Whether `participant` is one of the two.
    public func includes(_ participant: ParticipantID) -> Bool { mentor == participant || mentee == participant }

    /// The other member.
    public func partner(of participant: ParticipantID) -> ParticipantID { participant == mentor ? mentee : mentor }
}

/// What an idempotency key was used for.
public struct KeyUse: Sendable, Equatable {
    public var seq: Int
    public var digest: String
    /// The vault refs of the personal data the command carried (to compare a retry with).
    public var refs: [String]

    package init(seq: Int, digest: String, refs: [String]) {
        self.seq = seq
        self.digest = digest
        self.refs = refs
    }
}

/// The decider's state: everything the programme's rules need, folded from the log.
///
/// `apply` is `evolve`: pure, no I/O. Voided events never reach it (the replay skips them).
public struct ProgrammeState: Sendable, Equatable {
    /// The seq of the last event folded in.
    public var head = 0
    public var programmes: [ProgrammeID: Programme] = [:]
    public var participants = RecordTable<ParticipantID, ParticipantRecord>()
    public var tandems = RecordTable<TandemID, TandemRecord>()
    public var keys: [String: KeyUse] = [:]
    public var matchRuns: [MatchRunID: ProgrammeID] = [:]
    /// Voided seq → the seq of the void.
    public var voided: [Int: Int] = [:]

    public init() {}

    /// Folds one event in. `traits` are the signed-up participant's, from the vault (nil for
    /// other events, or if it was erased).
    /// - Complexity: O(1) amortised.
    public mutating func apply(_ recorded: RecordedEvent, traits: Traits? = nil) {
        head = max(head, recorded.seq)
        if let key = recorded.key {
            keys[key] = KeyUse(
                seq: recorded.seq, digest: recorded.keyDigest ?? "",
                refs: recorded.event.personalReferences.map(\.ref))
        }
        switch recorded.event {
        case .programmeLaunched(let e):
            programmes[e.programme] = Programme(
                id: e.programme, name: e.name, starts: e.starts, ends: e.ends,
                cadenceDays: e.cadenceDays, minGroupSize: e.minGroupSize)
        case .participantSignedUp(let e):
            participants.set(
                e.participant,
                ParticipantRecord(
                    id: e.participant, programme: e.programme, role: e.role, signedUpOn: e.on,
                    unit: traits?.unit, refs: RefList(e.personal.vaultRef)))
        case .tandemMatched(let e):
            var tandem = TandemRecord(
                id: e.tandem, programme: e.programme, mentor: e.mentor, mentee: e.mentee, since: e.on)
            tandem.sinceSeq = recorded.seq
            tandems.set(e.tandem, tandem)
            join(e.mentor, e.tandem)
            join(e.mentee, e.tandem)
        case .sessionHeld(let e):
            // Changed in place: a copy taken out would share the refs, and appending to
            // them would copy every ref the tandem has.
            tandems.update(e.tandem) { tandem in
                tandem.lastSession = max(tandem.lastSession ?? e.on, e.on)
                tandem.noteActivity(on: e.on, seq: recorded.seq)
                if let ref = e.personal?.vaultRef { tandem.refs.append(ref) }
            }
        case .profileUpdated(let e):
            participants.update(e.participant) { participant in
                participant.refs.append(e.personal.vaultRef)
                if let traits { participant.unit = traits.unit }
            }
        case .checkInRecorded(let e):
            // The notes may speak of the partner: either one's erasure removes them.
            tandems.update(e.tandem) { tandem in
                if let ref = e.personal?.vaultRef { tandem.refs.append(ref) }
                // A check-in is part of the tandem's history: an end backdated before it would
                // leave a check-in of a tandem that had ended (the timeline property test found it).
                tandem.noteActivity(on: e.on, seq: recorded.seq)
            }
        case .goalSet(let e):
            tandems.update(e.tandem) { tandem in
                tandem.goals[e.goal] = GoalRecord(setOn: e.on, due: e.due, category: e.category)
                tandem.refs.append(e.personal.vaultRef)
                tandem.noteActivity(on: e.on, seq: recorded.seq)
            }
        case .goalReached(let e):
            tandems.update(e.tandem) { tandem in
                tandem.goals[e.goal]?.reachedOn = e.on
                tandem.noteActivity(on: e.on, seq: recorded.seq)
            }
        case .partnerSwapped(let e):
            guard let old = tandems[e.tandem] else { return }
            end(e.tandem, on: e.on, as: .dissolved, seq: recorded.seq)
            let staying = old.partner(of: e.leaving)
            let (mentor, mentee) = old.mentor == staying ? (staying, e.joining) : (e.joining, staying)
            var new = TandemRecord(
                id: e.newTandem, programme: old.programme, mentor: mentor, mentee: mentee, since: e.on)
            new.sinceSeq = recorded.seq
            if let ref = e.personal?.vaultRef { new.refs.append(ref) }
            tandems.set(e.newTandem, new)
            join(staying, e.newTandem)
            join(e.joining, e.newTandem)
        case .participantWithdrew(let e):
            let tandem = participants.update(e.participant) { participant in
                participant.withdrawnOn = e.on
                if let ref = e.personal?.vaultRef { participant.refs.append(ref) }
                return participant.activeTandem
            }
            if let tandem = tandem ?? nil { end(tandem, on: e.on, as: .dissolved, seq: recorded.seq) }
        case .tandemCompleted(let e):
            end(e.tandem, on: e.on, as: .completed, seq: recorded.seq)
        case .eventVoided(let e):
            voided[e.seq] = recorded.seq
        case .personalDataErased(let e):
            participants.update(e.participant) { participant in
                participant.erased = true
                participant.unit = nil
            }
        case .programmeClosed(let e):
            programmes[e.programme]?.closedOn = e.on
        case .matchRunRecorded(let e):
            matchRuns[e.run] = e.programme
            for pair in e.pairs {
                participants[pair.mentor]?.proposals[e.run] = pair.mentee
                participants[pair.mentee]?.proposals[e.run] = pair.mentor
            }
        case .logCreated, .unknown:
            break
        }
    }

    private mutating func join(_ participant: ParticipantID, _ tandem: TandemID) {
        participants.update(participant) { record in
            record.activeTandem = tandem
            record.tandems.append(tandem)
        }
    }

    private mutating func end(_ id: TandemID, on date: BusinessDate, as status: TandemStatus, seq: Int) {
        let ended = tandems.update(id) { tandem -> (ParticipantID, ParticipantID)? in
            guard tandem.status == .active else { return nil }
            tandem.status = status
            tandem.until = date
            tandem.untilSeq = seq
            return (tandem.mentor, tandem.mentee)
        }
        guard let members = ended ?? nil else { return }
        for member in [members.0, members.1] {
            participants.update(member) { record in
                if record.activeTandem == id { record.activeTandem = nil }
            }
        }
    }

    /// Whether two people have been a tandem before (in any role, however it ended). Read
    /// from the first one's tandems, so that a state loaded only in part answers it too.
    public func werePartners(_ a: ParticipantID, _ b: ParticipantID) -> Bool {
        guard let record = participants[a] else { return false }
        return record.tandems.contains { tandems[$0]?.includes(b) == true }
    }

    /// The vault refs an erasure of `participant` removes: their own, and those of every
    /// tandem they were in (notes and goal texts belong to the tandem, and name its life).
    public func erasableRefs(of participant: ParticipantID) -> [String] {
        guard let record = participants[participant] else { return [] }
        return record.refs + record.tandems.flatMap { tandems[$0]?.refs ?? [] }
    }
}

/// `evolve(state, event)`: the fold, as a function.
public func evolve(_ state: ProgrammeState, _ recorded: RecordedEvent, profile: Profile? = nil) -> ProgrammeState {
    var next = state
    next.apply(recorded, traits: profile.map(Traits.init))
    return next
}
