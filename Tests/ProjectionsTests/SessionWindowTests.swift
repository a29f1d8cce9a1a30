import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// Every session in a window (`sessions --as-of`, `--known-at`) is listed from the whole
/// log's session index narrowed by the timeline, instead of a replay that keeps every
/// session. Checked against such a replay on seeded histories with late-recorded events,
/// cut-offs inside a day, and voids recorded after the window (whose sessions come back).
@Suite("Sessions in a window: the index narrowed by the timeline lists what a replay keeps")
struct SessionWindowTests {
    static let today = BusinessDate("2030-01-01")!

    static func row(
        _ tandem: TandemID, _ on: BusinessDate, _ minutes: Int, _ mode: SessionMode, _ topics: [String], _ notes: Bool
    )
        -> String
    {
        "\(tandem) \(on) \(minutes) \(mode.rawValue) \(topics.joined(separator: ",")) \(notes)"
    }

    /// What a listing shows: every session, tandem by tandem. Cut into runs of any length,
    /// listed run by run (sessions as entries, or as a listing writes them: topics by key,
    /// each tandem numbered apart from the others), it shows the same; and it counts them.
    static func listed(_ listing: SessionIndex.Listing, programme: ProgrammeID?) throws -> [String] {
        var out: [String] = []
        try listing.forEach(programme: programme) { tandem, e in
            out.append(row(tandem, e.on, e.minutes, e.mode, e.topics, e.hasNotes))
        }
        #expect(try listing.count(programme: programme) == out.count)
        for length in [1, 2, 3, 7, 1000] {
            let runs = try listing.runs(tandemsPerRun: length)
            var byRun: [String] = [], written: [String] = []
            var numbers: [UInt64: TandemID] = [:]
            for run in 0..<runs.count {
                try runs.forEach(run: run, programme: programme) { tandem, e in
                    byRun.append(row(tandem, e.on, e.minutes, e.mode, e.topics, e.hasNotes))
                }
                try runs.forEachListed(run: run, programme: programme) { number, tandem, s in
                    #expect(numbers[number, default: tandem] == tandem, "one number, one tandem")
                    numbers[number] = tandem
                    let topics = s.topicsKey.map(runs.topics) ?? s.topics
                    written.append(row(tandem, s.on, s.minutes, s.mode, topics, s.hasNotes))
                }
            }
            #expect(byRun == out, "runs of \(length)")
            #expect(written == out, "runs of \(length), as written")
            #expect(Set(numbers.values).count == numbers.count, "a tandem numbered twice")
        }
        return out
    }

    /// What a replay of the window keeping every session shows, in the tandems' order.
    static func replayed(_ model: ProgrammeReadModel, programme: ProgrammeID?) -> [String] {
        model.tandems(in: programme).flatMap { tandem in
            (model.sessionLog?[tandem.id] ?? []).map {
                row($0.tandem, $0.on, $0.minutes, $0.mode, $0.topics, $0.notesRef != nil)
            }
        }
    }

    /// Asks every window; returns how many sessions came back from voids the windows left
    /// out, and how many lines the timeline could not judge alone. Each window is asked
    /// twice: with the lines the timeline cannot judge found by the timeline, and found
    /// among the listing's sessions (as past `unsureLinesRead` of them).
    static func expectSameSessions(
        _ service: QueryService, _ store: Store, _ windows: [ReplayWindow], seed: Int
    ) throws -> (restored: Int, unsure: Int) {
        var restored = 0, unsure = 0
        var sortingOut = service
        sortingOut.unsureLinesRead = 0
        for window in windows {
            for service in [service, sortingOut] {
                let found = try expectSameSessions(service, store, window, seed: seed)
                restored += found.restored
                unsure += found.unsure
            }
        }
        return (restored, unsure)
    }

