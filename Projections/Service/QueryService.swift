import EventLog
import Mentoring

/// The read side's application service, the twin of `ProgrammeService`: it loads the read
/// model for a request (from the projections snapshot and the log's tail, or by a replay in
/// the window asked for), makes the basis true, builds the viewer's disclosure policy, runs
/// the query and keeps the access ledger. Command-line code only parses, calls and renders.
public struct QueryService: Sendable {
    public let store: Store
    let clock: any Clock
    let random: any RandomSource
    /// Where warnings go (a report that left events out, a ledger that could not be written).
    let warn: @Sendable (Warning) -> Void
    /// How far apart time-travel checkpoints are saved; nil: by the log's size (tests set a
    /// few lines, to have many).
    public var checkpointSpacing: Int?
    /// How many bytes of checkpoints are kept beyond the least few; nil: twice as many as
    /// the log has (`Checkpoints.budget`).
    public var checkpointBudget: Int?
    /// How long the log's tail after the subject index may grow before an audit merges it
    /// in (tests set a few lines).
    public var subjectIndexTail = SubjectIndex.longestTail
    /// Up to how many lines the timeline cannot judge are read one by one when a window's
    /// sessions are listed (`SessionIndex.Listing.narrowed`); tests set none, to have the
    /// listing's records sorted out instead.
    public var unsureLinesRead = SessionIndex.Listing.unsureLinesRead
    /// The timeline, read once for every window question about the same head.
    let timelines = Timeline.Memo()

    /// Something a query answered despite, for the caller to word.
    public enum Warning: Sendable {
        /// Events dated after today were left out (the clock is behind the log).
        case eventsAfterToday(count: Int, today: BusinessDate, latest: BusinessDate)
        /// The access ledger could not be written; the query answered all the same.
        case ledgerNotWritten(any Error)
    }

    public init(
        store: Store, clock: any Clock, random: any RandomSource, warn: @escaping @Sendable (Warning) -> Void = { _ in }
    ) {
        self.store = store
        self.clock = clock
        self.random = random
        self.warn = warn
    }

    /// What a query needs loaded.
    public struct Request: Sendable {
        public var viewer: Viewer
        /// `--as-of` and `--known-at`, as one window.
        public var window: ReplayWindow
        /// `--known-at` as given (`2027-03-01` or `seq:40`), for the basis.
        public var knownAt: String?
        /// Which tandems' sessions to keep (`sessions`, `activity`, `report`).
        public var keepsSessions: SessionKeeping
        /// Whether what the snapshot's figures section holds (the headline figures and the
        /// programmes) answers the query: a plain `stats`, or `sessions` listed from the index.
        public var figuresSuffice: Bool
        /// What the query is confined to (`--tandem T`, a participant's own tandems): a slice
        /// of the read model holding them answers it. A participant viewer is always added.
        public var confinedTo: Confinement?
        /// The business day "today" is (from the clock, unless the caller says otherwise).
        public var today: BusinessDate?
        /// The kind of query, where it is known before anything is read: a view that may not
        /// run it is refused at once (the query checks again), not after a whole model was
        /// loaded.
        public var kind: QueryKind?

        public init(
            viewer: Viewer, window: ReplayWindow = .everything, knownAt: String? = nil,
            keepsSessions: SessionKeeping = .none,
            figuresSuffice: Bool = false, confinedTo: Confinement? = nil, today: BusinessDate? = nil
        ) {
            self.confinedTo = confinedTo
            self.viewer = viewer
            self.window = window
            self.knownAt = knownAt
            self.keepsSessions = keepsSessions
            self.figuresSuffice = figuresSuffice
            self.today = today
        }
    }

    /// How a query attempt goes on the access ledger.
    public struct Access: Sendable {
        /// The command as typed (`stats`, `goal set`).
        public var command: String
        public var actor: String
        /// Filters kept as they are: ids, dimension names, dates, numbers.
        public var filters: JSONObject
        /// Filters whose values describe people (a `--segment` value, a search): kept as the
        /// dimension and a keyed hash of the value, which shows two probes of the same group as
        /// such without saying which group.
        public var keyed: [(name: String, dimension: String?, value: String)]

