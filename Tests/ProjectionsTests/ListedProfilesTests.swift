import Mentoring
import Testing

@testable import Projections

/// Packed profiles read back as the fields a listing shows, at their positions.
@Suite("Listed profiles: each position's listed fields read back as they were set")
struct ListedProfilesTests {
    @Test("names with quotes, escapes and emoji, absent emails and genders, empty strings, and unset positions")
    func roundTrip() {
        let profiles = [
            Profile(
                name: "Zoë \"Zo\" Ünal", email: "zoe@example.com", unit: "IT", level: 2, born: 1999, gender: "f",
                offers: ["excel"], wants: ["x"], interests: ["y"]),
            Profile(name: "", email: nil, unit: "", level: 0, born: 0, gender: nil),
            Profile(name: "back\\slash\ttab 🙂", email: "", unit: "Sales", level: -3, born: 2_147_483_648, gender: ""),
        ]
        var listed = ListedProfiles(count: 6)
        // Out of order, as a pass over the vault finds them; position 4 set twice.
        listed.set(profiles[2], at: 5)
        listed.set(profiles[0], at: 0)
        listed.set(profiles[2], at: 4)
        listed.set(profiles[1], at: 4)
        listed.set(profiles[1], at: 2)
        #expect(listed.count == 6)
        func shown(_ p: Profile) -> Profile {
            Profile(name: p.name, email: p.email, unit: p.unit, level: p.level, born: p.born, gender: p.gender)
        }
        #expect(listed[0] == shown(profiles[0]), "the lists are not kept")
        #expect(listed[1] == nil)
        #expect(listed[2] == shown(profiles[1]))
        #expect(listed[3] == nil)
        #expect(listed[4] == shown(profiles[1]), "the later one replaces the earlier")
        #expect(listed[5] == shown(profiles[2]))
    }

    @Test("records across many chunks, and one longer than a chunk, read back at their positions")
    func acrossChunks() {
        let count = 40_000
        var listed = ListedProfiles(count: count + 1)
        func profile(_ i: Int) -> Profile {
            Profile(
                name: "Person \(i) " + String(repeating: "x", count: i % 97), email: i % 3 == 0 ? nil : "p\(i)@x",
                unit: "U\(i % 7)", level: i % 12, born: 1950 + i % 60, gender: i % 2 == 0 ? nil : "f")
        }
        // In reverse, so that positions and chunks run opposite ways.
        for i in (0..<count).reversed() { listed.set(profile(i), at: i) }
        let long = Profile(
            name: String(repeating: "ä", count: ListedProfiles.chunkSize), unit: "IT", level: 1, born: 1990,
            gender: nil)
        listed.set(long, at: count)
        #expect((0..<count).allSatisfy { listed[$0] == profile($0) })
        #expect(listed[count] == long)
        listed.set(profile(7), at: 3)
        #expect(listed[3] == profile(7) && listed[2] == profile(2), "a later record after the long one")
    }
}
