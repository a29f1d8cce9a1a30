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
        } else if let me = input.disclosure.ownTandemsOf {
            tandems = input.model.tandems(of: me, in: programme)
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
        /// Up to how many goals the answer holds as values; more are streamed
        /// (`QueryResult.stream`), which prints the same.
        public var heldUpTo = 10_000
        public init(programme: ProgrammeID? = nil, tandem: TandemID? = nil) {
            self.programme = programme
            self.tandem = tandem
        }
    }

    /// - Complexity: a store's every goal (1.4 million in ten million events) is streamed,
    ///   tandem by tandem, never held as values.
    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.disclosure.permit(.goals)
        let isMember = input.disclosure.ownTandemsOf != nil
        // The tandems in scope, in id order, as their ids and whether they run. A whole
        // programme's are read from the rows: a view of each of 540,000 tandems was 120 MB of
        // `goals` on the 10M store.
        let tandems: [(id: TandemID, active: Bool)]
        if options.tandem == nil, !isMember {
            if let programme = options.programme, input.model.programmes[programme] == nil {
                throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
            }
            let rows = input.model.tandemRows
            tandems = rows.rowsInIDOrder(programme: options.programme).map { number in
                (rows.id(ofRow: number), TandemStatus?(stored: rows.row(number).status) ?? .active == .active)
            }
        } else {
            tandems = try TandemScope.select(input, programme: options.programme, tandem: options.tandem).map {
                ($0.id, $0.status == .active)
            }
        }
        // Only members see texts, of their own few tandems.
        let texts =
            isMember ? try input.texts(Set(tandems.flatMap { (input.model.goals[$0.id] ?? []).map(\.textRef) })) : [:]
        let asOf = input.asOf
        @Sendable func row(
            _ goal: GoalView, of tandem: (id: TandemID, active: Bool)
        ) -> (
            cells: [String], values: [JSONValue]
        ) {
            // Only a running tandem can be late: a goal left open when its tandem ended is
            // unreached, not overdue for ever after.
            let overdue = goal.reached == nil && tandem.active && (goal.due.map { $0 < asOf } ?? false)
            var values: [JSONValue] = [
                .string(goal.tandem.rawValue), .string(goal.goal.rawValue),
                goal.category.map(JSONValue.string) ?? .null, .string(goal.set.description), Format.date(goal.due),
                Format.date(goal.reached), goal.reached.map { .int(Int64(goal.set.days(to: $0))) } ?? .null,
                .bool(overdue),
            ]
            var cells = [
                goal.tandem.rawValue, goal.goal.rawValue, goal.category ?? "-", goal.set.description,
                Format.cell(goal.due), Format.cell(goal.reached), overdue ? "overdue" : "",
            ]
            if isMember {
                values.append(texts[goal.textRef].map(JSONValue.string) ?? .null)
                cells.append(texts[goal.textRef] ?? "-")
            }
            return (cells, values)
        }
        let headers = ["tandem", "goal", "category", "set", "due", "reached", "status"] + (isMember ? ["text"] : [])
        let keys =
            ["tandem", "goal", "category", "set", "due", "reached", "daysToReach", "overdue"]
            + (isMember ? ["text"] : [])
        let model = input.model
        // Counted along each tandem's list, without making the goals' views twice.
        let count = tandems.reduce(0) { $0 + model.goals.count(of: $1.id) }
        /// The rows of the goals of the tandems at `range` in `tandems`.
        @Sendable func goals(of range: Range<Int>, _ body: ([String], [JSONValue]) throws -> Void) rethrows {
            for tandem in tandems[range] {
                for goal in model.goals[tandem.id] ?? [] {
                    let (cells, values) = row(goal, of: tandem)
                    try body(cells, values)
                }
            }
        }
        var result = try QueryResult.list(
            basis: input.basis, payloadKey: "goals", headers: headers, keys: keys, count: count,
            heldUpTo: options.heldUpTo
        ) { _, body in try goals(of: 0..<tandems.count, body) }
        // In blocks of tandems, on every core.
        result.stream?.produce(over: tandems.count, atMost: 1024) { range, _, body in try goals(of: range, body) }
        result.confidentialRead = isMember && !texts.isEmpty
        return result
    }
}
