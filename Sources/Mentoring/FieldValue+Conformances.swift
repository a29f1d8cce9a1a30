import EventLog

// The kinds of value an event's fields hold. Each reads exactly what the log contract
// allows: ids by their grammar, dates as YYYY-MM-DD, whole numbers without a fraction.

extension Identifier: FieldValue {
    public var json: JSONValue { .string(rawValue) }
    public func write(to writer: inout JSONWriter) { writer.write(rawValue) }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        let (range, escaped) = try s.scanString()
        // An id has no character that needs escaping: an escaped one is checked as text.
        guard !escaped, isValid(s.bytes(range)) else {
            throw s.fail("invalid \(Kind.noun) id '\(s.decodeString(range, escaped: escaped))'")
        }
        return Self(unchecked: s.decodeString(range, escaped: false))
    }

    public init?(json: JSONValue) {
        guard let text = json.stringValue else { return nil }
        self.init(text)
    }

    public func collectSubjects(into subjects: inout EventSubjects) {
        if Kind.self == TandemKind.self {
            subjects.tandems.append(TandemID(unchecked: rawValue))
        } else if Kind.self == ParticipantKind.self {
            subjects.participants.append(ParticipantID(unchecked: rawValue))
        } else if Kind.self == ProgrammeKind.self {
            subjects.programmes.append(ProgrammeID(unchecked: rawValue))
        }
    }
}

extension BusinessDate: FieldValue {
    public var json: JSONValue { .string(description) }

    /// `"YYYY-MM-DD"`, quotes and all, written in place and appended as one run: every
    /// event a batch appends holds a date or two, and making each a string first cost
    /// more than the rest of its field.
    public func write(to writer: inout JSONWriter) {
        var quoted: (UInt64, UInt32) = (0, 0)
        let written = withUnsafeMutableBytes(of: &quoted) { raw -> Bool in
            let text = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            text[0] = UInt8(ascii: "\"")
            guard CivilCalendar.writeDate(dayNumber, into: text + 1) else { return false }
            text[11] = UInt8(ascii: "\"")
            writer.bytes.append(contentsOf: UnsafeBufferPointer(start: text, count: 12))
            return true
        }
        if !written { writer.write(description) }
    }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        let (range, escaped) = try s.scanString()
        guard !escaped, let day = CivilCalendar.parseDate(s.bytes(range)) else { throw s.fail("not a YYYY-MM-DD date") }
        return BusinessDate(dayNumber: day)
    }

    public init?(json: JSONValue) {
        guard let text = json.stringValue, let date = BusinessDate(text) else { return nil }
        self = date
    }
}

extension Int: FieldValue {
    public var json: JSONValue { .int(Int64(self)) }
    public func write(to writer: inout JSONWriter) { writer.write(self) }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self { Int(try s.parseInt()) }

    public init?(json: JSONValue) {
        guard case .int(let value) = json else { return nil }
        self.init(value)
    }
}

extension Double: FieldValue {
    public var json: JSONValue { .double(self) }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        let position = s.position
        guard let value = try s.parseValue().doubleValue else {
            throw s.fail("not a number", at: position)
        }
        return value
    }

    public init?(json: JSONValue) {
        guard let value = json.doubleValue else { return nil }
        self = value
    }
}

extension String: FieldValue {
    public var json: JSONValue { .string(self) }
    public func write(to writer: inout JSONWriter) { writer.write(self) }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self { try s.parseString() }

    public init?(json: JSONValue) {
        guard let text = json.stringValue else { return nil }
        self = text
    }
}

/// A closed list of codes written as their raw strings (roles, modes, reasons).
public protocol FieldVocabulary: FieldValue, RawRepresentable<String>, CaseIterable, Sendable {
    /// Every code's bytes, made once: a replay reads a mode for every session.
    static var spellings: VocabularySpellings<Self> { get }
}

/// The bytes of each code of a vocabulary, so that a log line's code is matched where it
/// stands instead of being made into a string first (most of reading a code).
public struct VocabularySpellings<Value: RawRepresentable<String> & CaseIterable & Sendable>: Sendable {
    /// The codes' bytes back to back, in `allCases` order.
    private let bytes: [UInt8]
    /// Each code's bytes in `bytes`, and its value.
    private let entries: [(start: Int, count: Int, value: Value)]

    /// Spells every case of `Value`.
    public init() {
        var bytes: [UInt8] = []
        var entries: [(start: Int, count: Int, value: Value)] = []
        for value in Value.allCases {
            let start = bytes.count
            bytes.append(contentsOf: value.rawValue.utf8)
            entries.append((start, bytes.count - start, value))
        }
        self.bytes = bytes
        self.entries = entries
    }

    /// The code spelled exactly `spelled`, or nil; the same answer as
    /// `Value(rawValue: String(decoding: spelled, as: UTF8.self))`.
    public func value(_ spelled: UnsafeRawBufferPointer) -> Value? {
        guard let given = spelled.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return entries.first { $0.count == 0 }?.value
        }
        return bytes.withUnsafeBufferPointer { codes in
            for entry in entries where entry.count == spelled.count {
                if entry.count == 0 || JSONScanner.equalBytes(codes.baseAddress! + entry.start, given, entry.count) {
                    return entry.value
                }
            }
            return nil
        }
    }
}

