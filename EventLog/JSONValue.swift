/// A JSON value whose objects keep their keys in insertion order.
///
/// Order matters here: a log line is hashed byte for byte, so the same value must always
/// serialise to the same bytes.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The compact serialisation.
    public var description: String {
        var writer = JSONWriter()
        writer.write(self)
        return writer.string
    }

    /// The string payload, or nil.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The integer payload, or nil (a double with an integral value counts).
    public var intValue: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: Int64(d)
        default: nil
        }
    }
    /// The number as a double, or nil.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    /// The boolean payload, or nil.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The object payload, or nil.
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The array payload, or nil.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// Whether this is `null`.
}

/// A JSON object with ordered keys. Lookup is linear, which is right for the small
/// objects of a log line; duplicate keys are never produced.
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { members = [] }

    /// An object from ordered members.
    public init(_ members: [(String, JSONValue)]) {
        self.members = members.map { (key: $0.0, value: $0.1) }
    }

    /// An object from ordered members with distinct keys, taken as they are (no copy).
    package init(distinctMembers members: [(key: String, value: JSONValue)]) {
        assert(Set(members.map(\.key)).count == members.count, "duplicate keys")
        self.members = members
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The value for `key`; setting appends a new key at the end or replaces in place.
    /// Setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key: key, value: newValue))
            }
        }
    }

    /// Appends a member whose key the caller knows is not in the object yet (writers that
    /// produce each key once), without the search the subscript makes.
    public mutating func appendNew(_ key: String, _ value: JSONValue) {
        assert(self[key] == nil, "duplicate key \(key)")
        members.append((key: key, value: value))
    }

    /// Reserves room for `count` members.
    public mutating func reserveCapacity(_ count: Int) { members.reserveCapacity(count) }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }
    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// Serialises JSON compactly and deterministically into UTF-8 bytes.
///
/// Strings are escaped as RFC 8259 requires (quote, backslash, control characters) and
/// otherwise written as raw UTF-8, so a name like "Jörg" stays readable in the log.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// A writer with an empty buffer.
    public init(capacity: Int = 256) {
        bytes = []
        // An empty writer, swapped in and out of a place, allocates nothing.
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    /// The bytes as a String.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends raw bytes that the caller guarantees are valid JSON in context.
    public mutating func writeRaw(_ raw: StaticString) {
        raw.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends raw bytes that the caller guarantees are valid JSON in context.
    public mutating func writeRaw(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Appends one value.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let b): writeRaw(b ? "true" : "false")
        case .int(let i): write(i)
        case .double(let d): write(d)
        case .string(let s): write(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object): write(object)
        }
    }

    /// Appends an object.
    public mutating func write(_ object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object.members {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            write(key)
            bytes.append(UInt8(ascii: ":"))
            write(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Appends an integer in decimal.
    public mutating func write(_ value: Int64) {
        Self.decimal(value) { bytes.append(contentsOf: $0) }
    }

    /// Calls `body` with `value` in decimal (ASCII, a `-` before a negative one).
    @inline(__always)
    public static func decimal<R>(_ value: Int64, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &digits) { d in
            var magnitude = value.magnitude
            var at = 20
            repeat {
                at -= 1
                d[at] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                at -= 1
                d[at] = UInt8(ascii: "-")
            }
            return try body(UnsafeBufferPointer(rebasing: d.bindMemory(to: UInt8.self)[at...]))
        }
    }

    /// Whether `bytes` are written as they are between the quotes of a JSON string (no
    /// quote, backslash or control character to escape).
    @inline(__always)
    public static func needsNoEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in bytes where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
        return true
    }

    /// Appends an integer in decimal.
    public mutating func write(_ value: Int) { write(Int64(value)) }

    /// Appends an array of strings.
    public mutating func write(strings: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (i, item) in strings.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            write(item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends the word's eight bytes as sixteen lowercase hex digits, low byte first: what
    /// `RandomSource.hex(bytes:)` makes of one draw.
    public mutating func writeHex(of word: UInt64) {
        // Each half's bytes turned so that its low byte comes first, then eight digits at a
        // time, appended as one run (sixteen appends cost more than the digits).
        var digits = (
            SHA256Digest.hexDigits(UInt32(truncatingIfNeeded: word).byteSwapped).littleEndian,
            SHA256Digest.hexDigits(UInt32(truncatingIfNeeded: word >> 32).byteSwapped).littleEndian
        )
        withUnsafeBytes(of: &digits) { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// Appends a finite double in its shortest round-tripping form. Non-finite values,
    /// which JSON cannot express, are written as `null`.
    public mutating func write(_ value: Double) {
        guard value.isFinite else {
            writeRaw("null")
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            // Integral doubles print as "3.0" in Swift; JSON readers prefer "3".
            write(Int64(value))
            return
        }
        writeRaw(value.description.utf8)
    }

    /// Appends a string with JSON escaping.
    public mutating func write(_ string: String) {
        var copy = string
        // Most strings a log holds are short and need no escaping: quoted in place and
        // appended as one run (three appends, and a byte-by-byte check, cost more).
        let plain = copy.withUTF8 { utf8 -> Bool in
            guard utf8.count <= 120, Self.needsNoEscapingFast(utf8) else { return false }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 122) { buffer in
                let start = buffer.baseAddress!
                start[0] = UInt8(ascii: "\"")
                if let base = utf8.baseAddress { (start + 1).update(from: base, count: utf8.count) }
                start[utf8.count + 1] = UInt8(ascii: "\"")
                bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: utf8.count + 2))
            }
            return true
        }
        if !plain { writeEscaping(copy) }
    }

    /// Whether `bytes` need no escaping (see `needsNoEscaping`), read eight at a time.
    @inline(__always)
    static func needsNoEscapingFast(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var offset = 0
        var bad: UInt64 = 0
        while offset + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
            // A byte below 0x20, a quote or a backslash sets its top bit (a byte of 0x80 or
            // more may set a false one: such words go the slow way, which is exact).
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            bad |= (word &- ones &* 0x20) | (quote &- ones) | (backslash &- ones)
            bad |= word
            offset += 8
        }
        if bad & highs != 0 { return needsNoEscaping(bytes) }
        while offset < bytes.count {
            let c = base[offset]
            if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
            offset += 1
        }
        return true
    }

    /// `write(_:)` for a string that may need escaping.
    private mutating func writeEscaping(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var copy = string
        copy.withUTF8 { utf8 in
            var start = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 0xf)],
                    ])
                }
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
