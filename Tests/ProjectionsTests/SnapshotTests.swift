import EventLog
import Mentoring
import Projections
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Snapshots: partial decider states decide as the whole state does; damaged snapshots are refused")
struct SnapshotTests {
    /// A history in two parts: the first is snapshotted, the second is the tail.
    struct Split {
        var log: InMemoryLog
        var profiles: TraitsDirectory
        var snapshotHead: LogHead
        var full: ProgrammeState
        var commands: [ProgrammeCommand]
    }

    static func split(
        seed: UInt64, before: Int, after: Int, matchRuns: Bool = false
    ) throws -> (Split, ProgrammeState) {
        var history = HistoryGenerator(seed: seed)
        history.matchRuns = matchRuns
        history.run(steps: before)
        let early = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeState() }
        // The tail has no voids: a writer that meets one there rebuilds the whole state.
        history.voids = false
        history.attempted = []
        history.run(steps: after)
        let full = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeState() }
        return (
            Split(
                log: history.log, profiles: history.profiles, snapshotHead: early.head, full: full.fold,
                commands: history.attempted), early.fold
        )
    }

    /// The partial state a writer builds: the snapshot's small parts, then the tail, each
    /// event's entries faulted in first.
    static func partial(_ split: Split, reader: DeciderSnapshot.Reader) throws -> (ProgrammeState, StateFaulting) {
        var state = try reader.base()
        var faulting = StateFaulting(reader)
        try split.log.forEachLine(from: split.snapshotHead.seq + 1, after: split.snapshotHead) { line in
            let recorded = try EventDecoder.decode(line)
            try faulting.fault(recorded.event.needs, into: &state)
            var traits: Traits? = nil
            if case .participantSignedUp(let e) = recorded.event { traits = split.profiles[e.personal] }
            state.apply(recorded, traits: traits)
        }
        return (state, faulting)
    }

    @Test(
        "every command decides the same on the partial state as on the whole one (even seeds: with match runs)",
        arguments: 0..<10)
    func partialStatesDecideAlike(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (split, early) = try Self.split(
            seed: UInt64(seed) &+ 500, before: 160, after: 160, matchRuns: seed % 2 == 0)
        let file = SnapshotFile(path: directory.appending("decider.snapshot"))
        try DeciderSnapshot.write(early, head: split.snapshotHead, logEnd: 0, vaultSize: 0, to: file)
        let reader = try DeciderSnapshot.Reader(file)
        #expect(try reader.all() == early, "a snapshot reads back as written")

        // A writer's partial state, and the whole state, live through the same commands.
        var whole = early
        var state = try reader.base()
        var faulting = StateFaulting(reader)
        var decided = 0
        var byRun = (runs: 0, decided: 0, refused: 0)
        for command in split.commands {
            if case .void = command { continue }
            try faulting.fault(command.needs, into: &state)
            let today = BusinessDate("2028-06-30")!
            let outcome = Self.outcome(command, whole, today)
            #expect(
                outcome == Self.outcome(command, state, today),
                "seed \(seed): \(command.name) decided differently on the partial state")
            if case .match(let c) = command, c.run != nil {
                if case .decided = outcome { byRun.decided += 1 } else { byRun.refused += 1 }
            }
            if case .recordMatchRun = command { byRun.runs += 1 }
            guard case .decided(let decision) = outcome else { continue }
            decided += 1
            for event in decision.events {
                let recorded = RecordedEvent(
                    seq: whole.head + 1, at: Timestamp(secondsSinceEpoch: 0), actor: "t", event: event)
                var traits: Traits? = nil
                if case .signUp(let c) = command, case .profile(let p) = c.profile.payload { traits = Traits(p) }
                whole.apply(recorded, traits: traits)
                try faulting.fault(event.needs, into: &state)
                state.apply(recorded, traits: traits)
            }
        }
        #expect(decided > 20, "seed \(seed): only \(decided) commands were decided")
        // What the partial state holds is what the whole state holds, and it is only part.
        for (id, record) in state.participants { #expect(whole.participants[id] == record, "participant \(id)") }
        for (id, record) in state.tandems { #expect(whole.tandems[id] == record, "tandem \(id)") }
        for (run, programme) in state.matchRuns { #expect(whole.matchRuns[run] == programme, "run \(run)") }
        #expect(state.programmes == whole.programmes && state.head == whole.head)
        #expect(state.participants.count < whole.participants.count)
        if seed % 2 == 0 {
            // Runs were recorded after the snapshot, and matches as proposed by them were
            // made and refused (an unknown run, or people no longer free).
            #expect(byRun.runs >= 2 && byRun.decided >= 1 && byRun.refused >= 1, "seed \(seed): \(byRun)")
            #expect(state.matchRuns.count < whole.matchRuns.count, "only the runs needed are loaded")
        }
    }

    enum Outcome: Equatable {
        case decided(Decision)
        case refused(DomainError)
    }

    static func outcome(_ command: ProgrammeCommand, _ state: ProgrammeState, _ today: BusinessDate) -> Outcome {
        do { return .decided(try decide(command, state, today: today)) } catch { return .refused(error) }
    }

    @Test("a merged snapshot equals a snapshot written from the whole state", arguments: 0..<4)
    func mergedSnapshots(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (split, early) = try Self.split(seed: UInt64(seed) &+ 900, before: 150, after: 100, matchRuns: true)
        let old = SnapshotFile(path: directory.appending("old.snapshot"))
        try DeciderSnapshot.write(early, head: split.snapshotHead, logEnd: 0, vaultSize: 0, to: old)
        let reader = try DeciderSnapshot.Reader(old)
        let (state, _) = try Self.partial(split, reader: reader)
        let merged = SnapshotFile(path: directory.appending("merged.snapshot"))
        let head = try split.log.readHead()
        try DeciderSnapshot.write(state, mergingInto: reader, head: head, logEnd: 0, vaultSize: 0, to: merged)
        var whole = split.full
        whole.keys = [:]  // the generator records no keys; both sides agree on that
        let readBack = try DeciderSnapshot.Reader(merged).all()
        #expect(readBack.participants == split.full.participants)
        #expect(readBack.tandems == split.full.tandems)
        #expect(
            readBack.programmes == split.full.programmes && readBack.voided == split.full.voided
                && readBack.head == split.full.head)
        #expect(readBack.matchRuns == split.full.matchRuns && !split.full.matchRuns.isEmpty)
    }

    /// A split history and `decider.snapshot` of its early part, in a new directory.
    static func earlySnapshot(
        seed: UInt64, before: Int, after: Int
    ) throws -> (TemporaryDirectory, Split, ProgrammeState, SnapshotFile) {
        let directory = TemporaryDirectory()
        let (split, early) = try Self.split(seed: seed, before: before, after: after)
        let file = SnapshotFile(path: directory.appending("decider.snapshot"))
        try DeciderSnapshot.write(early, head: split.snapshotHead, logEnd: 0, vaultSize: 0, to: file)
        return (directory, split, early, file)
    }

    @Test("a snapshot written beside an append reads back as one written after it", arguments: 0..<3)
    func writtenBesideTheAppend(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (split, early) = try Self.split(seed: UInt64(seed) &+ 950, before: 120, after: 80)
        let head = try split.log.readHead()
        var full = split.full
        full.keys["k-\(seed)"] = KeyUse(seq: head.seq, digest: "d", refs: [])  // a keys section too
        let file = SnapshotFile(path: directory.appending("decider.snapshot"))
        try DeciderSnapshot.write(early, head: split.snapshotHead, logEnd: 0, vaultSize: 0, to: file)

        let writing = DeciderSnapshot.Writing(full, to: file)
        #expect(writing.seq == full.head)
        writing.finish(head: head, logEnd: 123, vaultSize: 456)
        let header = try file.header()
        #expect(header.head == head && header.logEnd == 123 && header.vaultSize == 456)
        let readBack = try DeciderSnapshot.Reader(file).all()
        #expect(readBack.participants == full.participants && readBack.tandems == full.tandems)
        #expect(readBack.keys == full.keys && readBack.programmes == full.programmes)
        #expect(readBack.voided == full.voided && readBack.head == full.head)
    }

    @Test("a snapshot abandoned beside an append leaves the old one as it was")
    func abandonedBesideTheAppend() throws {
        let (directory, split, _, file) = try Self.earlySnapshot(seed: 960, before: 120, after: 80)
        let path = file.path
        let old = Files.read(path)

        DeciderSnapshot.Writing(split.full, to: file).abandon()
        #expect(Files.read(path) == old)
        // Let go without a word (a batch that failed after deciding): abandoned too.
        do { _ = DeciderSnapshot.Writing(split.full, to: file) }
        #expect(Files.read(path) == old)
        #expect(Files.list(directory.path) == ["decider.snapshot"], "no temporary file is left")
    }

    @Test("a damaged record, a cut-short file and another layout are refused, never misread")
    func damagedSnapshots() throws {
        let (directory, split, early, file) = try Self.earlySnapshot(seed: 7, before: 150, after: 10)
        defer { withExtendedLifetime(directory) {} }
        let path = file.path
        let good = Files.read(path)

        // A flipped byte inside the participants' records: the record's checksum catches it
        // when that record is read, and a full read refuses the snapshot.
        let range = try #require(try file.header().sections["participants"]?.range)
        var damaged = good
        damaged[range.upperBound - 10] ^= 0x01  // inside the last record
        Files.write(path, damaged)
        let reader = try DeciderSnapshot.Reader(file)
        let refused = early.participants.keys.filter { id in (try? reader.participant(id)) == nil }
        // (A lookup whose binary search passes through the damaged record is refused too.)
        // (Records lie in byte order of their keys.)
        #expect(
            refused.contains(early.participants.keys.max { $0.rawValue < $1.rawValue }!)
                && refused.count < early.participants.count / 2)
        #expect(throws: SnapshotError.self) { _ = try reader.all() }

        // Cut short: the header's sections lie beyond the end.
        Files.write(path, Array(good.prefix(good.count / 2)))
        #expect(throws: SnapshotError.self) { _ = try DeciderSnapshot.Reader(file) }

        // Not a snapshot at all.
        Files.write(path, Array("{\"seq\":1}\n".utf8))
        #expect(throws: SnapshotError.malformed("not a Tandem snapshot")) { _ = try DeciderSnapshot.Reader(file) }

        // Written by a build with another layout: refused by its schema number.
        try file.write(
            kind: "decider", schema: DeciderSnapshot.schema + 1, head: split.snapshotHead, logEnd: 0, vaultSize: 0,
            sections: [])
        #expect(
            throws: SnapshotError.otherSchema(
                kind: "decider", found: DeciderSnapshot.schema + 1, expected: DeciderSnapshot.schema)
        ) {
            _ = try DeciderSnapshot.Reader(file)
        }
    }

    @Test(
        "a writer refreshes the decider snapshot after 64 lines, one per megabyte of snapshot beyond that, 1,024 at most"
    )
    func refreshInterval() {
        let megabyte = 1 << 20
        #expect(ProgrammeService.snapshotTail(snapshotBytes: 0) == 64)
        #expect(ProgrammeService.snapshotTail(snapshotBytes: 33 * megabyte) == 64, "the 1M store's")
        #expect(ProgrammeService.snapshotTail(snapshotBytes: 330 * megabyte + 5) == 330, "the 10M store's")
        #expect(ProgrammeService.snapshotTail(snapshotBytes: 4096 * megabyte) == 1024)
    }

    @Test("a snapshot is checked against the log: the line it covers must have its hash and end where it did")
    func checkedAgainstTheLog() throws {
        let (split, _) = try Self.split(seed: 11, before: 120, after: 20)
        let head = try split.log.readHead()
        let end = try SnapshotFile.logEnd(of: split.snapshotHead.seq, in: split.log)
        func header(_ head: LogHead, end: Int, vault: Int = 10) -> SnapshotFile.Header {
            SnapshotFile.Header(kind: "decider", schema: 1, head: head, logEnd: end, vaultSize: vault, sections: [:])
        }
        try SnapshotFile.check(header(split.snapshotHead, end: end), against: split.log, head: head, vaultSize: 10)
        // Another hash at that seq: another history.
        let other = LogHead(seq: split.snapshotHead.seq, hash: SHA256.hash("another history"))
        #expect(throws: SnapshotError.doesNotMatchLog(seq: other.seq)) {
            try SnapshotFile.check(header(other, end: end), against: split.log, head: head, vaultSize: 10)
        }
        // The line ends elsewhere: something before it was added or removed.
        #expect(throws: SnapshotError.doesNotMatchLog(seq: split.snapshotHead.seq)) {
            try SnapshotFile.check(
                header(split.snapshotHead, end: end + 1), against: split.log, head: head, vaultSize: 10)
        }
        // Beyond the head (the log was cut back), or a vault that shrank (an erasure).
        let ahead = LogHead(seq: head.seq + 1, hash: head.hash)
        #expect(throws: SnapshotError.doesNotMatchLog(seq: ahead.seq)) {
            try SnapshotFile.check(header(ahead, end: end), against: split.log, head: head, vaultSize: 10)
        }
        #expect(throws: SnapshotError.vaultRewritten) {
            try SnapshotFile.check(
                header(split.snapshotHead, end: end, vault: 11), against: split.log, head: head, vaultSize: 10)
        }
    }

    @Test(
        "the projections snapshot reads back equal, and its figures equal those computed from the model",
        arguments: 0..<4)
    func projectionSnapshots(seed: Int) throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: UInt64(seed) &+ 77)
        history.run(steps: 260)
        let replay = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }
        let file = SnapshotFile(path: directory.appending("projections.snapshot"))
        try ProjectionSnapshot.write(
            replay.fold, voided: replay.voided, head: replay.head, logEnd: 0, vaultSize: 0, to: file)
        let header = try ProjectionSnapshot.header(file)
        let (model, voided) = try ProjectionSnapshot.model(file, header: header)
        #expect(model == replay.fold)
        #expect(voided == replay.voided)
        let (programmes, figures) = try ProjectionSnapshot.figures(file, header: header)
        #expect(programmes.programmeOrder == replay.fold.programmeOrder)
        for id in replay.fold.programmeOrder {
            #expect(figures[id] == StatsQuery.figures(replay.fold, programme: id, segment: nil).0)
        }
    }
}

