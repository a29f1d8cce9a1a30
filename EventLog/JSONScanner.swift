/// A JSON syntax error: what was wrong and the byte offset where it was found.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset within the scanned buffer.
    public var offset: Int
    /// What was wrong, in a few words.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict, validating JSON scanner over bytes in memory (RFC 8259, UTF-8 only).
///
/// It accepts exactly what a strict parser accepts: no trailing commas, no leading zeros,
/// no lone surrogates, no raw control characters in strings, no invalid or overlong UTF-8.
/// It is the one parser of the code base: the verifier checks well-formedness with it, the
/// replay decoder pulls fields out of log lines with it, and `parseValue` builds values.
///
/// The buffer must outlive the scanner; it is never copied.
public struct JSONScanner {
    @usableFromInline let base: UnsafePointer<UInt8>
    /// One past the last byte that may be read.
    public let end: Int
    /// The offset of the next byte to read.
    public var position: Int
    /// Nesting depth allowed before a document is refused, against stack exhaustion.
    public static let maximumDepth = 256

    /// Scans `buffer` from `position`.
    public init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        // An empty buffer may have no base address; any valid pointer will do for zero reads.
        base =
            buffer.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
            ?? UnsafePointer(bitPattern: 1)!
        end = buffer.count
        self.position = position
    }

    /// Scans `count` bytes at `pointer`.
    package init(pointer: UnsafePointer<UInt8>, count: Int, position: Int = 0) {
        base = pointer
        end = count
        self.position = position
    }

    /// Whether every byte has been read.
    @inlinable public var isAtEnd: Bool { position >= end }

    /// The byte at `offset` (unchecked: the caller keeps `offset < end`).
    @inlinable @inline(__always) public func byte(at offset: Int) -> UInt8 { base[offset] }

    /// The byte at the current position, or nil at the end.
    @inlinable @inline(__always) public func peek() -> UInt8? { position < end ? base[position] : nil }

    /// The address of the byte at `offset` (unchecked: the caller keeps `offset <= end`).
    @inlinable @inline(__always) package func pointer(at offset: Int) -> UnsafePointer<UInt8> { base + offset }

    /// Raw access to a byte range of the buffer.
    @inlinable public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// An error at `offset` (the position by default), for readers built on the scanner.
    @usableFromInline package func fail(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? position, reason: reason)
    }

    /// Skips spaces, tabs, line feeds and carriage returns.
    @inlinable @inline(__always) public mutating func skipWhitespace() {
        while position < end {
            let c = base[position]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            position &+= 1
        }
    }

    /// Consumes `byte` or throws naming what was expected.
    @inlinable @inline(__always) public mutating func expect(_ byte: UInt8) throws(JSONSyntaxError) {
        guard position < end, base[position] == byte else {
            throw fail(position < end ? "expected '\(Character(Unicode.Scalar(byte)))'" : "unexpected end of input")
        }
        position &+= 1
    }

    /// Consumes `literal` if the bytes at the position match it exactly.
    @inlinable @inline(__always) public mutating func consume(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end &- position >= count, Self.equalBytes(base + position, literal.utf8Start, count) else { return false }
        position &+= count
        return true
    }

    /// Consumes the string token `"literal"` if it stands at the position, the literal
    /// holding no quote and no backslash (a key this code wrote): the token is then exactly
    /// the literal, and reading it as a string first is saved.
    @inlinable @inline(__always) public mutating func consumeQuoted(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end &- position >= count &+ 2, base[position] == UInt8(ascii: "\""),
            base[position &+ count &+ 1] == UInt8(ascii: "\""),
            Self.equalBytes(base + (position &+ 1), literal.utf8Start, count)
        else { return false }
        position &+= count &+ 2
        return true
    }

    /// Consumes `[n,m]`, two non-negative integers without leading zeros and without
    /// whitespace, if that stands at the position (a batch marker as this code writes it);
    /// anything else is left for `skipValue`, which reads every spelling.
    @inlinable public mutating func consumeIntegerPair() -> Bool {
        var i = position
        let base = self.base, end = self.end
        @inline(__always) func byte(_ c: UInt8) -> Bool {
            guard i < end, base[i] == c else { return false }
            i &+= 1
            return true
        }
        @inline(__always) func integer() -> Bool {
            guard i < end, base[i] &- 48 < 10 else { return false }
            let first = base[i]
            i &+= 1
            if first == UInt8(ascii: "0") { return true }
            while i < end, base[i] &- 48 < 10 { i &+= 1 }
            return true
        }
        guard byte(UInt8(ascii: "[")), integer(), byte(UInt8(ascii: ",")), integer(), byte(UInt8(ascii: "]")) else {
            return false
        }
        position = i
        return true
    }

    /// Whether the `count` bytes at `a` and at `b` are equal.
    ///
    /// Compared a word at a time: a log line's decoder matches a dozen literals and keys
    /// per line, and a loop of byte compares was a tenth of decoding. Up to 16 bytes take
    /// two loads from each side that may overlap; nothing is read outside the `count`
    /// bytes of either.
    @inlinable @inline(__always)
    package static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
        @inline(__always) func same<Word: FixedWidthInteger>(_ offset: Int, _: Word.Type) -> Bool {
            x.loadUnaligned(fromByteOffset: offset, as: Word.self)
                == y.loadUnaligned(fromByteOffset: offset, as: Word.self)
        }
        switch count {
        case 0: return true
        case 1: return a[0] == b[0]
        case 2, 3: return same(0, UInt16.self) && same(count &- 2, UInt16.self)
        case 4...7: return same(0, UInt32.self) && same(count &- 4, UInt32.self)
        case 8...16: return same(0, UInt64.self) && same(count &- 8, UInt64.self)
        default:
            var i = 0
            while count &- i > 8 {
                guard same(i, UInt64.self) else { return false }
                i &+= 8
            }
            return same(count &- 8, UInt64.self)
        }
    }

    // MARK: Strings

    /// Scans a string token, validating escapes and UTF-8, and returns the range of its
    /// content (between the quotes) and whether it holds escapes.
    @inlinable public mutating func scanString() throws(JSONSyntaxError) -> (content: Range<Int>, escaped: Bool) {
        try expect(UInt8(ascii: "\""))
        let start = position
        var escaped = false
        while position < end {
            // Eight bytes at a time while they are plain ASCII: no quote, no backslash, no
            // control character, no UTF-8 lead byte (ids, dates and hex digests are all of
            // that). A word with any such byte is read byte by byte below.
            while end &- position >= 8 {
                let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
                let attention = Self.attention(word)
                guard attention == 0 else {
                    // Straight to the first byte that needs attention: the plain bytes before
                    // it were read one by one, most of a short string (a name, a topic).
                    position &+= attention.trailingZeroBitCount &>> 3
                    break
                }
                position &+= 8
            }
            guard position < end else { break }
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                let content = start..<position
                position &+= 1
                return (content, escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                try scanEscape()
                continue
            }
            if c < 0x20 { throw fail("control character in string") }
            if c < 0x80 {
                position &+= 1
                continue
            }
            try scanMultiByteScalar()
        }
        throw fail("unterminated string", at: start - 1)
    }

    /// Whether any of the eight bytes of `word` is a quote, a backslash, below 0x20 or
    /// above 0x7F (`attention(word) != 0`).
    @inlinable @inline(__always) static func needsAttention(_ word: UInt64) -> Bool { attention(word) != 0 }

    /// The high bit of each byte of `word` (read little-endian) that is a quote, a
    /// backslash, below 0x20 or above 0x7F, by the zero-byte and less-than tricks of "Bit
    /// Twiddling Hacks". Exact for the lowest such byte (a borrow only runs upward from a
    /// byte that matched), so its trailing zero bits over 8 are that byte's index; a byte
    /// above it may be flagged wrongly.
    @inlinable @inline(__always) static func attention(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = hasZeroByte(word ^ (ones &* 0x22))
        let backslash = hasZeroByte(word ^ (ones &* 0x5C))
        return control | quote | backslash | (word & highs)
    }

    @usableFromInline mutating func scanEscape() throws(JSONSyntaxError) {
        let at = position
        position &+= 1
        guard position < end else { throw fail("unterminated escape", at: at) }
        let e = base[position]
        position &+= 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let unit = try hex4(at: at)
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard consume("\\u") else { throw fail("lone high surrogate", at: at) }
                let low = try hex4(at: at)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("lone high surrogate", at: at) }
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw fail("lone low surrogate", at: at)
            }
        default:
            throw fail("invalid escape", at: at)
        }
    }

    private mutating func hex4(at: Int) throws(JSONSyntaxError) -> UInt32 {
        guard end - position >= 4 else { throw fail("truncated \\u escape", at: at) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = base[position]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - 55)
            default: throw fail("invalid \\u escape", at: at)
            }
            value = value << 4 | digit
            position &+= 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 scalar at the position (Unicode 15, table 3-7).
    @usableFromInline mutating func scanMultiByteScalar() throws(JSONSyntaxError) {
        let lead = base[position]
        let remaining = end - position
        @inline(__always) func cont(_ i: Int) -> Bool { i < remaining && base[position &+ i] & 0xC0 == 0x80 }
        @inline(__always) func inRange(_ i: Int, _ lo: UInt8, _ hi: UInt8) -> Bool {
            i < remaining && base[position &+ i] >= lo && base[position &+ i] <= hi
        }
        switch lead {
        case 0xC2...0xDF:
            guard cont(1) else { break }
            position &+= 2
            return
        case 0xE0:
            guard inRange(1, 0xA0, 0xBF), cont(2) else { break }
            position &+= 3
            return
        case 0xE1...0xEC, 0xEE...0xEF:
            guard cont(1), cont(2) else { break }
            position &+= 3
            return
        case 0xED:
            guard inRange(1, 0x80, 0x9F), cont(2) else { break }
            position &+= 3
            return
        case 0xF0:
            guard inRange(1, 0x90, 0xBF), cont(2), cont(3) else { break }
            position &+= 4
            return
        case 0xF1...0xF3:
            guard cont(1), cont(2), cont(3) else { break }
            position &+= 4
            return
        case 0xF4:
            guard inRange(1, 0x80, 0x8F), cont(2), cont(3) else { break }
            position &+= 4
            return
        default:
            break
        }
        throw fail("invalid UTF-8")
    }

    /// Decodes the content of a scanned string (see `scanString`).
    public func decodeString(_ content: Range<Int>, escaped: Bool) -> String {
        let raw = UnsafeBufferPointer(start: base + content.lowerBound, count: content.count)
        guard escaped else {
            // Ids, topics and codes are short: a string of up to 15 bytes is built in place,
            // and one of ASCII alone is not checked again (`String(decoding:)` checked every
            // byte and built it through the general path, twice the instructions).
            // Either way the bytes are taken as `String(decoding:)` takes them.
            guard raw.count <= 15 else { return String(decoding: raw, as: UTF8.self) }
            return String(unsafeUninitializedCapacity: raw.count) { out in
                _ = out.initialize(from: raw)
                return raw.count
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(content.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hexValue(raw, i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = Self.hexValue(raw, i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for j in i..<(i + 4) {
            let c = raw[j]
            v = v << 4 | UInt32(c <= 57 ? c - 48 : (c | 0x20) - 87)
        }
        return v
    }

    /// Scans and decodes a string.
    public mutating func parseString() throws(JSONSyntaxError) -> String {
        let (content, escaped) = try scanString()
        return decodeString(content, escaped: escaped)
    }

    // MARK: Numbers

    /// Scans a number token and returns its range and whether it is an integer
    /// (no fraction, no exponent).
    public mutating func scanNumber() throws(JSONSyntaxError) -> (range: Range<Int>, integral: Bool) {
        let start = position
        var integral = true
        if position < end && base[position] == UInt8(ascii: "-") { position &+= 1 }
        guard position < end, isDigit(base[position]) else { throw fail("invalid number", at: start) }
        if base[position] == UInt8(ascii: "0") {
            position &+= 1
            if position < end && isDigit(base[position]) { throw fail("leading zero in number", at: start) }
        } else {
            while position < end && isDigit(base[position]) { position &+= 1 }
        }
        if position < end && base[position] == UInt8(ascii: ".") {
            integral = false
            position &+= 1
            guard position < end, isDigit(base[position]) else { throw fail("invalid number", at: start) }
            while position < end && isDigit(base[position]) { position &+= 1 }
        }
        if position < end && (base[position] | 0x20) == UInt8(ascii: "e") {
            integral = false
            position &+= 1
            if position < end && (base[position] == UInt8(ascii: "+") || base[position] == UInt8(ascii: "-")) {
                position &+= 1
            }
            guard position < end, isDigit(base[position]) else { throw fail("invalid number", at: start) }
            while position < end && isDigit(base[position]) { position &+= 1 }
        }
        return (start..<position, integral)
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

    /// Scans an integer that fits in Int64; anything else (fraction, exponent, overflow)
    /// is an error.
    public mutating func parseInt() throws(JSONSyntaxError) -> Int64 {
        let start = position
        let (range, integral) = try scanNumber()
        guard integral, let value = Self.integerValue(base, range) else {
            throw fail("expected an integer", at: start)
        }
        return value
    }

    static func integerValue(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        let negative = base[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        // Up to 18 digits cannot overflow: no check per digit (seqs, minutes, years).
        if range.upperBound - i <= 18 {
            var value: Int64 = 0
            while i < range.upperBound {
                value = value &* 10 &+ Int64(base[i] &- 48)
                i &+= 1
            }
            return negative ? -value : value
        }
        var magnitude: UInt64 = 0
        while i < range.upperBound {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(base[i] - 48))
            if o1 || o2 { return nil }
            magnitude = s
            i += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    // MARK: Values

    /// Skips one value of any kind, validating it completely.
    public mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < end else { throw fail("unexpected end of input") }
        switch base[position] {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw fail("nesting too deep") }
            try forEachMember(depth: depth) {
                (scanner: inout JSONScanner, _: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                try scanner.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw fail("nesting too deep") }
            // A string element is scanned here, not through another call of this function:
            // most arrays a reader skips are lists of strings (topics, offers, wants).
            try forEachElement { (scanner: inout JSONScanner) throws(JSONSyntaxError) in
                if scanner.position < scanner.end && scanner.base[scanner.position] == UInt8(ascii: "\"") {
                    _ = try scanner.scanString()
                } else {
                    try scanner.skipValue(depth: depth + 1)
                }
            }
        case UInt8(ascii: "t"): guard consume("true") else { throw fail("invalid literal") }
        case UInt8(ascii: "f"): guard consume("false") else { throw fail("invalid literal") }
        case UInt8(ascii: "n"): guard consume("null") else { throw fail("invalid literal") }
        default: _ = try scanNumber()
        }
    }

    /// Iterates an object's members. `body` is called with the key's content range and
    /// escape flag, positioned at the value, and must consume the value.
    public mutating func forEachMember(
        depth: Int = 0,
        _ body: (inout JSONScanner, Range<Int>, Bool) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if position < end && base[position] == UInt8(ascii: "}") {
            position &+= 1
            return
        }
        while true {
            skipWhitespace()
            let (key, escaped) = try scanString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key, escaped)
            skipWhitespace()
            guard position < end else { throw fail("unterminated object") }
            let c = base[position]
            position &+= 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '}'", at: position - 1) }
        }
    }

    /// Iterates an array's elements; `body` must consume each element.
    public mutating func forEachElement(
        _ body: (inout JSONScanner) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        skipWhitespace()
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if position < end && base[position] == UInt8(ascii: "]") {
            position &+= 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard position < end else { throw fail("unterminated array") }
            let c = base[position]
            position &+= 1
            if c == UInt8(ascii: "]") { return }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ']'", at: position - 1) }
        }
    }

    /// Whether the key content at `range` equals `literal` (keys without escapes only).
    @inlinable @inline(__always) public func keyEquals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        return range.count == count && Self.equalBytes(base + range.lowerBound, literal.utf8Start, count)
    }

    /// Parses one value into a `JSONValue`. Objects with duplicate keys are refused,
    /// because their meaning differs between readers.
    public mutating func parseValue(depth: Int = 0) throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard position < end else { throw fail("unexpected end of input") }
        switch base[position] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw fail("nesting too deep") }
            // Labelled as the object keeps them, so that it takes the array without a copy.
            var members: [(key: String, value: JSONValue)] = []
            // Small objects (nearly all) are checked for duplicates by comparing with the keys
            // so far; a set is built only for large ones.
            var seen: Set<String>? = nil
            try forEachMember(depth: depth) {
                (scanner: inout JSONScanner, keyRange: Range<Int>, escaped: Bool) throws(JSONSyntaxError) in
                let key = scanner.decodeString(keyRange, escaped: escaped)
                // Room for the dozen members of a command line at the first one: growing from
                // one member by doubling was a sixth of parsing a batch's line.
                if members.isEmpty { members.reserveCapacity(12) }
                let duplicate: Bool
                if members.count < 16 {
                    duplicate = members.contains { $0.key == key }
                } else {
                    if seen == nil { seen = Set(members.map(\.key)) }
                    duplicate = !seen!.insert(key).inserted
                }
                if duplicate { throw scanner.fail("duplicate key \"\(key)\"", at: keyRange.lowerBound - 1) }
                members.append((key: key, value: try scanner.parseValue(depth: depth + 1)))
            }
            return .object(JSONObject(distinctMembers: members))
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw fail("nesting too deep") }
            var items: [JSONValue] = []
            try forEachElement { (scanner: inout JSONScanner) throws(JSONSyntaxError) in
                items.append(try scanner.parseValue(depth: depth + 1))
            }
            return .array(items)
        case UInt8(ascii: "t"):
            guard consume("true") else { throw fail("invalid literal") }
            return .bool(true)
        case UInt8(ascii: "f"):
            guard consume("false") else { throw fail("invalid literal") }
            return .bool(false)
        case UInt8(ascii: "n"):
            guard consume("null") else { throw fail("invalid literal") }
            return .null
        default:
            let (range, integral) = try scanNumber()
            if integral, let i = Self.integerValue(base, range) { return .int(i) }
            let text = String(
                decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
            guard let d = Double(text), d.isFinite else { throw fail("number out of range", at: range.lowerBound) }
            return .double(d)
        }
    }

    /// Parses a whole document: one value, optionally surrounded by whitespace.
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var scanner = JSONScanner(buffer)
        let value = try scanner.parseValue()
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.fail("trailing characters after the value") }
        return value
    }

    /// Parses a whole document held in bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try parse(buffer) } }.get()
    }

    /// Parses a whole document held in a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}
