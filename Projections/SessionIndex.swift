import EventLog
import Mentoring

/// Every tandem's sessions, as `cache/sessions.snapshot` keeps them: written with the
/// projections snapshot and covering the same prefix of the log.
///
/// Two queries read it instead of replaying the whole log:
/// - `sessions --tandem T` reads T's session lines by seq (a binary search in the log each)
///   and folds only the tail after the snapshot;
/// - `sessions` for a whole programme lists every session from the index itself
///   (`Listing`), streamed in tandem order, after the tail has been folded into it.
///
/// The index keeps what a listing shows and nothing personal: the seq, date, minutes, mode
/// and topics of each session, and whether it has notes, never the notes' vault ref. Notes
/// are read from the log's lines, for the tandem's members only. An erasure leaves nothing
/// here to remove (and `forget` drops `cache/` anyway). Voided sessions are never in it:
/// a fold skips them, and a void of an event the index covers makes the next fold start
/// from the first line, which writes the index anew.
///
/// Layout (schema 3; 2 checked its records with FNV-1a): a snapshot file of kind `sessions` with three sections,
/// and a fourth that may be missing.
/// - `programmes` and `topics`: a count, then strings; sessions refer to them by number.
/// - `byTandem`, keyed by the tandem's id: the programme's number, the session count, then
///   per session the seq's delta from the one before (varint), the day's delta (zigzag),
///   the minutes (zigzag), one byte for the mode (bit 0: online) and the notes (bit 1), the
///   topic count and the topics' numbers.
/// - `natural`: the records' numbers (32-bit little-endian) in the natural order of their
///   tandems' ids, the order every list prints them in: a listing of every session need not
///   sort half a million ids first. An index without it (or with one that does not check:
///   the wrong size, a number twice) is listed by sorting, as before.
public enum SessionIndex {
    static let kind = "sessions"
    static let schema = 3

