import EventLog
import Testing

@testable import Mentoring

/// A code read from a log line's bytes is the code its text names, as `init(rawValue:)` reads
/// it; an escaped or unknown code goes the text's way and is refused as before.
@Suite("Vocabulary codes matched as bytes agree with their raw values")
struct VocabularySpellingTests {
    static func agrees<Value: FieldVocabulary & Equatable>(_: Value.Type, seed: UInt64) -> Int {
        var generator = SeededGenerator(seed: seed)
        var candidates = Value.allCases.map(\.rawValue) + ["", "x", "online ", " mentor", "Mentor", "in_person"]
        for code in Value.allCases.map(\.rawValue) {
            for _ in 0..<30 {
                var bytes = Array(code.utf8)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= 0x20
                case 1: bytes.removeLast()
                default: bytes.append(bytes.randomElement(using: &generator)!)
                }
                candidates.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        var matched = 0
        for candidate in candidates {
            var bytes = Array(candidate.utf8)
            let spelled = bytes.withUnsafeBytes { Value.spellings.value($0) }
            #expect(spelled == Value(rawValue: candidate), "\(Value.self) '\(candidate)'")
            if spelled != nil { matched += 1 }
            // The same through the decoder: quoted, then read as a field.
            bytes = Array("\"".utf8) + bytes + Array("\"".utf8)
            let read = bytes.withUnsafeBytes { raw -> Value? in
                var scanner = JSONScanner(raw)
                return try? Result { () throws(JSONSyntaxError) in try Value.read(&scanner) }.get()
            }
            #expect(read == Value(rawValue: candidate), "\(Value.self) read '\(candidate)'")
        }
        return matched
    }

    @Test("every code of every vocabulary, and seeded near misses")
    func everyVocabulary() {
        #expect(Self.agrees(Role.self, seed: 1) >= Role.allCases.count)
        #expect(Self.agrees(SessionMode.self, seed: 2) >= SessionMode.allCases.count)
        #expect(Self.agrees(ReasonCode.self, seed: 3) >= ReasonCode.allCases.count)
    }

    @Test("an escaped code is read as its text; an unknown one is refused, named")
    func escapedAndUnknown() throws {
        func read(_ json: String) -> Result<SessionMode, JSONSyntaxError> {
            Array(json.utf8).withUnsafeBytes { raw in
                var scanner = JSONScanner(raw)
                return Result { () throws(JSONSyntaxError) in try SessionMode.read(&scanner) }
            }
        }
        #expect(try read(#""in\u002dperson""#).get() == .inPerson)
        #expect(try read(#""onlin\u0065""#).get() == .online)
        #expect(throws: JSONSyntaxError.self) { try read(#""hybrid""#).get() }
        if case .failure(let error) = read(#""hybrid""#) { #expect(error.reason == "unknown value 'hybrid'") }
    }
}
