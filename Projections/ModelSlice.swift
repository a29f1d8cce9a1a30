import EventLog
import Mentoring

/// Where each person, tandem and goal list lies in the projections snapshot's `model`
/// section, and an id → row table for people and for tandems: the snapshot's `lookup`
/// section. With it a query about one tandem reads that tandem's records and no others.
///
/// Layout, every word little-endian:
/// - five 32-bit words: people `P`, tandems `N`, the end of the model's prefix (programmes
///   and voids), the people's and the tandems' slot counts (powers of two);
/// - `P + 1` 32-bit offsets of the person records (the last one ends the last record);
/// - `N + 1` offsets of the tandem records, then `N` offsets of each tandem's goal list
///   (`UInt32.max`: none);
/// - the people's slots, then the tandems' slots: 64-bit words, 0 for empty, else
///   `row + 1` in the low half and the high half of the id's FNV-1a hash above it.
///   Linear probing from the hash's low bits;
/// - each person's tandems: `P + 1` starts into a list of `2N` tandem rows (every tandem
///   is listed under its mentor and its mentee), in row order;
/// - `N` offsets of each tandem's check-ins (`UInt32.max`: none).
///
/// Offsets are 32-bit: a model section of 4 GiB or more is written without a lookup (and
/// every query then loads the whole model).
enum SnapshotLookup {
    static let headerWords = 5

    /// A power of two with at most three quarters of its slots used.
    static func slotCount(for count: Int) -> Int {
        var slots = 8
        while slots * 3 < count * 4 { slots <<= 1 }
        return slots
    }

    /// Collects offsets while the model section is written.
    struct Builder {
        var personStarts: [UInt32] = []
        var tandemStarts: [UInt32] = []
        var goalStarts: [UInt32] = []
        var checkInStarts: [UInt32] = []
        var prefixEnd: UInt32 = 0

        /// Writes the section's 32-bit words (little-endian, as this platform stores them:
        /// Linux on x86-64 and arm64) into `section` through `w`, given each row's id and,
        /// when they are at hand, the rows' indexes (whose tables the lookup's are). The
        /// offsets collected are let go as they are written, and the words go to the file a
        /// megabyte at a time: the section is 50 MB on the 10M store, and a checkpoint is
        /// written beside the whole model.
        /// - Precondition: the model section is shorter than 4 GiB (its offsets fit in 32 bits).
        /// - Throws: `SystemError` from writing.
        mutating func write(
            into section: SnapshotSections.StreamedSection, through w: inout SnapshotWriter,
            modelSize: Int, people: Int, tandems: Int, indexes: (people: RowIndex, tandems: RowIndex)?,
            personID: (Int) -> String, tandemID: (Int) -> String, members: (Int) -> (mentor: Int32, mentee: Int32)
        ) throws(SystemError) {
            precondition(modelSize < Int(UInt32.max), "a lookup of a model section of 4 GiB or more")
            /// Writes an array's bytes a megabyte at a time.
            func put<Word>(_ words: [Word]) throws(SystemError) {
                var start = 0
                while start < words.count {
                    let end = min(words.count, start + (1 << 20) / MemoryLayout<Word>.stride)
                    words[start..<end].withUnsafeBytes { w.writeRaw($0) }
                    try section.spill(&w)
                    start = end
                }
            }
            let peopleSlots = SnapshotLookup.slotCount(for: people)
            let tandemSlots = SnapshotLookup.slotCount(for: tandems)
            try put([UInt32(people), UInt32(tandems), prefixEnd, UInt32(peopleSlots), UInt32(tandemSlots)])
            try put(personStarts)
            personStarts = []
            try put([UInt32(modelSize)])  // bounds the last person (the tandems follow)
            try put(tandemStarts)
            tandemStarts = []
            try put([UInt32(modelSize)])
            try put(goalStarts)
            goalStarts = []
            // Each slot as two words, low then high: the bytes of a little-endian UInt64.
            func putSlots(count: Int, slotCount: Int, index: RowIndex?, id: (Int) -> String) throws(SystemError) {
                guard let index, index.slotCount == slotCount else {
                    var placed = [UInt64](repeating: 0, count: slotCount)
                    for row in 0..<count {
                        let h = StableHash.fnv1a(id(row))
                        var slot = Int(truncatingIfNeeded: h) & (slotCount - 1)
                        while placed[slot] != 0 { slot = (slot + 1) & (slotCount - 1) }
                        placed[slot] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(row + 1)
                    }
                    try put(placed)
                    return
                }
                // The rows' index is this table already (the same hashes placed in the same
                // order): only each row's high bits are needed, read in row order, instead of
                // placing every row again at random. The slots go out a megabyte at a time
                // (made whole, the people's were 16 MB more at the peak of a question that
                // saves a checkpoint).
                let highBits = (0..<count).map { UInt32(StableHash.fnv1a(id($0)) >> 32) }
                let step = (1 << 20) / MemoryLayout<UInt64>.stride
                for start in stride(from: 0, to: slotCount, by: step) {
                    try put(index.lookupEntries(highBits: highBits, in: start..<min(slotCount, start + step)))
                }
            }
            try putSlots(count: people, slotCount: peopleSlots, index: indexes?.people, id: personID)
            try putSlots(count: tandems, slotCount: tandemSlots, index: indexes?.tandems, id: tandemID)
            // Each person's tandems, by counting then placing.
            var starts = [UInt32](repeating: 0, count: people + 1)
            for row in 0..<tandems {
                let (mentor, mentee) = members(row)
                starts[Int(mentor) + 1] += 1
                starts[Int(mentee) + 1] += 1
            }
            for person in 0..<people { starts[person + 1] += starts[person] }
            // Written first, the starts then serve as each person's next free place (a copy
            // of them was 5 MB more at the peak of the 10M store's first question about a
            // month, the one that writes its checkpoint).
            try put(starts)
            var lists = [UInt32](repeating: 0, count: 2 * tandems)
            for row in 0..<tandems {
                let (mentor, mentee) = members(row)
                lists[Int(starts[Int(mentor)])] = UInt32(row)
                starts[Int(mentor)] += 1
                lists[Int(starts[Int(mentee)])] = UInt32(row)
                starts[Int(mentee)] += 1
            }
            starts = []
            try put(lists)
            try put(checkInStarts)
            checkInStarts = []
        }
    }

