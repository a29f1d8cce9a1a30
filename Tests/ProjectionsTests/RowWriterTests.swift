import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// A list written cell by cell (`StreamedList.write`) prints the bytes its rows of strings
/// and values print, in every form: the row writer is a faster way to the same output, never
/// another output.
@Suite("Row writer: cells written straight into each form print as rows of strings and values")
struct RowWriterTests {
    /// One typed cell of a row.
    enum Cell: Sendable {
        case text(String)
        case date(BusinessDate)
        case int(Int)
        case texts([String], separator: UInt8)
        case flag(Bool)
    }

    static let texts =
        StreamedRenderingTests.pool + ["", "ü", "; semi", "x;y", "@mention", "\r\nx", "\\back", "ω" + "wide"]
    static let days = [0, -1, 59, 10_957, 2_932_896, -719_528, -719_529, 3_000_000, 20_600]

    static func randomCell(_ kind: Int, _ g: inout SeededGenerator) -> Cell {
        switch kind {
        case 0: return .text(texts[Int.random(in: 0..<texts.count, using: &g)])
        case 1: return .date(BusinessDate(dayNumber: days[Int.random(in: 0..<days.count, using: &g)]))
        case 2:
            let magnitudes = [0, 7, 60, 12_345, Int(Int32.max), Int.max, Int.min]
            let number = magnitudes[Int.random(in: 0..<magnitudes.count, using: &g)]
            return .int(Bool.random(using: &g) && number != Int.min ? -number : number)
        case 3:
            let count = Int.random(in: 0...4, using: &g)
            return .texts(
                (0..<count).map { _ in texts[Int.random(in: 0..<texts.count, using: &g)] },
                separator: Bool.random(using: &g) ? UInt8(ascii: ",") : UInt8(ascii: " "))
        default: return .flag(Bool.random(using: &g))
        }
    }

    /// The cell as a table cell (none for a flag) and as a value: what a list of strings and
    /// values gives for it (the reference).
    static func reference(_ cell: Cell) -> (cell: String?, value: JSONValue) {
        switch cell {
        case .text(let text): return (text, .string(text))
        case .date(let date): return (date.description, .string(date.description))
        case .int(let number): return (String(number), .int(Int64(number)))
        case .texts(let texts, let separator):
            return (texts.joined(separator: String(UnicodeScalar(separator))), .array(texts.map(JSONValue.string)))
        case .flag(let flag): return (nil, .bool(flag))
        }
    }

    static func write(_ cell: Cell, _ row: inout RowWriter) {
        switch cell {
        case .text(let text): row.text(text)
        case .date(let date): row.date(date)
        case .int(let number): row.int(number)
        case .texts(let texts, let separator): row.texts(texts, tableSeparator: separator)
        case .flag(let flag): row.flag(flag)
        }
    }

    /// The same rows as a list of strings and values, and as one written cell by cell.
    static func lists(
        _ rows: [[Cell]], kinds: [Int], numeric: Set<Int>, blank: String
    ) -> (
        plain: QueryResult, written: QueryResult
    ) {
        let basis = Basis(
            head: LogHead(seq: 3, hash: .zero), asOf: BusinessDate("2027-06-01")!, asOfGiven: false, knownAt: nil,
            role: .coordinator)
        let headers = kinds.enumerated().filter { $0.element != 4 }.map { "c\($0.offset)" }
        let keys = kinds.indices.map { "k\($0)" }
        func result(written: Bool) -> QueryResult {
            var result = QueryResult(
                basis: basis, payloadKey: "rows", payload: .array([]),
                table: TextTable(headers: headers, rows: [], numeric: numeric))
            var list = StreamedList(headers: headers, numeric: numeric, keys: keys, count: rows.count) { _, body in
                for row in rows {
                    let made = row.map(reference)
                    try body(made.compactMap(\.cell), made.map(\.value))
                }
            }
            list.blank = blank
            if written {
                list.write = { writer in
                    for row in rows { writer.row { for cell in row { write(cell, &$0) } } }
                }
            }
            result.stream = list
            result.csvColumns = keys
            result.notes = ["a note"]
            return result
        }
        return (result(written: false), result(written: true))
    }

    /// `result` with its rows written in blocks (cut before the rows at `cuts`, so some may
    /// be empty), on several threads.
    static func inBlocks(_ result: QueryResult, _ rows: [[Cell]], cuts: [Int]) -> QueryResult {
        var result = result
        let bounds = [0] + cuts.sorted() + [rows.count]
        result.stream?.blocks = RowBlocks(count: bounds.count - 1) { block, writer in
            for row in rows[bounds[block]..<bounds[block + 1]] { writer.row { for cell in row { write(cell, &$0) } } }
        }
        return result
    }

