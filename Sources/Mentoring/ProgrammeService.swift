import EventLog

/// The write side's service: under the store lock, it loads the state, decides, writes the
/// vault lines and appends the events with the expected head. All or nothing.
public final class ProgrammeService: Sendable {
    public let store: Store
    public let vault: Vault
    let clock: any Clock
    let random: any RandomSource

    /// Seals a free text or profile for the vault with this service's randomness.
    func seal(_ payload: PersonalPayload) -> SealedRecord { SealedRecord(payload, random: random) }

    public init(store: Store, clock: any Clock, random: any RandomSource) {
        self.store = store
        self.vault = Vault(store: store)
        self.clock = clock
        self.random = random
    }

    /// Records one command.
    /// - Throws: `DomainError` for a refusal, `LogError` and `SystemError` for I/O.
    public func record(_ command: ProgrammeCommand, context: RecordingContext) throws -> RecordedOutcome {
        do {
            return try record(batch: [(command, context)])[0]
        } catch let failure as BatchFailure {
            throw failure.error
        }
    }

    /// Records commands as one batch: one vault write, one log write, one fsync each. If any
    /// command is refused, nothing is appended and the failure names it.
    ///
    /// With a decider snapshot that matches the log, only the entries the batch touches are
    /// read, plus the log's tail since the snapshot; otherwise the state is rebuilt and a
    /// snapshot written for next time.
    public func record(batch: [(ProgrammeCommand, RecordingContext)]) throws -> [RecordedOutcome] {
        var commands = batch.makeIterator()
        // A void re-checks the whole history, and a closing checks every tandem of the
        // programme: both need the whole state.
        let hasVoid = batch.contains {
            switch $0.0 {
            case .void, .close: true
            default: false
            }
        }
        return try record(count: batch.count, mayVoid: hasVoid) { commands.next() }
    }

    /// Where a batch's commands come from, one at a time: an array, or a reader that parses
    /// each line of a file only when it is needed. An error it throws (a malformed line)
    /// fails the batch as it is, unwrapped.
    public typealias CommandSource = () throws -> (ProgrammeCommand, RecordingContext)?

    /// Records the commands `next` hands out as one batch, in bounded memory: each command is
    /// decided as it is read, its vault lines are written as they come (fsync'ed once, before
    /// the log), and its events are kept as encoded bodies (spilled to `cache/` past a few
    /// megabytes) until the whole batch is decided and written with one fsync. If any command
    /// is refused, nothing is appended, the vault is cut back, and the failure names it.
    ///
    /// - Parameters:
    ///   - count: how many commands to expect (a hint for how to undo, and when to spill).
    ///   - mayVoid: whether a `void` may come; a void re-checks the whole history, so the
    ///     batch is then decided against the whole state, not the snapshot's partial one.
    public func record(count: Int, mayVoid: Bool, _ next: CommandSource) throws -> [RecordedOutcome] {
        try store.events.withExclusiveAccess { session in
            if !mayVoid, var partial = try loadPartialState(session) {
                let outcomes = try recordLocked(
                    next, count: count, session: &session, state: &partial.state, profiles: &partial.profiles,
                    faulting: &partial.faulting, at: clock.now())
                if let faulting = partial.faulting,
                    session.head.seq - faulting.reader.header.head.seq
                        >= Self.snapshotTail(snapshotBytes: faulting.reader.size),
                    let end = try? SnapshotFile.logEnd(of: session.head.seq, in: session)
                {
                    try? DeciderSnapshot.write(
                        partial.state, mergingInto: faulting.reader, head: session.head, logEnd: end,
                        vaultSize: vault.size, to: DeciderSnapshot.file(store))
                }
                return outcomes
            }
            let loaded = try loadState(session, allProfiles: mayVoid)
            var state = loaded.state
            var profiles = loaded.profiles
            var none: StateFaulting? = nil
            // The snapshot is written while the batch's lines are hashed, written and synced.
            var snapshot: DeciderSnapshot.Writing?
            let outcomes = try recordLocked(
                next, count: count, session: &session, state: &state, profiles: &profiles, faulting: &none,
                at: clock.now(),
                beforeCommit: { state, profiles in
                    // The snapshot needs the state alone: the traits go first (after a large
                    // batch they are a good part of the peak), and nothing rolls them back.
                    profiles = TraitsDirectory()
                    snapshot = DeciderSnapshot.Writing(state, to: DeciderSnapshot.file(store))
                })
            if let snapshot {
                let head = session.head
                if head.seq > 0, snapshot.seq == head.seq, let end = try? SnapshotFile.logEnd(of: head.seq, in: session)
                {
                    snapshot.finish(head: head, logEnd: end, vaultSize: vault.size)
                } else {
                    snapshot.abandon()
                }
            } else {
                saveSnapshot(state, head: session.head, in: session)
            }
            return outcomes
        }
    }