/// Sections checked chunk by chunk: a whole read checks every chunk, a partial read the
/// chunks it touches, and any flipped byte is caught by the chunk that holds it.
@Suite("Snapshot chunks: every byte read is checked against its chunk's digest")
struct SnapshotChunkTests {
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Chunk counts where a single chunk is hashed alone, where tasks hash two side by side
    /// and the last has one left, and where they hash several (an even number each, about
    /// `count / 64`) with an odd one left in the last task or none.
    @Test(
        "chunk checks are the XXH64 of each 256 KiB chunk (then 24 zero bytes), the last one short",
        arguments: [
            1000, 2 * SnapshotChunks.size + 1000, 129 * SnapshotChunks.size + 1000, 195 * SnapshotChunks.size,
        ])
    func digestsMatchAPlainHash(size: Int) {
        // A cheap pattern that differs in every chunk (random bytes took seconds here).
        let data = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let digests = data.withUnsafeBytes { SnapshotChunks.digests(of: $0) }
        let chunks = (size + SnapshotChunks.size - 1) / SnapshotChunks.size
        #expect(digests.count == chunks * 32)
        for chunk in 0..<chunks {
            let start = chunk * SnapshotChunks.size
            let check = data.withUnsafeBytes {
                XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[start..<min(data.count, start + SnapshotChunks.size)]))
            }
            let expected = withUnsafeBytes(of: check.littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 24)
            #expect(Array(digests[(chunk * 32)..<(chunk * 32 + 32)]) == expected)
        }
    }

    /// A pass releases a mapping's pages behind it: what it reads again must be the file's
    /// bytes, not zeros (a private mapping's released page comes back from the file).
    @Test("a mapped file reads the same after its pages are released, whole or in part")
    func releasedPagesReadAgain() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("mapped.bin")
        let size = 5 * 4096 + 123
        let data = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 11) }
        let fd = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        try fd.writeAll(data)
        let map = try MappedFile(path: path)
        #expect(Array(map.bytes) == data)
        // Unaligned ranges, a range past the end, an empty one and the whole file.
        for range in [100..<9000, 4096..<8192, 0..<1, 20000..<99999, 50..<50, 0..<size] {
            map.release(range)
            #expect(Array(map.bytes) == data, "after releasing \(range)")
        }
    }

    @Test("a flipped byte in any chunk, or in the digests, is caught; other chunks still read", arguments: 0..<6)
    func flippedBytesAreCaught(seed: Int) throws {
        let directory = TemporaryDirectory()
        let file = SnapshotFile(path: directory.appending("chunked.snapshot"))
        let size = SnapshotChunks.size * 3 + 12345
        let data = Self.bytes(size, seed: UInt64(seed) &+ 10)
        try file.write(
            kind: "test", schema: 1, head: LogHead(seq: 1, hash: .zero), logEnd: 1, vaultSize: 0,
            sections: [("small", [1, 2, 3]), ("big", data)], chunked: ["big"])
        let header = try file.header()
        #expect(try file.section("big", of: header) == data)
        #expect(try file.section("small", of: header) == [1, 2, 3])

        var generator = SeededGenerator(seed: UInt64(seed) &+ 20)
        let flip = Int.random(in: 0..<size, using: &generator)
        var raw = try FileSystem.readFile(file.path)
        let start = try #require(header.sections["big"]).range.lowerBound
        raw[start + flip] ^= 0x10
        try FileSystem.replaceAtomically(file.path, with: raw)
        #expect(throws: SnapshotError.self) { try file.section("big", of: try file.header()) }
        let section = try VerifiedSection("big", of: try file.header(), in: file, map: try MappedFile(path: file.path))
        let damaged = flip / SnapshotChunks.size
        for chunk in 0..<4 {
            let range = (chunk * SnapshotChunks.size)..<min(size, chunk * SnapshotChunks.size + 10)
            if chunk == damaged {
                #expect(throws: SnapshotError.self) { try section.check(range) }
            } else {
                try section.check(range)
            }
        }
        // A read that parses damaged bytes still throws once it is checked.
        #expect(throws: SnapshotError.self) {
            try section.read(from: flip) { (r: inout SnapshotReader) throws(SnapshotError) in
                _ = try r.readBool() || true
            }
        }

        // Damage in the digests themselves.
        raw[start + flip] ^= 0x10
        let digests = try #require(header.sections[SnapshotChunks.companion(of: "big")]).range
        raw[digests.lowerBound + Int.random(in: 0..<digests.count, using: &generator)] ^= 0x01
        try FileSystem.replaceAtomically(file.path, with: raw)
        #expect(throws: SnapshotError.self) { try file.section("big", of: try file.header()) }
        #expect(throws: SnapshotError.self) {
            try VerifiedSection("big", of: try file.header(), in: file, map: try MappedFile(path: file.path))
        }
    }
}

