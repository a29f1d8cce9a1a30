import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

/// The session index against the plain path: on seeded histories, the sessions of any set
/// of tandems read from an index of the first part plus a fold of the tail equal those a
/// replay from the first line keeps.
@Suite("Session index: indexed sessions equal a replay's")
struct SessionIndexTests {
    @Test("index of a prefix, extended with the tail, gives every tandem's sessions", arguments: 0..<8)
    func indexedEqualsReplayed(seed: Int) throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: UInt64(seed) &+ 900)
        history.backdating = seed % 2 == 0
        history.run(steps: 150)
        // The first part, folded as a full replay does when it writes the snapshots.
        let early = try Replay.fold(history.log, profiles: history.profiles) {
            var model = ProgrammeReadModel()
            model.sessionSeqs = [:]
            return model
        }
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write(early.fold.sessionSeqs ?? [:], head: early.head, logEnd: 0, vaultSize: 0, to: file)

        // More history, without voids of what the index covers (a void restarts the fold).
        history.voids = false
        history.run(steps: 150)
        let everyTandem = Set(
            try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold.tandems.values.map(
                \.id))
        #expect(everyTandem.count >= 3, "seed \(seed) has tandems")
        // Every other tandem, or all of them; and one the log does not know (it has none).
        var chosen =
            seed % 2 == 0 ? everyTandem : Set(everyTandem.sorted().enumerated().filter { $0.0 % 2 == 0 }.map(\.1))
        chosen.insert(TandemID("t-never")!)

        // The query's path: the model of the first part, keeping the chosen tandems' sessions
        // and the tail's seqs; then the indexed sessions before the tail's.
        var model = early.fold
        model.sessionSeqs = [:]
        model.keepSessions(.of(chosen))
        var resumed = try Replay.fold(
            history.log, profiles: history.profiles,
            resumingFrom: Replay.Checkpoint(fold: model, head: early.head, voided: early.voided)
        ) { ProgrammeReadModel() }
        let header = try SessionIndex.header(file)
        try SessionIndex.prependSessions(
            of: chosen, from: file, header: header, log: history.log, voided: resumed.voided, into: &resumed.fold)

        let replayed = try Replay.fold(history.log, profiles: history.profiles) {
            ProgrammeReadModel(keepingSessions: .of(chosen))
        }
        for tandem in chosen {
            #expect(
                resumed.fold.sessionLog?[tandem] ?? [] == replayed.fold.sessionLog?[tandem] ?? [],
                "seed \(seed), \(tandem)")
        }
        #expect(
            chosen.reduce(0) { $0 + (replayed.fold.sessionLog?[$1]?.count ?? 0) } > 0, "seed \(seed) has sessions")

        // Extending the index with the tail's seqs gives the index a full replay writes.
        try SessionIndex.extend(
            file, header: header, with: resumed.fold.sessionSeqs ?? [:], head: resumed.head, logEnd: 0, vaultSize: 0)
        let full = try Replay.fold(history.log, profiles: history.profiles) {
            var model = ProgrammeReadModel()
            model.sessionSeqs = [:]
            return model
        }
        let extended = try SessionIndex.seqs(of: everyTandem, in: file, header: try SessionIndex.header(file))
        #expect(extended == full.fold.sessionSeqs ?? [:], "seed \(seed)")
    }

    @Test("an index that lists a line that is not the tandem's session is refused")
    func lyingIndex() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 77)
        history.run(steps: 120)
        let replay = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }
        let tandem = try #require(replay.fold.tandems.values.map(\.id).first)
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write([tandem: [1]], head: replay.head, logEnd: 0, vaultSize: 0, to: file)
        var model = ProgrammeReadModel(keepingSessions: .of([tandem]))
        #expect(throws: SnapshotError.self) {
            try SessionIndex.prependSessions(
                of: [tandem], from: file, header: try SessionIndex.header(file), log: history.log, voided: [:],
                into: &model)
        }
    }

    @Test("a seq the index lists that a later void names is left out")
    func voidedSeqsAreSkipped() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 78)
        history.voids = false
        history.run(steps: 120)
        let replay = try Replay.fold(history.log, profiles: history.profiles) {
            var model = ProgrammeReadModel()
            model.sessionSeqs = [:]
            return model
        }
        let (tandem, seqs) = try #require(replay.fold.sessionSeqs?.first { $0.value.count >= 2 })
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write([tandem: seqs], head: replay.head, logEnd: 0, vaultSize: 0, to: file)
        let header = try SessionIndex.header(file)
        var all = ProgrammeReadModel(keepingSessions: .of([tandem]))
        try SessionIndex.prependSessions(
            of: [tandem], from: file, header: header, log: history.log, voided: [:], into: &all)
        var some = ProgrammeReadModel(keepingSessions: .of([tandem]))
        try SessionIndex.prependSessions(
            of: [tandem], from: file, header: header, log: history.log, voided: [seqs[0]: replay.head.seq + 1],
            into: &some)
        #expect(all.sessionLog?[tandem]?.count == seqs.count)
        #expect(some.sessionLog?[tandem] ?? [] == Array((all.sessionLog?[tandem] ?? []).dropFirst()))
    }
}
