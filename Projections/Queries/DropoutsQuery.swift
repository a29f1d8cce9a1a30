import EventLog
import Mentoring

/// `tandem dropouts`: who drops out, when and why, with a Kaplan–Meier survival curve over
/// the people who were ever matched.
///
/// - Origin: the day a person first entered a tandem (by a match, or by joining in a swap).
/// - Event: their withdrawal.
/// - Censoring: the completion of their last tandem, or else the earlier of the as-of date
///   and the programme's end.
public enum DropoutsQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var by: SegmentKey?
        public var population: PopulationFilter
        public init(programme: ProgrammeID? = nil, by: SegmentKey? = nil, population: PopulationFilter = .all) {
            self.programme = programme
            self.by = by
            self.population = population
        }
    }

    /// `--population`: who counts.
    public enum PopulationFilter: String, Sendable, CaseIterable {
        case all, mentees, mentors

        func admits(_ person: PersonView) -> Bool {
            switch self {
            case .all: true
            case .mentees: person.role == .mentee
            case .mentors: person.role == .mentor
            }
        }
    }

    /// A person's observation for the curve, or nil if they were never matched.
    public static func observation(
        _ person: PersonView, programme: Programme, asOf: BusinessDate
    ) -> KaplanMeier.Observation? {
        guard let origin = person.firstMatchedOn else { return nil }
        if let withdrawn = person.withdrawnOn, withdrawn >= origin {
            return .init(duration: origin.days(to: withdrawn), event: true)
        }
        let end: BusinessDate
        if person.activeTandem == nil, let last = person.lastTandemEnd, last.status == .completed {
            end = last.on
        } else {
            end = min(asOf, programme.ends)
        }
        return .init(duration: max(0, origin.days(to: end)), event: false)
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        // Every figure here is a count, a sum of record keys or a curve of durations: the
        // people's order does not matter.
        try run(input, options) { input.peopleInAnyOrder(in: $0) }
    }

    /// The dropouts of the people `people` lists for a scope (in any order).
    static func run(
        _ input: QueryInput, _ options: Options, people inScopeOf: (QueryScope) -> [PersonView]
    ) throws -> QueryResult {
        let query: QueryKind = options.by == nil ? .dropouts : .dropoutsBySegment
        try input.disclosure.permit(query)
        let scope = try input.scope(options.programme, by: options.by)
        let k = scope.k
        let width = LifeTable.width(cadenceDays: scope.cadenceDays)
        let policy = input.disclosure
        let inScope = inScopeOf(scope)
        // Counted in one pass, not filtered into copies: a million people's views, copied
        // three times over, were most of the query's memory.
        let people = options.population == .all ? inScope : inScope.filter(options.population.admits)
        let population = policy.population(people.map(\.id))
        if policy.protects {
            let whole = options.population == .all ? population : policy.population(inScope.map(\.id))
            try policy.checkFilter(
                .init("programme", "\(scope.label)"), selected: whole,
                parent: policy.population(input.model.people.ids), k: k, query: query)
            if options.population != .all {
                try policy.checkFilter(
                    .init("population", options.population.rawValue), selected: population, parent: whole, k: k,
                    query: query)
            }
        }
        func observation(of person: PersonView) -> KaplanMeier.Observation? {
            input.model.programmes[person.programme].flatMap {
                Self.observation(person, programme: $0, asOf: input.asOf)
            }
        }
        var hidden = SuppressedCells(k: k)
        var matched = 0, withdrawn = 0, beforeMatch = 0
        var observations: [KaplanMeier.Observation] = []
        var reasons: [String: Int] = [:]
        for person in people {
            if person.firstMatchedOn != nil {
                matched += 1
                if let observed = observation(of: person) { observations.append(observed) }
            }
            if person.withdrawnOn != nil {
                withdrawn += 1
                if person.withdrewBeforeMatch { beforeMatch += 1 }
                reasons[person.withdrawalReason?.rawValue ?? "other", default: 0] += 1
            }
        }
        var notes: [String] = []
        // The same cells as `stats` (matched, withdrawn of the programme's people), so the
        // same people give the same figure in both.
        let published = (
            matched: policy.count(matched, in: population, "matched"),
            withdrawn: policy.count(withdrawn, in: population, "withdrawn"),
            beforeMatch: policy.count(beforeMatch, in: population, "withdrawnBeforeMatch"),
            afterMatch: policy.count(withdrawn - beforeMatch, in: population, "withdrawnAfterMatch")
        )
        let shown = (
            matched: hidden.show(published.matched, policy), withdrawn: hidden.show(published.withdrawn, policy),
            beforeMatch: hidden.show(published.beforeMatch, policy),
            afterMatch: hidden.show(published.afterMatch, policy)
        )
        let reasonObject = JSONObject(
            ReasonCode.all.compactMap { code in
                reasons[code].map { count in
                    (code, hidden.show(policy.count(count, in: population, "reason:" + code), policy))
                }
            })
        let curve = Curve(observations, width: width, population: population, policy: policy, k: k)
        if curve.cut {
            notes.append(
                "The survival table stops where fewer than \(k) people remain at risk, or where the dropouts left are fewer than \(k)."
            )
        }
        let rate: JSONValue =
            shown.matched.intValue == nil || shown.afterMatch.intValue == nil
            ? .null : Format.ratio(published.afterMatch, published.matched)
        var dropouts: JSONObject = [
            "programme": .string(scope.label),
            "population": .string(options.population.rawValue),
            "participants": shown.matched,
            "withdrawals": shown.withdrawn,
            "withdrawalsBeforeMatch": shown.beforeMatch,
            "rate": rate,
            "reasons": .object(reasonObject),
            "medianDaysToDropout": curve.median.map { .int(Int64($0)) } ?? .null,
            "survival": .array(curve.json),
        ]
        var table = curve.table
        func text(_ value: JSONValue) -> String { StatsQuery.display(value).isEmpty ? "–" : StatsQuery.display(value) }
        let who =
            options.population == .all
            ? "Population: everyone ever matched, mentors and mentees (a population of mentees or mentors narrows it)."
            : "Population: \(options.population.rawValue) only."
        notes.insert(who, at: 0)
        notes.insert(
            "\(text(shown.matched)) matched, \(text(shown.withdrawn)) withdrew (\(text(shown.beforeMatch)) before a match); rate \(rate.doubleValue.map { Format.number($0, digits: 3) } ?? "–"); median days to dropout: \(curve.median.map(String.init) ?? "not reached")",
            at: 1)
        notes.insert(
            "Reasons: "
                + (reasonObject.isEmpty
                    ? "none" : reasonObject.members.map { "\($0.key) \(text($0.value))" }.joined(separator: ", ")),
            at: 2)
        var csvTable = curve.csv
        if let by = options.by {
            let grouped = Self.groups(people, by: by, scope: scope, policy: policy, observation: observation(of:))
            var objects: [JSONValue] = []
            var tableRows: [[String]] = []
            var longRows: [[String]] = []
            var compared: [(population: Population, observations: [KaplanMeier.Observation])] = []
            for g in grouped {
                let size = policy.count(g.matched, in: g.population, "matched")
                var object: JSONObject = ["group": .string(g.name)]
                if policy.protects && size < k {
                    hidden.add(.smallGroup, 3)
                    object = object.merging([
                        "participants": .null, "withdrawals": .null, "rate": .null, "medianDaysToDropout": .null,
                        "survival": .array([]), "suppressed": .bool(true),
                        "reason": .string(SuppressionReason.smallGroup.rawValue),
                    ])
                } else {
                    let withdrawals = policy.count(g.withdrawals, in: g.population, "withdrawnAfterMatch")
                    var shownWithdrawals = hidden.show(withdrawals, policy)
                    if policy.protects, withdrawals > 0, withdrawals >= size {
                        hidden.add(.attribute)
                        shownWithdrawals = .null
                        object["suppressedFields"] = .array([.string("withdrawals"), .string("rate")])
                    }
                    let groupCurve = Curve(g.observations, width: width, population: g.population, policy: policy, k: k)
                    object = object.merging([
                        "participants": .int(Int64(size)), "withdrawals": shownWithdrawals,
                        "rate": shownWithdrawals.intValue == nil ? .null : Format.ratio(withdrawals, size),
                        "medianDaysToDropout": groupCurve.median.map { .int(Int64($0)) } ?? .null,
                        "survival": .array(groupCurve.json), "suppressed": .bool(false),
                    ])
                    longRows += groupCurve.csv.rows.map { [g.name] + $0 }
                    compared.append((g.population, g.observations))
                }
                objects.append(.object(object))
                tableRows.append(
                    [g.name]
                        + ["participants", "withdrawals", "rate", "medianDaysToDropout"].map {
                            StatsQuery.display(object[$0]!)
                        })
            }
            let test = Self.logRank(compared, width: width, policy: policy)
            dropouts["by"] = .string(by.rawValue)
            dropouts["groups"] = .array(objects)
            dropouts["logrank"] =
                test.map {
                    .object([
                        "statistic": .double($0.statistic), "df": .int(Int64($0.degreesOfFreedom)), "p": .double($0.p),
                    ])
                } ?? .null
            if let test {
                notes.append(
                    "Log-rank test across the \(compared.count) groups shown: χ² = \(Format.number(test.statistic, digits: 3)), df = \(test.degreesOfFreedom), p = \(Format.number(test.p, digits: 4))"
                        + (policy.protects ? ", computed from the perturbed counts of \(width)-day intervals." : "."))
            } else {
                notes.append("No log-rank test: fewer than two groups can be shown.")
            }
            table = TextTable(
                headers: ["group", "matched", "withdrew", "rate", "median days"], rows: tableRows,
                numeric: [1, 2, 3, 4], blank: "–")
            // Long format for pandas and R: one row per group and day (or interval).
            csvTable = TextTable(headers: ["group"] + curve.csv.headers, rows: longRows)
        }
        var result = QueryResult(basis: input.basis, payloadKey: "dropouts", payload: .object(dropouts), table: table)
        result.csvTable = csvTable
        if policy.protects {
            notes.append(
                "Survival is an actuarial life table over intervals of \(width) days, merged where a count would be below \(k), computed from the published counts."
            )
        }
        result.notes = notes
        result.disclose(hidden, under: policy, k: k)
        return result
    }

    /// One `--by` group: its people's population, and its matched people's observations.
    struct Group {
        var name: String
        var population = Population()
        var matched = 0
        var withdrawals = 0
        var observations: [KaplanMeier.Observation] = []
    }

    /// The groups with anyone matched, in natural order of their names.
    static func groups(
        _ people: [PersonView], by key: SegmentKey, scope: QueryScope, policy: DisclosurePolicy,
        observation: (PersonView) -> KaplanMeier.Observation?
    ) -> [Group] {
        var groups: [String: Group] = [:]
        // Each key an HMAC: computed once, for the labels and the groups.
        let keys = policy.keys(of: people.map(\.id))
        let label = policy.labels(of: people, keys: keys, by: key, k: scope.k)
        /// Counts a person into their group, changed in place: a copy taken out and put back
        /// shared its observations with the dictionary's, so every append copied the whole
        /// list (140 s for a generation's dropouts on the 10M store).
        func add(_ person: PersonView, key: CellKey, to entry: inout Group) {
            entry.population.add(key)
            if person.firstMatchedOn != nil {
                entry.matched += 1
                if person.withdrawnOn != nil { entry.withdrawals += 1 }
                if let o = observation(person) { entry.observations.append(o) }
            }
        }
        for (person, key) in zip(people, keys) {
            let name = label(person)
            add(person, key: key, to: &groups[name, default: Group(name: name)])
        }
        return groups.keys.sorted(by: NaturalOrder.less).compactMap { groups[$0] }.filter { $0.matched > 0 }
    }

    /// The log-rank test across the groups shown: on the observations for exact views, on
    /// perturbed at-risk and dropout counts per interval for protected ones (the same cells
    /// as the unmerged life table's).
    static func logRank(
        _ groups: [(population: Population, observations: [KaplanMeier.Observation])], width: Int,
        policy: DisclosurePolicy
    ) -> LogRank.Result? {
        guard groups.count >= 2 else { return nil }
        guard policy.protects else { return LogRank.test(groups.map(\.observations)) }
        let longest = groups.flatMap { $0.observations.map(\.duration) }.max() ?? 0
        var points: [LogRank.Point] = []
        var start = 0
        while start <= longest {
            let (s, e) = (start, start + width)
            points.append(
                LogRank.Point(
                    atRisk: groups.map {
                        Double(
                            policy.count(
                                $0.observations.filter { $0.duration >= s }.count, in: $0.population, "atRisk:\(s)"))
                    },
                    events: groups.map {
                        Double(
                            policy.count(
                                $0.observations.filter { $0.event && $0.duration >= s && $0.duration < e }.count,
                                in: $0.population, "events:\(s)-\(e)"))
                    }))
            start = e
        }
        return LogRank.test(points: points)
    }

    /// A survival curve as the policy allows: Kaplan–Meier by day for exact views, a life
    /// table of published counts for protected ones.
    struct Curve {
        var json: [JSONValue]
        var table: TextTable
        var csv: TextTable
        var median: Int?
        var cut = false

        init(
            _ observations: [KaplanMeier.Observation], width: Int, population: Population, policy: DisclosurePolicy,
            k: Int
        ) {
            if policy.protects {
                let (rows, cut) = LifeTable.estimate(
                    observations, width: width, population: population, policy: policy, k: k)
                self.cut = cut
                median = LifeTable.median(rows)
                json = rows.map { row in
                    .object([
                        "day": .int(Int64(row.start)), "until": .int(Int64(row.end)), "atRisk": .int(Int64(row.atRisk)),
                        "events": .int(Int64(row.events)), "censored": .int(Int64(row.censored)),
                        "survival": .double(row.survival),
                        "lower": .double(row.lower), "upper": .double(row.upper),
                    ])
                }
                table = TextTable(
                    headers: ["days", "at risk", "events", "censored", "survival", "95% CI"],
                    rows: rows.map {
                        [
                            "\($0.start)–\($0.end)", String($0.atRisk), String($0.events), String($0.censored),
                            Format.number($0.survival, digits: 3),
                            "\(Format.number($0.lower, digits: 3))–\(Format.number($0.upper, digits: 3))",
                        ]
                    },
                    numeric: [1, 2, 3, 4])
                csv = TextTable(
                    headers: ["day", "until", "atRisk", "events", "censored", "survival", "lower", "upper"],
                    rows: rows.map {
                        [
                            String($0.start), String($0.end), String($0.atRisk), String($0.events), String($0.censored),
                            full($0.survival), full($0.lower), full($0.upper),
                        ]
                    })
                return
            }
            let rows = KaplanMeier.estimate(observations)
            median = KaplanMeier.median(rows)
            json = rows.map { row in
                .object([
                    "day": .int(Int64(row.day)), "atRisk": .int(Int64(row.atRisk)), "events": .int(Int64(row.events)),
                    "censored": .int(Int64(row.censored)), "survival": .double(row.survival),
                    "lower": .double(row.lower), "upper": .double(row.upper),
                ])
            }
            table = TextTable(
                headers: ["day", "at risk", "events", "censored", "survival", "95% CI"],
                rows: rows.map {
                    [
                        String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                        Format.number($0.survival, digits: 3),
                        "\(Format.number($0.lower, digits: 3))–\(Format.number($0.upper, digits: 3))",
                    ]
                },
                numeric: [0, 1, 2, 3, 4])
            csv = TextTable(
                headers: ["day", "atRisk", "events", "censored", "survival", "lower", "upper"],
                rows: rows.map {
                    [
                        String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                        full($0.survival), full($0.lower), full($0.upper),
                    ]
                })
        }
    }

    /// A double as the shortest text that reads back exactly (what JSON carries too).
    static func full(_ value: Double) -> String { JSONValue.double(value).description }
}
