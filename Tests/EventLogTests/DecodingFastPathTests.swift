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
            for place in 0..<10 {
                for value in 0...255 {
                    var changed = bytes
                    changed[place] = UInt8(value)
                    let expected = Self.plainDate(changed)
                    #expect(Self.parse(changed) == expected, "\(changed)")
                    if expected == nil { refused += 1 }
                }
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
}
