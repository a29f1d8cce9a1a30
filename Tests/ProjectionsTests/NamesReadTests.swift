import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// A list reads the names of the people it shows only (`QueryInput.readNames`); any other
/// name asked for afterwards is still read, and every name is the one read for everyone.
@Suite("Names read for some rows: the same names, and the rest still found")
struct NamesReadTests {
    @Test("names after reading some rows are everyone's names", arguments: 0..<3)
    func someRowsThenAny(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, _, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9700, steps: 200, in: directory)
        let request = QueryService.Request(viewer: .coordinator, today: BusinessDate("2030-01-01")!)
        let everyone = try service.input(request)
        let ids = everyone.model.people.values.map(\.id).sorted()
        let expected = ids.map { everyone.name(of: $0) }
        #expect(expected.contains { $0.stringValue != nil }, "seed \(seed): no name to read")
        var generator = SeededGenerator(seed: UInt64(seed) &+ 5)
        let some = try service.input(request)
        let rows = ids.compactMap { some.model.peopleRows.row(of: $0) }.filter { _ in
            Bool.random(using: &generator)
        }
        some.readNames(ofRows: rows)
        // The rows read first, then everyone (the others read on the first one asked for).
        let read = Set(rows)
        let first = ids.filter { read.contains(some.model.peopleRows.row(of: $0)!) }
        #expect(first.map { some.name(of: $0) } == first.map { everyone.name(of: $0) }, "seed \(seed)")
        #expect(ids.map { some.name(of: $0) } == expected, "seed \(seed)")
        // A viewer who sees no names reads none.
        let auditor = try service.input(QueryService.Request(viewer: .auditor, today: BusinessDate("2030-01-01")!))
        auditor.readNames(ofRows: rows)
        #expect(ids.allSatisfy { auditor.name(of: $0) == .null })
    }
}