        public init(
            command: String, actor: String, filters: JSONObject = [:],
            keyed: [(name: String, dimension: String?, value: String)] = []
        ) {
            self.command = command
            self.actor = actor
            self.filters = filters
            self.keyed = keyed
        }
    }

    /// Loads the input for `request`, runs `query` on it and records the attempt (refused
    /// and failed ones too: probing is visible) in the access ledger.
    /// - Throws: whatever loading or the query throws, after recording it; a damaged log is
    ///   not recorded (the ledger may be just as damaged).
    public func answer(
        _ request: Request, access: Access, _ query: (QueryInput) throws -> QueryResult
    ) throws -> QueryResult {
        let result: QueryResult
        do {
            result = try query(try input(request))
        } catch {
            if !((error as? LogError)?.isDamage ?? false) {
                record(
                    access, role: request.viewer, basisSeq: nil, suppressed: 0, confidentialRead: false,
                    outcome: Self.outcome(of: error))
            }
            throw error
        }
        record(
            access, role: result.basis.role, basisSeq: result.basis.head.seq, suppressed: result.suppressedCells,
            confidentialRead: result.confidentialRead, outcome: "ok")
        return result
    }

    /// The ledger's word for how an attempt ended: `refused:<code>` for errors that say
    /// their code, else `failed`.
    public static func outcome(of error: any Error) -> String {
        if let coded = error as? any LedgerOutcome { return coded.ledgerOutcome }
        return "failed"
    }

    /// The read model for `request`, wrapped for its viewer.
    ///
    /// The basis is the truth: without `--as-of` a report is as of today, so events about
    /// later days (the clock is behind the log) are left out, and a warning says how many.
    /// - Throws: `QueryError.knownAtForAnalysts` if an analyst asks for `--known-at`;
    ///   `QueryError.knownAtBeyondHead`; `LogError` and `SystemError` from reading the store.
    public func input(_ request: Request) throws -> QueryInput {
        // Stepping --known-at through the log one seq at a time profiles each entry: the log's
        // history is for coordinators and auditors.
        if request.knownAt != nil, request.viewer == .analyst { throw QueryError.knownAtForAnalysts }
        if let kind = request.kind { try request.viewer.permit(kind) }
        let today = request.today ?? BusinessDate(clock.now())
        var window = request.window
        // Analysts' figures are perturbed per person, so the stored exact headline never suffices.
        let figuresSuffice = request.figuresSuffice && request.viewer != .analyst
        var input = try load(request, window: window, today: today, figuresSuffice: figuresSuffice)
        if window.asOf == nil, let latest = input.model.latestBusinessDate, latest > today {
            window.asOf = today
            input = try load(request, window: window, today: today, figuresSuffice: false)
            input.basis.asOfGiven = false
            let later = try countDated(after: today)
            warn(.eventsAfterToday(count: later, today: today, latest: latest))
        }
        input.disclosure = try disclosure(for: request.viewer, model: input.model)
        return input
    }

    /// The disclosure policy of a viewer: the cell-key method for analysts (keyed by the
    /// store's secret), exact figures for everyone else.
    public func disclosure(for viewer: Viewer, model: ProgrammeReadModel) throws -> DisclosurePolicy {
        guard viewer == .analyst else { return DisclosurePolicy(viewer: viewer) }
        let erased = model.people.erasedCount
        var policy = DisclosurePolicy.cellKey(RecordKeys(secret: try store.secret(random: random)), erased: erased)
        policy.rowKeys = RecordKeyFiles(directory: store.cacheDirectory)
        return policy
    }

