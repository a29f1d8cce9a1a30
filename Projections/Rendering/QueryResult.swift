import EventLog
import Mentoring

/// The log state a report was computed from. Every output carries it, so that anyone can
/// reproduce the report (`--known-at seq:N`) or check it against an anchor.
public struct Basis: Sendable, Equatable {
    /// The last line the report read, and its hash.
    public var head: LogHead
    /// The business day the report is about.
    public var asOf: BusinessDate
    /// Whether `asOf` was asked for (or is today).
    public var asOfGiven: Bool
    /// The recording cut-off asked for: `2027-03-01` or `seq:40`.
    public var knownAt: String?
    public var role: Viewer
    /// How the figures were published (`{"method":"cell-key","D":2,…}`), for outputs whose
    /// figures about groups are perturbed; nil otherwise.
    public var disclosure: JSONValue?

    public init(head: LogHead, asOf: BusinessDate, asOfGiven: Bool, knownAt: String?, role: Viewer) {
        self.head = head
        self.asOf = asOf
        self.asOfGiven = asOfGiven
        self.knownAt = knownAt
        self.role = role
    }

    /// `{"seq":…,"hash":…,"asOf":…,"knownAt":…,"role":…}`, and `disclosure` where set.
    public var json: JSONValue {
        var object: JSONObject = [
            "seq": .int(Int64(head.seq)), "hash": .string(head.hash.hex), "asOf": .string(asOf.description),
            "knownAt": knownAt.map(JSONValue.string) ?? .null, "role": .string(role.description),
        ]
        if let disclosure { object["disclosure"] = disclosure }
        return .object(object)
    }

    /// The table footer.
    public var footer: String {
        var parts = ["basis: seq \(head.seq)", "hash \(head.hash.hex.prefix(12))…", "as of \(asOf)"]
        if let knownAt { parts.append("known at \(knownAt)") }
        parts.append("role \(role)")
        if let method = disclosure?.objectValue?["method"]?.stringValue {
            parts.append(method == "cell-key" ? "figures perturbed (cell key)" : method)
        }
        return parts.joined(separator: " · ")
    }
}

/// Rows and columns for the table and CSV forms.
public struct TextTable: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns to align right (numbers).
    public var numeric: Set<Int>
    /// What an empty cell shows in the table form (CSV leaves it empty).
    public var blank: String

    public init(headers: [String], rows: [[String]], numeric: Set<Int> = [], blank: String = "") {
        self.headers = headers
        self.rows = rows
        self.numeric = numeric
        self.blank = blank
    }
}

extension TextTable {
    /// The CSV of a list of flat JSON objects: `columns` (else the first object's keys) as
    /// the header, one row per object; null is empty, arrays are joined with `;`, nested
    /// objects as JSON. An empty list still has its header.
    public init?(jsonRows payload: JSONValue, columns: [String]? = nil) {
        guard case .array(let items) = payload else { return nil }
        guard let headers = columns ?? items.first?.objectValue?.keys else {
            if items.isEmpty {
                self.init(headers: [], rows: [])
                return
            }
            return nil
        }
        self.init(headers: headers, rows: items.map { item in headers.map { Self.csvCell(item.objectValue?[$0]) } })
    }

    /// A JSON value as a CSV cell: null is empty, arrays are joined with `;`, nested
    /// objects as JSON.
    public static func csvCell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .array(let a)?: return a.map { $0.stringValue ?? $0.description }.joined(separator: ";")
        case let other?: return other.description
        }
    }
}

extension JSONObject {
    /// This object with `other`'s members added (or replaced).
    public func merging(_ other: JSONObject) -> JSONObject {
        var out = self
        for (key, value) in other { out[key] = value }
        return out
    }
}

