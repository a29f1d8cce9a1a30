import EventLog

/// The `tandem` command line as a library, so that tests can run it in-process as well as
/// through the real binary.
public enum TandemCLI {
    /// The version this build reports.
    public static let version = "tandem 0.1.0 (log format \(logFormatVersion))"

    /// The command tree.
    public static let root = CommandSpec(
        name: "tandem",
        abstract: "Track reverse-mentoring programmes in a hash-chained, auditable log.",
        discussion: """
            Every action (launch, signup, match, session, goal, swap, withdrawal, completion,
            correction, erasure) is appended to an immutable, hash-chained log; queries replay
            it. Personal data lives in a separate vault that can be erased without breaking
            the chain.
            """,
        globals: GlobalOptions.base,
        subcommands: CommandTree.commands
    )

    /// The parser for the tree.
    public static let parser = ArgumentParser(root: root)

    /// Runs one command line (without the program name) and returns the exit code.
    /// Output goes to the context's sinks, which are flushed before returning.
    public static func run(_ arguments: [String], context original: CommandContext) -> Int32 {
        var context = original
        // A fixed "now" makes transcripts and tests reproducible.
        if let now = context.environment["TANDEM_NOW"] {
            guard
                let instant = Timestamp(rfc3339: now)
                    ?? CivilCalendar.parseDate(now).map({ Timestamp(secondsSinceEpoch: Int64($0) * 86400 + 12 * 3600) })
            else {
                context.stderr.write(
                    "Error: TANDEM_NOW='\(now)' is not an RFC 3339 UTC time (2027-01-10T08:15:00Z) or a date\n")
                context.stderr.flush()
                return ExitCode.usage
            }
            context.clock = FixedClock(instant)
        }
        defer {
            context.stdout.flush()
            context.stderr.flush()
        }
        do {
            switch try parser.parse(arguments) {
            case .version:
                context.print(version)
                return ExitCode.ok
            case .help(let path):
                context.stdout.write(parser.help(path, version: version))
                return ExitCode.ok
            case .run(let command):
                return try command.spec.action!(command, context)
            }
        } catch {
            let (code, text) = ErrorReport.describe(error, parser: parser)
            context.stderr.write(text + "\n")
            return code
        }
    }
}

/// The commands, in the order help lists them.
enum CommandTree {
    static let commands: [CommandSpec] = [
        DemoCommand.spec,
        StoreCommands.initialize,
        RecordingCommands.programme,
        RecordingCommands.signUp,
        RecordingCommands.update,
        RecordingCommands.match,
        RecordingCommands.session,
        RecordingCommands.goal,
        RecordingCommands.checkIn,
        RecordingCommands.swap,
        RecordingCommands.withdraw,
        RecordingCommands.complete,
        RecordingCommands.void,
        RecordingCommands.forget,
        StoreCommands.recover,
        BulkCommands.importGroup,
        BulkCommands.append,
        QueryCommands.people,
        QueryCommands.tandems,
        QueryCommands.stats,
        QueryCommands.audit,
        QueryCommands.goals,
        QueryCommands.sessions,
        QueryCommands.dropouts,
        QueryCommands.activity,
        QueryCommands.report,
        QueryCommands.suggest,
        QueryCommands.due,
        QueryCommands.access,
        StoreCommands.verify,
        CompletionsCommand.spec,
    ]
}
