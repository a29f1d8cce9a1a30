import EventLog
import Mentoring

/// A field of a command that is missing or malformed. On the command line it is a usage
/// error (exit 64); in a file it names the line.
struct FieldError: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Where a command's fields come from: command-line flags, or one JSON line of `tandem append`.
protocol FieldSource {
    /// The raw value of a field (flag name without dashes), or nil.
    func value(_ name: String) -> String?
    /// A list field: comma-separated text, or a JSON array.
    func list(_ name: String) -> [String]?
    /// How to name a field in messages, quoted: `'--on <date>'`, `"on"`, `column 'on'`.
    func describe(_ name: String, _ valueName: String) -> String
}

extension ParsedCommand: FieldSource {
    func list(_ name: String) -> [String]? {
        value(name).map { $0.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty } }
    }
    func describe(_ name: String, _ valueName: String) -> String { "'--\(name) <\(valueName)>'" }
}

/// One JSON line of `tandem append`. Keys are the flag names (`cadence-days`), or their
/// camel-case form (`cadenceDays`).
struct JSONFields: FieldSource {
    /// The line's members in order. A line has a dozen fields at most: a linear search finds
    /// one sooner than a dictionary hashes its name (building and hashing a dictionary per
    /// line was a fifth of reading a large batch).
    let members: [(key: String, value: JSONValue)]
    /// Whether some key is camel-case, and so may be asked for by its flag name.
    var camelCase: Bool

    /// - Parameter camelCase: whether some key holds a capital letter; nil works it out
    ///   (`BulkCommands.checkFields` knows it from the keys it has checked).
    init(object: JSONObject, camelCase: Bool? = nil) {
        members = object.members
        self.camelCase = camelCase ?? members.contains { Self.hasUppercase($0.key) }
    }

    /// Whether `key` holds an ASCII capital letter; read as one run of bytes (walking the
    /// UTF-8 view byte by byte cost more than the rest of making the fields of a line).
    static func hasUppercase(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { utf8 in utf8.contains { $0 &- 65 < 26 } }
    }

    /// The flag name of a key: `cadenceDays` is `cadence-days`.
    static func kebab(_ key: String) -> String {
        guard hasUppercase(key) else { return key }
        var kebab = ""
        for c in key.unicodeScalars {
            if c.value >= 65 && c.value <= 90 {
                kebab += "-" + String(Character(c)).lowercased()
            } else {
                kebab.unicodeScalars.append(c)
            }
        }
        return kebab
    }

    /// The member named `name` exactly, else the first whose camel-case key is `name` as a
    /// flag name (`cadenceDays` for `cadence-days`).
    func raw(_ name: String) -> JSONValue? {
        // Lengths first: most keys differ in length, and a length is stored, where comparing
        // two unequal strings orders them.
        // By index, not by member: a member taken out is a copy of its key and value, retained
        // and released for every key looked at (most of a lookup).
        let length = name.utf8.count
        for i in members.indices where members[i].key.utf8.count == length && members[i].key == name {
            return members[i].value
        }
        guard camelCase else { return nil }
        for member in members where Self.kebab(member.key) == name { return member.value }
        return nil
    }

    func value(_ name: String) -> String? {
        switch raw(name) {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): String(b)
        default: nil
        }
    }

    func list(_ name: String) -> [String]? {
        if case .array(let items) = raw(name) { return items.compactMap(\.stringValue) }
        return value(name).map { $0.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty } }
    }

    func describe(_ name: String, _ valueName: String) -> String { "\"\(name)\"" }
}

extension FieldSource {
    func required(_ name: String, _ valueName: String = "value") throws(FieldError) -> String {
        guard let value = value(name) else {
            throw FieldError("Missing expected argument \(describe(name, valueName))")
        }
        return value
    }

    func invalid(_ name: String, _ valueName: String, _ value: String, _ why: String) -> FieldError {
        FieldError("The value '\(value)' is invalid for \(describe(name, valueName)): \(why)")
    }

    func id<Kind>(_ name: String, _: Kind.Type = Kind.self) throws(FieldError) -> Identifier<Kind> {
        let text = try required(name, "id")
        guard let id = Identifier<Kind>(text) else {
            throw invalid(
                name, "id", text,
                "ids are letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit")
        }
        return id
    }

    func optionalID<Kind>(_ name: String, _: Kind.Type = Kind.self) throws(FieldError) -> Identifier<Kind>? {
        value(name) == nil ? nil : try id(name, Kind.self)
    }

    func date(_ name: String) throws(FieldError) -> BusinessDate {
        let text = try required(name, "date")
        guard let date = BusinessDate(text) else { throw invalid(name, "date", text, Self.dateAdvice(text)) }
        return date
    }

    func optionalDate(_ name: String) throws(FieldError) -> BusinessDate? {
        value(name) == nil ? nil : try date(name)
    }

    static func dateAdvice(_ text: String) -> String {
        let parts = text.split(separator: "-")
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        {
            if y < 1000 {
                return "the year \(parts[0]) is before 1000; business dates run from 1000-01-01 to 9999-12-31"
            }
            if !(1...12).contains(m) { return "there is no month \(m)" }
            return
                "\(CivilCalendar.formatDate(CivilCalendar.dayNumber(year: y, month: m, day: 1)).prefix(7)) has \(CivilCalendar.daysInMonth(year: y, month: m)) days, not \(d)"
        }
        return "expected a date as YYYY-MM-DD, e.g. 2027-02-01"
    }

    func integer(_ name: String, _ valueName: String = "n") throws(FieldError) -> Int {
        let text = try required(name, valueName)
        guard let value = Int(text.trimmed) else { throw invalid(name, valueName, text, "expected a whole number") }
        return value
    }

    func optionalInteger(_ name: String, _ valueName: String = "n") throws(FieldError) -> Int? {
        value(name) == nil ? nil : try integer(name, valueName)
    }

    func choice<E: RawRepresentable & CaseIterable>(
        _ name: String, _ valueName: String, _: E.Type
    ) throws(FieldError) -> E where E.RawValue == String {
        let text = try required(name, valueName)
        guard let value = E(rawValue: text) else {
            throw invalid(
                name, valueName, text,
                "expected one of \(E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")
        }
        return value
    }

    func optionalChoice<E: RawRepresentable & CaseIterable>(
        _ name: String, _ valueName: String, _: E.Type
    ) throws(FieldError) -> E? where E.RawValue == String {
        value(name) == nil ? nil : try choice(name, valueName, E.self)
    }
}
