import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

/// Queries about one tandem (`sessions --tandem T`, `goals --tandem T`) answered from a
/// slice of the projections snapshot against the plain path: on seeded histories, with a
/// tail of more history after the snapshot, every tandem's sessions and goals, for the
/// coordinator and for each member, equal what a replay from the first line answers.
@Suite("Model slices: one tandem's queries answer as a replay does")
struct ModelSliceTests {
    static let today = BusinessDate("2030-01-01")!
    /// Invitations are due only inside the programme, after every generated day.
    static let dueDay = BusinessDate("2027-12-30")!

    enum Query: CaseIterable { case sessions, goals, tandems, due }

    /// The answer of `query` about `tandem` (or, with none, a participant's own tandems) for
    /// `viewer`, through the service as the command line asks it, and whether a slice
    /// answered; or the error's text.
    static func answer(
        _ query: Query, _ tandem: TandemID?, viewer: Viewer, service: QueryService, window: ReplayWindow = .everything
    ) -> (answer: String, sliced: Bool) {
        var confinement: Confinement? = tandem.map { Confinement(tandems: [$0]) }
        if tandem == nil, case .participant = viewer { confinement = Confinement() }
        let request = QueryService.Request(
            viewer: viewer, window: window,
            keepsSessions: query == .sessions ? tandem.map { .of([$0]) } ?? .all : .none,
            confinedTo: confinement, today: query == .due ? dueDay : today)
        do {
            let input = try service.input(request)
            let options = GoalsQuery.Options(tandem: tandem)
            let result: QueryResult
            switch query {
            case .sessions: result = try SessionsQuery.run(input, options)
            case .goals: result = try GoalsQuery.run(input, options)
            case .tandems: result = try TandemsQuery.run(input, .init(status: .all))
            case .due: result = try DueQuery.run(input, .init(within: 400))
            }
            // What the slice holds beyond what a participant's listing shows: the tandems'
            // check-ins, the same as the whole model's.
            var checkIns: [String] = []
            if query == .tandems, case .participant(let me) = viewer {
                checkIns = input.model.tandems.values.filter { $0.includes(me) }.map {
                    "\($0.id): \(input.model.latestCheckIns(of: $0.id))"
                }.sorted()
            }
            return ("\(result.payload) \(result.table.rows) \(checkIns)", input.sliced)
        } catch {
            return ("error: \(error)", false)
        }
    }

    /// Every tandem's answers equal a replay's (a window of everything up to a far day
    /// takes the plain path); returns how many a slice answered.
    static func expectSameAnswers(_ store: Store, _ service: QueryService, seed: Int) throws -> Int {
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        var tandems = model.tandems.values.map(\.id)
        tandems.append(TandemID("t-never")!)
        var sliced = 0
        // Each participant's own sessions, goals, tandems and invitations, from their tandems.
        for person in model.people.values.map(\.id) + [ParticipantID("p-never")!] {
            for query in Query.allCases {
                let fast = answer(query, nil, viewer: .participant(person), service: service)
                let plain = answer(
                    query, nil, viewer: .participant(person), service: service,
                    window: ReplayWindow(asOf: query == .due ? dueDay : today))
                #expect(fast.answer == plain.answer, "seed \(seed): own \(query) of \(person)")
                if fast.sliced { sliced += 1 }
            }
        }
        for tandem in tandems {
            var viewers: [Viewer] = [.coordinator, .auditor]
            if let view = model.tandems[tandem] {
                viewers += [.participant(view.mentor), .participant(view.mentee)]
                // Someone else: refused, as the whole model refuses them.
                if let other = model.people.values.first(where: { !view.includes($0.id) }) {
                    viewers.append(.participant(other.id))
                }
            }
            for viewer in viewers {
                for query in [Query.sessions, .goals] {
                    let fast = answer(query, tandem, viewer: viewer, service: service)
                    let plain = answer(
                        query, tandem, viewer: viewer, service: service, window: ReplayWindow(asOf: today))
                    #expect(fast.answer == plain.answer, "seed \(seed): \(query) of \(tandem) for \(viewer)")
                    if fast.sliced { sliced += 1 }
                }
            }
        }
        return sliced
    }

    @Test("every tandem's sessions and goals equal a replay's, with and without a tail", arguments: 0..<6)
    func sliceEqualsReplay(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 7100, steps: 160, backdating: seed % 2 == 1, in: directory)
        // A whole-model query writes the snapshot and the session index.
        _ = try service.input(QueryService.Request(viewer: .coordinator, today: Self.today))
        #expect(try Self.expectSameAnswers(store, service, seed: seed) > 0, "seed \(seed): no slice answered")

