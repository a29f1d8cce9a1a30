import EventLog
import Mentoring

/// A participant as the reports see them.
public struct PersonView: Sendable, Equatable {
    public var id: ParticipantID
    public var programme: ProgrammeID
    public var role: Role
    public var signedUpOn: BusinessDate
    /// Unit, level, birth year and gender, from the vault; nil once erased.
    public var traits: Traits?
    /// The vault ref of their profile: where their name is, for the rows that show it.
    public var profileRef: String? {
        get { profileVaultRef?.text }
        set { profileVaultRef = newValue.map(VaultRef.init) }
    }
    /// `profileRef` as held: packed where it can be (the fold takes it from the event so,
    /// and the people's rows keep it so).
    var profileVaultRef: VaultRef?
    public var erased = false
    public var withdrawnOn: BusinessDate?
    public var withdrawalReason: ReasonCode?
    /// Whether they withdrew before ever being in a tandem.
    public var withdrewBeforeMatch = false
    /// The day they first entered a tandem (by a match, or by joining in a swap).
    public var firstMatchedOn: BusinessDate?
    public var activeTandem: TandemID?
    /// How their last tandem ended, if it did: completed, or dissolved.
    public var lastTandemEnd: (on: BusinessDate, status: TandemStatus)?

    /// In the programme, not in a tandem now, and not done: never matched, or freed by a swap
    /// or a partner's withdrawal.
    public var isWaiting: Bool {
        withdrawnOn == nil && activeTandem == nil && lastTandemEnd?.status != .completed
    }

    public static func == (a: PersonView, b: PersonView) -> Bool {
        a.id == b.id && a.programme == b.programme && a.role == b.role && a.signedUpOn == b.signedUpOn
            && a.traits == b.traits
            && a.profileVaultRef == b.profileVaultRef
            && a.erased == b.erased && a.withdrawnOn == b.withdrawnOn && a.withdrawalReason == b.withdrawalReason
            && a.withdrewBeforeMatch == b.withdrewBeforeMatch && a.firstMatchedOn == b.firstMatchedOn
            && a.activeTandem == b.activeTandem
            && a.lastTandemEnd?.on == b.lastTandemEnd?.on && a.lastTandemEnd?.status == b.lastTandemEnd?.status

    }
}

/// A recorded match run, as the reports see it.
public struct MatchRunView: Sendable, Equatable {
    public var run: MatchRunID
    public var programme: ProgrammeID
    public var on: BusinessDate
    /// The pool's size.
    public var mentors: Int
    public var mentees: Int
    /// How many pairs the run proposed.
    public var proposedPairs: Int
}

/// How a tandem came to be.
public enum TandemOrigin: Sendable, Equatable {
    case matched(run: MatchRunID?, override: String?)
    case swap(from: TandemID, reason: ReasonCode)
}

/// A tandem as the reports see it.
public struct TandemView: Sendable, Equatable {
    public var id: TandemID
    public var programme: ProgrammeID
    public var mentor: ParticipantID
    public var mentee: ParticipantID
    public var status: TandemStatus = .active
    public var since: BusinessDate
    public var until: BusinessDate?
    public var sessions = 0
    public var minutes = 0
    public var lastSession: BusinessDate?
    public var goalsSet = 0
    public var goalsReached = 0
    public var origin: TandemOrigin
    /// Why it was dissolved (a swap's or a withdrawal's reason code).
    public var endReason: ReasonCode?

    /// Whether `participant` is one of the two.
    public func includes(_ participant: ParticipantID) -> Bool { mentor == participant || mentee == participant }
}

/// A session as the reports see it.
public struct SessionView: Sendable, Equatable {
    public var tandem: TandemID
    public var on: BusinessDate
    public var minutes: Int
    public var mode: SessionMode
    public var topics: [String]
    /// The vault ref of the notes (shown only to the tandem's members).
    public var notesRef: String?
}

/// A member's check-in: how well the tandem fits, 1 to 5.
public struct CheckInView: Sendable, Equatable {
    public var tandem: TandemID
    public var participant: ParticipantID
    public var rating: Int
    public var on: BusinessDate
    public init(tandem: TandemID, participant: ParticipantID, rating: Int, on: BusinessDate) {
        self.tandem = tandem
        self.participant = participant
        self.rating = rating
        self.on = on
    }
}

