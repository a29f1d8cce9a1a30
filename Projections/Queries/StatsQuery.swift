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

    /// The figures of one group of people.
    struct GroupFigures {
        var group: String
        var participants = 0
        var withdrawn = 0
        var sessions = 0
        var goalsReached = 0
        var reachedAGoal = 0
    }

    /// A programme's headline figures, as `stats` prints them, with the group sizes the
    /// analysts' suppression checks need. Stored in the projections snapshot, so that a
    /// warm `tandem stats` reads a few hundred bytes.
    public struct Figures: Sendable, Equatable {
        /// The figures, in print order.
        public var stats: JSONObject
        /// People in the programme.
        public var programmePeople: Int
        /// People in every programme of the store.
        public var allPeople: Int

        public init(stats: JSONObject, programmePeople: Int, allPeople: Int) {
            self.stats = stats
            self.programmePeople = programmePeople
            self.allPeople = allPeople
        }
    }

    /// Computes the figures of a programme, for the people a segment admits (all if nil).
    /// - Complexity: O(people + tandems + goals).
    public static func figures(_ model: ProgrammeReadModel, programme: ProgrammeID, segment: SegmentFilter?) -> (Figures, people: [PersonView]) {
        let everyone = model.people.values.filter { $0.programme == programme }
        var people = everyone
        if let segment { people = people.filter(segment.admits) }
        let ids = segment == nil ? [] : Set(people.map(\.id))
        let tandems = model.tandems.values.filter { $0.programme == programme && (segment == nil || ids.contains($0.mentor) || ids.contains($0.mentee)) }
        var active = 0, completed = 0, dissolved = 0, sessions = 0, sessionsOfActive = 0, minutes = 0, goalsSet = 0, goalsReached = 0, swaps = 0
        for tandem in tandems {
            switch tandem.status {
            case .active: active += 1; sessionsOfActive += tandem.sessions
            case .completed: completed += 1
            case .dissolved: dissolved += 1
            }
            sessions += tandem.sessions
            minutes += tandem.minutes
            goalsSet += tandem.goalsSet
            goalsReached += tandem.goalsReached
            if case .swap = tandem.origin { swaps += 1 }
        }
        var mentors = 0, matched = 0, waiting = 0, withdrawn = 0
        for person in people {
            if person.role == .mentor { mentors += 1 }
            if person.firstMatchedOn != nil { matched += 1 }
            if person.isWaiting { waiting += 1 }
            if person.withdrawnOn != nil { withdrawn += 1 }
        }
        let stats: JSONObject = [
            "programme": .string(programme.rawValue),
            "participants": .int(Int64(people.count)),
            "mentors": .int(Int64(mentors)),
            "mentees": .int(Int64(people.count - mentors)),
            "matched": .int(Int64(matched)),
            "waiting": .int(Int64(waiting)),
            "withdrawn": .int(Int64(withdrawn)),
            "activeTandems": .int(Int64(active)),
            "completedTandems": .int(Int64(completed)),
            "dissolvedTandems": .int(Int64(dissolved)),
            "sessions": .int(Int64(sessions)),
            "minutes": .int(Int64(minutes)),
            "swaps": .int(Int64(segment == nil ? model.swaps[programme] ?? 0 : swaps)),
            "goalsSet": .int(Int64(goalsSet)),
            "goalsReached": .int(Int64(goalsReached)),
            "sessionsPerActiveTandem": active == 0 ? .null : .double(Double(sessionsOfActive) / Double(active)),
            "goalAttainment": Format.ratio(goalsReached, goalsSet),
        ]
        return (Figures(stats: stats, programmePeople: everyone.count, allPeople: model.people.count), people)
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.viewer.permit(options.by == nil && options.segment == nil ? .stats : .statsBySegment)
        let programme = try input.programme(options.programme)
        let k = programme.minGroupSize
        let figures: Figures, people: [PersonView]
        if options.by == nil, options.segment == nil, let stored = input.figures?[programme.id] {
            (figures, people) = (stored, [])
        } else {
            (figures, people) = Self.figures(input.model, programme: programme.id, segment: options.segment)
        }
        if input.viewer == .analyst {
            let query: QueryKind = options.by == nil && options.segment == nil ? .stats : .statsBySegment
            try Suppression.checkFilter("--programme \(programme.id)", selected: figures.programmePeople, parent: figures.allPeople, k: k, query: query)
            if let segment = options.segment {
                try Suppression.checkFilter("--segment \(segment)", selected: people.count, parent: figures.programmePeople, k: k, query: query)
            }
        }
        var stats = figures.stats
        if let segment = options.segment { stats["segment"] = .string(segment.description) }
        var table = TextTable(headers: ["figure", "value"], rows: stats.members.map { [$0.key, display($0.value)] }, numeric: [1], blank: "–")
        var csvTable = TextTable(headers: stats.members.map(\.key), rows: [stats.members.map { display($0.value) }])
        var notes: [String] = []
        var suppressedCells = 0
        var extra: [(String, JSONValue)] = []
        if let by = options.by {
            var figures: [String: GroupFigures] = [:]
            let activity = input.model.activity()
            let label = input.viewer == .analyst ? Suppression.labels(of: input.model.people(in: programme.id), by: by, k: k) : by.value(of:)
            for person in people {
                let done = activity[person.id] ?? (0, 0)
                let group = label(person)
                var f = figures[group] ?? GroupFigures(group: group)
                f.participants += 1
                if person.withdrawnOn != nil { f.withdrawn += 1 }
                f.sessions += done.sessions
                f.goalsReached += done.goalsReached
                if done.goalsReached > 0 { f.reachedAGoal += 1 }
                figures[group] = f
            }
            let groups = figures.values.sorted { NaturalOrder.less($0.group, $1.group) }
            var rowReasons = [SuppressionReason?](repeating: nil, count: groups.count)
            var withdrawnReasons = rowReasons, reachedReasons = rowReasons
            if input.viewer == .analyst {
                let sizes = groups.map(\.participants)
                rowReasons = Suppression.column(sizes: sizes, k: k)
                withdrawnReasons = Suppression.attributeColumn(counts: groups.map(\.withdrawn), sizes: sizes, rowReasons: rowReasons, k: k)
                reachedReasons = Suppression.attributeColumn(counts: groups.map(\.reachedAGoal), sizes: sizes, rowReasons: rowReasons, k: k)
            }
            var rows: [JSONValue] = []
            var tableRows: [[String]] = []
            for (i, g) in groups.enumerated() {
                let hidden = rowReasons[i] != nil
                func cell(_ value: Int, _ reason: SuppressionReason?) -> JSONValue { reason == nil ? .int(Int64(value)) : .null }
                var fields: [String] = []
                if withdrawnReasons[i] != nil && !hidden { fields.append("withdrawn") }
                if reachedReasons[i] != nil && !hidden { fields.append("reachedAGoal") }
                var object: JSONObject = [
                    "group": .string(g.group),
                    "participants": cell(g.participants, rowReasons[i]),
                    "withdrawn": cell(g.withdrawn, withdrawnReasons[i]),
                    "sessions": cell(g.sessions, rowReasons[i]),
                    "goalsReached": cell(g.goalsReached, rowReasons[i]),
                    "reachedAGoal": cell(g.reachedAGoal, reachedReasons[i]),
                    "withdrawalRate": withdrawnReasons[i] == nil ? Format.ratio(g.withdrawn, g.participants) : .null,
                    "suppressed": .bool(hidden),
                ]
                if hidden { object["reason"] = .string(rowReasons[i]!.rawValue) }
                if !fields.isEmpty { object["suppressedFields"] = .array(fields.map(JSONValue.string)) }
                rows.append(.object(object))
                tableRows.append([g.group] + ["participants", "withdrawn", "sessions", "goalsReached", "reachedAGoal"].map { display(object[$0]!) }
                                 + [display(object["withdrawalRate"]!)])
            }
            stats["by"] = .string(by.rawValue)
            stats["groups"] = .array(rows)
            table = TextTable(headers: ["group", "people", "withdrawn", "sessions*", "goals*", "reached", "w-rate"], rows: tableRows,
                              numeric: [1, 2, 3, 4, 5, 6], blank: "–")
            csvTable = TextTable(headers: ["group", "participants", "withdrawn", "sessions", "goalsReached", "reachedAGoal", "withdrawalRate", "suppressed"],
                                 rows: zip(tableRows, rows).map { row, object in row + [object.objectValue?["suppressed"]?.boolValue == true ? "true" : "false"] })
            notes.append("* sessions and goals reached of the tandems the group's people were in: a tandem with members in two groups counts in both, so the column does not add up to the total.")
            notes.append("Totals: " + ["participants", "withdrawn", "sessions", "goalsReached"].map { "\($0) \(display(stats[$0]!))" }.joined(separator: ", "))
            if input.viewer == .analyst {
                // One reason per hidden cell: a hidden row hides its five figures.
                var hiddenCells: [SuppressionReason?] = []
                for i in groups.indices {
                    if let row = rowReasons[i] { hiddenCells += Array(repeating: row, count: 5); continue }
                    hiddenCells += [withdrawnReasons[i], reachedReasons[i]]
                }
                suppressedCells = hiddenCells.compactMap { $0 }.count
                notes.append(Suppression.explain(hiddenCells, k: k) ?? "No cell suppressed (k = \(k)).")
                extra.append(("suppression", Suppression.summary(hiddenCells, k: k)))
            }
        }
        var result = QueryResult(basis: input.basis, payloadKey: "stats", payload: .object(stats), table: table)
        result.csvTable = csvTable
        result.notes = notes
        result.extra = extra
        result.suppressedCells = suppressedCells
        return result
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
