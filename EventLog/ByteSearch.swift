#if canImport(Glibc)
    import Glibc
#endif

/// Substring search over raw bytes (memmem is a GNU extension Swift does not import).
public enum ByteSearch {
    /// How many bytes of `bytes` are `byte`, counted eight at a time.
    package static func count(_ byte: UInt8, in bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        var total = 0
        var offset = 0
        while offset + 8 <= bytes.count {
            // A byte of `word` is zero exactly where the byte matched; its top bit is set in
            // `zeros` exactly there (no carry between bytes, unlike the usual zero test).
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ pattern
            let zeros = ~(((word & low7) &+ low7) | word | low7)
            total += zeros.nonzeroBitCount
            offset += 8
        }
        while offset < bytes.count {
            if base.load(fromByteOffset: offset, as: UInt8.self) == byte { total += 1 }
            offset += 1
        }
        return total
    }

    /// Whether every byte is below 0x80 (ASCII, and so valid UTF-8), read eight at a time.
    package static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var high: UInt64 = 0
        var offset = 0
        while offset + 8 <= bytes.count {
            high |= base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < bytes.count {
            high |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
            offset += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    /// The offset of the first occurrence of `needle` in `haystack`, or nil.
    /// - Complexity: O(n·m) worst case; memchr finds candidates, memcmp confirms them.
    package static func firstIndex(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Int? {
        let n = needle.count
        guard n > 0, haystack.count >= n, let base = haystack.baseAddress, let pattern = needle.baseAddress else {
            return n == 0 ? 0 : nil
        }
        let last = haystack.count - n
        // The first bytes are looked at one by one, without a call: a marker near the start
        // of a log line (`,"type":"`, `"on":"`) is found within a few dozen bytes, where
        // memchr stopped at every quote on the way and was called again after each.
        // The second byte is compared too before memcmp is called: a quote starts the
        // markers and half the line's tokens.
        let firstByte = needle[0], secondByte = n > 1 ? needle[1] : 0
        let nearEnd = min(last, 63)
        var offset = 0
        while offset <= nearEnd {
            if base.load(fromByteOffset: offset, as: UInt8.self) == firstByte,
                n == 1 || base.load(fromByteOffset: offset + 1, as: UInt8.self) == secondByte,
                memcmp(base + offset, pattern, n) == 0
            {
                return offset
            }
            offset += 1
        }
        return anchored(needle, in: haystack, from: offset)
    }

    /// `firstIndex(of:in:)` without looking at the first bytes one by one: for a needle
    /// whose rarest byte is not expected near the start of the haystack.
    package static func firstIndex(
        anchoredOf needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer
    )
        -> Int?
    {
        let n = needle.count
        guard n > 0, haystack.count >= n else { return n == 0 ? 0 : nil }
        return anchored(needle, in: haystack, from: 0)
    }

    /// The first occurrence at or after `offset` (the needle not empty, the haystack at
    /// least as long). memchr looks for the needle's rarest byte, not its first: in JSON a
    /// quote comes every few bytes, and a search for `"void"` through a large batch stopped
    /// at each one.
    private static func anchored(
        _ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from offset: Int
    )
        -> Int?
    {
        let n = needle.count, last = haystack.count - n
        let base = haystack.baseAddress!, pattern = needle.baseAddress!
        let anchor = anchorIndex(needle)
        let anchorByte = Int32(needle[anchor])
        var offset = offset
        while offset <= last {
            guard let hit = memchr(base + offset + anchor, anchorByte, last - offset + 1) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit)) - anchor
            if memcmp(base + position, pattern, n) == 0 { return position }
            offset = position + 1
        }
        return nil
    }

    /// The place of the needle byte least likely to be common in JSON text: the first that
    /// is not punctuation, a space, a digit or one of the commonest letters; else the first.
    static func anchorIndex(_ needle: UnsafeRawBufferPointer) -> Int {
        for (i, byte) in needle.enumerated() {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "{"), UInt8(ascii: "}"),
                UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "o"),
                UInt8(ascii: "r"), UInt8(ascii: "s"), UInt8(ascii: "t"):
                continue
            default:
                return i
            }
        }
        return 0
    }

    /// Whether `haystack` contains `needle`.
    package static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        needle.withUnsafeBytes { firstIndex(of: $0, in: haystack) != nil }
    }

    /// The offset of the first occurrence of `needle` in `haystack` at or after `from`, or nil.
    package static func firstIndex(of needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from <= haystack.count else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: haystack[from...])
        return needle.withUnsafeBytes { firstIndex(of: $0, in: rest) }.map { $0 + from }
    }

    /// Whether `needle` stands in `haystack` at `offset`.
    package static func matches(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, offset + needle.count <= haystack.count else { return false }
        for (i, byte) in needle.enumerated() where haystack[offset + i] != byte { return false }
        return true
    }

    // The same for needles written in the code. A `StaticString` points into the binary:
    // unlike a shared `[UInt8]`, reading it touches no reference count, which workers on
    // several cores would otherwise contend for on every line.

    /// The bytes of a static needle.
    @inline(__always)
    package static func bytes(_ needle: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
    }

    /// Whether `haystack` contains `needle`.
    package static func contains(_ needle: StaticString, in haystack: UnsafeRawBufferPointer) -> Bool {
        firstIndex(of: bytes(needle), in: haystack) != nil
    }

    /// The offset of the first occurrence of `needle` in `haystack` at or after `from`, or nil.
    package static func firstIndex(of needle: StaticString, in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from <= haystack.count else { return nil }
        return firstIndex(of: bytes(needle), in: UnsafeRawBufferPointer(rebasing: haystack[from...])).map { $0 + from }
    }

    /// Whether `bytes` are exactly `needle`.
    package static func equals(_ bytes: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        bytes.count == needle.utf8CodeUnitCount && matches(needle, in: bytes, at: 0)
    }

    /// Whether `needle` stands in `haystack` at `offset`.
    package static func matches(_ needle: StaticString, in haystack: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let count = needle.utf8CodeUnitCount
        guard offset >= 0, offset + count <= haystack.count else { return false }
        return count == 0 || memcmp(haystack.baseAddress! + offset, needle.utf8Start, count) == 0
    }
}
