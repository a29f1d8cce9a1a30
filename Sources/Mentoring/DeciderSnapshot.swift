import Dispatch
import EventLog

/// The decider's state on disk (`cache/decider.snapshot`), indexed so that a command reads
/// only the participants, tandems and idempotency keys it touches.
///
/// Sections: `meta` (head, programmes, match runs, voids: small, read whole),
/// `participants`, `tandems` and `keys` (keyed sections: one record found by binary search).
public enum DeciderSnapshot {
    static let kind = "decider"
    /// Raised whenever the layout or the meaning of a field changes: an older snapshot is
    /// then rebuilt, never misread.
    /// 2: idempotency keys stored as their SHA-256; tandems keep the seqs of their start,
    /// end and last activity; 3: match-run proposals with each person, programmes closed;
    /// 4: a tandem's last activity counts its check-ins (an older snapshot's does not, and
    /// would let an end be backdated before one); 5: records checked by a word-wise
    /// checksum (`KeyedSection.checksum`), merged sections chunked; 6: match runs in a keyed
    /// section of their own (they were read whole, in `meta`, for every command).
    public static let schema = 6

    /// The snapshot file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/decider.snapshot")
    }

    /// Writes `state`, which covers the log up to `head` (ending at byte `logEnd`) and the
    /// vault up to `vaultSize`.
    /// - Throws: `SystemError`.
    public static func write(
        _ state: ProgrammeState, head: LogHead, logEnd: Int, vaultSize: Int, to file: SnapshotFile
    ) throws {
        // One section at a time, each gone before the next is made: after a batch of a
        // million commands, holding every record's bytes at once set the batch's peak memory.
        try file.write(kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize) { sections in
            for (name, make) in Self.sections(of: state) { try sections.add(name, make()) }
        }
    }

    /// The sections of a state, in file order, each made when asked for: a writer holds one
    /// at a time.
    static func sections(of state: ProgrammeState) -> [(name: String, make: () -> [UInt8])] {
        func bytewise<Kind>(_ ids: some Collection<Identifier<Kind>>) -> [Identifier<Kind>] {
            ids.sorted { $0.rawValue.utf8.lexicographicallyPrecedes($1.rawValue.utf8) }
        }
        // The tables' records are taken by position in the bytewise order of their keys:
        // no key is hashed again, and the order is found on eight-byte prefixes.
        let participants = state.participants, tandems = state.tandems
        return [
            ("meta", { meta(of: state) }),
            (
                "participants",
                {
                    let keys = participants.keys, records = participants.values
                    return KeyedSection.build(
                        sortedKeys: BytewiseOrder.positions(count: keys.count) { keys[$0].rawValue },
                        bytes: { Array(keys[$0].rawValue.utf8) }, payload: { encode(records[$0]) })
                }
            ),
            (
                "tandems",
                {
                    let keys = tandems.keys, records = tandems.values
                    return KeyedSection.build(
                        sortedKeys: BytewiseOrder.positions(count: keys.count) { keys[$0].rawValue },
                        bytes: { Array(keys[$0].rawValue.utf8) }, payload: { encode(records[$0]) })
                }
            ),
            ("keys", { KeyedSection.build(state.keys.map { (Array($0.key.utf8), encode($0.value, key: $0.key)) }) }),
            (
                "runs",
                {
                    KeyedSection.build(
                        sortedKeys: bytewise(state.matchRuns.keys), bytes: { Array($0.rawValue.utf8) },
                        payload: { Array(state.matchRuns[$0]!.rawValue.utf8) })
                }
            ),
        ]
    }

    /// A snapshot of a state that no longer changes, written on another thread while the
    /// batch that made the state appends its lines: its sections go to a temporary file as
    /// they are made, one at a time, and the header once the batch knows its head
    /// (`finish`). Written on one core after the append, it was a sixth of a batch of a
    /// million commands while the other core idled.
    package final class Writing {
        /// What the two threads share. The writing thread holds this, not the `Writing`, so
        /// that a `Writing` let go without a word still abandons the file in `deinit`.
        private final class Handover: @unchecked Sendable {
            let headerKnown = DispatchSemaphore(value: 0)
            let written = DispatchSemaphore(value: 0)
            var header: (head: LogHead, logEnd: Int, vaultSize: Int)?
        }
        private let handover = Handover()
        private var settled = false
        /// The head of the state: the snapshot is written only with the head of this seq.
        package let seq: Int

        /// Starts writing `state` to `file`.
        package init(_ state: ProgrammeState, to file: SnapshotFile) {
            seq = state.head
            let handover = handover
            DispatchQueue.global().async {
                defer { handover.written.signal() }
                try? file.write(
                    kind: DeciderSnapshot.kind, schema: DeciderSnapshot.schema,
                    making: { sections in
                        for (name, make) in DeciderSnapshot.sections(of: state) { try sections.add(name, make()) }
                    },
                    header: {
                        handover.headerKnown.wait()
                        guard let header = handover.header else { throw Abandoned() }
                        return header
                    })
            }
        }

        /// Completes the file with its header, and waits until it is in place.
        package func finish(head: LogHead, logEnd: Int, vaultSize: Int) {
            settle((head, logEnd, vaultSize))
        }

        /// Leaves the file as it was (the batch failed, or its head is not the state's),
        /// once the thread has let go of it.
        package func abandon() { settle(nil) }

        private func settle(_ header: (head: LogHead, logEnd: Int, vaultSize: Int)?) {
            guard !settled else { return }
            settled = true
            handover.header = header
            handover.headerKnown.signal()
            handover.written.wait()
        }

        deinit { abandon() }

        private struct Abandoned: Error {}
    }

    /// Writes a new snapshot from an old one and a partial state loaded from it: the
    /// entries the partial state holds replace the old ones, the rest are copied as bytes.
    /// - Complexity: O(snapshot size), with no decoding of unchanged entries.
    /// - Throws: `SystemError`, `SnapshotError`.
    public static func write(
        _ partial: ProgrammeState, mergingInto reader: Reader, head: LogHead, logEnd: Int, vaultSize: Int,
        to file: SnapshotFile
    ) throws {
        let (participants, tandems, keys, runs) = records(of: partial)
        // Each section merged straight into the file: on the 10M store the old sections are
        // 340 MB, and a merge in memory held them twice over (940 MB, once in 64 appends).
        try file.write(kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize) { sections in
            try sections.add("meta", meta(of: partial))
            for (name, old, changed) in [
                ("participants", reader.participants, participants), ("tandems", reader.tandems, tandems),
                ("keys", reader.keys, keys), ("runs", reader.runs, runs),
            ] {
                // Chunked: the chunks are hashed on every core while the merge goes on (one
                // digest of the whole took a third of the refresh on one core).
                try KeyedSection.merge(old, changed: changed, into: sections.stream(name, chunked: true))
            }
        }
    }

    typealias Records = [(key: [UInt8], payload: [UInt8])]

    static func records(of state: ProgrammeState) -> (Records, Records, Records, Records) {
        (
            state.participants.values.map { (Array($0.id.rawValue.utf8), encode($0)) },
            state.tandems.values.map { (Array($0.id.rawValue.utf8), encode($0)) },
            state.keys.map { (Array($0.key.utf8), encode($0.value, key: $0.key)) },
            state.matchRuns.map { (Array($0.key.rawValue.utf8), Array($0.value.rawValue.utf8)) }
        )
    }

    static func meta(of state: ProgrammeState) -> [UInt8] {
        var meta = SnapshotWriter()
        meta.write(state.head)
        meta.write(UInt64(state.programmes.count))
        for programme in state.programmes.values.sorted(by: { $0.id < $1.id }) {
            meta.write(programme.id.rawValue)
            meta.write(programme.name)
            meta.write(programme.starts.dayNumber)
            meta.write(programme.ends.dayNumber)
            meta.write(programme.cadenceDays)
            meta.write(programme.minGroupSize)
            meta.write(programme.closedOn?.dayNumber)
        }
        meta.write(UInt64(state.voided.count))
        for (seq, by) in state.voided.sorted(by: { $0.key < $1.key }) {
            meta.write(seq)
            meta.write(by)
        }
        return meta.bytes
    }

    static func encode(_ p: ParticipantRecord) -> [UInt8] {
        var w = SnapshotWriter(capacity: 96)
        w.write(p.id.rawValue)
        w.write(p.programme.rawValue)
        w.write(p.role == .mentor)
        w.write(p.signedUpOn.dayNumber)
        w.write(p.unit)
        w.write(p.withdrawnOn?.dayNumber)
        w.write(p.activeTandem?.rawValue)
        w.write(p.erased)
        w.write(UInt64(p.tandems.count))
        for t in p.tandems { w.write(t.rawValue) }
        w.write(UInt64(p.refs.count))
        for r in p.refs { w.write(r) }
        w.write(UInt64(p.proposals.count))
        for (run, partner) in p.proposals.sorted(by: { $0.key < $1.key }) {
            w.write(run.rawValue)
            w.write(partner.rawValue)
        }
        return w.bytes
    }

    static func encode(_ t: TandemRecord) -> [UInt8] {
        var w = SnapshotWriter(capacity: 160)
        w.write(t.id.rawValue)
        w.write(t.programme.rawValue)
        w.write(t.mentor.rawValue)
        w.write(t.mentee.rawValue)
        w.write(t.since.dayNumber)
        w.write(t.until?.dayNumber)
        w.write(Int(t.status.code))
        w.write(t.lastSession?.dayNumber)
        w.write(t.sinceSeq)
        w.write(t.untilSeq)
        w.write(t.lastActivity?.dayNumber)
        w.write(t.lastActivitySeq)
        w.write(UInt64(t.goals.count))
        for (id, goal) in t.goals.sorted(by: { $0.key < $1.key }) {
            w.write(id.rawValue)
            w.write(goal.setOn.dayNumber)
            w.write(goal.due?.dayNumber)
            w.write(goal.category)
            w.write(goal.reachedOn?.dayNumber)
        }
        w.write(UInt64(t.refs.count))
        for r in t.refs { w.write(r) }
        return w.bytes
    }

    static func encode(_ k: KeyUse, key: String) -> [UInt8] {
        var w = SnapshotWriter(capacity: 96)
        w.write(key)
        w.write(k.seq)
        w.write(k.digest)
        w.write(UInt64(k.refs.count))
        for r in k.refs { w.write(r) }
        return w.bytes
    }

    /// An opened snapshot: its header is checked, its sections mapped, and records are read
    /// on demand.
    public final class Reader: @unchecked Sendable {
        public let header: SnapshotFile.Header
        let map: MappedFile
        let participants: UnsafeRawBufferPointer
        let tandems: UnsafeRawBufferPointer
        let keys: UnsafeRawBufferPointer
        let runs: UnsafeRawBufferPointer
        let meta: UnsafeRawBufferPointer
        /// The file's size in bytes.
        public var size: Int { map.bytes.count }

        /// Opens a snapshot and checks its kind and schema (not yet the log: see `check`).
        /// - Throws: `SnapshotError`.
        public init(_ file: SnapshotFile) throws {
            let header = try file.header()
            guard header.kind == DeciderSnapshot.kind, header.schema == DeciderSnapshot.schema else {
                throw SnapshotError.otherSchema(
                    kind: header.kind, found: header.schema, expected: DeciderSnapshot.schema)
            }
            self.header = header
            do { map = try MappedFile(path: file.path) } catch { throw SnapshotError.malformed("cannot be mapped") }
            meta = try file.section("meta", of: header, in: map)
            participants = try file.section("participants", of: header, in: map)
            tandems = try file.section("tandems", of: header, in: map)
            keys = try file.section("keys", of: header, in: map)
            runs = try file.section("runs", of: header, in: map)
            // The small meta section is checked whole; keyed records check themselves.
            guard let digest = header.sections["meta"]?.digest, SHA256.hash(meta) == digest else {
                throw SnapshotError.malformed("section meta does not match its digest")
            }
        }

        /// The state with only the small parts loaded: head, programmes, voids. (Match runs
        /// are faulted in like the rest: a large store has tens of thousands.)
        public func base() throws(SnapshotError) -> ProgrammeState {
            var state = ProgrammeState()
            var r = SnapshotReader(meta)
            state.head = try r.readInt()
            for _ in 0..<(try r.readCount()) {
                let id = try Self.id(ProgrammeKind.self, &r)
                let name = try r.readString()
                let starts = BusinessDate(dayNumber: try r.readInt()), ends = BusinessDate(dayNumber: try r.readInt())
                state.programmes[id] = Programme(
                    id: id, name: name, starts: starts, ends: ends, cadenceDays: try r.readInt(),
                    minGroupSize: try r.readInt())
                state.programmes[id]?.closedOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            }
            for _ in 0..<(try r.readCount()) {
                let seq = try r.readInt()
                state.voided[seq] = try r.readInt()
            }
            return state
        }

        /// The whole state.
        /// - Complexity: O(state).
        public func all() throws -> ProgrammeState {
            var state = try base()
            try KeyedSection.forEach(in: participants) { payload in
                let record = try Self.participant(payload)
                state.participants[record.id] = record
            }
            try KeyedSection.forEach(in: tandems) { payload in
                let record = try Self.tandem(payload)
                state.tandems[record.id] = record
            }
            try KeyedSection.forEach(in: keys) { payload in
                var r = SnapshotReader(payload)
                let key = try r.readString()
                state.keys[key] = try Self.keyUse(&r)
            }
            try KeyedSection.forEach(records: runs) { key, payload in
                state.matchRuns[try Self.id(MatchRunKind.self, key)] = try Self.id(ProgrammeKind.self, payload)
            }
            return state
        }

        /// One participant, if the snapshot has them.
        public func participant(_ id: ParticipantID) throws(SnapshotError) -> ParticipantRecord? {
            guard let payload = try KeyedSection.find(id.rawValue.utf8, in: participants) else { return nil }
            return try Self.participant(payload)
        }

        /// One tandem, if the snapshot has it.
        public func tandem(_ id: TandemID) throws(SnapshotError) -> TandemRecord? {
            guard let payload = try KeyedSection.find(id.rawValue.utf8, in: tandems) else { return nil }
            return try Self.tandem(payload)
        }

        /// A match run's programme, if the snapshot has the run.
        public func run(_ id: MatchRunID) throws(SnapshotError) -> ProgrammeID? {
            guard let payload = try KeyedSection.find(id.rawValue.utf8, in: runs) else { return nil }
            return try Self.id(ProgrammeKind.self, payload)
        }

        /// What an idempotency key was used for, if it was.
        public func key(_ key: String) throws(SnapshotError) -> KeyUse? {
            guard let payload = try KeyedSection.find(key.utf8, in: keys) else { return nil }
            var r = SnapshotReader(payload)
            _ = try r.readStringBytes()
            return try Self.keyUse(&r)
        }

        // Payloads start with their key (repeated, so that a payload read alone is whole).

        static func participant(_ payload: UnsafeRawBufferPointer) throws(SnapshotError) -> ParticipantRecord {
            var r = SnapshotReader(payload)
            let id = try Self.id(ParticipantKind.self, &r)
            let programme = try Self.id(ProgrammeKind.self, &r)
            let role: Role = try r.readBool() ? .mentor : .mentee
            var record = ParticipantRecord(
                id: id, programme: programme, role: role, signedUpOn: BusinessDate(dayNumber: try r.readInt()))
            record.unit = try r.readOptionalString()
            record.withdrawnOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            record.activeTandem = try r.readBool() ? try Self.id(TandemKind.self, &r) : nil
            record.erased = try r.readBool()
            for _ in 0..<(try r.readCount()) { record.tandems.append(try Self.id(TandemKind.self, &r)) }
            for _ in 0..<(try r.readCount()) { record.refs.append(try r.readString()) }
            for _ in 0..<(try r.readCount()) {
                let run = try Self.id(MatchRunKind.self, &r)
                record.proposals[run] = try Self.id(ParticipantKind.self, &r)
            }
            return record
        }

        static func tandem(_ payload: UnsafeRawBufferPointer) throws(SnapshotError) -> TandemRecord {
            var r = SnapshotReader(payload)
            let id = try Self.id(TandemKind.self, &r)
            let programme = try Self.id(ProgrammeKind.self, &r)
            let mentor = try Self.id(ParticipantKind.self, &r), mentee = try Self.id(ParticipantKind.self, &r)
            var record = TandemRecord(
                id: id, programme: programme, mentor: mentor, mentee: mentee,
                since: BusinessDate(dayNumber: try r.readInt()))
            record.until = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            guard let status = TandemStatus(code: try r.readInt()) else {
                throw .malformed("a tandem has an unknown status")
            }
            record.status = status
            record.lastSession = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            record.sinceSeq = try r.readInt()
            record.untilSeq = try r.readOptionalInt()
            record.lastActivity = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            record.lastActivitySeq = try r.readInt()
            for _ in 0..<(try r.readCount()) {
                let goal = try Self.id(GoalKind.self, &r)
                let setOn = BusinessDate(dayNumber: try r.readInt())
                let due = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
                let category = try r.readOptionalString()
                let reached = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
                record.goals[goal] = GoalRecord(setOn: setOn, due: due, category: category, reachedOn: reached)
            }
            for _ in 0..<(try r.readCount()) { record.refs.append(try r.readString()) }
            return record
        }

        static func keyUse(_ r: inout SnapshotReader) throws(SnapshotError) -> KeyUse {
            let seq = try r.readInt()
            let digest = try r.readString()
            var refs: [String] = []
            for _ in 0..<(try r.readCount()) { refs.append(try r.readString()) }
            return KeyUse(seq: seq, digest: digest, refs: refs)
        }

        static func id<Kind>(_: Kind.Type, _ bytes: UnsafeRawBufferPointer) throws(SnapshotError) -> Identifier<Kind> {
            guard let id = Identifier<Kind>(String(decoding: bytes, as: UTF8.self)) else {
                throw .malformed("an invalid \(Kind.noun) id")
            }
            return id
        }

        static func id<Kind>(_ kind: Kind.Type, _ r: inout SnapshotReader) throws(SnapshotError) -> Identifier<Kind> {
            try id(kind, try r.readStringBytes())
        }
    }
}

extension TandemStatus {
    /// A stable number for snapshots (the raw value is for people).
    var code: Int {
        switch self {
        case .active: 0
        case .completed: 1
        case .dissolved: 2
        }
    }

    init?(code: Int) {
        switch code {
        case 0: self = .active
        case 1: self = .completed
        case 2: self = .dissolved
        default: return nil
        }
    }
}