    /// How many events may follow the decider snapshot before a writer refreshes it: each
    /// command reads that tail (a few microseconds a line), and a refresh copies the
    /// snapshot's bytes once (0.11 s for the 1M store's 33 MB, 1 s for the 10M store's
    /// 330 MB). One line per megabyte of snapshot, at least 64 and at most 1,024, keeps the
    /// refresh's share of an append about the same on every store, and the tail short.
    package static func snapshotTail(snapshotBytes: Int) -> Int { max(64, min(1024, snapshotBytes >> 20)) }

    /// Writes the decider snapshot (best effort: it is a cache).
    func saveSnapshot(_ state: ProgrammeState, head: LogHead, in log: any LineSource) {
        guard head.seq > 0, state.head == head.seq, let end = try? SnapshotFile.logEnd(of: head.seq, in: log) else {
            return
        }
        try? DeciderSnapshot.write(
            state, head: head, logEnd: end, vaultSize: vault.size, to: DeciderSnapshot.file(store))
    }

    /// Holds the store lock while `body` records batch after batch, keeping the state in
    /// memory between them: for long runs such as the demo, which would otherwise replay the
    /// log before every batch. Every batch goes through the same decide, vault and append
    /// path as `record(batch:)`.
    public func recording<R>(_ body: (Recorder) throws -> R) throws -> R {
        try store.events.withExclusiveAccess { session in
            let loaded = try loadState(session, allProfiles: true)
            let recorder = Recorder(service: self, session: session, state: loaded.state, profiles: loaded.profiles)
            defer { saveSnapshot(recorder.state, head: recorder.session.head, in: recorder.session) }
            return try body(recorder)
        }
    }

    /// A writer holding the lock; see `recording(_:)`.
    public final class Recorder {
        let service: ProgrammeService
        var session: any LogSession
        /// The state after everything recorded so far.
        public private(set) var state: ProgrammeState
        var profiles: TraitsDirectory

        init(service: ProgrammeService, session: any LogSession, state: ProgrammeState, profiles: TraitsDirectory) {
            self.service = service
            self.session = session
            self.state = state
            self.profiles = profiles
        }

        /// Records a batch as recorded at `at` (the day it counts as "today").
        public func record(_ batch: [(ProgrammeCommand, RecordingContext)], at: Timestamp) throws -> [RecordedOutcome] {
            var none: StateFaulting? = nil
            var commands = batch.makeIterator()
            return try service.recordLocked(
                { commands.next() }, count: batch.count, session: &session, state: &state, profiles: &profiles,
                faulting: &none, at: at)
        }

        /// The head of the log.
        public var head: LogHead { session.head }
    }

    /// Decides a batch against `state` and appends it; `state` and `profiles` move on only
    /// if the batch is appended. They are changed in place, with a journal of what changed:
    /// a failure undoes exactly that, without ever copying the whole state.
    ///
    /// With `faulting`, `state` is partial: the entries each command and event needs are
    /// loaded from the snapshot first.
    func recordLocked(
        _ next: CommandSource, count: Int, session: inout any LogSession, state: inout ProgrammeState,
        profiles: inout TraitsDirectory, faulting: inout StateFaulting?, at: Timestamp,
        beforeCommit: (ProgrammeState, inout TraitsDirectory) -> Void = { _, _ in }
    ) throws -> [RecordedOutcome] {
        var journal = ProgrammeStateJournal(head: state.head)
        // A batch large next to the state is cheaper to undo from a copy of the whole state
        // (copied once, on first write) than entry by entry.
        if faulting == nil, count >= 1024, count * 2 >= state.participants.count + state.tandems.count {
            state.checkpoint(into: &journal)
        }
        var insertedProfiles: RefList = []
        var vaultStart: Int? = nil
        do {
            return try recordJournaled(
                next, count: count, session: &session, state: &state, profiles: &profiles, faulting: &faulting,
                at: at, journal: &journal, insertedProfiles: &insertedProfiles, vaultStart: &vaultStart,
                beforeCommit: beforeCommit)
        } catch {
            state.rollBack(journal)
            profiles.remove(insertedProfiles)
            if let vaultStart { try? vault.truncate(to: vaultStart) }
            throw error
        }
    }

