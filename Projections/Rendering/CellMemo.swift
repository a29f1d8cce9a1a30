/// Cells a row writer has written, kept by key so that the next cell with the same key is
/// copied, not written again (`RowWriter.cell(memo:key:_:)`): a value many rows share (a
/// day, a list of topics, a tandem's id on each of its sessions) is rendered once, not once
/// per row. Six million session rows spent most of their time making the same few hundred
/// dates and topic lists into bytes.
///
/// An open-addressed table of keys, and the cells' bytes back to back. It holds at most
/// `capacity` cells and `byteCapacity` bytes: when either would be passed it is emptied and
/// filled again, so that keys that never repeat (ids) cost a bounded amount of memory.
struct CellMemo {
    /// One kept cell: where its bytes are, and where in a row it was written. Held in 32-bit
    /// fields (a memo holds at most `byteCapacity` bytes): a find returns it by value.
    struct Cell {
        private let at: (start: Int32, count: Int32, column: Int32, value: Int32, columns: Int32, values: Int32)

        init(start: Int, count: Int, column: Int, value: Int, columns: Int, values: Int) {
            at = (
                Int32(start), Int32(count), Int32(column), Int32(value), Int32(columns), Int32(values)
            )
        }

        var start: Int { Int(at.start) }
        var count: Int { Int(at.count) }
        /// The table column and value index the cell was written at.
        var column: Int { Int(at.column) }
        var value: Int { Int(at.value) }
        /// How many table columns and values it took.
        var columns: Int { Int(at.columns) }
        var values: Int { Int(at.values) }
    }

    /// One slot of the table: a key and its cell's index in `cells` (-1: empty), side by
    /// side, so that a probe reads one place.
    private struct Slot {
        var key: UInt64 = 0
        var cell: Int32 = -1
    }

    private var slots: [Slot]
    private(set) var cells: [Cell] = []
    private(set) var bytes = OutputBytes(capacity: 1 << 12)
    private let capacity: Int
    private let byteCapacity: Int
    /// `slots.count - 1`, and the shift that leaves a product's top bits as a slot: kept,
    /// not worked out on every find (a listing's rows look up six cells each).
    private let mask: Int
    private let shift: UInt64

    /// An empty memo for up to `capacity` cells (a power of two) of `byteCapacity` bytes
    /// (at most 2^31).
    init(capacity: Int = 1 << 12, byteCapacity: Int = 1 << 19) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "a capacity that is not a power of two")
        precondition(byteCapacity < Int(Int32.max), "a memo of more than 2^31 bytes")
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        // Half full at most: a probe ends at an empty slot soon.
        slots = [Slot](repeating: Slot(), count: 2 * capacity)
        mask = 2 * capacity - 1
        shift = UInt64(64 - (2 * capacity).trailingZeroBitCount)
    }

    /// Where `key` belongs in the table: multiplicative hashing, top bits.
    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The cell kept for `key`, if any.
    @inline(__always)
    func find(_ key: UInt64) -> Cell? {
        slots.withUnsafeBufferPointer { slots in
            var at = home(key)
            while true {
                let slot = slots[at]
                if slot.cell < 0 { return nil }
                if slot.key == key { return cells.withUnsafeBufferPointer { $0[Int(slot.cell)] } }
                at = (at + 1) & mask
            }
        }
    }

    /// Keeps `written` for `key` (not kept yet), written at `column` and `value`, taking
    /// `columns` and `values`. The memo is emptied first if it is full.
    mutating func keep(
        _ key: UInt64, _ written: UnsafeBufferPointer<UInt8>, column: Int, value: Int, columns: Int, values: Int
    ) {
        if cells.count == capacity || bytes.count + written.count > byteCapacity {
            for i in slots.indices { slots[i].cell = -1 }
            cells.removeAll(keepingCapacity: true)
            bytes.removeAll()
            guard written.count <= byteCapacity else { return }
        }
        var at = home(key)
        while slots[at].cell >= 0 { at = (at + 1) & mask }
        slots[at] = Slot(key: key, cell: Int32(cells.count))
        cells.append(
            Cell(
                start: bytes.count, count: written.count, column: column, value: value, columns: columns,
                values: values))
        bytes.appendBytes(written)
    }

    /// The bytes of a kept cell: valid until the memo is next changed.
    @inline(__always)
    func bytes(of cell: Cell) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes.bytes.baseAddress! + cell.start, count: cell.count)
    }
}