    /// Folds the store in a window.
    ///
    /// For the whole log (no `--as-of`, no `--known-at`), the projections snapshot is used
    /// when it matches the log: the model is read from it and only the tail is folded (then
    /// the snapshot is brought up to date). When the log has not moved and the headline
    /// figures suffice, only they are read. Some tandems' sessions (`sessions --tandem`) come
    /// from the session index written with that snapshot: their lines are read by seq, and
    /// the tail's are folded. A window (`--as-of`, `--known-at`) resumes from the nearest
    /// checkpoint it admits; every session in a window is the whole log's listing narrowed
    /// to it (`listedInWindow`). Anything else (a snapshot or index that does not fit, no
    /// timeline yet) is a replay from the first line, which for the whole log leaves both
    /// for next time.
    func load(_ request: Request, window: ReplayWindow, today: BusinessDate, figuresSuffice: Bool) throws -> QueryInput
    {
        let vault = Vault(store: store)
        let whole = window == .everything
        // Every tandem's sessions, listed from the index (a participant's list shows notes,
        // which only the log holds, and a window needs the history's own sessions).
        let listing = whole && request.keepsSessions == .listed && !request.viewer.isParticipant
        let snapshots = whole && (request.keepsSessions == .none || listing)
        // Some tandems' sessions (`sessions --tandem`): from the session index, when it covers
        // the same prefix as the projections snapshot.
        var indexed: Set<TandemID>?
        if whole, case .of(let tandems) = request.keepsSessions { indexed = tandems }
        func basis(_ head: LogHead) -> Basis {
            Basis(
                head: head, asOf: window.asOf ?? today, asOfGiven: window.asOf != nil, knownAt: request.knownAt,
                role: request.viewer)
        }
        // One or a few tandems (`sessions --tandem T`, `goals --tandem T`): their records only.
        // Analysts' figures are perturbed with counts over everyone, so they get the whole model.
        if whole, let confined = request.confinedTo, request.viewer != .analyst,
            let input = try? sliced(confined, request: request, basis: basis)
        {
            return input
        }
        if snapshots || indexed != nil {
            let file = ProjectionSnapshot.file(store), index = SessionIndex.file(store)
            let head = try store.events.readHead()
            // Read only when it matters (a warm `stats` reads no more than it did).
            let indexHeader = indexed == nil && !listing ? nil : try? SessionIndex.header(index)
            if let header = try? ProjectionSnapshot.header(file),
                (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: vault.size)) != nil,
                (indexed == nil && !listing)
                    || (indexHeader?.head == header.head && indexHeader?.logEnd == header.logEnd)
            {
                // Nothing to fold: the index lists every session as it is.
                let listed =
                    listing && header.head == head
                    ? indexHeader.flatMap { try? SessionIndex.Listing(index, header: $0) } : nil
                // The headline figures (and the programmes) suffice for some queries (`stats`,
                // `sessions` with a listing): then they are all that is read.
                if figuresSuffice, header.head == head, !listing || listed != nil,
                    let (model, figures) = try? ProjectionSnapshot.figures(file, header: header)
                {
                    var input = QueryInput(model: model, basis: basis(head), vault: vault, figures: figures)
                    input.sessionListing = listed
                    return input
                }
                if let (snapshotModel, voided) = try? ProjectionSnapshot.model(file, header: header) {
                    var model = consume snapshotModel
                    var profiles = TraitsDirectory()
                    try profiles.load(vault, from: header.vaultSize)
                    // The tail's sessions, for the index, and as sessions for the query.
                    model.sessionIndex = SessionIndex.Builder()
                    if let indexed { model.keepSessions(.of(indexed)) }
                    // Moved into the checkpoint, not copied (see `Replay.fold`).
                    var checkpoint = Replay.Checkpoint(fold: ProgrammeReadModel(), head: header.head, voided: voided)
                    swap(&checkpoint.fold, &model)
                    // A void of an event before the snapshot restarts the fold from the first
                    // line: then the fold itself has every session.
                    var restarted = false
                    var result = try Replay.fold(
                        store.events, profiles: profiles, resumingFrom: consume checkpoint,
                        allProfiles: {
                            var all = TraitsDirectory()
                            try all.load(vault)
                            return all
                        }
                    ) {
                        restarted = true
                        var fresh = ProgrammeReadModel(keepingSessions: indexed.map { .of($0) } ?? .none)
                        fresh.sessionIndex = SessionIndex.Builder()
                        return fresh
                    }
                    // An index that does not fit the log (damaged, or listing a line that is not
                    // the tandem's session) is not trusted: the replay below answers instead.
                    if !restarted, let indexed, let indexHeader,
                        (try? SessionIndex.prependSessions(
                            of: indexed, from: index, header: indexHeader, log: store.events, voided: result.voided,
                            into: &result.fold))
                            == nil
                    {
                        return try replayed()
                    }
                    let end =
                        result.head == header.head
                        ? nil : try? SnapshotFile.logEnd(of: result.head.seq, in: store.events)
                    // The index of the log up to the new head: the fold's own after a restart,
                    // else the old one with the tail's sessions (one that fell behind the
                    // snapshot stays behind and is never read; a replay writes both again).
                    var sessions: SessionIndex.Sections?
                    if end != nil || (listing && (restarted || listed == nil)), let builder = result.fold.sessionIndex {
                        if restarted {
                            sessions = SessionIndex.sections(builder)
                        } else if let indexHeader = indexHeader ?? (try? SessionIndex.header(index)),
                            indexHeader.head == header.head
                        {
                            sessions = try? SessionIndex.extended(index, header: indexHeader, with: builder)
                        }
                    }
                    result.fold.sessionIndex = nil
                    var figures: [ProgrammeID: StatsQuery.Figures]?
                    var indexWritten = false
                    if let end {
                        figures = try? ProjectionSnapshot.write(
                            result.fold, voided: result.voided, head: result.head, logEnd: end, vaultSize: vault.size,
                            to: file)
                        if let sessions {
                            indexWritten =
                                (try? SessionIndex.write(
                                    sessions, head: result.head, logEnd: end, vaultSize: vault.size, to: index)) != nil
                        }
                    }
                    var input = QueryInput(
                        model: result.fold, basis: basis(result.head), vault: vault, figures: figures)
                    if listing {
                        if !restarted, end == nil, let listed {
                            input.sessionListing = listed
                        } else {
                            // Listed from the index just written (mapped) rather than merged
                            // again in memory; from the sections when it could not be written.
                            let written = indexWritten ? try? SessionIndex.header(index) : nil
                            guard let sessions,
                                let found = try? written.map({ try SessionIndex.Listing(index, header: $0) })
                                    ?? SessionIndex.Listing(sessions)
                            else {
                                return try replayed()
                            }
                            input.sessionListing = found
                        }
                    }
                    return input
                }
            }
        }
        // Every session in a window (`sessions --as-of`, an analyst's `activity --as-of`):
        // the window's model, and the whole log's listing narrowed to the window.
        if !whole, request.keepsSessions == .listed, !request.viewer.isParticipant,
            let input = try listedInWindow(request, window: window, today: today)
        {
            return input
        }
        // Some tandems' sessions in a window (`sessions --tandem T --as-of`, a participant's
        // own): the window's model, and those tandems' sessions from the listing.
        if !whole, request.keepsSessions != .none,
            let input = try keptInWindow(request, window: window, today: today)
        {
            return input
        }
        // A window of history: from the nearest checkpoint it admits; without a timeline
        // yet, a replay that builds one.
        if !whole, request.keepsSessions == .none {
            // One or a few tandems, or a participant's own: their slice of the checkpoint (as
            // for the whole log, analysts' perturbed figures need everyone).
            var confinement = request.viewer == .analyst ? nil : request.confinedTo
            if case .participant(let me) = request.viewer { confinement?.participants.insert(me) }
            if let input = try timeTravel(window, confinedTo: confinement, basis: basis) { return input }
            let builder = Timeline.Builder()
            let input = try replayed(observe: { try builder.observe($0) })
            builder.timeline.save(store)
            return input
        }
        return try replayed()

