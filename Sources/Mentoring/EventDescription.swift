import EventLog

/// The one description of a value's JSON fields, in contract order.
///
/// A payload lists its fields once, in `describe(_:)`, by building itself from them:
///
///     static func describe<F: EventFields<Self>>(_ f: inout F) throws(JSONSyntaxError) -> Self {
///         Self(tandem: try f.required("tandem", \.tandem), on: try f.required("on", \.on))
///     }
///
/// Every way of reading or writing the value runs that function with a different `F`: the
/// JSON writer (`fields`), the byte-level decoder that replays the log (`read(_:)` on a
/// `JSONScanner`), the reader of parsed trees (`init(json:)`), and the collector of vault
/// references. Swift evaluates arguments left to right, so the order of the calls is the
/// order of the keys in the log.
public protocol DescribedValue: FieldValue {
    /// Builds the value from its fields, asking `fields` for each one in contract order.
    /// - Throws: `JSONSyntaxError` from a reader: a required field missing or ill-typed.
    static func describe<Fields: EventFields<Self>>(_ fields: inout Fields) throws(JSONSyntaxError) -> Self
}

/// One way of walking a description: each call gives a field's name, where the value keeps
/// it, and whether it may be absent; the walker returns the field's value.
///
/// Writers read the value through the key path; readers ignore it and parse the field.
public protocol EventFields<Value> {
    /// The value being described.
    associatedtype Value

    /// A field that must be present.
    mutating func required<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field
    ) throws(JSONSyntaxError) -> Field

    /// A field that is omitted when nil, and read as nil when absent or null.
    mutating func optional<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field?
    ) throws(JSONSyntaxError) -> Field?

    /// A list that is omitted when empty, and read as empty when absent.
    mutating func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) throws(JSONSyntaxError) -> [Element]
}

/// A value that can stand in a described field: it knows its JSON, and how to read itself
/// from bytes and from a parsed tree.
public protocol FieldValue: Sendable {
    /// The value as JSON.
    var json: JSONValue { get }
    /// Reads the value at the scanner's position and moves past it.
    /// - Throws: `JSONSyntaxError` when the bytes are not such a value.
    static func read(_ scanner: inout JSONScanner) throws(JSONSyntaxError) -> Self
    /// Reads the value from a parsed tree; nil when it is not such a value.
    init?(json: JSONValue)
    /// The vault records the value points to: what erasure must find in every event.
    var personalReferences: [PersonalReference] { get }
    /// Adds the tandems and participants the value names.
    func collectSubjects(into subjects: inout EventSubjects)
    /// Writes `json`'s bytes (without making the value, where the type knows how).
    func write(to writer: inout JSONWriter)
}

extension FieldValue {
    public var personalReferences: [PersonalReference] { [] }
    public func collectSubjects(into subjects: inout EventSubjects) {}
    public func write(to writer: inout JSONWriter) { writer.write(json) }
}

// MARK: Walkers

/// Writes a value's fields into a JSON object, in description order.
struct FieldWriter<Value>: EventFields {
    let value: Value
    var object = JSONObject()

    init(_ value: Value) {
        self.value = value
        object.reserveCapacity(8)
    }

    mutating func required<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field) -> Field {
        let field = path(value)
        object.appendNew(name.description, field.json)
        return field
    }

    mutating func optional<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field?) -> Field? {
        let field = path(value)
        if let field { object.appendNew(name.description, field.json) }
        return field
    }

    mutating func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) -> [Element] {
        let list = path(value)
        if !list.isEmpty { object.appendNew(name.description, list.json) }
        return list
    }
}

/// Writes a value's fields as a JSON object's bytes, in description order: the bytes
/// `FieldWriter`'s object gives, without the object (every event a batch appends is
/// written so; the object's keys, values and array were most of encoding a line).
struct FieldBytesWriter<Value>: EventFields {
    let value: Value
    var writer: JSONWriter
    private var first = true

    init(_ value: Value, writer: JSONWriter) {
        self.value = value
        self.writer = writer
    }

    /// `"name":`, after a comma unless it is the first key. Names are plain ASCII words
    /// (a test holds every description to the object writer, which escapes).
    private mutating func key(_ name: StaticString) {
        // Made in place and appended as one run: four appends cost more than the key.
        let count = name.utf8CodeUnitCount
        guard count <= 60 else {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            writer.bytes.append(UInt8(ascii: "\""))
            writer.writeRaw(name)
            writer.writeRaw("\":")
            return
        }
        let comma = first ? 0 : 1
        first = false
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            let start = buffer.baseAddress!
            start[0] = UInt8(ascii: ",")
            start[comma] = UInt8(ascii: "\"")
            (start + comma + 1).update(from: name.utf8Start, count: count)
            start[comma + 1 + count] = UInt8(ascii: "\"")
            start[comma + 2 + count] = UInt8(ascii: ":")
            writer.bytes.append(contentsOf: UnsafeBufferPointer(start: start, count: comma + 3 + count))
        }
    }

    mutating func required<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field) -> Field {
        let field = path(value)
        key(name)
        field.write(to: &writer)
        return field
    }

    mutating func optional<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field?) -> Field? {
        let field = path(value)
        if let field {
            key(name)
            field.write(to: &writer)
        }
        return field
    }

    mutating func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) -> [Element] {
        let list = path(value)
        if !list.isEmpty {
            key(name)
            list.write(to: &writer)
        }
        return list
    }
}

