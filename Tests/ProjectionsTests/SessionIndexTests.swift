import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

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
        let early = try Self.indexingFold(history)
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write(
            SessionIndex.sections(try #require(early.fold.sessionIndex)), head: early.head, logEnd: 0, vaultSize: 0,
            to: file)

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
        model.sessionIndex = SessionIndex.Builder()
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

        // Extending the index with the tail's sessions gives the index a full replay writes,
        // and lists what the replay keeps.
        let extended = try SessionIndex.extended(file, header: header, with: try #require(resumed.fold.sessionIndex))
        try SessionIndex.write(extended, head: resumed.head, logEnd: 0, vaultSize: 0, to: file)
        let full = try Self.indexingFold(history)
        let fromFile = try Self.listed(SessionIndex.Listing(file, header: try SessionIndex.header(file)))
        #expect(fromFile == (try Self.listed(SessionIndex.Listing(extended))), "seed \(seed)")
        // Handing the mapped pages back every other tandem, the listing reads them again.
        var releasing = try SessionIndex.Listing(file, header: try SessionIndex.header(file))
        releasing.recordsBetweenReleases = 2
        #expect(try Self.listed(releasing) == fromFile, "seed \(seed)")
        #expect(try releasing.count(programme: nil) == fromFile.count, "seed \(seed)")
        #expect(
            fromFile
                == (try Self.listed(SessionIndex.Listing(SessionIndex.sections(try #require(full.fold.sessionIndex))))),
            "seed \(seed)")
        let everySession = try Replay.fold(history.log, profiles: history.profiles) {
            ProgrammeReadModel(keepingSessions: .all)
        }
        #expect(fromFile == Self.listed(everySession.fold), "seed \(seed)")
        #expect(fromFile.count > 10, "seed \(seed) has sessions")
    }

    /// A fold that builds a session index on the way, as a full replay does.
    static func indexingFold(_ history: HistoryGenerator) throws -> Replay.Result<ProgrammeReadModel> {
        try Replay.fold(history.log, profiles: history.profiles) {
            var model = ProgrammeReadModel()
            model.sessionIndex = SessionIndex.Builder()
            return model
        }
    }

    /// Every session a listing lists, as text, in its order.
    static func listed(_ listing: SessionIndex.Listing, programme: ProgrammeID? = nil) throws -> [String] {
        var out: [String] = []
        try listing.forEach(programme: programme) { tandem, e in
            out.append("\(tandem) \(e.on) \(e.minutes) \(e.mode) \(e.topics) \(e.hasNotes)")
        }
        return out
    }

    /// Every session a model keeps, as `listed` writes them, in tandem order.
    static func listed(_ model: ProgrammeReadModel, programme: ProgrammeID? = nil) -> [String] {
        model.tandems(in: programme).flatMap { tandem in
            (model.sessionLog?[tandem.id] ?? []).map {
                "\($0.tandem) \($0.on) \($0.minutes) \($0.mode) \($0.topics) \($0.notesRef != nil)"
            }
        }
    }

    @Test("a listing lists each programme's sessions, and counts them", arguments: 0..<4)
    func listingByProgramme(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 950)
        history.run(steps: 200)
        let listing = try SessionIndex.Listing(
            SessionIndex.sections(try #require(try Self.indexingFold(history).fold.sessionIndex)))
        let model = try Replay.fold(history.log, profiles: history.profiles) {
            ProgrammeReadModel(keepingSessions: .all)
        }.fold
        var total = 0
        for programme in model.programmeOrder {
            let expected = Self.listed(model, programme: programme)
            #expect(try Self.listed(listing, programme: programme) == expected, "seed \(seed), \(programme)")
            #expect(try listing.count(programme: programme) == expected.count)
            total += expected.count
        }
        #expect(try listing.count(programme: nil) == total)
        #expect(try listing.count(programme: ProgrammeID("p-never")!) == 0)
        #expect(try Self.listed(listing, programme: ProgrammeID("p-never")!).isEmpty)
    }

    /// An index file of a seeded history's sessions, and its header.
    static func indexFile(seed: UInt64, in directory: TemporaryDirectory) throws -> (SnapshotFile, SnapshotFile.Header)
    {
        var history = HistoryGenerator(seed: seed)
        history.run(steps: 150)
        let sections = SessionIndex.sections(try #require(try Self.indexingFold(history).fold.sessionIndex))
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write(sections, head: .empty, logEnd: 0, vaultSize: 0, to: file)
        return (file, try SessionIndex.header(file))
    }

    @Test("a damaged record is refused when the listing is made, before anything is listed")
    func damagedListing() throws {
        let directory = TemporaryDirectory()
        let (file, header) = try Self.indexFile(seed: 960, in: directory)
        _ = try SessionIndex.Listing(file, header: header)
        // A flipped byte in each part of the last record in turn.
        let range = try #require(header.sections["byTandem"]).range
        var bytes = try FileSystem.readFile(file.path)
        for offset in stride(from: range.upperBound - 1, to: range.upperBound - 40, by: -3) {
            bytes[offset] ^= 0x5A
            try FileSystem.replaceAtomically(file.path, with: bytes)
            #expect(throws: (any Error).self, "flip at \(offset)") {
                _ = try SessionIndex.Listing(file, header: header)
            }
            bytes[offset] ^= 0x5A
        }
    }

    /// A listing finds a tandem by a binary search over the records' keys as they lie in
    /// the file: an index whose records are intact but out of order is refused.
    @Test("an index whose keys are out of order is refused when the listing is made")
    func keysOutOfOrder() throws {
        let directory = TemporaryDirectory()
        let (file, header) = try Self.indexFile(seed: 961, in: directory)
        let listing = try SessionIndex.Listing(file, header: header)
        #expect(try listing.count(programme: nil) > 0)
        // Two neighbours' offsets swapped in the section's table: each record still matches
        // its checksum, and the keys no longer ascend.
        let start = try #require(header.sections["byTandem"]).range.lowerBound
        var bytes = try FileSystem.readFile(file.path)
        let count = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16
        try #require(count >= 3)
        let first = start + 4 + 4 * (count / 2)
        for i in 0..<4 { bytes.swapAt(first + i, first + 4 + i) }
        try FileSystem.replaceAtomically(file.path, with: bytes)
        #expect(throws: SnapshotError.self) { _ = try SessionIndex.Listing(file, header: header) }
    }

    @Test("an index that lists a line that is not the tandem's session is refused")
    func lyingIndex() throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: 77)
        history.run(steps: 120)
        let replay = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }
        let tandem = try #require(replay.fold.tandems.values.map(\.id).first)
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        // The index says line 1 (the launch) is one of the tandem's sessions.
        var lying = SessionIndex.Builder()
        lying.add(
            seq: 1, programme: try #require(replay.fold.programmeOrder.first),
            SessionHeld(tandem: tandem, on: BusinessDate("2027-01-04")!, minutes: 60, mode: .online))
        try SessionIndex.write(SessionIndex.sections(lying), head: replay.head, logEnd: 0, vaultSize: 0, to: file)
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
        let replay = try Self.indexingFold(history)
        let file = SnapshotFile(path: directory.appending("sessions.snapshot"))
        try SessionIndex.write(
            SessionIndex.sections(try #require(replay.fold.sessionIndex)), head: replay.head, logEnd: 0, vaultSize: 0,
            to: file)
        let header = try SessionIndex.header(file)
        let everyTandem = Set(replay.fold.tandems.values.map(\.id))
        let (tandem, seqs) = try #require(
            try SessionIndex.seqs(of: everyTandem, in: file, header: header).first { $0.value.count >= 2 })
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
    @Test("sessions with more topics than a key holds, or topics numbered past its reach, list as the others")
    func topicsPastAKey() throws {
        var g = SeededGenerator(seed: 7900)
        var builder = SessionIndex.Builder()
        // 8,300 topics: the first sessions number them all, so the last ones are past 2^13.
        let many = (0..<8300).map { "topic-\($0)" }
        var expected: [String] = []
        let programme = ProgrammeID("p-1")!
        // The first session names every topic, in order: topic i is numbered i.
        var seq = 1
        builder.add(
            seq: seq, programme: programme,
            SessionHeld(
                tandem: TandemID("t-0")!, on: BusinessDate(dayNumber: 20_000), minutes: 5, mode: .online, topics: many))
        expected.append("t-0 \(BusinessDate(dayNumber: 20_000)) \(many)")
        for t in 0..<40 {
            let tandem = TandemID("t-\(t)")!
            for s in 0..<Int.random(in: 1...6, using: &g) {
                seq += 1
                let topics: [String]
                switch (t + s) % 4 {
                case 0:
                    // Up to four, one of them numbered past 2^13, anywhere in the list.
                    var some = (0..<Int.random(in: 0...3, using: &g)).map { _ in
                        many[Int.random(in: 0..<8192, using: &g)]
                    }
                    some.insert(
                        many[8192 + Int.random(in: 0..<108, using: &g)], at: Int.random(in: 0...some.count, using: &g))
                    topics = some
                case 1: topics = (0..<Int.random(in: 5...9, using: &g)).map { _ in many.randomElement(using: &g)! }
                case 2: topics = []
                default:
                    topics = (0..<Int.random(in: 1...4, using: &g)).map { _ in many[Int.random(in: 0..<8192, using: &g)]
                    }
                }
                let session = SessionHeld(
                    tandem: tandem, on: BusinessDate(dayNumber: 20_000 + seq), minutes: 15 * s, mode: .online,
                    topics: topics)
                builder.add(seq: seq, programme: programme, session)
                expected.append("\(tandem) \(session.on) \(topics)")
            }
        }
        let listing = try SessionIndex.Listing(SessionIndex.sections(builder))
        let runs = try listing.runs(tandemsPerRun: 3)
        var written: [String] = []
        var keyed = 0
        for run in 0..<runs.count {
            try runs.forEachListed(run: run, programme: nil) { _, tandem, session in
                if let key = session.topicsKey {
                    keyed += 1
                    #expect(session.topics.isEmpty)
                    #expect(key.numbers.allSatisfy { $0 < 1 << 13 } && key.numbers.count <= 4)
                }
                written.append("\(tandem) \(session.on) \(session.topicsKey.map(runs.topics) ?? session.topics)")
            }
        }
        // Listed in the natural order of the tandems, each tandem's in log order.
        let byTandem = Dictionary(grouping: expected) { $0.split(separator: " ")[0] }
        let order = byTandem.keys.map { TandemID(String($0))! }.sorted()
        #expect(written == order.flatMap { byTandem[Substring($0.rawValue)]! })
        #expect(keyed > 0 && keyed < written.count)
    }
}
