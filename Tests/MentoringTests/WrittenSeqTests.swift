import EventLog
import Testing

@testable import Mentoring

/// The decoder steps over a line's seq where it is plain digits (the chain reader has read
/// it); it does so exactly where reading it as an integer would succeed and stop at the
/// same place, and leaves every other spelling to that reading.
@Suite("Decoder: a seq is stepped over only where reading it would succeed")
struct WrittenSeqTests {
    @Test("seeded and chosen spellings: skipped to where parseInt stops, or left where they were")
    func spellings() {
        var texts = [
            "1,", "0,", "01,", "-1,", "1.5,", "1e3,", "1E3,", "123456789012345678,", "1234567890123456789,",
            "9223372036854775807,", "99999999999999999999,", " 5,", "5 ,", "5", "", ",", "5}", "5x,", "+5,",
        ]
        var generator = SeededGenerator(seed: 31)
        let alphabet = Array("0123456789,-.eE+ x".utf8)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...22, using: &generator)
            texts.append(
                String(decoding: (0..<count).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self))
        }
        for text in texts {
            Array(text.utf8).withUnsafeBytes { raw in
                var fast = JSONScanner(raw)
                var plain = JSONScanner(raw)
                let read = (try? plain.parseInt()) != nil
                if EventDecoder.skipWrittenSeq(&fast) {
                    #expect(read, "\(text)")
                    #expect(fast.position == plain.position, "\(text)")
                    #expect(fast.peek() == UInt8(ascii: ","), "\(text)")
                } else {
                    #expect(fast.position == 0, "\(text)")
                }
            }
        }
        // A written seq is stepped over.
        Array("1048576,".utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            #expect(EventDecoder.skipWrittenSeq(&s) && s.position == 7)
        }
    }
}
