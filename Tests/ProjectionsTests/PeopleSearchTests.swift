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
}
