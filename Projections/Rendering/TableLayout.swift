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
    private let alignsRight: [Bool]
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
        for column in row.indices {
            var cell = row[column].isEmpty ? blank : row[column]
            let (width, hasSpace) =
                cell.withUTF8 { bytes -> (Int, Bool)? in
                    guard Self.isPlain(bytes) else { return nil }
                    return (bytes.count, bytes.contains(0x20))
                } ?? (cell.escapingControlCharacters.count, cell.contains(" "))
            if width > widths[column] { widths[column] = width }
            // Spaces in the cell as given (a blank stand-in is not text).
            if !spaced[column], !row[column].isEmpty, hasSpace { spaced[column] = true }
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
            if column > 0 { out.append(contentsOf: repeatElement(0x20, count: Self.gap)) }
            let width = widths[column]
            var cell = isHeader || !row[column].isEmpty ? row[column] : blank
            let plain = cell.withUTF8 { bytes -> Bool in
                guard Self.isPlain(bytes) else { return false }
                let cut = bytes.count > width
                let shown = cut ? width - 1 : bytes.count
                let pad = width - shown - (cut ? 1 : 0)
                if alignsRight[column] { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<shown]))
                if cut { out.append(contentsOf: [0xE2, 0x80, 0xA6]) }  // …
                if !alignsRight[column] { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                return true
            }
            guard !plain else { continue }
            var text = cell.escapingControlCharacters
            if text.count > width { text = String(text.prefix(width - 1)) + "…" }
            let pad = String(repeating: " ", count: width - text.count)
            out.append(contentsOf: (alignsRight[column] ? pad + text : text + pad).utf8)
        }
        while out.count > start, out[out.count - 1] == 0x20 { out.removeLast() }
        out.append(0x0A)
    }
}
