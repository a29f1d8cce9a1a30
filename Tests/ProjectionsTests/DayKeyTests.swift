import Mentoring
import Testing

@testable import Projections

/// The per-day session counts hash a fingerprint of the programme's id, not the whole id:
/// programmes running side by side must still land apart, and equal keys together.
@Suite("Per-day session keys: programmes of one day hash apart")
struct DayKeyTests {
    @Test("keys of one day for programmes that differ in length, first or last byte hash apart")
    func programmesOfOneDay() throws {
        let ids = ["hr-2027", "it-2027", "cohort-a", "cohort-b", "cohort-ab", "pilot", "pilot-2027-with-a-long-name"]
        let day = BusinessDate("2027-03-01")!.dayNumber
        let keys = try ids.map { DayKey(programme: try #require(ProgrammeID($0)), day: day) }
        #expect(Set(keys.map(\.hashValue)).count == ids.count)
        #expect(Set(keys).count == ids.count)
        // Equal keys hash alike, whether the id is a small string or a long one.
        for id in ids {
            let a = DayKey(programme: ProgrammeID(id)!, day: day)
            let b = DayKey(programme: ProgrammeID(String(id.reversed().reversed()))!, day: day)
            #expect(a == b && a.hashValue == b.hashValue)
            #expect(a != DayKey(programme: ProgrammeID(id)!, day: day + 1))
        }
        // Same length, first and last byte: apart by equality, which compares the whole id.
        let x = DayKey(programme: ProgrammeID("a-1-z")!, day: day)
        let y = DayKey(programme: ProgrammeID("a-2-z")!, day: day)
        #expect(x != y && x.hashValue == y.hashValue)
        var counts: [DayKey: Int] = [:]
        counts[x, default: 0] += 1
        counts[y, default: 0] += 2
        #expect(counts[x] == 1 && counts[y] == 2)
    }
}
