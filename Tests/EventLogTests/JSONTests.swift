import Foundation
import Testing

@testable import EventLog

@Suite("JSON scanner and writer")
struct JSONTests {
    @Test(
        "the eight-byte string scan flags exactly the words with a quote, a backslash, a control byte or a non-ASCII byte"
    )
    func wordScan() {
        func special(_ b: UInt8) -> Bool { b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80 }
        for byte in 0...255 {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: 0x61, count: 8)
                bytes[position] = UInt8(byte)
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(JSONScanner.needsAttention(word) == special(UInt8(byte)), "byte \(byte) at \(position)")
            }
        }
        var generator = SeededGenerator(seed: 8)
        let alphabet: [UInt8] = [
            0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xC3, 0xFF, 0x61, 0x30,
        ]
        for _ in 0..<200_000 {
            let bytes = (0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if JSONScanner.needsAttention(word) != bytes.contains(where: special) {
                Issue.record("\(bytes) judged wrongly")
                break
            }
            // The lowest flagged byte is the first special one (the scan skips to it).
            let attention = JSONScanner.attention(word)
            let first = bytes.firstIndex(where: special)
            if (attention == 0 ? nil : attention.trailingZeroBitCount / 8) != first {
                Issue.record(
                    "\(bytes): first special byte \(first ?? -1), flagged \(attention.trailingZeroBitCount / 8)")
                break
            }
        }
    }

    @Test("strings read alike wherever an escape, a multi-byte letter or a bad byte falls in the eight-byte window")
    func stringsAcrossWords() throws {
        for length in 1..<40 {
            for k in 0..<length {
                let before = String(repeating: "a", count: k), after = String(repeating: "b", count: length - k - 1)
                for (inner, decoded) in [("\\n", "\n"), ("é", "é"), ("\\u00e9", "é"), ("\\\"", "\""), ("€", "€")] {
                    let bytes = Array("\"\(before)\(inner)\(after)\"".utf8)
                    let text = try bytes.withUnsafeBytes { raw in
                        var s = JSONScanner(raw)
                        let (range, escaped) = try s.scanString()
                        #expect(s.isAtEnd)
                        return s.decodeString(range, escaped: escaped)
                    }
                    #expect(text == before + decoded + after)
                }
                for bad: UInt8 in [0x01, 0x1F, 0xFF, 0x80] {
                    let bytes = Array("\"\(before)".utf8) + [bad] + Array("\(after)\"".utf8)
                    #expect(throws: JSONSyntaxError.self) {
                        try bytes.withUnsafeBytes { raw in
                            var s = JSONScanner(raw)
                            _ = try s.scanString()
                        }
                    }
                }
            }
        }
    }

    @Test("values round-trip through the writer and the scanner")
    func roundTrip() throws {
        let value: JSONValue = .object([
            "s": .string("Zürich \"quoted\" \\ back\nnew\tline \u{1} ☕ 𝄞"),
            "i": .int(-9_223_372_036_854_775_808), "j": .int(42), "d": .double(0.1), "e": .double(-2.5e-7),
            "b": .bool(true), "n": .null, "a": .array([.int(1), .string(""), .object([:])]),
        ])
        let text = value.description
        #expect(try JSONScanner.parse(text) == value)
        // Deterministic: same value, same bytes.
        #expect(value.description == text)
        // And Foundation reads it the same way.
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(foundation?["s"] as? String == "Zürich \"quoted\" \\ back\nnew\tline \u{1} ☕ 𝄞")
    }

    @Test("escapes decode, including surrogate pairs")
    func escapes() throws {
        #expect(try JSONScanner.parse(#""\u00fc\ud834\udd1e\n\/\"""#) == .string("ü𝄞\n/\""))
        #expect(try JSONScanner.parse(#""A\u0042C""#) == .string("ABC"))
    }

    static let malformed: [(String, [UInt8])] = [
        ("trailing comma in object", Array(#"{"a":1,}"#.utf8)),
        ("trailing comma in array", Array("[1,2,]".utf8)),
        ("leading zero", Array("[01]".utf8)),
        ("lone high surrogate", Array(#""\ud800""#.utf8)),
        ("lone low surrogate", Array(#""\udc00""#.utf8)),
        ("invalid escape", Array(#""\x""#.utf8)),
        ("raw control character", [0x22, 0x01, 0x22]),
        ("raw newline in string", [0x22, 0x0A, 0x22]),
        ("overlong UTF-8", [0x22, 0xC0, 0x80, 0x22]),
        ("UTF-16 surrogate in UTF-8", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        ("byte above F4", [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22]),
        ("truncated UTF-8", [0x22, 0xE2, 0x98, 0x22]),
        ("unterminated string", Array(#""abc"#.utf8)),
        ("bad literal", Array("tru".utf8)),
        ("missing colon", Array(#"{"a" 1}"#.utf8)),
        ("fraction without digits", Array("1.".utf8)),
        ("bare minus", Array("-".utf8)),
        ("exponent without digits", Array("1e".utf8)),
        ("two documents", Array("{}{}".utf8)),
        ("single quotes", Array("{'a':1}".utf8)),
        ("unquoted key", Array("{a:1}".utf8)),
        ("empty input", []),
        ("NaN", Array("NaN".utf8)),
        ("plus sign", Array("+1".utf8)),
    ]

    /// Foundation is lenient here; RFC 8259 is not, and neither are we.
    static let foundationAccepts: Set<String> = ["trailing comma in object", "trailing comma in array"]

    @Test("malformed documents are refused; Foundation refuses them too, bar its known leniencies")
    func malformedRefused() {
        for (name, bytes) in Self.malformed {
            #expect(throws: JSONSyntaxError.self, "\(name)") { try JSONScanner.parse(bytes) }
            let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect((foundation != nil) == Self.foundationAccepts.contains(name), "Foundation on \(name)")
        }
    }

    @Test("duplicate keys and runaway nesting are refused")
    func strictness() {
        #expect(throws: JSONSyntaxError.self) { try JSONScanner.parse(#"{"a":1,"a":2}"#) }
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONSyntaxError.self) { try JSONScanner.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONScanner.parse(fine)) != nil)
    }

    @Test("strings are escaped byte for byte as RFC 8259 asks, short or long, plain or not, wherever the byte falls")
    func stringEscapes() {
        func reference(_ text: String) -> [UInt8] {
            var out: [UInt8] = [UInt8(ascii: "\"")]
            for c in text.utf8 {
                switch c {
                case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
                case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
                case 0x0A: out += Array(#"\n"#.utf8)
                case 0x0D: out += Array(#"\r"#.utf8)
                case 0x09: out += Array(#"\t"#.utf8)
                case 0x08: out += Array(#"\b"#.utf8)
                case 0x0C: out += Array(#"\f"#.utf8)
                case ..<0x20: out += Array(String(format: "\\u%04x", c).utf8)
                default: out.append(c)
                }
            }
            return out + [UInt8(ascii: "\"")]
        }
        var generator = SeededGenerator(seed: 8_259)
        let pieces = ["a", "Z", " ", "\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", "é", "😀", "!", "#", "]", "~"]
        for round in 0..<4_000 {
            let length =
                round % 9 == 0
                ? Int.random(in: 110...140, using: &generator) : Int.random(in: 0...20, using: &generator)
            // Mostly plain text, with an odd byte at times, so both paths run often.
            let text = (0..<length).map { _ in
                Int.random(in: 0..<6, using: &generator) == 0
                    ? pieces.randomElement(using: &generator)!
                    : String(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &generator)))
            }.joined()
            var writer = JSONWriter()
            writer.writeRaw("x")
            writer.write(text)
            #expect(writer.bytes == [UInt8(ascii: "x")] + reference(text), "\(text.debugDescription)")
        }
    }

    @Test(
        "objects of any size keep their members in order and refuse a duplicate wherever it falls",
        arguments: [0, 1, 11, 12, 13, 16, 17, 40])
    func objectSizes(count: Int) throws {
        let members = (0..<count).map { "\"k\($0)\":\($0)" }
        let object = try #require(try JSONScanner.parse("{" + members.joined(separator: ",") + "}").objectValue)
        #expect(object.keys == (0..<count).map { "k\($0)" })
        #expect(object.members.map(\.value) == (0..<count).map { .int(Int64($0)) })
        for repeated in 0..<count {
            let text = "{" + (members + ["\"k\(repeated)\":0"]).joined(separator: ",") + "}"
            #expect(throws: JSONSyntaxError.self, "k\(repeated) of \(count)") { try JSONScanner.parse(text) }
        }
    }

    @Test("integers of every length read as Int64 reads them, up to and past its bounds")
    func integersOfEveryLength() throws {
        func read(_ text: String) -> Int64? {
            Array(text.utf8).withUnsafeBytes { raw in
                var s = JSONScanner(raw)
                guard let value = try? s.parseInt(), s.position == raw.count else { return nil }
                return value
            }
        }
        var texts = [
            "0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "-9223372036854775809", "99999999999999999999", "-99999999999999999999", "100000000000000000000",
        ]
        var generator = SeededGenerator(seed: 12)
        for digits in 1...20 {
            for _ in 0..<200 {
                var text = String(Int.random(in: 1...9, using: &generator))
                for _ in 1..<digits { text += String(Int.random(in: 0...9, using: &generator)) }
                texts.append(text)
                texts.append("-" + text)
            }
            texts.append(String(repeating: "9", count: digits))
            texts.append("-" + String(repeating: "9", count: digits))
        }
        for text in texts {
            #expect(read(text) == Int64(text), "\(text)")
        }
        // Not integers: the same refusal as before.
        for text in ["1.0", "1e3", "01", "-", "--1", "+1"] { #expect(read(text) == nil, "\(text)") }
    }

    @Test("integers beyond Int64 become doubles; integral doubles print as integers")
    func numbers() throws {
        #expect(try JSONScanner.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(JSONValue.double(3).description == "3")
        #expect(JSONValue.double(.nan).description == "null")
    }

    /// Skipping a value is parsing it without keeping it: the same values are accepted, the
    /// scanner ends at the same byte, and a refusal names the same byte. Arrays (lists of
    /// strings above all, which the skip scans in place) and their damaged spellings.
    @Test("a skipped array ends where a parsed one ends, and is refused where it is refused")
    func skippingArraysAsParsing() {
        var generator = SeededGenerator(seed: 59)
        let pieces = [
            #""slack""#, #""data-visualisation""#, #""é""#, #""a\"b""#, #""\u00e9""#, "12", "-3.5", "true", "null",
            "[]", #"["x"]"#, " ", ",", "]", "[", #"""#, #""\x""#, "\u{01}",
        ]
        var accepted = 0
        for _ in 0..<6000 {
            var text = "["
            for i in 0..<Int.random(in: 0...5, using: &generator) {
                if i > 0 { text += "," }
                text += pieces.prefix(11).randomElement(using: &generator)!
            }
            text += "]"
            if Int.random(in: 0..<3, using: &generator) == 0 {
                // Damage: a piece put in anywhere.
                let at = text.index(text.startIndex, offsetBy: Int.random(in: 0...text.count, using: &generator))
                text.insert(contentsOf: pieces.randomElement(using: &generator)!, at: at)
            }
            text += Int.random(in: 0..<2, using: &generator) == 0 ? "" : #","rest":1}"#
            Array(text.utf8).withUnsafeBytes { raw in
                var skipping = JSONScanner(raw), parsing = JSONScanner(raw)
                let skipped = Result { () throws(JSONSyntaxError) in try skipping.skipValue() }
                let parsed = Result { () throws(JSONSyntaxError) in try parsing.parseValue() }
                switch (skipped, parsed) {
                case (.success, .success):
                    accepted += 1
                    #expect(skipping.position == parsing.position, "\(text)")
                case (.failure(let a), .failure(let b)):
                    #expect(a.offset == b.offset, "\(text)")
                default:
                    Issue.record("skip and parse disagree on \(text)")
                }
            }
        }
        #expect(accepted > 1000)
    }
}
