import Mentoring

/// Every tandem of the read model and its goals, stored compactly (see `PeopleRows`): a
/// tandem row of 72 bytes (the two members as their people rows), a goal row of 48, each
/// tandem's goals linked in the order they were set. `TandemTable` and `GoalLists` are the
/// public faces, handing out `TandemView` and `GoalView` values.
struct TandemRows: Sendable {
    struct Row: Sendable {
        var id: TandemID
        /// The members' people rows.
        var mentor: Int32
        var mentee: Int32
        var minutes: Int32
        var since: Int32
        var until: Int32
        var lastSession: Int32
        var sessions: Int32
        var goalsSet: Int32
        var goalsReached: Int32
        /// The first and the last of its goals (−1: none).
        var firstGoal: Int32
        var lastGoal: Int32
        /// Its latest check-in (−1: none); each links to the one before.
        var lastCheckIn: Int32 = -1
        /// The match run it followed (−1: none); swaps and overrides are in side tables.
        var run: Int32
        var programme: UInt32
        var status: UInt8
        var endReason: UInt8
    }

    struct GoalRow: Sendable {
        var goal: GoalID
        var textRef: UInt64
        var set: Int32
        var due: Int32
        var reached: Int32
        /// The next goal of the same tandem (−1: none).
        var next: Int32
        /// The category's number + 1 (0: none).
        var category: UInt32
        /// Whether `textRef` is packed (else the ref is in `otherTextRefs`).
        var packedRef: Bool
    }

    // Internal, not private: the snapshot's codec (TandemTable+Snapshot.swift) writes and
    // reads them as they are.
    var rows = ChunkedRows<Row>()
    var index = RowIndex()
    var goalRows = ChunkedRows<GoalRow>()
    var programmes = Interned<ProgrammeID>()
    var runs = Interned<MatchRunID>()
    var categories = Interned<String>()
    var overrides: [Int32: String] = [:]
    var swaps: [Int32: (from: TandemID, reason: ReasonCode)] = [:]
    var otherTextRefs: [Int32: String] = [:]
    /// How many tandems have at least one goal.
    var tandemsWithGoals = 0
    /// Check-ins, linked per tandem from its latest back (16 bytes each; as a dictionary of
    /// arrays of views, the 10M store's check-ins took 70 MB and a tenth of a load).
    var checkInRows = ChunkedRows<CheckInRow>()
    /// How many tandems have at least one check-in.
    var tandemsWithCheckIns = 0

    /// A member's check-in: their people row, the day and the rating.
    struct CheckInRow: Sendable {
        var participant: Int32
        var on: Int32
        var rating: Int32
        /// The tandem's check-in before (−1: none).
        var previous: Int32
    }

    /// How many tandems there are.
    var count: Int { rows.count }

    /// A tandem's id.
    func id(ofRow number: Int32) -> TandemID { rows[number].id }

    /// The rows of a programme's (or every) tandems, in id order.
    func rowsInIDOrder(programme: ProgrammeID?) -> [Int32] {
        let wanted = programme.map { programmes.existingNumber($0).map(UInt32.init) ?? .max }
        return rows.numbers(naturallySortedBy: \.id.rawValue) { wanted == nil || $0.programme == wanted! }
    }

    /// Adds a tandem, or replaces the one with the same id (its goals stay); `mentor` and
    /// `mentee` are the members' people rows (their ids in `tandem` are not looked at).
    /// - Returns: its row.
    @discardableResult
    mutating func upsert(_ tandem: TandemView, mentor: Int32, mentee: Int32) -> Int32 {
        if let existing = row(of: tandem.id) {
            var row = makeRow(tandem, number: existing, mentor: mentor, mentee: mentee)
            row.firstGoal = rows[existing].firstGoal
            row.lastGoal = rows[existing].lastGoal
            row.lastCheckIn = rows[existing].lastCheckIn
            rows[existing] = row
            return existing
        }
        return appendNew(tandem, mentor: mentor, mentee: mentee)
    }

    /// Adds a tandem known not to be here yet (a snapshot's rows, each written once): no
    /// lookup first.
    /// - Returns: its row.
    @discardableResult
    mutating func appendNew(_ tandem: TandemView, mentor: Int32, mentee: Int32) -> Int32 {
        assert(row(of: tandem.id) == nil, "appendNew of a tandem already here")
        let number = Int32(rows.count)
        rows.append(makeRow(tandem, number: number, mentor: mentor, mentee: mentee))
        let rows = self.rows
        index.insert(row: number, hash: Self.hash(tandem.id)) { Self.hash(rows[$0].id) }
        return number
    }

