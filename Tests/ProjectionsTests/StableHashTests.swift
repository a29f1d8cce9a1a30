import Testing

@testable import Projections

/// FNV-1a is written to disk (snapshot slots, cell-key salts): its values must not move.
@Suite("Stable hash: FNV-1a of the UTF-8 bytes")
struct StableHashTests {
    @Test("published vectors, and every string agrees with a byte-by-byte reference")
    func vectorsAndReference() {
        // From the FNV reference test suite (64-bit FNV-1a).
        #expect(StableHash.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.fnv1a("foobar") == 0x8594_4171_f739_67e8)
        func reference(_ text: String) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in Array(text.utf8) { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
            return hash
        }
        let pieces = ["t-1-17", "p-2e6fz8", "é", "😀", "data-visualisation", "\u{0}", "a long id beyond fifteen bytes"]
        var text = ""
        for i in 0..<200 {
            text += pieces[(i * 7 + i / 3) % pieces.count]
            if i % 9 == 0 { text = String(text.suffix(i % 23)) }
            #expect(StableHash.fnv1a(text) == reference(text), "\(text)")
            // A substring's copy, a string not stored natively by itself.
            let sub = String(text.dropFirst(i % 3))
            #expect(StableHash.fnv1a(sub) == reference(sub))
        }
    }
}
