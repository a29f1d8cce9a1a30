import Testing

@testable import EventLog

/// The order a keyed section keeps its keys in, found on eight-byte prefixes, is the plain
/// bytewise order.
@Suite("Bytewise order: prefixes first, whole keys on a tie, the plain order in the end")
struct BytewiseOrderTests {
    /// Keys over a small alphabet (so that long shared prefixes and equal keys are common),
    /// with a zero byte and multi-byte letters among them, 0 to 20 bytes long.
    @Test("on seeded random keys, the positions are a plain sort's", arguments: 0..<4)
    func agreesWithPlainSort(seed: UInt64) {
        var generator = SeededGenerator(seed: 4_400 + seed)
        let pieces = ["a", "b", "ab", "\u{0}", "é", "z", "0", "aaaaaaaa", "-"]
        let keys = (0..<3_000).map { _ in
            (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
        }
        let plain = keys.indices.sorted { a, b in
            let x = Array(keys[a].utf8), y = Array(keys[b].utf8)
            return x.lexicographicallyPrecedes(y) || (x == y && a < b)
        }
        #expect(BytewiseOrder.positions(of: keys) == plain)
        #expect(BytewiseOrder.positions(count: keys.count) { keys[$0] } == plain)
    }

    @Test("a key sorts before a longer key it begins, and bytes compare unsigned")
    func edges() {
        let keys = ["ab\u{0}", "ab", "", "abcdefgh", "abcdefghi", "abcdefgh\u{0}", "é", "z", "Z"]
        let order = BytewiseOrder.positions(of: keys).map { keys[$0] }
        #expect(order == ["", "Z", "ab", "ab\u{0}", "abcdefgh", "abcdefgh\u{0}", "abcdefghi", "z", "é"])
        #expect(BytewiseOrder.less("ab", "ab\u{0}") && !BytewiseOrder.less("ab\u{0}", "ab"))
        #expect(!BytewiseOrder.less("x", "x") && BytewiseOrder.less("", "x") && !BytewiseOrder.less("x", ""))
    }
}
