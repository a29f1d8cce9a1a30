import EventLog

/// A business date: the day something happened, `YYYY-MM-DD`, as opposed to `at`, the
/// instant it was recorded. Only real calendar days exist (no 2027-02-30).
public struct BusinessDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Days since 1970-01-01, in 32 bits: years 0000–9999 need 22, and the read models
    /// hold millions of dates.
    private let stored: Int32

    /// Days since 1970-01-01.
    public var dayNumber: Int { Int(stored) }

    /// The date with this day number.
    public init(dayNumber: Int) { stored = Int32(clamping: dayNumber) }

    /// Parses `YYYY-MM-DD` strictly; nil for anything else, impossible days included.
    public init?(_ text: String) {
        guard let day = CivilCalendar.parseDate(text) else { return nil }
        stored = Int32(clamping: day)
    }

    /// The date of an instant, in UTC.
    public init(_ instant: Timestamp) { stored = Int32(clamping: instant.dayNumber) }

    /// `YYYY-MM-DD`.
    public var description: String { CivilCalendar.formatDate(dayNumber) }

    /// The calendar year.
    public var year: Int { CivilCalendar.date(dayNumber: dayNumber).year }

    /// The calendar month, 1–12.
    public var month: Int { CivilCalendar.date(dayNumber: dayNumber).month }

    /// This date moved by `days`.
    public func adding(days: Int) -> BusinessDate { BusinessDate(dayNumber: dayNumber + days) }

    /// Days from this date to `other` (positive if `other` is later).
    public func days(to other: BusinessDate) -> Int { other.dayNumber - dayNumber }

    public static func < (a: BusinessDate, b: BusinessDate) -> Bool { a.dayNumber < b.dayNumber }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = BusinessDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a YYYY-MM-DD date"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