/// A goal as the reports see it.
public struct GoalView: Sendable, Equatable {
    public var tandem: TandemID
    public var goal: GoalID
    public var category: String?
    public var set: BusinessDate
    public var due: BusinessDate?
    public var reached: BusinessDate?
    /// The vault ref of the goal's text (shown only to the tandem's members).
    public var textRef: String {
        get { textVaultRef.text }
        set { textVaultRef = VaultRef(newValue) }
    }
    /// `textRef` as held: packed where it can be (the fold takes it from the event so, and
    /// the tandems' goal rows keep it so).
    var textVaultRef: VaultRef
}

/// A programme and a business day (its day number).
struct DayKey: Hashable, Sendable {
    var programme: ProgrammeID
    var day: Int

    /// The day and a fingerprint of the programme's id (its length, first and last byte),
    /// not the whole id: hashing it as text for every session a replay folds was two in a
    /// hundred of its instructions. Programmes running side by side seldom share all three
    /// (`hr-2027`, `it-2027`; `cohort-a`, `cohort-b`), so their keys of one day rarely
    /// collide; equality still compares the whole id.
    func hash(into hasher: inout Hasher) {
        // Over the contiguous bytes: through the UTF-8 view, even these three cost more than
        // hashing the whole id. (An id not stored contiguously is copied first, as
        // `StableHash` does: equal keys must hash alike however their text is held.)
        func fingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            bytes.count << 16 | Int(bytes.first ?? 0) << 8 | Int(bytes.last ?? 0)
        }
        if let print = programme.rawValue.utf8.withContiguousStorageIfAvailable(fingerprint) {
            hasher.combine(day &* 0x100_0000 &+ print)
        } else {
            var copy = programme.rawValue
            hasher.combine(day &* 0x100_0000 &+ copy.withUTF8(fingerprint))
        }
    }
}

/// The sessions of one programme on one day: how many, their minutes, how many online.
struct DailySessions: Equatable, Sendable {
    var sessions = 0
    var minutes = 0
    var online = 0

    mutating func add(minutes: Int, online: Bool) {
        sessions += 1
        self.minutes = self.minutes.addingReportingOverflow(minutes).overflow ? .max : self.minutes + minutes
        if online { self.online += 1 }
    }
}

/// Every read model, folded in one pass: an initial value plus `apply`.
///
/// It is robust to the partial histories that `--as-of` produces: an event about something
/// the window left out is ignored, never a crash.
public struct ProgrammeReadModel: EventFold, Sendable {
    public var programmes: [ProgrammeID: Programme] = [:]
    /// Programmes in launch order.
    public var programmeOrder: [ProgrammeID] = []
    var peopleRows = PeopleRows()
    var tandemRows = TandemRows()
    /// Every participant; reads give `PersonView`s.
    public var people: PeopleTable { PeopleTable(rows: peopleRows, tandems: tandemRows) }
    /// Every tandem; reads give `TandemView`s.
    public var tandems: TandemTable { TandemTable(rows: tandemRows, people: peopleRows) }
    /// Goals by tandem, in the order they were set.
    public var goals: GoalLists { GoalLists(tandems: tandemRows) }
    /// Sessions per programme and day, counted under a numeric key (no date string is built
    /// per session): what `activity` and the report's chart need from sessions when no
    /// session is kept one by one (a year's programme has at most 366 such days).
    var dailySessions: [DayKey: DailySessions] = [:]
    /// Swaps per programme.
    public var swaps: [ProgrammeID: Int] = [:]
    /// Check-ins of a tandem or by a participant the model does not know, in the order
    /// recorded (the decider records none; a log written by hand might). The others are in
    /// the tandems' rows.
    var otherCheckIns: [TandemID: [CheckInView]] = [:]
    /// Match runs: who proposed what, in numbers (the pools' ids stay in the log: a large
    /// programme records thousands of runs of hundreds of ids each).
    public var matchRuns: [MatchRunID: MatchRunView] = [:]
    /// Every session by tandem, kept only when asked for (`tandem sessions`): the other
    /// reports need counts, not the sessions themselves.
    public var sessionLog: [TandemID: [SessionView]]?
    /// Every tandem's sessions, while an index of them is being built (nil otherwise): a
    /// few bytes per session, so a full replay can build it.
    public var sessionIndex: SessionIndex.Builder?
    /// Whose sessions `sessionLog` keeps: nil for every tandem's.
    var sessionTandems: Set<TandemID>?

