/// The columns of a table: measured row by row (a streamed list is measured in a pass of
/// its own), then fitted to the width, then each line laid out.
///
/// Lines are laid out as bytes: a cell of printable ASCII (ids, dates, numbers, codes,
/// most text) is copied as it is, and only other text goes through `String`'s characters
/// and control-character escaping. Six million session rows took half a minute as strings.
struct TableLayout {
    let headers: [String]
    let numeric: Set<Int>
    /// `numeric` by column (a set lookup per cell showed in profiles).
    let alignsRight: [Bool]
    let blank: String
    /// The widest cell of each column so far, headers included, as shown (control
    /// characters escaped), in characters.
    private(set) var widths: [Int]
    /// The columns where some cell has a space: free text, which may give way.
    private var spaced: [Bool]

    static let gap = 2

    init(headers: [String], numeric: Set<Int>, blank: String) {
        self.headers = headers
        self.numeric = numeric
        self.alignsRight = headers.indices.map(numeric.contains)
        self.blank = blank
        widths = headers.map(\.escapingControlCharacters.count)
        spaced = headers.map { _ in false }
    }

    /// Whether every byte is printable ASCII: the text is shown as it is, one column per byte.
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte < 0x20 || byte > 0x7E { return false }
        return true
    }

    mutating func measure(_ row: [String]) {
        for column in row.indices { measure(row[column], column: column) }
    }

    /// Measures one cell of `column` (an empty one shows `blank`).
    mutating func measure(_ text: String, column: Int) {
        var cell = text.isEmpty ? blank : text
        let measured = cell.withUTF8 { bytes -> Bool in
            guard Self.isPlain(bytes) else { return false }
            measure(plain: bytes, isBlank: text.isEmpty, column: column)
            return true
        }
        guard !measured else { return }
        let width = cell.escapingControlCharacters.count
        if width > widths[column] { widths[column] = width }
        if !spaced[column], !text.isEmpty, cell.contains(" ") { spaced[column] = true }
    }

    /// Measures one cell of printable ASCII (`isPlain`): one column a byte. `isBlank`: the
    /// cell is the `blank` stand-in, whose spaces are not text.
    @inline(__always)
    mutating func measure(plain bytes: UnsafeBufferPointer<UInt8>, isBlank: Bool = false, column: Int) {
        if bytes.count > widths[column] { widths[column] = bytes.count }
        if !spaced[column], !isBlank, bytes.contains(0x20) { spaced[column] = true }
    }

    /// Takes in what `other` measured (the same columns, measured over other rows): as if
    /// its cells had been measured here.
    mutating func merge(_ other: TableLayout) {
        precondition(other.widths.count == widths.count, "layouts of different columns")
        for column in widths.indices {
            widths[column] = max(widths[column], other.widths[column])
            spaced[column] = spaced[column] || other.spaced[column]
        }
    }

    /// The widths to lay out with in `width` columns: the widest text columns give way
    /// (never below 8 or their header); numbers, dates, ids and codes (no spaces) never do.
    func widths(fitting width: Int) -> [Int] {
        var widths = self.widths
        while widths.reduce(0, +) + Self.gap * (widths.count - 1) > width {
            let candidates = widths.indices.filter {
                !numeric.contains($0) && spaced[$0] && widths[$0] > max(8, headers[$0].count)
            }
            guard let widest = candidates.max(by: { widths[$0] < widths[$1] }) else { break }
            widths[widest] -= 1
        }
        return widths
    }

    /// The header line and the dashes under it.
    func headerLines(_ widths: [Int]) -> String {
        var out: [UInt8] = []
        line(headers, widths: widths, isHeader: true, into: &out)
        for (i, width) in widths.enumerated() {
            if i > 0 { out.append(contentsOf: repeatElement(0x20, count: Self.gap)) }
            out.append(contentsOf: repeatElement(UInt8(ascii: "-"), count: width))
        }
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }

    /// One row as a line.
    func line(_ row: [String], widths: [Int]) -> String {
        var out: [UInt8] = []
        line(row, widths: widths, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one row, padded (numbers to the right) and cut with an ellipsis where it does
    /// not fit, without trailing spaces.
    func line(_ row: [String], widths: [Int], isHeader: Bool = false, into out: inout [UInt8]) {
        let start = out.count
        for column in row.indices {
            append(row[column], column: column, widths: widths, isHeader: isHeader, into: &out)
        }
        endLine(from: start, into: &out)
    }

    /// Appends one cell of `column` (after the gap, if it is not the first): padded, or cut
    /// with an ellipsis where it does not fit. An empty one shows `blank`, but in a header.
    func append<Out: RenderedBytes>(
        _ text: String, column: Int, widths: [Int], isHeader: Bool = false, into out: inout Out
    ) {
        var cell = isHeader || !text.isEmpty ? text : blank
        let plain = cell.withUTF8 { bytes -> Bool in
            guard Self.isPlain(bytes) else { return false }
            append(plain: bytes, column: column, widths: widths, into: &out)
            return true
        }
        guard !plain else { return }
        if column > 0 { out.appendSpaces(Self.gap) }
        let width = widths[column]
        var shown = cell.escapingControlCharacters
        if shown.count > width { shown = String(shown.prefix(width - 1)) + "…" }
        let pad = String(repeating: " ", count: width - shown.count)
        out.appendText(alignsRight[column] ? pad + shown : shown + pad)
    }

    /// Appends one cell of printable ASCII (`isPlain`) as `append(_:column:widths:into:)` does.
    @inline(__always)
    func append<Out: RenderedBytes>(
        plain bytes: UnsafeBufferPointer<UInt8>, column: Int, widths: [Int], into out: inout Out
    ) {
        Self.append(plain: bytes, width: widths[column], alignsRight: alignsRight[column], gap: column > 0, into: &out)
    }

    /// Appends a cell of printable ASCII in a column `width` wide, after the gap if `gap`:
    /// padded (on the left if `alignsRight`), or cut with an ellipsis where it does not fit.
    /// Static, on plain values: a row writer calls it for every cell.
    @inline(__always)
    static func append<Out: RenderedBytes>(
        plain bytes: UnsafeBufferPointer<UInt8>, width: Int, alignsRight: Bool, gap: Bool, into out: inout Out
    ) {
        let cut = bytes.count > width
        let shown = cut ? width - 1 : bytes.count
        let pad = width - shown - (cut ? 1 : 0)
        let before = (gap ? Self.gap : 0) + (alignsRight ? pad : 0)
        out.appendSpaces(before)
        out.appendBytes(UnsafeBufferPointer(rebasing: bytes[..<shown]))
        if cut { out.appendText("…") }
        if !alignsRight { out.appendSpaces(pad) }
    }

    /// Ends the line begun at `start`: no trailing spaces, then a newline.
    @inline(__always)
    func endLine<Out: RenderedBytes>(from start: Int, into out: inout Out) {
        while out.count > start, out.last == 0x20 { out.dropLastByte() }
        out.appendByte(0x0A)
    }
}
