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
    public static func rematchNotes(_ input: QueryInput, programme: ProgrammeID) -> [String] {
        input.model.tandems(in: programme).filter { $0.status == .active }.compactMap { tandem in
            let low = input.model.latestCheckIns(of: tandem.id).filter { $0.rating <= 2 }
            guard !low.isEmpty else { return nil }
            let why = low.map {
                "rating \($0.rating) from the \($0.participant == tandem.mentor ? "mentor" : "mentee") on \($0.on)"
            }
            return
                "Rematch candidate: \(tandem.id) (\(why.joined(separator: "; "))); a partner swap can pair them anew."
        }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(options.atRisk ? .atRisk : .tandems)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        var tandems = input.model.tandems(in: options.programme)
        if let me = input.disclosure.ownTandemsOf {
            guard input.model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            tandems = tandems.filter { $0.includes(me) }
        }
        if options.atRisk {
            tandems = tandems.filter { !atRiskReasons($0, model: input.model, asOf: input.asOf).isEmpty }.sorted {
                let (a, b) = (daysWithoutSession($0, asOf: input.asOf), daysWithoutSession($1, asOf: input.asOf))
                return a != b ? a > b : $0.id < $1.id
            }
        } else if options.status != .all {
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
                parent: policy.population(input.model.people.ids),
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
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for tandem in tandems {
            var object: JSONObject = [
                "tandem": .string(tandem.id.rawValue), "programme": .string(tandem.programme.rawValue),
                "mentor": .string(tandem.mentor.rawValue), "mentee": .string(tandem.mentee.rawValue),
            ]
            if showNames {
                object["mentorName"] = input.name(of: tandem.mentor)
                object["menteeName"] = input.name(of: tandem.mentee)
            }
            object["status"] = .string(tandem.status.rawValue)
            object["since"] = .string(tandem.since.description)
            object["until"] = Format.date(tandem.until)
            object["sessions"] = .int(Int64(tandem.sessions))
            object["minutes"] = .int(Int64(tandem.minutes))
            object["lastSession"] = Format.date(tandem.lastSession)
            object["goalsSet"] = .int(Int64(tandem.goalsSet))
            object["goalsReached"] = .int(Int64(tandem.goalsReached))
            if options.atRisk {
                object["daysWithoutSession"] = .int(Int64(daysWithoutSession(tandem, asOf: input.asOf)))
                object["atRiskReasons"] = .array(
                    atRiskReasons(tandem, model: input.model, asOf: input.asOf).map(JSONValue.string))
            }
            rows.append(.object(object))
            // The table shows names where the viewer may see them (ids are in JSON and CSV).
            let mentor = object["mentorName"]?.stringValue ?? tandem.mentor.rawValue
            let mentee = object["menteeName"]?.stringValue ?? tandem.mentee.rawValue
            var row = [
                tandem.id.rawValue, mentor, mentee, tandem.status.rawValue, tandem.since.description,
                String(tandem.sessions), Format.cell(tandem.lastSession), "\(tandem.goalsReached)/\(tandem.goalsSet)",
            ]
            if options.atRisk {
                row.append(String(daysWithoutSession(tandem, asOf: input.asOf)))
                row.append(atRiskReasons(tandem, model: input.model, asOf: input.asOf).joined(separator: "; "))
            }
            table.append(row)
        }
        var headers = ["tandem", "mentor", "mentee", "status", "since", "sessions", "last", "goals"]
        var numeric: Set<Int> = [5]
        if options.atRisk {
            headers += ["days", "why"]
            numeric.insert(8)
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "tandems", payload: .array(rows),
            table: TextTable(headers: headers, rows: table, numeric: numeric))
        result.csvColumns =
            ["tandem", "programme", "mentor", "mentee"] + (showNames ? ["mentorName", "menteeName"] : [])
            + ["status", "since", "until", "sessions", "minutes", "lastSession", "goalsSet", "goalsReached"]
            + (options.atRisk ? ["daysWithoutSession", "atRiskReasons"] : [])
        if options.atRisk {
            result.notes = [
                "At risk: active tandems without a session for more than twice the programme's cadence, or whose latest check-in by a member rated the fit 2 or less."
            ]
        }
        return result
    }
}
