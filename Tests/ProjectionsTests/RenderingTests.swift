import EventLog
import Mentoring
import Projections
import Testing

@Suite("Rendering: streamed rows read as the values they stand for")
struct RenderingTests {
    static func result(rows count: Int) -> QueryResult {
        let basis = Basis(
            head: LogHead(seq: 7, hash: .zero), asOf: BusinessDate("2027-06-01")!, asOfGiven: false, knownAt: nil,
            role: .coordinator)
        var result = QueryResult(
            basis: basis, payloadKey: "pairs", payload: .array([.object(["mentor": .string("m1")])]),
            table: TextTable(headers: ["mentor"], rows: [["m1"]]))
        result.extra = [("total", .double(0.5))]
        result.appendRows(
            "candidates",
            JSONRows(count: count) { i, w in
                w.writeRaw(#"{"mentor":"#)
                w.write("m\(i) \"quoted\" ü")
                w.writeRaw(#","score":"#)
                w.write((Double(i) + 0.5) / 8)
                w.writeRaw("}")
            })
        result.extra.append(("rules", .object(["allowSameUnit": .bool(false)])))
        return result
    }

    @Test("the rendered JSON parses to `json`, keys in order, one row per line", arguments: [0, 1, 3, 1000])
    func streamedRowsAgree(count: Int) throws {
        let result = Self.result(rows: count)
        let text = Renderer.render(result, as: .json)
        let parsed = try JSONScanner.parse(text)
        #expect(parsed == result.json)
        #expect(parsed.objectValue?.members.map(\.0) == ["basis", "pairs", "total", "candidates", "rules"])
        let candidates = try #require(parsed.objectValue?["candidates"]?.arrayValue)
        #expect(candidates.count == count)
        if count > 0 {
            #expect(
                candidates[count - 1]
                    == .object([
                        "mentor": .string("m\(count - 1) \"quoted\" ü"),
                        "score": .double((Double(count - 1) + 0.5) / 8),
                    ]))
            let lines = text.split(separator: "\n")
            #expect(lines.filter { $0.hasPrefix(#"    {"mentor":"m"#) && $0.contains(#""score":"#) }.count == count)
        } else {
            #expect(text.contains(#""candidates": []"#))
        }
    }
}

/// The table layout, laid out as bytes, against the plain `String` layout it replaced, and
/// streamed lists against the same rows held whole: on seeded random tables with plain
/// ASCII, spaces, empty cells, umlauts, combining marks, emoji and control characters.
@Suite("Rendering: tables laid out as bytes, and streamed lists, read as the plain path")
struct StreamedRenderingTests {
    static let pool = [
        "t-1-0", "2027-06-01", "42", "online", "in-person", "linkedin,generative-ai", "Peter Werner", "", "-",
        "Müller-Lüdenscheidt", "e\u{301}te\u{301}", "\u{1b}[31mred", "tab\there", "line\nbreak", "👩‍💻 coder",
        "a much longer piece of free text that will have to give way", "=SUM(A1)", "+49 30 1234", "-3", "-x",
        "say \"hi\"", "a,b", "trailing ", " leading", "\u{85}next", "x",
    ]

