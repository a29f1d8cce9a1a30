import Dispatch
import EventLog
import Mentoring

/// The commands of a JSON Lines batch (`tandem append`), one per line: each line is checked
/// as UTF-8, parsed, its fields checked as the command line would check them, and built into
/// a command with the recording context it asks for.
///
/// Failure modes: `CommandFailure`, naming the input and the line, for text that is not
/// UTF-8, not a JSON object, an unknown command or field, a field of the wrong type, or a
/// value its builder refuses; `CommandFailure` too if the input cannot be read.
///
/// Used by one thread at a time (see `pipelined(_:)`), hence unchecked.
final class CommandLines: @unchecked Sendable {
    /// One line's command.
    struct Built: Sendable {
        var command: ProgrammeCommand
        var recording: RecordingContext
        /// The line of the input it came from, 1-based.
        var line: Int32

        /// The command and its context, moved out: taken field by field from a value that
        /// lives on, each would be a copy (a retain of everything it holds) and a release.
        consuming func parts() -> (ProgrammeCommand, RecordingContext) { (command, recording) }
    }

    private let input: InputLines
    private let base: RecordingContext
    /// Seals the commands' personal data; see `init`.
    private let random: any RandomSource
    /// A command's builder, spec and field names, worked out once per batch; a class, so
    /// that finding it for a line does not copy the spec.
    private final class Known {
        let builder: CommandBuilders.Builder
        let spec: CommandSpec
        let shapes: BulkCommands.FieldShapes

        init(builder: @escaping CommandBuilders.Builder, spec: CommandSpec) {
            self.builder = builder
            self.spec = spec
            shapes = BulkCommands.FieldShapes(spec)
        }
    }

    private var known: [String: Known] = [:]
    private var line = 0

    /// - Parameters:
    ///   - base: the recording context of the command line, which a line's own "actor",
    ///     "on-behalf-of" and "key" override.
    ///   - random: seals the lines' personal data. Give the reading thread a source of its
    ///     own (`RandomSource.split()`): the service's draws then never interleave with it,
    ///     and a seeded run stays reproducible.
    init(_ input: InputLines, base: RecordingContext, random: any RandomSource) {
        self.input = input
        self.base = base
        self.random = random
    }

    /// The next command; nil at the end of the input. Blank lines are skipped.
    func next() throws -> Built? {
        let name = input.name
        while let object = try input.next({ text -> JSONObject? in
            line += 1
            guard text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return nil }
            // Most lines are ASCII, which is UTF-8 as it stands; only others are decoded.
            guard ByteSearch.isASCII(text) || String(validating: text, as: UTF8.self) != nil else {
                throw CommandFailure("\(name), line \(line): not UTF-8 text; save the file as UTF-8")
            }
            do {
                guard let parsed = try JSONScanner.parse(text).objectValue else {
                    throw CommandFailure("\(name), line \(line): expected a JSON object, one command per line")
                }
                return parsed
            } catch let error as JSONSyntaxError {
                throw CommandFailure("\(name), line \(line): not JSON (\(error))")
            }
        }) {
            guard let object else { continue }
            let (command, recording) = try build(object)
            return Built(command: command, recording: recording, line: Int32(clamping: line))
        }
        return nil
    }

    /// One line's command, or an error naming the line.
    private func build(_ object: JSONObject) throws -> (ProgrammeCommand, RecordingContext) {
        let name = input.name
        // No key is camel-case as far as "command" is concerned; the fields' real answer
        // comes from their check.
        var fields = JSONFields(object: object, camelCase: false)
        guard let commandName = fields.value("command") else {
            throw CommandFailure(
                "\(name), line \(line): no \"command\" field; e.g. {\"command\":\"session\",\"tandem\":\"t-1\",\"minutes\":60}"
            )
        }
        let command: Known
        if let seen = known[commandName] {
            command = seen
        } else {
            guard let builder = CommandBuilders.byName[commandName], let spec = CommandBuilders.spec(named: commandName)
            else {
                throw CommandFailure(
                    "\(name), line \(line): unknown command '\(commandName)'; the commands are \(CommandBuilders.byName.keys.filter { !$0.contains("-") && $0 != "launch" }.sorted().joined(separator: ", "))"
                )
            }
            command = Known(builder: builder, spec: spec)
            known[commandName] = command
        }
        fields.camelCase = try BulkCommands.checkFields(
            object, of: command.spec, shapes: command.shapes, source: name, line: line)
        var recording = base
        if let actor = fields.value("actor") { recording.actor = actor }
        if let behalf = fields.value("on-behalf-of") { recording.onBehalfOf = behalf }
        if let key = fields.value("key") { recording.key = key }
        do throws(FieldError) {
            return (try command.builder(fields, random), recording)
        } catch {
            throw CommandFailure("\(name), line \(line): \(error.message)")
        }
    }

    /// Calls `body` with a source of `lines`' commands that are read, parsed and built on
    /// another thread, a few hundred lines ahead: a large batch is then read on one core
    /// while it is decided on the other. The commands come in the input's order, and a
    /// line's error is thrown where that line's command would have come, never earlier.
    ///
    /// The reading stops when `body` returns or throws; this returns only once the reading
    /// thread has let go of the input.
    static func pipelined<R>(_ lines: CommandLines, _ body: (_ next: () throws -> Built?) throws -> R) throws -> R {
        // 4 batches of 256 lines waiting at most: a megabyte or two, however large the file.
        let channel = BatchChannel<Built>(capacity: 4)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { finished.signal() }
            var batch: [Built] = []
            batch.reserveCapacity(256)
            do {
                while let built = try lines.next() {
                    batch.append(built)
                    if batch.count == 256 {
                        guard channel.send(batch) else { return channel.finish(nil) }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch {
                // The lines before the bad one go first: an earlier refusal wins.
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(error)
            }
        }
        defer {
            channel.cancel()
            finished.wait()
        }
        // Each batch reversed, its commands moved out from the end: a copy of a command
        // retains every string and list it holds.
        var current: [Built] = []
        return try body {
            while current.isEmpty {
                guard let batch = try channel.receive() else { return nil }
                current = batch.reversed()
            }
            return current.removeLast()
        }
    }
}
