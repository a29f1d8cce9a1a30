import EventLog
import Mentoring

#if canImport(Glibc)
    import Glibc
#endif

/// `tandem import signups` and `tandem append`: many commands, all or nothing, one fsync.
enum BulkCommands {
    /// The columns of a signups CSV, in the documented order.
    static let signupColumns = [
        "name", "email", "role", "unit", "level", "born", "gender", "offers", "wants", "interests",
    ]
    static let requiredColumns: Set<String> = ["name", "role", "unit", "level", "born"]

    /// One CSV row as fields (lists are separated by `;`, empty cells are absent).
    struct CSVFields: FieldSource {
        let values: [String: String]
        func value(_ name: String) -> String? {
            guard let v = values[name]?.trimmed, !v.isEmpty else { return nil }
            return v
        }
        func list(_ name: String) -> [String]? {
            value(name).map { $0.split(separator: ";").map { String($0).trimmed }.filter { !$0.isEmpty } }
        }
        func describe(_ name: String, _ valueName: String) -> String { "column '\(name)'" }
    }

    static let importSignups = CommandSpec(
        name: "signups",
        abstract: "Sign up everyone in a CSV file: all or nothing, one fsync.",
        discussion: """
            The header is name,email,role,unit,level,born,gender,offers,wants,interests (RFC 4180,
            UTF-8 with or without a BOM; lists in a cell are separated by ;). Every row gets an
            opaque p- id. If any row is refused, nothing is recorded and the error names its line
            and column.
            """,
        options: [
            .value("programme", "id", "The programme they sign up for.", required: true),
            .value("on", "date", "The signup date for every row (default: today)."),
            .flag(
                "allow-duplicate",
                "Record rows even if they repeat someone signed up (same email, or name and birth year)."),
        ],
        arguments: [ArgumentSpec(name: "file", help: "The CSV file.")],
        globals: GlobalOptions.recording
    ) { command, context in
        try Session.requireRecorder(command, context)
        let path = context.absolute(command.arguments[0])
        let text = try readText(path, name: command.arguments[0])
        let records: [CSV.Record]
        do { records = try CSV.parse(text) } catch { throw CommandFailure("\(command.arguments[0]), \(error)") }
        guard let header = records.first else {
            throw CommandFailure(
                "\(command.arguments[0]) is empty; it needs the header \(signupColumns.joined(separator: ","))")
        }
        let columns = header.fields.map { $0.trimmed.lowercased() }
        for column in columns where !signupColumns.contains(column) {
            throw CommandFailure(
                "\(command.arguments[0]), line 1: unknown column '\(column)'; the columns are \(signupColumns.joined(separator: ","))"
            )
        }
        if let duplicate = columns.first(where: { c in columns.filter { $0 == c }.count > 1 }) {
            throw CommandFailure("\(command.arguments[0]), line 1: the column '\(duplicate)' appears twice")
        }
        for column in signupColumns where requiredColumns.contains(column) && !columns.contains(column) {
            throw CommandFailure(
                "\(command.arguments[0]), line 1: missing column '\(column)'; the header is \(signupColumns.joined(separator: ","))"
            )
        }
        let programme: ProgrammeID, on: BusinessDate?
        do throws(FieldError) {
            programme = try command.id("programme")
            on = try command.optionalDate("on")
        } catch { throw UsageError(error.message, path: command.path) }
        let recording = try Session.recordingContext(command, context)
        var batch: [(ProgrammeCommand, RecordingContext)] = []
        var lines: [Int] = []
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                throw CommandFailure(
                    "\(command.arguments[0]), line \(record.line): expected \(columns.count) fields, found \(record.fields.count)"
                )
            }
            var values = Dictionary(uniqueKeysWithValues: zip(columns, record.fields))
            values["programme"] = programme.rawValue
            if let on { values["on"] = on.description }
            do throws(FieldError) {
                batch.append((try CommandBuilders.signUp(CSVFields(values: values), context.random), recording))
            } catch {
                throw CommandFailure("\(command.arguments[0]), line \(record.line): \(error.message)")
            }
            lines.append(record.line)
        }
        guard !batch.isEmpty else { throw CommandFailure("\(command.arguments[0]) has a header but no rows") }
        if !command.has("allow-duplicate") {
            // Importing the same file twice, or a row twice, would sign people up again.
            let candidates = batch.compactMap { entry -> (programme: ProgrammeID, profile: Profile)? in
                guard case .signUp(let c) = entry.0, let profile = c.profile.payload.profile else { return nil }
                return (c.programme, profile)
            }
            let duplicates = try Session.service(command, context).duplicates(of: candidates)
            if !duplicates.isEmpty {
                let listed =
                    duplicates.prefix(20).map { d in
                        "line \(lines[d.index]) (\(d.existing.map { "\($0), " } ?? d.earlier.map { "as line \(lines[$0]), " } ?? "")\(d.why))"
                    }.joined(separator: "; ") + (duplicates.count > 20 ? "; …" : "")
                throw CommandFailure(
                    "\(command.arguments[0]): \(duplicates.count) row(s) repeat someone already signed up: \(listed). Nothing was recorded; add --allow-duplicate to record them anyway"
                )
            }
        }
        try recordBatch(
            batch, lines: lines, source: command.arguments[0], noun: ("signup", "signups"), command: command,
            context: context)
        return ExitCode.ok
    }

    static let importGroup = CommandSpec(
        name: "import", abstract: "Import records in bulk.", globals: GlobalOptions.base, subcommands: [importSignups])

    static let append = CommandSpec(
        name: "append",
        abstract: "Record commands from JSON Lines: all or nothing, one fsync.",
        discussion: """
            Each line is one command, its fields named like the flags, e.g.
              {"command":"session","tandem":"t-1","on":"2027-02-01","minutes":60}
            Commands: programme launch, signup, match, session, goal set, goal reached, swap,
            withdraw, complete, void. A line may carry its own "actor", "on-behalf-of" and
            "key". If any line is refused, nothing is recorded and the error names the line.
            Use - to read standard input.
            """,
        arguments: [ArgumentSpec(name: "file", help: "The JSON Lines file, or - for standard input.")],
        globals: GlobalOptions.recording
    ) { command, context in
        try Session.requireRecorder(command, context)
        let name = command.arguments[0] == "-" ? "standard input" : command.arguments[0]
        // Read twice from a file (a survey, then command by command), never held whole; a
        // pipe, a FIFO or standard input can be read once only, so it is held as bytes.
        // Each line is checked as UTF-8 when it is parsed.
        let path = context.absolute(command.arguments[0])
        let void = Array("\"void\"".utf8)
        let input: InputLines
        let estimate: Int
        let mayVoid: Bool
        if command.arguments[0] != "-", InputLines.isRegularFile(path) {
            (estimate, mayVoid) = try InputLines.survey(path: path, name: name, for: void)
            input = try InputLines(path: path, name: name)
        } else {
            let bytes = command.arguments[0] == "-" ? try readStandardInput() : try readBytes(path, name: name)
            estimate = bytes.withUnsafeBytes { ByteSearch.count(0x0A, in: $0) } + 1
            mayVoid = bytes.withUnsafeBytes { ByteSearch.contains(void, in: $0) }
            input = InputLines(bytes: bytes, name: name)
        }
        let base = try Session.recordingContext(command, context)
        let commands = CommandLines(input, base: base, random: context.random.split())
        var lines: [Int32] = []
        let outcomes: [RecordedOutcome]
        do {
            outcomes = try CommandLines.pipelined(commands) { next in
                try Session.service(command, context).record(count: estimate, mayVoid: mayVoid) {
                    guard let built = try next() else { return nil }
                    lines.append(built.line)
                    return built.parts()
                }
            }
        } catch let failure as BatchFailure {
            throw CommandFailure("\(name), line \(lines[failure.index]): \(ErrorReport.words(failure.error))")
        }
        guard !outcomes.isEmpty else { throw CommandFailure("\(name) holds no commands") }
        printBatch(
            outcomes, lines: lines.lazy.map(Int.init), noun: ("command", "commands"), command: command, context: context
        )
        return ExitCode.ok
    }

    /// Fields every line may carry besides its command's own options.
    static let lineFields: Set<String> = ["command", "actor", "on-behalf-of", "key"]
    /// Options that take a list: a JSON array of strings, or comma-separated text.
    static let listFields: Set<String> = ["offers", "wants", "interests", "topics"]

    /// The fields a command's line may hold, and which of them are flags or lists.
    ///
    /// Used by one thread at a time (the batch's reading thread).
    final class FieldShapes {
        /// What a field may hold.
        struct Shape: Equatable {
            var isFlag: Bool
            var isList: Bool
            /// Whether the key was spelled with a capital letter (camel-case).
            var camelCase = false
        }

        let known: Set<String>
        private let shapes: [String: Shape]
        /// The keys of the last line, each at its position, with its shape: the lines of a
        /// batch mostly spell the same keys in the same order, and a key equal to the one
        /// before at its position is not looked up again (hashing every key three times was
        /// a tenth of reading a batch of signups).
        private var recent: [(key: String, shape: Shape)] = []

        init(_ spec: CommandSpec) {
            known = Set(spec.options.map(\.name)).union(BulkCommands.lineFields).subtracting(["format"])
            let flags = Set(spec.options.filter { $0.valueName == nil }.map(\.name))
            shapes = Dictionary(
                uniqueKeysWithValues: known.map {
                    ($0, Shape(isFlag: flags.contains($0), isList: BulkCommands.listFields.contains($0)))
                })
        }

        /// The shape of the field spelled `key` (camel-case or flag name), the line's
        /// `position`th; nil for a field the command does not have.
        func shape(of key: String, at position: Int) -> Shape? {
            if position < recent.count, recent[position].key == key { return recent[position].shape }
            guard var shape = shapes[JSONFields.kebab(key)] else { return nil }
            shape.camelCase = JSONFields.hasUppercase(key)
            if position < recent.count {
                recent[position] = (key, shape)
            } else if position == recent.count {
                recent.append((key, shape))
            }
            return shape
        }
    }

    /// Refuses what the command line would refuse: an unknown field (with the closest known
    /// one), and a value of the wrong JSON type. Nothing is dropped silently.
    /// - Returns: whether some key is camel-case (see `JSONFields.init(object:camelCase:)`).
    @discardableResult
    static func checkFields(
        _ object: JSONObject, of spec: CommandSpec, shapes: FieldShapes, source: String, line: Int
    ) throws -> Bool {
        var camelCase = false
        for (position, (key, value)) in object.members.enumerated() {
            guard let shape = shapes.shape(of: key, at: position) else {
                let known = shapes.known
                let name = JSONFields.kebab(key)
                let hint =
                    ArgumentParser.closest(name, among: known.sorted()).map { "; did you mean \"\($0)\"?" }
                    ?? "; the fields of \(spec.name) are \(known.sorted().joined(separator: ", "))"
                throw CommandFailure("\(source), line \(line): unknown field \"\(key)\"\(hint)")
            }
            camelCase = camelCase || shape.camelCase
            let isFlag = shape.isFlag
            let fine: Bool
            switch value {
            case .string, .int: fine = !isFlag
            case .bool(let set): fine = isFlag && set
            case .array(let items): fine = shape.isList && items.allSatisfy { $0.stringValue != nil }
            default: fine = false
            }
            guard fine else {
                let expected =
                    isFlag
                    ? "true (or leave the field out)"
                    : shape.isList
                        ? "a list of strings (or comma-separated text)" : "a string or a whole number"
                throw CommandFailure(
                    "\(source), line \(line): field \"\(key)\" has the wrong type: expected \(expected), got \(value.description.prefix(60))"
                )
            }
        }
        return camelCase
    }

    /// Records a batch read from a file; a refusal names the file's line.
    static func recordBatch(
        _ batch: [(ProgrammeCommand, RecordingContext)], lines: [Int], source: String, noun: (String, String),
        command: ParsedCommand, context: CommandContext
    ) throws {
        let outcomes: [RecordedOutcome]
        do {
            outcomes = try Session.service(command, context).record(batch: batch)
        } catch let failure as BatchFailure {
            throw CommandFailure("\(source), line \(lines[failure.index]): \(ErrorReport.words(failure.error))")
        }
        printBatch(outcomes, lines: lines, noun: noun, command: command, context: context)
    }

    /// Appends one result of a batch's JSON answer, after a comma unless it is the `first`:
    /// `{"line":3,"seq":9,"type":"SessionHeld","id":"t-1"}`.
    ///
    /// Written in place and appended as one run when its texts need no escaping (ids, types
    /// and labels never do): member by member through the writer, a million results took
    /// half a second, most of it the writer's appends. Other texts go through the writer.
    static func writeResult(
        _ outcome: RecordedOutcome, label: String, line: Int, first: Bool, to writer: inout JSONWriter
    ) {
        let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { buffer -> Bool in
            var out = InPlaceBytes(start: buffer.baseAddress!)
            out.put(first ? "{" : ",{")
            guard out.put(quoted: label) else { return false }
            out.put(":")
            out.put(line)
            out.put(",\"seq\":")
            out.put(outcome.seq)
            out.put(",\"type\":")
            guard out.put(quoted: outcome.type) else { return false }
            out.put(",\"id\":")
            guard out.put(quoted: outcome.id) else { return false }
            out.put(outcome.duplicate ? ",\"duplicate\":true}" : "}")
            writer.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress!, count: out.count))
            return true
        }
        guard !written else { return }
        writer.writeRaw(first ? "{" : ",{")
        writer.write(label)
        writer.writeRaw(":")
        writer.write(line)
        writer.writeRaw(",\"seq\":")
        writer.write(outcome.seq)
        writer.writeRaw(",\"type\":")
        writer.write(outcome.type)
        writer.writeRaw(",\"id\":")
        writer.write(outcome.id)
        writer.writeRaw(outcome.duplicate ? ",\"duplicate\":true}" : "}")
    }

    /// Bytes written at a pointer the caller holds room at (a result needs at most 400).
    private struct InPlaceBytes {
        let start: UnsafeMutablePointer<UInt8>
        var count = 0

        mutating func put(_ text: StaticString) {
            (start + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        /// A number in decimal, written from its last digit back.
        mutating func put(_ number: Int) {
            var magnitude = number.magnitude
            var digits = 1
            var rest = magnitude / 10
            while rest > 0 {
                digits += 1
                rest /= 10
            }
            if number < 0 {
                start[count] = UInt8(ascii: "-")
                count += 1
            }
            var at = count + digits
            repeat {
                at -= 1
                start[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            count += digits
        }

        /// A text as a JSON string; false, writing nothing, if it needs escaping or is
        /// longer than 100 bytes.
        mutating func put(quoted text: String) -> Bool {
            var text = text
            return text.withUTF8 { utf8 in
                guard utf8.count <= 100, JSONWriter.needsNoEscaping(utf8) else { return false }
                start[count] = UInt8(ascii: "\"")
                if let base = utf8.baseAddress { (start + count + 1).update(from: base, count: utf8.count) }
                start[count + 1 + utf8.count] = UInt8(ascii: "\"")
                count += utf8.count + 2
                return true
            }
        }
    }

    /// Prints one result per command, streamed: a batch of a million commands is never
    /// turned into one JSON value.
    /// - Parameters:
    ///   - noun: what was recorded, singular and plural ("signup", "signups").
    ///   - label: what each result is numbered by ("line" of a file, "pair" of a run).
    static func printBatch(
        _ outcomes: [RecordedOutcome], lines: some Sequence<Int>, noun: (String, String), label: String = "line",
        command: ParsedCommand, context: CommandContext
    ) {
        // The results are read in place, not taken out of the array one by one: a copy of
        // each of a million results (its texts retained and released) was a third of
        // answering. Advice is rare; only a batch that has some walks the lines for it.
        if outcomes.contains(where: { !$0.advisories.isEmpty }) {
            for (outcome, line) in zip(outcomes, lines) where !outcome.advisories.isEmpty {
                for advice in outcome.advisories { context.warn("\(label) \(line): \(advice)") }
            }
        }
        var recorded = 0
        for i in outcomes.indices where !outcomes[i].duplicate { recorded += 1 }
        if GlobalOptions.format(command) == "json" {
            var writer = JSONWriter(capacity: 1 << 16)
            writer.writeRaw("{\"recorded\":")
            writer.write(recorded)
            writer.writeRaw(",\"results\":[")
            var numbers = lines.makeIterator()
            for i in outcomes.indices {
                guard let line = numbers.next() else { break }
                writeResult(outcomes[i], label: label, line: line, first: i == 0, to: &writer)
                if writer.bytes.count >= 1 << 16 {
                    writer.bytes.withUnsafeBytes { context.stdout.write(bytes: $0) }
                    writer.bytes.removeAll(keepingCapacity: true)
                }
            }
            writer.writeRaw("]}")
            writer.bytes.withUnsafeBytes { context.stdout.write(bytes: $0) }
            context.print()
            return
        }
        for (outcome, line) in zip(outcomes, lines) {
            let verb = outcome.duplicate ? "already recorded as" : "recorded"
            context.print("\(label) \(line): \(verb) seq \(outcome.seq): \(outcome.type) \(outcome.id)")
        }
        context.print("\(recorded) \(recorded == 1 ? noun.0 : noun.1) recorded in one batch")
    }

    /// A file's text, read to its end and checked as UTF-8.
    static func readText(_ path: String, name: String) throws -> String {
        let bytes = try readBytes(path, name: name)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CommandFailure("\(name) is not UTF-8 text; save it as UTF-8")
        }
        return text
    }

    /// A file's bytes, read to its end (a pipe or FIFO has no size to read up to).
    static func readBytes(_ path: String, name: String) throws -> [UInt8] {
        let fd: Int32
        do { fd = try Syscall.open(path, flags: O_RDONLY) } catch {
            throw CommandFailure("cannot read \(name): \(error.systemMessage)")
        }
        defer { Syscall.close(fd, path: path) }
        return try readBytes(fd, name: name)
    }

    /// Standard input's bytes, read to its end.
    static func readStandardInput() throws -> [UInt8] { try readBytes(0, name: "standard input") }

    private static func readBytes(_ fd: Int32, name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { raw throws(SystemError) in
                    try Syscall.read(fd, into: raw.baseAddress!, count: raw.count, path: name)
                }
            } catch {
                throw CommandFailure("cannot read \(name): \((error as? SystemError)?.systemMessage ?? "\(error)")")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
