import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

@Suite("Replay: full, incremental and resumed folds agree")
struct ReplayPropertyTests {
    @Test("traits read from the vault after the fold equal traits handed to the fold", arguments: 0..<8)
    func traitsAfterTheFold(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(500 + seed))
        history.run(steps: 200)
        let directory = TemporaryDirectory("tandem-traits")
        let vault = Vault(path: directory.appending("vault.jsonl"))
        // Every profile but a few (as if erased), in a shuffled order, with other lines between.
        var generator = SeededGenerator(seed: UInt64(seed))
        var lines = history.vaultLines.shuffled(using: &generator)
        let dropped = Set(lines.indices.filter { _ in Int.random(in: 0..<10, using: &generator) == 0 })
        lines = lines.enumerated().filter { !dropped.contains($0.offset) }.map(\.element) + [Array("not json".utf8)]
        Files.write(vault.path, lines.flatMap { $0 + [0x0A] })
        var profiles = TraitsDirectory()
        try profiles.load(vault)

        let handed = try Replay.fold(history.log, profiles: profiles) { ProgrammeReadModel() }
        let after = try ProgrammeReadModel.replay(history.log, vault: vault)
        #expect(after.fold == handed.fold)
        #expect(after.head == handed.head)
        let withTraits = handed.fold.people.values.filter { $0.traits != nil }.count
        #expect(withTraits > 0 && withTraits < handed.fold.people.count, "some profiles were dropped, most were not")
    }

    @Test("on seeded random histories, with voids, every way of folding gives the same state", arguments: 0..<12)
    func foldsAgree(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed))
        history.run(steps: 220)
        let log = history.log
        let profiles = history.profiles
        let head = try log.readHead()
        #expect(head.seq > 80)

        let full = try Replay.fold(log, profiles: profiles) { ProgrammeReadModel() }
        let fullState = try Replay.fold(log, profiles: profiles) { ProgrammeState() }
        // The decider's own incremental state, built as the events were decided, agrees too
        // (the generator applied voids as they came; the replay skips voided events: they
        // must agree on everything the rules look at).
        #expect(fullState.head == head)
        #expect(fullState.fold.participants == history.state.participants)
        #expect(fullState.fold.voided == history.state.voided)

        // Incremental: resume after every line, as a cache of snapshots would.
        var checkpoint: Replay.Checkpoint<ProgrammeReadModel>? = nil
        var lines: [[UInt8]] = []
        let bytes = log.bytes
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lines.append(Array(bytes[start...i]))
            start = i + 1
        }
        for n in stride(from: 1, through: lines.count, by: 7) + [lines.count] {
            let prefix = InMemoryLog(bytes: Array(lines.prefix(n).joined()))
            let resumed = try Replay.fold(prefix, profiles: profiles, resumingFrom: checkpoint) { ProgrammeReadModel() }
            let scratch = try Replay.fold(prefix, profiles: profiles) { ProgrammeReadModel() }
            #expect(resumed.fold == scratch.fold, "seed \(seed), prefix \(n)")
            #expect(resumed.head == scratch.head)
            checkpoint = Replay.Checkpoint(fold: resumed.fold, head: resumed.head, voided: resumed.voided)
        }
        #expect(checkpoint?.fold == full.fold)

        // Resumed from any midpoint.
        for midpoint in [1, 2, lines.count / 3, lines.count / 2, lines.count - 1] {
            let prefix = InMemoryLog(bytes: Array(lines.prefix(midpoint).joined()))
            let early = try Replay.fold(prefix, profiles: profiles) { ProgrammeReadModel() }
            let resumed = try Replay.fold(
                log, profiles: profiles,
                resumingFrom: Replay.Checkpoint(fold: early.fold, head: early.head, voided: early.voided)
            ) { ProgrammeReadModel() }
            #expect(resumed.fold == full.fold, "seed \(seed), midpoint \(midpoint)")
            let earlyState = try Replay.fold(prefix, profiles: profiles) { ProgrammeState() }
            let resumedState = try Replay.fold(
                log, profiles: profiles,
                resumingFrom: Replay.Checkpoint(fold: earlyState.fold, head: earlyState.head, voided: earlyState.voided)
            ) { ProgrammeState() }
            #expect(resumedState.fold == fullState.fold, "seed \(seed), midpoint \(midpoint)")
        }
    }

    @Test("a checkpoint that does not match the log is caught by the chain link")
    func foreignCheckpoint() throws {
        var a = HistoryGenerator(seed: 1)
        a.run(steps: 40)
        var b = HistoryGenerator(seed: 2)
        b.run(steps: 60)
        let early = try Replay.fold(a.log, profiles: a.profiles) { ProgrammeReadModel() }
        #expect(throws: LogError.self) {
            _ = try Replay.fold(
                b.log, profiles: b.profiles,
                resumingFrom: Replay.Checkpoint(fold: early.fold, head: early.head, voided: early.voided)
            ) { ProgrammeReadModel() }
        }
    }
}
