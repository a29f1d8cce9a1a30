#if canImport(Glibc)
    import Glibc
#endif

/// Substring search over raw bytes (memmem is a GNU extension Swift does not import).
public enum ByteSearch {
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
        let first = Int32(firstByte)
        while offset <= last {
            guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, pattern, n) == 0 { return position }
            offset = position + 1
        }
        return nil
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
