/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash of short inputs.
///
/// The record-key file's fingerprints of ids (`RecordKeyFile`): keyed by the store's secret,
/// so no one without it can make two ids that a fingerprint mistakes for each other.
struct SipHash: Sendable {
    let k0: UInt64, k1: UInt64

    /// A hash keyed by 16 bytes, read as two little-endian words.
    init(key: some Collection<UInt8>) {
        precondition(key.count >= 16, "SipHash takes a 16-byte key")
        var words: [UInt64] = [0, 0]
        for (i, byte) in key.prefix(16).enumerated() { words[i / 8] |= UInt64(byte) << (8 * UInt64(i % 8)) }
        (k0, k1) = (words[0], words[1])
    }

    /// The 64-bit hash of `bytes`.
    /// - Complexity: O(bytes.count).
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func round() {
            v0 &+= v1
            v1 = v1.rotateLeft(13) ^ v0
            v0 = v0.rotateLeft(32)
            v2 &+= v3
            v3 = v3.rotateLeft(16) ^ v2
            v0 &+= v3
            v3 = v3.rotateLeft(21) ^ v0
            v2 &+= v1
            v1 = v1.rotateLeft(17) ^ v2
            v2 = v2.rotateLeft(32)
        }
        let whole = bytes.count & ~7
        var offset = 0
        while offset < whole {
            let m = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            v3 ^= m
            round()
            round()
            v0 ^= m
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: bytes.count) << 56
        for i in 0..<(bytes.count - whole) { last |= UInt64(bytes[whole + i]) << (8 * UInt64(i)) }
        v3 ^= last
        round()
        round()
        v0 ^= last
        v2 ^= 0xff
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The hash of a string's UTF-8 bytes.
    func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}

extension UInt64 {
    @inline(__always) fileprivate func rotateLeft(_ n: UInt64) -> UInt64 { (self << n) | (self >> (64 - n)) }
}