    /// Reads a lookup section, checking the chunks it touches.
    struct Reader {
        let lookup: VerifiedSection
        let people: Int, tandems: Int, prefixEnd: Int, peopleSlots: Int, tandemSlots: Int

        init(_ lookup: VerifiedSection) throws(SnapshotError) {
            self.lookup = lookup
            people = Int(try lookup.uint32(at: 0))
            tandems = Int(try lookup.uint32(at: 4))
            prefixEnd = Int(try lookup.uint32(at: 8))
            peopleSlots = Int(try lookup.uint32(at: 12))
            tandemSlots = Int(try lookup.uint32(at: 16))
            let words = slotsStart + 2 * (peopleSlots + tandemSlots) + people + 1 + 3 * tandems
            guard peopleSlots.nonzeroBitCount == 1, tandemSlots.nonzeroBitCount == 1, words * 4 == lookup.bytes.count
            else {
                throw .malformed("a lookup section of the wrong size")
            }
        }

        /// Where the people's slots begin, in words: after the header and the offsets.
        var slotsStart: Int { SnapshotLookup.headerWords + (people + 1) + (tandems + 1) + tandems }

        private func word(_ index: Int) throws(SnapshotError) -> Int { Int(try lookup.uint32(at: index * 4)) }

        /// Where person `row`'s record begins in the model section.
        func personStart(_ row: Int) throws(SnapshotError) -> Int { try word(SnapshotLookup.headerWords + row) }

        /// Where tandem `row`'s record begins.
        func tandemStart(_ row: Int) throws(SnapshotError) -> Int {
            try word(SnapshotLookup.headerWords + people + 1 + row)
        }

        /// Where tandem `row`'s goal list begins, if it has one.
        func goalsStart(_ row: Int) throws(SnapshotError) -> Int? {
            let start = try lookup.uint32(at: (SnapshotLookup.headerWords + people + tandems + 2 + row) * 4)
            return start == .max ? nil : Int(start)
        }