/// What an inspection of a value's fields gathers.
protocol FieldCollector {
    mutating func collect<Field: FieldValue>(_ field: Field)
}

/// Walks a value's fields and hands each present one to a collector.
struct FieldInspector<Value, Collector: FieldCollector>: EventFields {
    let value: Value
    var collector: Collector

    mutating func required<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field) -> Field {
        let field = path(value)
        collector.collect(field)
        return field
    }

    mutating func optional<Field: FieldValue>(_ name: StaticString, _ path: (Value) -> Field?) -> Field? {
        let field = path(value)
        if let field { collector.collect(field) }
        return field
    }

    mutating func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) -> [Element] {
        let list = path(value)
        collector.collect(list)
        return list
    }
}

/// Gathers vault references.
struct ReferenceCollector: FieldCollector {
    var references: [PersonalReference] = []
    mutating func collect<Field: FieldValue>(_ field: Field) { references += field.personalReferences }
}

/// Gathers the tandems and participants named.
struct SubjectCollector: FieldCollector {
    var subjects = EventSubjects()
    mutating func collect<Field: FieldValue>(_ field: Field) { field.collectSubjects(into: &subjects) }
}

/// The programmes, tandems and participants an event names, in field order: what the
/// decider must load to check it, what applying it may change, and whose audit trail it
/// belongs to.
public struct EventSubjects: Sendable, Equatable {
    public var programmes: [ProgrammeID] = []
    public var tandems: [TandemID] = []
    public var participants: [ParticipantID] = []

    public init() {}
}

/// Reads fields from a parsed JSON object.
struct TreeFields<Value>: EventFields {
    let object: JSONObject

    private func missing(_ name: StaticString) -> JSONSyntaxError {
        JSONSyntaxError(offset: 0, reason: "missing \"\(name)\"")
    }

    private func read<Field: FieldValue>(_ name: StaticString, _ json: JSONValue) throws(JSONSyntaxError) -> Field {
        guard let field = Field(json: json) else {
            throw JSONSyntaxError(offset: 0, reason: "\"\(name)\" is not a valid value")
        }
        return field
    }

    func required<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field
    ) throws(JSONSyntaxError) -> Field {
        guard let json = object[name.description] else { throw missing(name) }
        return try read(name, json)
    }

    func optional<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field?
    ) throws(JSONSyntaxError) -> Field? {
        guard let json = object[name.description], json != .null else { return nil }
        return try read(name, json) as Field
    }

    func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) throws(JSONSyntaxError) -> [Element] {
        guard let json = object[name.description] else { return [] }
        return try read(name, json)
    }
}

extension DescribedValue {
    /// The value's fields as a JSON object, keys in contract order, absent optionals omitted.
    public var fields: JSONObject {
        var writer = FieldWriter(self)
        // A writer never throws: it reads the fields it is given.
        _ = try? Self.describe(&writer)
        return writer.object
    }

    public var json: JSONValue { .object(fields) }

    /// Writes `fields`' bytes.
    public func write(to writer: inout JSONWriter) {
        var fields = FieldBytesWriter(self, writer: JSONWriter(capacity: 0))
        swap(&fields.writer.bytes, &writer.bytes)
        fields.writer.bytes.append(UInt8(ascii: "{"))
        // A writer never throws: it reads the fields it is given.
        _ = try? Self.describe(&fields)
        fields.writer.bytes.append(UInt8(ascii: "}"))
        swap(&fields.writer.bytes, &writer.bytes)
    }

    public var personalReferences: [PersonalReference] {
        var inspector = FieldInspector(value: self, collector: ReferenceCollector())
        _ = try? Self.describe(&inspector)
        return inspector.collector.references
    }

    public func collectSubjects(into subjects: inout EventSubjects) {
        var inspector = FieldInspector(value: self, collector: SubjectCollector(subjects: subjects))
        _ = try? Self.describe(&inspector)
        subjects = inspector.collector.subjects
    }

    /// The tandems and participants the value names, in field order.
    public var subjects: EventSubjects {
        var subjects = EventSubjects()
        collectSubjects(into: &subjects)
        return subjects
    }

    /// Reads the value from a parsed JSON object.
    /// - Throws: `JSONSyntaxError` (offset 0) naming the field missing or ill-typed.
    public init(fields object: JSONObject) throws(JSONSyntaxError) {
        var reader = TreeFields<Self>(object: object)
        self = try Self.describe(&reader)
    }

    public init?(json: JSONValue) {
        guard let object = json.objectValue, let value = try? Self(fields: object) else { return nil }
        self = value
    }

    public static func read(_ scanner: inout JSONScanner) throws(JSONSyntaxError) -> Self {
        var reader = try ScannedFields<Self>(scanner)
        let value = try describe(&reader)
        scanner.position = try reader.finish()
        return value
    }
}