/// A query's answer, ready to render in any form. `payload` is what the JSON form holds
/// under `payloadKey`; `table` what the table and CSV forms show.
public struct QueryResult: Sendable {
    public var basis: Basis
    public var payloadKey: String
    public var payload: JSONValue
    /// More top-level JSON keys, after the payload (e.g. `suppression`).
    public var extra: [(String, JSONValue)] = []
    /// Top-level arrays too long to hold as values, written element by element when the JSON
    /// is rendered; added with `appendRows(_:_:)`, which keeps their place among `extra`.
    public private(set) var rows: [String: JSONRows] = [:]
    public var table: TextTable
    /// The CSV form, if it differs from the table (e.g. one wide row instead of key/value).
    public var csvTable: TextTable?
    /// The CSV columns of a list payload (its objects' keys), so an empty list keeps its header.
    public var csvColumns: [String]?
    /// Lines printed under the table (suppression notes and the like).
    public var notes: [String] = []
    /// How many cells were suppressed (for the access ledger).
    public var suppressedCells = 0
    /// Whether confidential content (notes, goal texts) was shown.
    public var confidentialRead = false
    /// How many log lines the query read (an audit; for tests of the index path).
    package var linesRead = 0
    /// The payload's list when it is too long to hold (`payload` and `table` then hold
    /// nothing): rendered row by row as it is produced.
    public var stream: StreamedList?

    public init(basis: Basis, payloadKey: String, payload: JSONValue, table: TextTable) {
        self.basis = basis
        self.payloadKey = payloadKey
        self.payload = payload
        self.table = table
    }

    /// Adds a top-level array after the members of `extra` so far, written element by element.
    public mutating func appendRows(_ key: String, _ array: JSONRows) {
        extra.append((key, .null))
        rows[key] = array
    }

    /// The top-level members in order; `rows` stand as `.null`.
    var members: [(String, JSONValue)] { [("basis", basis.json), (payloadKey, payload)] + extra }

    /// The whole JSON document: one object with the basis beside the payload.
    ///
    /// - Complexity: O(n) in the rows, which are materialised here; rendering streams them.
    /// A streamed list is produced here and held whole; if it cannot be produced (a log
    /// damaged under the query), it holds the rows before the damage: `Renderer.write`
    /// reports such damage.
    public var json: JSONValue {
        .object(
            JSONObject(
                members.map { key, value in
                    if key == payloadKey, let stream { return (key, .array((try? stream.objects()) ?? [])) }
                    return (key, rows[key].map { .array($0.values) } ?? value)
                }))
    }
}

extension QueryResult {
    /// A list answer of `count` rows: held as values up to `heldUpTo` rows, else streamed
    /// (`stream`), which prints the same. `rows` produces each row's table cells and JSON
    /// values (one per key), the same rows every time it is called; the CSV columns are `keys`.
    /// It is told which part a pass needs (`nil`: both), and may leave the other empty: a
    /// table's two passes over a million people made every row's JSON values twice for
    /// nothing.
    /// - Throws: what `rows` throws, when the list is held.
    public static func list(
        basis: Basis, payloadKey: String, headers: [String], numeric: Set<Int> = [], keys: [String], count: Int,
        heldUpTo: Int,
        rows:
            @escaping @Sendable (_ part: StreamedList.Part?, _ row: ([String], [JSONValue]) throws -> Void) throws ->
            Void
    ) rethrows -> QueryResult {
        var result: QueryResult
        if count > heldUpTo {
            result = QueryResult(
                basis: basis, payloadKey: payloadKey, payload: .array([]),
                table: TextTable(headers: headers, rows: [], numeric: numeric))
            result.stream = StreamedList(headers: headers, numeric: numeric, keys: keys, count: count) { part, body in
                try rows(part, body)
            }
        } else {
            var objects: [JSONValue] = []
            var table: [[String]] = []
            try rows(nil) { cells, values in
                objects.append(.object(JSONObject(zip(keys, values).map { ($0, $1) })))
                table.append(cells)
            }
            result = QueryResult(
                basis: basis, payloadKey: payloadKey, payload: .array(objects),
                table: TextTable(headers: headers, rows: table, numeric: numeric))
        }
        result.csvColumns = keys
        return result
    }
}