    /// Vault bytes a batch holds before writing them (unsynced) to the vault file.
    static let vaultChunk = 4 << 20

    private func recordJournaled(
        _ nextCommand: CommandSource, count: Int, session: inout any LogSession, state: inout ProgrammeState,
        profiles: inout TraitsDirectory, faulting: inout StateFaulting?, at: Timestamp,
        journal: inout ProgrammeStateJournal,
        insertedProfiles: inout RefList, vaultStart: inout Int?,
        beforeCommit: (ProgrammeState, inout TraitsDirectory) -> Void
    ) throws -> [RecordedOutcome] {
        let head = session.head
        let today = BusinessDate(at)
        var outcomes: [RecordedOutcome] = []
        outcomes.reserveCapacity(count)
        let records = PendingRecords(spillDirectory: count >= 10_000 ? store.cacheDirectory : nil)
        var sealed: [SealedRecord] = []
        var sealedBytes = 0
        /// Vault lines go out as they come: unsynced until the batch is decided.
        func writeVault(sync: Bool) throws {
            if vaultStart == nil {
                try quarantineTornVaultTail()
                vaultStart = vault.size
            }
            try vault.append(sealed, sync: sync)
            sealed.removeAll(keepingCapacity: true)
            sealedBytes = 0
        }
        var decidedKeys: [String: (digest: String, outcome: RecordedOutcome, index: Int)] = [:]
        var next = head.seq + 1
        var index = -1
        // The lines of a batch mostly share their context: one that equals the last checked
        // is not checked again.
        var checkedContext: RecordingContext? = nil
        while let (original, context) = try nextCommand() {
            index += 1
            do {
                var command = original
                if context != checkedContext {
                    try context.validate()
                    checkedContext = context
                }
                // Idempotency: a retry appends nothing and reports the original seq.
                // Keys are kept as their SHA-256: a key is free text a client chose, and may
                // name someone.
                let storedKey = context.key.map(IdempotencyKey.stored)
                if let rawKey = context.key, let key = storedKey {
                    try Field.text("key", rawKey, maximum: 200)
                    try faulting?.key(key, into: &state)
                    if let earlier = decidedKeys[key] {
                        guard earlier.digest == command.digest else {
                            throw DomainError.keyReusedInBatch(key: rawKey, index: earlier.index)
                        }
                        outcomes.append(
                            RecordedOutcome(
                                seq: earlier.outcome.seq, type: earlier.outcome.type, id: earlier.outcome.id,
                                duplicate: true))
                        continue
                    }
                    if let use = state.keys[key] {
                        guard use.digest == command.digest, try samePersonalData(use.refs, command.sealed) else {
                            throw DomainError.keyReused(key: rawKey, seq: use.seq)
                        }
                        outcomes.append(try outcomeOfRetry(use.seq, session: session))
                        continue
                    }
                }
                if case .forget = command {
                    throw DomainError.erasureInBatch
                }
                try faulting?.fault(command.needs, into: &state)
                if let me = context.participant { try Self.checkSelfService(command, by: me, in: state) }
                command = try resolveIDs(command, &state, faulting: &faulting)
                if case .updateProfile(var update) = command {
                    // The new profile is the old one, from the vault, with the changes: sealed
                    // whole, so that every report reads one line for it.
                    let current = try currentProfile(of: update.participant, in: state, pending: sealed)
                    update.changes.sealed = SealedRecord(.profile(update.changes.applied(to: current)), random: random)
                    command = .updateProfile(update)
                }
                let decision = try decide(command, state, today: today)
                if case .void(let v) = command {
                    // The rest of the batch is decided against the history without the
                    // voided event, which the check has just replayed. (A voided command's
                    // idempotency key is released, as a replay from the log would release it.)
                    let replayed = try checkVoid(
                        v.seq, state: state, session: session, profiles: profiles,
                        pending: try records.records(), pendingStart: head.seq + 1)
                    state.checkpoint(into: &journal)
                    state = replayed
                    faulting = nil
                }
                // Whom the actor acts for is free text too: sealed, like the command's own.
                let behalf = context.onBehalfOf.map { SealedRecord(.reason($0.trimmed), random: random) }
                if let behalf { sealed.append(behalf) }
                for event in decision.events {
                    var extras = JSONObject()
                    if let behalf { extras["onBehalfOf"] = behalf.reference.json }
                    if let key = storedKey {
                        extras["key"] = .string(key)
                        extras["keyDigest"] = .string(command.digest)
                    }
                    try records.append(type: event.type, actor: context.actor, at: at, extras: extras) {
                        event.writeData(to: &$0)
                    }
                    let recorded = RecordedEvent(
                        seq: next, at: at, actor: context.actor, onBehalfOfRef: behalf?.reference,
                        key: storedKey, keyDigest: storedKey.map { _ in command.digest }, event: event)
                    var profile: Profile? = nil
                    if let ref = event.profileReference, case .profile(let p) = command.sealed.first?.payload {
                        profile = p
                        profiles.insert(Traits(p), ref: ref.ref)
                        insertedProfiles.append(ref.ref)
                    }
                    try faulting?.fault(event.needs, into: &state)
                    state.apply(recorded, traits: profile.map(Traits.init), journal: &journal)
                    var outcome = RecordedOutcome(
                        seq: next, type: event.type, id: event.identity, duplicate: false)
                    outcome.advisories = state.advisories(for: event)
                    outcomes.append(outcome)
                    if let key = storedKey { decidedKeys[key] = (command.digest, outcome, index) }
                    next += 1
                }
                sealed += decision.vault
                sealedBytes += decision.vault.reduce(0) { $0 + $1.line.count + 1 }
                if sealedBytes >= Self.vaultChunk { try writeVault(sync: false) }
            } catch {
                throw BatchFailure(index: index, error: error)
            }
        }
        guard records.count > 0 else { return outcomes }
        beforeCommit(state, &profiles)
        // Vault first, and durable: an event must never point at a line that is not on disk.
        if !sealed.isEmpty || vaultStart != nil { try writeVault(sync: true) }
        _ = try session.append(records, expectedHead: head.seq) { _ in }
        return outcomes
    }