    /// The layout as it was written with strings (the reference).
    static func reference(_ table: TextTable, width: Int) -> String {
        guard !table.headers.isEmpty else { return "" }
        if table.rows.isEmpty { return "(none)\n" }
        let all = ([table.headers] + table.rows.map { $0.map { $0.isEmpty ? table.blank : $0 } }).map {
            $0.map(\.escapingControlCharacters)
        }
        var widths = table.headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let firm = Set(
            table.headers.indices.filter { column in
                table.numeric.contains(column) || table.rows.allSatisfy { !$0[column].contains(" ") }
            })
        while widths.reduce(0, +) + 2 * (widths.count - 1) > width {
            let candidates = widths.indices.filter {
                !firm.contains($0) && widths[$0] > max(8, table.headers[$0].count)
            }
            guard let widest = candidates.max(by: { widths[$0] < widths[$1] }) else { break }
            widths[widest] -= 1
        }
        var out = ""
        for (index, row) in all.enumerated() {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                var text = cell
                if text.count > widths[column] { text = String(text.prefix(widths[column] - 1)) + "…" }
                let pad = String(repeating: " ", count: widths[column] - text.count)
                cells.append(table.numeric.contains(column) ? pad + text : text + pad)
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            out += line + "\n"
            if index == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }

    static func randomTable(_ g: inout SeededGenerator) -> TextTable {
        let columns = Int.random(in: 1...6, using: &g)
        let headers = (0..<columns).map { ["tandem", "on", "min", "mode", "topics", "name", "ä"][($0 + 7) % 7] }
        let rows = (0..<Int.random(in: 0...12, using: &g)).map { _ in
            (0..<columns).map { _ in pool[Int.random(in: 0..<pool.count, using: &g)] }
        }
        let numeric = Set((0..<columns).filter { _ in Int.random(in: 0..<3, using: &g) == 0 })
        return TextTable(headers: headers, rows: rows, numeric: numeric, blank: Bool.random(using: &g) ? "-" : "")
    }

    @Test("the byte layout equals the string layout", arguments: 0..<20)
    func layoutEqualsReference(seed: Int) {
        var g = SeededGenerator(seed: UInt64(seed) &+ 4400)
        for _ in 0..<50 {
            let table = Self.randomTable(&g)
            for width in [10, 24, 40, 80, 200] {
                #expect(Renderer.table(table, width: width) == Self.reference(table, width: width), "seed \(seed)")
            }
        }
    }

    /// The same rows, as a result held whole and as a streamed one.
    static func results(_ table: TextTable, extra: Bool) -> (whole: QueryResult, streamed: QueryResult) {
        let basis = Basis(
            head: LogHead(seq: 9, hash: .zero), asOf: BusinessDate("2027-06-01")!, asOfGiven: false, knownAt: nil,
            role: .coordinator)
        let keys = table.headers.enumerated().map { "k\($0.offset)" }
        @Sendable func values(_ row: [String]) -> [JSONValue] {
            row.enumerated().map { column, cell in
                table.numeric.contains(column) ? .int(Int64(cell.utf8.count)) : .array([.string(cell), .bool(true)])
            }
        }
        var whole = QueryResult(
            basis: basis, payloadKey: "items",
            payload: .array(table.rows.map { .object(JSONObject(zip(keys, values($0)).map { ($0, $1) })) }),
            table: table)
        whole.csvColumns = keys
        var streamed = QueryResult(
            basis: basis, payloadKey: "items", payload: .array([]),
            table: TextTable(headers: table.headers, rows: [], numeric: table.numeric))
        let rows = table.rows
        var list = StreamedList(headers: table.headers, numeric: table.numeric, keys: keys, count: rows.count) {
            part, body in
            for row in rows { try body(part == .cells ? row : [], part == .values ? values(row) : []) }
        }
        list.blank = table.blank
        streamed.stream = list
        whole.notes = ["a note \u{1b}"]
        streamed.notes = whole.notes
        if extra {
            whole.extra = [("total", .int(3)), ("rules", .object(["a": .array([.int(1)])]))]
            streamed.extra = whole.extra
        }
        return (whole, streamed)
    }

    @Test("a streamed list renders as the same rows held whole, in every format", arguments: 0..<12)
    func streamedEqualsWhole(seed: Int) throws {
        var g = SeededGenerator(seed: UInt64(seed) &+ 4500)
        for round in 0..<20 {
            let table = Self.randomTable(&g)
            let (whole, streamed) = Self.results(table, extra: round % 2 == 0)
            for format in Renderer.Format.allCases {
                for width in [24, 80] {
                    var pieces: [String] = []
                    try Renderer.write(streamed, as: format, width: width) { pieces.append($0) }
                    #expect(
                        pieces.joined() == Renderer.render(whole, as: format, width: width),
                        "seed \(seed), round \(round), \(format), width \(width)")
                }
            }
        }
    }

    @Test("a streamed list is handed out in pieces, a megabyte or so each")
    func streamedInPieces() throws {
        let row = ["t-100-2", "2027-06-01", "60", "online", "linkedin,generative-ai,data-visualisation"]
        let table = TextTable(
            headers: ["tandem", "on", "min", "mode", "topics"], rows: Array(repeating: row, count: 60_000))
        let (whole, streamed) = Self.results(table, extra: false)
        for format in Renderer.Format.allCases {
            var pieces: [String] = []
            try Renderer.write(streamed, as: format) { pieces.append($0) }
            #expect(pieces.count >= 3, "\(format)")
            #expect(pieces.dropLast().allSatisfy { $0.utf8.count >= 1 << 20 && $0.utf8.count < (1 << 20) + 4096 })
            #expect(pieces.joined() == Renderer.render(whole, as: format))
        }
    }

    @Test("dates are written as YYYY-MM-DD across the calendar")
    func datesFormat() {
        var g = SeededGenerator(seed: 4600)
        var days = [0, -1, 1, 59, 60, 365, 10_957, 2_932_896, -719_528, -719_529]
        for _ in 0..<2000 { days.append(Int.random(in: -719_528...2_932_896, using: &g)) }
        for day in days {
            let text = CivilCalendar.formatDate(day)
            let (y, m, d) = CivilCalendar.date(dayNumber: day)
            let expected =
                y >= 0 && y <= 9999
                ? String(repeating: "0", count: 4 - String(y).count) + String(y) + "-" + (m < 10 ? "0" : "") + String(m)
                    + "-" + (d < 10 ? "0" : "") + String(d)
                : text
            #expect(text == expected, "day \(day)")
            if y >= 1000 && y <= 9999 { #expect(BusinessDate(text)?.dayNumber == day, "day \(day)") }
        }
    }
}