/// A list too long to hold in memory (every session of a store of ten million events is six
/// million rows, gigabytes as values): rendering asks for its rows once per pass it makes
/// (a table twice, its column widths first) and writes them as they come. The table, CSV
/// and JSON forms of a row come from the same values, so they always agree.
public struct StreamedList: Sendable {
    /// The table form's headers, and the columns aligned right.
    public var headers: [String]
    public var numeric: Set<Int>
    /// What an empty cell shows in the table form.
    public var blank = ""
    /// The JSON objects' keys, in order, which are the CSV columns.
    public var keys: [String]
    /// How many rows there are.
    public var count: Int
    /// Calls `row` with each row: its table cells, and its JSON values (one per key), or
    /// only the part asked for (the other empty).
    let rows: @Sendable (_ part: Part, _ row: ([String], [JSONValue]) throws -> Void) throws -> Void
    /// Writes every row straight into the form being rendered (`RowWriter`), the same rows
    /// as `rows` makes, if the list can: rendering then uses it, not `rows`.
    public var write: (@Sendable (_ writer: inout RowWriter) throws -> Void)?
    /// The rows `write` writes, as blocks that can be written each by itself: rendering then
    /// writes them on every core.
    public var blocks: RowBlocks?

    /// Lets rendering make the rows in blocks on every core: `rows(range, part, body)` makes
    /// the rows at `range` of `0..<count` (the part asked for, as `rows` does), and range
    /// after range they are the rows `rows` makes. A block is a 64th of the list, from 1 to
    /// `atMost` positions: many blocks on a small list, a few hundred kilobytes of text on a
    /// large one. For a list whose rows are made one by one as strings and values (people,
    /// tandems, goals): made on one core, a million rows took seconds.
    public mutating func produce(
        over count: Int, atMost: Int = 4096,
        _ rows:
            @escaping @Sendable (_ range: Range<Int>, _ part: Part, _ row: ([String], [JSONValue]) throws -> Void)
            throws -> Void
    ) {
        let size = min(atMost, max(1, count / 64))
        blocks = RowBlocks(count: (count + size - 1) / size) { block, writer in
            try rows((block * size)..<min(count, (block + 1) * size), writer.part) { cells, values in
                writer.row(cells: cells, values: values)
            }
        }
    }

    /// Which part of each row a pass needs: the table's cells, or the values of JSON and CSV.
    public enum Part: Sendable {
        case cells, values
    }

    /// A list of `count` rows, produced by `rows` (which must produce the same rows every
    /// time it is called).
    public init(
        headers: [String], numeric: Set<Int>, keys: [String], count: Int,
        rows: @escaping @Sendable (_ part: Part, _ row: ([String], [JSONValue]) throws -> Void) throws -> Void
    ) {
        self.headers = headers
        self.numeric = numeric
        self.keys = keys
        self.count = count
        self.rows = rows
    }

    /// Calls `body` with each row's table cells and JSON values.
    /// - Throws: what producing the rows throws (a store damaged under the query), or `body`.
    public func forEach(_ part: Part, _ body: ([String], [JSONValue]) throws -> Void) throws {
        try rows(part, body)
    }

    /// Every row as a JSON object, held whole: for callers that want values, not the command
    /// line (which streams).
    /// - Throws: what producing the rows throws.
    public func objects() throws -> [JSONValue] {
        var out: [JSONValue] = []
        try forEach(.values) { _, values in out.append(.object(JSONObject(zip(keys, values).map { ($0, $1) }))) }
        return out
    }

}

/// A JSON array written one element at a time: `suggest` over a thousand-by-thousand pool
/// lists a million candidate pairs, and a million `JSONValue` objects cost more to build and
/// free than to write.
public struct JSONRows: Sendable {
    /// How many elements the array has.
    public let count: Int
    let write: @Sendable (inout JSONWriter, _ before: (inout JSONWriter, Int) -> Void) -> Void

