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
