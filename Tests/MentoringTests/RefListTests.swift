import EventLog
import Testing

@testable import Mentoring

/// Compact ref lists against plain arrays of strings.
@Suite("Ref lists: refs kept as numbers read back as the strings they were")
struct RefListTests {
    private func ref(_ generator: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<20, using: &generator) {
        case 0: "legacy-\(Int.random(in: 0..<99, using: &generator))"  // another shape
        case 1: "r-ABCDEF0123456789"  // upper case: not ours, kept as written
        case 2: "r-0123"  // too short
        default: "r-" + (0..<16).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
        }
    }

    @Test("appends and replacements agree with an array of strings", arguments: 0..<8)
    func agreesWithArray(seed: UInt64) {
        var generator = SeededGenerator(seed: 950 + seed)
        var list: RefList = []
        var reference: [String] = []
        for _ in 0..<400 {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0..<4:
                // Mostly refs of our shape, so that a list stays packed for a while.
                let r =
                    seed % 2 == 0
                    ? ref(&generator)
                    : "r-" + String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 16).padded
                list.append(r)
                reference.append(r)
            case 4 where !reference.isEmpty:
                let i = Int.random(in: 0..<reference.count, using: &generator)
                list.remove(at: i)
                reference.remove(at: i)
            default:
                let new = (0..<Int.random(in: 0..<3, using: &generator)).map { _ in ref(&generator) }
                let at = Int.random(in: 0...reference.count, using: &generator)
                list.insert(contentsOf: new, at: at)
                reference.insert(contentsOf: new, at: at)
            }
            #expect(Array(list) == reference)
        }
        #expect(list == RefList(reference))
        #expect(Set([list, RefList(reference)]).count == 1)
    }

    @Test("a list that held another shape equals the packed list of the same refs")
    func equalityAcrossStorage() {
        var mixed: RefList = ["r-00000000000000aa", "legacy-1"]
        mixed.removeLast()
        let packed: RefList = ["r-00000000000000aa"]
        #expect(mixed == packed && mixed.hashValue == packed.hashValue)
        #expect(packed + ["legacy-2"] == ["r-00000000000000aa", "legacy-2"])
    }
}

extension String {
    /// Zero-padded to 16 hex digits.
    fileprivate var padded: String { String(repeating: "0", count: max(0, 16 - count)) + self }
}