    /// Room for `count` tandems without the index growing.
    mutating func reserveCapacity(_ count: Int) {
        let rows = self.rows
        index.reserveCapacity(count) { Self.hash(rows[$0].id) }
    }

    /// The index's hash of an id: the snapshot lookup's (stable across processes), so that
    /// a load can take the lookup's slots as the index.
    static func hash(_ id: TandemID) -> Int { Int(truncatingIfNeeded: StableHash.fnv1a(id.rawValue)) }

    /// Asks the CPU for what finding the row of an id of this `hash` will read
    /// (`RowIndex.prefetch`).
    @inline(__always)
    func prefetch(hash: Int, stage: PrefetchStage) { index.prefetch(hash: hash, stage: stage, in: rows) }

    /// The row number of a tandem.
    func row(of id: TandemID) -> Int32? {
        index.find(hash: Self.hash(id)) { rows[$0].id == id }
    }

    /// A tandem's row, read.
    func row(_ number: Int32) -> Row { rows[number] }

    /// Changes a tandem's row in place.
    mutating func update(_ number: Int32, _ change: (inout Row) -> Void) {
        change(&rows[number])
    }

    /// Appends a goal to a tandem's list.
    mutating func appendGoal(_ goal: GoalView, to number: Int32) {
        let packed = goal.textVaultRef.packed
        appendGoal(
            GoalRow(
                goal: goal.goal, textRef: packed ?? 0, set: Int32(clamping: goal.set.dayNumber), due: goal.due.stored,
                reached: goal.reached.stored, next: -1,
                category: goal.category.map { UInt32(categories.number($0) + 1) } ?? 0, packedRef: packed != nil),
            otherTextRef: packed == nil ? goal.textRef : nil, to: number)
    }

    /// Appends a goal's row (its `next` is set here) to a tandem's list; `otherTextRef` is
    /// its text ref when the row's is not packed.
    mutating func appendGoal(_ goal: GoalRow, otherTextRef: String?, to number: Int32) {
        let g = goalRows.append(row: goal)
        if let otherTextRef { otherTextRefs[g] = otherTextRef }
        if rows[number].lastGoal >= 0 {
            goalRows[rows[number].lastGoal].next = g
        } else {
            rows[number].firstGoal = g
            tandemsWithGoals += 1
        }
        rows[number].lastGoal = g
    }

    /// Appends a check-in (its `previous` is set here) to tandem `number`'s.
    mutating func appendCheckIn(_ checkIn: CheckInRow, to number: Int32) {
        var checkIn = checkIn
        checkIn.previous = rows[number].lastCheckIn
        if checkIn.previous < 0 { tandemsWithCheckIns += 1 }
        rows[number].lastCheckIn = checkInRows.append(row: checkIn)
    }

    /// Whether a member's latest check-in of tandem `number` rated it 2 or less: latest by
    /// business day, and of one day the last recorded, as `ProgrammeReadModel.latestCheckIns`
    /// takes them (read from the rows, no view made).
    func latestCheckInRatedLow(_ number: Int32) -> Bool {
        // Walked from the last recorded back: a member's first seen is kept unless an
        // earlier-recorded one is of a later day.
        var latest: [(participant: Int32, on: Int32, rating: Int32)] = []
        var c = rows[number].lastCheckIn
        while c >= 0 {
            let r = checkInRows[c]
            if let i = latest.firstIndex(where: { $0.participant == r.participant }) {
                if r.on > latest[i].on { latest[i] = (r.participant, r.on, r.rating) }
            } else {
                latest.append((r.participant, r.on, r.rating))
            }
            c = r.previous
        }
        return latest.contains { $0.rating <= 2 }
    }

    /// Tandem `number`'s check-in rows in the order recorded (the links run from the latest).
    func checkInRows(of number: Int32) -> [CheckInRow] {
        var list: [CheckInRow] = []
        var c = rows[number].lastCheckIn
        while c >= 0 {
            list.append(checkInRows[c])
            c = checkInRows[c].previous
        }
        return list.reversed()
    }

