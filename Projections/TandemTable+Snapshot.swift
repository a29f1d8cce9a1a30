import EventLog
import Mentoring

/// The tandems' and goals' rows in the projections snapshot's `model` section, written as
/// they are held (see `PeopleRows.writeRecord`).
///
/// The dictionaries (programmes, match runs, goal categories) come first, in the section's
/// prefix; then one record per tandem: id · programme number · mentor row · mentee row ·
/// status · end reason · since · until · last session · sessions · minutes · goals set ·
/// goals reached · run number (−1: none) · origin (0 matched, 1 matched by an override and
/// its text, 2 a swap, the tandem it came from and the reason). Each goal: id · category
/// number (0: none) · set · due · reached · the text ref as a word or as text.
extension TandemRows {
    /// Writes the tables the rows number their programmes, runs and categories by.
    func writeDictionaries(into w: inout SnapshotWriter) {
        for table in [programmes.values.map(\.rawValue), runs.values.map(\.rawValue), categories.values] {
            w.write(UInt64(table.count))
            for value in table { w.write(value) }
        }
    }

    /// Reads the tables `writeDictionaries` wrote, into an empty table.
    /// - Throws: `SnapshotError.malformed` for an invalid id or a value listed twice.
    mutating func readDictionaries(_ r: inout SnapshotReader) throws(SnapshotError) {
        assert(rows.count == 0, "dictionaries are read into an empty table")
        var programmeIDs: [ProgrammeID] = [], runIDs: [MatchRunID] = [], categoryNames: [String] = []
        for _ in 0..<(try r.readCount()) { programmeIDs.append(try ProjectionSnapshot.id(&r)) }
        for _ in 0..<(try r.readCount()) { runIDs.append(try ProjectionSnapshot.id(&r)) }
        for _ in 0..<(try r.readCount()) { categoryNames.append(try r.readString()) }
        guard let programmes = Interned(values: programmeIDs), let runs = Interned(values: runIDs),
            let categories = Interned(values: categoryNames)
        else { throw .malformed("a dictionary lists a value twice") }
        (self.programmes, self.runs, self.categories) = (programmes, runs, categories)
    }

    /// Writes row `number` as one record (its goals are written by `writeGoals`).
    func writeRecord(_ number: Int32, into w: inout SnapshotWriter) {
        let r = rows[number]
        w.write(r.id.rawValue)
        w.write(UInt64(r.programme))
        w.write(Int(r.mentor))
        w.write(Int(r.mentee))
        w.write(UInt64(r.status))
        w.write(UInt64(r.endReason))
        for value in [r.since, r.until, r.lastSession, r.sessions, r.minutes, r.goalsSet, r.goalsReached, r.run] {
            w.write(Int(value))
        }
        if let swap = swaps[number] {
            w.write(2)
            w.write(swap.from.rawValue)
            w.write(swap.reason.rawValue)
        } else if let override = overrides[number] {
            w.write(1)
            w.write(override)
        } else {
            w.write(0)
        }
    }

    /// A tandem's record as read: the row (its goals not linked yet) and what it keeps
    /// beside the row.
    struct Record: Sendable {
        var row: Row
        var override: String?
        var swap: (from: TandemID, reason: ReasonCode)?
    }

    // Constants: `allCases.count` fetched the cases' array, called for its count and
    // released it, for every record read.
    private static let statuses = UInt64(TandemStatus.allCases.count)
    private static let reasons = UInt64(ReasonCode.allCases.count)

    /// Reads one record, checking every number against these dictionaries (its members'
    /// rows are checked by the caller, who knows how many people there are).
    /// - Throws: `SnapshotError.malformed`.
    func readRecord(_ r: inout SnapshotReader) throws(SnapshotError) -> Record {
        guard let id = TandemID(bytes: try r.readStringBytes()) else { throw .malformed("an invalid tandem id") }
        let programme = try r.readUInt64()
        guard programme < UInt64(programmes.values.count) else { throw .malformed("a tandem of an unknown programme") }
        let mentor = try r.readInt32(), mentee = try r.readInt32()
        let status = try r.readUInt64(), endReason = try r.readUInt64()
        guard (1...Self.statuses).contains(status), endReason <= Self.reasons
        else { throw .malformed("a tandem's status or reason is out of range") }
        var record = Record(
            row: Row(
                id: id, mentor: mentor, mentee: mentee, minutes: 0, since: try r.readInt32(),
                until: try r.readInt32(), lastSession: try r.readInt32(), sessions: 0, goalsSet: 0, goalsReached: 0,
                firstGoal: -1, lastGoal: -1,
                run: -1, programme: UInt32(programme), status: UInt8(status), endReason: UInt8(endReason)))
        record.row.sessions = try r.readInt32()
        record.row.minutes = try r.readInt32()
        record.row.goalsSet = try r.readInt32()
        record.row.goalsReached = try r.readInt32()
        record.row.run = try r.readInt32()
        guard record.row.run >= -1, record.row.run < Int32(runs.values.count) else {
            throw .malformed("a tandem of an unknown match run")
        }
        switch try r.readInt() {
        case 0: break
        case 1: record.override = try r.readString()
        case 2:
            let from: TandemID = try ProjectionSnapshot.id(&r)
            guard let reason = ReasonCode(rawValue: try r.readString()) else {
                throw .malformed("a swap without a known reason")
            }
            record.swap = (from, reason)
        default: throw .malformed("a tandem of an unknown origin")
        }
        return record
    }

