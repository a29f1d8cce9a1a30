import EventLog
import Mentoring

/// `tandem due`: when each active tandem's next session falls due (its last session, or its
/// match, plus the programme's cadence): those due within a window, and those overdue.
public enum DueQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var within: Int
        /// Up to how many tandems the answer holds as values; more are streamed
        /// (`QueryResult.stream`), which prints the same.
        public var heldUpTo = 10_000
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

    /// The active tandems due within the window or overdue, by due date, then id.
    /// - Complexity: O(tandems) row reads; a view is made for each tandem due only.
    public static func items(_ input: QueryInput, _ options: Options) throws -> [Item] {
        try input.disclosure.permit(.due)
        let model = input.model
        if let programme = options.programme, model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: model.programmeOrder)
        }
        let horizon = input.asOf.adding(days: options.within)
        /// The tandem's item if it is due: last session (or match) plus the cadence.
        func item(
            programme id: ProgrammeID, since: BusinessDate, lastSession: BusinessDate?, view: () -> TandemView
        )
            -> Item?
        {
            guard let programme = model.programmes[id] else { return nil }
            let due = (lastSession ?? since).adding(days: programme.cadenceDays)
            // No invitation past the programme's end, nor once it has ended.
            guard due <= horizon, due <= programme.ends, input.asOf <= programme.ends, programme.closedOn == nil else {
                return nil
            }
            return Item(tandem: view(), dueOn: due, overdueDays: max(0, due.days(to: input.asOf)))
        }
        var items: [Item] = []
        if let me = input.disclosure.ownTandemsOf {
            guard model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            for tandem in model.tandems(of: me, in: options.programme) where tandem.status == .active {
                if let found = item(
                    programme: tandem.programme, since: tandem.since, lastSession: tandem.lastSession, view: { tandem })
                {
                    items.append(found)
                }
            }
        } else {
            // Read from the rows: a store of millions has half a million active tandems, and
            // only those due are made views.
            let rows = model.tandemRows
            let wanted = options.programme.map { rows.programmes.existingNumber($0).map(UInt32.init) ?? .max }
            for number in 0..<Int32(rows.count) {
                let row = rows.row(number)
                guard wanted.map({ row.programme == $0 }) ?? true,
                    TandemStatus?(stored: row.status) ?? .active == .active
                else { continue }
                if let found = item(
                    programme: rows.programmes.values[Int(row.programme)],
                    since: BusinessDate(dayNumber: Int(row.since)),
                    lastSession: BusinessDate?(stored: row.lastSession),
                    view: { rows.view(number, people: model.peopleRows) })
                {
                    items.append(found)
                }
            }
        }
        return items.sorted { ($0.dueOn, $0.tandem.id) < ($1.dueOn, $1.tandem.id) }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let items = try items(input, options)
        let names = input.disclosure.showsNames
        if names, !items.isEmpty {
            // Only the names the list shows are read.
            let people = input.model.peopleRows
            input.readNames(ofRows: items.flatMap { [$0.tandem.mentor, $0.tandem.mentee] }.compactMap(people.row(of:)))
        }
        let keys =
            ["tandem", "mentor", "mentee"] + (names ? ["mentorName", "menteeName"] : []) + [
                "lastSession", "dueOn", "overdueDays",
            ]
        // Held as values up to a point, else streamed: the same rows either way.
        var result = try QueryResult.list(
            basis: input.basis, payloadKey: "due",
            headers: ["tandem", "mentor", "mentee", "last session", "due on", "overdue"], keys: keys,
            count: items.count, heldUpTo: options.heldUpTo
        ) { _, body in
            for item in items {
                let tandem = item.tandem
                let mentorName = input.name(of: tandem.mentor), menteeName = input.name(of: tandem.mentee)
                var values: [JSONValue] = [
                    .string(tandem.id.rawValue), .string(tandem.mentor.rawValue), .string(tandem.mentee.rawValue),
                ]
                if names { values += [mentorName, menteeName] }
                values += [
                    Format.date(tandem.lastSession), .string(item.dueOn.description), .int(Int64(item.overdueDays)),
                ]
                let cells = [
                    tandem.id.rawValue, mentorName.stringValue ?? tandem.mentor.rawValue,
                    menteeName.stringValue ?? tandem.mentee.rawValue, Format.cell(tandem.lastSession),
                    item.dueOn.description, item.overdueDays > 0 ? Format.days(item.overdueDays) : "",
                ]
                try body(cells, values)
            }
        }
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
