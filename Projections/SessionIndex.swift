import EventLog
import Mentoring

/// Which log lines hold each tandem's sessions: `cache/sessions.snapshot`, written with the
/// projections snapshot and covering the same prefix of the log.
///
/// `sessions --tandem T` then reads T's session lines by seq (a binary search in the log
/// each) and folds only the tail after the snapshot, instead of replaying the whole log.
/// The index holds seqs only, no session data: its lines are decoded when asked for, so an
/// erasure leaves nothing here to remove (and `forget` drops `cache/` anyway). Voided
/// sessions stay listed; the reader skips the seqs the log's voids name.
///
/// Layout: a snapshot file of kind `sessions` with one keyed section, `byTandem`: the key is
/// the tandem's id, the payload its session seqs, ascending, as varint deltas.
public enum SessionIndex {
    static let kind = "sessions"
    static let schema = 1

    /// The index file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/sessions.snapshot")
    }

    /// The payload of one tandem: its seqs as deltas.
    static func payload(_ seqs: [Int]) -> [UInt8] {
        var w = SnapshotWriter(capacity: seqs.count * 3 + 2)
        w.write(UInt64(seqs.count))
        var previous = 0
        for seq in seqs {
            w.write(UInt64(seq - previous))
            previous = seq
        }
        return w.bytes
    }

    /// Writes an index of the whole log up to `head` (the projections snapshot's head).
    /// - Throws: `SystemError`.
    public static func write(
        _ sessions: [TandemID: [Int]], head: LogHead, logEnd: Int, vaultSize: Int, to file: SnapshotFile
    ) throws {
        let records = sessions.map { (key: Array($0.key.rawValue.utf8), payload: payload($0.value)) }
        try file.write(
            kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize,
            sections: [("byTandem", KeyedSection.build(records))])
    }

    /// Extends an index with the sessions of the tail that followed it, rewriting only the
    /// tandems that had some.
    /// - Throws: `SnapshotError` if the old index cannot be read; `SystemError`.
    public static func extend(
        _ file: SnapshotFile, header: SnapshotFile.Header, with tail: [TandemID: [Int]], head: LogHead, logEnd: Int,
        vaultSize: Int
    ) throws {
        let map = try MappedFile(path: file.path)
        let section = try file.section("byTandem", of: header, in: map)
        var changed: [(key: [UInt8], payload: [UInt8])] = []
        for (tandem, seqs) in tail {
            let key = Array(tandem.rawValue.utf8)
            let before = try KeyedSection.find(key, in: section).map(decode) ?? []
            changed.append((key, payload(before + seqs)))
        }
        let merged = try KeyedSection.merge(section, changed: changed)
        try file.write(
            kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize,
            sections: [("byTandem", merged)])
    }

    /// The header, if the index is one this build reads.
    /// - Throws: `SnapshotError`.
    public static func header(_ file: SnapshotFile) throws(SnapshotError) -> SnapshotFile.Header {
        try file.header(kind: kind, schema: schema)
    }

    /// The session seqs of each of `tandems` (a tandem without sessions has none).
    /// - Throws: `SnapshotError` for a damaged record.
    public static func seqs(
        of tandems: Set<TandemID>, in file: SnapshotFile, header: SnapshotFile.Header
    ) throws -> [TandemID: [Int]] {
        let map = try MappedFile(path: file.path)
        let section = try file.section("byTandem", of: header, in: map)
        var out: [TandemID: [Int]] = [:]
        for tandem in tandems {
            if let record = try KeyedSection.find(Array(tandem.rawValue.utf8), in: section) {
                out[tandem] = try decode(record)
            }
        }
        return out
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(SnapshotError) -> [Int] {
        var r = SnapshotReader(payload)
        let count = try r.readCount()
        var seqs: [Int] = []
        seqs.reserveCapacity(count)
        var seq = 0
        for _ in 0..<count {
            seq += Int(try r.readUInt64())
            seqs.append(seq)
        }
        return seqs
    }

    /// Puts the sessions the index lists for `tandems` (voided ones left out) before those
    /// already in `model.sessionLog` (the tail's), reading only their lines from `log`.
    /// - Throws: `SnapshotError` for a damaged index or a listed line that is not one of the
    ///   tandem's sessions; `LogError`, `EventDecodingError` for the log.
    public static func prependSessions(
        of tandems: Set<TandemID>, from index: SnapshotFile, header: SnapshotFile.Header, log: any LineSource,
        voided: [Int: Int], into model: inout ProgrammeReadModel
    ) throws {
        let listed = try seqs(of: tandems, in: index, header: header)
        for (tandem, seqs) in listed {
            var sessions: [SessionView] = []
            var decoder = EventDecoder()
            try log.forEachLine(at: seqs.filter { voided[$0] == nil }) { line in
                guard case .sessionHeld(let e) = try decoder.decode(line).event, e.tandem == tandem else {
                    throw SnapshotError.doesNotMatchLog(seq: line.seq)
                }
                sessions.append(
                    SessionView(
                        tandem: e.tandem, on: e.on, minutes: e.minutes, mode: e.mode, topics: e.topics,
                        notesRef: e.personal?.ref))
            }
            let tail = model.sessionLog?[tandem] ?? []
            model.sessionLog?[tandem] = sessions + tail
        }
    }
}