    /// An empty model that keeps the sessions `keeping` names, not just the counts.
    public init(keepingSessions keeping: SessionKeeping = .none) {
        keepSessions(keeping)
    }

    /// The programmes of this model and nothing else, as a snapshot's figures give them:
    /// what a listing from an index needs once it has been narrowed with the whole model
    /// (`sessions --as-of` held a window's 270 MB model while it printed).
    public var programmesOnly: ProgrammeReadModel {
        var model = ProgrammeReadModel()
        model.programmes = programmes
        model.programmeOrder = programmeOrder
        model.latestBusinessDate = latestBusinessDate
        return model
    }

    /// From now on, keeps the sessions `keeping` names (a model read from a snapshot keeps
    /// none; the tail folded after it then adds its sessions).
    public mutating func keepSessions(_ keeping: SessionKeeping) {
        switch keeping {
        case .none:
            sessionLog = nil
            sessionTandems = nil
        case .all, .listed:
            sessionLog = [:]
            sessionTandems = nil
        case .of(let tandems):
            sessionLog = [:]
            sessionTandems = tandems
        }
    }

    /// The latest business date of any event folded in: a log dated past today means the
    /// clock is behind it, and a report without `--as-of` must not count those events.
    public var latestBusinessDate: BusinessDate?

    /// The tandem or person the commonest events look up (`prefetch`): on the 10M store a
    /// quarter of the fold's time went to those lookups' cache misses.
    public static func prefetchHint(for recorded: RecordedEvent) -> PrefetchHint {
        switch recorded.event {
        case .sessionHeld(let e): PrefetchHint(table: Self.tandemTable, hash: TandemRows.hash(e.tandem))
        case .checkInRecorded(let e): PrefetchHint(table: Self.tandemTable, hash: TandemRows.hash(e.tandem))
        case .goalSet(let e): PrefetchHint(table: Self.tandemTable, hash: TandemRows.hash(e.tandem))
        case .goalReached(let e): PrefetchHint(table: Self.tandemTable, hash: TandemRows.hash(e.tandem))
        case .tandemMatched(let e): PrefetchHint(table: Self.peopleTable, hash: PeopleRows.hash(e.mentor))
        case .participantWithdrew(let e): PrefetchHint(table: Self.peopleTable, hash: PeopleRows.hash(e.participant))
        default: .none
        }
    }

    static let tandemTable: UInt8 = 1
    static let peopleTable: UInt8 = 2

    public mutating func prefetch(_ hint: PrefetchHint, stage: PrefetchStage) {
        switch hint.table {
        case Self.tandemTable: tandemRows.prefetch(hash: hint.hash, stage: stage)
        case Self.peopleTable: peopleRows.prefetch(hash: hint.hash, stage: stage)
        default: break
        }
    }