    /// Tandem `number`'s check-ins in the order recorded, their members named by `people`.
    func checkIns(of number: Int32, people: PeopleRows) -> [CheckInView] {
        checkInRows(of: number).map { r in
            CheckInView(
                tandem: rows[number].id, participant: people.id(ofRow: r.participant), rating: Int(r.rating),
                on: BusinessDate(dayNumber: Int(r.on)))
        }
    }

    /// Marks a tandem's goal reached, if it is there and not reached yet; returns whether it was.
    mutating func reach(_ goal: GoalID, of number: Int32, on date: BusinessDate) -> Bool {
        var g = rows[number].firstGoal
        while g >= 0 {
            if goalRows[g].goal == goal {
                guard goalRows[g].reached == .min else { return false }
                goalRows[g].reached = Int32(clamping: date.dayNumber)
                return true
            }
            g = goalRows[g].next
        }
        return false
    }

    /// A tandem's goals in the order they were set; nil if it has none.
    /// How many goals tandem `number` has.
    /// Calls `body` with the day each reached goal of tandem `number` was reached, in the
    /// order the goals were set (no goal's view is made).
    func forEachReachedGoal(of number: Int32, _ body: (BusinessDate) throws -> Void) rethrows {
        var g = rows[number].firstGoal
        while g >= 0 {
            if let reached = BusinessDate?(stored: goalRows[g].reached) { try body(reached) }
            g = goalRows[g].next
        }
    }

    /// The rows of a programme's tandems, in row order (the order they began).
    func rows(in programme: ProgrammeID) -> [Int32] {
        guard let wanted = programmes.existingNumber(programme).map(UInt32.init) else { return [] }
        return rows.numbers { $0.programme == wanted }
    }

    func goalCount(of number: Int32) -> Int {
        var n = 0
        var g = rows[number].firstGoal
        while g >= 0 {
            n += 1
            g = goalRows[g].next
        }
        return n
    }

    func goals(of number: Int32) -> [GoalView]? {
        let tandem = rows[number].id
        var out: [GoalView] = []
        var g = rows[number].firstGoal
        while g >= 0 {
            let r = goalRows[g]
            out.append(
                GoalView(
                    tandem: tandem, goal: r.goal,
                    category: r.category == 0 ? nil : categories.values[Int(r.category) - 1],
                    set: BusinessDate(dayNumber: Int(r.set)), due: BusinessDate?(stored: r.due),
                    reached: BusinessDate?(stored: r.reached),
                    textVaultRef: r.packedRef ? .packed(r.textRef) : VaultRef(otherTextRefs[g]!)))
            g = r.next
        }
        return out.isEmpty ? nil : out
    }

    /// The tandems of some programmes as the headline figures count them, read from the
    /// rows (no view is made): their row numbers in order, how many are active, completed and
    /// dissolved and came from a swap, and their sessions (of all, and of the active ones),
    /// minutes and goals.
    /// - Parameter members: with a segment, which people rows are in it (by row): only the
    ///   tandems with a member among them are counted.
    func headline(
        in wanted: Set<ProgrammeID>, collectingRows: Bool = true, members: [Bool]? = nil
    ) -> StatsQuery.TandemCounts {
        let numbers = programmes.mask(of: wanted)
        var counts = StatsQuery.TandemCounts()
        counts.collectsRows = collectingRows
        // Room for every row at once: grown by doubling, half a million ids peaked at 25 MB.
        if collectingRows { counts.rows.reserveCapacity(rows.count) }
        // Which rows came from a swap, as flags: a dictionary lookup for every row was a
        // tenth of the headline.
        var swapped = [Bool](repeating: false, count: swaps.isEmpty ? 0 : rows.count)
        for number in swaps.keys { swapped[Int(number)] = true }
        for number in 0..<Int32(rows.count) {
            let r = rows[number]
            guard numbers.contains(r.programme) else { continue }
            if let members, !(members[Int(r.mentor)] || members[Int(r.mentee)]) { continue }
            counts.add(
                number, status: TandemStatus?(stored: r.status) ?? .active, sessions: Int(r.sessions),
                minutes: Int(r.minutes), goalsSet: Int(r.goalsSet), goalsReached: Int(r.goalsReached),
                isSwap: !swapped.isEmpty && swapped[Int(number)])
        }
        return counts
    }