    /// Files a record read by `readRecord` (of a tandem not here yet) as the next row.
    /// - Returns: its row.
    /// With `indexed` false the index is left as it is, for `adopt` to replace once every
    /// row is here.
    @discardableResult
    mutating func append(_ record: Record, indexed: Bool = true) -> Int32 {
        assert(row(of: record.row.id) == nil, "a record of a tandem already here")
        let number = rows.append(row: record.row)
        if let override = record.override { overrides[number] = override }
        if let swap = record.swap { swaps[number] = swap }
        if indexed {
            let rows = self.rows
            index.insert(row: number, hash: Self.hash(record.row.id)) { Self.hash(rows[$0].id) }
        }
        return number
    }

    /// Indexes every row, in order: what appending each with `indexed: true` builds (rows
    /// filed before it is known whether the snapshot's lookup can be adopted).
    mutating func indexRows() {
        let rows = self.rows
        index = RowIndex.ofRows(rows.count) { Self.hash(rows[$0].id) }
    }

    /// Takes `index` (the snapshot lookup's table of these rows) as the index: what placing
    /// every row again would build.
    mutating func adopt(_ index: RowIndex) {
        self.index = index
        #if DEBUG
            for n in 0..<Int32(rows.count) { assert(row(of: rows[n].id) == n, "an adopted index that misses a row") }
        #endif
    }

    /// Writes tandem `number`'s goals, in the order they were set: their count, then each.
    func writeGoals(of number: Int32, into w: inout SnapshotWriter) {
        var count = 0
        var g = rows[number].firstGoal
        while g >= 0 {
            count += 1
            g = goalRows[g].next
        }
        w.write(UInt64(count))
        g = rows[number].firstGoal
        while g >= 0 {
            let goal = goalRows[g]
            w.write(goal.goal.rawValue)
            w.write(UInt64(goal.category))
            for day in [goal.set, goal.due, goal.reached] { w.write(Int(day)) }
            w.write(goal.packedRef)
            if goal.packedRef {
                w.writeWord(goal.textRef)
            } else {
                w.write(otherTextRefs[g] ?? "")
            }
            g = goal.next
        }
    }

    /// Reads the goals `writeGoals` wrote and appends them to tandem `number`'s (empty) list.
    /// - Throws: `SnapshotError.malformed`.
    mutating func readGoals(_ r: inout SnapshotReader, into number: Int32) throws(SnapshotError) {
        for _ in 0..<(try r.readCount()) {
            let (goal, other) = try Self.readGoal(&r, categories: categories.values.count)
            appendGoal(goal, otherTextRef: other, to: number)
        }
    }

    /// Reads one goal as `writeGoals` wrote it (its `next` not linked yet), and its text ref
    /// when that does not pack; `categories` is how many the dictionary holds.
    /// - Throws: `SnapshotError.malformed`.
    static func readGoal(
        _ r: inout SnapshotReader, categories: Int
    ) throws(SnapshotError) -> (GoalRow, otherTextRef: String?) {
        guard let goal = GoalID(bytes: try r.readStringBytes()) else { throw .malformed("an invalid goal id") }
        let category = try r.readUInt64()
        guard category <= UInt64(categories) else { throw .malformed("a goal of an unknown category") }
        let set = try r.readInt32(), due = try r.readInt32(), reached = try r.readInt32()
        let packed = try r.readBool()
        let textRef = packed ? try r.readWord() : 0
        let other = packed ? nil : try r.readString()
        return (
            GoalRow(
                goal: goal, textRef: textRef, set: set, due: due, reached: reached, next: -1,
                category: UInt32(category), packedRef: packed), other
        )
    }

    /// Writes tandem `number`'s check-ins in the order recorded: their count, then each
    /// member's people row, rating and day.
    func writeCheckIns(of number: Int32, into w: inout SnapshotWriter) {
        let list = checkInRows(of: number)
        w.write(UInt64(list.count))
        for checkIn in list {
            w.write(Int(checkIn.participant))
            w.write(Int(checkIn.rating))
            w.write(Int(checkIn.on))
        }
    }

    /// Reads the check-ins `writeCheckIns` wrote, each naming its member by the people row
    /// as written (a slice maps them to its own rows).
    /// - Throws: `SnapshotError.malformed`.
    static func readCheckInList(_ r: inout SnapshotReader) throws(SnapshotError) -> [CheckInRow] {
        var list: [CheckInRow] = []
        for _ in 0..<(try r.readCount()) {
            let participant = try r.readInt32(), rating = try r.readInt32(), on = try r.readInt32()
            list.append(CheckInRow(participant: participant, on: on, rating: rating, previous: -1))
        }
        return list
    }
}