/// A snapshot whose sections go to the file as they are made reads as one written whole.
@Suite("Streamed snapshot sections: written chunk by chunk, read as if written whole")
struct StreamedSnapshotTests {
    /// Writes `data` as records of random lengths, spilling after each, with the first eight
    /// bytes written as zeros and patched at the end to `patch`.
    static func stream(
        _ data: [UInt8], patch: (UInt32, UInt32), spillAt: Int, generator: inout SeededGenerator,
        into sections: SnapshotSections
    ) throws {
        let section = sections.stream("big")
        section.spillAt = spillAt
        var w = SnapshotWriter()
        w.writeUInt32(0)
        w.writeUInt32(0)
        var at = 8
        while at < data.count {
            let length = min(data.count - at, Int.random(in: 1...70_000, using: &generator))
            w.writeRaw(data[at..<(at + length)])
            at += length
            #expect(w.position == at, "the writer's position counts what went to the file")
            try section.spill(&w)
            #expect(w.bytes.count < spillAt + 70_000, "a spill leaves less than a chunk and a record")
        }
        try section.finish(&w, patching: [(patch.0, 0), (patch.1, 4)])
    }

    @Test(
        "every section reads back as written whole: short, one chunk, many chunks and a short last one",
        arguments: [100, SnapshotChunks.size - 3, SnapshotChunks.size, SnapshotChunks.size * 5 + 777, 3_000_000])
    func streamedEqualsWhole(size: Int) throws {
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: UInt64(size))
        var data = SnapshotChunkTests.bytes(size, seed: UInt64(size) &+ 1)
        let patch = (UInt32.random(in: 0...UInt32.max, using: &generator), UInt32(size))
        let head = LogHead(seq: 42, hash: SHA256.hash("head"))
        let streamed = SnapshotFile(path: directory.appending("streamed.snapshot"))
        try streamed.write(kind: "test", schema: 3, head: head, logEnd: 99, vaultSize: 7) { sections in
            try sections.add("small", [1, 2, 3])
            try Self.stream(data, patch: patch, spillAt: 300_000, generator: &generator, into: sections)
            try sections.add("after", Array("tail".utf8), chunked: true)
        }
        for i in 0..<4 {
            data[i] = UInt8(truncatingIfNeeded: patch.0 >> (8 * UInt32(i)))
            data[4 + i] = UInt8(truncatingIfNeeded: patch.1 >> (8 * UInt32(i)))
        }
        let whole = SnapshotFile(path: directory.appending("whole.snapshot"))
        try whole.write(
            kind: "test", schema: 3, head: head, logEnd: 99, vaultSize: 7,
            sections: [("small", [1, 2, 3]), ("big", data), ("after", Array("tail".utf8))], chunked: ["big", "after"])

