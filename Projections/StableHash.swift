/// 64-bit FNV-1a of a text's UTF-8 bytes: the same in every process (Swift's `Hasher` is
/// seeded per process), for values written to disk or derived from names: cell-key salts,
/// the snapshot lookup's slots, the subject index's keys.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
        return hash
    }
}
