import Testing

@testable import EventLog

/// Needles written in the code (static strings) find what the same needles as arrays find.
@Suite("Byte search: static needles agree with array needles")
struct ByteSearchTests {
    @Test("on seeded random haystacks over a small alphabet, every position")
    func staticEqualsArray() {
        var generator = SeededGenerator(seed: 77)
        let needle: StaticString = #""ref":""#
        let array = Array(#""ref":""#.utf8)
        let alphabet = Array(#""ref:ab"#.utf8)
        for _ in 0..<300 {
            let haystack = (0..<Int.random(in: 0..<60, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            haystack.withUnsafeBytes { bytes in
                for from in 0...bytes.count {
                    #expect(
                        ByteSearch.firstIndex(of: needle, in: bytes, from: from)
                            == ByteSearch.firstIndex(of: array, in: bytes, from: from))
                    #expect(
                        ByteSearch.matches(needle, in: bytes, at: from)
                            == ByteSearch.matches(array, in: bytes, at: from))
                }
                #expect(ByteSearch.contains(needle, in: bytes) == ByteSearch.contains(array, in: bytes))
                #expect(ByteSearch.equals(bytes, needle) == (haystack == array))
            }
        }
    }

    /// The first 64 positions are searched byte by byte, the rest with memchr: matches on
    /// either side of that line, and across it, are found where a plain search finds them.
    @Test("the first occurrence is where a plain search finds it, near the start and beyond")
    func againstPlainSearch() {
        var generator = SeededGenerator(seed: 6401)
        // Common bytes and rare ones (b, v), so that the byte memchr looks for past the
        // first 64 is the needle's first as often as a later one.
        let alphabet = Array(#""on:abv"#.utf8)
        func plain(_ needle: [UInt8], _ haystack: [UInt8]) -> Int? {
            guard needle.count <= haystack.count else { return needle.isEmpty ? 0 : nil }
            return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
        }
        for _ in 0..<3_000 {
            let needle = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            let haystack = (0..<Int.random(in: 0..<400, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            let found = haystack.withUnsafeBytes { bytes in
                needle.withUnsafeBytes { ByteSearch.firstIndex(of: $0, in: bytes) }
            }
            #expect(found == plain(needle, haystack), "needle \(needle), haystack of \(haystack.count)")
            // The same search without the first bytes looked at one by one.
            let anchored = haystack.withUnsafeBytes { bytes in
                needle.withUnsafeBytes { ByteSearch.firstIndex(anchoredOf: $0, in: bytes) }
            }
            #expect(anchored == found, "anchored: needle \(needle), haystack of \(haystack.count)")
        }
        // A marker whose only occurrence straddles the 64th byte, or lies just past it.
        for start in 56...72 {
            var haystack = [UInt8](repeating: UInt8(ascii: "\""), count: 140)
            let marker = Array(#""on":""#.utf8)
            haystack.replaceSubrange(start..<(start + marker.count), with: marker)
            let found = haystack.withUnsafeBytes { ByteSearch.firstIndex(of: #""on":""#, in: $0, from: 0) }
            #expect(found == start)
        }
    }

    @Test("a run is ASCII unless some byte, at any place in or out of the eight-byte words, is 0x80 or above")
    func asciiRuns() {
        for length in 0..<40 {
            var bytes = (0..<length).map { UInt8(truncatingIfNeeded: 1 + $0 * 7) & 0x7F }
            bytes.withUnsafeBytes { #expect(ByteSearch.isASCII($0), "length \(length)") }
            for place in 0..<length {
                for high: UInt8 in [0x80, 0xC3, 0xFF] {
                    let saved = bytes[place]
                    bytes[place] = high
                    bytes.withUnsafeBytes { #expect(!ByteSearch.isASCII($0), "length \(length), \(high) at \(place)") }
                    bytes[place] = saved
                }
            }
        }
    }

    @Test("a byte is counted wherever it falls, next to any other byte (0x80 and up included)")
    func counts() {
        var generator = SeededGenerator(seed: 1_010)
        let alphabet: [UInt8] = [0x0A, 0x0B, 0x09, 0x8A, 0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x41]
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<70, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            for byte: UInt8 in [0x0A, 0x00, 0xFF, 0x80] {
                let plain = bytes.filter { $0 == byte }.count
                bytes.withUnsafeBytes { #expect(ByteSearch.count(byte, in: $0) == plain, "\(byte) in \(bytes)") }
            }
        }
    }

    @Test("an empty needle and an empty haystack")
    func empty() {
        let nothing: [UInt8] = []
        nothing.withUnsafeBytes { bytes in
            #expect(ByteSearch.equals(bytes, ""))
            #expect(!ByteSearch.equals(bytes, "x"))
            #expect(ByteSearch.matches("", in: bytes, at: 0))
            #expect(!ByteSearch.contains("x", in: bytes))
        }
    }
}
