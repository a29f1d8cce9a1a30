/// A set of vault refs, compactly: refs of the usual `r-` + 16 hex shape as numbers (8
/// bytes each instead of a heap string), others as strings.
struct RefSet {
    private var packed = Set<UInt64>()
    private var other = Set<String>()

    mutating func insert(_ ref: String) {
        if let key = PackedRef.pack(ref) { packed.insert(key) } else { other.insert(ref) }
    }

    func contains(_ ref: String) -> Bool {
        if let key = PackedRef.pack(ref) { return packed.contains(key) }
        return other.contains(ref)
    }
}
