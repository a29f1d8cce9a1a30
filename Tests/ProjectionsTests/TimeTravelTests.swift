import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

/// Time travel from checkpoints against the plain path: on seeded histories with events
/// recorded late about early days, voids and erasures, every window (`--as-of`, `--known-at`
/// by seq and by day, and both) answered from the nearest checkpoint equals a replay of
/// that window from the first line, before and after more history is appended.
@Suite("Time travel: checkpoints and the timeline answer every window as a replay does")
struct TimeTravelTests {
    /// A store holding a generated history: its log lines appended in one batch, its vault
    /// lines written as they were.
    static func store(_ history: HistoryGenerator, in directory: TemporaryDirectory) throws -> Store {
        let root = directory.appending("store")
        let (store, _) = try Store.create(
            root: root, actor: "gen", clock: FixedClock(Timestamp(secondsSinceEpoch: 1_800_000_000)),
            random: SeededRandomSource(seed: 5))
        try append(history, after: 1, to: store)
        return store
    }

    /// A store holding `steps` steps of the history seeded with `seed`, and a query service
    /// on it (checkpoints every 16 lines).
    static func generated(
        seed: UInt64, steps: Int, backdating: Bool = false, sessionNotes: Bool = false, in directory: TemporaryDirectory
    ) throws -> (history: HistoryGenerator, store: Store, service: QueryService) {
        var history = HistoryGenerator(seed: seed)
        history.backdating = backdating
        history.sessionNotes = sessionNotes
        history.run(steps: steps)
        let store = try store(history, in: directory)
        return (history, store, service(store))
    }

    /// Appends the history's lines after `seq` to the store, and rewrites its vault.
    static func append(_ history: HistoryGenerator, after seq: Int, to store: Store) throws {
        var records: [LogRecord] = []
        try history.log.forEachLine(from: seq + 1, after: nil) { line in
            let entry = try line.entry()
            records.append(LogRecord(type: entry.type, actor: entry.actor, at: entry.at, data: entry.data))
        }
        if !records.isEmpty { _ = try store.events.append(records) }
        let vault = history.vaultLines.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
        try FileSystem.replaceAtomically(store.root + "/vault.jsonl", with: Array(vault.utf8))
    }

    /// The windows to ask: as-of days across the history, known-at seqs and days, and both.
    static func windows(_ store: Store, generator: inout SeededGenerator) throws -> [ReplayWindow] {
        var days: [BusinessDate] = [], recorded: [Timestamp] = []
        var head = 0
        try store.events.forEachLine(from: 1, after: nil) { line in
            let recordedEvent = try EventDecoder.decode(line)
            if let day = recordedEvent.event.businessDate { days.append(day) }
            recorded.append(recordedEvent.at)
            head = line.seq
        }
        days.sort()
        recorded.sort()
        var windows: [ReplayWindow] = []
        for _ in 0..<14 {
            let day = days[Int.random(in: 0..<days.count, using: &generator)]
            let at = recorded[Int.random(in: 1..<recorded.count, using: &generator)]
            let seq = Int.random(in: 1...head, using: &generator)
            // A known-at day ends at midnight; a cutoff inside a day exercises lines the
            // timeline cannot judge alone.
            let endOfDay = Timestamp(secondsSinceEpoch: (at.secondsSinceEpoch / 86400) * 86400 + 86399)
            windows.append(ReplayWindow(asOf: day))
            windows.append(ReplayWindow(knownAt: seq))
            windows.append(ReplayWindow(recordedBy: endOfDay))
            windows.append(ReplayWindow(recordedBy: at))
            windows.append(ReplayWindow(knownAt: seq, asOf: day))
            windows.append(ReplayWindow(asOf: day, recordedBy: endOfDay))
        }
        windows.append(ReplayWindow(asOf: days.first!.adding(days: -1)))
        windows.append(ReplayWindow(asOf: days.last!))
        windows.append(ReplayWindow(knownAt: head))
        return windows.shuffled(using: &generator)
    }

    static func expectSameAnswers(
        _ service: QueryService, _ store: Store, _ windows: [ReplayWindow], seed: Int, resumed: inout Int
    ) throws {
        let vault = Vault(store: store)
        var replays = 0
        for window in windows {
            let input = try service.input(
                QueryService.Request(
                    viewer: .coordinator, window: window, knownAt: window.knownAt.map { "seq:\($0)" },
                    today: BusinessDate("2030-01-01")!))
            let replayed = try ProgrammeReadModel.replay(store.events, vault: vault, window: window)
            #expect(input.model == replayed.fold, "seed \(seed), \(window): the model differs from a replay")
            #expect(input.basis.head == replayed.head, "seed \(seed), \(window): the basis differs from a replay")
            if input.resumedFrom == nil { replays += 1 }
            if let from = input.resumedFrom, from > 0 { resumed += 1 }
        }
        // Only a query that finds no timeline (the first, or the first after damage)
        // replays, and builds the timeline on the way.
        #expect(replays <= 1, "seed \(seed): \(replays) windows were answered without the timeline")
    }

