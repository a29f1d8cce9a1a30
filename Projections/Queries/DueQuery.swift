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
        let rows = input.model.tandemRows, people = input.model.peopleRows
        return try dueRows(input, options).map { due in
            let dueOn = BusinessDate(dayNumber: Int(due.dueOn))
            return Item(
                tandem: rows.view(due.row, people: people), dueOn: dueOn,
                overdueDays: max(0, dueOn.days(to: input.asOf)))
        }
    }

    /// A due tandem as the listing holds it: its row and due day, 8 bytes (a view each, and
    /// a sort comparing their ids, were most of `due` on the 10M store's half a million).
    struct DueRow {
        var row: Int32
        var dueOn: Int32
    }

    /// The rows of `items`, in its order.
    static func dueRows(_ input: QueryInput, _ options: Options) throws -> [DueRow] {
        try input.disclosure.permit(.due)
        let model = input.model
        if let programme = options.programme, model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: model.programmeOrder)
        }
        let horizon = input.asOf.adding(days: options.within)
        let rows = model.tandemRows
        /// The tandem's due day if it is due: last session (or match) plus the cadence.
        func dueDay(of number: Int32) -> BusinessDate? {
            let row = rows.row(number)
            guard let programme = model.programmes[rows.programmes.values[Int(row.programme)]] else { return nil }
            let since = BusinessDate(dayNumber: Int(row.since))
            let due = (BusinessDate?(stored: row.lastSession) ?? since).adding(days: programme.cadenceDays)
            // No invitation past the programme's end, nor once it has ended.
            guard due <= horizon, due <= programme.ends, input.asOf <= programme.ends, programme.closedOn == nil else {
                return nil
            }
            return due
        }
        var candidates: [Int32] = []
        if let me = input.disclosure.ownTandemsOf {
            guard model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            candidates = model.tandems(of: me, in: options.programme).filter { $0.status == .active }.compactMap {
                rows.row(of: $0.id)
            }
        } else {
            // Read from the rows: a store of millions has half a million active tandems.
            let wanted = options.programme.map { rows.programmes.existingNumber($0).map(UInt32.init) ?? .max }
            candidates = rows.rows.numbers { row in
                (wanted.map { row.programme == $0 } ?? true)
                    && (TandemStatus?(stored: row.status) ?? .active) == .active
            }
        }
        let due = candidates.compactMap { number in
            dueDay(of: number).map { DueRow(row: number, dueOn: Int32(clamping: $0.dayNumber)) }
        }
        // By due day, then id in natural order.
        return NaturalOrder.sorted(due, first: \.dueOn) { rows.id(ofRow: $0.row).rawValue }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let due = try dueRows(input, options)
        let names = input.disclosure.showsNames
        let rows = input.model.tandemRows, people = input.model.peopleRows
        if names, !due.isEmpty {
            // Only the names the list shows are read.
            input.readNames(ofRows: due.flatMap { [rows.row($0.row).mentor, rows.row($0.row).mentee] })
        }
        let keys =
            ["tandem", "mentor", "mentee"] + (names ? ["mentorName", "menteeName"] : []) + [
                "lastSession", "dueOn", "overdueDays",
            ]
        let asOf = input.asOf
        // Held as values up to a point, else streamed: the same rows either way.
        var result = try QueryResult.list(
            basis: input.basis, payloadKey: "due",
            headers: ["tandem", "mentor", "mentee", "last session", "due on", "overdue"], keys: keys,
            count: due.count, heldUpTo: options.heldUpTo
        ) { part, body in
            for item in due {
                let row = rows.row(item.row)
                let (mentor, mentee) = (people.id(ofRow: row.mentor).rawValue, people.id(ofRow: row.mentee).rawValue)
                let mentorName = input.name(ofRow: row.mentor), menteeName = input.name(ofRow: row.mentee)
                let lastSession = BusinessDate?(stored: row.lastSession)
                let dueOn = BusinessDate(dayNumber: Int(item.dueOn))
                let overdueDays = max(0, dueOn.days(to: asOf))
                var values: [JSONValue] = []
                var cells: [String] = []
                if part != .cells {
                    values = [.string(row.id.rawValue), .string(mentor), .string(mentee)]
                    if names { values += [mentorName, menteeName] }
                    values += [Format.date(lastSession), .string(dueOn.description), .int(Int64(overdueDays))]
                }
                if part != .values {
                    cells = [
                        row.id.rawValue, mentorName.stringValue ?? mentor, menteeName.stringValue ?? mentee,
                        Format.cell(lastSession), dueOn.description, overdueDays > 0 ? Format.days(overdueDays) : "",
                    ]
                }
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