    static func expectSameSessions(
        _ service: QueryService, _ store: Store, _ window: ReplayWindow, seed: Int
    ) throws -> (restored: Int, unsure: Int) {
        let vault = Vault(store: store)
        var restored = 0, unsure = 0
        do {
            let input = try service.input(
                QueryService.Request(
                    viewer: .coordinator, window: window, knownAt: window.knownAt.map { "seq:\($0)" },
                    keepsSessions: .listed, today: Self.today))
            let listing = try #require(input.sessionListing, "seed \(seed), \(window): no listing")
            let narrowing = try #require(listing.narrowing, "seed \(seed), \(window): the listing is not narrowed")
            restored += narrowing.restored.values.map(\.sessions.count).reduce(0, +)
            unsure += narrowing.admittedUnsure.count
            let replay = try ProgrammeReadModel.replay(
                store.events, vault: vault, window: window, keepingSessions: .all)
            #expect(input.basis.head == replay.head, "seed \(seed), \(window)")
            for programme in [nil] + replay.fold.programmeOrder.map(Optional.some) {
                let want = Self.replayed(replay.fold, programme: programme)
                let got = try Self.listed(listing, programme: programme)
                #expect(got == want, "seed \(seed), \(window), programme \(programme?.rawValue ?? "all")")
                #expect(try listing.count(programme: programme) == want.count, "seed \(seed), \(window)")
            }
            // Tandem by tandem in the index's order (an analyst's activity), each tandem's
            // sessions together: the same per tandem, restored ones included.
            var grouped: [TandemID: [String]] = [:]
            var last: TandemID?
            try listing.forEachTandemsSessions { tandem, e in
                if tandem != last {
                    #expect(grouped[tandem] == nil, "seed \(seed), \(window): \(tandem)'s sessions come apart")
                    last = tandem
                }
                grouped[tandem, default: []].append(Self.row(tandem, e.on, e.minutes, e.mode, e.topics, e.hasNotes))
            }
            var wanted: [TandemID: [String]] = [:]
            for tandem in replay.fold.tandems.values {
                let rows = (replay.fold.sessionLog?[tandem.id] ?? []).map {
                    Self.row($0.tandem, $0.on, $0.minutes, $0.mode, $0.topics, $0.notesRef != nil)
                }
                if !rows.isEmpty { wanted[tandem.id] = rows }
            }
            #expect(grouped == wanted, "seed \(seed), \(window): tandem by tandem")
            // Cut into parts (summed on as many threads): every session once, each tandem's
            // in one part, by its row in the window's model.
            var whole: [Int32: [String]] = [:]
            try listing.forEachTandemsSessionFigures(rowsIn: input.model.tandemRows) { row, e in
                whole[row, default: []].append("\(e.seq) \(e.on) \(e.minutes) \(e.online)")
            }
            #expect(whole.count == wanted.count, "seed \(seed), \(window): tandems with sessions by row")
            for (row, sessions) in whole {
                let id = input.model.tandemRows.id(ofRow: row)
                let want = (replay.fold.sessionLog?[id] ?? []).map {
                    "\($0.on) \($0.minutes) \($0.mode == .online)"
                }
                #expect(
                    sessions.map { $0.split(separator: " ").dropFirst().joined(separator: " ") } == want,
                    "seed \(seed), \(window): \(id) by row")
            }
            for parts in [2, 3, 5] {
                var split: [Int32: [String]] = [:]
                var partOf: [Int32: Int] = [:]
                for part in 0..<parts {
                    try listing.forEachTandemsSessionFigures(rowsIn: input.model.tandemRows, part: part, of: parts) {
                        row, e in
                        #expect(partOf[row, default: part] == part, "seed \(seed): a tandem in two parts")
                        partOf[row] = part
                        split[row, default: []].append("\(e.seq) \(e.on) \(e.minutes) \(e.online)")
                    }
                }
                #expect(split == whole, "seed \(seed), \(window): in \(parts) parts")
            }
            // One tandem at a time (an analyst's activity), the same.
            for tandem in replay.fold.tandems.values {
                var got: [String] = []
                try listing.forEachSession(of: tandem.id) {
                    got.append(Self.row(tandem.id, $0.on, $0.minutes, $0.mode, $0.topics, $0.hasNotes))
                }
                let want = (replay.fold.sessionLog?[tandem.id] ?? []).map {
                    Self.row($0.tandem, $0.on, $0.minutes, $0.mode, $0.topics, $0.notesRef != nil)
                }
                #expect(got == want, "seed \(seed), \(window), tandem \(tandem.id)")
            }
        }
        return (restored, unsure)
    }

    @Test("every window lists a replay's sessions, before and after more history", arguments: 0..<4)
    func windowsEqualReplays(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9700, steps: 240, backdating: true, in: directory)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 31)
        var (restored, unsure) = try Self.expectSameSessions(
            service, store,
            try TimeTravelTests.windows(store, generator: &generator), seed: seed)
        // More history, with voids of sessions the index lists, then the same questions:
        // the listing is brought up to the new head first.
        let before = try store.events.readHead().seq
        history.run(steps: 120)
        try TimeTravelTests.append(history, after: before, to: store)
        let more = try Self.expectSameSessions(
            service, store,
            try TimeTravelTests.windows(store, generator: &generator), seed: seed)
        restored += more.restored
        unsure += more.unsure
        #expect(restored > 0, "seed \(seed): no window brought back a voided session")
        #expect(unsure > 0, "seed \(seed): no window needed a line judged from the line itself")
    }

    @Test("a session the window's model has no tandem for is not listed, as a fold skips it")
    func sessionWithoutTandemInWindow() throws {
        let directory = TemporaryDirectory()
        let (history, store, service) = try TimeTravelTests.generated(seed: 9800, steps: 60, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let mentor = try #require(model.people.values.first { $0.role == .mentor }).id
        let mentee = try #require(model.people.values.first { $0.role == .mentee }).id
        // Written past the rules (which refuse a session before its tandem began): the match
        // is about a later day than its session, so a window between the two has the session
        // but not the tandem.
        let tandem = TandemID("t-late")!
        let at = Timestamp(secondsSinceEpoch: 1_880_000_000)
        let events: [ProgrammeEvent] = [
            .tandemMatched(
                TandemMatched(
                    tandem: tandem, programme: history.programme, mentor: mentor, mentee: mentee,
                    on: BusinessDate("2029-06-10")!)),
            .sessionHeld(SessionHeld(tandem: tandem, on: BusinessDate("2029-06-01")!, minutes: 45, mode: .online)),
        ]
        _ = try store.events.append(events.map { LogRecord(type: $0.type, actor: "gen", at: at, data: $0.json) })
        let window = ReplayWindow(asOf: BusinessDate("2029-06-05")!)
        let input = try service.input(
            QueryService.Request(viewer: .coordinator, window: window, keepsSessions: .listed, today: Self.today))
        let listing = try #require(input.sessionListing)
        #expect(listing.narrowing != nil)
        let replay = try ProgrammeReadModel.replay(
            store.events, vault: Vault(store: store), window: window, keepingSessions: .all)
        #expect(try Self.listed(listing, programme: nil) == Self.replayed(replay.fold, programme: nil))
        var late = 0
        try listing.forEachSession(of: tandem) { _ in late += 1 }
        #expect(late == 0)
        #expect(try listing.count(programme: nil) == Self.replayed(replay.fold, programme: nil).count)
        // The whole log's listing has it.
        let whole = try service.input(
            QueryService.Request(viewer: .coordinator, keepsSessions: .listed, today: Self.today))
        var listed = 0
        try #require(whole.sessionListing).forEachSession(of: tandem) { _ in listed += 1 }
        #expect(listed == 1)
    }

    @Test("sessions recorded out of clock order on the cut-off day are judged from their lines")
    func cutOffDayOutOfOrder() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 9900)
        history.voids = false
        history.run(steps: 80)
        let store = try TimeTravelTests.store(history, in: directory)
        let service = TimeTravelTests.service(store)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let tandem = try #require(model.tandems.values.first { $0.status == .active }).id
        // A clock set back between two recordings: the later line says it was recorded
        // earlier. A cut-off between the two keeps the second and leaves out the first,
        // though the first comes before it in the log.
        let noon = Timestamp(secondsSinceEpoch: 1_880_000_000 / 86400 * 86400 + 43200)
        let day = BusinessDate(noon)
        func session(_ minutes: Int, at: Timestamp) -> LogRecord {
            let event = ProgrammeEvent.sessionHeld(
                SessionHeld(tandem: tandem, on: day, minutes: minutes, mode: .online))
            return LogRecord(type: event.type, actor: "gen", at: at, data: event.json)
        }
        _ = try store.events.append([
            session(61, at: Timestamp(secondsSinceEpoch: noon.secondsSinceEpoch + 3600)),
            session(62, at: noon),
            session(63, at: Timestamp(secondsSinceEpoch: noon.secondsSinceEpoch + 7200)),
        ])
        let window = ReplayWindow(recordedBy: Timestamp(secondsSinceEpoch: noon.secondsSinceEpoch + 1800))
        let input = try service.input(
            QueryService.Request(viewer: .coordinator, window: window, keepsSessions: .listed, today: Self.today))
        let listing = try #require(input.sessionListing)
        let replay = try ProgrammeReadModel.replay(
            store.events, vault: Vault(store: store), window: window, keepingSessions: .all)
        #expect(try Self.listed(listing, programme: nil) == Self.replayed(replay.fold, programme: nil))
        var minutes: [Int] = []
        try listing.forEachSession(of: tandem) { minutes.append($0.minutes) }
        #expect(minutes.contains(62) && !minutes.contains(61) && !minutes.contains(63), "\(minutes)")
        #expect(try #require(listing.narrowing).admittedUnsure.count == 1)
    }
}
