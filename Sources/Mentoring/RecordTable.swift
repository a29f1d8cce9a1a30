/// Elements in fixed-size chunks: appending never copies what is already stored, and no
/// more than one chunk stands empty.
///
/// A plain array doubles as it grows: for a moment the old and the new buffer are both
/// alive, and afterwards up to half of the new one is unused. For the decider's records in a
/// large batch, and for the rows of a ten-million-event read model, that set the peak. A
/// copy of the store shares its chunks, and a write copies only the chunk it touches.
///
/// - Complexity: append, access and `removeLast` O(1).
/// Public and inlinable: the read model's rows live here and are read in other modules, where
/// a generic call per row (not specialised across the module boundary) cost about a tenth of
/// loading a model in metadata lookups. (`@inlinable package` was not specialised by this
/// toolchain; `public` is.)
@frozen
public struct ChunkedStore<Element>: RandomAccessCollection {
    /// 16,384 elements a chunk (reserved whole; pages untouched cost nothing).
    @inlinable static var shift: Int { 14 }
    @inlinable static var mask: Int { (1 << shift) - 1 }

    @usableFromInline var chunks: [[Element]] = []
    /// How many elements there are.
    @usableFromInline var stored = 0

    /// How many elements there are.
    @inlinable public var count: Int { stored }

    /// An empty store.
    @inlinable public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { stored }

    @inlinable public subscript(position: Int) -> Element {
        _read {
            assert(position >= 0 && position < stored, "index \(position) out of 0..<\(stored)")
            yield chunks[position >> Self.shift][position & Self.mask]
        }
        _modify {
            assert(position >= 0 && position < stored, "index \(position) out of 0..<\(stored)")
            yield &chunks[position >> Self.shift][position & Self.mask]
        }
    }

    /// Adds an element; returns its position.
    @inlinable @discardableResult
    public mutating func append(_ element: Element) -> Int {
        if stored & Self.mask == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(1 << Self.shift)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        stored += 1
        return stored - 1
    }

    /// Removes the last element.
    @inlinable @discardableResult
    public mutating func removeLast() -> Element {
        precondition(stored > 0, "removeLast on an empty store")
        let element = chunks[chunks.count - 1].removeLast()
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
        stored -= 1
        return element
    }
}

extension ChunkedStore: Sendable where Element: Sendable {}

extension ChunkedStore {
    /// Calls `body` with the address of element `position` (for a prefetch hint: it is not
    /// read through, and is good only during the call).
    @inlinable
    public func withAddress(of position: Int, _ body: (UnsafeRawPointer) -> Void) {
        chunks[position >> Self.shift].withUnsafeBufferPointer {
            body(UnsafeRawPointer($0.baseAddress! + (position & Self.mask)))
        }
    }

    /// Appends every element of `other`, in order. When this store's chunks are all full,
    /// `other`'s chunks are taken as they are (shared, nothing copied): two halves of a
    /// table filled on two cores become one.
    /// - Complexity: O(number of chunks) when this store's chunks are full, else
    ///   O(`other.count`).
    @inlinable
    public mutating func append(contentsOf other: ChunkedStore) {
        if stored & Self.mask == 0, chunks.count == stored >> Self.shift {
            chunks.append(contentsOf: other.chunks)
            stored += other.stored
        } else {
            for element in other { append(element) }
        }
    }
}

/// A table of records by key, with a dictionary's interface: `table[id]` reads, writes in
/// place, inserts and (with nil) removes.
///
/// Records lie in chunks (`ChunkedStore`); the hash table holds only each key's slot.
/// A dictionary of records sizes its buckets for the records themselves, and keeps a quarter
/// to three quarters of them empty: 400,000 participants took a million 128-byte buckets.
/// Here the empty buckets hold 4-byte slots.
///
/// Iteration is in insertion order, except that a removal moves the last record into the
/// gap; like a dictionary's, no code may rely on it.
public struct RecordTable<Key: Hashable, Value> {
    private var slots: [Key: Int32] = [:]
    private var keyStore = ChunkedStore<Key>()
    /// Nil only while a record is lent out by `subscript(_:)`'s `_modify`.
    private var records = ChunkedStore<Value?>()

    /// An empty table.
    public init() {}

    /// How many records the table holds.
    public var count: Int { keyStore.count }
    /// Whether the table holds none.
    public var isEmpty: Bool { keyStore.isEmpty }

