/// 64-bit FNV-1a of a text's UTF-8 bytes: the same in every process (Swift's `Hasher` is
/// seeded per process), for values written to disk or derived from names: cell-key salts,
/// the snapshot lookup's slots, the subject index's keys.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        // Over the contiguous bytes: a replay hashes every id it folds, and stepping through
        // `utf8` one index at a time cost three times the hash itself.
        if let hash = text.utf8.withContiguousStorageIfAvailable({ fnv1a(bytes: $0) }) { return hash }
        var copy = text
        return copy.withUTF8 { fnv1a(bytes: $0) }
    }

    /// FNV-1a of raw bytes.
    static func fnv1a(bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
        return hash
    }
}
