import EventLog
import Mentoring
import Projections
import Testing

/// The dropouts' headline figures against counts made by hand from every person's view, on
/// seeded histories with withdrawals before and after a match, for each population.
@Suite("dropouts: headline figures counted by hand")
struct DropoutsFiguresTests {
    @Test("matched, withdrawals, before a match, the reasons and the rate", arguments: 0..<6)
    func headlineFigures(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 9100)
        history.run(steps: 500)
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        let basis = Basis(
            head: LogHead(seq: 1, hash: .zero), asOf: history.day, asOfGiven: false, knownAt: nil,
            role: .coordinator)
        let input = QueryInput(model: model, basis: basis)
        var sawBefore = false, sawAfter = false
        for population in DropoutsQuery.PopulationFilter.allCases {
            let people = model.people.values.filter {
                population == .all || ($0.role == .mentor) == (population == .mentors)
            }
            let matched = people.filter { $0.firstMatchedOn != nil }.count
            let withdrawn = people.filter { $0.withdrawnOn != nil }
            let before = withdrawn.filter(\.withdrewBeforeMatch).count
            var reasons: [String: Int] = [:]
            for person in withdrawn { reasons[person.withdrawalReason?.rawValue ?? "other", default: 0] += 1 }
            let result = try DropoutsQuery.run(input, .init(population: population))
            let figures: JSONObject = try #require(result.payload.objectValue)
            #expect(figures["participants"] == JSONValue.int(Int64(matched)), "seed \(seed), \(population)")
            #expect(figures["withdrawals"] == JSONValue.int(Int64(withdrawn.count)), "seed \(seed), \(population)")
            #expect(figures["withdrawalsBeforeMatch"] == JSONValue.int(Int64(before)), "seed \(seed), \(population)")
            let shownReasons = figures["reasons"]?.objectValue?.members ?? []
            #expect(
                Dictionary(uniqueKeysWithValues: shownReasons.map { ($0.key, $0.value) })
                    == reasons.mapValues { JSONValue.int(Int64($0)) }, "seed \(seed), \(population)")
            let rate = figures["rate"]?.doubleValue
            #expect(rate.map { abs($0 - Double(withdrawn.count - before) / Double(matched)) < 1e-9 } ?? false)
            sawBefore = sawBefore || before > 0
            sawAfter = sawAfter || withdrawn.count > before
        }
        #expect(sawBefore && sawAfter, "seed \(seed) withdraws people before and after a match")
    }
}
