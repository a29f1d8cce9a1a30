import EventLog

/// Reads a described value's fields straight from the bytes of a JSON object: the replay's
/// decoder, so it is built for lines this code wrote.
///
/// Those lines hold the fields in description order, and then each field is read where the
/// scanner stands: one pass, nothing stored. The first time a field is not next (a line
/// from another writer, or an optional field left out), the rest of the object is indexed
/// once, and every later field is looked up there. A key given twice counts once: the
/// first in order, or the last when indexed.
///
/// - Complexity: O(n) in the object's bytes for lines in description order; O(n + f·m) for
///   f fields over m indexed members otherwise.
struct ScannedFields<Value>: EventFields {
    private var scanner: JSONScanner
    /// Whether the object's closing brace has been read.
    private var closed = false
    /// The members not read in order, built on the first field that was not next.
    private var index: [(key: Range<Int>, value: Int)]?
    /// Just past the closing brace, once known.
    private var end = 0

    /// Starts at the object's opening brace.
    /// - Throws: `JSONSyntaxError` when there is no object there.
    init(_ scanner: JSONScanner) throws(JSONSyntaxError) {
        self.scanner = scanner
        self.scanner.skipWhitespace()
        try self.scanner.expect(UInt8(ascii: "{"))
        self.scanner.skipWhitespace()
        if self.scanner.peek() == UInt8(ascii: "}") {
            self.scanner.position += 1
            closed = true
            end = self.scanner.position
        }
    }

    /// Moves past the object's remaining members and returns the offset after its brace.
    mutating func finish() throws(JSONSyntaxError) -> Int {
        if index != nil { return end }
        while !closed {
            _ = try memberKey()
            try scanner.skipValue()
            try afterValue()
        }
        return end
    }

    /// Reads `"key":` at the scanner, leaving it at the value.
    @inline(__always)
    private mutating func memberKey() throws(JSONSyntaxError) -> Range<Int> {
        let (key, _) = try scanner.scanString()
        try colon()
        return key
    }

    /// Reads the `:` after a key, leaving the scanner at the value.
    @inline(__always)
    private mutating func colon() throws(JSONSyntaxError) {
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: ":"))
        scanner.skipWhitespace()
    }

    /// Reads the `,` or `}` after a value.
    @inline(__always)
    private mutating func afterValue() throws(JSONSyntaxError) {
        scanner.skipWhitespace()
        guard let c = scanner.peek() else {
            throw scanner.fail("unterminated object")
        }
        scanner.position += 1
        if c == UInt8(ascii: "}") {
            closed = true
            end = scanner.position
        } else if c == UInt8(ascii: ",") {
            scanner.skipWhitespace()
        } else {
            throw scanner.fail("expected ',' or '}'", at: scanner.position - 1)
        }
    }

    /// Indexes the members from the scanner to the end of the object.
    private mutating func buildIndex() throws(JSONSyntaxError) {
        var members: [(key: Range<Int>, value: Int)] = []
        while !closed {
            let key = try memberKey()
            members.append((key, scanner.position))
            try scanner.skipValue()
            try afterValue()
        }
        index = members
    }

    /// Reads the field `name`, or returns nil when the object does not have it (or, if
    /// `nullable`, when it holds null).
    @inline(__always)
    private mutating func field<Field: FieldValue>(
        _ name: StaticString, nullable: Bool = false
    ) throws(JSONSyntaxError) -> Field? {
        if index == nil {
            if closed { return nil }
            let start = scanner.position
            // The key as this code writes it, without escapes, is matched where it stands;
            // any other spelling is read as a string first.
            let isNext: Bool
            if scanner.consumeQuoted(name) {
                try colon()
                isNext = true
            } else {
                isNext = scanner.keyEquals(try memberKey(), name)
            }
            if isNext {
                let value: Field? = nullable && scanner.consume("null") ? nil : try Field.read(&scanner)
                try afterValue()
                return value
            }
            scanner.position = start
            try buildIndex()
        }
        return try indexed(name, nullable: nullable)
    }

    /// Looks the field `name` up in the index.
    private func indexed<Field: FieldValue>(_ name: StaticString, nullable: Bool) throws(JSONSyntaxError) -> Field? {
        guard let member = index?.last(where: { scanner.keyEquals($0.key, name) }) else { return nil }
        var reader = scanner
        reader.position = member.value
        if nullable && reader.consume("null") { return nil }
        return try Field.read(&reader)
    }

    @inline(__always)
    mutating func required<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field
    ) throws(JSONSyntaxError) -> Field {
        guard let value: Field = try field(name) else {
            throw scanner.fail("missing \"\(name)\"")
        }
        return value
    }

    @inline(__always)
    mutating func optional<Field: FieldValue>(
        _ name: StaticString, _ path: (Value) -> Field?
    ) throws(JSONSyntaxError) -> Field? {
        try field(name, nullable: true)
    }

    @inline(__always)
    mutating func omittedWhenEmpty<Element: FieldValue>(
        _ name: StaticString, _ path: (Value) -> [Element]
    ) throws(JSONSyntaxError) -> [Element] {
        try field(name) ?? []
    }
}
