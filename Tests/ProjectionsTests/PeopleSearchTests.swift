import EventLog
import Mentoring
import Testing

@testable import Projections

/// `people --search` compares bytes of folded text. Folding takes Latin accents off in
/// either Unicode form, so on names the byte search finds what comparing characters finds.
@Suite("people --search: bytes of folded text, as characters would match")
struct PeopleSearchTests {
    @Test("the byte search agrees with a search by characters, accents composed and decomposed")
    func bytesAgreeWithCharacters() {
        var generator = SeededGenerator(seed: 77)
        // Letters, accented letters in both forms (é and e + U+0301), ß, spaces and @.
        let pieces = ["a", "e", "u", "s", "M", "é", "e\u{301}", "Ü", "U\u{308}", "ß", "ss", " ", "@", "-", "o"]
        func text(_ maximum: Int) -> String {
            (0..<Int.random(in: 0...maximum, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
        }
        var found = 0
        for _ in 0..<20_000 {
            let name = text(8), email = text(4), search = text(3)
            let needle = Field.fold(search.trimmed)
            guard !needle.isEmpty else { continue }
            let byCharacters = Field.fold(name + " " + email).contains(needle)
            #expect(
                PeopleQuery.matches(Array(needle.utf8), name: name, email: email) == byCharacters,
                "\(name.unicodeScalars.map(\.value)) / \(search.unicodeScalars.map(\.value))")
            if byCharacters { found += 1 }
        }
        #expect(found > 1_000, "\(found) matches")
        #expect(PeopleQuery.matches(Array("muller".utf8), name: "Jürgen Mu\u{308}ller", email: nil))
        #expect(!PeopleQuery.matches(Array("mueller".utf8), name: "Jürgen Müller", email: nil))
    }

    @Test("a person's standing read from the rows is their view's", arguments: 0..<4)
    func standingFromRows(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 6100)
        history.backdating = seed % 2 == 1
        history.run(steps: 500)
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        var seen: Set<PeopleQuery.Status> = []
        for number in 0..<Int32(model.peopleRows.count) {
            let view = model.peopleRows.view(number, tandems: model.tandemRows)
            // The standing as it was judged from the view.
            let expected: (PeopleQuery.Status, BusinessDate)
            if let withdrawn = view.withdrawnOn {
                expected = (.withdrawn, withdrawn)
            } else if let tandem = view.activeTandem {
                expected = (.matched, try #require(model.tandems[tandem]).since)
            } else if let end = view.lastTandemEnd, end.status == .completed {
                expected = (.done, end.on)
            } else {
                expected = (.waiting, view.lastTandemEnd?.on ?? view.signedUpOn)
            }
            let listed = model.peopleRows.listed(number)
            let standing = PeopleQuery.standing(listed, tandems: model.tandemRows)
            #expect(standing == expected, "seed \(seed), \(view.id)")
            #expect(listed.id == view.id && listed.programme == view.programme && listed.role == view.role)
            #expect(
                (listed.activeTandem >= 0 ? model.tandemRows.id(ofRow: listed.activeTandem) : nil) == view.activeTandem)
            seen.insert(standing.0)
        }
        #expect(seen == [.waiting, .matched, .withdrawn, .done], "seed \(seed): every standing")
    }
}