        func replayed(observe: Replay.LineObserver? = nil) throws -> QueryInput {
            // The vault's size is taken before the log is read: every profile of an event the
            // replay sees is below it.
            let vaultSize = vault.size
            var replay = try ProgrammeReadModel.replay(
                store.events, vault: vault, window: window, keepingSessions: listing ? .none : request.keepsSessions,
                indexingSessions: whole, observe: observe)
            if let limit = window.knownAt, limit > replay.head.seq {
                throw QueryError.knownAtBeyondHead(limit, head: replay.head.seq)
            }
            let sessions = replay.fold.sessionIndex.map(SessionIndex.sections)
            replay.fold.sessionIndex = nil
            var figures: [ProgrammeID: StatsQuery.Figures]?
            if whole && replay.head.seq > 0, let end = try? SnapshotFile.logEnd(of: replay.head.seq, in: store.events) {
                figures = try? ProjectionSnapshot.write(
                    replay.fold, voided: replay.voided, head: replay.head, logEnd: end, vaultSize: vaultSize,
                    to: ProjectionSnapshot.file(store))
                if let sessions {
                    try? SessionIndex.write(
                        sessions, head: replay.head, logEnd: end, vaultSize: vaultSize, to: SessionIndex.file(store))
                }
            }
            var input = QueryInput(model: replay.fold, basis: basis(replay.head), vault: vault, figures: figures)
            if listing, let sessions { input.sessionListing = try SessionIndex.Listing(sessions) }
            return input
        }
    }

    /// The input of a query that lists every session in `window`: the window's model (time
    /// travel, keeping no session), and the session index's listing of the whole log, brought
    /// up to date and narrowed to the window with the timeline. Nil when there is no listing
    /// or timeline to narrow (the caller replays keeping every session instead).
    /// - Throws: what loading either input throws; `LogError`, `EventDecodingError` from
    ///   reading the lines the narrowing judges or restores.
    func listedInWindow(_ request: Request, window: ReplayWindow, today: BusinessDate) throws -> QueryInput? {
        // Without a recording cut-off the narrowing judges no line by the timeline: its voids
        // are kept while the window's model loads, not its 47 MB of days.
        let judgesLines = window.recordedBy != nil
        return try timelines.keep(days: judgesLines) {
            var modelRequest = request
            modelRequest.keepsSessions = .none
            var input = try load(modelRequest, window: window, today: today, figuresSuffice: false)
            guard let (listing, timeline) = try currentListing(today: today, needsDays: judgesLines) else { return nil }
            input.sessionListing = try listing.narrowed(
                to: window, through: input.basis.head.seq, timeline: timeline, model: input.model, log: store.events,
                unsureLinesRead: unsureLinesRead)
            // A query that needs only the programmes besides the listing (`sessions`) lets
            // the rest of the model go before it prints (not for analysts: their disclosure
            // policy counts the model's erased people).
            if request.figuresSuffice, request.viewer != .analyst {
                input.model = input.model.programmesOnly
                Syscall.returnFreedMemory()
            }
            return input
        }
    }

    /// The input of a window query that shows some tandems' sessions: `sessions --tandem T`,
    /// or a participant's `sessions` or `activity` (their own tandems'). The window's model
    /// comes by time travel, keeping no session; those tandems' sessions are the whole log's
    /// listing narrowed to the window and to them, and their notes' refs are read from
    /// their lines (a member's view shows the notes). Nil when there is no listing or
    /// timeline to narrow, or the index does not match the log: the caller then replays.
    /// - Throws: what loading the window's model throws; `LogError`, `EventDecodingError`
    ///   from reading the sessions' lines.
    func keptInWindow(_ request: Request, window: ReplayWindow, today: BusinessDate) throws -> QueryInput? {
        try timelines.keep {
            var modelRequest = request
            modelRequest.keepsSessions = .none
            var input = try load(modelRequest, window: window, today: today, figuresSuffice: false)
            var tandems: Set<TandemID>
            if case .of(let named) = request.keepsSessions {
                tandems = named
            } else if case .participant(let me) = request.viewer {
                tandems = Set(input.model.tandems(of: me, in: nil).map(\.id))
            } else {
                return nil
            }
            guard let (listing, timeline) = try currentListing(today: today, only: tandems) else { return nil }
            do {
                let narrowed = try listing.narrowed(
                    to: window, through: input.basis.head.seq, timeline: timeline, model: input.model,
                    log: store.events,
                    only: tandems)
                input.model.keepSessions(.of(tandems))
                for tandem in tandems.sorted() {
                    var seqs: [Int] = []
                    try narrowed.forEachSession(of: tandem) { seqs.append($0.seq) }
                    let sessions = try SessionIndex.sessionViews(of: tandem, at: seqs, in: store.events)
                    if !sessions.isEmpty { input.model.sessionLog?[tandem] = sessions }
                }
            } catch is SnapshotError {
                return nil
            }
            return input
        }
    }

    /// The session listing of the whole log, brought up to date, and the timeline of the same
    /// head: what a window's sessions are narrowed from. The listing's head is at or after
    /// any window's basis (the log may have grown since). Nil when either cannot be had.
    ///
    /// With `only`, a listing of those tandems: read from the index file alone when it is
    /// at the log's head (no other tandem's record is read), else the whole listing. Without
    /// `needsDays`, the timeline may come without its days (voids, head and count only).
    /// - Throws: `LogError`, `SystemError` from reading the store.
    private func currentListing(
        today: BusinessDate, only: Set<TandemID>? = nil, needsDays: Bool = true
    ) throws -> (SessionIndex.Listing, Timeline)? {
        if let only {
            let head = try store.events.readHead()
            let index = SessionIndex.file(store)
            if let header = try? SessionIndex.header(index), header.head == head,
                (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: Vault(store: store).size))
                    != nil,
                let listing = try? SessionIndex.Listing(index, header: header, only: only),
                let timeline = try timelines.timeline(store, head: head, needsDays: needsDays), timeline.head == head
            {
                return (listing, timeline)
            }
        }
        // Loaded as a coordinator's: nothing of it is shown but what the window's query picks.
        let wholeRequest = Request(viewer: .coordinator, keepsSessions: .listed, figuresSuffice: true, today: today)
        let current = try load(wholeRequest, window: .everything, today: today, figuresSuffice: true)
        guard let listing = current.sessionListing,
            let timeline = try timelines.timeline(store, head: current.basis.head, needsDays: needsDays),
            timeline.head == current.basis.head
        else { return nil }
        return (listing, timeline)
    }

    /// The input of a query confined to `confinement`, from a slice of the projections snapshot
    /// and the log's tail; nil when a slice does not do (no snapshot that fits, an id that
    /// is not in it, a tail that reaches outside the slice, a void, damage): the whole
    /// model then answers, and says what is wrong if anything is.
    /// - Throws: `LogError`, `SystemError` from reading the store.
    func sliced(_ confinement: Confinement, request: Request, basis: (LogHead) -> Basis) throws -> QueryInput? {
        let vault = Vault(store: store)
        let file = ProjectionSnapshot.file(store)
        let head = try store.events.readHead()
        var confinement = confinement
        if case .participant(let id) = request.viewer { confinement.participants.insert(id) }
        guard let header = try? ProjectionSnapshot.header(file),
            (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: vault.size)) != nil,
            // A long tail is folded once into the whole model, which is then saved, rather
            // than into every slice again.
            head.seq - header.head.seq <= Self.longestSlicedTail,
            var slice = try? ProjectionSnapshot.slice(file, header: header, confinement: confinement)
        else { return nil }
        // Sessions come from the index and the tail: the index must cover the snapshot's prefix.
        let index = SessionIndex.file(store)
        var indexHeader: SnapshotFile.Header?
        if request.keepsSessions != .none {
            guard let found = try? SessionIndex.header(index),
                found.head == header.head, found.logEnd == header.logEnd
            else { return nil }
            indexHeader = found
        }
        // Every tandem of the slice keeps its sessions (the query picks those it shows).
        slice.model.keepSessions(request.keepsSessions == .none ? .none : .of(slice.tandems))
        var profiles = TraitsDirectory()
        try profiles.load(vault, from: header.vaultSize)
        var result: Replay.Result<SliceFold>
        do {
            result = try Replay.fold(
                store.events, profiles: profiles,
                resumingFrom: Replay.Checkpoint(fold: SliceFold(slice: slice), head: header.head, voided: slice.voided),
                replaysOnVoid: false
            ) { SliceFold(slice: slice) }
        } catch is Replay.RetroactiveVoid { return nil }
        guard !result.fold.outgrown else { return nil }
        var model = result.fold.slice.model
        if let indexHeader {
            try SessionIndex.prependSessions(
                of: slice.tandems, from: index, header: indexHeader, log: store.events, voided: result.voided,
                into: &model)
        }
        var input = QueryInput(model: model, basis: basis(result.head), vault: vault)
        input.sliced = true
        return input
    }

    /// `tandem audit`: the trail, read through the subject index when one fits the log.
    /// A pass over the whole log without an index, or with one whose tail has grown long,
    /// writes a new one.
    ///
    /// In a window (`--as-of`, `--known-at`), a tandem's or participant's trail is read
    /// through the index too, which is told the subject's tandems and partners by a slice of
    /// the whole log's model; without one (no projections snapshot that fits), every line
    /// is read.
    /// - Throws: as `AuditQuery.run`.
    public func audit(_ input: QueryInput, window: ReplayWindow, options: AuditQuery.Options) throws -> QueryResult {
        let head = try store.events.readHead()
        let vaultSize = Vault(store: store).size
        var index = SubjectIndex.open(store, head: head, vaultSize: vaultSize)
        if let found = index, head.seq - found.head.seq > subjectIndexTail { index = nil }
        // The trail of everything by recording day (`--since`, `--until`) or in a window reads
        // only the lines the timeline cannot rule out; without a timeline, the pass over every
        // line writes one.
        var narrowed: (runs: [ClosedRange<Int>], through: LogHead)?
        var timelineBuilder: Timeline.Builder?
        if options.subject == .everything
            && (options.since != nil || options.until != nil || window.asOf != nil || window.recordedBy != nil)
        {
            // Only the runs are kept: the timeline (47 MB on the 10M store) is let go before
            // the pass.
            if let timeline = try? timelines.timeline(store, head: head) {
                narrowed = (AuditQuery.narrowedRuns(timeline, options: options, window: window), timeline.head)
            } else {
                timelineBuilder = Timeline.Builder()
            }
        }
        // A pass over every line of the whole log (re)writes the index on the way.
        let builder = index == nil && window == .everything && narrowed == nil ? SubjectIndex.Builder() : nil
        // The whole trail of everything holds every line: with the index written, the
        // timeline's voids are all the pass would have found (rendering checks them), and
        // no line is read twice.
        // Without a timeline, the pass writes one for next time.
        var voidsOfWholeLog: (targets: [Int: Int], through: Int)?
        if options.subject == .everything, options.since == nil, options.until == nil, window == .everything {
            if let timeline = try? timelines.timeline(store, head: head, needsDays: false), timeline.head == head {
                if builder == nil {
                    var targets: [Int: Int] = [:]
                    for void in timeline.voids { targets[void.seq] = void.target }
                    voidsOfWholeLog = (targets, head.seq)
                }
            } else {
                timelineBuilder = Timeline.Builder()
            }
        }
        var subjectModel: ProgrammeReadModel?
        if window != .everything, index != nil {
            var confinement = Confinement()
            switch options.subject {
            case .tandem(let t): confinement.tandems = [t]
            case .participant(let p): confinement.participants = [p]
            case .programme, .everything: break
            }
            if confinement != Confinement() {
                let today = BusinessDate(clock.now())
                subjectModel =
                    (try? sliced(confinement, request: Request(viewer: input.viewer, today: today)) {
                        Basis(head: $0, asOf: today, asOfGiven: false, knownAt: nil, role: input.viewer)
                    })?.model
            }
        }
        let result = try AuditQuery.run(
            store.events, window: window, input: input, options: options, index: index, subjectModel: subjectModel,
            collecting: builder, narrowedTo: narrowed, observing: timelineBuilder, voidsOfWholeLog: voidsOfWholeLog)
        timelineBuilder?.timeline.save(store)
        if let builder, builder.head > 0, let end = try? SnapshotFile.logEnd(of: builder.head, in: store.events),
            let line = try? store.events.readHead(), line.seq == builder.head
        {
            try? builder.write(to: SubjectIndex.file(store), head: line, logEnd: end, vaultSize: vaultSize)
        }
        return result
    }

    /// The longest tail a slice folds (about a tenth of a second of decoding).
    static let longestSlicedTail = 65_536

    /// How many events are about a business day after `date` (a full pass: only needed when
    /// the clock is behind the log).
    func countDated(after date: BusinessDate) throws -> Int {
        struct LaterDated: EventFold {
            let after: BusinessDate
            var count = 0
            mutating func apply(_ recorded: RecordedEvent, traits: Traits?) {
                if let day = recorded.event.businessDate, day > after { count += 1 }
            }
        }
        return try Replay.fold(store.events, profiles: TraitsDirectory(), window: .everything) {
            LaterDated(after: date)
        }.fold.count
    }

    /// Appends one line to the access ledger; if it cannot be written (a read-only store), the
    /// query still answers, with a warning.
    public func record(
        _ access: Access, role: Viewer, basisSeq: Int?, suppressed: Int, confidentialRead: Bool, outcome: String
    ) {
        do {
            var filters = access.filters
            for (name, dimension, value) in access.keyed {
                let hash =
                    "hmac:"
                    + HMAC.sha256(key: try store.secret(random: random), message: Array(value.utf8)).hex.prefix(16)
                filters[name] = .string(dimension.map { $0 + "=" + hash } ?? hash)
            }
            let run = AccessLedger.Run(
                command: access.command, role: role, actor: access.actor, filters: filters, basisSeq: basisSeq ?? -1,
                suppressed: suppressed, confidentialRead: confidentialRead, outcome: outcome)
            try AccessLedger(store: store).record(run, at: clock.now(), random: random)
        } catch {
            warn(.ledgerNotWritten(error))
        }
    }

    /// `tandem access`: the access ledger's lines, for a viewer who may read them.
    /// - Throws: `DisclosureRefusal` for other viewers; `LogError` if the ledger is damaged.
    public func accessLog(_ input: QueryInput, since: BusinessDate?) throws -> QueryResult {
        try AccessLedger.list(store.access, basis: input.basis, since: since)
    }

    /// Records the proposal a `suggest` computed as a match run (`--record`), through the
    /// write side.
    /// - Throws: `QueryError.recordingNotAllowed` for a viewer who may not record; whatever
    ///   `ProgrammeService.record` throws.
    public func recordMatchRun(
        _ proposal: Matching.Proposal, programme: ProgrammeID, input: QueryInput, context: RecordingContext
    ) throws -> RecordedOutcome {
        guard input.viewer.mayRecord else { throw QueryError.recordingNotAllowed }
        let (mentors, mentees) = try SuggestQuery.pool(input, programme: programme)
        let event = MatchRunRecorded(
            run: .random(using: random), programme: programme, on: BusinessDate(clock.now()),
            weights: Matching.Weights().json, mentors: mentors.map(\.id).sorted(), mentees: mentees.map(\.id).sorted(),
            pairs: proposal.pairs.map { .init(mentor: $0.mentor, mentee: $0.mentee) })
        return try ProgrammeService(store: store, clock: clock, random: random).record(
            .recordMatchRun(RecordMatchRun(event: event)), context: context)
    }
}

/// An error that says how the access ledger records the attempt it ended.
public protocol LedgerOutcome {
    /// `refused:<code>`, or `failed`.
    var ledgerOutcome: String { get }
}

extension DisclosureRefusal: LedgerOutcome {
    public var ledgerOutcome: String { "refused:" + code }
}

extension QueryError: LedgerOutcome {
    public var ledgerOutcome: String {
        switch self {
        case .unknownTandem, .unknownParticipant, .unknownProgramme: "refused:unknown-id"
        case .notYours: "refused:not-yours"
        case .knownAtForAnalysts, .recordingNotAllowed: "refused:role"
        default: "refused:invalid"
        }
    }
}
