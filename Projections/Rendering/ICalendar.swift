import EventLog
import Mentoring

/// RFC 5545 calendars: the invitations of `tandem due --ics`.
public enum ICalendar {
    /// A calendar with one all-day VEVENT per due session. Names appear only where the
    /// viewer may see them, and never a note or a goal text.
    public static func calendar(_ items: [DueQuery.Item], input: QueryInput, stamp: Timestamp) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tandem//Reverse mentoring//EN", "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:" + escape("Reverse-mentoring sessions"),
        ]
        let dtstamp = compact(stamp)
        for item in items {
            // Overdue sessions are offered from the as-of day on: an invitation in the past helps no one.
            let start = max(item.dueOn, input.asOf)
            var names = ""
            let mentor = input.name(of: item.tandem.mentor).stringValue,
                mentee = input.name(of: item.tandem.mentee).stringValue
            if input.disclosure.showsEveryName, let mentor, let mentee {
                names = ": \(mentor) & \(mentee)"
            } else if input.disclosure.ownTandemsOf != nil, let partner = mentor ?? mentee {
                names = " with \(partner)"
            }
            var description = "Next session of tandem \(item.tandem.id), due \(item.dueOn)"
            if item.overdueDays > 0 { description += ", overdue by \(Format.days(item.overdueDays))" }
            if let last = item.tandem.lastSession {
                description += ". Last session: \(last)."
            } else {
                description += ". No session yet."
            }
            lines += [
                "BEGIN:VEVENT",
                "UID:" + escape("\(item.tandem.id)-\(item.dueOn.description.replacingDashes())@tandem"),
                "DTSTAMP:\(dtstamp)",
                "DTSTART;VALUE=DATE:\(start.description.replacingDashes())",
                "DTEND;VALUE=DATE:\(start.adding(days: 1).description.replacingDashes())",
                "SUMMARY:" + escape("Reverse-mentoring session (tandem \(item.tandem.id))\(names)"),
                "DESCRIPTION:" + escape(description),
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n": out += "\\n"
            case "\r": break
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Folds a content line at 75 octets (§3.1): CRLF and a space, never inside a UTF-8
    /// sequence.
    public static func fold(_ line: String) -> String {
        let bytes = Array(line.utf8)
        guard bytes.count > 75 else { return line }
        var parts: [String] = []
        var start = 0
        var limit = 75
        while start < bytes.count {
            var end = min(bytes.count, start + limit)
            // Back up over continuation bytes so a character is never split.
            while end < bytes.count && end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            parts.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
            limit = 74  // continuation lines start with a space, which counts
        }
        return parts.joined(separator: "\r\n ")
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func compact(_ t: Timestamp) -> String {
        t.rfc3339.filter { $0 != "-" && $0 != ":" }
    }
}

extension String {
    /// The text without dashes: `2027-03-01` → `20270301`.
    public func replacingDashes() -> String { String(filter { $0 != "-" }) }
}
