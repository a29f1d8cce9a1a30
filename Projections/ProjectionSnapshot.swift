import Dispatch
import EventLog
import Mentoring
import Synchronization

/// The read model on disk (`cache/projections.snapshot`), with the `(seq, hash)` it covers.
///
/// Sections: `figures` (the programmes and each one's headline figures: what a warm
/// `tandem stats` reads, a few hundred bytes) and `model` (the whole read model, without
/// the session log that only `tandem sessions` keeps), and `lookup` (where each person's,
/// tandem's and goal list's record is in `model`). It holds no names, emails or texts:
/// traits and vault refs only. An erasure deletes it with every other cache.
public enum ProjectionSnapshot {
    static let kind = "projections"
    /// Raised whenever the layout or the meaning of a field changes.
    /// 3: the latest business date of the log is kept with the programmes; 4: and when a
    /// programme was closed; 7: people and tandems name each other by row number, not id
    /// (a load without lookups); 8: the model is checked chunk by chunk, and a `lookup`
    /// section finds one tandem's records (`ModelSlice`); 9: and each person's tandems; 10:
    /// sessions, minutes and online sessions per programme and day (not sessions per month);
    /// 11: the lookup finds each tandem's check-ins; 12: people, tandems and goals are
    /// written as their rows are held, numbered by dictionaries in the prefix (a load files
    /// records without building views); 13: and check-ins, after the goals, by people row;
    /// 14: the model section says where its people begin and how long its longest record is
    /// (a load reads and checks it as it goes); 15: packed traits, profile refs and goal text
    /// refs are 8-byte words, not varints (which took 9–10 bytes and a loop each).
    public static let schema = 15

    /// The model section begins with two 32-bit words: where its people begin, and how long
    /// its longest record (a person, a tandem, or a tandem's goals or check-ins) is.
    static let modelHeaderBytes = 8

