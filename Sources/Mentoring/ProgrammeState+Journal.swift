/// The entries of a `ProgrammeState` an event reads and writes: its footprint. Used to undo a
/// batch that fails half-way without copying the whole state, and to load only what a
/// command needs.
public struct Footprint: Sendable, Equatable {
    public var participants: Set<ParticipantID> = []
    public var tandems: Set<TandemID> = []

    public init() {}

    public mutating func formUnion(_ other: Footprint) {
        participants.formUnion(other.participants)
        tandems.formUnion(other.tandems)
    }
}

extension ProgrammeState {
    /// Every participant and tandem `event` touches in this state, with the members of the
    /// tandems and the active tandems of the people involved.
    public func footprint(of event: ProgrammeEvent) -> Footprint {
        var f = Footprint()
        func tandem(_ id: TandemID) {
            f.tandems.insert(id)
            if let t = tandems[id] { f.participants.formUnion([t.mentor, t.mentee]) }
        }
        func person(_ id: ParticipantID) {
            f.participants.insert(id)
            if let active = participants[id]?.activeTandem { tandem(active) }
        }
        // Every tandem and person the event names (new ids simply are not found yet).
        let subjects = event.subjects
        for id in subjects.tandems { tandem(id) }
        for id in subjects.participants { person(id) }
        return f
    }
}

/// What applying events changed, so that it can be undone exactly.
public struct ProgrammeStateJournal: Sendable {
    var participants: [(ParticipantID, ParticipantRecord?)] = []
    var tandems: [(TandemID, TandemRecord?)] = []
    var programmes: [(ProgrammeID, Programme?)] = []
    var keys: [(String, KeyUse?)] = []
    var runs: [(MatchRunID, ProgrammeID?)] = []
    var voided: [(Int, Int?)] = []
    var head: Int
    /// The whole state, when a change is too wide to journal entry by entry (a void).
    var whole: ProgrammeState? {
        didSet { keepsWhole = whole != nil }
    }
    /// Whether `whole` is kept: asked before every event, where testing the optional state
    /// itself copied it (a retain and release of each of its tables, every event).
    private(set) var keepsWhole = false

    public init(head: Int) { self.head = head }
}

extension ProgrammeState {
    /// Applies an event, first noting in `journal` the old value of everything it touches.
    public mutating func apply(_ recorded: RecordedEvent, traits: Traits?, journal: inout ProgrammeStateJournal) {
        // With a copy of the whole state kept, there is nothing to note entry by entry.
        if journal.keepsWhole {
            apply(recorded, traits: traits)
            return
        }
        let f = footprint(of: recorded.event)
        for id in f.participants { journal.participants.append((id, participants[id])) }
        for id in f.tandems { journal.tandems.append((id, tandems[id])) }
        switch recorded.event {
        case .programmeLaunched(let e): journal.programmes.append((e.programme, programmes[e.programme]))
        case .programmeClosed(let e): journal.programmes.append((e.programme, programmes[e.programme]))
        case .eventVoided(let e): journal.voided.append((e.seq, voided[e.seq]))
        case .matchRunRecorded(let e): journal.runs.append((e.run, matchRuns[e.run]))
        default: break
        }
        if let key = recorded.key { journal.keys.append((key, keys[key])) }
        apply(recorded, traits: traits)
    }

    /// Keeps a copy of the whole state in the journal, before a change too wide to note.
    public func checkpoint(into journal: inout ProgrammeStateJournal) {
        if !journal.keepsWhole { journal.whole = self }
    }

    /// Undoes everything the journal noted, newest first.
    public mutating func rollBack(_ journal: ProgrammeStateJournal) {
        if let whole = journal.whole {
            self = whole
            return
        }
        for (id, old) in journal.participants.reversed() { participants[id] = old }
        for (id, old) in journal.tandems.reversed() { tandems[id] = old }
        for (id, old) in journal.programmes.reversed() { programmes[id] = old }
        for (key, old) in journal.keys.reversed() { keys[key] = old }
        for (run, old) in journal.runs.reversed() { matchRuns[run] = old }
        for (seq, old) in journal.voided.reversed() { voided[seq] = old }
        head = journal.head
    }
}
