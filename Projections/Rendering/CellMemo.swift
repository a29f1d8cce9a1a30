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
    /// One kept cell: where its bytes are, and where in a row it was written.
    struct Cell {
        var start: Int
        var count: Int
        /// The table column and value index the cell was written at.
        var column: Int
        var value: Int
        /// How many table columns and values it took.
        var columns: Int
        var values: Int
    }

    /// Per slot of the table: the cell's index in `cells`, or -1.
    private var slots: [Int32]
    private var keys: [UInt64]
    private(set) var cells: [Cell] = []
    private(set) var bytes = OutputBytes(capacity: 1 << 12)
    private let capacity: Int
    private let byteCapacity: Int

    /// An empty memo for up to `capacity` cells (a power of two) of `byteCapacity` bytes.
    init(capacity: Int = 1 << 12, byteCapacity: Int = 1 << 19) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "a capacity that is not a power of two")
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        // Half full at most: a probe ends at an empty slot soon.
        slots = [Int32](repeating: -1, count: 2 * capacity)
        keys = [UInt64](repeating: 0, count: 2 * capacity)
    }

    /// Where `key` belongs in the table: multiplicative hashing, top bits.
    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - (2 * capacity).trailingZeroBitCount))
    }

    /// The cell kept for `key`, if any.
    @inline(__always)
    func find(_ key: UInt64) -> Cell? {
        let mask = slots.count - 1
        var slot = home(key)
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            if keys[slot] == key { return cells[Int(index)] }
            slot = (slot + 1) & mask
        }
    }

    /// Keeps `written` for `key` (not kept yet), written at `column` and `value`, taking
    /// `columns` and `values`. The memo is emptied first if it is full.
    mutating func keep(
        _ key: UInt64, _ written: UnsafeBufferPointer<UInt8>, column: Int, value: Int, columns: Int, values: Int
    ) {
        if cells.count == capacity || bytes.count + written.count > byteCapacity {
            for i in slots.indices { slots[i] = -1 }
            cells.removeAll(keepingCapacity: true)
            bytes.removeAll()
            guard written.count <= byteCapacity else { return }
        }
        let mask = slots.count - 1
        var slot = home(key)
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(cells.count)
        keys[slot] = key
        cells.append(
            Cell(
                start: bytes.count, count: written.count, column: column, value: value, columns: columns,
                values: values))
        bytes.appendBytes(written)
    }

    /// The bytes of a kept cell: valid until the memo is next changed.
    @inline(__always)
    func bytes(of cell: Cell) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes.bytes[cell.start..<(cell.start + cell.count)])
    }
}
