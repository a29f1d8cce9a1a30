import TestSupport
import Testing

@testable import EventLog

/// The replay decoder's fast paths (dates read without a branch per digit, literals and keys
/// compared a word at a time), each held to the plain code it replaced.
@Suite("Decoding fast paths agree with their plain versions")
struct DecodingFastPathTests {
    /// `YYYY-MM-DD` read digit by digit, with the calendar's rules spelled out.
    static func plainDate(_ bytes: [UInt8]) -> Int? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (48...57).contains(bytes[i]) else { return nil }
                value = value * 10 + Int(bytes[i] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), year >= 1000,
            (1...12).contains(month)
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return nil }
        return CivilCalendar.dayNumber(year: year, month: month, day: day)
    }

    static func parse(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { CivilCalendar.parseDate($0) }
    }

    @Test("every day of whole centuries reads as the plain reading reads it, and formats back to itself")
    func everyDay() {
        for year in Array(1000...1010) + Array(1895...2105) + Array(9990...9999) {
            for month in 1...12 {
                for day in 1...31 {
                    let text =
                        String(year) + "-" + (month < 10 ? "0" : "") + String(month) + "-"
                        + (day < 10 ? "0" : "") + String(day)
                    let bytes = Array(text.utf8)
                    let expected = Self.plainDate(bytes)
                    #expect(Self.parse(bytes) == expected, "\(text)")
                    if let expected { #expect(CivilCalendar.formatDate(expected) == text) }
                }
            }
        }
    }

    @Test("seeded mangled dates: every byte at every place, refused or read as the plain reading does")
    func mangledDates() {
        var generator = SeededGenerator(seed: 2026_12_06)
        let bases = ["2027-02-28", "2024-02-29", "1999-12-31", "2000-01-01", "9999-12-31", "1000-01-01"]
        var refused = 0
        for base in bases {
            let bytes = Array(base.utf8)
            // Every byte value at every place: digits' neighbours in ASCII (`/`, `:`), letters,
            // and the bytes whose value minus `0` wraps past 250.
            forEverySingleByteChange(of: bytes, at: 0..<10) { changed in
                let expected = Self.plainDate(changed)
                #expect(Self.parse(changed) == expected, "\(changed)")
                if expected == nil { refused += 1 }
            }
        }
        for _ in 0..<20_000 {
            let digits = Array("0123456789-/:".utf8)
            let count = Int.random(in: 8...12, using: &generator)
            let bytes = (0..<count).map { _ in digits.randomElement(using: &generator)! }
            #expect(Self.parse(bytes) == Self.plainDate(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(refused > 10_000)
    }

    @Test("timestamps: dates, times and fractions read as before, the rest is refused")
    func timestamps() {
        let cases: [(String, Int64?)] = [
            ("1970-01-01T00:00:00Z", 0),
            ("2027-06-01T12:00:00Z", 1_811_851_200),
            ("2027-06-01T12:00:00.123Z", 1_811_851_200),
            ("2024-02-29T23:59:59Z", 1_709_251_199),
            ("2023-02-29T23:59:59Z", nil),
            ("2027-06-01T24:00:00Z", nil),
            ("2027-06-01T12:60:00Z", nil),
            ("2027-06-01T12:00:60Z", nil),
            ("2027-06-01T12:00:00", nil),
            ("2027-06-01T12:00:00+01:00", nil),
            ("2027-06-01T1a:00:00Z", nil),
            ("2027-06-01T12:00:00.Z", nil),
            ("2027-06-01 12:00:00Z", nil),
        ]
        for (text, seconds) in cases {
            #expect(Timestamp(rfc3339: text)?.secondsSinceEpoch == seconds, "\(text)")
        }
    }

    @Test("equal bytes: every length to 40, a difference at every place, found; none, equal")
    func equalBytes() {
        var generator = SeededGenerator(seed: 4011)
        for count in 0...40 {
            let a = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Padded on both sides, so that a read outside the `count` bytes would show.
            let padded = [0xAA] + a + [0x55]
            padded.withUnsafeBufferPointer { x in
                #expect(JSONScanner.equalBytes(x.baseAddress! + 1, x.baseAddress! + 1, count))
                var b = [0x55] + a + [0xAA]
                b.withUnsafeBufferPointer { y in
                    #expect(JSONScanner.equalBytes(x.baseAddress! + 1, y.baseAddress! + 1, count))
                }
                for place in 0..<count {
                    for bit in [0, 3, 7] {
                        b[place + 1] ^= 1 << bit
                        b.withUnsafeBufferPointer { y in
                            #expect(
                                !JSONScanner.equalBytes(x.baseAddress! + 1, y.baseAddress! + 1, count),
                                "length \(count), place \(place)")
                        }
                        b[place + 1] ^= 1 << bit
                    }
                }
            }
        }
    }

    @Test("literals and keys match as a byte-by-byte comparison does, at every length and offset")
    func literalsAndKeys() {
        let literals: [StaticString] = [
            "", ",", "{\"seq\":", ",\"at\":", ",\"actor\":", ",\"type\":", ",\"data\":", "null", "onBehalfOf",
            "keyDigest", "\",\"hash\":\"", "a literal longer than sixteen bytes",
        ]
        var generator = SeededGenerator(seed: 88)
        for literal in literals {
            let bytes = Array(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            var candidates = [bytes, bytes + [0x22], Array(bytes.dropLast()), [0x20] + bytes]
            for _ in 0..<40 where !bytes.isEmpty {
                var changed = bytes
                changed[Int.random(in: 0..<changed.count, using: &generator)] ^= UInt8.random(
                    in: 1...255, using: &generator)
                candidates.append(changed)
            }
            for candidate in candidates {
                candidate.withUnsafeBytes { raw in
                    var scanner = JSONScanner(raw)
                    let plain = raw.count >= bytes.count && Array(raw.prefix(bytes.count)) == bytes
                    #expect(scanner.consume(literal) == plain, "\(literal) against \(candidate)")
                    #expect(scanner.position == (plain ? bytes.count : 0))
                    #expect(JSONScanner(raw).keyEquals(0..<raw.count, literal) == (candidate == bytes))
                }
            }
        }
    }

    @Test("a quoted key is consumed exactly when the string token there is that key")
    func quotedKeys() {
        let keys: [StaticString] = ["prev", "tandem", "on", "", "a key of more than sixteen bytes"]
        var generator = SeededGenerator(seed: 515)
        let alphabet = Array(#"prevtandmo"\: "#.utf8)
        for key in keys {
            let bytes = Array(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            var candidates = [[0x22] + bytes + [0x22], [0x22] + bytes + [0x22, 0x3A], [0x22] + bytes, bytes + [0x22]]
            for _ in 0..<200 {
                var candidate = [0x22] + bytes + [0x22]
                for _ in 0..<Int.random(in: 1...2, using: &generator) {
                    let place = Int.random(in: 0...candidate.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0 where place < candidate.count: candidate[place] = alphabet.randomElement(using: &generator)!
                    case 1 where place < candidate.count: candidate.remove(at: place)
                    default: candidate.insert(alphabet.randomElement(using: &generator)!, at: place)
                    }
                }
                candidates.append(candidate)
            }
            for candidate in candidates {
                candidate.withUnsafeBytes { raw in
                    // The plain reading: a string token there, without escapes, equal to the key.
                    var plain = JSONScanner(raw)
                    let token = try? Result { () throws(JSONSyntaxError) in try plain.scanString() }.get()
                    let expected = token.map { !$0.escaped && Array(raw[$0.content]) == bytes } ?? false
                    var scanner = JSONScanner(raw)
                    #expect(scanner.consumeQuoted(key) == expected, "\(key) in \(candidate)")
                    #expect(scanner.position == (expected ? plain.position : 0))
                }
            }
        }
    }

    @Test("a pair of integers is taken exactly when skipping the value would read [n,m] without spaces")
    func integerPairs() {
        var generator = SeededGenerator(seed: 2727)
        let alphabet = Array("[],0123456789-.e ".utf8)
        var candidates = [
            "[3,427]", "[0,0]", "[10,20]", "[01,2]", "[1,02]", "[-1,2]", "[1.5,2]", "[1e2,3]", "[1, 2]", "[1,2,3]",
            "[1]", "[]", "[1,2", "1,2]", "[12345678901234567890,1]",
        ].map { Array($0.utf8) }
        for _ in 0..<3000 {
            let count = Int.random(in: 0...9, using: &generator)
            candidates.append((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
        }
        // Pairs of numbers of every form: leading zeros, signs, fractions, spaces.
        func number() -> String {
            let digits = String(
                (0..<Int.random(in: 1...4, using: &generator)).map { _ in "0123456789".randomElement(using: &generator)!
                })
            return ["", "", "", "-", " "].randomElement(using: &generator)! + digits
                + ["", "", "", ".5", "e1", " "].randomElement(using: &generator)!
        }
        for _ in 0..<2000 { candidates.append(Array("[\(number()),\(number())]".utf8)) }
        var taken = 0
        for candidate in candidates {
            candidate.withUnsafeBytes { raw in
                var scanner = JSONScanner(raw)
                let consumed = scanner.consumeIntegerPair()
                // The plain reading: a valid array of exactly two non-negative integers,
                // written without whitespace, fraction or exponent.
                var plain = JSONScanner(raw)
                let skipped = (try? Result { () throws(JSONSyntaxError) in try plain.skipValue() }.get()) != nil
                let text = String(decoding: raw[..<(skipped ? plain.position : 0)], as: UTF8.self)
                let parts = text.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
                let expected =
                    skipped && text.hasPrefix("[") && parts.count == 2
                    && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
                #expect(consumed == expected, "\(String(decoding: raw, as: UTF8.self))")
                #expect(scanner.position == (expected ? plain.position : 0))
                if consumed { taken += 1 }
            }
        }
        #expect(taken > 100)
    }
}
