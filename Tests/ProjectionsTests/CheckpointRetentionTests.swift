import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// Which time-travel checkpoints stay in `cache/`: every grid point while they fit the budget,
/// so that asking about the same dates again saves nothing and evicts nothing.
@Suite("Checkpoint retention: every grid point while the budget allows, spread when it does not")
struct CheckpointRetentionTests {
    /// A store with `steps` steps of a seeded history.
    static func store(steps: Int, seed: UInt64, voids: Bool = true, in directory: TemporaryDirectory) throws -> Store {
        var history = HistoryGenerator(seed: seed)
        history.voids = voids
        history.run(steps: steps)
        return try TimeTravelTests.store(history, in: directory)
    }

    /// Fake checkpoint files of the given sizes at the given seqs.
    static func place(_ checkpoints: [(seq: Int, size: Int)], in store: Store) throws {
        try FileSystem.makeDirectory(store.cacheDirectory)
        for (seq, size) in checkpoints {
            try FileSystem.replaceAtomically(
                Checkpoints.file(store, seq: seq).path, with: [UInt8](repeating: 0, count: size))
        }
    }

    @Test("within the budget every checkpoint stays, up to 64")
    func withinBudget() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store(steps: 10, seed: 1, in: directory)
        try Self.place((1...12).map { ($0 * 100, 1000) }, in: store)
        Checkpoints.thin(store, keep: 1200, budget: 12_000)
        #expect(Checkpoints.seqs(in: store) == (1...12).map { $0 * 100 })

        try Self.place((13...80).map { ($0 * 100, 10) }, in: store)
        Checkpoints.thin(store, keep: 8000, budget: .max)
        let left = Checkpoints.seqs(in: store)
        #expect(left.count == 64)
        #expect(left.contains(8000), "the one just saved stays")
    }

    @Test("the grid puts 32 to 64 checkpoints along the log, at least 65,536 lines apart")
    func spacing() {
        #expect(Checkpoints.spacing(head: 1) == 65_536)
        #expect(Checkpoints.spacing(head: 1_182_205) == 65_536, "the 1M store: 18 grid points")
        #expect(Checkpoints.spacing(head: 11_828_418) == 262_144, "the 10M store: 45 grid points")
        for head in [4_194_304, 4_194_305, 9_999_999, 50_000_000, 1 << 40] {
            let spacing = Checkpoints.spacing(head: head)
            #expect(spacing * 64 >= head && spacing * 32 < head, "head \(head): spacing \(spacing)")
            #expect(spacing & (spacing - 1) == 0, "a power of two, so that each grid is the next one's")
        }
    }

    @Test("over the budget the densest go first, down to the budget or to 8")
    func overBudget() throws {
        let directory = TemporaryDirectory()
        let store = try Self.store(steps: 10, seed: 2, in: directory)
        // Gaps: 100 between most, 10 between 700 and 710 and 1000 and 1010.
        let seqs = [100, 200, 300, 400, 500, 600, 700, 710, 800, 900, 1000, 1010]
        try Self.place(seqs.map { ($0, 1000) }, in: store)
        // 12,000 bytes against 10,000: two go. 710 first (10 after 700; 1010 is the one
        // just saved, so it stays), then the first of the equal gaps of 100.
        Checkpoints.thin(store, keep: 1010, budget: 10_000)
        let left = Checkpoints.seqs(in: store)
        #expect(left == [100, 300, 400, 500, 600, 700, 800, 900, 1000, 1010], "the densest go first")

        Checkpoints.thin(store, keep: 1010, budget: 0)
        #expect(Checkpoints.seqs(in: store).count == Checkpoints.least, "at least 8 stay, whatever their size")
    }

    @Test("asking about the same windows again saves nothing and resumes from each one's own grid point")
    func noChurn() throws {
        let directory = TemporaryDirectory()
        // Without voids, every grid point is the state of its prefix, so each may be saved.
        let store = try Self.store(steps: 400, seed: 7, voids: false, in: directory)
        var service = TimeTravelTests.service(store)  // a grid point every 16 lines
        service.checkpointBudget = .max
        let head = try store.events.readHead().seq
        let grid = Array(stride(from: 16, through: head - 4, by: 16))
        #expect(grid.count > Checkpoints.least + 4, "more grid points than the least kept: \(grid.count)")
        let windows = grid.map { ReplayWindow(knownAt: $0 + 3) }
        func ask(_ windows: [ReplayWindow]) throws -> [Int?] {
            try windows.map { window in
                try service.input(
                    QueryService.Request(
                        viewer: .coordinator, window: window, knownAt: window.knownAt.map { "seq:\($0)" },
                        today: BusinessDate("2030-01-01")!)
                ).resumedFrom
            }
        }
        // The first question builds the timeline (by a replay), which saves nothing; then the
        // first round saves each window's grid point.
        _ = try ask([ReplayWindow(knownAt: head)])
        #expect(Checkpoints.seqs(in: store).isEmpty)
        _ = try ask(windows)
        let saved = Checkpoints.seqs(in: store)
        #expect(saved == grid, "every grid point is saved and kept")
        // A checkpoint holds the model without the head's figures: those are refused.
        let checkpoint = Checkpoints.file(store, seq: saved[0])
        let header = try ProjectionSnapshot.header(checkpoint)
        #expect(throws: SnapshotError.self) { try ProjectionSnapshot.figures(checkpoint, header: header) }
        #expect(try ProjectionSnapshot.model(checkpoint, header: header).0.peopleRows.count > 0)
        #expect(try ask(windows) == grid, "each window resumes from its own grid point")
        #expect(Checkpoints.seqs(in: store) == saved, "nothing was saved or evicted the second time")
    }
}