    public mutating func apply(_ recorded: RecordedEvent, traits: Traits?) {
        if let date = recorded.event.businessDate, latestBusinessDate.map({ date > $0 }) ?? true {
            latestBusinessDate = date
        }
        switch recorded.event {
        case .programmeLaunched(let e):
            if programmes[e.programme] == nil { programmeOrder.append(e.programme) }
            programmes[e.programme] = Programme(
                id: e.programme, name: e.name, starts: e.starts, ends: e.ends,
                cadenceDays: e.cadenceDays, minGroupSize: e.minGroupSize)
        case .participantSignedUp(let e):
            peopleRows.upsert(
                PersonView(
                    id: e.participant, programme: e.programme, role: e.role, signedUpOn: e.on, traits: traits,
                    profileVaultRef: e.personal.vaultRef))
        case .tandemMatched(let e):
            guard let mentor = peopleRows.row(of: e.mentor), let mentee = peopleRows.row(of: e.mentee) else { return }
            let tandem = tandemRows.upsert(
                TandemView(
                    id: e.tandem, programme: e.programme, mentor: e.mentor, mentee: e.mentee, since: e.on,
                    origin: .matched(run: e.run, override: e.override)), mentor: mentor, mentee: mentee)
            enter(mentor, tandem, on: e.on)
            enter(mentee, tandem, on: e.on)
        case .sessionHeld(let e):
            // The commonest event: one lookup, and the row changed where it is stored.
            guard let tandem = tandemRows.row(of: e.tandem) else { return }
            var programme: UInt32 = 0
            tandemRows.update(tandem) { row in
                row.sessions += 1
                let (minutes, overflow) = row.minutes.addingReportingOverflow(Int32(clamping: e.minutes))
                row.minutes = overflow ? .max : minutes
                let day = Int32(clamping: e.on.dayNumber)
                if row.lastSession < day { row.lastSession = day }  // none is Int32.min
                programme = row.programme
            }
            let programmeID = tandemRows.programmes.values[Int(programme)]
            dailySessions[DayKey(programme: programmeID, day: e.on.dayNumber), default: .init()]
                .add(minutes: e.minutes, online: e.mode == .online)
            if sessionIndex != nil { sessionIndex!.add(seq: recorded.seq, programme: programmeID, e) }
            if sessionLog != nil, sessionTandems?.contains(e.tandem) ?? true {
                sessionLog![e.tandem, default: []].append(
                    SessionView(
                        tandem: e.tandem, on: e.on, minutes: e.minutes, mode: e.mode,
                        topics: e.topics, notesRef: e.personal?.ref))
            }
        case .profileUpdated(let e):
            // From its date on, the person's groups are the new profile's: `--as-of` before it
            // never folds this event in.
            guard let row = peopleRows.row(of: e.participant) else { return }
            var person = peopleRows.view(row, tandems: tandemRows)
            guard !person.erased else { return }
            person.traits = traits
            person.profileVaultRef = e.personal.vaultRef
            var active: Int32 = -1
            peopleRows.update(row) { active = $0.activeTandem }
            peopleRows.upsert(person, activeTandem: active)
        case .checkInRecorded(let e):
            if let tandem = tandemRows.row(of: e.tandem), let participant = peopleRows.row(of: e.participant),
                let rating = Int32(exactly: e.rating), let on = Int32(exactly: e.on.dayNumber)
            {
                tandemRows.appendCheckIn(
                    .init(participant: participant, on: on, rating: rating, previous: -1), to: tandem)
            } else {
                otherCheckIns[e.tandem, default: []].append(
                    CheckInView(tandem: e.tandem, participant: e.participant, rating: e.rating, on: e.on))
            }
        case .goalSet(let e):
            guard let tandem = tandemRows.row(of: e.tandem) else { return }
            tandemRows.update(tandem) { $0.goalsSet += 1 }
            tandemRows.appendGoal(
                GoalView(
                    tandem: e.tandem, goal: e.goal, category: e.category, set: e.on, due: e.due, reached: nil,
                    textVaultRef: e.personal.vaultRef), to: tandem)
        case .goalReached(let e):
            guard let tandem = tandemRows.row(of: e.tandem), tandemRows.reach(e.goal, of: tandem, on: e.on) else {
                return
            }
            tandemRows.update(tandem) { $0.goalsReached += 1 }
        case .partnerSwapped(let e):
            guard let oldRow = tandemRows.row(of: e.tandem), let joining = peopleRows.row(of: e.joining) else { return }
            let old = tandemRows.row(oldRow)
            end(oldRow, on: e.on, as: .dissolved, reason: e.reason)
            let leaving = peopleRows.row(of: e.leaving)
            let staying = old.mentor == leaving ? old.mentee : old.mentor
            let (mentor, mentee) = old.mentor == staying ? (staying, joining) : (joining, staying)
            let programme = tandemRows.programmes.values[Int(old.programme)]
            let tandem = tandemRows.upsert(
                TandemView(
                    id: e.newTandem, programme: programme, mentor: peopleRows.id(ofRow: mentor),
                    mentee: peopleRows.id(ofRow: mentee), since: e.on, origin: .swap(from: e.tandem, reason: e.reason)),
                mentor: mentor, mentee: mentee)
            enter(staying, tandem, on: e.on)
            enter(joining, tandem, on: e.on)
            swaps[programme, default: 0] += 1
        case .participantWithdrew(let e):
            guard let person = peopleRows.row(of: e.participant) else { return }
            var tandem: Int32 = -1
            peopleRows.update(person) { row in
                row.withdrawnOn = Int32(clamping: e.on.dayNumber)
                row.reason = ReasonCode?(e.reason).stored
                if row.firstMatchedOn == .min {
                    row.flags.insert(.withdrewBeforeMatch)
                } else {
                    row.flags.remove(.withdrewBeforeMatch)
                }
                tandem = row.activeTandem
            }
            if tandem >= 0 { end(tandem, on: e.on, as: .dissolved, reason: e.reason) }
        case .tandemCompleted(let e):
            if let row = tandemRows.row(of: e.tandem) { end(row, on: e.on, as: .completed, reason: nil) }
        case .personalDataErased(let e):
            if let row = peopleRows.row(of: e.participant) { peopleRows.erase(row) }
        case .programmeClosed(let e):
            programmes[e.programme]?.closedOn = e.on
        case .matchRunRecorded(let e):
            matchRuns[e.run] = MatchRunView(
                run: e.run, programme: e.programme, on: e.on, mentors: e.mentors.count,
                mentees: e.mentees.count, proposedPairs: e.pairs.count)
        case .eventVoided, .logCreated, .unknown:
            break
        }
    }