    /// An array of `count` elements; `element(i, &writer)` writes the i-th as compact JSON.
    public init(count: Int, element: @escaping @Sendable (Int, inout JSONWriter) -> Void) {
        self.init(count: count) { (w: inout JSONWriter, before: (inout JSONWriter, Int) -> Void) in
            for i in 0..<count {
                before(&w, i)
                element(i, &w)
            }
        }
    }

    /// An array of `count` elements produced in order, for elements that are cheaper to
    /// produce one after another than by index: `write(&writer, before)` writes every element
    /// as compact JSON, and calls `before(&writer, i)` ahead of the i-th (where the renderer
    /// writes separators and hands on what it has written).
    public init(
        count: Int,
        writing write: @escaping @Sendable (inout JSONWriter, _ before: (inout JSONWriter, Int) -> Void) -> Void
    ) {
        self.count = count
        self.write = write
    }

    /// The elements as values, read back from what `write` writes, so that both forms
    /// always agree.
    public var values: [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(count)
        func take(_ w: inout JSONWriter) {
            do {
                out.append(try JSONScanner.parse(w.bytes))
            } catch {
                assertionFailure("JSONRows element \(out.count) is not JSON: \(error)")
                out.append(.null)
            }
            w.bytes.removeAll(keepingCapacity: true)
        }
        var w = JSONWriter()
        write(&w) { w, i in if i > 0 { take(&w) } }
        if count > 0 { take(&w) }
        return out
    }
}

extension String {
    /// The text with every control character (C0, DEL and C1) written as `\u001b`, so that
    /// printing it to a terminal shows it instead of obeying it.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: Self.isControl) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            if Self.isControl(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }
}

/// Renders a `QueryResult` as a table, CSV or JSON.
public enum Renderer {
    public enum Format: String, Sendable, CaseIterable {
        case table, json, csv
    }

    /// - Parameter width: the columns a table may take (it never cuts an id, a code, a date
    ///   or a number; names and summaries give way).
    public static func render(_ result: QueryResult, as format: Format, width: Int = 80) -> String {
        if result.stream != nil {
            // Held whole after all (a caller that wants a string); the command line streams.
            var text = ""
            try? write(result, as: format, width: width) { text += $0 }
            return text
        }
        switch format {
        case .json: return prettyJSON(result.members, rows: result.rows) + "\n"
        case .csv:
            return csv(
                result.csvTable ?? TextTable(jsonRows: result.payload, columns: result.csvColumns) ?? result.table)
        case .table:
            var out = table(result.table, width: width)
            for note in result.notes { out += note.escapingControlCharacters + "\n" }
            out += result.basis.footer + "\n"
            return out
        }
    }

    /// Renders `result` as `render` does, handing the text to `out` piece by piece: a
    /// streamed list is written as its rows come, a megabyte at a time, never held whole.
    /// - Throws: what producing a streamed list's rows throws; nothing for other results.
    public static func write(
        _ result: QueryResult, as format: Format, width: Int = 80, to out: (String) -> Void
    ) throws {
        try write(result, as: format, width: width, bytes: { out(String(decoding: $0, as: UTF8.self)) })
    }

