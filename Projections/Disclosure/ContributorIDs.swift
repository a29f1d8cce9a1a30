import Mentoring

/// The ids a population's record keys are made from, read by position where they lie: an
/// array of ids, or rows of the read model (all of them, or some by number).
///
/// A protocol for generic code, not a closure per id: the key loop is specialised for each
/// source and reads the id in place. (With an escaping closure per id, calling it retained and
/// released its context for every key: on the 10M store a fifth of an analyst's `activity`
/// went to that around a million HMACs.)
protocol ContributorIDs: Sendable {
    /// How many ids there are.
    var count: Int { get }
    /// The id at `position` (`0..<count`).
    func id(at position: Int) -> String
}

/// Ids read from rows of the read model: their keys can be taken from the keys of every row
/// (`RowKeyMemo`), made once per query.
protocol ContributorRows: ContributorIDs {
    associatedtype Every: ContributorIDs
    /// Every row of the table, in row order.
    var every: Every { get }
    /// The row of the id at `position`.
    func row(at position: Int) -> Int
    /// Whether the ids are every row in row order (`every` itself).
    var isEveryRow: Bool { get }
}

/// Ids given as a list.
struct ListedIDs<Kind: IdentifierKind>: ContributorIDs {
    let ids: [Identifier<Kind>]
    var count: Int { ids.count }
    func id(at position: Int) -> String { ids[position].rawValue }
}

/// People's ids from the people rows: every row in row order, or the rows `numbers` names.
struct PeopleRowIDs: ContributorRows {
    let rows: ChunkedRows<PeopleRows.Row>
    let numbers: [Int32]?

    init(_ table: PeopleRows, numbers: [Int32]? = nil) {
        self.init(rows: table.rows, numbers: numbers)
    }

    init(rows: ChunkedRows<PeopleRows.Row>, numbers: [Int32]? = nil) {
        self.rows = rows
        self.numbers = numbers
    }

    var count: Int { numbers?.count ?? rows.count }
    func id(at position: Int) -> String { rows[row(at: position)].id.rawValue }
    var every: PeopleRowIDs { numbers == nil ? self : PeopleRowIDs(rows: rows) }
    func row(at position: Int) -> Int { numbers.map { Int($0[position]) } ?? position }
    var isEveryRow: Bool { numbers == nil }
}

/// Tandems' ids from the tandem rows: every row in row order, or the rows `numbers` names.
struct TandemRowIDs: ContributorRows {
    let rows: ChunkedRows<TandemRows.Row>
    let numbers: [Int32]?

    init(_ table: TandemRows, numbers: [Int32]?) {
        self.init(rows: table.rows, numbers: numbers)
    }

    init(rows: ChunkedRows<TandemRows.Row>, numbers: [Int32]?) {
        self.rows = rows
        self.numbers = numbers
    }

    var count: Int { numbers?.count ?? rows.count }
    func id(at position: Int) -> String { rows[row(at: position)].id.rawValue }
    var every: TandemRowIDs { numbers == nil ? self : TandemRowIDs(rows: rows, numbers: nil) }
    func row(at position: Int) -> Int { numbers.map { Int($0[position]) } ?? position }
    var isEveryRow: Bool { numbers == nil }
}
