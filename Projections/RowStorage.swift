import EventLogSHAExtensions
import Mentoring

/// Rows in fixed-size chunks, numbered by `Int32` as the read model's tables number them
/// (`ChunkedStore`: appending never copies the rows already stored).
typealias ChunkedRows<Row> = ChunkedStore<Row>

extension ChunkedStore {
    /// Adds a row; returns its number.
    @discardableResult
    mutating func append(row: Element) -> Int32 { Int32(append(row)) }

    subscript(row: Int32) -> Element {
        get { self[Int(row)] }
        _modify { yield &self[Int(row)] }
    }
}

extension ChunkedStore {
    /// The numbers of the rows `keep` keeps, in row order.
    func numbers(where keep: (Element) -> Bool) -> [Int32] {
        var out: [Int32] = []
        for number in 0..<Int32(count) where keep(self[number]) { out.append(number) }
        return out
    }

    /// The numbers of the rows `keep` admits, in the natural order of their ids
    /// (`NaturalOrder.less`, the order of `Identifier`s), sorted by key (`NaturalOrder.sorted`).
    /// Sorts row numbers rather than views: sorting a million built views spent most of a
    /// warm query copying them.
    /// - Complexity: O(n log n) comparisons of keys, and of ids for keys that tie.
    func numbers(naturallySortedBy id: (Element) -> String, where keep: (Element) -> Bool) -> [Int32] {
        NaturalOrder.sorted(numbers(where: keep)) { id(self[$0]) }
    }
}

/// An open-addressing index from a key's hash to a row number: 4 bytes per slot, where a
/// dictionary would store a copy of every key beside its value. Rows are never removed.
///
/// The layout is the snapshot lookup's (`SnapshotLookup`): a power-of-two table at most
/// three quarters full, probed linearly from the hash's low bits, rows placed in the order
/// they were added. A table built from the same hashes is therefore the same table, and a
/// load takes the lookup's slots instead of placing every row again.
/// - Complexity: find and insert O(1) on average.
struct RowIndex: Sendable, Equatable {
    private var slots: [Int32] = []
    private var used = 0

    init() {}

    /// The index whose slots are `slots` (−1 for empty), holding rows `0..<used`: the
    /// table `insert` builds from the same hashes (the caller has checked it).
    init(slots: [Int32], used: Int) {
        assert(slots.count.nonzeroBitCount == 1 && used * 4 <= slots.count * 3, "a table of the wrong shape")
        self.slots = slots
        self.used = used
    }

    /// Asks the CPU for the slot a lookup of `hash` reads first (`find`'s first cache miss).
    @inline(__always)
    func prefetchSlot(hash: Int) {
        guard !slots.isEmpty else { return }
        slots.withUnsafeBufferPointer { tandem_prefetch($0.baseAddress! + (hash & (slots.count - 1))) }
    }

    /// The row in the slot a lookup of `hash` reads first (−1: empty): the row `find`
    /// most likely compares, whose fetch is its second miss.
    @inline(__always)
    func firstRow(hash: Int) -> Int32 {
        guard !slots.isEmpty else { return -1 }
        return slots[hash & (slots.count - 1)]
    }

    /// Asks the CPU for what a lookup of `hash` will read: at `.slot`, the slot it reads
    /// first; at `.row`, the row that slot names in `rows` (the slot is at hand by then).
    @inline(__always)
    func prefetch<Row>(hash: Int, stage: PrefetchStage, in rows: ChunkedRows<Row>) {
        switch stage {
        case .slot: prefetchSlot(hash: hash)
        case .row:
            let row = firstRow(hash: hash)
            if row >= 0 { rows.withAddress(of: Int(row)) { tandem_prefetch($0) } }
        }
    }

    /// The row among those hashing to `hash` for which `matches` holds.
    func find(hash: Int, _ matches: (Int32) -> Bool) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var i = hash & mask
        while true {
            let row = slots[i]
            if row < 0 { return nil }
            if matches(row) { return row }
            i = (i + 1) & mask
        }
    }

    /// Adds row `row` (the next row number: rows are numbered 0, 1, 2, …), whose key hashes
    /// to `hash`; `hashOfRow` gives the others' when the table grows.
    mutating func insert(row: Int32, hash: Int, hashOfRow: (Int32) -> Int) {
        assert(Int(row) == used, "rows are indexed in the order they were added")
        if (used + 1) * 4 > slots.count * 3 { grow(hashOfRow) }
        place(row, hash: hash)
        used += 1
    }

    /// The index of rows `0..<count`, each placed in order: what inserting every row one by
    /// one builds.
    static func ofRows(_ count: Int, hash: (Int32) -> Int) -> RowIndex {
        var index = RowIndex()
        index.reserveCapacity(count, hashOfRow: hash)
        for n in 0..<Int32(count) { index.insert(row: n, hash: hash(n), hashOfRow: hash) }
        return index
    }

    /// How many slots the table has.
    var slotCount: Int { slots.count }

    /// The table's slots in `range` as the snapshot lookup stores them (`SnapshotLookup`):
    /// per slot, the high 32 bits of its row's hash over the row + 1 in the low 32, or 0
    /// when empty. `highBits` holds each row's high 32 bits, by row.
    func lookupEntries(highBits: [UInt32], in range: Range<Int>) -> [UInt64] {
        slots[range].map { row in row < 0 ? 0 : UInt64(highBits[Int(row)]) << 32 | UInt64(row + 1) }
    }

    /// Room for `count` rows without growing.
    mutating func reserveCapacity(_ count: Int, hashOfRow: (Int32) -> Int) {
        while count * 4 > slots.count * 3 { grow(hashOfRow) }
    }

    private mutating func place(_ row: Int32, hash: Int) {
        let mask = slots.count - 1
        var i = hash & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = row
    }

    private mutating func grow(_ hashOfRow: (Int32) -> Int) {
        slots = [Int32](repeating: -1, count: max(8, slots.count * 2))
        for row in 0..<Int32(used) { place(row, hash: hashOfRow(row)) }
    }
}

/// The rows of a table as views built on the fly, by position: what `values` of
/// `PeopleTable` and `TandemTable` hand out.
public struct RowViews<Element>: RandomAccessCollection, Sendable {
    public let count: Int
    let view: @Sendable (Int32) -> Element

    init(count: Int, view: @escaping @Sendable (Int32) -> Element) {
        self.count = count
        self.view = view
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> Element { view(Int32(position)) }
}

/// An optional day as an `Int32`, with `Int32.min` for none.
extension Optional where Wrapped == BusinessDate {
    var stored: Int32 { self.map { Int32(clamping: $0.dayNumber) } ?? .min }
    init(stored: Int32) { self = stored == .min ? nil : BusinessDate(dayNumber: Int(stored)) }
}

/// A small enumeration's value as a byte: 0 for none, else its position + 1.
extension Optional where Wrapped: CaseIterable & Equatable, Wrapped.AllCases == [Wrapped] {
    var stored: UInt8 { self.flatMap { v in Wrapped.allCases.firstIndex(of: v) }.map { UInt8($0 + 1) } ?? 0 }
    init(stored: UInt8) { self = stored == 0 ? nil : Wrapped.allCases[Int(stored) - 1] }
}
