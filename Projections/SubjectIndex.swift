import EventLog
import Mentoring

/// Which log lines name each tandem and each participant, and which lines are voids:
/// `cache/subjects.snapshot`, so that `audit --tandem T` and `audit --participant P` read
/// the lines that may concern them instead of decoding the whole log.
///
/// Each line is listed under the tandems and people it touched as the audit judges it when
/// it reads every line, knowing who was where: the ids it names, a swap's staying partner,
/// a withdrawal's tandem and both its members. An entry is a 64-bit word: a 32-bit key (the
/// FNV-1a hash of `t:ID`, `p:ID` or `v:` for voids, folded to 32 bits) above the line's seq,
/// all sorted, in one chunked section (`pairs`). Keys collide now and then; a collision only adds lines to read, which the
/// audit then finds do not concern its subject. The index holds seqs only, no names or
/// texts; `forget` drops it with the rest of `cache/`.
///
/// It is written by an audit that reads the whole log: the first one, and one that finds
/// the tail after the index long (`longestTail`); an audit reads the lines after it in full.
public enum SubjectIndex {
    static let kind = "subjects"
    static let schema = 1
    /// The longest tail an audit reads in full before the index is brought up to date.
    static let longestTail = 65_536

    /// The index file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/subjects.snapshot")
    }

    static func key(_ text: String) -> UInt32 {
        let h = StableHash.fnv1a(text)
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    /// The key of a tandem's lines.
    static func key(_ tandem: TandemID) -> UInt32 { key("t:" + tandem.rawValue) }
    /// The key of a participant's lines.
    static func key(_ participant: ParticipantID) -> UInt32 { key("p:" + participant.rawValue) }
    /// The key of every void.
    static let voidKey = key("v:")

    /// Collects the entries of the lines a pass reads.
    public final class Builder {
        var entries: [UInt64] = []
        /// The last seq added.
        private(set) var head = 0

        public init() {}

        /// Notes whom a line touched (and whether it is a void); lines come in order, every
        /// one of them.
        func add(_ seq: Int, _ touched: AuditQuery.Touched, isVoid: Bool) {
            let low = UInt64(UInt32(truncatingIfNeeded: seq))
            for tandem in touched.tandems { entries.append(UInt64(SubjectIndex.key(tandem)) << 32 | low) }
            for participant in touched.people { entries.append(UInt64(SubjectIndex.key(participant)) << 32 | low) }
            if isVoid { entries.append(UInt64(SubjectIndex.voidKey) << 32 | low) }
            head = seq
        }

        /// Writes the index of the lines added, which must be every line up to `head`.
        /// - Throws: `SystemError`.
        func write(to file: SnapshotFile, head: LogHead, logEnd: Int, vaultSize: Int) throws {
            guard head.seq == self.head, head.seq < Int(UInt32.max) else { return }
            entries.sort()
            let bytes = entries.withUnsafeBytes { Array($0) }  // little-endian words
            try file.write(
                kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize,
                sections: [("pairs", bytes)], chunked: ["pairs"])
        }
    }

    /// An index that fits the log, read by binary search in its mapping.
    public final class Reader {
        /// The last line it covers.
        public let head: LogHead
        let pairs: VerifiedSection
        let count: Int

        init(file: SnapshotFile, header: SnapshotFile.Header) throws(SnapshotError) {
            let map: MappedFile
            do { map = try MappedFile(path: file.path) } catch { throw .malformed("cannot be read") }
            pairs = try VerifiedSection("pairs", of: header, in: file, map: map)
            guard pairs.bytes.count % 8 == 0 else { throw .malformed("a pairs section of the wrong size") }
            count = pairs.bytes.count / 8
            head = header.head
        }

        func entry(_ i: Int) throws(SnapshotError) -> UInt64 { try pairs.uint64(at: i * 8) }

        /// The seqs listed under any of `keys`, ascending, without repeats.
        /// - Throws: `SnapshotError.malformed` for damage in what it reads.
        func seqs(of keys: some Sequence<UInt32>) throws(SnapshotError) -> [Int] {
            var seqs = Set<Int>()
            for key in Set(keys) {
                let first = UInt64(key) << 32
                var low = 0, high = count
                while low < high {
                    let mid = (low + high) / 2
                    if try entry(mid) < first { low = mid + 1 } else { high = mid }
                }
                var i = low
                while i < count {
                    let entry = try entry(i)
                    guard entry >> 32 == UInt64(key) else { break }
                    let seq = Int(entry & 0xFFFF_FFFF)
                    guard seq >= 1, seq <= head.seq else { throw .malformed("a seq beyond the index's head") }
                    seqs.insert(seq)
                    i += 1
                }
            }
            return seqs.sorted()
        }
    }

    /// The index of a store, if there is one that fits its log.
    public static func open(_ store: Store, head: LogHead, vaultSize: Int) -> Reader? {
        let file = file(store)
        guard let header = try? file.header(kind: kind, schema: schema),
            (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: vaultSize)) != nil
        else { return nil }
        return try? Reader(file: file, header: header)
    }
}
