import EventLog
import Testing

@testable import Mentoring

@Suite("Field rules: the ASCII shortcuts agree with the general path")
struct FieldRuleTests {
    /// Text drawn from a small alphabet, so that ids share words with names often.
    static func text(_ random: SeededRandomSource, _ alphabet: [UInt8], maximum: UInt64) -> String {
        let length = Int(random.next(below: maximum + 1))
        return String(
            decoding: (0..<length).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] },
            as: UTF8.self)
    }

    /// An id names someone exactly when the character-by-character check says so, and with
    /// the same word.
    @Test func asciiIDsNameSomeoneAsCharactersSay() {
        let random = SeededRandomSource(seed: 23)
        let letters = Array("abABab -1".utf8)
        var refused = 0
        for _ in 0..<20_000 {
            let name = Self.text(random, letters, maximum: 14)
            var id = Self.text(random, letters, maximum: 6)
            if random.next(below: 2) == 0, !name.isEmpty {
                // Half the ids carry a piece of the name, in upper case at times.
                let bytes = Array(name.utf8)
                let start = Int(random.next(below: UInt64(bytes.count)))
                let piece = bytes[start..<min(bytes.count, start + 2 + Int(random.next(below: 5)))]
                let cased = random.next(below: 2) == 0 ? piece.map { $0 &- 97 < 26 ? $0 - 32 : $0 } : Array(piece)
                id += String(decoding: cased, as: UTF8.self)
            }
            let word = Field.asciiWordOf(name, in: id)
            #expect(word == Field.wordOf(name, in: id), "\(name) / \(id)")
            if word != nil { refused += 1 }
        }
        // Both outcomes are common, so that the comparison means something.
        #expect(refused > 1_000 && refused < 19_000, "\(refused) of 20,000 refused")
    }

    /// A free text is refused exactly when the character-by-character check refuses it,
    /// with the same message.
    @Test func textRuleOnBytesAgreesWithCharacters() {
        func reference(_ value: String, maximum: Int) -> String? {
            let trimmed = value.trimmed
            if trimmed.isEmpty { return "empty" }
            if trimmed.count > maximum { return "long" }
            if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return "control" }
            return nil
        }
        let pieces = [
            "a", " ", "é", "e\u{301}", "€", "😀", "👩‍💻", "\u{7f}", "\n", "\t", "\u{1}", "\u{85}", "\u{2028}", "z",
        ]
        let random = SeededRandomSource(seed: 29)
        var outcomes: [String: Int] = [:]
        for _ in 0..<20_000 {
            let count = Int(random.next(below: 9))
            let value = (0..<count).map { _ in pieces[Int(random.next(below: UInt64(pieces.count)))] }.joined()
            let maximum = Int(random.next(below: 6)) + 1
            let expected = reference(value, maximum: maximum)
            var got: String? = nil
            do throws(DomainError) {
                try Field.text("notes", value, maximum: maximum)
            } catch {
                let text = "\(error)"
                got = text.contains("empty") ? "empty" : text.contains("at most") ? "long" : "control"
            }
            #expect(got == expected, "\(value.debugDescription) at most \(maximum)")
            outcomes[expected ?? "fine", default: 0] += 1
        }
        // Every outcome is common enough for the comparison to mean something.
        #expect(outcomes.count == 4 && outcomes.values.allSatisfy { $0 > 500 }, "\(outcomes)")
    }

    /// A code (topic, category) is refused exactly when the split into hyphen-separated
    /// words of the first release refuses it: the byte scan agrees on every value.
    @Test func slugRuleOnBytesAgreesWithWords() {
        func reference(_ value: String) -> Bool {
            let words = value.split(separator: "-", omittingEmptySubsequences: false)
            return !value.isEmpty && value.utf8.count <= 40
                && words.allSatisfy({
                    !$0.isEmpty && $0.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) }
                })
        }
        let pieces = [
            "a", "z", "0", "9", "-", "--", "A", " ", "_", "é", "-\u{301}", "\u{301}", "ab12", "`", "{", "/", ":",
        ]
        let random = SeededRandomSource(seed: 31)
        var fine = 0
        for step in 0..<20_000 {
            // Long values now and then, around the 40-byte limit.
            let count = step % 10 == 0 ? 30 + Int(random.next(below: 20)) : Int(random.next(below: 7))
            let value = (0..<count).map { _ in pieces[Int(random.next(below: UInt64(pieces.count)))] }.joined()
            let expected = reference(value)
            var got = true
            do throws(DomainError) { try Field.slug("topics", value) } catch { got = false }
            #expect(got == expected, "\(value.debugDescription)")
            if expected { fine += 1 }
        }
        // Both outcomes are common, so that the comparison means something.
        #expect(fine > 1_000 && fine < 19_000, "\(fine) of 20,000 allowed")
        for value in ["linkedin", "data-visualisation", "a-b-c", "x1", String(repeating: "a", count: 40)] {
            #expect(reference(value) && (try? Field.slug("topics", value)) != nil, "\(value)")
        }
        for value in ["", "-", "a-", "-a", "a--b", "A", "a b", String(repeating: "a", count: 41)] {
            #expect(!reference(value) && (try? Field.slug("topics", value)) == nil, "\(value)")
        }
    }

    /// A split seeded source is reproducible and draws a sequence of its own.
    @Test func splitSeededSourcesAreReproducible() {
        let a = SeededRandomSource(seed: 7), b = SeededRandomSource(seed: 7)
        let fromA = a.split(), fromB = b.split()
        let drawsA = (0..<8).map { _ in fromA.next() }
        #expect(drawsA == (0..<8).map { _ in fromB.next() })
        #expect(drawsA != (0..<8).map { _ in a.next() })
    }
}
