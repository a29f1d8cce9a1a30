import EventLog
import Mentoring

/// A streamed list's rows written straight into the form being rendered: a table's widths
/// (the first of its two passes), its lines, CSV records or JSON objects, cell by cell, with
/// no row of strings and JSON values made on the way (`StreamedList.write`).
///
/// Each cell is given once, typed, and each form writes it as the row of strings and values
/// would have been written (`Renderer.write`): the table cell as `TableLayout` measures and
/// lays it out, the CSV field through `Renderer.appendCSVField`'s rules, the JSON value as
/// `JSONWriter` writes it. Six million session rows made 30 million strings and 12 million
/// arrays that were written once and dropped: most of a listing's time.
///
/// A cell is both a table cell and a value (a JSON member, a CSV field) unless it says
/// otherwise (`flag(_:)` is a value only).
public struct RowWriter {
    /// What the pass writes.
    enum Form {
        /// The table's first pass: the columns' widths, nothing written.
        case measure
        /// The table's lines, in the widths given to the writer.
        case table
        /// CSV records (RFC 4180, CRLF).
        case csv
        /// One compact JSON object a line, indented by four spaces, after `,\n` but the first.
        case json
    }

    let form: Form
    /// The table's widths (`.table`), and which columns align right.
    private let widths: [Int]
    private let alignsRight: [Bool]
    /// The table's columns: measured by `.measure`, laid out by `.table`.
    private(set) var layout: TableLayout
    /// The rendered bytes not yet handed on.
    private(set) var out: OutputBytes
    /// Hands rendered text on (a megabyte at a time).
    /// Takes the bytes written so far: writes them out, or keeps them by swapping in a new
    /// buffer. What it leaves in the buffer is dropped.
    private let handOn: (inout OutputBytes) -> Void
    /// Each value's JSON key, quoted, with its colon.
    private let keys: [[UInt8]]
    /// The next table cell's column, and the next value's index, in the row being written.
    private var column = 0
    private var value = 0
    /// How many rows have been written.
    private(set) var rows = 0
    /// Whether the rows continue a list written elsewhere: a JSON row begins with the
    /// separator even when it is this writer's first (`RowBlocks`).
    private let continuing: Bool
    /// A cell's bytes made before they are written (a number's digits, a list joined).
    private var scratch = OutputBytes(capacity: 256)
    /// Cells written before, by key (`cell(memo:key:_:)`).
    private var memo = CellMemo()
    /// A row's JSON values written before they are copied (`row(cells:values:)`).
    private var json = JSONWriter(capacity: 0)

    static let handOnAt = 1 << 20

    /// A pass of `form` over a list with `keys`, continuing `pending` (what was rendered
    /// before the rows and not yet handed on). A table's lines need its `widths`. With
    /// `continuing`, every JSON row begins with the separator (rows after others).
    init(
        _ form: Form, layout: TableLayout, widths: [Int] = [], keys: [String], pending: [UInt8] = [],
        continuing: Bool = false, handOn: @escaping (inout OutputBytes) -> Void
    ) {
        self.continuing = continuing
        precondition(form != .table || widths.count == layout.headers.count, "a table without its widths")
        self.form = form
        self.layout = layout
        self.widths = widths
        alignsRight = layout.alignsRight
        self.handOn = handOn
        self.keys = keys.map { key in
            var w = JSONWriter(capacity: key.utf8.count + 3)
            w.write(key)
            w.writeRaw(":")
            return w.bytes
        }
        out = OutputBytes(capacity: Self.handOnAt + 4096)
        pending.withUnsafeBufferPointer { out.appendBytes($0) }
    }

    /// Writes one row: `body` gives its cells in order (the table's columns, and the keys).
    /// - Throws: what `body` throws.
    @inline(__always)
    public mutating func row(_ body: (inout RowWriter) throws -> Void) rethrows {
        column = 0
        value = 0
        let rowStart = out.count
        if form == .json {
            if rows > 0 || continuing { append(",\n") }
            append("    {")
        }
        try body(&self)
        assert(column == layout.headers.count, "a row of \(column) table cells under \(layout.headers.count) headers")
        assert(value == keys.count, "a row of \(value) values for \(keys.count) keys")
        switch form {
        case .measure: break
        case .table: layout.endLine(from: rowStart, into: &out)
        case .csv: append("\r\n")
        case .json: out.appendByte(UInt8(ascii: "}"))
        }
        rows += 1
        if out.count >= Self.handOnAt { handOnWritten() }
    }

