/// A CSV input that is not RFC 4180: where, and what.
struct CSVError: Error, Sendable, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

/// Reads RFC 4180 CSV (writing is `Renderer.csv`): comma-separated fields, CRLF or LF line ends, fields quoted with `"` and
/// quotes doubled inside them. UTF-8, with or without a byte-order mark.
enum CSV {
    /// A record and the line it starts on (quoted fields may span lines).
    struct Record {
        var line: Int
        var fields: [String]
    }

    /// Parses a whole document.
    /// - Throws: `CSVError` for a quote in an unquoted field, text after a closing quote,
    ///   or a quoted field that never ends.
    static func parse(_ text: String) throws(CSVError) -> [Record] {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var i = 0
        var quoted = false, wasQuoted = false
        func endField() {
            fields.append(field)
            field = ""
            wasQuoted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }
        while i < scalars.count {
            let c = scalars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 2
                        continue
                    }
                    quoted = false
                    i += 1
                    continue
                }
                if c == "\n" { line += 1 }
                field.unicodeScalars.append(c)
                i += 1
                continue
            }
            switch c {
            case ",":
                endField()
            case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n":
                i += 1
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            case "\"":
                guard field.isEmpty, !wasQuoted else {
                    throw CSVError(
                        line: line,
                        message:
                            "a quote inside an unquoted field (field \(fields.count + 1)); quote the whole field and double the quote: \"\""
                    )
                }
                quoted = true
                wasQuoted = true
            default:
                if wasQuoted {
                    throw CSVError(line: line, message: "text after the closing quote of field \(fields.count + 1)")
                }
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if quoted { throw CSVError(line: recordLine, message: "a quoted field that never ends") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