/// The goals and check-ins of a model section, read apart from their tandems' rows (so that
/// a load can read them on another core while the tandems are read), then linked into
/// them by `TandemRows.link(_:)`.
///
/// Each tandem's goals are one list in the section, in the order set; its check-ins one
/// list, in the order recorded.
struct GoalAndCheckInRows: Sendable {
    var goalRows = ChunkedRows<TandemRows.GoalRow>()
    var otherTextRefs: [Int32: String] = [:]
    var checkInRows = ChunkedRows<TandemRows.CheckInRow>()
    /// Per tandem row: its first goal, its last goal and its last check-in (−1: none).
    var firstGoal: [Int32], lastGoal: [Int32], lastCheckIn: [Int32]
    var tandemsWithGoals = 0, tandemsWithCheckIns = 0
    /// How many categories, tandems and people the model has (what the records are checked
    /// against).
    let categories: Int, tandems: Int, people: Int

    init(categories: Int, tandems: Int, people: Int) {
        (self.categories, self.tandems, self.people) = (categories, tandems, people)
        firstGoal = [Int32](repeating: -1, count: tandems)
        lastGoal = firstGoal
        lastCheckIn = firstGoal
    }

    /// Reads `count` tandems' goal lists (each: the tandem's row, then its goals).
    /// - Throws: `SnapshotError.malformed` for a list of an unknown tandem, one listed twice,
    ///   or a goal that does not read.
    mutating func readGoalLists(
        _ count: Int, at position: inout Int, reading: ProjectionSnapshot.CheckedReading
    ) throws(SnapshotError) {
        try readLists(count, of: "goals", at: &position, reading: reading, listed: { $0.firstGoal[$1] >= 0 }) {
            side, r, row throws(SnapshotError) in
            let (goal, other) = try TandemRows.readGoal(&r, categories: side.categories)
            let g = side.goalRows.append(row: goal)
            if let other { side.otherTextRefs[g] = other }
            if side.lastGoal[row] >= 0 { side.goalRows[side.lastGoal[row]].next = g } else { side.firstGoal[row] = g }
            side.lastGoal[row] = g
        }
        tandemsWithGoals += count
    }

    /// Reads `count` tandems' check-in lists (each: the tandem's row, then its check-ins, each
    /// member by people row).
    /// - Throws: `SnapshotError.malformed` for a list of an unknown tandem, one listed twice,
    ///   or a check-in by someone who is not in the model.
    mutating func readCheckInLists(
        _ count: Int, at position: inout Int, reading: ProjectionSnapshot.CheckedReading
    ) throws(SnapshotError) {
        try readLists(count, of: "check-ins", at: &position, reading: reading, listed: { $0.lastCheckIn[$1] >= 0 }) {
            side, r, row throws(SnapshotError) in
            let participant = try r.readInt()
            guard participant >= 0, participant < side.people else { throw .malformed("a check-in by someone unknown") }
            let rating = try r.readInt32(), on = try r.readInt32()
            side.lastCheckIn[row] = side.checkInRows.append(
                row: .init(participant: Int32(participant), on: on, rating: rating, previous: side.lastCheckIn[row]))
        }
        tandemsWithCheckIns += count
    }

    /// Reads `count` lists, each a tandem's row, how many items, and the items (`item` reads
    /// one), refusing a list of an unknown tandem, one `listed` already, and an empty one.
    private mutating func readLists(
        _ count: Int, of what: String, at position: inout Int, reading: ProjectionSnapshot.CheckedReading,
        listed: (Self, Int) -> Bool,
        item: (inout Self, inout SnapshotReader, Int) throws(SnapshotError) -> Void
    ) throws(SnapshotError) {
        for _ in 0..<count {
            var r = try reading.window(position)
            let row = try r.readInt()
            guard row >= 0, row < tandems, !listed(self, row) else {
                throw .malformed("\(what) of an unknown tandem, or listed twice")
            }
            let items = try r.readCount()
            guard items > 0 else { throw .malformed("an empty list of \(what)") }
            for _ in 0..<items { try item(&self, &r, row) }
            position = r.position
            reading.buffer.release(below: position)
        }
    }
}

extension TandemRows {
    /// Takes goals and check-ins read apart as the tandems' own (the table has none yet).
    mutating func link(_ side: consuming GoalAndCheckInRows) {
        precondition(side.tandems == rows.count, "goals read for another number of tandems")
        assert(goalRows.count == 0 && checkInRows.count == 0, "linked into a table without goals or check-ins")
        for number in 0..<Int32(rows.count) where side.firstGoal[Int(number)] >= 0 || side.lastCheckIn[Int(number)] >= 0
        {
            let n = Int(number)
            rows[number].firstGoal = side.firstGoal[n]
            rows[number].lastGoal = side.lastGoal[n]
            rows[number].lastCheckIn = side.lastCheckIn[n]
        }
        goalRows = side.goalRows
        otherTextRefs = side.otherTextRefs
        checkInRows = side.checkInRows
        tandemsWithGoals = side.tandemsWithGoals
        tandemsWithCheckIns = side.tandemsWithCheckIns
    }
}
