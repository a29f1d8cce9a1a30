import EventLog
import Mentoring

/// `tandem tandems`: the tandems, their figures and, with `--at-risk`, those that have not
/// met for more than twice the programme's cadence.
public enum TandemsQuery {
    public enum StatusFilter: String, Sendable, CaseIterable {
        case active, completed, dissolved, all
    }

    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var status: StatusFilter
        public var atRisk: Bool
        /// Up to how many tandems the answer holds as values; more are streamed
        /// (`QueryResult.stream`), which prints the same.
        public var heldUpTo = 10_000
        public init(programme: ProgrammeID? = nil, status: StatusFilter = .active, atRisk: Bool = false) {
            self.programme = programme
            self.status = status
            self.atRisk = atRisk
        }
    }

    /// Days since the last session (or since the match, without one) as of `date`.
    public static func daysWithoutSession(_ tandem: TandemView, asOf date: BusinessDate) -> Int {
        (tandem.lastSession ?? tandem.since).days(to: date)
    }

    /// Why an active tandem is at risk, as sentences; empty if it is not: no session for more
    /// than twice the cadence, or a member's latest check-in rated 2 or less.
    public static func atRiskReasons(
        _ tandem: TandemView, model: ProgrammeReadModel, asOf date: BusinessDate
    ) -> [String] {
        guard tandem.status == .active, let programme = model.programmes[tandem.programme] else { return [] }
        var reasons: [String] = []
        let days = daysWithoutSession(tandem, asOf: date)
        if days > 2 * programme.cadenceDays {
            reasons.append(
                tandem.lastSession == nil
                    ? "no session in the \(days) days since the match" : "no session for \(days) days")
        }
        for checkIn in model.latestCheckIns(of: tandem.id) where checkIn.rating <= 2 {
            reasons.append(
                "rating \(checkIn.rating) from the \(checkIn.participant == tandem.mentor ? "mentor" : "mentee") on \(checkIn.on)"
            )
        }
        return reasons
    }

    /// Notes naming the active tandems a member rated 2 or less at their latest check-in: the
    /// seeds' programmes rematch a pair that does not fit.
    ///
    /// Only active tandems with check-ins become views: on the 10M store, building a view of
    /// every tandem to find the few with a low rating was a third of `due`.
    public static func rematchNotes(_ input: QueryInput, programme: ProgrammeID) -> [String] {
        let model = input.model
        let rows = model.tandemRows
        guard let wanted = rows.programmes.existingNumber(programme).map(UInt32.init) else { return [] }
        // The candidates are found from the rows, and only they are made views and sorted:
        // sorting every tandem and making a view of each one checked in took 0.7 s of `due`
        // on the 10M store.
        var candidates: [(id: TandemID, row: Int32)] = []
        for number in 0..<Int32(rows.count) {
            let row = rows.row(number)
            guard row.programme == wanted, TandemStatus?(stored: row.status) ?? .active == .active else { continue }
            let setAside = !model.otherCheckIns.isEmpty && model.otherCheckIns[row.id] != nil
            guard setAside || rows.latestCheckInRatedLow(number) else { continue }
            candidates.append((row.id, number))
        }
        candidates.sort { $0.id < $1.id }
        return candidates.compactMap { rematchNote(rows.view($0.row, people: model.peopleRows), model: model) }
    }

    /// A tandem's rematch note, if a member's latest check-in rated it 2 or less.
    static func rematchNote(_ tandem: TandemView, model: ProgrammeReadModel) -> String? {
        let low = model.latestCheckIns(of: tandem.id).filter { $0.rating <= 2 }
        guard !low.isEmpty else { return nil }
        let why = low.map {
            "rating \($0.rating) from the \($0.participant == tandem.mentor ? "mentor" : "mentee") on \($0.on)"
        }
        return "Rematch candidate: \(tandem.id) (\(why.joined(separator: "; "))); a partner swap can pair them anew."
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(options.atRisk ? .atRisk : .tandems)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        // A whole listing is held as rows in id order, filtered by status on the rows, and
        // each view is made as it is printed: 540,000 views, and the copy a filter of them
        // made, were 370 MB of `tandems` on the 10M store.
        let byRows = !options.atRisk && input.disclosure.ownTandemsOf == nil && !input.disclosure.protects
        let rows = input.model.tandemRows
        let listedRows: [Int32] =
            byRows
            ? rows.rowsInIDOrder(programme: options.programme).filter { number in
                options.status == .all
                    || (TandemStatus?(stored: rows.row(number).status) ?? .active).rawValue == options.status.rawValue
            } : []
        var tandems = byRows ? [] : input.model.tandems(in: options.programme)
        if let me = input.disclosure.ownTandemsOf {
            guard input.model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            tandems = tandems.filter { $0.includes(me) }
        }
        if options.atRisk {
            tandems = tandems.filter { !atRiskReasons($0, model: input.model, asOf: input.asOf).isEmpty }.sorted {
                let (a, b) = (daysWithoutSession($0, asOf: input.asOf), daysWithoutSession($1, asOf: input.asOf))
                return a != b ? a > b : $0.id < $1.id
            }
        } else if options.status != .all, !byRows {
            tandems = tandems.filter { $0.status.rawValue == options.status.rawValue }
        }
        if input.disclosure.protects {
            // A protected view gets the count only, published: a tandem is a group of two.
            let policy = input.disclosure
            let programme = try input.programme(options.programme)
            let k = programme.minGroupSize
            let people = policy.population(input.model.people(in: programme.id).map(\.id))
            try policy.checkFilter(
                .init("programme", "\(programme.id)"), selected: people,
                parent: policy.population(everyoneIn: input.model.people),
                k: k, query: .atRisk)
            // Keyed by all the programme's tandems, which do not change from day to day: stepping
            // --as-of a day at a time moves the figure only when a rounding boundary is crossed.
            let everyTandem = policy.population(tandems: input.model.tandems(in: programme.id).map(\.id))
            var hidden = SuppressedCells(k: k)
            let count = hidden.show(policy.count(tandems.count, in: everyTandem, "atRisk"), policy)
            var result = QueryResult(
                basis: input.basis, payloadKey: "atRisk",
                payload: .object([
                    "programme": .string(programme.id.rawValue), "tandems": count,
                    "thresholdDays": .int(Int64(2 * programme.cadenceDays)),
                ]),
                table: TextTable(
                    headers: ["programme", "tandems at risk", "threshold (days)"],
                    rows: [[programme.id.rawValue, StatsQuery.display(count), String(2 * programme.cadenceDays)]],
                    numeric: [1, 2], blank: "–"))
            result.notes = ["Analysts see the count only: a tandem is a group of two."]
            result.disclose(hidden, under: policy, k: k)
            return result
        }
        let showNames = input.disclosure.showsNames
        let atRisk = options.atRisk
        let asOf = input.asOf
        // One row's parts, for the held and the streamed form alike. The table shows names
        // where the viewer may see them (ids are in JSON and CSV).
        @Sendable func names(_ tandem: TandemView) -> (mentor: JSONValue, mentee: JSONValue)? {
            showNames ? (input.name(of: tandem.mentor), input.name(of: tandem.mentee)) : nil
        }
        @Sendable func values(_ tandem: TandemView, _ names: (mentor: JSONValue, mentee: JSONValue)?) -> [JSONValue] {
            var values: [JSONValue] = [
                .string(tandem.id.rawValue), .string(tandem.programme.rawValue), .string(tandem.mentor.rawValue),
                .string(tandem.mentee.rawValue),
            ]
            if let names { values += [names.mentor, names.mentee] }
            values += [
                .string(tandem.status.rawValue), .string(tandem.since.description), Format.date(tandem.until),
                .int(Int64(tandem.sessions)), .int(Int64(tandem.minutes)), Format.date(tandem.lastSession),
                .int(Int64(tandem.goalsSet)), .int(Int64(tandem.goalsReached)),
            ]
            if atRisk {
                values.append(.int(Int64(daysWithoutSession(tandem, asOf: asOf))))
                values.append(.array(atRiskReasons(tandem, model: input.model, asOf: asOf).map(JSONValue.string)))
            }
            return values
        }
        @Sendable func cells(_ tandem: TandemView, _ names: (mentor: JSONValue, mentee: JSONValue)?) -> [String] {
            var row = [
                tandem.id.rawValue, names?.mentor.stringValue ?? tandem.mentor.rawValue,
                names?.mentee.stringValue ?? tandem.mentee.rawValue, tandem.status.rawValue, tandem.since.description,
                String(tandem.sessions), Format.cell(tandem.lastSession), "\(tandem.goalsReached)/\(tandem.goalsSet)",
            ]
            if atRisk {
                row.append(String(daysWithoutSession(tandem, asOf: asOf)))
                row.append(atRiskReasons(tandem, model: input.model, asOf: asOf).joined(separator: "; "))
            }
            return row
        }
        var headers = ["tandem", "mentor", "mentee", "status", "since", "sessions", "last", "goals"]
        var numeric: Set<Int> = [5]
        if options.atRisk {
            headers += ["days", "why"]
            numeric.insert(8)
        }
        let keys =
            ["tandem", "programme", "mentor", "mentee"] + (showNames ? ["mentorName", "menteeName"] : [])
            + ["status", "since", "until", "sessions", "minutes", "lastSession", "goalsSet", "goalsReached"]
            + (options.atRisk ? ["daysWithoutSession", "atRiskReasons"] : [])
        var result: QueryResult
        let count = byRows ? listedRows.count : tandems.count
        let held = tandems, people = input.model.peopleRows
        /// The `i`-th tandem listed.
        @Sendable func listed(_ i: Int) -> TandemView { byRows ? rows.view(listedRows[i], people: people) : held[i] }
        /// The `i`-th tandem's members' names, if shown: read by their rows where the tandems
        /// are listed by row (looking each member up by id was a fifth of printing them).
        @Sendable func names(_ i: Int, _ tandem: TandemView) -> (mentor: JSONValue, mentee: JSONValue)? {
            guard showNames, byRows else { return names(tandem) }
            let row = rows.row(listedRows[i])
            return (input.name(ofRow: row.mentor), input.name(ofRow: row.mentee))
        }
        if count > options.heldUpTo {
            // Too many to hold as values (600,000 tandems took 1.3 GB): streamed.
            result = QueryResult(
                basis: input.basis, payloadKey: "tandems", payload: .array([]),
                table: TextTable(headers: headers, rows: [], numeric: numeric))
            @Sendable func rows(
                _ range: Range<Int>, _ part: StreamedList.Part, _ body: ([String], [JSONValue]) throws -> Void
            ) rethrows {
                for i in range {
                    let tandem = listed(i)
                    let found = names(i, tandem)
                    try body(part == .cells ? cells(tandem, found) : [], part == .values ? values(tandem, found) : [])
                }
            }
            result.stream = StreamedList(headers: headers, numeric: numeric, keys: keys, count: count) {
                part, body in try rows(0..<count, part, body)
            }
            // The names are read before the blocks are written on several threads (the first
            // row asked for reads them all), so that no two read them.
            if count > 0 { _ = names(0, listed(0)) }
            result.stream?.produce(over: count) { range, part, body in try rows(range, part, body) }
        } else {
            var rows: [JSONValue] = []
            var table: [[String]] = []
            for i in 0..<count {
                let tandem = listed(i)
                let found = names(i, tandem)
                rows.append(.object(JSONObject(zip(keys, values(tandem, found)).map { ($0, $1) })))
                table.append(cells(tandem, found))
            }
            result = QueryResult(
                basis: input.basis, payloadKey: "tandems", payload: .array(rows),
                table: TextTable(headers: headers, rows: table, numeric: numeric))
        }
        result.csvColumns = keys
        if options.atRisk {
            result.notes = [
                "At risk: active tandems without a session for more than twice the programme's cadence, or whose latest check-in by a member rated the fit 2 or less."
            ]
        }
        return result
    }
}
