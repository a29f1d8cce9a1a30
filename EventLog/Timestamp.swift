#if canImport(Glibc)
    import Glibc
#endif

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01).
///
/// Howard Hinnant's `days_from_civil` / `civil_from_days`: exact for every date,
/// no time zones, no Foundation.
public enum CivilCalendar {
    /// The day number of a calendar date, which the caller has validated.
    public static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The calendar date of a day number.
    public static func date(dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in a month.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses `YYYY-MM-DD` strictly (four-digit year 1000–9999, a real calendar day)
    /// and returns its day number, or nil.
    ///
    /// Every dated event of a replay passes here, so the eight digits are read without a
    /// branch each: a byte minus `0` is a digit below 10, and adding 6 to each keeps every
    /// digit under 16, so one mask over all eight answers for them together.
    @inline(__always)
    package static func parseDate(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        @inline(__always) func at(_ i: Int) -> UInt32 { UInt32(bytes[i] &- 48) }
        let y0 = at(0), y1 = at(1), y2 = at(2), y3 = at(3), m0 = at(5), m1 = at(6), d0 = at(8), d1 = at(9)
        let sixes = (y0 &+ 6) | (y1 &+ 6) | (y2 &+ 6) | (y3 &+ 6) | (m0 &+ 6) | (m1 &+ 6) | (d0 &+ 6) | (d1 &+ 6)
        guard sixes & ~0xF == 0 else { return nil }
        let year = Int(y0 &* 1000 &+ y1 &* 100 &+ y2 &* 10 &+ y3)
        let month = Int(m0 &* 10 &+ m1), day = Int(d0 &* 10 &+ d1)
        guard year >= 1000, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        return dayNumber(year: year, month: month, day: day)
    }

    /// Parses `YYYY-MM-DD` strictly; see `parseDate(_:)`.
    public static func parseDate(_ text: String) -> Int? {
        var copy = text
        return copy.withUTF8 { parseDate(UnsafeRawBufferPointer($0)) }
    }

    /// Formats a day number as `YYYY-MM-DD`.
    public static func formatDate(_ dayNumber: Int) -> String {
        // Ten ASCII digits and dashes, written in place: a listing formats millions of dates.
        let text = String(unsafeUninitializedCapacity: 10) { writeDate(dayNumber, into: $0.baseAddress!) ? 10 : 0 }
        if !text.isEmpty { return text }
        let (y, m, d) = date(dayNumber: dayNumber)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// Writes a day number as `YYYY-MM-DD` at `out`, ten bytes, if its year is 0 to 9999;
    /// false, writing nothing, for another year (`formatDate` writes those).
    @inline(__always)
    public static func writeDate(_ dayNumber: Int, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        let (y, m, d) = date(dayNumber: dayNumber)
        guard (0...9999).contains(y) else { return false }
        func put(_ value: Int, at offset: Int, width: Int) {
            var value = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(y, at: 0, width: 4)
        out[4] = UInt8(ascii: "-")
        put(m, at: 5, width: 2)
        out[7] = UInt8(ascii: "-")
        put(d, at: 8, width: 2)
        return true
    }

    /// The decimal value of `count` digits at `start`, or nil if any byte is not a digit.
    @inline(__always)
    static func digits(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for i in start..<(start &+ count) {
            let d = bytes[i] &- 48
            guard d <= 9 else { return nil }
            value = value &* 10 &+ Int(d)
        }
        return value
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// An instant with one-second resolution, written as RFC 3339 UTC: `2027-01-10T08:15:00Z`.
///
/// This is the `at` of a log line: when an event was recorded, as opposed to the business
/// date the event is about.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSinceEpoch: Int64

    /// An instant from seconds since the epoch.
    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    /// The day number (days since 1970-01-01) of this instant in UTC.
    public var dayNumber: Int {
        Int(secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86400 : (secondsSinceEpoch - 86399) / 86400)
    }

    /// Parses RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SS` with optional fractional seconds
    /// (dropped), ending in `Z`. Offsets other than `Z` are refused: the log is UTC.
    package init?(rfc3339 bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), bytes[bytes.count - 1] == UInt8(ascii: "Z"),
            let day = CivilCalendar.parseDate(UnsafeRawBufferPointer(rebasing: bytes[0..<10])),
            let hour = CivilCalendar.digits(bytes, 11, 2), let minute = CivilCalendar.digits(bytes, 14, 2),
            let second = CivilCalendar.digits(bytes, 17, 2), hour < 24, minute < 60, second < 60
        else { return nil }
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 21 else { return nil }
            for i in 20..<(bytes.count - 1) where !(48...57).contains(bytes[i]) { return nil }
        }
        secondsSinceEpoch = Int64(day) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Parses RFC 3339 in UTC; see `init?(rfc3339:)`.
    public init?(rfc3339 text: String) {
        var copy = text
        guard let parsed = copy.withUTF8({ Timestamp(rfc3339: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Appends `YYYY-MM-DDTHH:MM:SSZ` to `bytes` without building a String.
    public func writeRFC3339(into bytes: inout [UInt8]) {
        let day = dayNumber
        let (y, m, d) = CivilCalendar.date(dayNumber: day)
        let seconds = Int(secondsSinceEpoch - Int64(day) * 86400)
        @inline(__always) func two(_ v: Int) {
            bytes.append(UInt8(48 + v / 10))
            bytes.append(UInt8(48 + v % 10))
        }
        two(y / 100 % 100)
        two(y % 100)
        bytes.append(UInt8(ascii: "-"))
        two(m)
        bytes.append(UInt8(ascii: "-"))
        two(d)
        bytes.append(UInt8(ascii: "T"))
        two(seconds / 3600)
        bytes.append(UInt8(ascii: ":"))
        two(seconds / 60 % 60)
        bytes.append(UInt8(ascii: ":"))
        two(seconds % 60)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public var rfc3339: String {
        let seconds = Int(secondsSinceEpoch - Int64(dayNumber) * 86400)
        // Twenty bytes written in place (an audit prints one per line; the concatenation
        // was a fifth of its printing).
        let text = String(unsafeUninitializedCapacity: 20) { out -> Int in
            guard CivilCalendar.writeDate(dayNumber, into: out.baseAddress!) else { return 0 }
            func two(_ value: Int, at offset: Int) {
                out[offset] = UInt8(48 + value / 10)
                out[offset + 1] = UInt8(48 + value % 10)
            }
            out[10] = UInt8(ascii: "T")
            two(seconds / 3600, at: 11)
            out[13] = UInt8(ascii: ":")
            two(seconds / 60 % 60, at: 14)
            out[16] = UInt8(ascii: ":")
            two(seconds % 60, at: 17)
            out[19] = UInt8(ascii: "Z")
            return 20
        }
        guard text.isEmpty else { return text }
        return CivilCalendar.formatDate(dayNumber) + "T" + CivilCalendar.pad(seconds / 3600, 2) + ":"
            + CivilCalendar.pad(seconds / 60 % 60, 2) + ":" + CivilCalendar.pad(seconds % 60, 2) + "Z"
    }

    public var description: String { rfc3339 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }
}

/// Where time comes from. Injected, so that tests and the demo are deterministic.
public protocol Clock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// The operating system's clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Timestamp {
        Timestamp(secondsSinceEpoch: Syscall.realtimeSeconds())
    }
}

/// A clock that always answers the same instant.
public struct FixedClock: Clock {
    /// The instant it answers.
    public let instant: Timestamp
    public init(_ instant: Timestamp) { self.instant = instant }
    public func now() -> Timestamp { instant }
}
