import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// The traits index answers what a pass over the vault answers, for every profile, in
/// whatever order time travel asks (it asks in ref order, which the index walks forward).
@Suite("Traits index: every profile's traits as the vault has them, asked in any order")
struct TraitsIndexTests {
    @Test("every ref is found with the vault's traits, in ref order, shuffled and backwards", arguments: 0..<3)
    func lookups(seed: Int) throws {
        let directory = TemporaryDirectory()
        var history = HistoryGenerator(seed: UInt64(seed) &+ 70)
        history.run(steps: 800)
        let store = try TimeTravelTests.store(history, in: directory)
        let vault = Vault(store: store)
        var expected: [(ref: String, traits: Traits)] = []
        try TraitsDirectory.forEachProfile(in: vault) { expected.append(($0, $1)) }
        #expect(expected.count > 60, "seed \(seed): \(expected.count) profiles")

        // Refs no profile has: below, among and above the real ones, and of another shape.
        let absent = ["r-0000000000000000", "r-7fffffffffffffff", "r-ffffffffffffffff", "r-", "x"]
        let asked = expected.map(\.ref) + absent
        let ascending = asked.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var generator = SeededGenerator(seed: UInt64(seed))
        let byRef = Dictionary(expected.map { ($0.ref, $0.traits) }, uniquingKeysWith: { $1 })
        for (name, order) in [
            ("ref order", ascending), ("backwards", Array(ascending.reversed())),
            ("shuffled", asked.shuffled(using: &generator)),
        ] {
            var index = try TraitsIndex.load(store, vault: vault)
            for ref in order {
                #expect(try index.traits(ref) == byRef[ref], "seed \(seed), \(name): \(ref)")
            }
        }
    }
}
