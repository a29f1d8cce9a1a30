import EventLog
import Mentoring
import TestSupport
import Testing

/// A sealed record's vault line is written straight into bytes; these tests hold it to the
/// object it stands for, written by the general JSON writer, draw for draw.
@Suite("Sealed records: the vault line is the object's bytes, with the same draws")
struct SealedRecordTests {
    /// The line as sealing wrote it before it was written directly: the ref's and nonce's
    /// hex from `hex(bytes:)`, the object written member by member.
    static func referenceLine(_ payload: PersonalPayload, random: some RandomSource) -> (ref: String, line: [UInt8]) {
        let ref = "r-" + random.hex(bytes: 8)
        let nonce = random.hex(bytes: 32)
        var writer = JSONWriter()
        writer.write(["ref": .string(ref), "nonce": .string(nonce), "payload": .object(payload.json)] as JSONObject)
        return (ref, writer.bytes)
    }

    /// Text with what JSON must escape, what it must not, and what UTF-8 spells in more
    /// than one byte.
    static func text(_ g: inout SeededGenerator, maxLength: Int = 40) -> String {
        let pieces = [
            "a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "ö",
            "€", "😀", "👩‍💻", "\u{2028}", "0", "}", "{", ",", ":",
        ]
        let length = Int.random(in: 0...maxLength, using: &g)
        return (0..<length).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &g)] }.joined()
    }

    static func payload(_ g: inout SeededGenerator) -> PersonalPayload {
        func list() -> [String] { (0..<Int.random(in: 0...4, using: &g)).map { _ in text(&g, maxLength: 12) } }
        switch Int.random(in: 0..<4, using: &g) {
        case 0:
            let email: String? = Bool.random(using: &g) ? text(&g) : nil
            let gender: String? = Bool.random(using: &g) ? text(&g, maxLength: 6) : nil
            return .profile(
                Profile(
                    name: text(&g), email: email, unit: text(&g, maxLength: 10),
                    level: Int.random(in: -3...99, using: &g), born: Int.random(in: 1900...2030, using: &g),
                    gender: gender, offers: list(), wants: list(), interests: list()))
        case 1: return .notes(text(&g, maxLength: 300))
        case 2: return .goalText(text(&g))
        default: return .reason(text(&g))
        }
    }

    @Test("every kind of payload, with escapes and emoji, seals to the reference line", arguments: 0..<4)
    func directLineEqualsObject(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed &+ 900)
        let direct = SeededRandomSource(seed: seed &+ 901)
        let reference = SeededRandomSource(seed: seed &+ 901)
        for _ in 0..<2000 {
            let payload = Self.payload(&g)
            let sealed = SealedRecord(payload, random: direct)
            let expected = Self.referenceLine(payload, random: reference)
            #expect(sealed.line == expected.line)
            #expect(sealed.reference.ref == expected.ref)
            #expect(sealed.reference.commit == SHA256.hash(expected.line))
            // And the line reads back as the payload it seals.
            let object = try #require(try JSONScanner.parse(sealed.line).objectValue)
            #expect(object["payload"]?.objectValue.flatMap(PersonalPayload.init(json:)) == payload)
        }
        // The two sources drew the same number of words.
        #expect(direct.next() == reference.next())
    }

    @Test("a known draw gives a known line")
    func knownLine() {
        struct Counting: RandomSource {
            let start: UInt64
            let counter = Counter()
            final class Counter: @unchecked Sendable { var n: UInt64 = 0 }
            func next() -> UInt64 {
                defer { counter.n += 1 }
                return start &+ counter.n
            }
            func split() -> any RandomSource { self }
        }
        let sealed = SealedRecord(.notes("hi \"you\""), random: Counting(start: 0x0102_0304_0506_0708))
        let nonce = "0907060504030201" + "0a07060504030201" + "0b07060504030201" + "0c07060504030201"
        #expect(
            String(decoding: sealed.line, as: UTF8.self)
                == #"{"ref":"r-0807060504030201","nonce":""# + nonce
                + #"","payload":{"kind":"notes","text":"hi \"you\""}}"#)
        #expect(sealed.reference.ref == "r-0807060504030201")
    }
}
