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
    }

    /// A person's observation for the curve, or nil if they were never matched.
    public static func observation(
        _ person: PersonView, programme: Programme, asOf: BusinessDate
    ) -> KaplanMeier.Observation? {
        observation(Standing(person), ends: programme.ends, asOf: asOf)
    }

    /// Where a person stands, as the curve and the counts need it.
    struct Standing {
        var firstMatchedOn: BusinessDate?
        var withdrawnOn: BusinessDate?
        /// Their last tandem completed, and they are in no other: censored at its end.
        var completedOn: BusinessDate?

        init(_ person: PersonView) {
            firstMatchedOn = person.firstMatchedOn
            withdrawnOn = person.withdrawnOn
            if person.activeTandem == nil, let last = person.lastTandemEnd, last.status == .completed {
                completedOn = last.on
            }
        }

        init(firstMatchedOn: BusinessDate?, withdrawnOn: BusinessDate?, completedOn: BusinessDate?) {
            self.firstMatchedOn = firstMatchedOn
            self.withdrawnOn = withdrawnOn
            self.completedOn = completedOn
        }
    }

    static func observation(_ person: Standing, ends: BusinessDate, asOf: BusinessDate) -> KaplanMeier.Observation? {
        guard let origin = person.firstMatchedOn else { return nil }
        if let withdrawn = person.withdrawnOn, withdrawn >= origin {
            return .init(duration: origin.days(to: withdrawn), event: true)
        }
        let end = person.completedOn ?? min(asOf, ends)
        return .init(duration: max(0, origin.days(to: end)), event: false)
    }

    /// What the query reads of a person, in 16 bytes: their row (for their record key),
    /// role, counts, observation and `--by` group. A view of each of a million people was
    /// most of the query's memory.
    struct Person: Sendable {
        var row: Int32
        /// The observation's duration in days (when `observed`).
        var duration: Int32
        /// An index into the groups' names (0 without `--by`).
        var group: Int32
        var flags: Flags
        /// The withdrawal's reason, as rows store it.
        var reason: UInt8

        struct Flags: OptionSet, Sendable {
            let rawValue: UInt8
            static let mentor = Flags(rawValue: 1)
            static let matched = Flags(rawValue: 2)
            static let withdrawn = Flags(rawValue: 4)
            static let withdrewBeforeMatch = Flags(rawValue: 8)
            /// An observation for the curve (matched, in a programme the model knows).
            static let observed = Flags(rawValue: 16)
            /// The observation ends in a withdrawal.
            static let event = Flags(rawValue: 32)
        }

        init(
            row: Int32, isMentor: Bool, standing: Standing, withdrewBeforeMatch: Bool, reason: ReasonCode?,
            observation: KaplanMeier.Observation?, group: Int32
        ) {
            var flags: Flags = []
            if isMentor { flags.insert(.mentor) }
            if standing.firstMatchedOn != nil { flags.insert(.matched) }
            if standing.withdrawnOn != nil { flags.insert(.withdrawn) }
            if withdrewBeforeMatch { flags.insert(.withdrewBeforeMatch) }
            if let observation {
                flags.insert(.observed)
                if observation.event { flags.insert(.event) }
            }
            self.flags = flags
            self.row = row
            self.duration = Int32(clamping: observation?.duration ?? 0)
            self.group = group
            self.reason = reason.stored
        }

        var matched: Bool { flags.contains(.matched) }
        var withdrawn: Bool { flags.contains(.withdrawn) }
        var withdrewBeforeMatch: Bool { flags.contains(.withdrewBeforeMatch) }
        var reasonCode: ReasonCode? { ReasonCode?(stored: reason) }
        var observation: KaplanMeier.Observation? {
            flags.contains(.observed) ? .init(duration: Int(duration), event: flags.contains(.event)) : nil
        }

        /// The ids of `people`, read from their rows: for their record keys, with no array of
        /// rows or ids made first.
        struct IDs: ContributorRows {
            let rows: ChunkedRows<PeopleRows.Row>
            let people: [Person]
            var count: Int { people.count }
            func id(at position: Int) -> String { rows[Int(people[position].row)].id.rawValue }
            var every: PeopleRowIDs { PeopleRowIDs(rows: rows) }
            func row(at position: Int) -> Int { Int(people[position].row) }
            var isEveryRow: Bool { false }
        }

        func admitted(by filter: PopulationFilter) -> Bool {
            switch filter {
            case .all: true
            case .mentees: !flags.contains(.mentor)
            case .mentors: flags.contains(.mentor)
            }
        }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let query: QueryKind = options.by == nil ? .dropouts : .dropoutsBySegment
        try input.disclosure.permit(query)
        let scope = try input.scope(options.programme, by: options.by)
        // Read from the rows, in row order: every figure here is a count, a sum of record
        // keys or a curve of durations, so the order does not matter.
        let model = input.model
        let rows = model.peopleRows
        var names: [String] = []
        var numbers: [Int32], groups: [Int32]
        if let by = options.by {
            let segments = rows.segments(in: scope.ids, by: by)
            (names, numbers, groups) = (segments.names, segments.rows, segments.group)
        } else {
            numbers = rows.rows(in: scope.ids)
            groups = []
        }
        let ends = model.programmeOrder.compactMap { model.programmes[$0] }.reduce(into: [ProgrammeID: BusinessDate]())
        {
            $0[$1.id] = $1.ends
        }
        var people: [Person] = []
        people.reserveCapacity(numbers.count)
        for (position, number) in numbers.enumerated() {
            let person = rows.standing(number)
            people.append(
                Person(
                    row: number, isMentor: person.isMentor, standing: person.standing,
                    withdrewBeforeMatch: person.withdrewBeforeMatch, reason: person.reason,
                    observation: ends[person.programme].flatMap {
                        observation(person.standing, ends: $0, asOf: input.asOf)
                    },
                    group: groups.isEmpty ? 0 : groups[position]))
        }
        // Let go before the query's own lists are made: the people hold their rows and groups.
        (numbers, groups) = ([], [])
        return try run(input, options, scope: scope, people: people, names: names)
    }

    /// The dropouts of the people `people` lists for a scope (in any order), from their
    /// views: the plain path the rows' is checked against.
    static func run(
        _ input: QueryInput, _ options: Options, people inScopeOf: (QueryScope) -> [PersonView]
    ) throws -> QueryResult {
        let query: QueryKind = options.by == nil ? .dropouts : .dropoutsBySegment
        try input.disclosure.permit(query)
        let scope = try input.scope(options.programme, by: options.by)
        var names: [String] = []
        var numbers: [String: Int32] = [:]
        let people = inScopeOf(scope).map { view in
            var group: Int32 = 0
            if let by = options.by {
                let name = by.value(of: view)
                if let known = numbers[name] {
                    group = known
                } else {
                    group = Int32(names.count)
                    names.append(name)
                    numbers[name] = group
                }
            }
            return Person(
                row: input.model.peopleRows.row(of: view.id) ?? -1, isMentor: view.role == .mentor,
                standing: Standing(view), withdrewBeforeMatch: view.withdrewBeforeMatch, reason: view.withdrawalReason,
                observation: input.model.programmes[view.programme].flatMap {
                    observation(view, programme: $0, asOf: input.asOf)
                }, group: group)
        }
        return try run(input, options, scope: scope, people: people, names: names)
    }

    /// The dropouts of `people` (the scope's, in any order), grouped under `names` for `--by`.
    static func run(
        _ input: QueryInput, _ options: Options, scope: QueryScope, people inScope: [Person], names: [String]
    ) throws -> QueryResult {
        let query: QueryKind = options.by == nil ? .dropouts : .dropoutsBySegment
        let k = scope.k
        let width = LifeTable.width(cadenceDays: scope.cadenceDays)
        let policy = input.disclosure
        // Counted in one pass, not filtered into copies.
        let people = options.population == .all ? inScope : inScope.filter { $0.admitted(by: options.population) }
        let rows = input.model.peopleRows
        let keys = policy.keys(ofPeople: Person.IDs(rows: rows.rows, people: people))
        let population = Population(keys: keys)
        if policy.protects {
            let whole =
                options.population == .all
                ? population
                : Population(
                    keys: policy.keys(ofPeople: Person.IDs(rows: rows.rows, people: inScope)))
            try policy.checkFilter(
                .init("programme", "\(scope.label)"), selected: whole,
                parent: policy.population(everyoneIn: input.model.people), k: k, query: query)
            if options.population != .all {
                try policy.checkFilter(
                    .init("population", options.population.rawValue), selected: population, parent: whole, k: k,
                    query: query)
            }
        }
        var hidden = SuppressedCells(k: k)
        var matched = 0, withdrawn = 0, beforeMatch = 0
        var observations: [KaplanMeier.Observation] = []
        // Room for them all at once: grown by doubling, the list and its last copy were
        // briefly 50 MB on the 10M store.
        observations.reserveCapacity(people.lazy.filter(\.matched).count)
        var reasons: [String: Int] = [:]
        for person in people {
            if person.matched {
                matched += 1
                if let observed = person.observation { observations.append(observed) }
            }
            if person.withdrawn {
                withdrawn += 1
                if person.withdrewBeforeMatch { beforeMatch += 1 }
                reasons[person.reasonCode?.rawValue ?? "other", default: 0] += 1
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
        // Let go before the groups' own observations are gathered (20 MB on the 10M store).
        observations = []
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
            let grouped = Self.groups(people, keys: keys, names: names, scope: scope, policy: policy)
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

    /// The groups with anyone matched, in natural order of their names: each person's group
    /// is `names[person.group]`, shown as the policy says (an analyst's small groups, over
    /// `people` with their record `keys`, merge into "other").
    static func groups(
        _ people: [Person], keys: [CellKey], names: [String], scope: QueryScope, policy: DisclosurePolicy
    ) -> [Group] {
        let shown = policy.shownNames(names, group: people.lazy.map(\.group), keys: keys, k: scope.k)
        var groups: [String: Group] = [:]
        /// Counts a person into their group, changed in place: a copy taken out and put back
        /// shared its observations with the dictionary's, so every append copied the whole
        /// list (140 s for a generation's dropouts on the 10M store).
        func add(_ person: Person, key: CellKey, to entry: inout Group) {
            entry.population.add(key)
            if person.matched {
                entry.matched += 1
                if person.withdrawn { entry.withdrawals += 1 }
                if let o = person.observation { entry.observations.append(o) }
            }
        }
        // Each group's observations in room made once: grown by doubling, they were 27 MB
        // of a generation's dropouts on the 10M store, for 10 MB of observations.
        var observed: [String: Int] = [:]
        for person in people where person.matched && person.observation != nil {
            observed[shown[Int(person.group)], default: 0] += 1
        }
        for (name, count) in observed { groups[name, default: Group(name: name)].observations.reserveCapacity(count) }
        for (person, key) in zip(people, keys) {
            let name = shown[Int(person.group)]
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
        let tallies = groups.map { DurationTally($0.observations) }
        let longest = tallies.compactMap(\.longest).max() ?? 0
        var points: [LogRank.Point] = []
        var start = 0
        while start <= longest {
            let (s, e) = (start, start + width)
            points.append(
                LogRank.Point(
                    atRisk: zip(groups, tallies).map { group, tally in
                        Double(policy.count(tally.lasting(atLeast: s), in: group.population, "atRisk:\(s)"))
                    },
                    events: zip(groups, tallies).map { group, tally in
                        Double(
                            policy.count(tally.events(from: s, to: e), in: group.population, "events:\(s)-\(e)"))
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
