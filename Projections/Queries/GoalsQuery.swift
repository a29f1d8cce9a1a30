import EventLog
import Mentoring

/// Which tandems a tandem-level query covers, for a viewer.
struct TandemScope {
    /// The tandems in scope, in id order.
    static func select(_ input: QueryInput, programme: ProgrammeID?, tandem: TandemID?) throws -> [TandemView] {
        if let programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        var tandems: [TandemView]
        if let tandem {
            guard let view = input.model.tandems[tandem] else { throw QueryError.unknownTandem(tandem) }
            tandems = [view]
        } else {
            tandems = input.model.tandems(in: programme)
        }
        if let me = input.disclosure.ownTandemsOf {
            guard input.model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            if let tandem, !tandems[0].includes(me) { throw QueryError.notYours(tandem) }
            tandems = tandems.filter { $0.includes(me) }
        }
        return tandems
    }
}

/// `tandem goals`: every goal with its dates and whether it is overdue. Goal texts are
/// shown only to the tandem's own members (`--role participant:ID`).
public enum GoalsQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var tandem: TandemID?
        public init(programme: ProgrammeID? = nil, tandem: TandemID? = nil) {
            self.programme = programme
            self.tandem = tandem
        }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(.goals)
        let tandems = try TandemScope.select(input, programme: options.programme, tandem: options.tandem)
        let goals = tandems.flatMap { input.model.goals[$0.id] ?? [] }
        let active = Set(tandems.filter { $0.status == .active }.map(\.id))
        var isMember = false
        if input.disclosure.ownTandemsOf != nil { isMember = true }
        let texts = isMember ? try input.texts(Set(goals.map(\.textRef))) : [:]
        var rows: [JSONValue] = []
        var table: [[String]] = []
        for goal in goals {
            // Only a running tandem can be late: a goal left open when its tandem ended is
            // unreached, not overdue for ever after.
            let overdue =
                goal.reached == nil && active.contains(goal.tandem) && (goal.due.map { $0 < input.asOf } ?? false)
            var object: JSONObject = [
                "tandem": .string(goal.tandem.rawValue), "goal": .string(goal.goal.rawValue),
                "category": goal.category.map(JSONValue.string) ?? .null, "set": .string(goal.set.description),
                "due": Format.date(goal.due), "reached": Format.date(goal.reached),
                "daysToReach": goal.reached.map { .int(Int64(goal.set.days(to: $0))) } ?? .null,
                "overdue": .bool(overdue),
            ]
            if isMember { object["text"] = texts[goal.textRef].map(JSONValue.string) ?? .null }
            rows.append(.object(object))
            var row = [
                goal.tandem.rawValue, goal.goal.rawValue, goal.category ?? "-", goal.set.description,
                Format.cell(goal.due),
                Format.cell(goal.reached), overdue ? "overdue" : "",
            ]
            if isMember { row.append(texts[goal.textRef] ?? "-") }
            table.append(row)
        }
        var headers = ["tandem", "goal", "category", "set", "due", "reached", "status"]
        if isMember { headers.append("text") }
        var result = QueryResult(
            basis: input.basis, payloadKey: "goals", payload: .array(rows),
            table: TextTable(headers: headers, rows: table))
        result.csvColumns =
            ["tandem", "goal", "category", "set", "due", "reached", "daysToReach", "overdue"]
            + (isMember ? ["text"] : [])
        result.confidentialRead = isMember && !texts.isEmpty
        return result
    }
}
