import EventLog
import Mentoring

/// `tandem due`: when each active tandem's next session falls due (its last session, or its
/// match, plus the programme's cadence): those due within a window, and those overdue.
public enum DueQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var within: Int
        public init(programme: ProgrammeID? = nil, within: Int = 14) {
            self.programme = programme
            self.within = within
        }
    }

    /// One tandem's next session.
    public struct Item: Sendable, Equatable {
        public var tandem: TandemView
        public var dueOn: BusinessDate
        public var overdueDays: Int
    }

    public static func items(_ input: QueryInput, _ options: Options) throws -> [Item] {
        try input.disclosure.permit(.due)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        var tandems = input.model.tandems(in: options.programme).filter { $0.status == .active }
        if let me = input.disclosure.ownTandemsOf {
            guard input.model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            tandems = tandems.filter { $0.includes(me) }
        }
        let horizon = input.asOf.adding(days: options.within)
        return tandems.compactMap { tandem -> Item? in
            guard let programme = input.model.programmes[tandem.programme] else { return nil }
            let due = (tandem.lastSession ?? tandem.since).adding(days: programme.cadenceDays)
            // No invitation past the programme's end, nor once it has ended.
            guard due <= horizon, due <= programme.ends, input.asOf <= programme.ends, programme.closedOn == nil else {
                return nil
            }
            return Item(tandem: tandem, dueOn: due, overdueDays: max(0, due.days(to: input.asOf)))
        }.sorted { ($0.dueOn, $0.tandem.id) < ($1.dueOn, $1.tandem.id) }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let items = try items(input, options)
        let names = input.disclosure.showsNames
        let rows: [JSONValue] = items.map { item in
            var object: JSONObject = [
                "tandem": .string(item.tandem.id.rawValue), "mentor": .string(item.tandem.mentor.rawValue),
                "mentee": .string(item.tandem.mentee.rawValue),
            ]
            if names {
                object["mentorName"] = input.name(of: item.tandem.mentor)
                object["menteeName"] = input.name(of: item.tandem.mentee)
            }
            object["lastSession"] = Format.date(item.tandem.lastSession)
            object["dueOn"] = .string(item.dueOn.description)
            object["overdueDays"] = .int(Int64(item.overdueDays))
            return .object(object)
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "due", payload: .array(rows),
            table: TextTable(
                headers: ["tandem", "mentor", "mentee", "last session", "due on", "overdue"],
                rows: items.map { item in
                    [
                        item.tandem.id.rawValue,
                        input.name(of: item.tandem.mentor).stringValue ?? item.tandem.mentor.rawValue,
                        input.name(of: item.tandem.mentee).stringValue ?? item.tandem.mentee.rawValue,
                        Format.cell(item.tandem.lastSession), item.dueOn.description,
                        item.overdueDays > 0 ? Format.days(item.overdueDays) : "",
                    ]
                }))
        result.csvColumns =
            ["tandem", "mentor", "mentee"] + (names ? ["mentorName", "menteeName"] : []) + [
                "lastSession", "dueOn", "overdueDays",
            ]
        result.notes = [
            "Due within \(options.within) days of \(input.asOf), and overdue: last session (or match) plus the programme's cadence."
        ]
        if input.disclosure.coordinates {
            for programme in input.model.programmeOrder where options.programme == nil || options.programme == programme
            {
                result.notes += TandemsQuery.rematchNotes(input, programme: programme)
            }
        }
        return result
    }
}