    private mutating func enter(_ person: Int32, _ tandem: Int32, on date: BusinessDate) {
        peopleRows.update(person) { row in
            row.activeTandem = tandem
            if row.firstMatchedOn == .min { row.firstMatchedOn = Int32(clamping: date.dayNumber) }
        }
    }

    private mutating func end(_ number: Int32, on date: BusinessDate, as status: TandemStatus, reason: ReasonCode?) {
        let tandem = tandemRows.row(number)
        guard TandemStatus?(stored: tandem.status) == .active else { return }
        tandemRows.update(number) { row in
            row.status = TandemStatus?(status).stored
            row.until = Int32(clamping: date.dayNumber)
            row.endReason = reason.stored
        }
        // Each member in turn (an array literal of the two was allocated on the heap).
        for member in 0..<2 {
            peopleRows.update(member == 0 ? tandem.mentor : tandem.mentee) { row in
                guard row.activeTandem == number else { return }
                row.activeTandem = -1
                row.lastEndOn = Int32(clamping: date.dayNumber)
                row.lastEndStatus = TandemStatus?(status).stored
            }
        }
    }

    /// A tandem's check-ins in the order recorded (those the model kept aside first: a check-in
    /// of a tandem not matched yet came before the match).
    public func checkIns(of tandem: TandemID) -> [CheckInView] {
        let kept = tandemRows.row(of: tandem).map { tandemRows.checkIns(of: $0, people: peopleRows) } ?? []
        return (otherCheckIns[tandem] ?? []) + kept
    }

    /// Each member's latest check-in of a tandem (by business date), mentor's first.
    public func latestCheckIns(of tandem: TandemID) -> [CheckInView] {
        var latest: [ParticipantID: CheckInView] = [:]
        for checkIn in checkIns(of: tandem) where latest[checkIn.participant].map({ checkIn.on >= $0.on }) ?? true {
            latest[checkIn.participant] = checkIn
        }
        return latest.values.sorted { ($0.on, $0.participant) < ($1.on, $1.participant) }
    }

    /// Each participant's sessions and reached goals: those of every tandem they were in.
    ///
    /// Summed over the tandems' rows into an array by person row: no views and no dictionary
    /// (on the 10M store, building a dictionary of 1.5 million people and looking them up
    /// was a third of a grouped `stats`).
    /// - Complexity: O(tandems + people).
    public func activity() -> PersonActivity {
        // 32-bit sums, as the rows count: 8 bytes a person (21 MB on the 10M store at 16).
        var byRow = [(sessions: Int32, goalsReached: Int32)](repeating: (0, 0), count: peopleRows.count)
        for number in 0..<Int32(tandemRows.count) {
            let tandem = tandemRows.row(number)
            // Each member in turn (an array literal of the two was allocated on the heap).
            for member in 0..<2 {
                let row = Int(member == 0 ? tandem.mentor : tandem.mentee)
                let done = byRow[row]
                byRow[row] = (
                    Int32(clamping: Int(done.sessions) + Int(tandem.sessions)),
                    Int32(clamping: Int(done.goalsReached) + Int(tandem.goalsReached))
                )
            }
        }
        return PersonActivity(byRow: byRow, people: peopleRows)
    }

    /// The people of a programme, in id order.
    public func people(in programme: ProgrammeID) -> [PersonView] {
        peopleRows.rowsInIDOrder(programme: programme).map { peopleRows.view($0, tandems: tandemRows) }
    }

