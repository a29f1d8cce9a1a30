import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// The options every command shares, and how they resolve against the environment.
public enum GlobalOptions {
    /// `--store`, `--actor`, `--role`: accepted by every command.
    public static let base: [OptionSpec] = [
        .value("store", "dir", "The store directory (else $TANDEM_STORE, else ./tandem-store)."),
        .value("actor", "name", "Who is acting (else $TANDEM_ACTOR, else the user name)."),
        .value(
            "role", "role", "The view to act in (else $TANDEM_ROLE, else coordinator).",
            allowed: ["coordinator", "analyst", "auditor", "participant:"]),
    ]

    /// Recording commands add the on-behalf-of actor, an idempotency key and the output form.
    public static let recording: [OptionSpec] =
        base + [
            .value("on-behalf-of", "name", "Record that the actor acts for someone else."),
            .value("key", "key", "An idempotency key: a retry with the same key appends nothing."),
            .value("format", "format", "Output format.", allowed: ["table", "json"]),
        ]

    /// Queries add the output form and time travel.
    public static let query: [OptionSpec] =
        base + [
            .value("format", "format", "Output format.", allowed: ["table", "json", "csv"]),
            .value("as-of", "date", "Answer as of the end of this business day (YYYY-MM-DD)."),
            .value("known-at", "date|seq:N", "Count only what had been recorded by then."),
        ]

    /// The store directory: `--store`, else `$TANDEM_STORE`, else `./tandem-store`.
    /// - Throws: `CommandFailure` for an empty `--store` or `$TANDEM_STORE` (which would
    ///   otherwise silently mean the current directory).
    public static func storePath(_ command: ParsedCommand, _ context: CommandContext) throws -> String {
        try context.absolute(givenStore(command, context) ?? "tandem-store")
    }

    /// `--store`, else `$TANDEM_STORE`, checked; nil if neither is given.
    static func givenStore(_ command: ParsedCommand, _ context: CommandContext) throws -> String? {
        if let flag = command.value("store") {
            guard !flag.trimmingSpaces.isEmpty else {
                throw CommandFailure("--store is empty; name the store directory, e.g. --store ./tandem-store")
            }
            return flag
        }
        if let variable = context.environment["TANDEM_STORE"] {
            guard !variable.trimmingSpaces.isEmpty else {
                throw CommandFailure(
                    "$TANDEM_STORE is set but empty; unset it (for ./tandem-store) or set it to the store directory")
            }
            return variable
        }
        return nil
    }

    /// Who is acting: `--actor`, else `$TANDEM_ACTOR`, else the login name.
    public static func actor(_ command: ParsedCommand, _ context: CommandContext) throws -> String {
        let actor =
            command.value("actor") ?? context.environment["TANDEM_ACTOR"] ?? context.environment["USER"]
            ?? context.environment["LOGNAME"] ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? ""
        let trimmed = actor.trimmingSpaces
        guard !trimmed.isEmpty else {
            throw CommandFailure("no actor: say who is recording with --actor NAME or $TANDEM_ACTOR")
        }
        guard trimmed.count <= 64, !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw CommandFailure(
                "the actor '\(trimmed.prefix(64))' is not a valid name: use at most 64 printable characters")
        }
        return trimmed
    }

    /// The lock timeout: `$TANDEM_LOCK_TIMEOUT` seconds, else 10.
    /// - Throws: `CommandFailure` unless it is a number of seconds from 0 to 3600.
    public static func lockTimeout(_ context: CommandContext) throws -> Double {
        guard let text = context.environment["TANDEM_LOCK_TIMEOUT"] else { return 10 }
        guard let seconds = Double(text.trimmingSpaces), seconds.isFinite, (0...3600).contains(seconds) else {
            throw CommandFailure(
                "TANDEM_LOCK_TIMEOUT='\(text)' is not a number of seconds from 0 to 3600; unset it for the default of 10"
            )
        }
        return seconds
    }

    /// How far apart time-travel checkpoints are saved: `$TANDEM_CHECKPOINT_SPACING` lines,
    /// else nil (by the log's size: at least 65,536).
    /// - Throws: `CommandFailure` unless it is a whole number from 1 to 2^30.
    public static func checkpointSpacing(_ context: CommandContext) throws -> Int? {
        guard let text = context.environment["TANDEM_CHECKPOINT_SPACING"] else { return nil }
        guard let lines = Int(text.trimmingSpaces), (1...(1 << 30)).contains(lines) else {
            throw CommandFailure(
                "TANDEM_CHECKPOINT_SPACING='\(text)' is not a number of lines from 1 to 1073741824; unset it to space checkpoints by the log's size"
            )
        }
        return lines
    }

    /// The output format, defaulting to a table.
    public static func format(_ command: ParsedCommand) -> String { command.value("format") ?? "table" }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !" \t\n\r".unicodeScalars.contains($0) }),
            let last = scalars.lastIndex(where: { !" \t\n\r".unicodeScalars.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