    /// Moves a vault line cut short by a crash to `quarantine/` (under the writer lock), so
    /// that the next vault line is not written onto it.
    func quarantineTornVaultTail() throws {
        let stamp = clock.now().rfc3339.filter { $0.isNumber || $0 == "T" || $0 == "Z" }
        if let torn = try vault.quarantineTornTail(into: store.quarantineDirectory, stamp: stamp) {
            store.events.warn(
                "moved a torn vault tail of \(torn.count) bytes (byte offset \(torn.lowerBound)) to \(store.quarantineDirectory): a personal-data line cut short by a crash, which no event points to; the next erasure deletes it"
            )
        }
    }

    /// The current state, without taking the lock (for reads).
    public func currentState() throws -> ProgrammeState {
        try loadState(store.events, head: store.events.readHead(), allProfiles: false).state
    }

    struct Loaded {
        var state: ProgrammeState
        var head: LogHead
        var profiles: TraitsDirectory
    }

    /// A partial state: the small parts of the snapshot, the log's tail since it applied.
    struct PartialState {
        var state: ProgrammeState
        var profiles: TraitsDirectory
        var faulting: StateFaulting?
    }

    /// Opens the decider snapshot and catches up with the log's tail, loading only what the
    /// tail's events touch. Nil if there is no snapshot that matches the log (or the tail
    /// holds a void): the caller then rebuilds the whole state.
    /// - Throws: `LogError` for a damaged log, `EventDecodingError` for an unreadable event.
    func loadPartialState(_ session: any LogSession) throws -> PartialState? {
        // The snapshot is checked against the log by the tail's first line (it must start at
        // the snapshot's `logEnd` and link to its head), found at that offset: one read where
        // `SnapshotFile.check` and the tail's start would each search the log by seq.
        guard let reader = try? DeciderSnapshot.Reader(DeciderSnapshot.file(store)),
            (try? SnapshotFile.checkBounds(reader.header, head: session.head, vaultSize: vault.size)) != nil,
            reader.header.head.seq < session.head.seq || reader.header.head == session.head,
            var state = try? reader.base()
        else { return nil }
        var faulting = StateFaulting(reader)
        var profiles = TraitsDirectory()
        try profiles.load(vault, from: reader.header.vaultSize)
        var decoder = EventDecoder()
        var sawVoid = false
        let header = reader.header
        do {
            try session.forEachLine(from: header.head.seq + 1, after: nil, near: header.logEnd) { line in
                if line.seq == header.head.seq + 1, !SnapshotFile.follows(header, line) {
                    throw SnapshotError.doesNotMatchLog(seq: header.head.seq)
                }
                let recorded = try decoder.decode(line)
                if case .eventVoided = recorded.event {
                    sawVoid = true
                    throw Replay.StopReading()
                }
                try faulting.fault(recorded.event.needs, into: &state)
                var traits: Traits? = nil
                if let ref = recorded.event.profileReference { traits = profiles[ref] }
                state.apply(recorded, traits: traits)
            }
        } catch is Replay.StopReading {} catch is SnapshotError { return nil }
        if sawVoid { return nil }
        return PartialState(state: state, profiles: profiles, faulting: faulting)
    }