    @Test("every window equals a replay, from checkpoints, before and after appends", arguments: 0..<6)
    func windowsEqualReplays(seed: Int) throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: UInt64(seed) &+ 4400)
        history.backdating = true
        history.run(steps: 220)
        let store = try Self.store(history, in: directory)
        let service = Self.service(store)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 17)
        var resumed = 0
        try Self.expectSameAnswers(
            service, store, try Self.windows(store, generator: &generator), seed: seed, resumed: &resumed)
        #expect(!Self.checkpoints(store).isEmpty, "seed \(seed): no checkpoint was saved")
        #expect(resumed > 0, "seed \(seed): no window resumed from a checkpoint")

        // More history, with voids of what the checkpoints hold, then the same questions.
        let before = try store.events.readHead().seq
        history.run(steps: 120)
        try Self.append(history, after: before, to: store)
        resumed = 0
        try Self.expectSameAnswers(
            service, store, try Self.windows(store, generator: &generator), seed: seed, resumed: &resumed)
        #expect(resumed > 0, "seed \(seed): no window resumed from a checkpoint after appends")
        // Beyond 8, checkpoints are kept only while together no larger than twice the log.
        let kept = Self.checkpoints(store)
        let bytes = kept.map { FileSystem.size(of: store.cacheDirectory + "/" + $0) ?? 0 }.reduce(0, +)
        #expect(kept.count <= 64, "seed \(seed): at most 64 checkpoints are kept")
        #expect(
            kept.count <= 8 || bytes <= 2 * (FileSystem.size(of: store.events.path) ?? 0),
            "seed \(seed): \(kept.count) checkpoints of \(bytes) bytes, more than twice the log")
    }

    @Test("a question saves the last grid points it folds across, at most four, and then folds from them")
    func lastGridPointsAreSaved() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 4600)
        history.run(steps: 300)
        let store = try Self.store(history, in: directory)
        let service = Self.service(store)
        let head = try store.events.readHead().seq
        // The voids of the log: a grid point is saved only if no void in the window after
        // it removes an event up to it.
        var voids: [(seq: Int, target: Int)] = []
        try store.events.forEachLine(from: 1, after: nil) { line in
            if let target = try EventDecoder.decode(line).event.voidTarget { voids.append((line.seq, target)) }
        }
        func saved() -> Set<Int> {
            Set(Self.checkpoints(store).compactMap { Int($0.dropFirst("checkpoint-".count).prefix { $0.isNumber }) })
        }
        var most = 0
        // The first question finds no timeline: it replays, and saves nothing.
        for (n, limit) in [head, 98, 150, 120, 100, 70, 90, head - 3, 40].enumerated() {
            let before = saved()
            let window = ReplayWindow(knownAt: limit)
            let input = try service.input(
                QueryService.Request(
                    viewer: .coordinator, window: window, knownAt: "seq:\(limit)", today: BusinessDate("2030-01-01")!))
            let replayed = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store), window: window)
            #expect(input.model == replayed.fold, "known at \(limit): the model differs from a replay")
            if n == 0 {
                #expect(input.resumedFrom == nil && saved().isEmpty)
                continue
            }
            let from = try #require(input.resumedFrom)
            #expect(from == 0 || before.contains(from), "known at \(limit): folded from \(from), not a saved point")
            // The last four grid points after `from` that are the prefix's own state.
            var expected: Set<Int> = []
            var grid = limit / 16 * 16
            while grid > from, expected.count < 4 {
                if !voids.contains(where: { $0.seq > grid && $0.seq <= limit && $0.target <= grid }) {
                    expected.insert(grid)
                }
                grid -= 16
            }
            #expect(saved() == before.union(expected), "known at \(limit), from \(from)")
            most = max(most, expected.count)
        }
        #expect(most == 4, "some question saved four grid points")
        #expect(saved().count >= 8)
    }

    @Test("a damaged checkpoint or timeline is not used: the answer is still a replay's")
    func damagedCachesAreNotUsed() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 4500)
        history.backdating = true
        history.run(steps: 200)
        let store = try Self.store(history, in: directory)
        let service = Self.service(store)
        var generator = SeededGenerator(seed: 99)
        let windows = try Self.windows(store, generator: &generator)
        var resumed = 0
        try Self.expectSameAnswers(service, store, windows, seed: 4500, resumed: &resumed)
        // Flip one byte in the middle of every cache file.
        for name in try FileSystem.contents(of: store.cacheDirectory) {
            let path = store.cacheDirectory + "/" + name
            var bytes = try FileSystem.readFile(path)
            bytes[bytes.count / 2] ^= 0x5A
            try FileSystem.replaceAtomically(path, with: bytes)
        }
        try Self.expectSameAnswers(service, store, windows, seed: 4500, resumed: &resumed)
    }

    /// A query service that saves a checkpoint every 16 lines.
    static func service(_ store: Store) -> QueryService {
        var service = QueryService(
            store: store, clock: FixedClock(Timestamp(secondsSinceEpoch: 1_900_000_000)),
            random: SeededRandomSource(seed: 3))
        service.checkpointSpacing = 16
        return service
    }

    static func checkpoints(_ store: Store) -> [String] {
        ((try? FileSystem.contents(of: store.cacheDirectory)) ?? []).filter { $0.hasPrefix("checkpoint-") }
    }
}
