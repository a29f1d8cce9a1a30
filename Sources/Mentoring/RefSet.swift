/// A set of vault refs, compactly: refs of the usual `r-` + 16 hex shape as numbers (8
/// bytes each instead of a heap string), others as strings.
struct RefSet {
    private var packed = Set<UInt64>()
    private var other = Set<String>()

    mutating func insert(_ ref: String) {
        if let key = PackedRef.pack(ref) { packed.insert(key) } else { other.insert(ref) }
    }

    /// Inserts a ref as held (no string made for a packed one).
    mutating func insert(_ ref: VaultRef) {
        switch ref {
        case .packed(let key): packed.insert(key)
        case .other(let text): other.insert(text)
        }
    }

    func contains(_ ref: String) -> Bool {
        if let key = PackedRef.pack(ref) { return packed.contains(key) }
        return other.contains(ref)
    }
}

/// A list of vault refs in order, compactly: while every ref has the usual `r-` + 16 hex
/// shape they are kept as numbers (8 bytes each instead of a 64-byte heap string: a batch of
/// 400,000 signups kept 400,000 such strings in the decider's records). One ref of another
/// shape turns the list into plain strings.
///
/// Reading an element makes its string again; the lists are read rarely (an erasure, a
/// snapshot) and written once per event.
public struct RefList: RandomAccessCollection, RangeReplaceableCollection, Sendable, Hashable,
    ExpressibleByArrayLiteral
{
    private enum Storage: Sendable, Hashable {
        case packed([UInt64])
        case strings([String])
    }

    private var storage = Storage.packed([])

    /// An empty list.
    public init() {}

    public init(arrayLiteral elements: String...) {
        self.init()
        append(contentsOf: elements)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .packed(let keys): keys.count
        case .strings(let refs): refs.count
        }
    }

    public subscript(position: Int) -> String {
        switch storage {
        case .packed(let keys): PackedRef.unpack(keys[position])
        case .strings(let refs): refs[position]
        }
    }

    /// A list of one ref, as held.
    public init(_ ref: VaultRef) {
        self.init()
        append(ref)
    }

    /// Appends a ref as held: a packed one is appended as its number, with no string made.
    public mutating func append(_ ref: VaultRef) {
        if case .packed(var keys) = storage, case .packed(let key) = ref {
            storage = .packed([])
            keys.append(key)
            storage = .packed(keys)
        } else {
            append(ref.text)
        }
    }

    public mutating func append(_ ref: String) {
        if case .packed(var keys) = storage, let key = PackedRef.pack(ref) {
            // Taken out first, so that the array is appended to in place.
            storage = .packed([])
            keys.append(key)
            storage = .packed(keys)
        } else {
            replaceSubrange(endIndex..<endIndex, with: CollectionOfOne(ref))
        }
    }

    public mutating func replaceSubrange<C: Collection<String>>(_ subrange: Range<Int>, with new: C) {
        if case .packed(var keys) = storage {
            let packed = new.map(PackedRef.pack)
            if packed.allSatisfy({ $0 != nil }) {
                storage = .packed([])
                keys.replaceSubrange(subrange, with: packed.map { $0! })
                storage = .packed(keys)
                return
            }
        }
        var refs = Array(self)
        refs.replaceSubrange(subrange, with: new)
        storage = .strings(refs)
    }

    /// Equal when they hold the same refs in the same order, however they are kept.
    public static func == (a: RefList, b: RefList) -> Bool { a.elementsEqual(b) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for ref in self { hasher.combine(ref) }
    }
}
