import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

/// `audit --tandem T` and `audit --participant P` through the subject index against a pass
/// over every line: on seeded histories with swaps (partners staying, leaving and joining),
/// withdrawals, completions, voids and erasures, every tandem's and every participant's
/// trail is the same, in every window, before and after more history is appended.
@Suite("Subject index: an audit of one tandem or participant equals a pass over every line")
struct AuditIndexTests {
    static let today = BusinessDate("2030-01-01")!

    /// Every subject's trail through the service (index, slice) and through a plain pass
    /// over the whole model; returns how many were read through the index (fewer than half
    /// the log's lines) in the window read through it least.
    static func expectSameTrails(
        _ store: Store, _ service: QueryService, windows: [ReplayWindow], seed: Int
    ) throws -> Int {
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        var subjects: [AuditQuery.Subject] = model.tandems.values.map { .tandem($0.id) }
        subjects += model.people.values.map { .participant($0.id) }
        var least = Int.max
        for window in windows {
            var indexed = 0
            defer { least = min(least, indexed) }
            for subject in subjects {
                var confinement = Confinement()
                if case .tandem(let t) = subject { confinement.tandems = [t] }
                if case .participant(let p) = subject { confinement.participants = [p] }
                let request = QueryService.Request(
                    viewer: .auditor, window: window, knownAt: window.knownAt.map { "seq:\($0)" },
                    confinedTo: confinement, today: today)
                let options = AuditQuery.Options(subject: subject)
                var linesRead = Int.max
                let fast = Self.text {
                    let result = try service.audit(try service.input(request), window: window, options: options)
                    linesRead = result.linesRead
                    return result
                }
                var plainRequest = request
                plainRequest.confinedTo = nil
                let plain = Self.text {
                    try AuditQuery.run(
                        store.events, window: window, input: try service.input(plainRequest), options: options)
                }
                #expect(fast == plain, "seed \(seed), \(subject), \(window)")
                // Read through the index: fewer lines than the log has.
                if linesRead < (try store.events.readHead().seq) / 2 { indexed += 1 }
            }
        }
        return least
    }

    static func text(_ run: () throws -> QueryResult) -> String {
        do {
            let result = try run()
            var text = ""
            try Renderer.write(result, as: .json) { text += $0 }
            return text
        } catch {
            return "error: \(error)"
        }
    }

    @Test("every tandem's and participant's trail equals a full pass, before and after a tail", arguments: 0..<5)
    func indexedEqualsFullPass(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8100, steps: 180, backdating: seed % 2 == 1, in: directory)
        service.subjectIndexTail = 30
        // The first audit reads every line and writes the index.
        _ = try service.audit(
            try service.input(QueryService.Request(viewer: .auditor, today: Self.today)), window: .everything,
            options: AuditQuery.Options())
        let head = try store.events.readHead()
        #expect(SubjectIndex.open(store, head: head, vaultSize: Vault(store: store).size)?.head == head)
        // Windows too are read through the index, told the subject's tandems by a slice of
        // the whole log's model.
        var recordedThen: Timestamp?
        try store.events.forEachLine(at: [head.seq / 3]) { recordedThen = try EventDecoder.decode($0).at }
        let cutoff: Timestamp = try #require(recordedThen)
        let windows = [
            ReplayWindow.everything, ReplayWindow(knownAt: head.seq / 2),
            ReplayWindow(asOf: BusinessDate("2027-03-01")!),
            ReplayWindow(asOf: BusinessDate("2027-03-01")!, recordedBy: cutoff),
            ReplayWindow(knownAt: head.seq * 3 / 4, asOf: BusinessDate("2027-02-15")!),
        ]
        #expect(try Self.expectSameTrails(store, service, windows: windows, seed: seed) > 0)

        // A short tail (read in full after the index), then a long one (a pass over every line writes the index again).
        for steps in [12, 80] {
            let before = try store.events.readHead().seq
            history.run(steps: steps)
            try TimeTravelTests.append(history, after: before, to: store)
            #expect(
                try Self.expectSameTrails(store, service, windows: [.everything], seed: seed) > 0,
                "seed \(seed): after \(steps) more steps")
        }
        let now = try store.events.readHead()
        let index = try #require(SubjectIndex.open(store, head: now, vaultSize: Vault(store: store).size))
        #expect(index.head.seq > head.seq, "seed \(seed): a long tail made the next audit write the index again")
    }

    @Test("a damaged index is not used, and the trail is still a full pass's")
    func damagedIndex() throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: 8200, steps: 200, in: directory)
        _ = try service.audit(
            try service.input(QueryService.Request(viewer: .auditor, today: Self.today)), window: .everything,
            options: AuditQuery.Options())
        let path = SubjectIndex.file(store).path
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count - 20] ^= 0x40  // inside the last entries
        try FileSystem.replaceAtomically(path, with: bytes)
        _ = try Self.expectSameTrails(store, service, windows: [.everything], seed: 8200)
    }
}
