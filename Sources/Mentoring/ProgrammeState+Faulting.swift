import EventLog

/// The entries a command or an event reads: named ids, each either "shallow" (is there one,
/// and what is it) or "deep" (with everything the rules read around it).
public struct StateNeeds: Sendable, Equatable {
    public var participants: [(ParticipantID, deep: Bool)] = []
    public var tandems: [(TandemID, deep: Bool)] = []
    public var keys: [String] = []
    /// Match runs by id: whether there is one, and its programme.
    public var runs: [MatchRunID] = []

    public init() {}

    public static func == (a: StateNeeds, b: StateNeeds) -> Bool {
        a.participants.map(\.0) == b.participants.map(\.0) && a.participants.map(\.deep) == b.participants.map(\.deep)
            && a.tandems.map(\.0) == b.tandems.map(\.0) && a.tandems.map(\.deep) == b.tandems.map(\.deep)
            && a.keys == b.keys && a.runs == b.runs
    }
}

extension ProgrammeCommand {
    /// What deciding this command reads, besides the small parts every state holds
    /// (programmes, voids). A void needs the whole history and is not listed.
    public var needs: StateNeeds {
        var n = StateNeeds()
        switch self {
        case .launch, .void, .close: break
        case .recordMatchRun(let c):
            for pair in c.event.pairs { n.participants += [(pair.mentor, true), (pair.mentee, true)] }
            n.runs.append(c.event.run)
        case .signUp(let c): if let id = c.id { n.participants.append((id, false)) }
        case .match(let c):
            n.participants += [(c.mentor, true), (c.mentee, true)]
            if let id = c.id { n.tandems.append((id, false)) }
            if let run = c.run { n.runs.append(run) }
        case .recordSession(let c): n.tandems.append((c.tandem, true))
        case .checkIn(let c):
            n.tandems.append((c.tandem, true))
            n.participants.append((c.participant, true))
        case .updateProfile(let c): n.participants.append((c.participant, true))
        case .setGoal(let c): n.tandems.append((c.tandem, true))
        case .reachGoal(let c): n.tandems.append((c.tandem, true))
        case .complete(let c): n.tandems.append((c.tandem, true))
        case .swap(let c):
            n.tandems.append((c.tandem, true))
            if let id = c.newTandem { n.tandems.append((id, false)) }
            n.participants += [(c.leaving, true), (c.joining, true)]
        case .withdraw(let c): n.participants.append((c.participant, true))
        case .forget(let c): n.participants.append((c.participant, true))
        }
        return n
    }
}

extension ProgrammeEvent {
    /// What validating and applying this event reads and changes, besides the small parts
    /// every state holds.
    public var needs: StateNeeds {
        var n = StateNeeds()
        // Every tandem and person the event names, deep: an id the event creates is not in
        // the snapshot, so loading it finds nothing, which is what the rules check.
        let subjects = self.subjects
        n.tandems = subjects.tandems.map { ($0, true) }
        n.participants = subjects.participants.map { ($0, true) }
        // The runs the rules look up: a match as proposed by one, and a run recorded twice.
        switch self {
        case .tandemMatched(let e): if let run = e.run { n.runs.append(run) }
        case .matchRunRecorded(let e): n.runs.append(e.run)
        default: break
        }
        return n
    }
}

/// Loads entries of a decider snapshot into a partial `ProgrammeState` as they are needed,
/// so that recording a command on a store of a million events reads a few records, not the
/// log or the whole state.
///
/// What "deep" loads is exactly what the rules and `apply` read around an entry:
/// - a participant: their record, every tandem they were in (former partners, erasable
///   refs) and both members of their active tandem (a withdrawal ends it);
/// - a tandem: its record and both members, deep.
///
/// An entry already in the state (changed by an event since the snapshot) is never
/// overwritten: the snapshot only fills gaps. The property tests check that decisions on a
/// partial state equal decisions on the whole one.
public struct StateFaulting {
    let reader: DeciderSnapshot.Reader
    private var seenParticipants: Set<ParticipantID> = []
    private var deepParticipants: Set<ParticipantID> = []
    private var seenTandems: Set<TandemID> = []
    private var deepTandems: Set<TandemID> = []
    private var seenKeys: Set<String> = []
    private var seenRuns: Set<MatchRunID> = []

    public init(_ reader: DeciderSnapshot.Reader) { self.reader = reader }

    /// Loads what `needs` lists.
    /// - Throws: `SnapshotError` if a record is damaged.
    public mutating func fault(_ needs: StateNeeds, into state: inout ProgrammeState) throws(SnapshotError) {
        for (id, deep) in needs.participants { try participant(id, deep: deep, into: &state) }
        for (id, deep) in needs.tandems { try tandem(id, deep: deep, into: &state) }
        for key in needs.keys { try self.key(key, into: &state) }
        for run in needs.runs { try self.run(run, into: &state) }
    }

    public mutating func participant(
        _ id: ParticipantID, deep: Bool, into state: inout ProgrammeState
    ) throws(SnapshotError) {
        if seenParticipants.insert(id).inserted, state.participants[id] == nil, let record = try reader.participant(id)
        {
            state.participants[id] = record
        }
        guard deep, deepParticipants.insert(id).inserted, let record = state.participants[id] else { return }
        for tandem in record.tandems { try self.tandem(tandem, deep: false, into: &state) }
        if let active = record.activeTandem, let tandem = state.tandems[active] {
            try participant(tandem.mentor, deep: false, into: &state)
            try participant(tandem.mentee, deep: false, into: &state)
        }
    }

    public mutating func tandem(_ id: TandemID, deep: Bool, into state: inout ProgrammeState) throws(SnapshotError) {
        if seenTandems.insert(id).inserted, state.tandems[id] == nil, let record = try reader.tandem(id) {
            state.tandems[id] = record
        }
        guard deep, deepTandems.insert(id).inserted, let record = state.tandems[id] else { return }
        try participant(record.mentor, deep: true, into: &state)
        try participant(record.mentee, deep: true, into: &state)
    }

    public mutating func run(_ run: MatchRunID, into state: inout ProgrammeState) throws(SnapshotError) {
        if seenRuns.insert(run).inserted, state.matchRuns[run] == nil, let programme = try reader.run(run) {
            state.matchRuns[run] = programme
        }
    }

    public mutating func key(_ key: String, into state: inout ProgrammeState) throws(SnapshotError) {
        if seenKeys.insert(key).inserted, state.keys[key] == nil, let use = try reader.key(key) {
            state.keys[key] = use
        }
    }
}