    /// `result` (a list of strings and values) with its rows made in blocks (cut as
    /// `inBlocks` cuts them), each block's only in the part asked for.
    static func produced(_ result: QueryResult, _ rows: [[Cell]], cuts: [Int]) -> QueryResult {
        var result = result
        let bounds = [0] + cuts.sorted() + [rows.count]
        result.stream?.produce(over: bounds.count - 1, atMost: 1) { range, part, body in
            #expect(range.count == 1, "a block of one position")
            for row in rows[bounds[range.lowerBound]..<bounds[range.upperBound]] {
                let made = row.map(reference)
                try body(part == .cells ? made.compactMap(\.cell) : [], part == .values ? made.map(\.value) : [])
            }
        }
        return result
    }

    /// `result` with each cell written through the row writer's memo: a cell's key is its
    /// value's place in `pools[column]`.
    static func kept(_ result: QueryResult, _ rows: [[Int]], pools: [[Cell]]) -> QueryResult {
        var result = result
        result.stream?.write = { writer in
            for row in rows {
                writer.row { w in
                    for (column, index) in row.enumerated() {
                        w.cell(memo: UInt8(column), key: UInt64(index)) { write(pools[column][index], &$0) }
                    }
                }
            }
        }
        return result
    }

    static func printed(_ result: QueryResult, _ format: Renderer.Format, width: Int) throws -> (String, [Int]) {
        var pieces: [String] = []
        try Renderer.write(result, as: format, width: width) { pieces.append($0) }
        return (pieces.joined(), pieces.map(\.utf8.count))
    }