    /// The snapshot file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/projections.snapshot")
    }

    /// Writes a model folded from the whole log up to `head`, which ends at byte `logEnd`.
    /// - Parameter lookupFromIndexes: whether the lookup's id tables are taken from the
    ///   rows' indexes (the same tables) rather than placed again (tests compare the two).
    /// - Parameter withFigures: whether the headline figures are computed and written. A
    ///   time-travel checkpoint leaves them out (a null for each programme, which `figures`
    ///   refuses): only the head's snapshot answers from them, and computing them took
    ///   0.15 s of the first question about a month on the 10M store.
    /// - Returns: each programme's headline figures, as written: a query that needs them
    ///   need not compute them again.
    /// - Throws: `SystemError`.
    @discardableResult
    public static func write(
        _ model: ProgrammeReadModel, voided: [Int: Int], head: LogHead, logEnd: Int, vaultSize: Int,
        to file: SnapshotFile, lookupFromIndexes: Bool = true, withFigures: Bool = true
    ) throws -> [ProgrammeID: StatsQuery.Figures] {
        var figures = SnapshotWriter()
        var computed: [ProgrammeID: StatsQuery.Figures] = [:]
        writeProgrammes(model, into: &figures)
        for id in model.programmeOrder {
            guard withFigures else {
                write(.null, into: &figures)
                continue
            }
            let f = StatsQuery.figures(model, programmes: [id], label: id.rawValue, segment: nil).0
            computed[id] = f
            write(.object(f.stats), into: &figures)
        }
        // The model goes to the file as it is written, a few megabytes at a time: on the
        // 10M store its section is 140 MB (and the lookup's 50 MB), which a question saving a
        // checkpoint on the way to its answer held beside the model itself (545 MB; 304 MB
        // streamed).
        try file.write(kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize) { sections in
            try sections.add("figures", figures.bytes)
            let section = sections.stream("model")
            var w = SnapshotWriter(capacity: SnapshotSections.StreamedSection.defaultSpillAt + 1 << 20)
            // Where the people begin and the longest record (or list of goals or check-ins):
            // a load reads and checks the section only as far as the next record may reach.
            // Both are written into the first chunk when the section is finished.
            w.writeUInt32(0)
            w.writeUInt32(0)
            var longest = 0
            writeProgrammes(model, into: &w)
            w.write(UInt64(voided.count))
            for (seq, by) in voided.sorted(by: { $0.key < $1.key }) {
                w.write(seq)
                w.write(by)
            }
            // What the rows number their programmes, units, runs and categories by.
            model.peopleRows.writeDictionaries(into: &w)
            model.tandemRows.writeDictionaries(into: &w)
            var lookup = SnapshotLookup.Builder()
            lookup.prefixEnd = UInt32(truncatingIfNeeded: w.position)
            w.write(UInt64(model.swaps.count))
            for (programme, count) in model.swaps.sorted(by: { $0.key < $1.key }) {
                w.write(programme.rawValue)
                w.write(count)
            }
            w.write(UInt64(model.dailySessions.count))
            for (key, day) in model.dailySessions.sorted(by: {
                ($0.key.programme, $0.key.day) < ($1.key.programme, $1.key.day)
            }) {
                w.write(key.programme.rawValue)
                w.write(key.day)
                w.write(day.sessions)
                w.write(day.minutes)
                w.write(day.online)
            }
            // Check-ins the rows do not hold (of a tandem or a person the model does not know).
            w.write(UInt64(model.otherCheckIns.count))
            for (tandem, list) in model.otherCheckIns.sorted(by: { $0.key < $1.key }) {
                w.write(tandem.rawValue)
                w.write(UInt64(list.count))
                for c in list {
                    w.write(c.participant.rawValue)
                    w.write(c.rating)
                    w.write(c.on.dayNumber)
                }
            }
            w.write(UInt64(model.matchRuns.count))
            for run in model.matchRuns.values.sorted(by: { $0.run < $1.run }) { write(run, into: &w) }
            // In row order, as the rows are held: a person's active tandem and a tandem's members
            // are rows.
            let (people, tandems) = (Int32(model.peopleRows.count), Int32(model.tandemRows.count))
            /// Writes a record for each row below `count` that `includes`, made on both cores
            /// a chunk of rows each at a time and appended here in row order; `started`
            /// learns where each begins in the section. Made on one core, the records were
            /// a second of every snapshot written on the 10M store.
            func records(
                _ count: Int32, includes: @escaping @Sendable (Int32) -> Bool = { _ in true },
                started: (Int32, Int) -> Void, _ make: @escaping @Sendable (Int32, inout SnapshotWriter) -> Void
            ) throws {
                let chunk: Int32 = 8192
                var from: Int32 = 0
                while from < count {
                    let parts = RecordChunks()
                    let base = from
                    DispatchQueue.concurrentPerform(iterations: 2) { k in
                        let low = base + Int32(k) * chunk, high = min(count, low + chunk)
                        var out = SnapshotWriter(capacity: 1 << 20)
                        var starts: [(row: Int32, at: Int)] = []
                        var longest = 0
                        if low < high {
                            for row in low..<high where includes(row) {
                                let start = out.bytes.count
                                starts.append((row, start))
                                make(row, &out)
                                longest = max(longest, out.bytes.count - start)
                            }
                        }
                        parts.set(k, (out.bytes, starts, longest))
                    }
                    for k in 0..<2 {
                        let (bytes, starts, most) = parts.get(k)
                        let at = w.position
                        for (row, start) in starts { started(row, at + start) }
                        w.writeRaw(bytes)
                        longest = max(longest, most)
                        try section.spill(&w)
                    }
                    from += 2 * chunk
                }
            }
            let peopleStart = w.position
            w.write(UInt64(people))
            lookup.personStarts.reserveCapacity(Int(people))
            try records(people, started: { _, at in lookup.personStarts.append(UInt32(truncatingIfNeeded: at)) }) {
                model.peopleRows.writeRecord($0, into: &$1)
            }
            w.write(UInt64(tandems))
            lookup.tandemStarts.reserveCapacity(Int(tandems))
            try records(tandems, started: { _, at in lookup.tandemStarts.append(UInt32(truncatingIfNeeded: at)) }) {
                model.tandemRows.writeRecord($0, into: &$1)
            }
            w.write(UInt64(model.tandemRows.tandemsWithGoals))
            lookup.goalStarts = [UInt32](repeating: .max, count: Int(tandems))
            lookup.checkInStarts = [UInt32](repeating: .max, count: Int(tandems))
            try records(
                tandems, includes: { model.tandemRows.row($0).firstGoal >= 0 },
                started: { row, at in lookup.goalStarts[Int(row)] = UInt32(truncatingIfNeeded: at) }
            ) { row, out in
                out.write(Int(row))
                model.tandemRows.writeGoals(of: row, into: &out)
            }
            w.write(UInt64(model.tandemRows.tandemsWithCheckIns))
            try records(
                tandems, includes: { model.tandemRows.row($0).lastCheckIn >= 0 },
                started: { row, at in lookup.checkInStarts[Int(row)] = UInt32(truncatingIfNeeded: at) }
            ) { row, out in
                out.write(Int(row))
                model.tandemRows.writeCheckIns(of: row, into: &out)
            }
            let modelSize = w.position
            try section.finish(
                &w, patching: [(UInt32(clamping: peopleStart), 0), (UInt32(clamping: longest), 4)])
            // A model section of 4 GiB or more gets no lookup (its offsets are 32-bit): every
            // query then loads the whole model.
            if modelSize < Int(UInt32.max) {
                let table = sections.stream("lookup")
                var words = SnapshotWriter(capacity: SnapshotSections.StreamedSection.defaultSpillAt + 1 << 20)
                try lookup.write(
                    into: table, through: &words, modelSize: modelSize, people: model.people.count,
                    tandems: model.tandems.count,
                    indexes: lookupFromIndexes ? (model.peopleRows.index, model.tandemRows.index) : nil,
                    personID: { model.peopleRows.id(ofRow: Int32($0)).rawValue },
                    tandemID: { model.tandemRows.id(ofRow: Int32($0)).rawValue },
                    members: {
                        let row = model.tandemRows.row(Int32($0))
                        return (row.mentor, row.mentee)
                    })
                try table.finish(&words)
            }
        }
        return computed
    }

    /// The header, if the snapshot is one this build reads.
    /// - Throws: `SnapshotError`.
    public static func header(_ file: SnapshotFile) throws(SnapshotError) -> SnapshotFile.Header {
        try file.header(kind: kind, schema: schema)
    }

    /// The programmes and their figures only.
    /// - Throws: `SnapshotError`.
    public static func figures(
        _ file: SnapshotFile, header: SnapshotFile.Header
    ) throws(SnapshotError) -> (ProgrammeReadModel, [ProgrammeID: StatsQuery.Figures]) {
        let bytes = try file.section("figures", of: header)
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) -> (ProgrammeReadModel, [ProgrammeID: StatsQuery.Figures]) in
                var r = SnapshotReader(raw)
                var model = ProgrammeReadModel()
                try readProgrammes(&r, into: &model)
                var out: [ProgrammeID: StatsQuery.Figures] = [:]
                for id in model.programmeOrder {
                    guard let stats = try readValue(&r).objectValue else {
                        throw .malformed("figures that are not an object")
                    }
                    out[id] = StatsQuery.Figures(stats: stats)
                }
                return (model, out)
            }
        }.get()
    }

    /// The whole read model and the voids it honoured.
    /// - Throws: `SnapshotError`.
    /// - Parameter releaseStep: how far the reading moves before the section's pages behind
    ///   it go back (`SectionBuffer`).
    /// - Parameter readAhead: how far the section is read and checked at least each time the
    ///   reader needs more (`SectionBuffer.ensure`).
    /// - Parameter parallelFrom: from how many people the tandems are read on another core
    ///   (tests set 0 and `.max` to have each way).
    public static func model(
        _ file: SnapshotFile, header: SnapshotFile.Header, releaseStep: Int = SectionBuffer.defaultReleaseStep,
        readAhead: Int = SectionBuffer.defaultReadAhead, parallelFrom: Int = ProjectionSnapshot.parallelFrom
    ) throws(SnapshotError) -> (ProgrammeReadModel, voided: [Int: Int]) {
        // The section is read and checked chunk by chunk as far as the next record may reach,
        // and its pages go back to the system behind the reader: it is never resident whole
        // (it is about as large as the rows built from it), and hashing it goes with reading
        // it, a few megabytes at a time on every core.
        let buffer = try file.streamedSectionBuffer(
            "model", of: header, releaseStep: releaseStep, readAhead: readAhead)
        let raw = buffer.bytes
        return try Result { () throws(SnapshotError) -> (ProgrammeReadModel, voided: [Int: Int]) in
            try buffer.ensure(modelHeaderBytes)
            guard raw.count >= modelHeaderBytes else { throw .malformed("a model section without its header") }
            let peopleStart = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            let longest = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            // How far ahead of a record to have read: the longest record and a count before it
            // (or everything, when the writer could not say).
            let reach = peopleStart == .max || longest == .max ? raw.count : Int(longest) + 16
            try buffer.ensure(Int(peopleStart) + reach)
            let reading = CheckedReading(buffer: buffer, reach: reach)
            @Sendable func window(_ position: Int) throws(SnapshotError) -> SnapshotReader {
                try reading.window(position)
            }
            func count(_ r: inout SnapshotReader) throws(SnapshotError) -> Int { try reading.count(&r) }
            var r = try window(modelHeaderBytes)
            var model = ProgrammeReadModel()
            let voided = try readPrefix(&r, into: &model)
            for _ in 0..<(try r.readCount()) { model.swaps[try id(&r)] = try r.readInt() }
            for _ in 0..<(try r.readCount()) {
                let key = DayKey(programme: try id(&r), day: try r.readInt())
                model.dailySessions[key] = DailySessions(
                    sessions: try r.readInt(), minutes: try r.readInt(), online: try r.readInt())
            }
            for _ in 0..<(try r.readCount()) {
                let tandem: TandemID = try id(&r)
                var list: [CheckInView] = []
                for _ in 0..<(try r.readCount()) {
                    list.append(
                        CheckInView(
                            tandem: tandem, participant: try id(&r), rating: try r.readInt(),
                            on: BusinessDate(dayNumber: try r.readInt())))
                }
                model.otherCheckIns[tandem] = list
            }
            for _ in 0..<(try r.readCount()) {
                let run = try readRun(&r)
                model.matchRuns[run.run] = run
            }
            guard r.position == Int(peopleStart) || peopleStart == .max else {
                throw .malformed("the people do not begin where the section says")
            }
            let people = try count(&r)
            // The lookup's tables are the indexes placing every row would build; without
            // them (none written, or damaged) the rows are placed once they are all filed.
            // They are read on a thread of their own while the people are (started first:
            // the system's pool runs two such tasks at once on two cores, and the parts
            // below that start later get threads of their own).
            let lookup = Prefetched { try? Self.indexes(file, header: header) }
            if people >= parallelFrom, let parts = Self.loadParts(file, header: header, people: people) {
                // Each part is read from where the lookup says it begins, on a thread of its
                // own: the second half of the people, the tandems, and their goals and
                // check-ins, while the first half of the people is read here. With the
                // tandems, goals and check-ins on one thread beside the people, that side
                // took longer and a core went idle at the end of every load.
                let (tandemRows, peopleReader) = (model.tandemRows, model.peopleRows)
                let tandems = parts.tandems
                let tandemsLater = Prefetched {
                    Result { () throws(SnapshotError) in
                        try Self.tandems(
                            file, header: header, from: parts.tandemsStart, count: tandems, people: people,
                            into: tandemRows, goalsApart: parts.goals, reach: reach, releaseStep: releaseStep,
                            readAhead: readAhead)
                    }
                }
                let goalsLater = parts.goals.map { goals in
                    Prefetched.onThreadOfItsOwn {
                        Result { () throws(SnapshotError) in
                            try Self.goalsAndCheckIns(
                                file, header: header, goals: goals, tandems: tandems,
                                categories: tandemRows.categories.values.count, people: people, reach: reach,
                                releaseStep: releaseStep, readAhead: readAhead)
                        }
                    }
                }
                let secondLater = parts.secondPeople.map { second in
                    Prefetched.onThreadOfItsOwn {
                        Result { () throws(SnapshotError) -> (PeopleRows, activeTandems: Int32) in
                            let buffer = try file.streamedSectionBuffer(
                                "model", of: header, from: second.start, releaseStep: releaseStep,
                                readAhead: readAhead)
                            let reading = CheckedReading(buffer: buffer, reach: reach)
                            var rows = peopleReader
                            var position = second.start
                            let activeTandems = try Self.people(
                                people - second.row, at: &position, into: &rows, reading: reading)
                            var r = try reading.window(position)
                            guard try reading.count(&r) == tandems, r.position == parts.tandemsStart else {
                                throw .malformed("the tandems do not begin where the lookup says")
                            }
                            return (rows, activeTandems)
                        }
                    }
                }
                let mine = Result { () throws(SnapshotError) -> Int32 in
                    if let second = parts.secondPeople {
                        let activeTandems = try Self.people(
                            second.row, at: &r.position, into: &model.peopleRows, reading: reading)
                        guard r.position == second.start else {
                            throw .malformed("the people's second half does not begin where the lookup says")
                        }
                        return activeTandems
                    }
                    let activeTandems = try Self.people(
                        people, at: &r.position, into: &model.peopleRows, reading: reading)
                    r = try window(r.position)
                    guard try count(&r) == tandems, r.position == parts.tandemsStart else {
                        throw .malformed("the tandems do not begin where the lookup says")
                    }
                    return activeTandems
                }
                // Every part ends before any error is thrown: the other threads' readings
                // stop on their own, and nothing of them outlives this call. Their values
                // are moved out, not copied: a copy would share the rows, and the first
                // change to each chunk would copy it.
                let secondHalf = secondLater?.take()
                let theirs = tandemsLater.take()
                let goalLists = goalsLater?.take()
                var activeTandems = try mine.get()
                if let secondHalf {
                    let (rows, activeInSecond) = try (consume secondHalf).get()
                    model.peopleRows.append(contentsOf: rows)
                    activeTandems = max(activeTandems, activeInSecond)
                }
                var (read, end) = try (consume theirs).get()
                if let goalLists {
                    let (side, sideEnd) = try (consume goalLists).get()
                    read.link(side)
                    end = sideEnd
                }
                model.tandemRows = read
                guard activeTandems < tandems else { throw .malformed("an active tandem that is not in the snapshot") }
                if let indexes = lookup.wait(), indexes.people == people, indexes.tandems == tandems {
                    model.peopleRows.adopt(indexes.peopleIndex)
                    model.tandemRows.adopt(indexes.tandemIndex)
                } else {
                    model.peopleRows.indexRows()
                    model.tandemRows.indexRows()
                }
                guard end == raw.count else { throw .malformed("bytes after the model") }
                return (model, voided)
            }
            // People first, then their tandems, each record read on another thread while the
            // one before is filed here. The reading side keeps its own copy of the tables'
            // dictionaries (taken before the rows grow, so that nothing large is shared).
            let peopleReader = model.peopleRows
            var activeTandems: Int32 = -1
            r.position = try pipelined(
                people, from: r,
                decode: { r throws(SnapshotError) in
                    // Written out for each kind of record: through one generic function
                    // (not specialised here) time travel on the 10M store took a quarter longer.
                    defer { buffer.release(below: r.position) }
                    var checked = try window(r.position)
                    defer { r.position = checked.position }
                    return try peopleReader.readRecord(&checked)
                }
            ) { record throws(SnapshotError) in
                activeTandems = max(activeTandems, record.row.activeTandem)
                model.peopleRows.append(record, indexed: false)
            }
            let indexes = lookup.wait()
            let adopting = indexes.map { $0.people == people } ?? false
            if !adopting { model.peopleRows.indexRows() }
            r = try window(r.position)
            let tandems = try count(&r)
            guard !adopting || indexes!.tandems == tandems else {
                throw .malformed("the lookup does not fit the model")
            }
            guard activeTandems < tandems else { throw .malformed("an active tandem that is not in the snapshot") }
            let tandemReader = model.tandemRows
            if !adopting { model.tandemRows.reserveCapacity(tandems) }
            r.position = try pipelined(
                tandems, from: r,
                decode: { r throws(SnapshotError) in
                    defer { buffer.release(below: r.position) }
                    var checked = try window(r.position)
                    defer { r.position = checked.position }
                    return try tandemReader.readRecord(&checked)
                }
            ) { record throws(SnapshotError) in
                guard record.row.mentor >= 0, record.row.mentor < people, record.row.mentee >= 0,
                    record.row.mentee < people
                else { throw .malformed("a tandem member who is not in the snapshot") }
                model.tandemRows.append(record, indexed: !adopting)
            }
            if let indexes, adopting {
                model.peopleRows.adopt(indexes.peopleIndex)
                model.tandemRows.adopt(indexes.tandemIndex)
            }
            #if DEBUG
                for n in 0..<Int32(people) {
                    assert(model.peopleRows.row(of: model.peopleRows.rows[n].id) == n, "a row the index misses")
                }
            #endif
            try readGoalsAndCheckIns(&r, into: &model.tandemRows, people: people, reading: reading)
            guard r.position == raw.count else { throw .malformed("bytes after the model") }
            return (model, voided)
        }.get()
    }

    /// Reading a section record by record as it is streamed in: each reader sees the bytes
    /// checked so far, having checked as far as the next record may reach (`reach`), so a
    /// record longer than the section says runs past the end of what it sees and is refused;
    /// nothing unchecked is ever read.
    struct CheckedReading: Sendable {
        let buffer: SectionBuffer
        let reach: Int

        /// A reader at `position`.
        func window(_ position: Int) throws(SnapshotError) -> SnapshotReader {
            try buffer.ensure(position + reach)
            return SnapshotReader(UnsafeRawBufferPointer(rebasing: buffer.bytes[..<buffer.filled]), position: position)
        }

        /// A count of records: checked against the whole section (not only what the reader
        /// sees yet), its own bytes read as checked.
        func count(_ r: inout SnapshotReader) throws(SnapshotError) -> Int {
            var whole = SnapshotReader(buffer.bytes, position: r.position)
            let count = try whole.readCount()
            r.position = whole.position
            guard r.position <= buffer.filled else { throw .malformed("a count runs past the end") }
            return count
        }
    }

    /// Reads the goals and the check-ins that follow the tandems into `rows`.
    /// - Throws: `SnapshotError.malformed`.
    static func readGoalsAndCheckIns(
        _ r: inout SnapshotReader, into rows: inout TandemRows, people: Int, reading: CheckedReading
    ) throws(SnapshotError) {
        var side = GoalAndCheckInRows(categories: rows.categories.values.count, tandems: rows.count, people: people)
        r = try reading.window(r.position)
        try side.readGoalLists(try reading.count(&r), at: &r.position, reading: reading)
        r = try reading.window(r.position)
        try side.readCheckInLists(try reading.count(&r), at: &r.position, reading: reading)
        rows.link(side)
    }

    /// Reads the goal lists from where the first begins (`goals.start`, after their count)
    /// and the check-ins after them, to the section's end, with a streamed reading of its own.
    /// - Returns: the lists, and where the section's reading ended.
    /// - Throws: `SnapshotError.malformed`.
    static func goalsAndCheckIns(
        _ file: SnapshotFile, header: SnapshotFile.Header, goals: (start: Int, lists: Int), tandems: Int,
        categories: Int, people: Int, reach: Int, releaseStep: Int, readAhead: Int
    ) throws(SnapshotError) -> (GoalAndCheckInRows, end: Int) {
        let buffer = try file.streamedSectionBuffer(
            "model", of: header, from: goals.start, releaseStep: releaseStep, readAhead: readAhead)
        let reading = CheckedReading(buffer: buffer, reach: reach)
        var side = GoalAndCheckInRows(categories: categories, tandems: tandems, people: people)
        var position = goals.start
        try side.readGoalLists(goals.lists, at: &position, reading: reading)
        var r = try reading.window(position)
        try side.readCheckInLists(try reading.count(&r), at: &r.position, reading: reading)
        return (side, r.position)
    }

    /// From how many people on a load reads the tandems on another core (below, the
    /// thread's start costs more than it saves).
    public static let parallelFrom = 1 << 14

    /// Where a load's parts begin, from the lookup, so that each can be read on a thread of
    /// its own: the people from `secondPeople.row` on (`secondPeople.start`), the tandems,
    /// and the goal lists (after their count), with how many tandems and goal lists there
    /// are. Nil without a lookup that fits `people`. The load checks each against the model
    /// itself: the part before must end where the next begins.
    struct LoadParts {
        var secondPeople: (row: Int, start: Int)?
        var tandemsStart: Int
        var tandems: Int
        var goals: (start: Int, lists: Int)?
    }

    /// The people are split where a chunk of rows begins, so that the two halves' rows join
    /// without a copy (`ChunkedStore.append(contentsOf:)`).
    static let peopleSplitStep = 1 << 14

    /// The parts of a load (`LoadParts`) from the model's lookup; nil without one that fits.
    static func loadParts(_ file: SnapshotFile, header: SnapshotFile.Header, people: Int) -> LoadParts? {
        guard let map = try? MappedFile(path: file.path),
            let section = try? VerifiedSection("lookup", of: header, in: file, map: map),
            let lookup = try? SnapshotLookup.Reader(section), lookup.people == people, lookup.tandems > 0,
            let tandemsStart = try? lookup.tandemStart(0)
        else { return nil }
        var parts = LoadParts(tandemsStart: tandemsStart, tandems: lookup.tandems)
        let half = people / 2 / peopleSplitStep * peopleSplitStep
        if half > 0, let start = try? lookup.personStart(half) { parts.secondPeople = (half, start) }
        // The goal lists are written in row order: the first tandem with one has the first.
        var first: Int?, lists = 0
        for row in 0..<lookup.tandems {
            let start: Int?
            do { start = try lookup.goalsStart(row) } catch { return parts }
            if let start {
                if first == nil { first = start }
                lists += 1
            }
        }
        parts.goals = first.map { ($0, lists) }
        return parts
    }

    /// Reads `count` people's records from `position` on, filing each into `rows` (unindexed)
    /// and giving back the pages behind them.
    /// - Returns: the highest active tandem row named.
    /// - Throws: `SnapshotError.malformed`.
    static func people(
        _ count: Int, at position: inout Int, into rows: inout PeopleRows, reading: CheckedReading
    ) throws(SnapshotError) -> Int32 {
        // A function of its own, on inout values: in the load's closure each access to the
        // captured model was checked for exclusivity at run time. Records are read through
        // a copy of the empty table (its dictionaries): read through the table being filed,
        // a build copied the whole table per record.
        let reader = rows
        var activeTandems: Int32 = -1
        for _ in 0..<count {
            var checked = try reading.window(position)
            let record = try reader.readRecord(&checked)
            position = checked.position
            activeTandems = max(activeTandems, record.row.activeTandem)
            rows.append(record, indexed: false)
            reading.buffer.release(below: position)
        }
        return activeTandems
    }

    /// Reads `count` tandems from `start` in the model section (checking as far as `reach`
    /// past each record, as the load does), then their goals and check-ins, into a copy of
    /// `reader` (the empty table, its dictionaries read), unindexed, with a streamed reading
    /// of its own.
    /// - Returns: the rows, and where the section's reading ended.
    /// - Throws: `SnapshotError.malformed`.
    static func tandems(
        _ file: SnapshotFile, header: SnapshotFile.Header, from start: Int, count: Int, people: Int,
        into reader: TandemRows, goalsApart: (start: Int, lists: Int)? = nil, reach: Int, releaseStep: Int,
        readAhead: Int
    ) throws(SnapshotError) -> (TandemRows, end: Int) {
        // The section's header (the longest record) lies below `start`, where this reading
        // does not go: the reach comes from the load that read it.
        let buffer = try file.streamedSectionBuffer(
            "model", of: header, from: start, releaseStep: releaseStep, readAhead: readAhead)
        let reading = CheckedReading(buffer: buffer, reach: reach)
        // Records are read through the empty table passed in (its dictionaries), not the one
        // being filed (see `model`).
        var rows = reader
        var r = try reading.window(start)
        for _ in 0..<count {
            var checked = try reading.window(r.position)
            let record = try reader.readRecord(&checked)
            r.position = checked.position
            guard record.row.mentor >= 0, record.row.mentor < people, record.row.mentee >= 0,
                record.row.mentee < people
            else { throw .malformed("a tandem member who is not in the snapshot") }
            rows.append(record, indexed: false)
            buffer.release(below: r.position)
        }
        if let goalsApart {
            // Read on another thread (`goalsAndCheckIns`): here only their count, which must
            // be the lookup's and end where it says the first list begins.
            r = try reading.window(r.position)
            guard try reading.count(&r) == goalsApart.lists, r.position == goalsApart.start else {
                throw .malformed("the goals do not begin where the lookup says")
            }
            return (rows, r.position)
        }
        try readGoalsAndCheckIns(&r, into: &rows, people: people, reading: reading)
        return (rows, r.position)
    }

    /// The people's and the tandems' indexes from the lookup section, and how many rows
    /// each holds.
    /// - Throws: `SnapshotError` if there is no lookup or it is damaged.
    static func indexes(
        _ file: SnapshotFile, header: SnapshotFile.Header
    ) throws(SnapshotError) -> (people: Int, peopleIndex: RowIndex, tandems: Int, tandemIndex: RowIndex) {
        let map: MappedFile
        do { map = try MappedFile(path: file.path) } catch { throw .malformed("cannot be read") }
        let lookup = try SnapshotLookup.Reader(try VerifiedSection("lookup", of: header, in: file, map: map))
        return (lookup.people, try lookup.peopleIndex(), lookup.tandems, try lookup.tandemIndex())
    }

    /// Reads `count` records from `reader` on another thread, in batches, while `consume`
    /// files each here, in order: on two cores, making a record's strings and filing it into
    /// the model's tables overlap. A few records are read here.
    /// - Returns: the position after the last record.
    /// - Throws: the first `SnapshotError` of either side; the reading thread has stopped by
    ///   then (the bytes it reads stay valid only during this call).
    static func pipelined<Item: Sendable>(
        _ count: Int, from reader: SnapshotReader, inlineBelow: Int = 1 << 12,
        decode: @escaping @Sendable (inout SnapshotReader) throws(SnapshotError) -> Item,
        consume: (Item) throws(SnapshotError) -> Void
    ) throws(SnapshotError) -> Int {
        var r = reader
        guard count >= inlineBelow else {
            for _ in 0..<count { try consume(try decode(&r)) }
            return r.position
        }
        let channel = BatchChannel<Item>(capacity: 8)
        let shared = SharedReader(reader: reader)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { stopped.signal() }
            var r = shared.reader
            var batch: [Item] = []
            batch.reserveCapacity(1024)
            do {
                for _ in 0..<count {
                    batch.append(try decode(&r))
                    if batch.count == 1024 {
                        guard channel.send(batch) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty, !channel.send(batch) { return }
                shared.end = r.position
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        defer { stopped.wait() }
        do {
            while let batch = try channel.receive() {
                for item in batch { try consume(item) }
            }
        } catch let error as SnapshotError {
            channel.cancel()
            throw error
        } catch {
            channel.cancel()
            throw .malformed("\(error)")
        }
        return shared.end
    }

    /// The reader handed to the reading thread, and where it ended (written before the
    /// channel's end, read after it).
    private final class SharedReader: @unchecked Sendable {
        let reader: SnapshotReader
        var end = 0
        init(reader: SnapshotReader) { self.reader = reader }
    }

    // MARK: Encoding

    static func writeProgrammes(_ model: ProgrammeReadModel, into w: inout SnapshotWriter) {
        w.write(UInt64(model.programmeOrder.count))
        for id in model.programmeOrder {
            let p = model.programmes[id]!
            w.write(p.id.rawValue)
            w.write(p.name)
            w.write(p.starts.dayNumber)
            w.write(p.ends.dayNumber)
            w.write(p.cadenceDays)
            w.write(p.minGroupSize)
            w.write(p.closedOn?.dayNumber)
        }
        w.write(model.latestBusinessDate?.dayNumber)
    }

    static func write(_ run: MatchRunView, into w: inout SnapshotWriter) {
        w.write(run.run.rawValue)
        w.write(run.programme.rawValue)
        w.write(run.on.dayNumber)
        w.write(run.mentors)
        w.write(run.mentees)
        w.write(run.proposedPairs)
    }

    /// A JSON value with its type kept (an integer stays an integer, a double a double).
    static func write(_ value: JSONValue, into w: inout SnapshotWriter) {
        switch value {
        case .null: w.write(0)
        case .bool(let b):
            w.write(1)
            w.write(b)
        case .int(let i):
            w.write(2)
            w.write(Int(i))
        case .double(let d):
            w.write(3)
            w.write(d.bitPattern)
        case .string(let s):
            w.write(4)
            w.write(s)
        case .array(let items):
            w.write(5)
            w.write(UInt64(items.count))
            for item in items { write(item, into: &w) }
        case .object(let object):
            w.write(6)
            w.write(UInt64(object.members.count))
            for (key, item) in object.members {
                w.write(key)
                write(item, into: &w)
            }
        }
    }

    // MARK: Decoding

    static func readValue(_ r: inout SnapshotReader, depth: Int = 0) throws(SnapshotError) -> JSONValue {
        guard depth < 32 else { throw .malformed("values nested too deep") }
        switch try r.readInt() {
        case 0: return .null
        case 1: return .bool(try r.readBool())
        case 2: return .int(Int64(try r.readInt()))
        case 3: return .double(Double(bitPattern: try r.readUInt64()))
        case 4: return .string(try r.readString())
        case 5:
            var items: [JSONValue] = []
            for _ in 0..<(try r.readCount()) { items.append(try readValue(&r, depth: depth + 1)) }
            return .array(items)
        case 6:
            var object = JSONObject()
            for _ in 0..<(try r.readCount()) {
                let key = try r.readString()
                object[key] = try readValue(&r, depth: depth + 1)
            }
            return .object(object)
        default: throw .malformed("a value of unknown type")
        }
    }

    /// Reads what the whole model and a slice both read first: the programmes, the voids
    /// honoured, and the dictionaries the rows number things by.
    /// - Returns: the voids (voided seq → the void's seq).
    static func readPrefix(
        _ r: inout SnapshotReader, into model: inout ProgrammeReadModel
    ) throws(SnapshotError) -> [Int: Int] {
        try readProgrammes(&r, into: &model)
        var voided: [Int: Int] = [:]
        for _ in 0..<(try r.readCount()) {
            let seq = try r.readInt()
            voided[seq] = try r.readInt()
        }
        try model.peopleRows.readDictionaries(&r)
        try model.tandemRows.readDictionaries(&r)
        return voided
    }

    static func readProgrammes(_ r: inout SnapshotReader, into model: inout ProgrammeReadModel) throws(SnapshotError) {
        for _ in 0..<(try r.readCount()) {
            let id: ProgrammeID = try id(&r)
            let name = try r.readString()
            let starts = BusinessDate(dayNumber: try r.readInt()), ends = BusinessDate(dayNumber: try r.readInt())
            model.programmes[id] = Programme(
                id: id, name: name, starts: starts, ends: ends, cadenceDays: try r.readInt(),
                minGroupSize: try r.readInt())
            model.programmes[id]?.closedOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            model.programmeOrder.append(id)
        }
        model.latestBusinessDate = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
    }

    static func readRun(_ r: inout SnapshotReader) throws(SnapshotError) -> MatchRunView {
        let run: MatchRunID = try id(&r)
        let programme: ProgrammeID = try id(&r)
        return MatchRunView(
            run: run, programme: programme, on: BusinessDate(dayNumber: try r.readInt()), mentors: try r.readInt(),
            mentees: try r.readInt(), proposedPairs: try r.readInt())
    }

    static func id<Kind>(_ r: inout SnapshotReader) throws(SnapshotError) -> Identifier<Kind> {
        let text = try r.readString()
        guard let id = Identifier<Kind>(text) else { throw .malformed("an invalid \(Kind.noun) id") }
        return id
    }

    static func reason(_ text: String?) throws(SnapshotError) -> ReasonCode? {
        guard let text else { return nil }
        guard let code = ReasonCode(rawValue: text) else { throw .malformed("an unknown reason code") }
        return code
    }

    static func status(_ text: String) throws(SnapshotError) -> TandemStatus {
        guard let status = TandemStatus(rawValue: text) else { throw .malformed("an unknown tandem status") }
        return status
    }
}

/// What each core made of a chunk of records (`ProjectionSnapshot.write`): each core sets
/// its own slot, and the writer reads both once the cores are done.
private final class RecordChunks: Sendable {
    private let slots = Mutex<[([UInt8], [(row: Int32, at: Int)], Int)]>(Array(repeating: ([], [], 0), count: 2))

    func set(_ k: Int, _ value: ([UInt8], [(row: Int32, at: Int)], Int)) {
        slots.withLock { $0[k] = value }
    }

    func get(_ k: Int) -> ([UInt8], [(row: Int32, at: Int)], Int) {
        slots.withLock { $0[k] }
    }
}
