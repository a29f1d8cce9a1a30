import Dispatch
import EventLog
import Mentoring
import Synchronization

/// `tandem activity`: what happened in a programme month by month (or quarter by quarter):
/// sessions, minutes, by format, tandems active at the period's end, matches, withdrawals,
/// goals reached and new participants.
public enum ActivityQuery {
    /// The length of a period.
    public enum Period: String, Sendable, CaseIterable {
        case month, quarter

        /// `2027-03` or `2027-Q1`.
        func label(of date: BusinessDate) -> String {
            switch self {
            case .month: String(date.description.prefix(7))
            case .quarter: "\(date.year)-Q\((date.month - 1) / 3 + 1)"
            }
        }

        /// The first day of the period that holds `date`.
        func start(of date: BusinessDate) -> BusinessDate {
            let month = self == .month ? date.month : (date.month - 1) / 3 * 3 + 1
            return BusinessDate(dayNumber: CivilCalendar.dayNumber(year: date.year, month: month, day: 1))
        }

        /// The first day of the next period.
        func next(after start: BusinessDate) -> BusinessDate {
            let months = self == .month ? 1 : 3
            let index = start.month - 1 + months
            return BusinessDate(
                dayNumber: CivilCalendar.dayNumber(year: start.year + index / 12, month: index % 12 + 1, day: 1))
        }
    }

    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var period: Period
        public var segment: SegmentFilter?
        public init(programme: ProgrammeID? = nil, period: Period = .month, segment: SegmentFilter? = nil) {
            self.programme = programme
            self.period = period
            self.segment = segment
        }
    }

    /// The figures of one period, exact, with the largest single tandem's share of each
    /// magnitude (what a protected view's noise scales to).
    struct Figures {
        var sessions = StatsQuery.Magnitude(), minutes = StatsQuery.Magnitude()
        var online = StatsQuery.Magnitude(), inPerson = StatsQuery.Magnitude(), goalsReached = StatsQuery.Magnitude()
        var active = 0, matches = 0, withdrawals = 0, newParticipants = 0

        /// Adds another part's figures (of other tandems and people).
        mutating func add(_ other: Figures) {
            sessions.add(other.sessions)
            minutes.add(other.minutes)
            online.add(other.online)
            inPerson.add(other.inPerson)
            goalsReached.add(other.goalsReached)
            active += other.active
            matches += other.matches
            withdrawals += other.withdrawals
            newParticipants += other.newParticipants
        }
    }

    /// The period of `date` among those beginning on `starts` (ascending), if any: none
    /// before the first or after `last`.
    static func period(of date: BusinessDate, starts: [BusinessDate], last: BusinessDate) -> Int? {
        guard date <= last, let first = starts.first, date >= first else { return nil }
        var low = 0, high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= date { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The listed sessions of the tandems in scope (`inScope`, by tandem row) summed by
    /// period, each tandem's sum in a period one contribution (the largest scales a
    /// protected view's noise). The index is cut into a part per core, each summed on its
    /// own thread and merged: a pass over six million sessions took a second on one core.
    /// - Throws: `SnapshotError` if a record no longer reads.
    static func listedSums(
        _ listing: SessionIndex.Listing, rows: TandemRows, inScope: [Bool], periods: Periods
    ) throws -> [Figures] {
        let parts = LogVerifier.processorCount
        let results = PartResults(parts: parts, periods: periods.count)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            // One value holds a part's sums: captured piecemeal by the closure, each variable
            // was checked for exclusive access at run time on every session (a sixth of the
            // sums on the 10M store).
            var sums = PeriodSums(periods)
            do {
                // Sums need no topics: left unread, six million sessions make no arrays.
                try listing.forEachTandemsSessionFigures(rowsIn: rows, part: part, of: parts) { row, session in
                    if inScope[Int(row)] { sums.add(session, of: row) }
                }
                sums.contribute()
                results.set(part, sums.figures)
            } catch {
                results.fail(error)
            }
        }
        return try results.merged()
    }

    /// A query's periods, and which one a day falls in.
    struct Periods: Sendable {
        let starts: [BusinessDate]
        let last: BusinessDate
        /// Each day's period from the first start to `last` (−1: none), so that a session's
        /// period is one array read, not a search of `starts` (six million searches were a
        /// fifth of the sums on the 10M store).
        private let periodOfDay: [Int32]
        private let firstDay: Int
        /// Whether `periodOfDay` covers every period's days.
        private let tabled: Bool

        init(starts: [BusinessDate], last: BusinessDate) {
            self.starts = starts
            self.last = last
            let firstDay = starts.first?.dayNumber ?? 0
            self.firstDay = firstDay
            // Any real span of periods is a few thousand days; beyond a million (dates far
            // apart by mistake), the search is used instead.
            let days = starts.first.map { max(0, last.dayNumber - $0.dayNumber + 1) } ?? 0
            let tabled = days <= 1 << 20
            self.tabled = tabled
            periodOfDay = (0..<(tabled ? days : 0)).map { day in
                Int32(
                    ActivityQuery.period(of: BusinessDate(dayNumber: firstDay + day), starts: starts, last: last) ?? -1)
            }
        }

        /// How many periods there are.
        var count: Int { starts.count }

        /// The period `date` falls in, if any (`ActivityQuery.period(of:starts:last:)`).
        @inline(__always)
        func index(_ date: BusinessDate) -> Int? {
            guard tabled else { return ActivityQuery.period(of: date, starts: starts, last: last) }
            let day = date.dayNumber - firstDay
            return day >= 0 && day < periodOfDay.count && periodOfDay[day] >= 0 ? Int(periodOfDay[day]) : nil
        }
    }

    /// One tandem's sessions and reached goals by period, kept for the tandem at hand and
    /// cleared after it (only the periods it touched): each period's sum is one contribution
    /// (the largest scales a protected view's noise). A value with mutating methods, not
    /// variables captured by local functions: those were checked for exclusive access at run
    /// time on every use, and a dictionary made per tandem was most of the rest (a million
    /// tandems on the 10M store).
    private struct TandemTally {
        private var sums: [(sessions: Int, minutes: Int, online: Int, inPerson: Int, goals: Int)]
        private var touched: [Int] = []
        private var isTouched: [Bool]

        init(periods: Int) {
            sums = Array(repeating: (0, 0, 0, 0, 0), count: periods)
            isTouched = Array(repeating: false, count: periods)
        }

        private mutating func touch(_ i: Int) {
            if !isTouched[i] {
                isTouched[i] = true
                touched.append(i)
            }
        }

        /// Adds a session in period `i`.
        mutating func addSession(_ i: Int, minutes: Int, online: Bool) {
            touch(i)
            sums[i].sessions += 1
            sums[i].minutes += minutes
            if online { sums[i].online += 1 } else { sums[i].inPerson += 1 }
        }

        /// Adds a goal reached in period `i`.
        mutating func addGoal(_ i: Int) {
            touch(i)
            sums[i].goals += 1
        }

        /// Counts the tandem's sums into `figures`, and clears them for the next tandem.
        mutating func contribute(to figures: inout [Figures]) {
            for i in touched {
                let f = sums[i]
                figures[i].sessions.add(f.sessions)
                figures[i].minutes.add(f.minutes)
                figures[i].online.add(f.online)
                figures[i].inPerson.add(f.inPerson)
                figures[i].goalsReached.add(f.goals)
                sums[i] = (0, 0, 0, 0, 0)
                isTouched[i] = false
            }
            touched.removeAll(keepingCapacity: true)
        }
    }

    /// One part's figures by period, and the tandem being summed: its sums by period wait
    /// in `sums` until its sessions end, then count once per period it touched.
    private struct PeriodSums {
        let periods: Periods
        var figures: [Figures]
        /// The current tandem's sums, counted into `figures` when its sessions end.
        var tally: TandemTally
        var current: Int32 = -1

        init(_ periods: Periods) {
            self.periods = periods
            figures = [Figures](repeating: Figures(), count: periods.count)
            tally = TandemTally(periods: periods.count)
        }

        /// Adds a session of the tandem in `row` (a tandem's sessions come together).
        mutating func add(_ entry: SessionIndex.SessionFigures, of row: Int32) {
            if row != current {
                contribute()
                current = row
            }
            guard let i = periods.index(entry.on) else { return }
            tally.addSession(i, minutes: entry.minutes, online: entry.online)
        }

        /// Counts the current tandem's sums into the figures.
        mutating func contribute() { tally.contribute(to: &figures) }
    }

    /// Each part's sums, handed in by its own thread; merged once all are done.
    private final class PartResults: Sendable {
        private let parts: Mutex<[[Figures]]>
        private let failure = Mutex<(any Error)?>(nil)

        init(parts: Int, periods: Int) {
            self.parts = Mutex([[Figures]](repeating: [Figures](repeating: Figures(), count: periods), count: parts))
        }

        func set(_ part: Int, _ figures: [Figures]) { parts.withLock { $0[part] = figures } }
        func fail(_ error: any Error) { failure.withLock { if $0 == nil { $0 = error } } }

        func merged() throws -> [Figures] {
            if let error = failure.withLock({ $0 }) { throw error }
            let parts = self.parts.withLock { $0 }
            var out = parts[0]
            for part in parts.dropFirst() {
                for (i, f) in part.enumerated() { out[i].add(f) }
            }
            return out
        }
    }

    /// The figures counted from the rows, by period: each tandem's match, the periods it is
    /// active at the end of, its reached goals (and, with `sessionsFromModel`, its sessions
    /// kept in the model), and each person's signup and withdrawal. In a part per core, each
    /// over its share of the tandems and of the people, merged: on one core, with the other
    /// idle, it was a tenth of an analyst's `activity --as-of` on the 10M store.
    /// - Complexity: O(tandems · log periods + goals + people), over the cores.
    static func rowFigures(
        tandems: [Scope.TandemDays], people: [Scope.PersonDays], model: ProgrammeReadModel, sessionsFromModel: Bool,
        periods: Periods, ends: [BusinessDate]
    ) throws -> [Figures] {
        let parts = LogVerifier.processorCount
        let results = PartResults(parts: parts, periods: periods.count)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            // Taken once a part: the loops below read them, not the shared model.
            let rows = model.tandemRows, sessionLog = sessionsFromModel ? model.sessionLog : nil
            var figures = [Figures](repeating: Figures(), count: periods.count)
            // A tandem is active at the end of the periods from the first that ends on or
            // after its start to the last that ends before its end: a run of periods, counted
            // as a step up where it begins and down after it (not a test of every period).
            var activeSteps = [Int](repeating: 0, count: ends.count + 1)
            /// The first period that ends on or after `date` (`ends.count`: none).
            func firstEnding(onOrAfter date: BusinessDate) -> Int {
                var low = 0, high = ends.count
                while low < high {
                    let mid = (low + high) / 2
                    if ends[mid] < date { low = mid + 1 } else { high = mid }
                }
                return low
            }
            var tally = TandemTally(periods: periods.count)
            let tandemRange = (tandems.count * part / parts)..<(tandems.count * (part + 1) / parts)
            for tandem in tandems[tandemRange] {
                if let sessionLog {
                    for session in sessionLog[rows.id(ofRow: tandem.row)] ?? [] {
                        if let i = periods.index(session.on) {
                            tally.addSession(i, minutes: session.minutes, online: session.mode == .online)
                        }
                    }
                }
                rows.forEachReachedGoal(of: tandem.row) { reached in
                    if let i = periods.index(reached) { tally.addGoal(i) }
                }
                tally.contribute(to: &figures)
                let (since, until) = (tandem.sinceDate, tandem.untilDate)
                if let i = periods.index(since) { figures[i].matches += 1 }
                let first = firstEnding(onOrAfter: since)
                let end = until.map(firstEnding(onOrAfter:)) ?? ends.count
                if first < end {
                    activeSteps[first] += 1
                    activeSteps[end] -= 1
                }
            }
            var active = 0
            for i in ends.indices {
                active += activeSteps[i]
                figures[i].active += active
            }
            for person in people[(people.count * part / parts)..<(people.count * (part + 1) / parts)] {
                if let i = periods.index(person.signedUpOnDate) { figures[i].newParticipants += 1 }
                if let withdrawn = person.withdrawnOnDate, let i = periods.index(withdrawn) {
                    figures[i].withdrawals += 1
                }
            }
            results.set(part, figures)
        }
        return try results.merged()
    }

    /// The periods from the programme's start to the earlier of the as-of date and its end.
    /// - Complexity: O(sessions + goals + people + tandems · periods); O(days) for the
    ///   sessions of an exact view of the whole programme.
    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(.activity)
        // A segment describes people (a unit, a gender): only the views that may break figures
        // down by them may filter by them (auditors see pseudonymous ids, not units).
        if options.segment != nil { try input.disclosure.permit(.statsBySegment) }
        let programme = try input.programme(options.programme)
        let k = programme.minGroupSize
        let policy = input.disclosure
        // Every figure here is a sum over people or tandems: no order needed (sorting the
        // ids of a store of millions was a fifth of the query).
        let scope =
            input.disclosure.ownTandemsOf == nil
            ? Scope(rowsOf: programme, segment: options.segment, input) : Scope(ownOf: programme, input)
        let (people, tandems, population) = (scope.people, scope.tandems, scope.population)
        if policy.protects {
            try policy.checkFilter(
                .init("programme", "\(programme.id)"), selected: scope.everyone, parent: scope.parent, k: k,
                query: .activity)
            if let segment = options.segment {
                try policy.checkFilter(
                    .init("segment", "\(segment)"), selected: population, parent: scope.everyone, k: k,
                    query: .activity)
            }
        }
        let pairs = scope.pairs
        let last = min(input.asOf, programme.ends)
        var starts: [BusinessDate] = []
        var day = options.period.start(of: programme.starts)
        while day <= last {
            starts.append(day)
            day = options.period.next(after: day)
        }
        // Each period's last day (the as-of date for the last one), worked out once.
        let ends = starts.map { min(options.period.next(after: $0).adding(days: -1), last) }
        var figures = [Figures](repeating: Figures(), count: starts.count)
        let periods = Periods(starts: starts, last: last)
        // An exact view of the whole programme needs the sessions' sums only: from the model's
        // counts per day, when it kept no session one by one (a snapshot's model does not).
        let daily =
            input.model.sessionLog == nil && input.sessionListing == nil && !policy.protects && options.segment == nil
            && input.disclosure.ownTandemsOf == nil && !input.sliced
        if daily {
            for (key, day) in input.model.dailySessions where key.programme == programme.id {
                guard let i = periods.index(BusinessDate(dayNumber: key.day)) else { continue }
                figures[i].sessions.add(day.sessions)
                figures[i].minutes.add(day.minutes)
                figures[i].online.add(day.online)
                figures[i].inPerson.add(day.sessions - day.online)
            }
        }
        // Each session from the session index's listing (unless the daily counts gave them):
        // in one pass in the index's order, where each tandem's sessions come together,
        // rather than a search for each tandem of the programme.
        let listed = daily ? nil : input.sessionListing
        if let listing = listed {
            var inScope = [Bool](repeating: false, count: input.model.tandemRows.count)
            for tandem in tandems { inScope[Int(tandem.row)] = true }
            let sums = try Self.listedSums(listing, rows: input.model.tandemRows, inScope: inScope, periods: periods)
            for (i, f) in sums.enumerated() { figures[i].add(f) }
        }
        let counted = try Self.rowFigures(
            tandems: tandems, people: people, model: input.model, sessionsFromModel: !daily && listed == nil,
            periods: periods, ends: ends)
        for (i, f) in counted.enumerated() { figures[i].add(f) }
        var hidden = SuppressedCells(k: k)
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for (i, start) in starts.enumerated() {
            let f = figures[i], period = options.period.label(of: start)
            func magnitude(_ m: StatsQuery.Magnitude, _ name: String) -> JSONValue {
                .int(Int64(policy.magnitude(m.total, largest: m.largest, in: pairs, name + ":" + period)))
            }
            func count(_ n: Int, _ name: String, over base: Population) -> JSONValue {
                hidden.show(policy.count(n, in: base, name + ":" + period), policy)
            }
            let object: JSONObject = [
                "period": .string(period),
                "sessions": magnitude(f.sessions, "sessions"), "minutes": magnitude(f.minutes, "minutes"),
                "online": magnitude(f.online, "online"), "inPerson": magnitude(f.inPerson, "inPerson"),
                "activeTandems": count(f.active, "activeTandems", over: pairs),
                "matches": count(f.matches, "matches", over: pairs),
                "withdrawals": count(f.withdrawals, "withdrawals", over: population),
                "goalsReached": magnitude(f.goalsReached, "goalsReached"),
                "newParticipants": count(f.newParticipants, "newParticipants", over: population),
            ]
            rows.append(.object(object))
            table.append(object.members.map { StatsQuery.display($0.value) })
        }
        let columns = [
            "period", "sessions", "minutes", "online", "inPerson", "activeTandems", "matches", "withdrawals",
            "goalsReached", "newParticipants",
        ]
        var result = QueryResult(
            basis: input.basis, payloadKey: "periods", payload: .array(rows),
            table: TextTable(
                headers: [
                    "period", "sessions", "minutes", "online", "in person", "active", "matches", "withdrew",
                    "goals", "new",
                ], rows: table, numeric: Set(1...9), blank: "–"))
        result.csvColumns = columns
        var notes = [
            "Sessions, minutes, goals, matches, withdrawals and signups dated in each period; active tandems at the period's end"
                + (starts.last.map {
                    options.period.next(after: $0).adding(days: -1) > last ? " (the last period ends on \(last))" : ""
                } ?? "") + "."
        ]
        if rows.isEmpty { notes.append("No period yet: the programme starts on \(programme.starts).") }
        result.notes = notes
        result.disclose(hidden, under: policy, k: k)
        return result
    }
    /// The people and tandems a programme's activity counts, with their populations: read
    /// from the rows for a whole programme (no view is made: they took most of the query's
    /// memory on a store of millions), from views for a segment or a participant's own.
    struct Scope {
        /// A person's days as the rows store them (`Int32.min`: none), 8 bytes. As dates
        /// they were 24 bytes, and the tandems' 48: 93 MB of an analyst's `activity` on the
        /// 10M store, now 26 MB.
        struct PersonDays {
            var signedUpOn: Int32
            var withdrawnOn: Int32

            init(signedUpOn: BusinessDate, withdrawnOn: BusinessDate?) {
                self.signedUpOn = Int32(clamping: signedUpOn.dayNumber)
                self.withdrawnOn = withdrawnOn.stored
            }

            var signedUpOnDate: BusinessDate { BusinessDate(dayNumber: Int(signedUpOn)) }
            var withdrawnOnDate: BusinessDate? { BusinessDate?(stored: withdrawnOn) }
        }

        /// A tandem's row and days as the rows store them, 12 bytes (with its id and the
        /// days as dates, 48).
        struct TandemDays {
            var row: Int32
            var since: Int32
            var until: Int32

            var sinceDate: BusinessDate { BusinessDate(dayNumber: Int(since)) }
            var untilDate: BusinessDate? { BusinessDate?(stored: until) }
        }

        /// Each person's dates.
        var people: [PersonDays] = []
        /// Each tandem's row and dates.
        var tandems: [TandemDays] = []
        /// The people counted; the programme's people; everyone in the model; the tandems.
        var population = Population(), everyone = Population(), parent = Population(), pairs = Population()

        /// Everyone in `programme`, or the people `segment` admits and the tandems with a
        /// member among them, from the rows (as views, a segment of the 10M store's programme
        /// peaked at 780 MB).
        init(rowsOf programme: Programme, segment: SegmentFilter?, _ input: QueryInput) {
            let model = input.model, policy = input.disclosure
            let peopleRows = model.peopleRows, tandemRows = model.tandemRows
            let numbers = peopleRows.rows(in: [programme.id])
            let admitted = segment.map { peopleRows.rows(in: [programme.id], admittedBy: $0) } ?? numbers
            people.reserveCapacity(admitted.count)
            for number in admitted {
                let dates = peopleRows.dates(number)
                people.append(PersonDays(signedUpOn: dates.signedUpOn, withdrawnOn: dates.withdrawnOn))
            }
            if policy.protects {
                // Everyone's keys once (each an HMAC): the programme's and the segment's people
                // are summed from them.
                let keys = policy.keys(ofPeopleRows: nil, in: peopleRows)
                parent = Population(keys: keys)
                everyone = Population(keys: numbers.lazy.map { keys[Int($0)] })
                population =
                    segment == nil ? everyone : Population(keys: admitted.lazy.map { keys[Int($0)] })
            } else {
                everyone = Population(size: numbers.count)
                population = Population(size: admitted.count)
            }
            var ids = tandemRows.rows(in: programme.id)
            if segment != nil {
                let members = peopleRows.marking(admitted)
                ids.removeAll { number in
                    let row = tandemRows.row(number)
                    return !(members[Int(row.mentor)] || members[Int(row.mentee)])
                }
            }
            tandems.reserveCapacity(ids.count)
            for number in ids {
                let row = tandemRows.row(number)
                tandems.append(TandemDays(row: number, since: row.since, until: row.until))
            }
            pairs = Population(keys: policy.keys(ofTandemRows: ids, in: tandemRows))
        }

        /// A participant and their own tandems in `programme`, from their views.
        init(ownOf programme: Programme, _ input: QueryInput) {
            let model = input.model, policy = input.disclosure
            // A participant sees the activity of their own tandems (a segment is refused
            // them): only theirs are made views.
            let me = input.disclosure.ownTandemsOf
            let people = me.flatMap { model.people[$0] }.map { $0.programme == programme.id ? [$0] : [] } ?? []
            let tandems = me.map { model.tandems(of: $0, in: programme.id) } ?? []
            self.people = people.map { PersonDays(signedUpOn: $0.signedUpOn, withdrawnOn: $0.withdrawnOn) }
            self.tandems = tandems.compactMap { view in
                model.tandemRows.row(of: view.id).map {
                    TandemDays(row: $0, since: Int32(clamping: view.since.dayNumber), until: view.until.stored)
                }
            }
            population = policy.population(people.map(\.id))
            everyone = population
            if policy.protects { parent = policy.population(everyoneIn: model.people) }
            pairs = policy.population(tandems: tandems.map(\.id))
        }
    }
}