extension FieldVocabulary {
    public var json: JSONValue { .string(rawValue) }
    public func write(to writer: inout JSONWriter) { writer.write(rawValue) }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        let (range, escaped) = try s.scanString()
        // An escaped code is matched as text: its bytes are not its spelling.
        if !escaped, let value = spellings.value(s.bytes(range)) { return value }
        let text = s.decodeString(range, escaped: escaped)
        guard let value = Self(rawValue: text) else { throw s.fail("unknown value '\(text)'") }
        return value
    }

    public init?(json: JSONValue) {
        guard let text = json.stringValue else { return nil }
        self.init(rawValue: text)
    }
}

extension Role: FieldVocabulary {
    public static let spellings = VocabularySpellings<Role>()
}
extension SessionMode: FieldVocabulary {
    public static let spellings = VocabularySpellings<SessionMode>()
}
extension ReasonCode: FieldVocabulary {
    public static let spellings = VocabularySpellings<ReasonCode>()
}

extension PersonalReference: FieldValue {
    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        // As this code writes it, `{"ref":"…","commit":"<64 hex>"}`, read straight on (a
        // replay reads one for most events); any other spelling is read member by member.
        let start = s.position
        if s.consume(#"{"ref":"#) {
            let (range, escaped) = try s.scanString()
            if s.consume(#","commit":""#), s.end - s.position >= 66,
                s.byte(at: s.position + 64) == UInt8(ascii: "\""), s.byte(at: s.position + 65) == UInt8(ascii: "}"),
                let commit = SHA256Digest(hexBytes: s.bytes(s.position..<(s.position + 64)))
            {
                s.position += 66
                // Packed from the bytes where it has our shape: no string is made for it.
                let ref =
                    escaped
                    ? VaultRef(s.decodeString(range, escaped: true))
                    : VaultRef(bytes: s.bytes(range)) { s.decodeString(range, escaped: false) }
                return PersonalReference(vaultRef: ref, commit: commit)
            }
            s.position = start
        }
        var ref: String?, commit: SHA256Digest?
        try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(key, "ref") {
                ref = try s.parseString()
            } else if s.keyEquals(key, "commit") {
                let (range, _) = try s.scanString()
                commit = SHA256Digest(hexBytes: s.bytes(range))
                if commit == nil { throw s.fail("commit is not 64 hex digits") }
            } else {
                try s.skipValue()
            }
        }
        guard let ref, let commit else { throw s.fail("personal needs ref and commit") }
        return PersonalReference(ref: ref, commit: commit)
    }

    public init?(json: JSONValue) {
        self.init(json: Optional(json))
    }

    public var personalReferences: [PersonalReference] { [self] }

    public func write(to writer: inout JSONWriter) {
        writer.writeRaw(#"{"ref":"#)
        switch vaultRef {
        case .packed(let key): PackedRef.writeQuoted(key, into: &writer.bytes)
        case .other(let text): writer.write(text)
        }
        writer.writeRaw(#","commit":""#)
        commit.writeHex(into: &writer.bytes)
        writer.writeRaw(#""}"#)
    }
}

extension Array: FieldValue where Element: FieldValue {
    public var json: JSONValue { .array(map(\.json)) }

    public func write(to writer: inout JSONWriter) {
        writer.bytes.append(UInt8(ascii: "["))
        for (i, element) in enumerated() {
            if i > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            element.write(to: &writer)
        }
        writer.bytes.append(UInt8(ascii: "]"))
    }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        var list: [Element] = []
        try s.forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in
            // Room for a few at the first (a session's topics): grown from one, a list of
            // two was allocated twice.
            if list.isEmpty { list.reserveCapacity(4) }
            list.append(try Element.read(&s))
        }
        return list
    }

    public init?(json: JSONValue) {
        guard let items = json.arrayValue else { return nil }
        var list: [Element] = []
        list.reserveCapacity(items.count)
        for item in items {
            guard let element = Element(json: item) else { return nil }
            list.append(element)
        }
        self = list
    }

    public var personalReferences: [PersonalReference] { flatMap(\.personalReferences) }

    public func collectSubjects(into subjects: inout EventSubjects) {
        for element in self { element.collectSubjects(into: &subjects) }
    }
}

/// A JSON object of named numbers (a match run's weights), written with sorted keys so
/// that the same weights always give the same bytes.
extension Dictionary: FieldValue where Key == String, Value == Double {
    public var json: JSONValue {
        .object(JSONObject(sorted { $0.key < $1.key }.map { ($0.key, JSONValue.double($0.value)) }))
    }

    public static func read(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        var numbers: [String: Double] = [:]
        try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, escaped: Bool) throws(JSONSyntaxError) in
            numbers[s.decodeString(key, escaped: escaped)] = try Double.read(&s)
        }
        return numbers
    }

    public init?(json: JSONValue) {
        guard let object = json.objectValue else { return nil }
        var numbers: [String: Double] = [:]
        for (key, value) in object {
            guard let number = value.doubleValue else { return nil }
            numbers[key] = number
        }
        self = numbers
    }
}