        /// The row whose id is `id` (compared by `idOfRow`), or nil.
        private func find(
            _ id: String, slotsAt base: Int, count: Int, rows: Int, idOfRow: (Int) throws(SnapshotError) -> String
        ) throws(SnapshotError) -> Int? {
            let h = StableHash.fnv1a(id)
            var slot = Int(truncatingIfNeeded: h) & (count - 1)
            for _ in 0..<count {
                let entry = try lookup.uint64(at: (base + 2 * slot) * 4)
                if entry == 0 { return nil }
                let row = Int(entry & 0xFFFF_FFFF) - 1
                guard row >= 0, row < rows else { throw .malformed("a lookup slot names no row") }
                if entry >> 32 == h >> 32, try idOfRow(row) == id { return row }
                slot = (slot + 1) & (count - 1)
            }
            return nil
        }

        /// The people's slots as a `RowIndex` takes them (−1 for empty): the index a load
        /// would build by placing every person again.
        /// - Throws: `SnapshotError.malformed` if a slot names no row or the table does not
        ///   hold every row once.
        func peopleIndex() throws(SnapshotError) -> RowIndex {
            try index(at: slotsStart, count: peopleSlots, rows: people)
        }

        /// The tandems' slots as a `RowIndex` takes them.
        /// - Throws: `SnapshotError.malformed`, as `peopleIndex`.
        func tandemIndex() throws(SnapshotError) -> RowIndex {
            try index(at: slotsStart + 2 * peopleSlots, count: tandemSlots, rows: tandems)
        }

        private func index(at base: Int, count: Int, rows: Int) throws(SnapshotError) -> RowIndex {
            guard count == SnapshotLookup.slotCount(for: rows) else {
                throw .malformed("a lookup table of the wrong size")
            }
            try lookup.check((base * 4)..<((base + 2 * count) * 4))
            var slots = [Int32](repeating: -1, count: count)
            var seen = [Bool](repeating: false, count: rows)
            for i in 0..<count {
                let entry = UInt64(
                    littleEndian: lookup.bytes.loadUnaligned(fromByteOffset: (base + 2 * i) * 4, as: UInt64.self))
                guard entry != 0 else { continue }
                let row = Int(entry & 0xFFFF_FFFF) - 1
                guard row >= 0, row < rows, !seen[row] else {
                    throw .malformed("a lookup slot names no row, or one twice")
                }
                seen[row] = true
                slots[i] = Int32(row)
            }
            guard !seen.contains(false) else { throw .malformed("a lookup table misses a row") }
            return RowIndex(slots: slots, used: rows)
        }

        /// The rows of every tandem person `row` was a member of.
        func tandemRows(ofPerson row: Int) throws(SnapshotError) -> [Int] {
            let base = slotsStart + 2 * (peopleSlots + tandemSlots)
            let start = try word(base + row), end = try word(base + row + 1)
            guard start <= end, end <= 2 * tandems else { throw .malformed("a person's tandems outside the lookup") }
            var rows: [Int] = []
            for i in start..<end {
                let tandem = try word(base + people + 1 + i)
                guard tandem < tandems else { throw .malformed("a person's tandem that is not in the snapshot") }
                rows.append(tandem)
            }
            return rows
        }

        /// Where tandem `row`'s check-ins begin, if it has any.
        func checkInsStart(_ row: Int) throws(SnapshotError) -> Int? {
            let index = slotsStart + 2 * (peopleSlots + tandemSlots) + people + 1 + 2 * tandems + row
            let start = try lookup.uint32(at: index * 4)
            return start == .max ? nil : Int(start)
        }

        /// The row of person `id`, its id read from its record in `model`; nil if none.
        func personRow(of id: ParticipantID, in model: VerifiedSection) throws(SnapshotError) -> Int? {
            try find(id.rawValue, slotsAt: slotsStart, count: peopleSlots, rows: people) { row throws(SnapshotError) in
                try Self.id(at: try personStart(row), in: model)
            }
        }

        /// The row of tandem `id`; nil if none.
        func tandemRow(of id: TandemID, in model: VerifiedSection) throws(SnapshotError) -> Int? {
            try find(id.rawValue, slotsAt: slotsStart + 2 * peopleSlots, count: tandemSlots, rows: tandems) {
                row throws(SnapshotError) in try Self.id(at: try tandemStart(row), in: model)
            }
        }