    /// The whole state: from the snapshot and the tail when they fit the log, else by a
    /// replay from the first line. `allProfiles` loads every profile's traits (a void's
    /// check replays the history with them), not just those after the snapshot.
    func loadState(_ session: any LogSession, allProfiles: Bool) throws -> Loaded {
        try loadState(session, head: session.head, allProfiles: allProfiles)
    }

    func loadState(_ source: any LineSource, head: LogHead, allProfiles: Bool) throws -> Loaded {
        if let reader = try? DeciderSnapshot.Reader(DeciderSnapshot.file(store)),
            (try? SnapshotFile.check(reader.header, against: source, head: head, vaultSize: vault.size)) != nil,
            let snapshot = try? reader.all()
        {
            var profiles = TraitsDirectory()
            try profiles.load(vault, from: allProfiles ? 0 : reader.header.vaultSize)
            var all: TraitsDirectory? = allProfiles ? profiles : nil
            let voided = snapshot.voided
            let checkpoint = Replay.Checkpoint(fold: consume snapshot, head: reader.header.head, voided: voided)
            let result = try Replay.fold(
                source, profiles: profiles, resumingFrom: consume checkpoint,
                allProfiles: {
                    if all == nil {
                        var directory = TraitsDirectory()
                        try directory.load(self.vault)
                        all = directory
                    }
                    return all!
                }
            ) { ProgrammeState() }
            return Loaded(state: result.fold, head: result.head, profiles: all ?? profiles)
        }
        var profiles = TraitsDirectory()
        let result = try Replay.fold(
            source,
            loadingProfiles: {
                try profiles.load(vault)
                return profiles
            }
        ) { ProgrammeState() }
        return Loaded(state: result.fold, head: result.head, profiles: profiles)
    }

    /// Fills in generated ids, avoiding every id the state already holds.
    func resolveIDs(
        _ command: ProgrammeCommand, _ state: inout ProgrammeState, faulting: inout StateFaulting?
    ) throws -> ProgrammeCommand {
        func taken(_ id: ParticipantID) throws -> Bool {
            try faulting?.participant(id, deep: false, into: &state)
            return state.participants.contains(id)
        }
        func taken(_ id: TandemID) throws -> Bool {
            try faulting?.tandem(id, deep: false, into: &state)
            return state.tandems.contains(id)
        }
        switch command {
        case .signUp(var c) where c.id == nil:
            repeat { c.id = .random(using: random) } while try taken(c.id!)
            return .signUp(c)
        case .match(var c) where c.id == nil:
            repeat { c.id = .random(using: random) } while try taken(c.id!)
            return .match(c)
        case .swap(var c) where c.newTandem == nil:
            repeat { c.newTandem = .random(using: random) } while try taken(c.newTandem!)
            return .swap(c)
        default:
            return command
        }
    }

    static func encodedLine(_ record: LogRecord, seq: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        LineEncoder.encode(record, seq: seq, prev: .zero, into: &bytes)
        bytes.removeLast()
        return bytes
    }
}
