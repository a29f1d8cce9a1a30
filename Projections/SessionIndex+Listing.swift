import EventLog
import Mentoring
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension SessionIndex {
    /// Every session an index holds, for `tandem sessions` of a whole programme: listed in
    /// the order of the tandems' ids (the natural order of every list) and, within a tandem,
    /// in log order, decoded one record at a time. Ten million events hold about six million
    /// sessions: as `SessionView`s they took gigabytes, in the index about 12 bytes each.
    ///
    /// Making a listing checks every record's key and checksum once, so a damaged index is
    /// refused before anything is printed; counting its sessions (`count(programme:)`, which
    /// a streamed list asks for before it prints) reads each record's count, and in a window
    /// decodes every record. A listing is written in runs of tandems on every core
    /// (`runs(tandemsPerRun:)`); a sum over the sessions (`activity`) decodes them once, in
    /// its own pass.
    public struct Listing: Sendable {
        /// The bytes of the `byTandem` section: a mapping of the index file, or sections
        /// built in memory (an index that could not be written).
        final class Storage: Sendable {
            let map: MappedFile?
            let range: Range<Int>
            let owned: [UInt8]
            /// The positions of `order` in the natural order of the ids, once a listing of
            /// every session asked for them (the same for every copy of the listing).
            let natural = Mutex<[Int32]?>(nil)
            /// How many records passes in the natural order have read since the mapped pages
            /// were last handed back (`Runs`, from any thread).
            let readSinceRelease = Atomic<Int>(0)
            /// Where the index file keeps the natural order, and its digest: read, and
            /// checked, only by a listing of every session (`Runs`).
            let naturalSection: (range: Range<Int>, digest: SHA256Digest)?

            init(map: MappedFile, range: Range<Int>, natural: (range: Range<Int>, digest: SHA256Digest)?) {
                self.map = map
                self.range = range
                self.owned = []
                naturalSection = natural
            }

            init(owned: [UInt8], natural: [UInt32]) {
                self.map = nil
                self.range = 0..<owned.count
                self.owned = owned
                naturalSection = nil
                self.natural.withLock { $0 = natural.map { Int32($0) } }
            }

            /// The natural order, for `count` records: kept, or the file's if it checks, or
            /// nil (the caller sorts).
            func naturalOrder(count: Int) -> [Int32]? {
                natural.withLock { cached in
                    if cached == nil, let map, let (range, digest) = naturalSection,
                        range.upperBound <= map.bytes.count,
                        let checked = SessionIndex.naturalPositions(
                            UnsafeRawBufferPointer(rebasing: map.bytes[range]), digest: digest, count: count)
                    {
                        cached = checked
                    }
                    return cached?.count == count ? cached : nil
                }
            }

            func withSection<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
                if let map { return try body(UnsafeRawBufferPointer(rebasing: map.bytes[range])) }
                return try owned.withUnsafeBytes { try body($0) }
            }

            /// Hands back the mapped pages of the section's bytes `bytes` (offsets in the
            /// section): a pass over every record keeps only what it is reading resident, not
            /// the whole index (70 MB on the 10M store). Nothing for sections in memory.
            func release(_ bytes: Range<Int>) {
                map?.release((range.lowerBound + bytes.lowerBound)..<(range.lowerBound + bytes.upperBound))
            }
        }

        /// Releases a section's pages behind a pass over its records in record order (which
        /// is their order in the section), a megabyte at a time.
        struct ReleaseBehind {
            let storage: Storage
            let section: UnsafeRawBufferPointer
            /// Below this offset in the section, the pages are handed back.
            var released: Int
            static let step = 1 << 20

            /// A pass that begins at record `first` (nil: one that reads no record).
            /// - Throws: `SnapshotError.malformed` if the section's table is cut short.
            init(_ storage: Storage, _ section: UnsafeRawBufferPointer, from first: Int?) throws(SnapshotError) {
                self.storage = storage
                self.section = section
                released =
                    try first.map { first throws(SnapshotError) in
                        try KeyedSection.recordStart(first, in: section)
                    } ?? 0
            }

            /// The pass has reached record `record`.
            /// - Throws: `SnapshotError.malformed` if the section's table is cut short.
            mutating func reached(_ record: Int) throws(SnapshotError) {
                let offset = try KeyedSection.recordStart(record, in: section)
                guard offset - released >= Self.step else { return }
                storage.release(released..<offset)
                released = offset
            }

            /// The pass has read record `last`, its last: the pages up to the next record go.
            /// - Throws: `SnapshotError.malformed` if the section's table is cut short.
            func finished(at last: Int) throws(SnapshotError) {
                let next = last + 1
                let end =
                    next < (try KeyedSection.count(in: section))
                    ? try KeyedSection.recordStart(next, in: section) : section.count
                storage.release(released..<end)
            }
        }

        let storage: Storage
        let tables: Tables
        /// The records listed, in the byte order of their tandems' ids (the index's own): a
        /// tandem is found by a binary search without sorting half a million ids naturally
        /// first, which only a listing of every session needs (`forEach`).
        let order: Records
        /// What a window of history leaves of the listing; nil for the whole log.
        var narrowing: Narrowing?
        /// Every record's sessions summed by programme (its number in `tables`), read while
        /// the records were checked: the count of a listing without a window needs no pass
        /// of its own. Nil for a listing of some tandems.
        let totals: [Int]?

        /// A listing of sections built in memory.
        /// - Throws: `SnapshotError` for a malformed record.
        public init(_ sections: Sections) throws {
            try self.init(
                storage: Storage(owned: try sections.byTandemBytes(), natural: sections.natural),
                tables: Tables(programmes: sections.programmes, topics: sections.topics))
        }

        /// A listing of an index file (mapped, not read into memory).
        /// - Throws: `SnapshotError` for a damaged index; `SystemError` if it cannot be mapped.
        public init(_ file: SnapshotFile, header: SnapshotFile.Header) throws {
            let map = try MappedFile(path: file.path)
            guard let (range, _) = header.sections["byTandem"], range.upperBound <= map.bytes.count else {
                throw SnapshotError.malformed("it has no byTandem section")
            }
            try self.init(
                storage: Storage(map: map, range: range, natural: header.sections["natural"]),
                tables: try Tables(file, header: header, map: map))
        }

        /// A listing of `tandems` only, from an index file: their records are found by key,
        /// and no other is read (`sessions --tandem T --as-of`).
        /// - Complexity: O(t log n) record reads for t tandems of n.
        /// - Throws: `SnapshotError` for a damaged index; `SystemError` if it cannot be mapped.
        public init(_ file: SnapshotFile, header: SnapshotFile.Header, only tandems: Set<TandemID>) throws {
            let map = try MappedFile(path: file.path)
            guard let (range, _) = header.sections["byTandem"], range.upperBound <= map.bytes.count else {
                throw SnapshotError.malformed("it has no byTandem section")
            }
            try self.init(
                storage: Storage(map: map, range: range, natural: nil),
                tables: try Tables(file, header: header, map: map),
                only: tandems)
        }

        private init(storage: Storage, tables: Tables, only: Set<TandemID>? = nil) throws {
            self.storage = storage
            self.tables = tables
            let totals = Mutex<[Int]?>(only == nil ? Array(repeating: 0, count: tables.programmes.count) : nil)
            // Keys and checksums only: the sessions are decoded by whoever reads them (three
            // passes decoding four million sessions took a second of `activity --as-of`).
            order = try storage.withSection { section in
                if let only {
                    var some: [(tandem: TandemID, record: Int32)] = []
                    for tandem in only {
                        guard let i = try KeyedSection.position(of: tandem.rawValue.utf8, in: section) else { continue }
                        _ = try KeyedSection.record(i, in: section)
                        some.append((tandem, Int32(i)))
                    }
                    some.sort { Self.bytewise($0.tandem, $1.tandem) }
                    return .some(some)
                }
                // Every record's checksum and key is checked, and that the keys ascend (a
                // binary search relies on it): on both cores, half the records each (half a
                // million tandems' records on the 10M store). Each part's records lie one
                // after another: their pages go back behind it (a pass that needs the records
                // again reads them again).
                let count = try KeyedSection.count(in: section)
                try inParts(count: count) { range in
                    var behind = try ReleaseBehind(storage, section, from: range.first)
                    var sums = [Int](repeating: 0, count: tables.programmes.count)
                    for i in range {
                        try behind.reached(i)
                        let (key, payload) = try KeyedSection.record(i, in: section)
                        guard TandemID(bytes: key) != nil else {
                            throw SnapshotError.malformed("a key that is not a tandem id")
                        }
                        if i > 0, !Self.ascending(try KeyedSection.key(i - 1, in: section), key) {
                            throw SnapshotError.malformed("the index's keys are out of order")
                        }
                        let reader = try FigureReader(payload, tables)
                        sums[reader.programme] += reader.count
                    }
                    if let last = range.last { try behind.finished(at: last) }
                    totals.withLock { totals in
                        for (number, sum) in sums.enumerated() { totals![number] += sum }
                    }
                }
                return .all(count: count)
            }
            self.totals = totals.withLock { $0 }
        }

        /// The records a listing holds, by position.
        enum Records: Sendable {
            /// Every record of the index, position and record number alike: each tandem's id
            /// is read from its record's key when asked (held, the ids were 31 MB of every
            /// listing on the 10M store).
            case all(count: Int)
            /// Some tandems' records (`sessions --tandem T`), with their ids.
            case some([(tandem: TandemID, record: Int32)])

            /// How many records there are.
            var count: Int {
                switch self {
                case .all(let count): count
                case .some(let records): records.count
                }
            }

            /// The record number at `position`.
            func record(_ position: Int) -> Int {
                switch self {
                case .all: position
                case .some(let records): Int(records[position].record)
                }
            }

            /// The tandem at `position`.
            /// - Throws: `SnapshotError.malformed` if its record's key no longer reads.
            func tandem(_ position: Int, in section: UnsafeRawBufferPointer) throws(SnapshotError) -> TandemID {
                switch self {
                case .all:
                    guard let tandem = TandemID(bytes: try KeyedSection.key(position, in: section)) else {
                        throw .malformed("a key that is not a tandem id")
                    }
                    return tandem
                case .some(let records): return records[position].tandem
                }
            }
        }

        /// Whether key `a` sorts before key `b` byte by byte, as `KeyedSection.build` sorts.
        static func ascending(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
            let common = min(a.count, b.count)
            let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
            return order < 0 || (order == 0 && a.count < b.count)
        }

        /// Whether `a` sorts before `b` byte by byte, as the index's keys are sorted.
        static func bytewise(_ a: TandemID, _ b: TandemID) -> Bool {
            a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8)
        }

        /// How many sessions there are (in `programme`, or in all): what `forEach` lists.
        /// - Complexity: O(p) in the programmes for a listing of every record without a
        ///   window (summed when the records were checked); otherwise a pass over the
        ///   records' counts, and in a window, decoding every kept one.
        /// - Throws: `SnapshotError` for a damaged record.
        public func count(programme: ProgrammeID?) throws -> Int {
            if narrowing == nil, let totals {
                // A programme the table lacks has no session.
                guard let programme else { return totals.reduce(0, +) }
                return tables.programmes.firstIndex(of: programme).map { totals[$0] } ?? 0
            }
            let total = Atomic<Int>(0)
            // Taken out of the narrowing once: the threads do not touch the shared object.
            let rows = narrowing?.rows, admission = narrowing?.admission
            // A programme the table lacks has no record (-1 matches none).
            let wanted = programme.map { tables.programmes.firstIndex(of: $0) ?? -1 }
            try storage.withSection { section in
                // On both cores, each part in record order: the pages go back behind it.
                try inParts(count: order.count) { positions in
                    var behind = try ReleaseBehind(storage, section, from: positions.first.map(order.record))
                    var count = 0
                    for position in positions where rows.map({ $0[position] >= 0 }) ?? true {
                        try behind.reached(order.record(position))
                        let (_, payload) = try KeyedSection.recordCheckedBefore(order.record(position), in: section)
                        var reader = try FigureReader(payload, tables)
                        if let wanted, reader.programme != wanted { continue }
                        if let admission {
                            while let session = try reader.next() {
                                if admission.admits(seq: session.seq, on: session.on) { count += 1 }
                            }
                        } else {
                            // The whole record is listed: its count says how many. Its bytes
                            // were checked against its checksum when the listing was made.
                            count += reader.count
                        }
                    }
                    if let last = positions.last { try behind.finished(at: order.record(last)) }
                    total.wrappingAdd(count, ordering: .relaxed)
                }
            }
            var count = total.load(ordering: .relaxed)
            for found in narrowing.map({ Array($0.restored.values) }) ?? []
            where programme.map({ $0 == found.programme }) ?? true {
                count += found.sessions.count
            }
            return count
        }

        /// Calls `body` with each of one tandem's sessions, in log order (none if it has none).
        /// - Complexity: O(log n) in the tandems: ids held in memory, or the index's keys.
        /// - Throws: as `forEach`.
        public func forEachSession(of tandem: TandemID, _ body: (Entry) throws -> Void) throws {
            let position = try position(of: tandem)
            try storage.withSection { section in
                try sessions(of: tandem, at: position, in: section, programme: nil, body)
            }
        }

        /// Where `tandem` is in `order`, if it has a record.
        /// - Complexity: O(log n) in the tandems.
        /// - Throws: `SnapshotError.malformed` if a record no longer reads.
        private func position(of tandem: TandemID) throws -> Int? {
            switch order {
            case .all:
                return try storage.withSection { section in
                    try KeyedSection.position(of: tandem.rawValue.utf8, in: section)
                }
            case .some(let some):
                var low = 0, high = some.count
                while low < high {
                    let mid = (low + high) / 2
                    if Self.bytewise(some[mid].tandem, tandem) { low = mid + 1 } else { high = mid }
                }
                return low < some.count && some[low].tandem == tandem ? low : nil
            }
        }

        /// How many tandems' records a listing in the natural order reads between handing
        /// back the mapped pages. The natural order visits the 10M store's index all over:
        /// its first 65,536 records touched 54 MB of it, 8,192 touch a few; reading the pages
        /// again cost no time there.
        var recordsBetweenReleases = 1 << 13

        /// Calls `body` with every session (of `programme`, or of all), tandem by tandem.
        /// - Throws: `SnapshotError` if a record no longer reads (the file was changed under
        ///   the mapping); what `body` throws.
        public func forEach(programme: ProgrammeID?, _ body: (TandemID, Entry) throws -> Void) throws {
            let runs = try runs()
            for run in 0..<runs.count { try runs.forEach(run: run, programme: programme, body) }
        }

        /// The listing in the natural order of the tandems' ids (as every list is), cut into
        /// runs of `tandemsPerRun` tandems that can be listed each by itself, on several
        /// threads at once. By default a run is a 64th of the tandems, from 1 to 1,024: a
        /// few hundred kilobytes of text on a large store, and many runs on a small one.
        /// - Complexity: O(n log n) in the tandems, for the first listing (the order is kept
        ///   with the listing's storage).
        /// - Throws: `SnapshotError.malformed` if a record no longer reads.
        public func runs(tandemsPerRun: Int? = nil) throws -> Runs {
            let tandemsPerRun = tandemsPerRun ?? min(1024, max(1, order.count / 64))
            precondition(tandemsPerRun > 0, "runs of no tandems")
            let returning = narrowing?.returningTandems ?? []
            return try storage.withSection { section in
                let cached = storage.naturalOrder(count: order.count)
                // The ids are read once, for the sort and for placing returning tandems, only
                // if either needs them, and let go after it (held by the listing, they were
                // 31 MB on the 10M store).
                var ids: [TandemID] = []
                if cached == nil || !returning.isEmpty {
                    var behind = try ReleaseBehind(storage, section, from: order.count > 0 ? order.record(0) : nil)
                    ids = try (0..<order.count).map { position in
                        try behind.reached(order.record(position))
                        return try order.tandem(position, in: section)
                    }
                    if order.count > 0 { try behind.finished(at: order.record(order.count - 1)) }
                }
                let natural =
                    cached
                    ?? storage.natural.withLock { cached in
                        if let cached, cached.count == ids.count { return cached }
                        let made = NaturalOrder.sorted(Array(ids.indices)) { ids[$0].rawValue }.map(Int32.init)
                        cached = made
                        return made
                    }
                // Tandems whose every listed session a later void removed come back in a
                // window that leaves the void out: each goes before the first listed tandem
                // that it sorts before, in that tandem's run.
                var starts: [Runs.Start] = []
                var next = 0
                for (i, number) in natural.enumerated() {
                    if i % tandemsPerRun == 0 { starts.append(Runs.Start(tandem: i, returning: next)) }
                    while next < returning.count, returning[next] < ids[Int(number)] { next += 1 }
                }
                if starts.isEmpty { starts.append(Runs.Start(tandem: 0, returning: 0)) }
                return Runs(listing: self, natural: natural, starts: starts)
            }
        }

        /// A listing cut into runs of tandems (`runs(tandemsPerRun:)`): run after run, they
        /// list what `forEach` lists, in its order.
        public struct Runs: Sendable {
            /// Where a run begins: in the natural order, and among the returning tandems.
            struct Start: Sendable {
                var tandem: Int
                var returning: Int
            }

            let listing: Listing
            /// The positions of `order` in the natural order of the ids.
            let natural: [Int32]
            let starts: [Start]

            /// How many runs there are (at least one: an empty listing has one, empty).
            public var count: Int { starts.count }

            /// Calls `body` with every session of run `run` (of `programme`, or of all),
            /// tandem by tandem. Safe to call for different runs on several threads at once.
            /// - Throws: `SnapshotError` if a record no longer reads; what `body` throws.
            public func forEach(run: Int, programme: ProgrammeID?, _ body: (TandemID, Entry) throws -> Void) throws {
                try forEachListed(run: run, programme: programme) { _, tandem, session in
                    try body(
                        tandem,
                        Entry(
                            seq: session.seq, on: session.on, minutes: session.minutes, mode: session.mode,
                            topics: session.topicsKey.map(topics) ?? session.topics, hasNotes: session.hasNotes))
                }
            }

            /// Calls `body` with every session of run `run` (of `programme`, or of all) as a
            /// listing writes it, with a number for its tandem that no other tandem of the
            /// listing has: what `forEach(run:programme:_:)` lists, its topics as a key
            /// (`topics(_:)`) where they fit one. Safe to call for different runs on several
            /// threads at once.
            /// - Throws: `SnapshotError` if a record no longer reads; what `body` throws.
            public func forEachListed(
                run: Int, programme: ProgrammeID?, _ body: (UInt64, TandemID, ListedSession) throws -> Void
            ) throws {
                let listing = self.listing
                let isLast = run == starts.count - 1
                let tandems = starts[run].tandem..<(isLast ? natural.count : starts[run + 1].tandem)
                // What a window needs, taken out of the narrowing once: runs on both cores
                // retaining the one object for each tandem fought over its cache line (a
                // window's listing took twice the time).
                let narrowing = listing.narrowing
                let admission = narrowing?.admission, rows = narrowing?.rows
                let restored = narrowing?.restored ?? [:]
                let returning = narrowing?.returningTandems ?? []
                let returningEnd = isLast ? returning.count : starts[run + 1].returning
                var nextReturning = starts[run].returning
                // A programme the table lacks has no record (-1 matches none).
                let wanted = programme.map { listing.tables.programmes.firstIndex(of: $0) ?? -1 }
                var number = UInt64(run) << 24
                try listing.storage.withSection { section in
                    /// One tandem's sessions: its record's (if it has one the window keeps),
                    /// and in a window, those the window admits with the sessions it
                    /// restores among them in log order.
                    func list(_ tandem: TandemID, at position: Int?) throws {
                        var restoredHere: ArraySlice<Entry> = []
                        if !restored.isEmpty, let found = restored[tandem],
                            programme.map({ $0 == found.programme }) ?? true
                        {
                            restoredHere = found.sessions[...]
                        }
                        func pass(_ entry: Entry) throws {
                            try body(
                                number, tandem,
                                ListedSession(
                                    seq: entry.seq, on: entry.on, minutes: entry.minutes, mode: entry.mode,
                                    hasNotes: entry.hasNotes, topicsKey: nil, topics: entry.topics))
                        }
                        if let position, rows.map({ $0[position] >= 0 }) ?? true {
                            // Every record's checksum was checked when the listing was made.
                            let (_, payload) = try KeyedSection.recordCheckedBefore(
                                listing.order.record(position), in: section)
                            var reader = try FigureReader(payload, listing.tables)
                            if wanted.map({ $0 == reader.programme }) ?? true {
                                while let (figures, hasNotes, topics) = try reader.nextListed() {
                                    while let first = restoredHere.first, first.seq < figures.seq {
                                        try pass(first)
                                        restoredHere.removeFirst()
                                    }
                                    guard admission?.admits(seq: figures.seq, on: figures.on) ?? true else { continue }
                                    try body(
                                        number, tandem,
                                        ListedSession(
                                            seq: figures.seq, on: figures.on, minutes: figures.minutes,
                                            mode: figures.online ? .online : .inPerson, hasNotes: hasNotes,
                                            topicsKey: topics,
                                            topics: topics == nil
                                                ? reader.unkeyedTopics.map { listing.tables.topics[$0] } : []
                                        ))
                                }
                            }
                        }
                        for entry in restoredHere { try pass(entry) }
                        number += 1
                    }
                    for i in tandems {
                        let position = Int(natural[i])
                        let tandem = try listing.order.tandem(position, in: section)
                        while nextReturning < returningEnd, returning[nextReturning] < tandem {
                            try list(returning[nextReturning], at: nil)
                            nextReturning += 1
                        }
                        try list(tandem, at: position)
                    }
                    for tandem in returning[nextReturning..<returningEnd] { try list(tandem, at: nil) }
                }
                read(tandems.count)
            }

            /// The topics a key stands for.
            public func topics(_ key: TopicsKey) -> [String] { key.numbers.map { listing.tables.topics[$0] } }

            /// Counts `count` records read. The natural order jumps about the section (t-9
            /// before t-10), so no pass releases the pages behind it: every few megabytes of
            /// records read, by any run, all the mapped pages go back instead. A page read
            /// again comes from the page cache.
            private func read(_ count: Int) {
                let storage = listing.storage
                let step = listing.recordsBetweenReleases
                let before = storage.readSinceRelease.wrappingAdd(count, ordering: .relaxed).oldValue
                if (before + count) / step > before / step {
                    storage.withSection { storage.release(0..<$0.count) }
                }
            }
        }

        /// A session as a listing writes it (`Runs.forEachListed`).
        public struct ListedSession: Sendable {
            public var seq: Int
            public var on: BusinessDate
            public var minutes: Int
            public var mode: SessionMode
            public var hasNotes: Bool
            /// The topics as a key (`Runs.topics(_:)`); nil when `topics` holds them.
            public var topicsKey: TopicsKey?
            public var topics: [String]
        }

        /// Calls `body` with every session, tandem by tandem in no particular order (the
        /// index's), each tandem's together and in log order: for sums over tandems, which
        /// need no sorting and no search per tandem.
        /// - Throws: as `forEach`.
        public func forEachTandemsSessions(_ body: (TandemID, Entry) throws -> Void) throws {
            try storage.withSection { section in
                for position in 0..<order.count {
                    let tandem = try order.tandem(position, in: section)
                    try sessions(of: tandem, at: position, in: section, programme: nil) { try body(tandem, $0) }
                }
                for tandem in narrowing?.returningTandems ?? [] {
                    try sessions(of: tandem, at: nil, in: section, programme: nil) { try body(tandem, $0) }
                }
            }
        }

        /// As `forEachTandemsSessions(_:)` for sums: each session's figures (no topics), with
        /// its tandem's row in `rows` (a tandem that has none is passed over): a narrowed
        /// listing knows them already, which saves a lookup by id for each of half a million
        /// tandems.
        /// - Throws: as `forEach`.
        func forEachTandemsSessionFigures(
            rowsIn rows: TandemRows, _ body: (Int32, SessionFigures) throws -> Void
        )
            throws
        {
            try forEachTandemsSessionFigures(rowsIn: rows, part: 0, of: 1, body)
        }

        /// As `forEachTandemsSessionFigures(rowsIn:_:)`, over the `part`-th of `parts` runs of
        /// the index's tandems (the sessions a window restores in the last): the parts
        /// together pass every session once, each tandem's in one part, so that they can be
        /// summed on as many threads.
        /// - Throws: as `forEach`.
        func forEachTandemsSessionFigures(
            rowsIn rows: TandemRows, part: Int, of parts: Int, _ body: (Int32, SessionFigures) throws -> Void
        ) throws {
            precondition(parts >= 1 && (0..<parts).contains(part), "part \(part) of \(parts)")
            try storage.withSection { section in
                let positions = (order.count * part / parts)..<(order.count * (part + 1) / parts)
                // The part's records lie one after another: their pages go back behind it.
                var behind = try ReleaseBehind(storage, section, from: positions.first.map(order.record))
                // Taken out of the narrowing once: the loop does not touch the shared object.
                let admission = narrowing?.admission, narrowedRows = narrowing?.rows
                let restores = narrowing.map { !$0.restored.isEmpty } ?? false
                // The id is read only where it is needed: to find the row, or the sessions a
                // window restores.
                let needsIDs = narrowing == nil || restores
                for position in positions {
                    try behind.reached(order.record(position))
                    let tandem = needsIDs ? try order.tandem(position, in: section) : nil
                    guard let row = narrowedRows?[position] ?? rows.row(of: tandem!), row >= 0 else { continue }
                    if restores, let tandem, narrowing!.restored[tandem] != nil {
                        // Sessions a window restores go in among the record's: `sessions` merges them.
                        try sessions(of: tandem, at: position, in: section, programme: nil, withTopics: false) {
                            try body(row, SessionFigures($0))
                        }
                        continue
                    }
                    // Every record's checksum was checked when the listing was made (`init`).
                    let (_, payload) = try KeyedSection.recordCheckedBefore(order.record(position), in: section)
                    var reader = try SessionIndex.FigureReader(payload, tables)
                    if let admission {
                        while let session = try reader.next() {
                            if admission.admits(seq: session.seq, on: session.on) { try body(row, session) }
                        }
                    } else {
                        while let session = try reader.next() { try body(row, session) }
                    }
                }
                if let last = positions.last { try behind.finished(at: order.record(last)) }
                guard part == parts - 1 else { return }
                for tandem in narrowing?.returningTandems ?? [] {
                    guard let row = rows.row(of: tandem) else { continue }
                    try sessions(of: tandem, at: nil, in: section, programme: nil, withTopics: false) {
                        try body(row, SessionFigures($0))
                    }
                }
            }
        }

        /// One tandem's sessions: its record's (at `position` in `order`, if it has one), and
        /// in a window, only those the window admits, with the sessions it restores in log
        /// order among them.
        /// `tandem` may be nil when no session is restored (the id is not needed then).
        private func sessions(
            of tandem: TandemID?, at position: Int?, in section: UnsafeRawBufferPointer, programme: ProgrammeID?,
            withTopics: Bool = true, _ body: (Entry) throws -> Void
        ) throws {
            // Every record's checksum was checked when the listing was made (`init`).
            guard let narrowing else {
                guard let position else { return }
                let (_, payload) = try KeyedSection.recordCheckedBefore(order.record(position), in: section)
                _ = try decode(payload, tables, only: programme, withTopics: withTopics, body)
                return
            }
            var restored: [Entry] = []
            if let tandem, let found = narrowing.restored[tandem], programme.map({ $0 == found.programme }) ?? true {
                restored = found.sessions
            }
            var next = 0
            if let position, narrowing.rows[position] >= 0 {
                let (_, payload) = try KeyedSection.recordCheckedBefore(order.record(position), in: section)
                _ = try decode(payload, tables, only: programme, withTopics: withTopics) { entry in
                    while next < restored.count, restored[next].seq < entry.seq {
                        try body(restored[next])
                        next += 1
                    }
                    if narrowing.admits(entry) { try body(entry) }
                }
            }
            for entry in restored[next...] { try body(entry) }
        }

        /// The listing as `window` sees the log up to seq `last` (the window's basis), from
        /// this listing of the whole log, the log's `timeline` (covering at least this
        /// listing's lines) and the window's `model`:
        /// - a session is listed if the window admits its line (by seq, recording time and
        ///   business day, as a windowed fold does) and the model has its tandem;
        /// - a session voided by a void the window leaves out (recorded later) is listed
        ///   again: its line is read from `log`. The whole log's listing has no voided session.
        ///
        /// Lines the timeline cannot judge alone (recorded on the cut-off day, or whose days
        /// it could not read) are judged from the lines themselves.
        ///
        /// With `only`, the narrowed listing holds those tandems' sessions and no other's
        /// (`sessions --tandem T --as-of`): the others' records are not read.
        /// - Complexity: a pass over the timeline up to `last`, and a read of each line judged
        ///   or restored; with `only`, or past `unsureLinesRead` lines to judge, a pass over the
        ///   index's records (`only`'s) instead, and a read of each of their sessions judged.
        /// - Throws: `SnapshotError` for a damaged index, or a restored line that is not a
        ///   session; `LogError`, `EventDecodingError` from reading the log.
        func narrowed(
            to window: ReplayWindow, through last: Int, timeline: Timeline, model: ProgrammeReadModel,
            log: any LineSource, only: Set<TandemID>? = nil, unsureLinesRead: Int = Self.unsureLinesRead
        ) throws -> Listing {
            let last = min(last, window.knownAt ?? .max, timeline.count)
            // Each tandem's row, found by id on both cores (a wait on memory per tandem).
            var rows = [Int32](repeating: -1, count: order.count)
            try storage.withSection { section in
                try fillInParts(&rows) { positions, out in
                    // Each part reads its records' keys front to back: their pages go back behind it.
                    var behind = try ReleaseBehind(storage, section, from: positions.first.map(order.record))
                    for position in positions {
                        try behind.reached(order.record(position))
                        let tandem = try order.tandem(position, in: section)
                        out[position] = (only?.contains(tandem) ?? true) ? model.tandemRows.row(of: tandem) ?? -1 : -1
                    }
                    if let last = positions.last { try behind.finished(at: order.record(last)) }
                }
            }
            // What the window's voids left out: the sessions of voids it does not see.
            var targets: [Int] = []
            for void in timeline.voids where void.target <= last {
                let seen =
                    void.seq <= last
                    && (window.recordedBy.map { cutoff in void.at.map { $0 <= cutoff } ?? true } ?? true)
                if !seen { targets.append(void.target) }
            }
            var restored: [TandemID: (programme: ProgrammeID, sessions: [Entry])] = [:]
            var decoder = EventDecoder()
            try log.forEachLine(at: targets.sorted()) { line in
                guard case .sessionHeld(let e) = try decoder.decode(line).event else { return }
                guard window.admits(e.on), !(window.recordedBy.map { Replay.recordedAfter(line, $0) } ?? false),
                    only?.contains(e.tandem) ?? true, let tandem = model.tandems[e.tandem]
                else { return }
                restored[e.tandem, default: (tandem.programme, [])].sessions.append(
                    Entry(
                        seq: line.seq, on: e.on, minutes: e.minutes, mode: e.mode, topics: e.topics,
                        hasNotes: e.personal != nil))
            }
            let judge = Timeline.Judge(window)
            // A session's business day is in the index: the timeline is needed only for when
            // the line was recorded (held for no one, it was 47 MB of every window's listing
            // on the 10M store, looked up at random for every session).
            let cutOff = window.recordedBy != nil
            let returningTandems = try restored.keys.filter { try position(of: $0) == nil }.sorted()
            var admittedUnsure: Set<Int> = []
            // With a cut-off, the lines the timeline is unsure of are judged one by one, from
            // the log. Which they are, the timeline says in a pass over four bytes a line; with
            // `only` (a few tandems' records), or when there are many (a cut-off in the middle
            // of a busy day), the listing's own sessions are sorted out instead.
            var unsure: [Int] = []
            var sessionsOnly = cutOff && only != nil
            if cutOff, !sessionsOnly, last > 0 {
                for seq in 1...last where timeline.admission(seq, judge) == .unsure {
                    unsure.append(seq)
                    if unsure.count > unsureLinesRead {
                        sessionsOnly = true
                        break
                    }
                }
            }
            if sessionsOnly {
                unsure = []
                try storage.withSection { section in
                    for position in 0..<order.count where rows[position] >= 0 {
                        let (_, payload) = try KeyedSection.recordCheckedBefore(order.record(position), in: section)
                        _ = try decode(payload, tables, withTopics: false) { entry in
                            if entry.seq <= last, timeline.admission(entry.seq, judge) == .unsure {
                                unsure.append(entry.seq)
                            }
                        }
                    }
                }
                unsure.sort()
            }
            try log.forEachLine(at: unsure) { line in
                // Every line the listing named is a session; the timeline names any line, and
                // one that is not a session (or not an event this build reads) is no concern.
                let event = sessionsOnly ? try decoder.decode(line).event : (try? decoder.decode(line))?.event
                guard case .sessionHeld(let e)? = event else {
                    if sessionsOnly { throw SnapshotError.doesNotMatchLog(seq: line.seq) }
                    return
                }
                if window.admits(e.on), !(window.recordedBy.map { Replay.recordedAfter(line, $0) } ?? false) {
                    admittedUnsure.insert(line.seq)
                }
            }
            var out = self
            out.narrowing = Narrowing(
                window: window, judge: judge, last: last, timeline: cutOff ? timeline : nil, rows: rows,
                restored: restored, returningTandems: returningTandems, admittedUnsure: admittedUnsure)
            return out
        }

        /// Up to how many lines the timeline is unsure of are read from the log, one by one,
        /// before the listing's records are decoded to read only its sessions: a line found
        /// by its seq alone took a third of a millisecond on the 10M store (a search of the
        /// file), so a thousand cost about half what that decoding pass does.
        static let unsureLinesRead = 1_000

        /// What a window of history leaves of a whole log's listing.
        /// A class, so that a pass reads it through one reference: a struct of arrays and
        /// tables was copied, every field retained and released, for each tandem (an eighth
        /// of an analyst's `activity --as-of` sums on the 10M store). A pass on several
        /// threads takes what it needs out of it first (`admission`, `rows`): a reference
        /// retained per tandem from both cores made them fight over its cache line.
        final class Narrowing: Sendable {
            /// Which of the listing's sessions the window admits.
            let admission: Admission
            /// Per tandem of `order`: its row in the window's model, or −1 if the model has
            /// no such tandem (or, with `only`, it is not one of them): its sessions are left out.
            let rows: [Int32]
            /// The sessions of a void the window leaves out, by tandem, in log order.
            let restored: [TandemID: (programme: ProgrammeID, sessions: [Entry])]
            /// The tandems of `restored` without a record in the index, in order.
            let returningTandems: [TandemID]
            /// The sessions the timeline was unsure of that the window admits.
            var admittedUnsure: Set<Int> { admission.admittedUnsure }

            init(
                window: ReplayWindow, judge: Timeline.Judge, last: Int, timeline: Timeline?, rows: [Int32],
                restored: [TandemID: (programme: ProgrammeID, sessions: [Entry])], returningTandems: [TandemID],
                admittedUnsure: Set<Int>
            ) {
                admission = Admission(
                    asOf: window.asOf, judge: judge, last: last, timeline: timeline, admittedUnsure: admittedUnsure)
                self.rows = rows
                self.restored = restored
                self.returningTandems = returningTandems
            }

            /// Whether the window admits a session of the whole log's listing.
            @inline(__always)
            func admits(_ entry: Entry) -> Bool { admission.admits(seq: entry.seq, on: entry.on) }

            /// The window's judgment of a session of the whole log's listing, as a value a
            /// thread keeps to itself.
            struct Admission: Sendable {
                /// The window's as-of date.
                let asOf: BusinessDate?
                /// The window's bounds, worked out once.
                let judge: Timeline.Judge
                /// The last seq the window sees.
                let last: Int
                /// The log's timeline, for a window that cuts off by recording time (nil
                /// without: the index has each session's business day).
                let timeline: Timeline?
                /// The sessions the timeline was unsure of that the window admits.
                let admittedUnsure: Set<Int>

                /// Whether the window admits the session at `seq` on `on`.
                @inline(__always)
                func admits(seq: Int, on: BusinessDate) -> Bool {
                    guard seq <= last else { return false }
                    guard let timeline else { return asOf.map { on <= $0 } ?? true }
                    switch timeline.admission(seq, judge) {
                    case .admitted: return true
                    case .leftOut: return false
                    case .unsure: return admittedUnsure.contains(seq)
                    }
                }
            }
        }
    }
}