        /// The id a record begins with.
        static func id(at start: Int, in model: VerifiedSection) throws(SnapshotError) -> String {
            try model.read(from: start) { (r: inout SnapshotReader) throws(SnapshotError) in try r.readString() }
        }
    }
}

/// What a query is confined to: the tandems it names, and the participants it is about with
/// every tandem they were in (a participant's own view, `audit --participant P`).
public struct Confinement: Sendable, Equatable {
    public var tandems: Set<TandemID>
    public var participants: Set<ParticipantID>

    public init(tandems: Set<TandemID> = [], participants: Set<ParticipantID> = []) {
        self.tandems = tandems
        self.participants = participants
    }
}

/// Part of the read model: the programmes, some tandems with their goals and members, and
/// some participants with all their tandems, read from the projections snapshot without the
/// rest (`sessions --tandem T`, `goals --tandem T`, a participant's own sessions, on a store
/// of millions).
///
/// Programme-wide counts (sessions per day, swaps, match runs) are not in a slice, only
/// its tandems' check-ins: only queries confined to its tandems may use it.
struct ModelSlice {
    var model: ProgrammeReadModel
    var voided: [Int: Int]
    /// The tandems read, and those asked for that the snapshot does not know (watched in
    /// the tail).
    var tandems: Set<TandemID>
    /// Everyone read: the tandems' members, and the participants asked for.
    var people: Set<ParticipantID>
    /// Those whose active tandem, if any, is among `tandems`: an event about them alone
    /// changes nothing outside the slice.
    var complete: Set<ParticipantID>
}