    /// A tandem as the reports see it; `people` names its members.
    func view(_ number: Int32, people: PeopleRows) -> TandemView {
        let r = rows[number]
        let origin: TandemOrigin
        if let swap = swaps[number] {
            origin = .swap(from: swap.from, reason: swap.reason)
        } else {
            origin = .matched(run: r.run < 0 ? nil : runs.values[Int(r.run)], override: overrides[number])
        }
        var t = TandemView(
            id: r.id, programme: programmes.values[Int(r.programme)], mentor: people.id(ofRow: r.mentor),
            mentee: people.id(ofRow: r.mentee),
            status: TandemStatus?(stored: r.status) ?? .active, since: BusinessDate(dayNumber: Int(r.since)),
            until: BusinessDate?(stored: r.until), sessions: Int(r.sessions), minutes: Int(r.minutes),
            lastSession: BusinessDate?(stored: r.lastSession), goalsSet: Int(r.goalsSet),
            goalsReached: Int(r.goalsReached),
            origin: origin)
        t.endReason = ReasonCode?(stored: r.endReason)
        return t
    }

    private mutating func makeRow(_ t: TandemView, number: Int32, mentor: Int32, mentee: Int32) -> Row {
        var run: Int32 = -1
        overrides[number] = nil
        swaps[number] = nil
        switch t.origin {
        case .matched(let r, let override):
            if let r { run = Int32(runs.number(r)) }
            if let override { overrides[number] = override }
        case .swap(let from, let reason):
            swaps[number] = (from, reason)
        }
        return Row(
            id: t.id, mentor: mentor, mentee: mentee, minutes: Int32(clamping: t.minutes),
            since: Int32(clamping: t.since.dayNumber),
            until: t.until.stored, lastSession: t.lastSession.stored, sessions: Int32(clamping: t.sessions),
            goalsSet: Int32(clamping: t.goalsSet), goalsReached: Int32(clamping: t.goalsReached), firstGoal: -1,
            lastGoal: -1,
            run: run, programme: UInt32(programmes.number(t.programme)), status: TandemStatus?(t.status).stored,
            endReason: t.endReason.stored)
    }

}

/// Every tandem, as `TandemView`s built from the rows on the fly.
public struct TandemTable: Sendable {
    let rows: TandemRows
    let people: PeopleRows

    /// How many tandems there are.
    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.count == 0 }

    /// A tandem, if it was matched or formed by a swap.
    public subscript(id: TandemID) -> TandemView? {
        rows.row(of: id).map { rows.view($0, people: people) }
    }

    /// Every tandem, in the order they began.
    public var values: RowViews<TandemView> {
        let (rows, people) = (rows, people)
        return RowViews(count: rows.count) { rows.view($0, people: people) }
    }
}

extension TandemTable: Equatable {
    /// The same tandems with the same views and goals, in any order.
    public static func == (a: TandemTable, b: TandemTable) -> Bool {
        guard a.count == b.count, a.rows.tandemsWithGoals == b.rows.tandemsWithGoals,
            a.rows.tandemsWithCheckIns == b.rows.tandemsWithCheckIns
        else { return false }
        return (0..<Int32(a.count)).allSatisfy { n in
            let view = a.rows.view(n, people: a.people)
            guard let m = b.rows.row(of: view.id) else { return false }
            return b.rows.view(m, people: b.people) == view && b.rows.goals(of: m) == a.rows.goals(of: n)
                && b.rows.checkIns(of: m, people: b.people) == a.rows.checkIns(of: n, people: a.people)
        }
    }
}

/// The goals of every tandem, by tandem: a view of the tandem table.
public struct GoalLists: Sendable, Sequence {
    let tandems: TandemRows

    /// A tandem's goals in the order they were set; nil if it has none (or is unknown).
    public subscript(tandem: TandemID) -> [GoalView]? {
        tandems.row(of: tandem).flatMap(tandems.goals(of:))
    }

    /// How many goals a tandem has (0 if it is unknown), counted along its list: no goal's
    /// view is made.
    public func count(of tandem: TandemID) -> Int {
        guard let number = tandems.row(of: tandem) else { return 0 }
        return tandems.goalCount(of: number)
    }

    /// How many tandems have goals.
    public var count: Int { tandems.tandemsWithGoals }

    public func makeIterator() -> AnyIterator<(key: TandemID, value: [GoalView])> {
        var n: Int32 = 0
        return AnyIterator {
            while Int(n) < tandems.count {
                defer { n += 1 }
                if let goals = tandems.goals(of: n) { return (tandems.row(n).id, goals) }
            }
            return nil
        }
    }
}