    /// Writes one row made as strings and values (`cells` for a table, `values` for CSV and
    /// JSON; the other may be empty): a list without a writer of its own, one row at a time
    /// or in blocks (`StreamedList.produce(over:_:)`). The table's line as `TableLayout.line`
    /// lays it out, CSV fields as `TextTable.csvCell` and `Renderer.appendCSVField` make
    /// them, a compact JSON object as `JSONWriter` writes it.
    public mutating func row(cells: [String], values: [JSONValue]) {
        let rowStart = out.count
        switch form {
        case .measure:
            layout.measure(cells)
        case .table:
            for column in cells.indices { layout.append(cells[column], column: column, widths: widths, into: &out) }
            layout.endLine(from: rowStart, into: &out)
        case .csv:
            for (i, value) in values.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                Renderer.appendCSVField(TextTable.csvCell(value), to: &out)
            }
            append("\r\n")
        case .json:
            if rows > 0 || continuing { append(",\n") }
            append("    {")
            json.bytes.removeAll(keepingCapacity: true)
            for (i, value) in values.enumerated() {
                if i > 0 { json.writeRaw(",") }
                json.writeRaw(keys[i])
                json.write(value)
            }
            json.bytes.withUnsafeBufferPointer { out.appendBytes($0) }
            out.appendByte(UInt8(ascii: "}"))
        }
        rows += 1
        if out.count >= Self.handOnAt { handOnWritten() }
    }

    /// Which part of a row of strings and values the form writes.
    var part: StreamedList.Part { form == .measure || form == .table ? .cells : .values }

    /// Hands on what is written.
    mutating func handOnWritten() {
        guard out.count > 0 else { return }
        // The bytes themselves, not a string made of them: six million rows spent a tenth
        // of their time checking and copying text that was known to be UTF-8.
        handOn(&out)
        out.removeAll()
    }

    /// The bytes not yet handed on.
    var pending: [UInt8] { out.withBytes { Array($0) } }

    /// Writes the cell that `write` writes, or copies it: `write` writes one cell (or a flag)
    /// that depends on nothing but `slot` and `key` (below 2^56), and a cell of the same slot and key
    /// written before at the same place in a row by this writer is copied instead (a table
    /// is measured once per key). For a value many rows share: a day, a tandem's id.
    /// - Complexity: O(1) for a cell kept; else `write`'s, and a copy of its bytes.
    @inline(__always)
    public mutating func cell(memo slot: UInt8, key: UInt64, _ write: (inout RowWriter) -> Void) {
        precondition(key >> 56 == 0, "a memo key of more than 56 bits")
        let key = UInt64(slot) << 56 | key
        if let kept = memo.find(key) {
            assert(kept.column == column && kept.value == value, "a kept cell written elsewhere in the row")
            out.appendBytes(memo.bytes(of: kept))
            column += kept.columns
            value += kept.values
            return
        }
        let (startColumn, startValue, start) = (column, value, out.count)
        write(&self)
        memo.keep(
            key, UnsafeBufferPointer(rebasing: out.bytes[start...]), column: startColumn, value: startValue,
            columns: column - startColumn, values: value - startValue)
    }

    /// A text cell: the table shows it as it is (`blank` if empty), CSV and JSON as a string.
    public mutating func text(_ text: String) {
        switch form {
        case .measure:
            layout.measure(text, column: column)
        case .table:
            var cell = text
            let plain =
                !text.isEmpty
                && cell.withUTF8 { bytes in
                    guard TableLayout.isPlain(bytes) else { return false }
                    TableLayout.append(
                        plain: bytes, width: widths[column], alignsRight: alignsRight[column], gap: column > 0,
                        into: &out)
                    return true
                }
            if !plain { layout.append(text, column: column, widths: widths, into: &out) }
        case .csv:
            separateField()
            Renderer.appendCSVField(text, to: &out)
        case .json:
            key()
            jsonString(text)
        }
        column += 1
        value += 1
    }

    /// A day, as `YYYY-MM-DD`: what `text(date.description)` writes, without the string.
    public mutating func date(_ date: BusinessDate) {
        var digits: (UInt64, UInt64) = (0, 0)
        let written = withUnsafeMutableBytes(of: &digits) { raw -> Bool in
            let at = raw.bindMemory(to: UInt8.self).baseAddress!
            guard CivilCalendar.writeDate(date.dayNumber, into: at) else { return false }
            scratch.removeAll()
            scratch.appendBytes(UnsafeBufferPointer(start: at, count: 10))
            return true
        }
        guard written else { return text(date.description) }
        switch form {
        case .json:
            key()
            out.appendByte(UInt8(ascii: "\""))
            out.appendBytes(scratch.bytes)
            out.appendByte(UInt8(ascii: "\""))
        case .measure, .table, .csv:
            plainCell(orElse: date.description)
        }
        column += 1
        value += 1
    }

    /// A whole number: right-aligned where the column is numeric; a JSON number.
    public mutating func int(_ number: Int) {
        scratch.removeAll()
        scratch.appendDecimal(number)
        switch form {
        case .json:
            key()
            out.appendBytes(scratch.bytes)
        case .measure, .table, .csv:
            plainCell(orElse: String(number))
        }
        column += 1
        value += 1
    }

    /// A list of texts: in the table joined by `tableSeparator`, in CSV by ";" (as every
    /// list value is), in JSON an array of strings.
    public mutating func texts(_ texts: [String], tableSeparator: UInt8) {
        if form == .json {
            key()
            out.appendByte(UInt8(ascii: "["))
            for (i, item) in texts.enumerated() {
                if i > 0 { out.appendByte(UInt8(ascii: ",")) }
                jsonString(item)
            }
            out.appendByte(UInt8(ascii: "]"))
        } else {
            let separator = form == .csv ? UInt8(ascii: ";") : tableSeparator
            scratch.removeAll()
            for (i, item) in texts.enumerated() {
                if i > 0 { scratch.appendByte(separator) }
                scratch.appendText(item)
            }
            plainCell(orElse: texts.joined(separator: String(decoding: [separator], as: UTF8.self)))
        }
        column += 1
        value += 1
    }

    /// A yes or no that is a value only (a JSON boolean, a CSV `true` or `false`), in no
    /// table column.
    public mutating func flag(_ flag: Bool) {
        switch form {
        case .measure, .table:
            value += 1
            return
        case .csv: separateField()
        case .json: key()
        }
        append(flag ? "true" : "false")
        value += 1
    }

    /// Writes the cell in `scratch` (for a table, or CSV): as bytes where they are printable
    /// ASCII that needs nothing done, else as `text` (the same cell as a string) is written.
    private mutating func plainCell(orElse text: @autoclosure () -> String) {
        // The scratch buffer's bytes, while `self`'s other parts are written.
        let bytes = scratch.bytes
        let plain: Bool
        switch form {
        case .measure:
            plain = !bytes.isEmpty && TableLayout.isPlain(bytes)
            if plain { layout.measure(plain: bytes, column: column) }
        case .table:
            plain = !bytes.isEmpty && TableLayout.isPlain(bytes)
            if plain {
                TableLayout.append(
                    plain: bytes, width: widths[column], alignsRight: alignsRight[column], gap: column > 0,
                    into: &out)
            }
        case .csv:
            separateField()
            plain = Renderer.appendPlainCSVField(bytes, to: &out)
        case .json:
            preconditionFailure("JSON values are written as they are")
        }
        guard !plain else { return }
        switch form {
        case .measure: layout.measure(text(), column: column)
        case .table: layout.append(text(), column: column, widths: widths, into: &out)
        case .csv: Renderer.appendCSVField(text(), to: &out)
        case .json: break
        }
    }

    /// A JSON string, as `JSONWriter` writes it: its bytes as they are where nothing needs
    /// escaping (ids, dates, codes).
    private mutating func jsonString(_ text: String) {
        var text = text
        let plain = text.withUTF8 { bytes -> Bool in
            guard JSONWriter.needsNoEscaping(bytes) else { return false }
            out.appendByte(UInt8(ascii: "\""))
            out.appendBytes(bytes)
            out.appendByte(UInt8(ascii: "\""))
            return true
        }
        guard !plain else { return }
        var escaped = JSONWriter(capacity: 0)
        escaped.write(text)
        escaped.bytes.withUnsafeBufferPointer { out.appendBytes($0) }
    }

    @inline(__always)
    private mutating func append(_ raw: StaticString) {
        out.appendBytes(UnsafeBufferPointer(start: raw.utf8Start, count: raw.utf8CodeUnitCount))
    }

    private mutating func separateField() {
        if value > 0 { out.appendByte(UInt8(ascii: ",")) }
    }

    private mutating func key() {
        if value > 0 { out.appendByte(UInt8(ascii: ",")) }
        keys[value].withUnsafeBufferPointer { out.appendBytes($0) }
    }
}
