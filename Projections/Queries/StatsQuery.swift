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

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.viewer.permit(options.by == nil && options.segment == nil ? .stats : .statsBySegment)
        let programme = try input.programme(options.programme)
        let k = programme.minGroupSize
        let everyone = input.model.people(in: programme.id)
        var people = everyone
        if let segment = options.segment { people = people.filter(segment.admits) }
        if input.viewer == .analyst {
            try Suppression.checkFilter("--programme \(programme.id)", selected: everyone.count,
                                        parent: input.model.people.count, k: k)
            if let segment = options.segment {
                try Suppression.checkFilter("--segment \(segment)", selected: people.count, parent: everyone.count, k: k)
            }
        }
        let ids = Set(people.map(\.id))
        let tandems = input.model.tandems(in: programme.id).filter { options.segment == nil || ids.contains($0.mentor) || ids.contains($0.mentee) }
        let active = tandems.filter { $0.status == .active }
        let goals = tandems.flatMap { input.model.goals[$0.id] ?? [] }
        let sessionsOfActive = active.reduce(0) { $0 + $1.sessions }
        let sessions = tandems.reduce(0) { $0 + $1.sessions }
        var stats: JSONObject = [
            "programme": .string(programme.id.rawValue),
            "participants": .int(Int64(people.count)),
            "mentors": .int(Int64(people.filter { $0.role == .mentor }.count)),
            "mentees": .int(Int64(people.filter { $0.role == .mentee }.count)),
            "matched": .int(Int64(people.filter { $0.firstMatchedOn != nil }.count)),
            "waiting": .int(Int64(people.filter(\.isWaiting).count)),
            "withdrawn": .int(Int64(people.filter { $0.withdrawnOn != nil }.count)),
            "activeTandems": .int(Int64(active.count)),
            "completedTandems": .int(Int64(tandems.filter { $0.status == .completed }.count)),
            "dissolvedTandems": .int(Int64(tandems.filter { $0.status == .dissolved }.count)),
            "sessions": .int(Int64(sessions)),
            "minutes": .int(Int64(tandems.reduce(0) { $0 + $1.minutes })),
            "swaps": .int(Int64(options.segment == nil ? input.model.swaps[programme.id] ?? 0
                                : tandems.filter { if case .swap = $0.origin { true } else { false } }.count)),
            "goalsSet": .int(Int64(goals.count)),
            "goalsReached": .int(Int64(goals.filter { $0.reached != nil }.count)),
            "sessionsPerActiveTandem": active.isEmpty ? .null : .double(Format.round4(Double(sessionsOfActive) / Double(active.count))),
            "goalAttainment": Format.ratio(goals.filter { $0.reached != nil }.count, goals.count),
        ]
        if let segment = options.segment { stats["segment"] = .string(segment.description) }
        var table = TextTable(headers: ["figure", "value"], rows: stats.members.map { [$0.key, display($0.value)] }, numeric: [1], blank: "–")
        var csvTable = TextTable(headers: stats.members.map(\.key), rows: [stats.members.map { display($0.value) }])
        var notes: [String] = []
        var suppressedCells = 0
        var extra: [(String, JSONValue)] = []
        if let by = options.by {
            var figures: [String: GroupFigures] = [:]
            for person in people {
                let group = by.value(of: person)
                var f = figures[group] ?? GroupFigures(group: group)
                f.participants += 1
                if person.withdrawnOn != nil { f.withdrawn += 1 }
                f.sessions += person.sessions
                f.goalsReached += person.goalsReached
                if person.goalsReached > 0 { f.reachedAGoal += 1 }
                figures[group] = f
            }
            let groups = figures.values.sorted { $0.group.lowercased() < $1.group.lowercased() }
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
            table = TextTable(headers: ["group", "people", "withdrawn", "sessions", "goals", "reached", "w-rate"], rows: tableRows, numeric: [1, 2, 3, 4, 5, 6], blank: "–")
            csvTable = TextTable(headers: ["group", "participants", "withdrawn", "sessions", "goalsReached", "reachedAGoal", "withdrawalRate", "suppressed"],
                                 rows: zip(tableRows, rows).map { row, object in row + [object.objectValue?["suppressed"]?.boolValue == true ? "true" : "false"] })
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
