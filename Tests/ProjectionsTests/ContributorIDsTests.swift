import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// Record keys read from where the ids lie (rows of the read model, or a list) are each
/// contributor's own HMAC, in the order asked for.
@Suite("Contributor ids: record keys from rows and lists")
struct ContributorIDsTests {
    let secret = (0..<32).map { UInt8(($0 * 11 + 5) % 256) }

    @Test("keys of people and tandem rows: every row, or some in any order, are each one's own", arguments: 0..<3)
    func keysOfRows(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, _, service) = try TimeTravelTests.generated(seed: UInt64(seed) &+ 4100, steps: 300, in: directory)
        let model = try service.input(.init(viewer: .coordinator, today: BusinessDate("2030-01-01")!)).model
        let keys = RecordKeys(secret: secret)
        let policy = DisclosurePolicy.cellKey(keys)
        let people = model.peopleRows, tandems = model.tandemRows
        #expect(people.count > 10 && tandems.count > 5, "seed \(seed): a history with people and tandems")
        let everyone = (0..<people.count).map { people.id(ofRow: Int32($0)) }
        #expect(policy.keys(ofPeopleRows: nil, in: people) == everyone.map { keys.key($0) }, "seed \(seed)")
        var random = SeededGenerator(seed: UInt64(seed))
        let some = (0..<people.count).map(Int32.init).shuffled(using: &random).prefix(people.count / 2 + 1)
        #expect(
            policy.keys(ofPeopleRows: Array(some), in: people) == some.map { keys.key(people.id(ofRow: $0)) },
            "seed \(seed)")
        let pairs = (0..<tandems.count).map(Int32.init).reversed() + [0]
        #expect(
            policy.keys(ofTandemRows: pairs, in: tandems) == pairs.map { keys.key(tandems.id(ofRow: $0)) },
            "seed \(seed)")
        // A dropouts query's people (rows in any order): each one's own key, in their order.
        let shuffled = (0..<people.count).map(Int32.init).shuffled(using: &random)
        let dropouts = shuffled.map {
            DropoutsQuery.Person(
                row: $0, isMentor: false, standing: .init(firstMatchedOn: nil, withdrawnOn: nil, completedOn: nil),
                withdrewBeforeMatch: false, reason: nil, observation: nil,
                group: 0)
        }
        #expect(
            policy.keys(ofPeople: DropoutsQuery.Person.IDs(rows: people.rows, people: dropouts))
                == shuffled.map { keys.key(people.id(ofRow: $0)) }, "seed \(seed)")
        // An exact view's keys are all empty, one per contributor.
        #expect(DisclosurePolicy.exact.keys(ofTandemRows: pairs, in: tandems) == pairs.map { _ in .empty })
    }

    /// Ids of every length up to well past the name buffers (which valid ids never reach): the
    /// long ones take the one-at-a-time way, the pair beside them is still each one's own.
    @Test("keys filled in pairs equal single keys for ids of every length, odd and even ranges")
    func everyLength() {
        struct Lengths: ContributorIDs {
            let count = 301
            func id(at position: Int) -> String { String(repeating: "abcdefghij", count: 31).prefix(position) + "" }
        }
        let keys = RecordKeys(secret: secret)
        for range in [0..<301, 1..<301, 0..<300, 140..<141, 127..<133, 200..<200] {
            var out = [CellKey](repeating: CellKey(7), count: 301)
            out.withUnsafeMutableBufferPointer { keys.fill(.participant, Lengths(), range, into: $0) }
            let expected = (0..<301).map {
                range.contains($0) ? keys.key(.participant, Lengths().id(at: $0)) : CellKey(7)
            }
            #expect(out == expected, "range \(range)")
        }
        // Against the plain HMAC, with no shortcut, for one id past the buffers.
        let long = Lengths().id(at: 250)
        #expect(
            keys.key(.tandem, long)
                == CellKey(HMAC.sha256(key: secret, message: Array(("tandem:" + long).utf8)).words.0))
    }
}