        let a = try streamed.header(kind: "test", schema: 3), b = try whole.header(kind: "test", schema: 3)
        #expect((a.head, a.logEnd, a.vaultSize) == (b.head, b.logEnd, b.vaultSize))
        #expect(Set(a.sections.keys) == Set(b.sections.keys))
        for (name, section) in b.sections {
            let other = try #require(a.sections[name])
            #expect(other.range.count == section.range.count, "\(name)")
            #expect(other.digest == section.digest, "\(name)")
            let same = try streamed.section(name, of: a) == whole.section(name, of: b)
            #expect(same, "\(name): other bytes")
        }
        let buffer = try streamed.streamedSectionBuffer("big", of: a, readAhead: 1)
        try buffer.ensure(size)
        #expect(buffer.bytes.elementsEqual(data), "the section read as a checkpoint load reads it")
    }

    /// A keyed section of `count` records with distinct keys and payloads of random lengths.
    static func keyedRecords(_ count: Int, generator: inout SeededGenerator) -> [(key: [UInt8], payload: [UInt8])] {
        let numbers = Set((0..<(count * 3)).shuffled(using: &generator).prefix(count))
        return numbers.map { n in
            (
                Array("key-\(n)".utf8),
                (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator)
                }
            )
        }
    }

    /// A cursor walks forward from its last lookup and searches the whole section when asked
    /// out of order: whatever the order, it finds what a scan of every record finds.
    @Test(
        "a cursor finds every key a scan finds, asked in any order, with keys that are others' prefixes",
        arguments: 0..<10)
    func cursorLookups(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 900)
        let section = KeyedSection.build(Self.keyedRecords([0, 1, 2, 40, 3_000][seed % 5], generator: &generator))
        try section.withUnsafeBytes { raw in
            let keys = try (0..<KeyedSection.count(in: raw)).map { Array(try KeyedSection.record($0, in: raw).key) }
            func scan(_ key: [UInt8]) -> Int? { keys.firstIndex(of: key) }
            // Present keys, absent ones between them ("key-" is every key's prefix; "key-1x"
            // sorts among them), and ones before and after all of them.
            var asked = keys + (0..<50).map { _ in Array("key-\(Int.random(in: 0..<20_000, using: &generator))".utf8) }
            asked += ["", "a", "key-", "key-1x", "key-99999999", "zzz"].map { Array($0.utf8) }
            let ascending = asked.sorted { $0.lexicographicallyPrecedes($1) }
            let orders: [(String, [[UInt8]])] = [
                ("ascending", ascending), ("descending", ascending.reversed()),
                ("shuffled", asked.shuffled(using: &generator)),
                ("ascending twice over", ascending + ascending),
                ("each twice", ascending.flatMap { [$0, $0] }),
            ]
            for (name, order) in orders {
                var cursor = KeyedSection.Cursor()
                for key in order {
                    let found = try cursor.position(of: key, in: raw)
                    #expect(found == scan(key), "seed \(seed), \(name): \(String(decoding: key, as: UTF8.self))")
                    #expect(try KeyedSection.position(of: key, in: raw) == found)
                }
            }
        }
    }

    /// The search reads keys without checksums, so a flipped byte may send it astray; it
    /// must then refuse, never answer wrongly, and the damaged record's own key is refused.
    @Test(
        "a cursor over a damaged record refuses its key and answers every other key rightly or refuses",
        arguments: 0..<24)
    func cursorOverDamage(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 950)
        var section = KeyedSection.build(Self.keyedRecords(300, generator: &generator))
        let keys = try section.withUnsafeBytes { raw in
            try (0..<KeyedSection.count(in: raw)).map { Array(try KeyedSection.record($0, in: raw).key) }
        }
        // A byte of one record changed, so that its key sorts lower, higher or like another
        // key's: in its key, or for every third seed also in its payload's first bytes.
        let victim = Int.random(in: 0..<keys.count, using: &generator)
        let start = try section.withUnsafeBytes { try KeyedSection.recordStart(victim, in: $0) }
        let span = seed % 3 == 0 ? keys[victim].count + 2 : keys[victim].count
        section[start + 1 + Int.random(in: 0..<span, using: &generator)] ^= [0x20, 0x40, 0x01, 0x10][seed % 4]
        section.withUnsafeBytes { raw in
            var cursor = KeyedSection.Cursor()
            for (i, key) in keys.enumerated().shuffled(using: &generator) {
                let found = Result { () throws(SnapshotError) -> Int? in try cursor.position(of: key, in: raw) }
                if i == victim {
                    #expect(throws: SnapshotError.self, "seed \(seed): the damaged record's key is refused") {
                        try found.get()
                    }
                } else if case .success(let place) = found {
                    #expect(place == i, "seed \(seed): key \(i) misread as \(String(describing: place))")
                }
            }
        }
    }

    @Test(
        "a keyed section merged straight into the file is the one merged in memory, byte for byte",
        arguments: 0..<8)
    func streamedMerge(seed: Int) throws {
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: UInt64(seed) &+ 300)
        let old = KeyedSection.build(Self.keyedRecords([0, 1, 40, 3_000][seed % 4], generator: &generator))
        let existing = try old.withUnsafeBytes { raw in
            try (0..<KeyedSection.count(in: raw)).map { Array(try KeyedSection.record($0, in: raw).key) }
        }
        // Replacements of records there (the first and the last among them), and new keys
        // sorting before, among and after them; none for every fourth seed.
        var changed: [(key: [UInt8], payload: [UInt8])] = []
        if seed % 4 != 3 {
            for key in existing.shuffled(using: &generator).prefix(5)
                + [existing.first, existing.last].compactMap({ $0 })
            {
                if !changed.contains(where: { $0.key == key }) { changed.append((key, [UInt8(seed), 1, 2])) }
            }
            for key in ["a", "key-", "key-5x", "zzz"] { changed.append((Array(key.utf8), Array(key.utf8))) }
        }
        let expected = try old.withUnsafeBytes { try KeyedSection.merge($0, changed: changed) }
        let file = SnapshotFile(path: directory.appending("keyed.snapshot"))
        try file.write(kind: "test", schema: 1, head: LogHead(seq: 1, hash: .zero), logEnd: 1, vaultSize: 0) {
            sections in
            let section = sections.stream("keyed", chunked: false)
            section.spillAt = 1_000
            try old.withUnsafeBytes { try KeyedSection.merge($0, changed: changed, into: section) }
        }
        let written = try file.section("keyed", of: try file.header())
        let same = written == expected
        #expect(same, "seed \(seed): \(written.count) bytes against \(expected.count)")
    }

    @Test("a damaged record of the old section fails the merge, and the file it would replace stays")
    func streamedMergeOfDamage() throws {
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: 77)
        var old = KeyedSection.build(Self.keyedRecords(500, generator: &generator))
        old[old.count / 2] ^= 0x01
        let file = SnapshotFile(path: directory.appending("keyed.snapshot"))
        let head = LogHead(seq: 1, hash: .zero)
        try file.write(kind: "test", schema: 1, head: head, logEnd: 1, vaultSize: 0) { try $0.add("kept", [7]) }
        #expect(throws: SnapshotError.self) {
            try file.write(kind: "test", schema: 1, head: head, logEnd: 1, vaultSize: 0) { sections in
                try old.withUnsafeBytes {
                    try KeyedSection.merge($0, changed: [], into: sections.stream("keyed", chunked: false))
                }
            }
        }
        #expect(try file.section("kept", of: try file.header()) == [7])
        #expect(try FileSystem.contents(of: directory.path) == ["keyed.snapshot"], "no temporary file is left")
    }

    @Test("a header too large for its room is refused, and the file it would replace stays")
    func oversizedHeader() throws {
        let directory = TemporaryDirectory()
        let file = SnapshotFile(path: directory.appending("s.snapshot"))
        let head = LogHead(seq: 1, hash: .zero)
        try file.write(kind: "test", schema: 1, head: head, logEnd: 1, vaultSize: 0) { try $0.add("kept", [9]) }
        #expect(throws: SystemError.self) {
            try file.write(kind: "test", schema: 1, head: head, logEnd: 1, vaultSize: 0) { sections in
                for i in 0..<60 { try sections.add(String(repeating: "n", count: 60) + "\(i)", [UInt8(i)]) }
            }
        }
        #expect(try file.section("kept", of: try file.header()) == [9])
        #expect(try FileSystem.contents(of: directory.path) == ["s.snapshot"], "no temporary file is left")
    }
}
