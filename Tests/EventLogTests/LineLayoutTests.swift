import Testing

@testable import EventLog

/// The chain suffix's distances from a line's end are literals; they must be what the
/// markers and digests add up to, and the chain reader's suffix check must take exactly the
/// lines whose ends have that shape.
@Suite("Line layout: the chain suffix's distances, and the check that reads them")
struct LineLayoutTests {
    @Test("the distances are the markers' and digests' lengths added up")
    func distances() {
        #expect(LineLayout.hashFromEnd == LineLayout.closing + LineLayout.digestDigits)
        #expect(LineLayout.hashMarkerFromEnd == LineLayout.hashFromEnd + LineLayout.hashMarker.utf8CodeUnitCount)
        #expect(LineLayout.prevFromEnd == LineLayout.hashMarkerFromEnd + LineLayout.digestDigits)
        #expect(LineLayout.prevMarkerFromEnd == LineLayout.prevFromEnd + LineLayout.prevMarker.utf8CodeUnitCount)
        let suffix = #","prev":"\#(String(repeating: "a", count: 64))","hash":"\#(String(repeating: "b", count: 64))"}"#
        #expect(suffix.utf8.count == LineLayout.prevMarkerFromEnd)
    }

    @Test("a line's leading seq: 1 to 18 digits without a leading zero, then a comma; else none")
    func leadingSeq() {
        func plain(_ text: String) -> Int? {
            guard text.hasPrefix(#"{"seq":"#) else { return nil }
            let rest = text.dropFirst(7)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...18).contains(digits.count), !digits.hasPrefix("0"), rest.dropFirst(digits.count).first == ","
            else { return nil }
            return Int(digits)
        }
        var texts = [
            #"{"seq":1,"#, #"{"seq":0,"#, #"{"seq":01,"#, #"{"seq":-1,"#, #"{"seq":1"#, #"{"seq":,"#,
            #"{"seq":123456789012345678,"#, #"{"seq":1234567890123456789,"#, #"{"seq":9999999999999999999,"#,
            #"{"seq":99999999999999999999,"#, #"{"seq" :1,"#, #"{"Seq":1,"#, #"{"seq":1 ,"#, #"{"seq":12345678"#,
        ]
        var generator = SeededGenerator(seed: 8)
        let alphabet = Array("0123456789,-x ".utf8)
        for _ in 0..<3_000 {
            let tail = (0..<Int.random(in: 0...22, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            texts.append(#"{"seq":"# + String(decoding: tail, as: UTF8.self))
        }
        for text in texts {
            let read = Array(text.utf8).withUnsafeBytes { ChainReader.leadingSeq($0) }
            #expect(read == plain(text), "\(text)")
        }
    }

    @Test("the suffix check takes a written end, and refuses it with any byte of its markers changed")
    func suffixCheck() {
        let head = #"{"seq":12,"at":"2026-01-01T00:00:00Z","actor":"a","type":"T","data":{}"#
        let suffix = #","prev":"\#(String(repeating: "a", count: 64))","hash":"\#(String(repeating: "b", count: 64))"}"#
        let line = Array((head + suffix).utf8)
        func check(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { ChainReader.suffixIsWellFormed($0) } }
        #expect(check(line))
        let digits = Set(
            Array((line.count - LineLayout.prevFromEnd)..<(line.count - LineLayout.hashMarkerFromEnd))
                + Array((line.count - LineLayout.hashFromEnd)..<(line.count - LineLayout.closing)))
        for at in (line.count - LineLayout.prevMarkerFromEnd)..<line.count where !digits.contains(at) {
            var changed = line
            changed[at] = changed[at] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            #expect(!check(changed), "byte \(at - line.count) from the end")
        }
        // Too short to hold the suffix and a seq.
        #expect(!check(Array(suffix.utf8)))
    }
}
