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

/// Ids given as a list.
struct ListedIDs<Kind: IdentifierKind>: ContributorIDs {
    let ids: [Identifier<Kind>]
    var count: Int { ids.count }
    func id(at position: Int) -> String { ids[position].rawValue }
}

/// People's ids from the people rows: every row in row order, or the rows `numbers` names.
struct PeopleRowIDs: ContributorIDs {
    let rows: ChunkedRows<PeopleRows.Row>
    let numbers: [Int32]?

    init(_ table: PeopleRows, numbers: [Int32]? = nil) {
        rows = table.rows
        self.numbers = numbers
    }

    var count: Int { numbers?.count ?? rows.count }
    func id(at position: Int) -> String {
        rows[numbers.map { Int($0[position]) } ?? position].id.rawValue
    }
}

/// Tandems' ids from the tandem rows named by `numbers`.
struct TandemRowIDs: ContributorIDs {
    let rows: ChunkedRows<TandemRows.Row>
    let numbers: [Int32]

    init(_ table: TandemRows, numbers: [Int32]) {
        rows = table.rows
        self.numbers = numbers
    }

    var count: Int { numbers.count }
    func id(at position: Int) -> String { rows[Int(numbers[position])].id.rawValue }
}
