import EventLog

/// Where rendered text goes, as bytes: an array, or a row writer's buffer (`OutputBytes`).
/// The table's and CSV's cell rules are written once, for both.
protocol RenderedBytes {
    /// How many bytes there are.
    var count: Int { get }
    /// The last byte, if any.
    var last: UInt8? { get }
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>)
    /// Removes the last byte (there is one).
    mutating func dropLastByte()
}

extension RenderedBytes {
    /// Appends `count` spaces.
    @inline(__always)
    mutating func appendSpaces(_ count: Int) {
        guard count > 0 else { return }
        let blanks: StaticString = "                                                                "
        var left = count
        while left > 0 {
            let n = min(left, blanks.utf8CodeUnitCount)
            appendBytes(UnsafeBufferPointer(start: blanks.utf8Start, count: n))
            left -= n
        }
    }

    /// Appends `value` in decimal.
    @inline(__always)
    mutating func appendDecimal(_ value: Int) {
        JSONWriter.decimal(Int64(value)) { appendBytes($0) }
    }

    /// Appends a string's UTF-8.
    @inline(__always)
    mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { appendBytes($0) }
    }
}

extension Array: RenderedBytes where Element == UInt8 {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) { append(byte) }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }

    @inline(__always)
    mutating func dropLastByte() { removeLast() }
}

/// A buffer of bytes written through a pointer: a listing appends tens of millions of short
/// runs (a date, a few spaces, an id), and an array's append (a call, a uniqueness check,
/// `memmove`) was a fifth of its time.
///
/// A value type over one allocation, copied on write as an array is: a copy (of a
/// `RowWriter`, say) that is written to gets memory of its own first.
struct OutputBytes: RenderedBytes {
    /// Owns the memory: freed when the last copy goes.
    private final class Allocation {
        var start: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { start = .allocate(capacity: capacity) }
        deinit { start.deallocate() }
    }

    private var allocation: Allocation
    private var start: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    /// An empty buffer with room for `capacity` bytes (it grows past it).
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        allocation = Allocation(capacity: self.capacity)
        start = allocation.start
    }

    var last: UInt8? { count > 0 ? start[count - 1] : nil }

    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        if count == capacity || !isKnownUniquelyReferenced(&allocation) { grow(to: count + 1) }
        start[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        if count + n > capacity || !isKnownUniquelyReferenced(&allocation) { grow(to: count + n) }
        // Most runs are a few bytes (a memo's cell, a date, an id): two words that may
        // overlap beat a call to memmove, and a byte-by-byte loop (a listing's rows spent a
        // tenth of their time there).
        if n <= 16 {
            let to = UnsafeMutableRawPointer(start + count), from = UnsafeRawPointer(base)
            if n >= 8 {
                let head = from.loadUnaligned(as: UInt64.self)
                let tail = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                to.storeBytes(of: head, as: UInt64.self)
                to.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
            } else if n >= 4 {
                let head = from.loadUnaligned(as: UInt32.self)
                let tail = from.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                to.storeBytes(of: head, as: UInt32.self)
                to.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
            } else {
                for i in 0..<n { start[count + i] = base[i] }
            }
        } else {
            (start + count).update(from: base, count: n)
        }
        count += n
    }

    /// Only the count changes: the bytes another copy shares are not touched.
    @inline(__always)
    mutating func dropLastByte() {
        precondition(count > 0, "no byte to drop")
        count -= 1
    }

    /// Empties the buffer, keeping its memory (the next write to a shared one copies).
    mutating func removeAll() { count = 0 }

    /// The bytes written: valid until the buffer is next changed (or goes).
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    /// Calls `body` with the bytes written.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withExtendedLifetime(allocation) { try body(bytes) }
    }

    /// Moves the bytes to memory of this copy's own with room for `needed`: a larger
    /// allocation, or the same size if another copy shares this one.
    private mutating func grow(to needed: Int) {
        var grown = capacity
        while grown < needed { grown *= 2 }
        let moved = Allocation(capacity: grown)
        moved.start.update(from: start, count: count)
        allocation = moved
        start = moved.start
        capacity = grown
    }
}