extension ProjectionSnapshot {
    /// The slice of the snapshot's model that holds `confinement`'s tandems and people, each
    /// person with every tandem they were in; nil if one of the people is not in it (the
    /// whole model then says what is wrong) or the snapshot has no lookup. A tandem it does
    /// not know is watched in the tail instead.
    /// - Throws: `SnapshotError.malformed` for damage in what it reads.
    static func slice(
        _ file: SnapshotFile, header: SnapshotFile.Header, confinement: Confinement
    ) throws(SnapshotError) -> ModelSlice? {
        guard header.sections["lookup"] != nil else { return nil }
        let map: MappedFile
        do { map = try MappedFile(path: file.path) } catch { throw .malformed("cannot be read") }
        let section = try VerifiedSection("model", of: header, in: file, map: map)
        let lookup = try SnapshotLookup.Reader(try VerifiedSection("lookup", of: header, in: file, map: map))
        var model = ProgrammeReadModel()
        let voided = try section.read(from: modelHeaderBytes) {
            (r: inout SnapshotReader) throws(SnapshotError) -> [Int: Int] in
            let voided = try readPrefix(&r, into: &model)
            guard r.position == lookup.prefixEnd else { throw .malformed("the lookup does not fit the model") }
            return voided
        }
        // The rows to read: the tandems named, the people named and all their tandems.
        var fullTandems = Set<Int>()
        // A tandem the snapshot does not know is watched, not read: if the tail never names
        // it, the slice answers that it is unknown (a mistyped id no longer loads the whole
        // model to say so); if the tail matches it, its members are outside the slice, and the
        // whole model answers.
        var unknownTandems = Set<TandemID>()
        for tandem in confinement.tandems {
            guard let full = try lookup.tandemRow(of: tandem, in: section) else {
                unknownTandems.insert(tandem)
                continue
            }
            fullTandems.insert(full)
        }
        var fullPeople: [Int] = []
        for participant in confinement.participants.sorted() {
            guard let full = try lookup.personRow(of: participant, in: section) else { return nil }
            fullPeople.append(full)
            fullTandems.formUnion(try lookup.tandemRows(ofPerson: full))
        }
        // Full rows → rows of the slice, and each person's active tandem as a full row.
        var personRows: [Int: Int32] = [:]
        var activeTandems: [(person: Int32, full: Int)] = []
        func person(_ full: Int) throws(SnapshotError) -> (Int32, ParticipantID) {
            guard full >= 0, full < lookup.people else {
                throw .malformed("a tandem member who is not in the snapshot")
            }
            if let row = personRows[full] { return (row, model.peopleRows.id(ofRow: row)) }
            let start = try lookup.personStart(full)
            var record = try section.read(from: start) {
                (r: inout SnapshotReader) throws(SnapshotError) in try model.peopleRows.readRecord(&r)
            }
            // Its active tandem is a row of the whole model: linked below, if it is read.
            let active = record.row.activeTandem
            record.row.activeTandem = -1
            let row = model.peopleRows.append(record)
            personRows[full] = row
            if active >= 0 { activeTandems.append((row, Int(active))) }
            return (row, record.row.id)
        }
        var tandemRows: [Int: Int32] = [:]
        var tandems = Set<TandemID>()
        for full in fullTandems.sorted() {
            var record = try section.read(from: try lookup.tandemStart(full)) {
                (r: inout SnapshotReader) throws(SnapshotError) in try model.tandemRows.readRecord(&r)
            }
            let id = record.row.id
            record.row.mentor = try person(Int(record.row.mentor)).0
            record.row.mentee = try person(Int(record.row.mentee)).0
            guard model.tandemRows.row(of: id) == nil else { throw .malformed("a tandem listed twice") }
            let row = model.tandemRows.append(record)
            tandemRows[full] = row
            tandems.insert(id)
            if let checkIns = try lookup.checkInsStart(full) {
                // Their members are people rows of the whole model: read, then mapped.
                let list = try section.read(from: checkIns) {
                    (r: inout SnapshotReader) throws(SnapshotError) -> [TandemRows.CheckInRow] in
                    guard try r.readInt() == full else { throw .malformed("check-ins of another tandem") }
                    return try TandemRows.readCheckInList(&r)
                }
                for var checkIn in list {
                    checkIn.participant = try person(Int(checkIn.participant)).0
                    model.tandemRows.appendCheckIn(checkIn, to: row)
                }
            }
            if let goals = try lookup.goalsStart(full) {
                try section.read(from: goals) { (r: inout SnapshotReader) throws(SnapshotError) in
                    guard try r.readInt() == full else { throw .malformed("a goal list of another tandem") }
                    try model.tandemRows.readGoals(&r, into: row)
                }
            }
        }
        for full in fullPeople { _ = try person(full) }
        var complete = Set<ParticipantID>()
        var people = Set<ParticipantID>()
        let activeRows = Dictionary(activeTandems.map { ($0.person, $0.full) }, uniquingKeysWith: { a, _ in a })
        for row in 0..<Int32(model.peopleRows.count) {
            let id = model.peopleRows.id(ofRow: row)
            people.insert(id)
            guard let full = activeRows[row] else {
                complete.insert(id)
                continue
            }
            if let active = tandemRows[full] {
                model.peopleRows.update(row) { $0.activeTandem = active }
                complete.insert(id)
            }
        }
        return ModelSlice(
            model: model, voided: voided, tandems: tandems.union(unknownTandems), people: people, complete: complete)
    }
}

/// Folds the log's tail into a slice: events about the slice's tandems and people are
/// folded, events about no one in it are passed over, and an event that reaches from the
/// slice to someone outside it (a swap bringing in a new partner) marks the slice as not
/// enough, for the caller to load the whole model instead.
struct SliceFold: EventFold {
    var slice: ModelSlice
    /// An event needed more than the slice holds.
    var outgrown = false

    mutating func apply(_ recorded: RecordedEvent, traits: Traits?) {
        let event = recorded.event
        switch event {
        case .matchRunRecorded, .programmeLaunched, .programmeClosed:
            // About programmes (a run's pool is only counted): the slice holds them all.
            slice.model.apply(recorded, traits: traits)
            return
        default: break
        }
        let subjects = event.subjects
        let touches =
            subjects.tandems.contains(where: slice.tandems.contains)
            || subjects.participants.contains(where: slice.people.contains)
        guard touches else {
            // Still the latest day of the log, which decides whether a report is as of today.
            if let date = event.businessDate, slice.model.latestBusinessDate.map({ date > $0 }) ?? true {
                slice.model.latestBusinessDate = date
            }
            return
        }
        guard subjects.tandems.allSatisfy(slice.tandems.contains),
            subjects.participants.allSatisfy(slice.complete.contains)
        else {
            outgrown = true
            return
        }
        slice.model.apply(recorded, traits: traits)
    }
}