        // A tail the snapshot does not cover: sessions, goals, swaps, withdrawals, erasures;
        // voids too for half the seeds (a slice then gives way to the whole model).
        history.voids = seed % 2 == 0
        let before = try store.events.readHead().seq
        history.run(steps: 60)
        try TimeTravelTests.append(history, after: before, to: store)
        let sliced = try Self.expectSameAnswers(store, service, seed: seed)
        #expect(sliced > 0 || history.voids, "seed \(seed): no slice answered after the tail")
    }

    @Test("a tandem the snapshot does not know is answered from a slice, unless the tail matches it")
    func unknownTandemFromASlice() throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(seed: 7300, steps: 160, in: directory)
        _ = try service.input(QueryService.Request(viewer: .coordinator, today: Self.today))
        let known = Set(
            try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold.tandems.values.map(\.id))
        let never = TandemID("t-never")!
        var request = QueryService.Request(
            viewer: .coordinator, keepsSessions: .of([never]), confinedTo: Confinement(tandems: [never]),
            today: Self.today)
        let input = try service.input(request)
        #expect(input.sliced, "a mistyped id is answered from a slice")
        #expect(throws: QueryError.unknownTandem(never)) { _ = try SessionsQuery.run(input, .init(tandem: never)) }
        #expect(Self.answer(.goals, never, viewer: .coordinator, service: service).answer.contains("unknownTandem"))

        // Tandems matched in the tail: the first asked reaches outside the slice, and the
        // whole model answers (writing the snapshot, which then knows the others).
        history.voids = false
        let before = try store.events.readHead().seq
        history.run(steps: 80)
        try TimeTravelTests.append(history, after: before, to: store)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let new = model.tandems.values.map(\.id).filter { !known.contains($0) }
        try #require(!new.isEmpty, "the tail matched new tandems")
        request.keepsSessions = .of([new[0]])
        request.confinedTo = Confinement(tandems: [new[0]])
        #expect(try !service.input(request).sliced)
        for tandem in new {
            let fast = Self.answer(.sessions, tandem, viewer: .coordinator, service: service)
            let plain = Self.answer(
                .sessions, tandem, viewer: .coordinator, service: service, window: ReplayWindow(asOf: Self.today))
            #expect(fast.answer == plain.answer, "\(tandem)")
        }
    }

    /// A store of 200 generated steps whose snapshot and session index a whole-model query
    /// wrote, and its model.
    static func warmStore(
        seed: UInt64, in directory: TemporaryDirectory
    ) throws -> (
        Store, QueryService, ProgrammeReadModel
    ) {
        let (_, store, service) = try TimeTravelTests.generated(seed: seed, steps: 200, in: directory)
        _ = try service.input(QueryService.Request(viewer: .coordinator, today: Self.today))
        return (store, service, try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold)
    }

    @Test("damage anywhere in the snapshot never changes an answer")
    func damageIsCaught() throws {
        let directory = TemporaryDirectory()
        let (store, service, model) = try Self.warmStore(seed: 7200, in: directory)
        let path = ProjectionSnapshot.file(store).path
        let pristine = try FileSystem.readFile(path)
        let tandems = model.tandems.values.map(\.id)
        var generator = SeededGenerator(seed: 7201)
        var sliced = 0
        for _ in 0..<40 {
            var damaged = pristine
            let at = Int.random(in: 64..<damaged.count, using: &generator)
            damaged[at] ^= UInt8.random(in: 1...255, using: &generator)
            try FileSystem.replaceAtomically(path, with: damaged)
            let tandem = tandems[Int.random(in: 0..<tandems.count, using: &generator)]
            for query in [Query.sessions, .goals] {
                let fast = Self.answer(query, tandem, viewer: .coordinator, service: service)
                let plain = Self.answer(
                    query, tandem, viewer: .coordinator, service: service, window: ReplayWindow(asOf: Self.today))
                #expect(fast.answer == plain.answer, "byte \(at): \(query) of \(tandem)")
                if fast.sliced { sliced += 1 }
            }
            // A query of the whole model rewrote the snapshot (or not): start from the same one.
            try FileSystem.replaceAtomically(path, with: pristine)
        }
        // Most flips land in records no query reads: those slices still answer.
        #expect(sliced > 0)
    }

    @Test("a flipped byte inside the tandem's own record is caught by its chunk's digest")
    func damageInTheRecordIsCaught() throws {
        let directory = TemporaryDirectory()
        let (store, service, model) = try Self.warmStore(seed: 7300, in: directory)
        let tandem = try #require(model.tandems.values.first { $0.sessions > 0 })
        let before = Self.answer(.sessions, tandem.id, viewer: .coordinator, service: service)
        #expect(before.sliced)
        // The tandem's id as the snapshot writes it (a length, then the bytes): last in the
        // model, where its record begins (its check-ins, written before, begin with it too).
        let path = ProjectionSnapshot.file(store).path
        var bytes = try FileSystem.readFile(path)
        let needle = [UInt8(tandem.id.rawValue.utf8.count)] + Array(tandem.id.rawValue.utf8)
        let at = try #require(
            (0..<(bytes.count - needle.count)).last { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        bytes[at + needle.count + 4] ^= 0x01  // inside the tandem's record
        try FileSystem.replaceAtomically(path, with: bytes)
        let after = Self.answer(.sessions, tandem.id, viewer: .coordinator, service: service)
        #expect(!after.sliced)
        #expect(after.answer == before.answer)
    }
}