    @Test("random rows of every kind of cell print the same in every form and width", arguments: 0..<8)
    func writtenEqualsPlain(seed: Int) throws {
        var g = SeededGenerator(seed: UInt64(seed) &+ 7100)
        for round in 0..<25 {
            // At least one table column: a flag is a value only.
            var kinds = (0..<Int.random(in: 1...6, using: &g)).map { _ in Int.random(in: 0...4, using: &g) }
            if kinds.allSatisfy({ $0 == 4 }) { kinds[0] = 0 }
            let columns = kinds.filter { $0 != 4 }.count
            let numeric = Set((0..<columns).filter { _ in Int.random(in: 0..<3, using: &g) == 0 })
            let rows = (0..<Int.random(in: 0...14, using: &g)).map { _ in kinds.map { Self.randomCell($0, &g) } }
            let (plain, written) = Self.lists(
                rows, kinds: kinds, numeric: numeric, blank: Bool.random(using: &g) ? "-" : "")
            for format in Renderer.Format.allCases {
                for width in [6, 24, 80, 300] {
                    let expected = try Self.printed(plain, format, width: width).0
                    #expect(
                        try Self.printed(written, format, width: width).0 == expected,
                        "seed \(seed), round \(round), \(format), width \(width), kinds \(kinds)")
                }
            }
        }
    }

    @Test(
        "rows written, or made as strings and values, in blocks on several threads print as on one, in every form",
        arguments: 0..<6)
    func blocksEqualOneWriter(seed: Int) throws {
        var g = SeededGenerator(seed: UInt64(seed) &+ 7600)
        for round in 0..<20 {
            var kinds = (0..<Int.random(in: 1...6, using: &g)).map { _ in Int.random(in: 0...4, using: &g) }
            if kinds.allSatisfy({ $0 == 4 }) { kinds[0] = 0 }
            let rows = (0..<Int.random(in: 0...40, using: &g)).map { _ in kinds.map { Self.randomCell($0, &g) } }
            // Cuts anywhere, repeated ones making empty blocks (the first and last among them).
            let cuts = (0..<Int.random(in: 0...12, using: &g)).map { _ in Int.random(in: 0...rows.count, using: &g) }
            let (plain, written) = Self.lists(rows, kinds: kinds, numeric: [0], blank: "")
            let blocks = Self.inBlocks(written, rows, cuts: cuts)
            let produced = Self.produced(plain, rows, cuts: cuts)
            for format in Renderer.Format.allCases {
                for width in [6, 80] {
                    let expected = try Self.printed(plain, format, width: width).0
                    #expect(
                        try Self.printed(blocks, format, width: width).0 == expected,
                        "seed \(seed), round \(round), \(format), width \(width), \(rows.count) rows cut at \(cuts)")
                    #expect(
                        try Self.printed(produced, format, width: width).0 == expected,
                        "made in blocks: seed \(seed), round \(round), \(format), width \(width), cut at \(cuts)")
                }
            }
        }
    }

    @Test("blocks are handed on in order whatever the threads and how far ahead they may write")
    func blocksInOrder() throws {
        let layout = TableLayout(headers: ["n"], numeric: [0], blank: "")
        // Block b holds b % 4 rows (none for every fourth), numbered in list order.
        let sizes = (0..<50).map { $0 % 4 }
        let firsts = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
        let blocks = RowBlocks(count: sizes.count) { block, writer in
            for n in firsts[block]..<firsts[block + 1] { writer.row { $0.int(n) } }
        }
        let total = firsts.last!
        for threads in [1, 2, 3, 8] {
            for ahead in [1, 2, 5, 100] {
                var csv = ""
                _ = try blocks.render(.csv, layout: layout, widths: [], keys: ["n"], threads: threads, ahead: ahead) {
                    csv += String(decoding: $0, as: UTF8.self)
                }
                #expect(csv == (0..<total).map { "\($0)\r\n" }.joined(), "\(threads) threads, \(ahead) ahead")
                var json = ""
                _ = try blocks.render(.json, layout: layout, widths: [], keys: ["n"], threads: threads, ahead: ahead) {
                    json += String(decoding: $0, as: UTF8.self)
                }
                #expect(json == (0..<total).map { "    {\"n\":\($0)}" }.joined(separator: ",\n"))
                let measured = try blocks.render(
                    .measure, layout: layout, widths: [], keys: ["n"], threads: threads, ahead: ahead
                ) { _ in Issue.record("a measure hands nothing on") }
                #expect(measured.widths == [String(total - 1).count])
            }
        }
    }

    /// A block that fails.
    struct BlockFailure: Error, Equatable {
        let block: Int
    }

    @Test("a failing block is thrown after the blocks before it, and nothing after it is handed on")
    func failingBlock() throws {
        let layout = TableLayout(headers: ["n"], numeric: [0], blank: "")
        for failing in [0, 1, 7, 19] {
            for threads in [1, 2, 4] {
                let blocks = RowBlocks(count: 20) { block, writer in
                    if block == failing || block == failing + 3 { throw BlockFailure(block: block) }
                    writer.row { $0.int(block) }
                }
                var handedOn: [String] = []
                #expect(throws: BlockFailure(block: failing)) {
                    _ = try blocks.render(.csv, layout: layout, widths: [], keys: ["n"], threads: threads, ahead: 3) {
                        handedOn.append(String(decoding: $0, as: UTF8.self))
                    }
                }
                #expect(handedOn == (0..<failing).map { "\($0)\r\n" }, "block \(failing), \(threads) threads")
            }
        }
    }

    @Test("cells kept by key print as cells written every time, in every form and width", arguments: 0..<6)
    func keptCellsEqualWritten(seed: Int) throws {
        var g = SeededGenerator(seed: UInt64(seed) &+ 7700)
        for round in 0..<20 {
            var kinds = (0..<Int.random(in: 1...6, using: &g)).map { _ in Int.random(in: 0...4, using: &g) }
            if kinds.allSatisfy({ $0 == 4 }) { kinds[0] = 0 }
            // A few values per column, each used by many rows.
            let pools = kinds.map { kind in
                (0..<Int.random(in: 1...5, using: &g)).map { _ in Self.randomCell(kind, &g) }
            }
            let picks = (0..<Int.random(in: 0...30, using: &g)).map { _ in
                pools.map { Int.random(in: 0..<$0.count, using: &g) }
            }
            let rows = picks.map { row in row.enumerated().map { pools[$0.offset][$0.element] } }
            let numeric = Set((0..<kinds.filter { $0 != 4 }.count).filter { _ in Bool.random(using: &g) })
            let (plain, written) = Self.lists(rows, kinds: kinds, numeric: numeric, blank: "-")
            let kept = Self.kept(written, picks, pools: pools)
            for format in Renderer.Format.allCases {
                for width in [6, 24, 300] {
                    #expect(
                        try Self.printed(kept, format, width: width).0
                            == (try Self.printed(plain, format, width: width)).0,
                        "seed \(seed), round \(round), \(format), width \(width), kinds \(kinds)")
                }
            }
        }
    }

    @Test("the cell memo finds what it keeps, and starts again when full")
    func cellMemo() {
        var g = SeededGenerator(seed: 7800)
        var memo = CellMemo(capacity: 8, byteCapacity: 64)
        var model: [UInt64: [UInt8]] = [:]
        var bytesKept = 0
        for _ in 0..<5000 {
            // Keys that share their home slot (multiples of a large power of two), some in
            // other top bytes (a writer's memo slots), and others.
            let key =
                Bool.random(using: &g)
                ? UInt64.random(in: 0..<12, using: &g) << 54 : UInt64.random(in: 0..<40, using: &g)
            if let cell = memo.find(key) {
                #expect(model[key] == Array(memo.bytes(of: cell)), "key \(key)")
                #expect(cell.column == Int(key % 7) && cell.values == 1)
                continue
            }
            let bytes = (0..<Int.random(in: 0...20, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            if model.count == 8 || bytesKept + bytes.count > 64 {
                model = [:]
                bytesKept = 0
            }
            bytes.withUnsafeBufferPointer {
                memo.keep(key, $0, column: Int(key % 7), value: 0, columns: 1, values: 1)
            }
            model[key] = bytes
            bytesKept += bytes.count
            // What the memo holds is exactly what the model holds.
            for probe in Set(model.keys).union((0..<40).map(UInt64.init)).union((0..<12).map { UInt64($0) << 54 }) {
                let found = memo.find(probe)
                #expect(found.map { Array(memo.bytes(of: $0)) } == model[probe], "probe \(probe)")
            }
        }
    }

    @Test("a written list is handed on a megabyte at a time, with the header and footer in place")
    func handedOnInPieces() throws {
        let row: [Cell] = [
            .text("t-100-2"), .date(BusinessDate("2027-06-01")!), .int(60), .text("online"),
            .texts(["linkedin", "generative-ai", "data-visualisation"], separator: UInt8(ascii: ",")), .flag(false),
        ]
        let (plain, written) = Self.lists(
            Array(repeating: row, count: 40_000), kinds: [0, 1, 2, 0, 3, 4], numeric: [2], blank: "")
        for format in Renderer.Format.allCases {
            let (text, pieces) = try Self.printed(written, format, width: 80)
            #expect(text == (try Self.printed(plain, format, width: 80)).0, "\(format)")
            #expect(pieces.count >= 3, "\(format)")
            #expect(pieces.dropLast().allSatisfy { $0 >= 1 << 20 && $0 < (1 << 20) + 8192 }, "\(format): \(pieces)")
        }
    }

    @Test("a short run of any length lands byte for byte after any count, however the buffer stands")
    func outputBytesShortRuns() {
        let source = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for before in 0..<20 {
            for length in 0...24 {
                var buffer = OutputBytes(capacity: 1)
                let prefix = [UInt8](repeating: 0xEE, count: before)
                prefix.withUnsafeBufferPointer { buffer.appendBytes($0) }
                source.withUnsafeBufferPointer {
                    buffer.appendBytes(UnsafeBufferPointer(rebasing: $0[3..<(3 + length)]))
                }
                buffer.appendByte(0xAA)
                #expect(
                    buffer.withBytes { Array($0) } == prefix + source[3..<(3 + length)] + [0xAA],
                    "\(before) bytes, then \(length)")
            }
        }
    }

    @Test("the byte buffer grows past its capacity and keeps what was written")
    func outputBytesGrow() throws {
        var g = SeededGenerator(seed: 7300)
        var buffer = OutputBytes(capacity: 1)
        var reference: [UInt8] = []
        for _ in 0..<3000 {
            switch Int.random(in: 0..<4, using: &g) {
            case 0:
                let byte = UInt8.random(in: 0...255, using: &g)
                buffer.appendByte(byte)
                reference.append(byte)
            case 1:
                let run = (0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
                run.withUnsafeBufferPointer { buffer.appendBytes($0) }
                reference += run
            case 2:
                let count = Int.random(in: 0...150, using: &g)
                buffer.appendSpaces(count)
                reference += Array(repeating: 0x20, count: count)
            default:
                if buffer.count > 0 {
                    buffer.dropLastByte()
                    reference.removeLast()
                }
            }
            #expect(buffer.count == reference.count)
            #expect(buffer.last == reference.last)
        }
        #expect(buffer.withBytes { Array($0) } == reference)
        // A copy is a value: writing either leaves the other as it was.
        try #require(!reference.isEmpty)
        var copy = buffer
        copy.appendByte(1)
        buffer.dropLastByte()
        buffer.appendSpaces(3)
        #expect(copy.withBytes { Array($0) } == reference + [1])
        #expect(buffer.withBytes { Array($0) } == Array(reference.dropLast()) + [0x20, 0x20, 0x20])
        buffer.removeAll()
        #expect(buffer.count == 0 && buffer.last == nil)
        #expect(copy.withBytes { Array($0) } == reference + [1])
    }

    @Test("numbers in decimal, and dates and instants written in place, equal their descriptions")
    func decimalsAndDates() {
        var g = SeededGenerator(seed: 7400)
        var numbers: [Int64] = [0, 1, -1, 9, 10, -10, Int64.max, Int64.min, 1_000_000]
        for _ in 0..<5000 {
            numbers.append(Int64.random(in: Int64.min...Int64.max, using: &g) >> Int.random(in: 0...63, using: &g))
        }
        for number in numbers {
            #expect(JSONWriter.decimal(number) { String(decoding: $0, as: UTF8.self) } == String(number))
        }
        var days = Self.days
        for _ in 0..<2000 { days.append(Int.random(in: -800_000...3_100_000, using: &g)) }
        for day in days {
            var out = [UInt8](repeating: 0, count: 10)
            let written = out.withUnsafeMutableBufferPointer { CivilCalendar.writeDate(day, into: $0.baseAddress!) }
            let (year, _, _) = CivilCalendar.date(dayNumber: day)
            #expect(written == (0...9999).contains(year), "day \(day)")
            if written { #expect(String(decoding: out, as: UTF8.self) == CivilCalendar.formatDate(day)) }
        }
        // Instants, written in place: the date, then the time of day padded to two digits.
        var instants: [Int64] = [0, -1, 59, 86_399, 86_400, -86_401, 253_402_300_799, 253_402_300_800, -62_167_219_201]
        for _ in 0..<3000 { instants.append(Int64.random(in: -62_167_219_200...253_402_300_799, using: &g)) }
        for seconds in instants {
            let instant = Timestamp(secondsSinceEpoch: seconds)
            let ofDay = Int(seconds - Int64(instant.dayNumber) * 86_400)
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let expected =
                CivilCalendar.formatDate(instant.dayNumber) + "T" + two(ofDay / 3600) + ":" + two(ofDay / 60 % 60) + ":"
                + two(ofDay % 60) + "Z"
            #expect(instant.rfc3339 == expected, "\(seconds)")
            let (year, _, _) = CivilCalendar.date(dayNumber: instant.dayNumber)
            if year >= 1000 && year <= 9999 { #expect(Timestamp(rfc3339: instant.rfc3339) == instant, "\(seconds)") }
        }
    }

    @Test("CSV fields read back as written with Python's csv module, line breaks and quotes by bytes")
    func csvReadsBackInPython() throws {
        guard ReferenceTools.python != nil else { return }
        var g = SeededGenerator(seed: 7500)
        let awkward =
            Self.texts + [
                "a\r\nb", "cr\ronly", "\r", "\"\u{301}quoted", "x\"\u{301}", ",\u{301}", "\r\n", "\n", "\"", "-1.5",
                "-1e3", "\t-tab",
                "=\"x\",\"y\"",
            ]
        var records: [[String]] = []
        for _ in 0..<300 {
            records.append(
                (0..<Int.random(in: 1...5, using: &g)).map { _ in awkward[Int.random(in: 0..<awkward.count, using: &g)]
                })
        }
        let csv = records.map(Renderer.csvRecord).joined()
        let script = """
            import csv, io, sys
            data = sys.stdin.buffer.read().decode("utf-8")
            for row in csv.reader(io.StringIO(data, newline="")):
                print(" ".join(field.encode("utf-8").hex() for field in row))
            """
        let outcome = try ReferenceTools.runPython(script, stdin: csv)
        let rows = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(rows.count == records.count, "\(outcome.stderr)")
        for (record, row) in zip(records, rows) {
            let fields = row.split(separator: " ", omittingEmptySubsequences: false).map { hex in
                String(
                    decoding: stride(from: 0, to: hex.count, by: 2).map { at -> UInt8 in
                        let start = hex.index(hex.startIndex, offsetBy: at)
                        return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                    }, as: UTF8.self)
            }
            // What a spreadsheet reads: the text, with a ' before a formula-looking one.
            let expected = record.map { text -> String in
                guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first),
                    !(first == "-" && Double(text) != nil)
                else { return text }
                return "'" + text
            }
            #expect(fields == expected, "\(record)")
        }
    }
}