    /// The record of `key`; set nil to remove it.
    /// - Complexity: O(1) on average; a removal moves one record.
    public subscript(key: Key) -> Value? {
        get { slots[key].map { records[Int($0)]! } }
        _modify {
            if let slot = slots[key].map(Int.init) {
                // Lent out, not copied: a change to one of the record's arrays is made in
                // place, as with a dictionary.
                var value = records[slot].take()
                defer {
                    if let value { records[slot] = value } else { remove(at: slot) }
                }
                yield &value
            } else {
                var value: Value? = nil
                defer { if let value { insert(key, value) } }
                yield &value
            }
        }
    }

    /// Whether the table holds a record of `key` (without copying the record out).
    /// - Complexity: O(1) on average.
    public func contains(_ key: Key) -> Bool { slots[key] != nil }

    /// Calls `body` with the record of `key`, changed in place: one lookup, where
    /// `table[key]?.a = …; table[key]?.b = …` makes one per statement. Nil, and `body` is
    /// not called, when there is no such record.
    /// - Complexity: O(1) on average, plus `body`.
    @discardableResult
    public mutating func update<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let slot = slots[key] else { return nil }
        return body(&records[Int(slot)]!)
    }

    /// Stores `value` as the record of `key`, replacing any: the key is hashed once.
    /// - Complexity: O(1) on average.
    public mutating func set(_ key: Key, _ value: Value) {
        precondition(count < Int(Int32.max), "a record table holds at most \(Int32.max) records")
        let next = Int32(count)
        // The defaulted subscript inserts `next` when the key is new, in the same lookup;
        // a key already held has a slot below `count`.
        let slot = Self.value(of: &slots[key, default: next])
        if slot == next {
            keyStore.append(key)
            records.append(value)
        } else {
            records[Int(slot)] = value
        }
    }

    private static func value(of slot: inout Int32) -> Int32 { slot }

    /// Removes and returns the record of `key`, if there is one.
    @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? {
        guard let slot = slots[key].map(Int.init) else { return nil }
        let value = records[slot]
        remove(at: slot)
        return value
    }

    private mutating func insert(_ key: Key, _ value: Value) {
        precondition(count < Int(Int32.max), "a record table holds at most \(Int32.max) records")
        slots[key] = Int32(count)
        keyStore.append(key)
        records.append(value)
    }

    /// Moves the last record into `slot`'s place.
    private mutating func remove(at slot: Int) {
        let key = keyStore[slot]
        let lastKey = keyStore.removeLast()
        let lastRecord = records.removeLast()
        slots[key] = nil
        if slot < count {
            keyStore[slot] = lastKey
            records[slot] = lastRecord
            slots[lastKey] = Int32(slot)
        }
    }

    /// The keys, in the table's order.
    public var keys: Keys { Keys(store: keyStore) }

    /// The records, in the table's order.
    public var values: Values { Values(store: records) }

    /// A table's keys: a view, not a copy.
    public struct Keys: RandomAccessCollection {
        fileprivate let store: ChunkedStore<Key>
        public var startIndex: Int { 0 }
        public var endIndex: Int { store.count }
        public subscript(position: Int) -> Key { store[position] }
    }

    /// A table's records: a view, not a copy.
    public struct Values: RandomAccessCollection {
        fileprivate let store: ChunkedStore<Value?>
        public var startIndex: Int { 0 }
        public var endIndex: Int { store.count }
        public subscript(position: Int) -> Value { store[position]! }
    }
}

extension RecordTable: Sequence {
    /// Key and record, in the table's order.
    public struct Iterator: IteratorProtocol {
        fileprivate let keys: ChunkedStore<Key>
        fileprivate let records: ChunkedStore<Value?>
        fileprivate var position = 0

        public mutating func next() -> (key: Key, value: Value)? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (keys[position], records[position]!)
        }
    }

    public func makeIterator() -> Iterator { Iterator(keys: keyStore, records: records) }
    public var underestimatedCount: Int { count }
}

extension RecordTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (Key, Value)...) {
        self.init()
        for (key, value) in elements { self[key] = value }
    }
}

extension RecordTable: Equatable where Value: Equatable {
    /// Equal when they hold the same records under the same keys, in any order.
    public static func == (a: RecordTable, b: RecordTable) -> Bool {
        guard a.count == b.count else { return false }
        return a.allSatisfy { (key: Key, value: Value) in b[key] == value }
    }
}

extension RecordTable: Sendable where Key: Sendable, Value: Sendable {}
extension RecordTable.Iterator: Sendable where Key: Sendable, Value: Sendable {}
extension RecordTable.Keys: Sendable where Key: Sendable {}
extension RecordTable.Values: Sendable where Value: Sendable {}
