import EventLog
import Mentoring

/// `tandem stats`: participation figures of a programme, optionally by segment.
public enum StatsQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var by: SegmentKey?
        public var segment: SegmentFilter?
        public init(programme: ProgrammeID? = nil, by: SegmentKey? = nil, segment: SegmentFilter? = nil) {
            self.programme = programme
            self.by = by
            self.segment = segment
        }
    }

    /// A programme's headline figures, as `stats` prints them. Stored in the projections
    /// snapshot, so that a warm `tandem stats` reads a few hundred bytes.
    public struct Figures: Sendable, Equatable {
        /// The figures, in print order.
        public var stats: JSONObject

        public init(stats: JSONObject) {
            self.stats = stats
        }
    }

    /// Computes the figures of a programme, for the people a segment admits (all if nil),
    /// as `policy` publishes them.
    /// - Returns: the figures, the cells hidden, and the population of the people counted.
    /// - Complexity: O(people + tandems).
    public static func figures(
        _ model: ProgrammeReadModel, programme: ProgrammeID, segment: SegmentFilter?,
        policy: DisclosurePolicy = .exact, k: Int = 1
    ) -> (Figures, hidden: SuppressedCells, population: Population) {
        figures(model, programmes: [programme], label: programme.rawValue, segment: segment, policy: policy, k: k)
    }

    /// The figures of several programmes together (`--by programme`), labelled `label`.
    public static func figures(
        _ model: ProgrammeReadModel, programmes: Set<ProgrammeID>, label: String, segment: SegmentFilter?,
        policy: DisclosurePolicy = .exact, k: Int = 1
    ) -> (Figures, hidden: SuppressedCells, population: Population) {
        let counted = count(model, programmes: programmes, label: label, segment: segment, policy: policy, k: k)
        return (counted.figures, counted.hidden, counted.population)
    }

    /// The figures of some programmes' people (a segment's, if given) and what `--by`
    /// reuses of them.
    struct Counted {
        var figures: Figures
        var hidden: SuppressedCells
        var population: Population
        /// A segment's people rows, ascending (empty without a segment).
        var segmentRows: [Int32]
        /// The record keys of the people counted, all `.empty` for exact views: a segment's in
        /// the order of `segmentRows`; without one, everyone's in row order (none for exact
        /// views).
        var keys: [CellKey]
    }

    /// The figures, counted from the rows: no person's or tandem's view is made (a million
    /// of them were most of a `--segment` query's 600 MB on the 10M store).
    /// - Complexity: O(people + tandems).
    static func count(
        _ model: ProgrammeReadModel, programmes: Set<ProgrammeID>, label: String, segment: SegmentFilter?,
        policy: DisclosurePolicy, k: Int
    ) -> Counted {
        let peopleRows = model.peopleRows
        // Each an HMAC for analysts: computed once, and handed back for the `--by` groups.
        let keys: [CellKey]
        let counts: TandemCounts
        let headline: PeopleRows.Headline
        var segmentRows: [Int32] = []
        let population: Population
        if let segment {
            segmentRows = peopleRows.rows(in: programmes, admittedBy: segment)
            headline = peopleRows.headline(ofRows: segmentRows)
            // The tandems with a member in the segment.
            counts = model.tandemRows.headline(
                in: programmes, collectingRows: policy.protects, members: peopleRows.marking(segmentRows))
            keys = policy.keys(ofPeopleRows: segmentRows, in: peopleRows)
            population = Population(keys: keys)
        } else {
            // Ids only for record keys: an exact population is its size (on the 10M store,
            // 59 MB of ids held for nothing).
            headline = peopleRows.headline(in: programmes, collectingRows: policy.protects)
            counts = model.tandemRows.headline(in: programmes, collectingRows: policy.protects)
            if policy.protects {
                keys = policy.keys(ofPeopleRows: headline.rows, in: peopleRows)
                population = Population(keys: keys)
            } else {
                keys = []
                population = Population(size: headline.count)
            }
        }
        let (mentors, matched, waiting, withdrawn, peopleCount) = (
            headline.mentors, headline.matched, headline.waiting, headline.withdrawn, headline.count
        )
        let (active, completed, dissolved, swaps) = (counts.active, counts.completed, counts.dissolved, counts.swaps)
        let (sessions, sessionsOfActive, minutes, goalsSet, goalsReached) = (
            counts.sessions, counts.sessionsOfActive, counts.minutes, counts.goalsSet, counts.goalsReached
        )
        // Every figure is taken over one of two populations: the people, or their tandems.
        let pairs =
            policy.protects
            ? policy.population(tandemRows: counts.rows, in: model.tandemRows) : Population(size: counts.count)
        var hidden = SuppressedCells(k: k)
        func count(_ n: Int, _ variable: String, over base: Population) -> (JSONValue, Int) {
            let published = policy.count(n, in: base, variable)
            return (hidden.show(published, policy), published)
        }
        func magnitude(_ m: Magnitude, _ variable: String) -> Int {
            policy.magnitude(m.total, largest: m.largest, in: pairs, variable)
        }
        let participants = policy.size(population)
        let (activeShown, activePublished) = count(active, "active", over: pairs)
        let published = (
            sessions: magnitude(sessions, "sessions"), ofActive: magnitude(sessionsOfActive, "sessionsOfActive"),
            goalsSet: magnitude(goalsSet, "goalsSet"), goalsReached: magnitude(goalsReached, "goalsReached")
        )
        let stats: JSONObject = [
            "programme": .string(label),
            "participants": hidden.show(participants, policy),
            "mentors": count(mentors, "mentors", over: population).0,
            "mentees": count(peopleCount - mentors, "mentees", over: population).0,
            "matched": count(matched, "matched", over: population).0,
            "waiting": count(waiting, "waiting", over: population).0,
            "withdrawn": count(withdrawn, "withdrawn", over: population).0,
            "activeTandems": activeShown,
            "completedTandems": count(completed, "completed", over: pairs).0,
            "dissolvedTandems": count(dissolved, "dissolved", over: pairs).0,
            "sessions": .int(Int64(published.sessions)),
            "minutes": .int(Int64(magnitude(minutes, "minutes"))),
            "swaps": count(
                segment == nil && !policy.protects ? programmes.reduce(0) { $0 + (model.swaps[$1] ?? 0) } : swaps,
                "swaps", over: pairs
            ).0,
            "goalsSet": .int(Int64(published.goalsSet)),
            "goalsReached": .int(Int64(published.goalsReached)),
            "sessionsPerActiveTandem": activeShown.intValue == nil || activePublished == 0
                ? .null : .double(Double(published.ofActive) / Double(activePublished)),
            "goalAttainment": Format.ratio(published.goalsReached, published.goalsSet),
        ]
        return Counted(
            figures: Figures(stats: stats), hidden: hidden, population: population, segmentRows: segmentRows, keys: keys
        )
    }

    /// What the figures count of the tandems in scope.
    struct TandemCounts {
        /// Their rows, in the model's order (the population of pairs), if `collectsRows`.
        var rows: [Int32] = []
        var collectsRows = true
        /// How many tandems were counted.
        var count = 0
        var active = 0, completed = 0, dissolved = 0, swaps = 0
        var sessions = Magnitude(), sessionsOfActive = Magnitude(), minutes = Magnitude(), goalsSet = Magnitude(),
            goalsReached = Magnitude()

        /// Counts one tandem.
        mutating func add(
            _ row: Int32, status: TandemStatus, sessions: Int, minutes: Int, goalsSet: Int, goalsReached: Int,
            isSwap: Bool
        ) {
            if collectsRows { rows.append(row) }
            count += 1
            switch status {
            case .active:
                active += 1
                sessionsOfActive.add(sessions)
            case .completed: completed += 1
            case .dissolved: dissolved += 1
            }
            self.sessions.add(sessions)
            self.minutes.add(minutes)
            self.goalsSet.add(goalsSet)
            self.goalsReached.add(goalsReached)
            if isSwap { swaps += 1 }
        }
    }

    /// A sum of contributions and the largest of them (what a magnitude's noise scales to).
    struct Magnitude: Equatable {
        var total = 0
        var largest = 0
        mutating func add(_ value: Int) {
            total += value
            largest = max(largest, value)
        }

        /// Adds another magnitude's contributions.
        mutating func add(_ other: Magnitude) {
            total += other.total
            largest = max(largest, other.largest)
        }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let query: QueryKind = options.by == nil && options.segment == nil ? .stats : .statsBySegment
        try input.disclosure.permit(query)
        let scope = try input.scope(options.programme, by: options.by)
        let k = scope.k
        let policy = input.disclosure
        // The groups' sessions and goals by person (a pass over every tandem) are summed on
        // the other core while the headline figures are counted here.
        let activity = options.by.map { _ in Prefetched { [model = input.model] in model.activity() } }
        let figures: Figures
        var counted: Counted?
        var hidden = SuppressedCells(k: k)
        // With a segment, for analysts: everyone in scope's record keys, in row order (the
        // programme's population, and the people the `--by` groups are decided over).
        var everyoneKeys: [CellKey] = []
        if !policy.protects, options.by == nil, options.segment == nil,
            let stored = input.figures?[scope.programmes[0].id]
        {
            figures = stored
        } else {
            let c = Self.count(
                input.model, programmes: scope.ids, label: scope.label, segment: options.segment, policy: policy, k: k)
            (figures, hidden, counted) = (c.figures, c.hidden, c)
            if policy.protects {
                let peopleRows = input.model.peopleRows
                if options.segment != nil {
                    everyoneKeys = policy.keys(ofPeopleRows: peopleRows.rows(in: scope.ids), in: peopleRows)
                }
                let inProgramme = options.segment == nil ? c.population : Population(keys: everyoneKeys)
                // Everyone is the programme's people when every person is one of them.
                let everyone =
                    inProgramme.size == input.model.people.count
                    ? inProgramme : policy.population(everyoneIn: input.model.people)
                try policy.checkFilter(
                    .init("programme", "\(scope.label)"), selected: inProgramme, parent: everyone, k: k, query: query)
                if let segment = options.segment {
                    try policy.checkFilter(
                        .init("segment", "\(segment)"), selected: c.population, parent: inProgramme, k: k,
                        query: query)
                }
            }
        }
        var stats = figures.stats
        if let segment = options.segment { stats["segment"] = .string(segment.description) }
        var table = TextTable(
            headers: ["figure", "value"], rows: stats.members.map { [$0.key, display($0.value)] }, numeric: [1],
            blank: "–")
        var csvTable = TextTable(headers: stats.members.map(\.key), rows: [stats.members.map { display($0.value) }])
        var notes: [String] = []
        if let by = options.by {
            // `counted` is set: figures by group are never the stored ones.
            let groups = Self.groups(
                input.model, scope: scope.ids, by: by,
                segment: options.segment == nil ? nil : (counted?.segmentRows ?? [], counted?.keys ?? []),
                keys: options.segment == nil ? counted?.keys ?? [] : everyoneKeys, policy: policy, k: k,
                activity: activity)
            var rows: [JSONValue] = []
            var tableRows: [[String]] = []
            for name in groups.keys.sorted(by: NaturalOrder.less) {
                let g = groups[name]!
                let size = policy.size(g.population)
                var object: JSONObject = ["group": .string(name)]
                if policy.protects && size < k {
                    hidden.add(.smallGroup, 5)
                    object = object.merging([
                        "participants": .null, "withdrawn": .null, "sessions": .null, "goalsReached": .null,
                        "reachedAGoal": .null,
                        "withdrawalRate": .null, "suppressed": .bool(true),
                        "reason": .string(SuppressionReason.smallGroup.rawValue),
                    ])
                } else {
                    var fields: [String] = []
                    // A count that equals the group's size would read as a statement about each of them.
                    func attribute(_ n: Int, _ variable: String) -> (JSONValue, Int?) {
                        let published = policy.count(n, in: g.population, variable)
                        if policy.protects, published > 0, published >= size {
                            hidden.add(.attribute)
                            fields.append(variable)
                            return (.null, nil)
                        }
                        let shown = hidden.show(published, policy)
                        return (shown, shown.intValue.map(Int.init))
                    }
                    let (withdrawn, withdrawnValue) = attribute(g.withdrawn, "withdrawn")
                    let (reached, _) = attribute(g.reachedAGoal, "reachedAGoal")
                    object = object.merging([
                        "participants": .int(Int64(size)),
                        "withdrawn": withdrawn,
                        "sessions": .int(
                            Int64(
                                policy.magnitude(
                                    g.sessions.total, largest: g.sessions.largest, in: g.population, "sessions"))),
                        "goalsReached": .int(
                            Int64(
                                policy.magnitude(
                                    g.goalsReached.total, largest: g.goalsReached.largest, in: g.population,
                                    "goalsReached"))),
                        "reachedAGoal": reached,
                        "withdrawalRate": withdrawnValue.map { Format.ratio($0, size) } ?? .null,
                        "suppressed": .bool(false),
                    ])
                    if !fields.isEmpty { object["suppressedFields"] = .array(fields.map(JSONValue.string)) }
                }
                rows.append(.object(object))
                tableRows.append(
                    [name]
                        + ["participants", "withdrawn", "sessions", "goalsReached", "reachedAGoal", "withdrawalRate"]
                        .map { display(object[$0]!) })
            }
            stats["by"] = .string(by.rawValue)
            stats["groups"] = .array(rows)
            table = TextTable(
                headers: ["group", "people", "withdrawn", "sessions*", "goals*", "reached", "w-rate"], rows: tableRows,
                numeric: [1, 2, 3, 4, 5, 6], blank: "–")
            csvTable = TextTable(
                headers: [
                    "group", "participants", "withdrawn", "sessions", "goalsReached", "reachedAGoal", "withdrawalRate",
                    "suppressed",
                ],
                rows: zip(tableRows, rows).map { row, object in
                    row + [object.objectValue?["suppressed"]?.boolValue == true ? "true" : "false"]
                })
            notes.append(
                "* sessions and goals reached of the tandems the group's people were in: a tandem with members in two groups counts in both, so the column does not add up to the total."
            )
            notes.append(
                "Totals: "
                    + ["participants", "withdrawn", "sessions", "goalsReached"].map {
                        "\($0) \(display(stats[$0]!).isEmpty ? "–" : display(stats[$0]!))"
                    }.joined(separator: ", "))
        }
        var result = QueryResult(basis: input.basis, payloadKey: "stats", payload: .object(stats), table: table)
        result.csvTable = csvTable
        result.notes = notes
        result.disclose(hidden, under: policy, k: k)
        return result
    }

    /// What `stats --by` counts of each group: its people's population, how many withdrew
    /// or reached a goal, and their tandems' sessions and reached goals.
    struct Group: Equatable {
        var population = Population()
        var withdrawn = 0
        var reachedAGoal = 0
        var sessions = Magnitude()
        var goalsReached = Magnitude()

        /// Adds another group's people (two groups shown as "other").
        mutating func add(_ other: Group) {
            population.add(other.population)
            withdrawn += other.withdrawn
            reachedAGoal += other.reachedAGoal
            sessions.add(other.sessions)
            goalsReached.add(other.goalsReached)
        }
    }

    /// The groups of `stats --by key`, by the name each is shown under, read from the rows.
    /// - Parameters:
    ///   - segment: with `--segment`, its people's rows (ascending) and their record keys;
    ///     nil for everyone in `scope`.
    ///   - keys: everyone in scope's record keys in row order, for perturbed views (which
    ///     groups are shown as "other" is decided over all of them, with a segment too);
    ///     ignored for exact views.
    static func groups(
        _ model: ProgrammeReadModel, scope: Set<ProgrammeID>, by: SegmentKey,
        segment: (rows: [Int32], keys: [CellKey])?, keys: [CellKey], policy: DisclosurePolicy, k: Int,
        activity prefetched: Prefetched<PersonActivity>? = nil
    ) -> [String: Group] {
        var groups: [String: Group] = [:]
        // Everyone in scope by group, read from the rows (a million people's views cost
        // more than the groups).
        let segments = model.peopleRows.segments(in: scope, by: by)
        let activity = prefetched?.wait() ?? model.activity()
        assert(!policy.protects || keys.count == segments.rows.count, "a key for each person")
        let shown =
            policy.protects
            ? policy.shownNames(segments.names, group: segments.group, keys: keys, k: k) : segments.names
        // Counted by group number, then merged by the name each is shown under.
        var counted = [Group?](repeating: nil, count: segments.names.count)
        func add(at i: Int, key: CellKey) {
            let done = activity[row: segments.rows[i]]
            var g = counted[Int(segments.group[i])] ?? Group()
            g.population.add(key)
            if segments.withdrawn[i] { g.withdrawn += 1 }
            if done.goalsReached > 0 { g.reachedAGoal += 1 }
            g.sessions.add(done.sessions)
            g.goalsReached.add(done.goalsReached)
            counted[Int(segments.group[i])] = g
        }
        if let segment {
            // The segment's people, each found among everyone (both in row order).
            assert(segment.keys.count == segment.rows.count, "a key for each person")
            var i = 0
            for (row, key) in zip(segment.rows, segment.keys) {
                while i < segments.rows.count && segments.rows[i] < row { i += 1 }
                guard i < segments.rows.count, segments.rows[i] == row else { continue }
                add(at: i, key: key)
            }
        } else {
            for i in segments.rows.indices { add(at: i, key: policy.protects ? keys[i] : .empty) }
        }
        for (number, g) in counted.enumerated() {
            guard let g else { continue }
            groups[shown[number], default: Group()].add(g)
        }
        return groups
    }

    static func display(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return Format.number(d, digits: 4)
        case .bool(let b): return b ? "yes" : "no"
        default: return value.description
        }
    }
}
