import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// Rows sorted by their ids' keys (`ChunkedStore.numbers(naturallySortedBy:where:)`) come
/// out in the order a sort comparing the ids themselves gives.
@Suite("Rows in id order: sorted by key as by comparing ids")
struct NaturalSortTests {
    @Test("sorted by key equals sorted by NaturalOrder.less, ties and filters included", arguments: 0..<4)
    func keySortEqualsComparisonSort(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 4100)
        let alphabet = Array("abcXYZ0123456789")
        var ids: [String] = []
        var seen = Set<String>()
        while ids.count < 5000 {
            // Generated ids, numbered ones with and without leading zeros, and long ones
            // sharing their first 16 key bytes.
            let id: String
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                id = "p-" + String((0..<6).map { _ in alphabet.randomElement(using: &generator)! })
            case 1: id = "p-\(Int.random(in: 0..<3000, using: &generator))"
            case 2: id = "p-000\(Int.random(in: 0..<3000, using: &generator))"
            default:
                id =
                    "cohort-2027-spring-"
                    + String(
                        (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                            alphabet.randomElement(using: &generator)!
                        })
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        var store = ChunkedStore<String>()
        for id in ids { store.append(id) }
        let keep: (String) -> Bool = { !$0.hasSuffix("7") }
        let sorted = store.numbers(naturallySortedBy: { $0 }, where: keep).map { store[$0] }
        #expect(sorted == ids.filter(keep).sorted(by: NaturalOrder.less), "seed \(seed)")
        #expect(sorted.count < ids.count && sorted.count > ids.count / 2)
        // Text without a key (not ASCII) sorts by comparison, with the rest.
        store.append("p-é")
        let withKeyless = store.numbers(naturallySortedBy: { $0 }, where: { _ in true }).map { store[$0] }
        #expect(withKeyless == (ids + ["p-é"]).sorted(by: NaturalOrder.less), "seed \(seed)")
    }
}
