/// HMAC-SHA256 (RFC 2104), on this package's SHA-256: keyed hashes of values that must not
/// stand in a log as they are (a segment value in the access ledger), yet must compare
/// equal when they are equal.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key`.
    /// - Complexity: O(key + message).
    public static func sha256(key: [UInt8], message: some Collection<UInt8>) -> SHA256Digest {
        var block = key.count > 64 ? SHA256.hash(key).bytes : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = SHA256.hash(block.map { $0 ^ 0x36 } + Array(message))
        return SHA256.hash(block.map { $0 ^ 0x5c } + inner.bytes)
    }
}
