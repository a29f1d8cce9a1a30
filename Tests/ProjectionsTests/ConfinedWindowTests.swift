import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// Queries confined to a few tandems or to a participant (`sessions --tandem T`, a member's
/// own view) in a window of history: the window's model is a slice of the nearest
/// checkpoint with the lines after it folded in, and the tandems' sessions are the whole
/// log's session index narrowed to the window and to them, their notes' refs read from
/// their lines. Checked against a replay of the window from the first line on seeded
/// histories with late-recorded events, voids and erasures, before and after more history.
@Suite("Confined windows: a checkpoint's slice and the narrowed index answer as a replay")
struct ConfinedWindowTests {
    static let today = BusinessDate("2030-01-01")!

    /// What each path was taken how often: the windows answered from a slice, from the
    /// whole model (a line reached outside the slice), and the sessions compared.
    struct Paths {
        var sliced = 0, whole = 0, sessions = 0, notes = 0
    }

    static func expectSameAnswers(
        _ service: QueryService, _ store: Store, _ windows: [ReplayWindow], seed: Int,
        generator: inout SeededGenerator, paths: inout Paths
    ) throws {
        let vault = Vault(store: store)
        for window in windows {
            let replay = try ProgrammeReadModel.replay(
                store.events, vault: vault, window: window, keepingSessions: .all)
            let knownAt = window.knownAt.map { "seq:\($0)" }
            let context = "seed \(seed), \(window)"
            // Some tandems, one at a time, as a coordinator (`sessions --tandem T`), and one
            // that the window does not know.
            var tandems = Array(replay.fold.tandems.values.map(\.id)).sorted()
            tandems.shuffle(using: &generator)
            for tandem in tandems.prefix(3) + [TandemID("t-none")!] {
                let input = try service.input(
                    QueryService.Request(
                        viewer: .coordinator, window: window, knownAt: knownAt, keepsSessions: .of([tandem]),
                        confinedTo: Confinement(tandems: [tandem]), today: Self.today))
                #expect(input.basis.head == replay.head, "\(context), \(tandem)")
                #expect(input.model.tandems[tandem] == replay.fold.tandems[tandem], "\(context), \(tandem)")
                let want = replay.fold.sessionLog?[tandem] ?? []
                #expect((input.model.sessionLog?[tandem] ?? []) == want, "\(context), \(tandem)'s sessions")
                #expect(input.model.goals[tandem] == replay.fold.goals[tandem], "\(context), \(tandem)'s goals")
                paths.sessions += want.count
                if input.sliced { paths.sliced += 1 } else { paths.whole += 1 }
            }
            // Some participants' own views (their sessions with notes, their tandems).
            var people = Array(replay.fold.people.ids).sorted()
            people.shuffle(using: &generator)
            for person in people.prefix(3) {
                let input = try service.input(
                    QueryService.Request(
                        viewer: .participant(person), window: window, knownAt: knownAt, keepsSessions: .listed,
                        confinedTo: Confinement(), today: Self.today))
                #expect(input.basis.head == replay.head, "\(context), \(person)")
                #expect(input.model.people[person] == replay.fold.people[person], "\(context), \(person)")
                let theirs = replay.fold.tandems(in: nil).filter { $0.includes(person) }
                #expect(input.model.tandems(of: person, in: nil) == theirs, "\(context), \(person)'s tandems")
                for tandem in theirs {
                    let want = replay.fold.sessionLog?[tandem.id] ?? []
                    #expect(
                        (input.model.sessionLog?[tandem.id] ?? []) == want, "\(context), \(person): \(tandem.id)")
                    #expect(input.model.goals[tandem.id] == replay.fold.goals[tandem.id], "\(context), \(tandem.id)")
                    paths.sessions += want.count
                    paths.notes += want.filter { $0.notesRef != nil }.count
                }
                if input.sliced { paths.sliced += 1 } else { paths.whole += 1 }
            }
        }
    }

    @Test("one tandem's and a member's window equal a replay's, before and after more history", arguments: 0..<4)
    func confinedWindowsEqualReplays(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 12_100, steps: 240, backdating: true, sessionNotes: true, in: directory)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 47)
        var paths = Paths()
        // The first window builds the timeline and the checkpoints; whole-model windows
        // save more on the way.
        try Self.expectSameAnswers(
            service, store, Array(try TimeTravelTests.windows(store, generator: &generator).prefix(30)), seed: seed,
            generator: &generator, paths: &paths)
        let before = try store.events.readHead().seq
        history.run(steps: 120)
        try TimeTravelTests.append(history, after: before, to: store)
        try Self.expectSameAnswers(
            service, store, Array(try TimeTravelTests.windows(store, generator: &generator).prefix(30)), seed: seed,
            generator: &generator, paths: &paths)
        #expect(paths.sliced > 0, "seed \(seed): no window was answered from a checkpoint's slice")
        #expect(paths.sessions > 0, "seed \(seed): no session was compared")
        #expect(paths.notes > 0, "seed \(seed): no member's session with notes was compared")
    }

    @Test("a participant's tandems, read by row, are those whose views include them")
    func tandemsOfParticipant() throws {
        let directory = TemporaryDirectory()
        let (_, store, _) = try TimeTravelTests.generated(seed: 12_200, steps: 200, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        var someHadTwo = false
        let programmes = [nil] + model.programmeOrder.map(Optional.some)
        let every = programmes.map { model.tandems(in: $0) }
        for person in model.people.ids {
            for (programme, tandems) in zip(programmes, every) {
                let want = tandems.filter { $0.includes(person) }
                #expect(model.tandems(of: person, in: programme) == want, "\(person), \(String(describing: programme))")
                if want.count > 1 { someHadTwo = true }
            }
        }
        #expect(model.tandems(of: ParticipantID("p-none")!, in: nil).isEmpty)
        #expect(someHadTwo, "no participant was in two tandems: the order is untested")
    }
}
