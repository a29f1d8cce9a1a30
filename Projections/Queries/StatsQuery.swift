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
    /// - Returns: the figures, the people they are about, the cells hidden, the population
    ///   of those people and their record keys (in the order of `people`).
    /// - Complexity: O(people + tandems + goals).
    public static func figures(
        _ model: ProgrammeReadModel, programme: ProgrammeID, segment: SegmentFilter?,
        policy: DisclosurePolicy = .exact, k: Int = 1
    ) -> (Figures, people: [PersonView], hidden: SuppressedCells, population: Population, keys: [CellKey]) {
        figures(model, programmes: [programme], label: programme.rawValue, segment: segment, policy: policy, k: k)
    }

    /// The figures of several programmes together (`--by programme`), labelled `label`.
    /// Without a segment the counts are read from the rows, and the people's views are built
    /// only if `needsPeople` (the `--by` groups need them; the headline figures do not).
    public static func figures(
        _ model: ProgrammeReadModel, programmes: Set<ProgrammeID>, label: String, segment: SegmentFilter?,
        policy: DisclosurePolicy = .exact, k: Int = 1, needsPeople: Bool = true
    ) -> (Figures, people: [PersonView], hidden: SuppressedCells, population: Population, keys: [CellKey]) {
        var people: [PersonView] = []
        // Each an HMAC for analysts: computed once, and handed back for the `--by` groups.
        let keys: [CellKey]
        var counts = TandemCounts()
        var mentors = 0, matched = 0, waiting = 0, withdrawn = 0, peopleCount = 0
        let population: Population
        if let segment {
            people = model.people.values.filter { programmes.contains($0.programme) && segment.admits($0) }
            let ids = Set(people.map(\.id))
            let tandems = model.tandems.values.filter {
                programmes.contains($0.programme) && (ids.contains($0.mentor) || ids.contains($0.mentee))
            }
            for tandem in tandems {
                var isSwap = false
                if case .swap = tandem.origin { isSwap = true }
                counts.add(
                    tandem.id, status: tandem.status, sessions: tandem.sessions, minutes: tandem.minutes,
                    goalsSet: tandem.goalsSet, goalsReached: tandem.goalsReached, isSwap: isSwap)
            }
            for person in people {
                if person.role == .mentor { mentors += 1 }
                if person.firstMatchedOn != nil { matched += 1 }
                if person.isWaiting { waiting += 1 }
                if person.withdrawnOn != nil { withdrawn += 1 }
            }
            peopleCount = people.count
            keys = policy.keys(of: people.map(\.id))
            population = Population(keys: keys)
        } else {
            // A million people's views cost more to build than the figures to count.
            // Ids only for record keys: an exact population is its size (on the 10M store,
            // 59 MB of ids held for nothing).
            let headline = model.peopleRows.headline(in: programmes, collectingRows: policy.protects)
            (mentors, matched, waiting, withdrawn) = (
                headline.mentors, headline.matched, headline.waiting, headline.withdrawn
            )
            peopleCount = headline.count
            counts = model.tandemRows.headline(in: programmes, collectingIDs: policy.protects)
            // In row order, as the ids are.
            if needsPeople { people = model.people.values.filter { programmes.contains($0.programme) } }
            if policy.protects {
                keys = policy.keys(ofPeopleRows: headline.rows, in: model.peopleRows)
                population = Population(keys: keys)
            } else {
                keys = [CellKey](repeating: .empty, count: needsPeople ? people.count : 0)
                population = Population(size: peopleCount)
            }
        }
        let (active, completed, dissolved, swaps) = (counts.active, counts.completed, counts.dissolved, counts.swaps)
        let (sessions, sessionsOfActive, minutes, goalsSet, goalsReached) = (
            counts.sessions, counts.sessionsOfActive, counts.minutes, counts.goalsSet, counts.goalsReached
        )
        // Every figure is taken over one of two populations: the people, or their tandems.
        let pairs = policy.protects ? policy.population(tandems: counts.ids) : Population(size: counts.count)
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
        return (Figures(stats: stats), people, hidden, population, keys)
    }

    /// What the figures count of the tandems in scope.
    struct TandemCounts {
        /// Their ids, in the model's order (the population of pairs), if `collectsIDs`.
        var ids: [TandemID] = []
        var collectsIDs = true
        /// How many tandems were counted.
        var count = 0
        var active = 0, completed = 0, dissolved = 0, swaps = 0
        var sessions = Magnitude(), sessionsOfActive = Magnitude(), minutes = Magnitude(), goalsSet = Magnitude(),
            goalsReached = Magnitude()

        /// Counts one tandem.
        mutating func add(
            _ id: TandemID, status: TandemStatus, sessions: Int, minutes: Int, goalsSet: Int, goalsReached: Int,
            isSwap: Bool
        ) {
            if collectsIDs { ids.append(id) }
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
        let figures: Figures, people: [PersonView]
        var keys: [CellKey] = []
        var hidden = SuppressedCells(k: k)
        if !policy.protects, options.by == nil, options.segment == nil,
            let stored = input.figures?[scope.programmes[0].id]
        {
            (figures, people) = (stored, [])
        } else {
            let population: Population
            (figures, people, hidden, population, keys) = Self.figures(
                input.model, programmes: scope.ids, label: scope.label, segment: options.segment, policy: policy, k: k,
                needsPeople: false)
            if policy.protects {
                let inProgramme =
                    options.segment == nil ? population : policy.population(input.peopleInAnyOrder(in: scope).map(\.id))
                // Everyone is the programme's people when every person is one of them.
                let everyone =
                    inProgramme.size == input.model.people.count
                    ? inProgramme : policy.population(everyoneIn: input.model.people)
                try policy.checkFilter(
                    .init("programme", "\(scope.label)"), selected: inProgramme, parent: everyone, k: k, query: query)
                if let segment = options.segment {
                    try policy.checkFilter(
                        .init("segment", "\(segment)"), selected: population, parent: inProgramme, k: k, query: query)
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
            let groups = Self.groups(
                input.model, scope: scope.ids, by: by, segment: options.segment == nil ? nil : (people, keys),
                keys: keys, policy: policy, k: k, activity: activity)
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
    ///   - segment: with `--segment`, its people and their record keys; nil for everyone in
    ///     `scope`.
    ///   - keys: without a segment, everyone's record keys in row order (the figures'; empty
    ///     for exact views).
    static func groups(
        _ model: ProgrammeReadModel, scope: Set<ProgrammeID>, by: SegmentKey,
        segment: (people: [PersonView], keys: [CellKey])?, keys: [CellKey], policy: DisclosurePolicy, k: Int,
        activity prefetched: Prefetched<PersonActivity>? = nil
    ) -> [String: Group] {
        var groups: [String: Group] = [:]
        let peopleRows = model.peopleRows
        // Everyone in scope by group, read from the rows (a million people's views cost
        // more than the groups). Which groups an analyst sees as "other" is decided over
        // all of them, with a segment too.
        let segments = peopleRows.segments(in: scope, by: by)
        let activity = prefetched?.wait() ?? model.activity()
        let shown: [String]
        if policy.protects {
            let everyone = segment == nil ? keys : policy.keys(of: segments.rows.map(peopleRows.id(ofRow:)))
            shown = policy.shownNames(segments.names, group: segments.group, keys: everyone, k: k)
        } else {
            shown = segments.names
        }
        // Counted by group number, then merged by the name each is shown under.
        var counted = [Group?](repeating: nil, count: segments.names.count)
        func add(row: Int32, group: Int32, withdrawn: Bool, key: CellKey) {
            let done = activity[row: row]
            var g = counted[Int(group)] ?? Group()
            g.population.add(key)
            if withdrawn { g.withdrawn += 1 }
            if done.goalsReached > 0 { g.reachedAGoal += 1 }
            g.sessions.add(done.sessions)
            g.goalsReached.add(done.goalsReached)
            counted[Int(group)] = g
        }
        func merged() -> [String: Group] {
            for (number, g) in counted.enumerated() {
                guard let g else { continue }
                groups[shown[number], default: Group()].add(g)
            }
            return groups
        }
        guard let segment else {
            // The figures' record keys are everyone's, in row order (none for exact views).
            assert(!policy.protects || keys.count == segments.rows.count, "a key for each person")
            for i in segments.rows.indices {
                add(
                    row: segments.rows[i], group: segments.group[i], withdrawn: segments.withdrawn[i],
                    key: policy.protects ? keys[i] : .empty)
            }
            return merged()
        }
        // The segment's people, each found among everyone by their row (ascending).
        assert(segment.keys.count == segment.people.count, "a key for each person")
        for (person, key) in zip(segment.people, segment.keys) {
            guard let row = peopleRows.row(of: person.id) else { continue }
            var low = 0, high = segments.rows.count
            while low < high {
                let mid = (low + high) / 2
                if segments.rows[mid] < row { low = mid + 1 } else { high = mid }
            }
            guard low < segments.rows.count, segments.rows[low] == row else { continue }
            add(row: row, group: segments.group[low], withdrawn: segments.withdrawn[low], key: key)
        }
        return merged()
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