    /// The index file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/sessions.snapshot")
    }

    /// One session as the index keeps it.
    public struct Entry: Sendable, Equatable {
        public var seq: Int
        public var on: BusinessDate
        public var minutes: Int
        public var mode: SessionMode
        public var topics: [String]
        public var hasNotes: Bool
    }

    /// The index being built while a fold runs: a few bytes per session, encoded as the
    /// file holds them (with this builder's topic and programme numbers).
    public struct Builder: Sendable {
        struct Sessions: Sendable {
            var programme: UInt32
            var count: Int32 = 0
            var lastDay: Int32 = 0
            var lastSeq = 0
            var bytes = SnapshotWriter(capacity: 0)
        }
        var tandems: [TandemID: Sessions] = [:]
        var topics = Interned<String>()
        var programmes = Interned<ProgrammeID>()

        public init() {}

        /// How many tandems have sessions.
        public var tandemCount: Int { tandems.count }

        /// Adds a session (`seq` after every one added before for its tandem).
        public mutating func add(seq: Int, programme: ProgrammeID, _ session: SessionHeld) {
            let number = UInt32(programmes.number(programme))
            let topicNumbers = session.topics.map { topics.number($0) }
            tandems[session.tandem, default: Sessions(programme: number)].append(
                seq: seq, day: Int32(clamping: session.on.dayNumber), minutes: session.minutes,
                online: session.mode == .online, hasNotes: session.personal != nil, topics: topicNumbers)
        }
    }

    /// The sections of an index, ready to write or to list from.
    public struct Sections: Sendable {
        var programmes: [ProgrammeID]
        var topics: [String]
        var byTandem: ByTandem
        /// The `natural` section: the record numbers in the natural order of their keys.
        var natural: [UInt32]

        /// The `byTandem` section: built whole, or an old index's with some records replaced,
        /// merged only when written (straight into the file) or listed from.
        enum ByTandem: Sendable {
            case built([UInt8])
            case merged(old: MappedFile, section: Range<Int>, changed: [(key: [UInt8], payload: [UInt8])])
        }

        /// The section's bytes, merged in memory if need be.
        /// - Throws: `SnapshotError` for a damaged old index.
        func byTandemBytes() throws -> [UInt8] {
            switch byTandem {
            case .built(let bytes): return bytes
            case .merged(let old, let range, let changed):
                return try KeyedSection.merge(UnsafeRawBufferPointer(rebasing: old.bytes[range]), changed: changed)
            }
        }

        static func strings(_ values: [String]) -> [UInt8] {
            var w = SnapshotWriter(capacity: 16 + values.count * 16)
            w.write(UInt64(values.count))
            for value in values { w.write(value) }
            return w.bytes
        }
    }

    /// The sections of an index of everything `builder` holds.
    public static func sections(_ builder: Builder) -> Sections {
        let keys = builder.tandems.keys.map { (bytes: Array($0.rawValue.utf8), id: $0) }.sorted {
            $0.bytes.lexicographicallyPrecedes($1.bytes)
        }
        let byTandem = KeyedSection.build(sortedKeys: keys, bytes: \.bytes) { payload(builder.tandems[$0.id]!) }
        return Sections(
            programmes: builder.programmes.values, topics: builder.topics.values, byTandem: .built(byTandem),
            natural: naturalPositions(keys.map(\.id.rawValue)))
    }

    /// The positions of `ids` (in record order) in the natural order of the ids.
    /// - Complexity: O(n log n).
    static func naturalPositions(_ ids: [String]) -> [UInt32] {
        NaturalOrder.sorted(Array(ids.indices)) { ids[$0] }.map { UInt32($0) }
    }

    /// The `natural` section's bytes: each position as 32 bits, little-endian.
    static func naturalBytes(_ positions: [UInt32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: positions.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, position) in positions.enumerated() {
                raw.storeBytes(of: position.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return bytes
    }

    /// The record numbers of a `natural` section that checks: its bytes have the header's
    /// `digest`, and it holds each of `0..<count` once. Nil otherwise: the listing sorts.
    static func naturalPositions(_ bytes: UnsafeRawBufferPointer, digest: SHA256Digest, count: Int) -> [Int32]? {
        guard bytes.count == count * 4, count <= Int(Int32.max), SHA256.hash(bytes) == digest else { return nil }
        var seen = [Bool](repeating: false, count: count)
        var positions = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let position = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            guard position < count, !seen[position] else { return nil }
            seen[position] = true
            positions[i] = Int32(position)
        }
        return positions
    }

    static func payload(_ sessions: Builder.Sessions) -> [UInt8] {
        var w = SnapshotWriter(capacity: sessions.bytes.bytes.count + 8)
        w.write(UInt64(sessions.programme))
        w.write(UInt64(sessions.count))
        w.writeRaw(sessions.bytes.bytes)
        return w.bytes
    }

    /// Writes an index (covering the log up to `head`, the projections snapshot's head).
    /// - Throws: `SystemError`.
    public static func write(
        _ sections: Sections, head: LogHead, logEnd: Int, vaultSize: Int, to file: SnapshotFile
    )
        throws
    {
        // An extended index is merged straight into the file: on the 10M store its 70 MB
        // section, merged in memory beside the read model, set the peak of the first query
        // after an append (546 MB).
        try file.write(kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize) { out in
            try out.add("programmes", Sections.strings(sections.programmes.map(\.rawValue)))
            try out.add("topics", Sections.strings(sections.topics))
            switch sections.byTandem {
            case .built(let bytes): try out.add("byTandem", bytes)
            case .merged(let old, let range, let changed):
                try KeyedSection.merge(
                    UnsafeRawBufferPointer(rebasing: old.bytes[range]), changed: changed,
                    into: out.stream("byTandem", chunked: false))
            }
            try out.add("natural", naturalBytes(sections.natural))
        }
    }

    /// The sections of `file`'s index with the sessions of the tail that followed it
    /// (`tail`) added; only the tandems that had some are decoded and written anew.
    /// - Throws: `SnapshotError` if the old index cannot be read.
    public static func extended(
        _ file: SnapshotFile, header: SnapshotFile.Header, with tail: Builder
    ) throws -> Sections {
        let map = try MappedFile(path: file.path)
        let tables = try Tables(file, header: header, map: map)
        let section = try file.section("byTandem", of: header, in: map)
        var programmes = Interned<ProgrammeID>(), topics = Interned<String>()
        for id in tables.programmes { _ = programmes.number(id) }
        for topic in tables.topics { _ = topics.number(topic) }
        var changed: [(key: [UInt8], payload: [UInt8])] = []
        var newTandems: [String] = []
        for (tandem, added) in tail.tandems {
            let key = Array(tandem.rawValue.utf8)
            // The old record as it was, continued with the tail's sessions in the merged numbering.
            var sessions = Builder.Sessions(
                programme: UInt32(programmes.number(tail.programmes.values[Int(added.programme)])))
            if let record = try KeyedSection.find(key, in: section) {
                var r = SnapshotReader(record)
                sessions.programme = UInt32(try r.readCount())
                let count = try r.readCount()
                let start = r.position
                for _ in 0..<count {
                    let entry = try readEntry(
                        &r, previousSeq: sessions.lastSeq, previousDay: sessions.lastDay, tables, withTopics: false)
                    sessions.lastSeq = entry.seq
                    sessions.lastDay = Int32(clamping: entry.on.dayNumber)
                }
                sessions.count = Int32(count)
                sessions.bytes.writeRaw(UnsafeRawBufferPointer(rebasing: record[start..<r.position]))
            } else {
                newTandems.append(tandem.rawValue)
            }
            try added.forEachEntry(topics: tail.topics.values) { entry in
                sessions.append(
                    seq: entry.seq, day: Int32(clamping: entry.on.dayNumber), minutes: entry.minutes,
                    online: entry.mode == .online, hasNotes: entry.hasNotes,
                    topics: entry.topics.map { topics.number($0) })
            }
            changed.append((key, payload(sessions)))
        }
        guard let (range, _) = header.sections["byTandem"] else {
            throw SnapshotError.malformed("it has no byTandem section")
        }
        // The natural order stays as it was unless the tail added tandems; then it is made
        // again for every id, old and new (in record order: both lists merged bytewise).
        let natural: [UInt32]
        if newTandems.isEmpty, let (old, digest) = header.sections["natural"], old.upperBound <= map.bytes.count,
            let old = naturalPositions(
                UnsafeRawBufferPointer(rebasing: map.bytes[old]), digest: digest,
                count: try KeyedSection.count(in: section))
        {
            natural = old.map { UInt32($0) }
        } else {
            var ids = try (0..<KeyedSection.count(in: section)).map { i throws(SnapshotError) in
                String(decoding: try KeyedSection.key(i, in: section), as: UTF8.self)
            }
            ids += newTandems
            ids.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            natural = naturalPositions(ids)
        }
        return Sections(
            programmes: programmes.values, topics: topics.values,
            byTandem: .merged(old: map, section: range, changed: changed), natural: natural)
    }

    /// The header, if the index is one this build reads.
    /// - Throws: `SnapshotError`.
    public static func header(_ file: SnapshotFile) throws(SnapshotError) -> SnapshotFile.Header {
        try file.header(kind: kind, schema: schema)
    }

    /// The programme and topic tables of an index.
    struct Tables {
        var programmes: [ProgrammeID]
        var topics: [String]

        init(programmes: [ProgrammeID], topics: [String]) {
            self.programmes = programmes
            self.topics = topics
        }

        init(_ file: SnapshotFile, header: SnapshotFile.Header, map: MappedFile) throws(SnapshotError) {
            func strings(_ name: String) throws(SnapshotError) -> [String] {
                var r = SnapshotReader(try file.section(name, of: header, in: map))
                return try (0..<r.readCount()).map { _ throws(SnapshotError) in try r.readString() }
            }
            topics = try strings("topics")
            programmes = try strings("programmes").map { text throws(SnapshotError) in
                guard let id = ProgrammeID(text) else { throw .malformed("a programme id that is not one") }
                return id
            }
        }
    }

    /// Reads one session of a record (its topics left empty unless `withTopics`: a check of
    /// the whole index needs no strings).
    static func readEntry(
        _ r: inout SnapshotReader, previousSeq: Int, previousDay: Int32, _ tables: Tables, withTopics: Bool = true
    ) throws(SnapshotError) -> Entry {
        // Checked before any arithmetic: a damaged number is refused, not an overflow trap.
        let delta = try r.readUInt64()
        guard delta > 0, delta <= UInt64(Int.max - previousSeq) else {
            throw .malformed("a session entry that is out of order or unknown")
        }
        let seq = previousSeq + Int(delta)
        let (day, overflow) = Int(previousDay).addingReportingOverflow(try r.readInt())
        let minutes = try r.readInt()
        let flags = try r.readUInt64()
        let topicCount = try r.readCount()
        var topics: [String] = []
        if withTopics { topics.reserveCapacity(topicCount) }
        for _ in 0..<topicCount {
            let n = Int(try r.readUInt64())
            guard n < tables.topics.count else { throw .malformed("a topic number outside the table") }
            if withTopics { topics.append(tables.topics[n]) }
        }
        guard flags < 4, !overflow, (Int(Int32.min)...Int(Int32.max)).contains(day) else {
            throw .malformed("a session entry that is out of order or unknown")
        }
        return Entry(
            seq: seq, on: BusinessDate(dayNumber: day), minutes: minutes, mode: flags & 1 == 1 ? .online : .inPerson,
            topics: topics, hasNotes: flags & 2 != 0)
    }

    /// What sums over periods need of a session: no topics, no notes.
    struct SessionFigures: Sendable, Equatable {
        var seq: Int
        var on: BusinessDate
        var minutes: Int
        var online: Bool

        init(seq: Int, on: BusinessDate, minutes: Int, online: Bool) {
            (self.seq, self.on, self.minutes, self.online) = (seq, on, minutes, online)
        }

        init(_ entry: Entry) {
            self.init(seq: entry.seq, on: entry.on, minutes: entry.minutes, online: entry.mode == .online)
        }
    }

    /// A record's sessions as sums need them, one `next()` at a time: `decode` without an
    /// `Entry` (and its topic list) made for each, checked the same way. A reader, not a
    /// closure per session: six million sessions summed by an analyst's `activity` on the
    /// 10M store spent a third of their time retaining and releasing what each entry held,
    /// and a closure that captured the listing's narrowing retained it per session, from
    /// both cores at once.
    struct FigureReader {
        private var r: SnapshotReader
        private var remaining: Int
        private var seq = 0
        private var day = 0
        private let topics: UInt64
        /// The record's programme, as its number in the index's table.
        let programme: Int
        /// How many sessions the record holds.
        let count: Int

        /// - Throws: `SnapshotError.malformed` for a damaged record.
        init(_ record: UnsafeRawBufferPointer, _ tables: Tables) throws(SnapshotError) {
            r = SnapshotReader(record)
            programme = try r.readCount()
            guard programme < tables.programmes.count else {
                throw .malformed("a programme number outside the table")
            }
            topics = UInt64(tables.topics.count)
            count = try r.readCount()
            remaining = count
        }

        /// The next session, or nil after the last.
        /// - Throws: `SnapshotError.malformed` for a damaged record.
        @inline(__always)
        mutating func next() throws(SnapshotError) -> SessionFigures? {
            try read(keyingTopics: false)?.figures
        }

        /// The topics' numbers of the session `nextListed()` read last, when they did not fit
        /// a key.
        private(set) var unkeyedTopics: [Int] = []

        /// The next session as a listing writes it, or nil after the last: its figures,
        /// whether it has notes, and its topics as a key (`TopicsKey`), or nil where they do
        /// not fit one (they are in `unkeyedTopics` then).
        /// - Throws: `SnapshotError.malformed` for a damaged record.
        @inline(__always)
        mutating func nextListed() throws(SnapshotError) -> (
            figures: SessionFigures, hasNotes: Bool, topics: TopicsKey?
        )? {
            try read(keyingTopics: true)
        }

        @inline(__always)
        private mutating func read(
            keyingTopics: Bool
        ) throws(SnapshotError) -> (
            figures: SessionFigures, hasNotes: Bool, topics: TopicsKey?
        )? {
            guard remaining > 0 else {
                guard r.isAtEnd else { throw .malformed("a session record longer than its sessions") }
                return nil
            }
            remaining -= 1
            let delta = try r.readUInt64()
            let (nextDay, overflow) = day.addingReportingOverflow(try r.readInt())
            day = nextDay
            let minutes = try r.readInt()
            let flags = try r.readUInt64()
            // Each topic takes a byte at least: a count past the data fails at its end.
            var topicCount = try r.readUInt64()
            var key = keyingTopics ? TopicsKey(count: topicCount) : nil
            if keyingTopics, !unkeyedTopics.isEmpty { unkeyedTopics.removeAll(keepingCapacity: true) }
            while topicCount > 0 {
                let number = try r.readUInt64()
                guard number < topics else { throw .malformed("a topic number outside the table") }
                if keyingTopics {
                    if let kept = key {
                        key = kept.adding(number)
                        if key == nil { unkeyedTopics = kept.numbers + [Int(number)] }
                    } else {
                        unkeyedTopics.append(Int(number))
                    }
                }
                topicCount -= 1
            }
            guard delta > 0, delta <= UInt64(Int.max - seq), flags < 4, !overflow,
                (Int(Int32.min)...Int(Int32.max)).contains(day)
            else {
                throw .malformed("a session entry that is out of order or unknown")
            }
            seq += Int(delta)
            return (
                SessionFigures(seq: seq, on: BusinessDate(dayNumber: day), minutes: minutes, online: flags & 1 == 1),
                flags & 2 != 0, key
            )
        }
    }

    /// A session's list of topics as one number: up to four topics' numbers in the index's
    /// table (each below 2^13) and how many there are, in 55 bits (a key for `CellMemo`).
    public struct TopicsKey: Sendable, Equatable {
        /// The count in the lowest 3 bits, then each number in 13 bits, the first lowest.
        public private(set) var rawValue: UInt64
        /// How many numbers are in so far.
        private var added: UInt64

        /// A key for a list of `count` topics, or nil if that is too many for one.
        init?(count: UInt64) {
            guard count <= 4 else { return nil }
            rawValue = count
            added = 0
        }

        /// The key with `number` added after the others, or nil if it does not fit.
        func adding(_ number: UInt64) -> TopicsKey? {
            guard number < 1 << 13, added < 4 else { return nil }
            var next = self
            next.rawValue |= number << (3 + 13 * added)
            next.added += 1
            return next
        }

        /// The topics' numbers added so far, in order.
        var numbers: [Int] {
            (0..<Int(added)).map { Int((rawValue >> UInt64(3 + 13 * $0)) & 0x1FFF) }
        }
    }

    /// A record's programme, and its sessions one by one unless `only` names another
    /// programme.
    /// - Throws: `SnapshotError.malformed` for a damaged record.
    static func decode(
        _ record: UnsafeRawBufferPointer, _ tables: Tables, only wanted: ProgrammeID? = nil, withTopics: Bool = true,
        _ body: (Entry) throws -> Void
    ) throws -> ProgrammeID {
        var r = SnapshotReader(record)
        let number = try r.readCount()
        guard number < tables.programmes.count else {
            throw SnapshotError.malformed("a programme number outside the table")
        }
        let programme = tables.programmes[number]
        if let wanted, wanted != programme { return programme }
        let count = try r.readCount()
        var seq = 0
        var day: Int32 = 0
        for _ in 0..<count {
            let entry = try readEntry(&r, previousSeq: seq, previousDay: day, tables, withTopics: withTopics)
            seq = entry.seq
            day = Int32(clamping: entry.on.dayNumber)
            try body(entry)
        }
        guard r.isAtEnd else { throw SnapshotError.malformed("a session record longer than its sessions") }
        return programme
    }

    /// The session seqs of each of `tandems` (a tandem without sessions has none).
    /// - Throws: `SnapshotError` for a damaged record.
    public static func seqs(
        of tandems: Set<TandemID>, in file: SnapshotFile, header: SnapshotFile.Header
    ) throws -> [TandemID: [Int]] {
        let map = try MappedFile(path: file.path)
        let tables = try Tables(file, header: header, map: map)
        let section = try file.section("byTandem", of: header, in: map)
        var out: [TandemID: [Int]] = [:]
        for tandem in tandems {
            if let record = try KeyedSection.find(Array(tandem.rawValue.utf8), in: section) {
                var seqs: [Int] = []
                _ = try decode(record, tables) { seqs.append($0.seq) }
                out[tandem] = seqs
            }
        }
        return out
    }

    /// Puts the sessions the index lists for `tandems` (voided ones left out) before those
    /// already in `model.sessionLog` (the tail's), reading only their lines from `log`: the
    /// notes' refs are in the log, not in the index.
    /// - Throws: `SnapshotError` for a damaged index or a listed line that is not one of the
    ///   tandem's sessions; `LogError`, `EventDecodingError` for the log.
    public static func prependSessions(
        of tandems: Set<TandemID>, from index: SnapshotFile, header: SnapshotFile.Header, log: any LineSource,
        voided: [Int: Int], into model: inout ProgrammeReadModel
    ) throws {
        let listed = try seqs(of: tandems, in: index, header: header)
        for (tandem, seqs) in listed {
            let sessions = try sessionViews(of: tandem, at: seqs.filter { voided[$0] == nil }, in: log)
            let tail = model.sessionLog?[tandem] ?? []
            model.sessionLog?[tandem] = sessions + tail
        }
    }

    /// The sessions of `tandem` on the lines `seqs` (ascending), read from `log` with their
    /// notes' refs (which only the log holds).
    /// - Throws: `SnapshotError.doesNotMatchLog` for a line that is not one of the tandem's
    ///   sessions, or a seq past the log; `LogError`, `EventDecodingError` for the log.
    static func sessionViews(of tandem: TandemID, at seqs: [Int], in log: any LineSource) throws -> [SessionView] {
        var sessions: [SessionView] = []
        sessions.reserveCapacity(seqs.count)
        var decoder = EventDecoder()
        try log.forEachLine(at: seqs) { line in
            guard case .sessionHeld(let e) = try decoder.decode(line).event, e.tandem == tandem else {
                throw SnapshotError.doesNotMatchLog(seq: line.seq)
            }
            sessions.append(
                SessionView(
                    tandem: e.tandem, on: e.on, minutes: e.minutes, mode: e.mode, topics: e.topics,
                    notesRef: e.personal?.ref))
        }
        guard sessions.count == seqs.count else { throw SnapshotError.doesNotMatchLog(seq: seqs.last ?? 0) }
        return sessions
    }
}

extension SessionIndex.Builder.Sessions {
    mutating func append(seq: Int, day: Int32, minutes: Int, online: Bool, hasNotes: Bool, topics: [Int]) {
        bytes.write(UInt64(seq - lastSeq))
        bytes.write(Int(day) - Int(lastDay))
        bytes.write(minutes)
        bytes.write(UInt64((online ? 1 : 0) | (hasNotes ? 2 : 0)))
        bytes.write(UInt64(topics.count))
        for topic in topics { bytes.write(UInt64(topic)) }
        count += 1
        lastSeq = seq
        lastDay = day
    }

    /// Each session, decoded with the builder's topic table.
    func forEachEntry(topics: [String], _ body: (SessionIndex.Entry) throws -> Void) throws {
        let tables = SessionIndex.Tables(programmes: [], topics: topics)
        try bytes.bytes.withUnsafeBytes { raw in
            var r = SnapshotReader(raw)
            var seq = 0
            var day: Int32 = 0
            for _ in 0..<count {
                let entry = try SessionIndex.readEntry(&r, previousSeq: seq, previousDay: day, tables)
                seq = entry.seq
                day = Int32(clamping: entry.on.dayNumber)
                try body(entry)
            }
        }
    }
}