    /// The people of a programme waiting for a partner: not withdrawn and in no active
    /// tandem, in id order.
    public func waiting(in programme: ProgrammeID) -> [PersonView] {
        peopleRows.waitingRowsInIDOrder(programme: programme).map { peopleRows.view($0, tandems: tandemRows) }
    }

    /// The tandems of a programme (or all), in id order.
    public func tandems(in programme: ProgrammeID?) -> [TandemView] {
        tandemRows.rowsInIDOrder(programme: programme).map { tandemRows.view($0, people: peopleRows) }
    }

    /// The tandems `participant` was ever in (of a programme, or of all), in id order: only
    /// theirs are made views (a participant's own listing on a store of millions).
    /// - Complexity: O(tandems) row reads, O(theirs · log theirs) views and sorting.
    public func tandems(of participant: ParticipantID, in programme: ProgrammeID?) -> [TandemView] {
        guard let person = peopleRows.row(of: participant) else { return [] }
        var theirs: [TandemView] = []
        for number in 0..<Int32(tandemRows.count) {
            let row = tandemRows.row(number)
            guard row.mentor == person || row.mentee == person else { continue }
            let view = tandemRows.view(number, people: peopleRows)
            if programme.map({ view.programme == $0 }) ?? true { theirs.append(view) }
        }
        return theirs.sorted { $0.id < $1.id }
    }
}

extension ProgrammeReadModel {
    /// Replays a log from its first line, then gives everyone the traits of their profile
    /// in one pass over the vault (rather than holding every profile's traits while folding).
    /// - Throws: `LogError` (a broken chain), `EventDecodingError` (an unreadable event),
    ///   `SystemError` (an unreadable vault).
    public static func replay(
        _ log: any LineSource, vault: Vault, window: ReplayWindow = .everything,
        keepingSessions: SessionKeeping = .none, indexingSessions: Bool = false, observe: Replay.LineObserver? = nil
    ) throws -> Replay.Result<ProgrammeReadModel> {
        var result = try Replay.fold(log, profiles: TraitsDirectory(), window: window, observe: observe) {
            var model = ProgrammeReadModel(keepingSessions: keepingSessions)
            if indexingSessions { model.sessionIndex = SessionIndex.Builder() }
            return model
        }
        try result.fold.peopleRows.fillTraits(from: vault)
        return result
    }
}

/// Which sessions a replay keeps one by one (`tandem sessions`); every report counts them all.
public enum SessionKeeping: Sendable, Equatable {
    /// None: counts only.
    case none
    /// Every tandem's.
    case all
    /// Every tandem's, listed from the session index (`tandem sessions` without `--tandem`):
    /// the model keeps none, and the query streams them from `QueryInput.sessionListing`.
    /// Where no listing can be made (a window of history), the same as `all`.
    case listed
    /// Only these tandems' (`sessions --tandem T`): memory in proportion to what is shown,
    /// not to the log.
    case of(Set<TandemID>)
}

extension ProgrammeReadModel: Equatable {
    /// The same answers: equal views of everyone and everything, however stored.
    public static func == (a: ProgrammeReadModel, b: ProgrammeReadModel) -> Bool {
        a.programmes == b.programmes && a.programmeOrder == b.programmeOrder && a.people == b.people
            && a.tandems == b.tandems
            && a.latestBusinessDate == b.latestBusinessDate && a.dailySessions == b.dailySessions
            && a.swaps == b.swaps && a.otherCheckIns == b.otherCheckIns && a.matchRuns == b.matchRuns
            && a.sessionLog == b.sessionLog
    }
}

/// Each participant's sessions and reached goals, summed over their tandems
/// (`ProgrammeReadModel.activity()`).
public struct PersonActivity: Sendable {
    let byRow: [(sessions: Int32, goalsReached: Int32)]
    let people: PeopleRows

    /// A participant's sessions and reached goals (zeros if they were in no tandem); nil for
    /// an id that is not in the model.
    public subscript(_ id: ParticipantID) -> (sessions: Int, goalsReached: Int)? {
        people.row(of: id).map { self[row: $0] }
    }

    /// The sessions and reached goals of the person in people row `row`.
    subscript(row row: Int32) -> (sessions: Int, goalsReached: Int) {
        let done = byRow[Int(row)]
        return (Int(done.sessions), Int(done.goalsReached))
    }
}