    /// `write(_:as:width:to:)` handing on the text's UTF-8 bytes, valid during the call: a
    /// listing's megabytes go to the output as they were written, not made into strings.
    /// - Throws: as `write(_:as:width:to:)`.
    public static func write(
        _ result: QueryResult, as format: Format, width: Int = 80, bytes out: (UnsafeRawBufferPointer) -> Void
    ) throws {
        func text(_ text: String) {
            var text = text
            text.withUTF8 { out(UnsafeRawBufferPointer($0)) }
        }
        guard let list = result.stream else {
            if format == .json && !result.rows.isEmpty {
                // Rows written as they come (a suggest's candidates are gigabytes of JSON).
                withoutActuallyEscaping(out) { out in
                    let rest = prettyJSON(result.members, rows: result.rows) { w in
                        w.bytes.withUnsafeBytes { out($0) }
                        w.bytes.removeAll(keepingCapacity: true)
                    }
                    text(rest + "\n")
                }
            } else {
                text(render(result, as: format, width: width))
            }
            return
        }
        // Written as bytes, a megabyte at a time.
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20 + 4096)
        func flushIfFull() {
            guard chunk.count >= 1 << 20 else { return }
            chunk.withUnsafeBytes { out($0) }
            chunk.removeAll(keepingCapacity: true)
        }
        func emit(_ text: String) {
            chunk.append(contentsOf: text.utf8)
            flushIfFull()
        }
        // The rows of `form`, written into `chunk` as they come (`write` if the list has it).
        // Returns the writer's layout (measured, in a first pass), nil if the rows went to `eachRow`.
        // The rows of `form`, written after what is in `chunk`: by the list's own writer, or
        // (a list of strings and values) each row by `RowWriter.row(cells:values:)`.
        // Returns the writer's layout (measured, in a first pass).
        func rows(_ form: RowWriter.Form, _ layout: TableLayout, widths: [Int] = []) throws -> TableLayout {
            if let blocks = list.blocks {
                // Blocks are written on other threads and handed on here, in order, after
                // what is written so far.
                if !chunk.isEmpty { chunk.withUnsafeBytes { out($0) } }
                chunk = []
                return try blocks.render(form, layout: layout, widths: widths, keys: list.keys, out: out)
            }
            return try withoutActuallyEscaping(out) { out in
                var writer = RowWriter(
                    form, layout: layout, widths: widths, keys: list.keys, pending: chunk,
                    handOn: { written in written.withBytes { out(UnsafeRawBufferPointer($0)) } })
                chunk = []
                defer { chunk = writer.pending }
                if let write = list.write {
                    try write(&writer)
                } else {
                    try list.forEach(writer.part) { cells, values in writer.row(cells: cells, values: values) }
                }
                return writer.layout
            }
        }
        switch format {
        case .table:
            if list.count == 0 {
                emit("(none)\n")
            } else {
                let layout = try rows(
                    .measure, TableLayout(headers: list.headers, numeric: list.numeric, blank: list.blank))
                let widths = layout.widths(fitting: width)
                emit(layout.headerLines(widths))
                _ = try rows(.table, layout, widths: widths)
            }
            for note in result.notes { emit(note.escapingControlCharacters + "\n") }
            emit(result.basis.footer + "\n")
        case .csv:
            emit(csvRecord(list.keys))
            _ = try rows(.csv, TableLayout(headers: list.headers, numeric: list.numeric, blank: list.blank))
        case .json:
            var members = result.members
            // The payload is always a member (after the basis).
            let at = members.firstIndex { $0.0 == result.payloadKey }!
            // The members before the list, the list row by row, then the rest: each part
            // as `prettyJSON` writes it.
            let before = prettyJSON(Array(members[..<at]), rows: result.rows)
            emit(String(before.dropLast(at > 0 ? 2 : 1)))
            if at > 0 { emit(",\n") }
            var w = JSONWriter(capacity: 1 << 16)
            w.writeRaw("  ")
            w.write(.string(result.payloadKey))
            w.writeRaw(": ")
            if list.count == 0 {
                w.writeRaw("[]")
            } else {
                w.writeRaw("[\n")
                chunk.append(contentsOf: w.bytes)
                w.bytes.removeAll(keepingCapacity: true)
                _ = try rows(.json, TableLayout(headers: list.headers, numeric: list.numeric, blank: list.blank))
                w.writeRaw("\n  ]")
            }
            members.removeSubrange(...at)
            if members.isEmpty {
                w.writeRaw("\n}\n")
            } else {
                w.writeRaw(",\n")
            }
            chunk.append(contentsOf: w.bytes)
            flushIfFull()
            if !members.isEmpty { emit(String(prettyJSON(members, rows: result.rows).dropFirst(2)) + "\n") }
        }
        if !chunk.isEmpty { chunk.withUnsafeBytes { out($0) } }
    }

    /// Appends `csvField(value)`: a plain cell (printable ASCII that needs no quotes and
    /// cannot be taken for a formula) as its bytes, any other quoted or defused byte by byte.
    static func appendCSVField<Out: RenderedBytes>(_ value: String, to out: inout Out) {
        var text = value
        text.withUTF8 { bytes in
            guard !appendPlainCSVField(bytes, to: &out) else { return }
            let quote = UInt8(ascii: "\"")
            var defused = false
            if let first = bytes.first,
                [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains(first)
            {
                defused = !(first == UInt8(ascii: "-") && Double(value) != nil)
            }
            // By bytes, not characters: "\r\n" is one character, and so is a quote with a
            // combining mark after it, and neither equals "\n" or "\"" (such fields went
            // out unquoted, and broke the record).
            let quoted = bytes.contains { $0 == 0x2C || $0 == quote || $0 == 0x0A || $0 == 0x0D }
            if quoted { out.appendByte(quote) }
            if defused { out.appendByte(UInt8(ascii: "'")) }
            guard quoted else { return out.appendBytes(bytes) }
            var start = 0
            for (i, byte) in bytes.enumerated() where byte == quote {
                out.appendBytes(UnsafeBufferPointer(rebasing: bytes[start...i]))
                out.appendByte(quote)
                start = i + 1
            }
            out.appendBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
            out.appendByte(quote)
        }
    }

    /// Appends a field's bytes as they are if `csvField` would leave them so (printable
    /// ASCII, no comma or quote, not taken for a formula); false, appending nothing, if not.
    @inline(__always)
    static func appendPlainCSVField<Out: RenderedBytes>(
        _ bytes: UnsafeBufferPointer<UInt8>, to out: inout Out
    )
        -> Bool
    {
        // Printable ASCII, with no comma or quote.
        for byte in bytes where byte < 0x20 || byte > 0x7E || byte == 0x2C || byte == 0x22 { return false }
        if let first = bytes.first, first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40 {
            return false
        }
        out.appendBytes(bytes)
        return true
    }

    /// RFC 4180: one header row, then data rows; CRLF line ends; formula-looking cells
    /// defused with a leading '.
    public static func csv(_ table: TextTable) -> String {
        var out = csvRecord(table.headers)
        for row in table.rows { out += csvRecord(row) }
        return out
    }

    public static func csvRecord(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") + "\r\n" }

    /// One CSV field. A cell a spreadsheet would run as a formula (starting with =, +, -, @,
    /// a tab or a carriage return) gets a leading ' (OWASP), except a plain negative number;
    /// a field with a comma, quote or line break is quoted, its quotes doubled.
    public static func csvField(_ value: String) -> String {
        var out: [UInt8] = []
        appendCSVField(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Aligned columns that fit in `width` where they can: the widest text columns give way,
    /// with an ellipsis, numbers never do.
    public static func table(_ table: TextTable, width: Int = 80) -> String {
        guard !table.headers.isEmpty else { return "" }
        if table.rows.isEmpty { return "(none)\n" }
        var layout = TableLayout(headers: table.headers, numeric: table.numeric, blank: table.blank)
        for row in table.rows { layout.measure(row) }
        let widths = layout.widths(fitting: width)
        var out = layout.headerLines(widths)
        for row in table.rows { out += layout.line(row, widths: widths) }
        return out
    }

    /// Stable JSON for people and tools alike: top-level keys on their own lines, each
    /// element of a top-level array on its own line, everything else compact.
    ///
    /// Written into one buffer: a `suggest` over a thousand-by-thousand pool lists a million
    /// candidate pairs.
    public static func prettyJSON(_ value: JSONValue) -> String {
        guard case .object(let object) = value else { return value.description }
        return prettyJSON(object.members, rows: [:])
    }

    /// `prettyJSON(_:)` of an object's members, with `rows` written in place of the members
    /// of the same key.
    ///
    /// With `flush`, the rows are handed to it a megabyte at a time as they are written
    /// (emptying the writer), and the text returned is what follows the last hand-over.
    static func prettyJSON(
        _ members: [(String, JSONValue)], rows: [String: JSONRows], flush: ((inout JSONWriter) -> Void)? = nil
    ) -> String {
        var w = JSONWriter(capacity: 1 << 16)
        func nonEmptyArray(_ value: JSONValue) -> [JSONValue]? {
            if case .array(let items) = value, !items.isEmpty { return items }
            return nil
        }
        func array(_ count: Int, indent: StaticString, close: StaticString, element: (Int, inout JSONWriter) -> Void) {
            w.writeRaw("[\n")
            for i in 0..<count {
                w.writeRaw(indent)
                element(i, &w)
                if i < count - 1 { w.writeRaw(",") }
                w.writeRaw("\n")
            }
            w.writeRaw(close)
        }
        func array(_ items: [JSONValue], indent: StaticString, close: StaticString) {
            array(items.count, indent: indent, close: close) { $1.write(items[$0]) }
        }
        w.writeRaw("{\n")
        for (index, (key, member)) in members.enumerated() {
            w.writeRaw("  ")
            w.write(.string(key))
            w.writeRaw(": ")
            if let streamed = rows[key] {
                if streamed.count == 0 {
                    w.writeRaw("[]")
                } else {
                    w.writeRaw("[\n")
                    streamed.write(&w) { w, i in
                        if i > 0 { w.writeRaw(",\n") }
                        if let flush, w.bytes.count >= 1 << 20 { flush(&w) }
                        w.writeRaw("    ")
                    }
                    w.writeRaw("\n  ]")
                }
            } else if let items = nonEmptyArray(member) {
                array(items, indent: "    ", close: "  ]")
            } else if case .object(let inner) = member,
                inner.members.contains(where: { nonEmptyArray($0.value) != nil })
            {
                w.writeRaw("{\n")
                for (i, (k, v)) in inner.members.enumerated() {
                    w.writeRaw("    ")
                    w.write(.string(k))
                    w.writeRaw(": ")
                    if let items = nonEmptyArray(v) {
                        array(items, indent: "      ", close: "    ]")
                    } else {
                        w.write(v)
                    }
                    if i < inner.members.count - 1 { w.writeRaw(",") }
                    w.writeRaw("\n")
                }
                w.writeRaw("  }")
            } else {
                w.write(member)
            }
            if index < members.count - 1 { w.writeRaw(",") }
            w.writeRaw("\n")
        }
        w.writeRaw("}")
        return w.string
    }
}

/// Small formatting helpers shared by the queries.
public enum Format {
    /// A date or `null`.
    public static func date(_ date: BusinessDate?) -> JSONValue { date.map { .string($0.description) } ?? .null }

    /// A date or "-" for tables.
    public static func cell(_ date: BusinessDate?) -> String { date?.description ?? "-" }

    /// A ratio at full double precision (null when the denominator is 0): machine formats
    /// carry the shortest text that reads back as exactly this double (11/60 reads back as
    /// 11/60 in Python); only tables round.
    public static func ratio(_ numerator: Int, _ denominator: Int) -> JSONValue {
        denominator == 0 ? .null : .double(Double(numerator) / Double(denominator))
    }

    /// "1 day", "3 days".
    public static func days(_ n: Int) -> String { count(n, "day") }

    /// "1 mentor", "2 mentors": a count with its noun in the right number (regular plurals).
    public static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

    /// A number for tables: up to `digits` decimals, rounded half away from zero, no trailing
    /// zeros.
    public static func number(_ value: Double?, digits: Int = 2) -> String {
        guard let value else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(rounded)
    }
}
