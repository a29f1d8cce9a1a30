import EventLog
import Mentoring
import Projections

/// The commands that record what happens in a programme. Each appends exactly one event,
/// or nothing.
enum RecordingCommands {
    static let reasonCodes = ReasonCode.all

    /// A recording command: parse, check the role, decide and append, print the outcome.
    /// - Parameter selfService: whether a participant may record it for their own tandem
    ///   (sessions and goals: the seeds' tandems organise themselves).
    static func spec(
        _ name: String, _ abstract: String, discussion: String? = nil, options: [OptionSpec], selfService: Bool = false,
        check: (@Sendable (ProgrammeCommand, ProgrammeService, ParsedCommand) throws -> Void)? = nil,
        build: @escaping CommandBuilders.Builder
    ) -> CommandSpec {
        CommandSpec(
            name: name, abstract: abstract, discussion: discussion, options: options, globals: GlobalOptions.recording
        ) { command, context in
            var recording: RecordingContext
            if selfService, case .participant(let me) = try Session.viewer(command, context) {
                // The participant is the actor, by id; the service checks the tandem is theirs.
                recording = try Session.recordingContext(command, context)
                recording.actor = "participant:\(me)"
                recording.participant = me
            } else {
                try Session.requireRecorder(command, context)
                recording = try Session.recordingContext(command, context)
            }
            let programmeCommand: ProgrammeCommand
            do throws(FieldError) { programmeCommand = try build(command, context.random) } catch {
                throw UsageError(error.message, path: command.path)
            }
            let service = try Session.service(command, context)
            try check?(programmeCommand, service, command)
            let outcome = try service.record(programmeCommand, context: recording)
            Session.printOutcome(outcome, command: command, context: context)
            return ExitCode.ok
        }
    }

    static let launch = spec(
        "launch", "Launch a programme.",
        options: [
            .value("id", "id", "The programme's id, e.g. pilot-2027.", required: true),
            .value("name", "text", "Its name.", required: true),
            .value("starts", "date", "The first day (YYYY-MM-DD).", required: true),
            .value("ends", "date", "The last day; programmes run six to twelve months.", required: true),
            .value("cadence-days", "days", "Days between regular sessions (default 30: monthly)."),
            .value("min-group-size", "n", "k: the smallest group an analyst may see counted (default 5, at least 3)."),
        ], build: CommandBuilders.launch)

    static let programme = CommandSpec(
        name: "programme", abstract: "Programme commands.", globals: GlobalOptions.base,
        subcommands: [launch, close])

    static let close = CommandSpec(
        name: "close", abstract: "Close a programme: complete its active tandems and end it, in one batch.",
        discussion: """
            Completes every active tandem of the programme on the given day and records
            ProgrammeClosed, all or nothing. Afterwards the programme takes no signups, matches,
            sessions or goals, and `tandem suggest` and `tandem due` are empty for it.
            """,
        options: [
            .value("programme", "id", "The programme.", required: true),
            .value("on", "date", "The day it closes (default: today)."),
            .value("format", "format", "Output format.", allowed: ["table", "json"]),
        ],
        globals: GlobalOptions.base + [.value("on-behalf-of", "name", "Record that the actor acts for someone else.")]
    ) { command, context in
        try Session.requireRecorder(command, context)
        let programme: ProgrammeID, on: BusinessDate?
        do throws(FieldError) {
            programme = try command.id("programme")
            on = try command.optionalDate("on")
        } catch { throw UsageError(error.message, path: command.path) }
        let service = try Session.service(command, context)
        let recording = try Session.recordingContext(command, context)
        let active = try service.currentState().tandems.values.filter {
            $0.programme == programme && $0.status == .active
        }.map(\.id).sorted()
        let batch: [(ProgrammeCommand, RecordingContext)] =
            active.map { (.complete(CompleteTandem(tandem: $0, on: on)), recording) }
            + [(.close(CloseProgramme(programme: programme, on: on)), recording)]
        let outcomes: [RecordedOutcome]
        do { outcomes = try service.record(batch: batch) } catch let failure as BatchFailure {
            let what = failure.index < active.count ? "completing \(active[failure.index])" : "closing \(programme)"
            throw CommandFailure("\(what): \(ErrorReport.words(failure.error)); nothing was recorded")
        }
        BulkCommands.printBatch(
            outcomes, lines: Array(1...outcomes.count), noun: ("event", "events"), label: "step", command: command,
            context: context)
        return ExitCode.ok
    }

    static let signUp = spec(
        "signup", "Sign someone up; their personal data goes to the vault.",
        discussion: """
            Everything about the person (name, email, unit, level, birth year, gender, skills
            and interests) is written to vault.jsonl; the event carries only an opaque id and
            the SHA-256 commitment of the vault line. Without --id, an opaque p- id is generated.
            """,
        options: [
            .value("programme", "id", "The programme.", required: true),
            .value(
                "role", "role",
                "mentor (the junior, a digital native) or mentee (the senior). Here --role is the participant's role; the viewer's comes from $TANDEM_ROLE.",
                allowed: ["mentor", "mentee"], required: true),
            .value("name", "text", "Their name.", required: true),
            .value("email", "address", "Their email address."),
            .value("unit", "unit", "Their unit (department).", required: true),
            .value("level", "n", "Their hierarchy level, 1 (most junior) to 20.", required: true),
            .value("born", "yyyy", "Their birth year.", required: true),
            .value("gender", "text", "Their gender, as they describe it."),
            .value("offers", "a,b", "Digital skills they can teach."),
            .value("wants", "a,b", "Digital skills they want to learn."),
            .value("interests", "a,b", "Interests, for rapport."),
            .value("id", "id", "Their id (default: a generated p- id)."),
            .value("on", "date", "The day they signed up (default: today)."),
            .flag(
                "allow-duplicate",
                "Record them even if someone with the same email, or name and birth year, is signed up."),
        ],
        check: { command, service, parsed in
            guard !parsed.has("allow-duplicate"), case .signUp(let c) = command, let profile = c.profile.payload.profile
            else { return }
            if let duplicate = try service.duplicates(of: [(c.programme, profile)]).first,
                let existing = duplicate.existing
            {
                throw CommandFailure(
                    "\(existing) in programme \(c.programme) has \(duplicate.why); nothing was recorded. If this is someone else, add --allow-duplicate",
                    refusal: nil)
            }
        }, build: CommandBuilders.signUp)

    static let match = CommandSpec(
        name: "match", abstract: "Match a mentor and a mentee into a tandem, or record every pair of a match run.",
        discussion: """
            The two must be in the programme, in their roles, not in a tandem now, never
            partners before, and from different units unless --override gives a reason. With
            --run R the pair must be one that run R proposed (or --override says why not). With
            --run R --all, every pair run R proposed is recorded as one all-or-nothing batch.
            """,
        options: [
            .value("programme", "id", "The programme.", required: true),
            .value("mentor", "id", "The mentor (signed up as mentor)."),
            .value("mentee", "id", "The mentee (signed up as mentee)."),
            .value("id", "id", "The tandem's id (default: a generated t- id)."),
            .value("override", "reason", "Why a rule is waived (kept in the vault, like every free text)."),
            .value("run", "id", "The match run (tandem suggest --record) that proposed the pair."),
            .flag("all", "With --run: record every pair the run proposed, as one batch."),
            .value("on", "date", "The day they were matched (default: today)."),
        ],
        globals: GlobalOptions.recording
    ) { command, context in
        try Session.requireRecorder(command, context)
        let service = try Session.service(command, context)
        let recording = try Session.recordingContext(command, context)
        guard command.has("all") else {
            for name in ["mentor", "mentee"] where command.value(name) == nil {
                throw UsageError(
                    "Missing expected argument '--\(name) <id>' (or record a whole run with --run R --all)",
                    path: command.path)
            }
            let match: ProgrammeCommand
            do throws(FieldError) { match = try CommandBuilders.match(command, context.random) } catch {
                throw UsageError(error.message, path: command.path)
            }
            Session.printOutcome(try service.record(match, context: recording), command: command, context: context)
            return ExitCode.ok
        }
        guard let runText = command.value("run") else {
            throw UsageError("--all records the pairs of a match run: give it with --run R", path: command.path)
        }
        if let extra = ["mentor", "mentee", "id", "override"].first(where: { command.value($0) != nil }) {
            throw UsageError(
                "--all records the pairs run \(runText) proposed, as it proposed them; leave out --\(extra)",
                path: command.path)
        }
        let programme: ProgrammeID, run: MatchRunID, on: BusinessDate?
        do throws(FieldError) {
            programme = try command.id("programme")
            run = try command.id("run")
            on = try command.optionalDate("on")
        } catch { throw UsageError(error.message, path: command.path) }
        // The run's pairs stand in its MatchRunRecorded line (read once, from the log).
        var recorded: MatchRunRecorded?
        let marker = Array("\"run\":\"\(run)\"".utf8), type = Array("\"type\":\"MatchRunRecorded\"".utf8)
        try service.store.events.forEachLine { line in
            guard recorded == nil, ByteSearch.contains(type, in: line.bytes),
                ByteSearch.contains(marker, in: line.bytes),
                case .matchRunRecorded(let e) = try EventDecoder.decode(line).event, e.run == run
            else { return }
            recorded = e
        }
        guard let recorded else { throw CommandFailure(ErrorReport.words(DomainError.unknownMatchRun(run))) }
        guard recorded.programme == programme else {
            throw CommandFailure(
                ErrorReport.words(DomainError.runOfOtherProgramme(run, belongsTo: recorded.programme, asked: programme))
            )
        }
        let proposed = recorded.pairs.map { [$0.mentor.rawValue, $0.mentee.rawValue] }
        guard !proposed.isEmpty else { throw CommandFailure("match run \(run) proposed no pair; nothing to record") }
        let batch: [(ProgrammeCommand, RecordingContext)] = proposed.map { pair in
            (
                .match(
                    Match(
                        programme: programme, mentor: ParticipantID(pair[0])!, mentee: ParticipantID(pair[1])!,
                        run: run, on: on)), recording
            )
        }
        let outcomes: [RecordedOutcome]
        do { outcomes = try service.record(batch: batch) } catch let failure as BatchFailure {
            let pair = proposed[failure.index]
            throw CommandFailure(
                "pair \(failure.index + 1) of run \(run) (\(pair[0]) × \(pair[1])): \(ErrorReport.words(failure.error)); nothing was recorded"
            )
        }
        BulkCommands.printBatch(
            outcomes, lines: Array(1...outcomes.count), noun: ("match", "matches"), label: "pair", command: command,
            context: context)
        return ExitCode.ok
    }

    static let session = spec(
        "session", "Record a session a tandem held.",
        discussion: """
            Notes are confidential: they go to the vault and belong to the tandem. No
            coordinator, analyst or auditor report ever shows them.
            """,
        options: [
            .value("tandem", "id", "The tandem.", required: true),
            .value("on", "date", "The day it was held (default: today)."),
            .value("minutes", "n", "How long, 1 to 600.", required: true),
            .value("mode", "mode", "How (default in-person).", allowed: SessionMode.allCases.map(\.rawValue)),
            .value("topics", "a,b", "Topics, e.g. linkedin,generative-ai."),
            .value("notes", "text", "Confidential notes (vault)."),
        ], selfService: true, build: CommandBuilders.session)

    static let update = spec(
        "update", "Change a participant's profile from a date on: unit, level, email, name and more.",
        discussion: """
            Every field given replaces the old value; the whole new profile goes to the vault and
            the event says only which fields changed. Reports as of a date before --on still see
            the old profile (a move to another unit in June changes the later figures, not the
            earlier ones); matching uses the current one.
            """,
        options: [
            .value("participant", "id", "Whose profile.", required: true),
            .value("name", "text", "A new name."),
            .value("email", "address", "A new email."),
            .value("unit", "unit", "A new unit."),
            .value("level", "n", "A new hierarchy level, 1 to 20."),
            .value("born", "yyyy", "A corrected birth year."),
            .value("gender", "text", "A new gender."),
            .value("offers", "a,b", "The skills they can teach now."),
            .value("wants", "a,b", "The skills they want to learn now."),
            .value("interests", "a,b", "Their interests now."),
            .value("on", "date", "From when the change holds (default: today)."),
        ], build: CommandBuilders.update)

    static let checkIn = spec(
        "checkin", "Record a check-in: does the tandem fit? A rating from 1 to 5.",
        discussion: """
            A member says how well their tandem fits, 1 (not at all) to 5 (very well). A rating
            of 2 or less puts the tandem among those at risk (`tandem tandems --at-risk`) and
            makes it a rematch candidate in the notes of `due` and `suggest`. A participant
            records their own (--role participant:ID with --participant ID); a coordinator
            records one on their behalf. Notes go to the vault and are shown to no one else.
            """,
        options: [
            .value("tandem", "id", "The tandem.", required: true),
            .value("participant", "id", "The member giving the rating.", required: true),
            .value("rating", "1-5", "1 (does not fit) to 5 (fits very well).", required: true),
            .value("notes", "text", "Notes for the member only (vault)."),
            .value("on", "date", "The day of the check-in (default: today)."),
        ], selfService: true, build: CommandBuilders.checkIn)

    static let goalSet = spec(
        "set", "Set a tandem a goal; its text goes to the vault.",
        options: [
            .value("tandem", "id", "The tandem.", required: true),
            .value("goal", "id", "The goal's id, unique within the tandem.", required: true),
            .value("text", "text", "The goal, e.g. \"create a LinkedIn profile\" (vault).", required: true),
            .value("due", "date", "When it should be reached."),
            .value("category", "text", "A category, e.g. social-media."),
            .value("on", "date", "The day it was set (default: today)."),
        ], selfService: true, build: CommandBuilders.goalSet)

    static let goalReached = spec(
        "reached", "Record that a tandem reached a goal.",
        options: [
            .value("tandem", "id", "The tandem.", required: true),
            .value("goal", "id", "The goal.", required: true),
            .value("on", "date", "The day it was reached (default: today)."),
        ], selfService: true, build: CommandBuilders.goalReached)

    static let goal = CommandSpec(
        name: "goal", abstract: "Goal commands.", globals: GlobalOptions.base, subcommands: [goalSet, goalReached])

    static let swap = spec(
        "swap", "Swap a partner: the tandem ends, the stayer and the joiner form a new one.",
        discussion: """
            The leaving person returns to the pool; the joining person takes the same role.
            Former partners are never matched again.
            """,
        options: [
            .value("tandem", "id", "The tandem that ends.", required: true),
            .value("leaving", "id", "Who leaves it.", required: true),
            .value("joining", "id", "Who joins the one who stays.", required: true),
            .value("on", "date", "The day of the swap (default: today)."),
            .value("reason", "code", "Why.", allowed: reasonCodes, required: true),
            .value("new-id", "id", "The new tandem's id (default: a generated t- id)."),
            .value("override", "reason", "Why the cross-unit rule is waived for the new pair."),
            .value("notes", "text", "Confidential notes (vault)."),
        ], build: CommandBuilders.swap)

    static let withdraw = spec(
        "withdraw", "Record a withdrawal: their tandem ends and their partner is free.",
        options: [
            .value("participant", "id", "Who withdrew.", required: true),
            .value("on", "date", "The day (default: today)."),
            .value("reason", "code", "Why.", allowed: reasonCodes, required: true),
            .value("notes", "text", "A confidential free-text reason (vault)."),
        ], build: CommandBuilders.withdraw)

    static let complete = spec(
        "complete", "Record that a tandem ran to its end.",
        options: [
            .value("tandem", "id", "The tandem.", required: true),
            .value("on", "date", "The day (default: today)."),
        ], build: CommandBuilders.complete)

    static let void = spec(
        "void", "Void an event recorded by mistake (a correction).",
        discussion: """
            The voided event stays in the log and in the audit trail, marked voided; every report
            ignores it. An event can be voided only if every later event still follows the rules
            without it. The reason stays in the log for good: name no one in it.
            """,
        options: [
            .value("seq", "n", "The seq of the event to void.", required: true),
            .value("reason", "text", "Why, in a short phrase.", required: true),
        ], build: CommandBuilders.void)

    static let forget = CommandSpec(
        name: "forget",
        abstract: "Erase a participant's personal data; the chain still verifies.",
        discussion: """
            Removes their vault lines, and the notes and goal texts of every tandem they were in,
            by rewriting vault.jsonl (temporary file, fsync, rename); then appends
            PersonalDataErased, which holds no personal data. Caches are rebuilt. Totals stay
            right; they drop out of segmented reports.
            """,
        options: [.value("participant", "id", "Whose data to erase.", required: true)],
        globals: GlobalOptions.recording
    ) { command, context in
        try Session.requireRecorder(command, context)
        let participant: ParticipantID
        do throws(FieldError) { participant = try command.id("participant") } catch {
            throw UsageError(error.message, path: command.path)
        }
        let service = try Session.service(command, context)
        let outcome = try service.forget(participant, context: try Session.recordingContext(command, context))
        Session.printOutcome(outcome, command: command, context: context)
        return ExitCode.ok
    }
}

/// What commands share: the store, the role, the recording context, the outcome line.
enum Session {
    /// The view the command runs in: `--role`, else `$TANDEM_ROLE`, else coordinator.
    static func viewer(_ command: ParsedCommand, _ context: CommandContext) throws -> Viewer {
        let text = command.globalValue("role") ?? context.environment["TANDEM_ROLE"] ?? "coordinator"
        guard let viewer = Viewer(text) else {
            throw UsageError(
                "The value '\(text)' is invalid for '--role <role>' (or $TANDEM_ROLE). Please provide one of 'coordinator', 'analyst', 'auditor' or 'participant:ID'.",
                path: command.path)
        }
        return viewer
    }

    static func requireRecorder(_ command: ParsedCommand, _ context: CommandContext) throws {
        let viewer = try viewer(command, context)
        guard viewer.mayRecord else {
            if case .participant = viewer {
                throw CommandFailure(
                    "participants record their own tandem's sessions and goals only (tandem session, tandem goal set, tandem goal reached); ask the coordinator for anything else"
                )
            }
            throw CommandFailure("the \(viewer) role cannot record events; coordinators record (--role coordinator)")
        }
    }

    static func store(_ command: ParsedCommand, _ context: CommandContext) throws -> Store {
        try Store(
            root: try GlobalOptions.storePath(command, context), lockTimeout: try GlobalOptions.lockTimeout(context),
            clock: context.clock, warn: context.warn)
    }

    static func service(_ command: ParsedCommand, _ context: CommandContext) throws -> ProgrammeService {
        ProgrammeService(store: try store(command, context), clock: context.clock, random: context.random)
    }

    static func recordingContext(_ command: ParsedCommand, _ context: CommandContext) throws -> RecordingContext {
        RecordingContext(
            actor: try GlobalOptions.actor(command, context), onBehalfOf: command.value("on-behalf-of")?.trimmed,
            key: command.value("key"))
    }

    static func printOutcome(_ outcome: RecordedOutcome, command: ParsedCommand, context: CommandContext) {
        for advice in outcome.advisories { context.warn(advice) }
        if GlobalOptions.format(command) == "json" {
            var object: JSONObject = [
                "seq": .int(Int64(outcome.seq)), "type": .string(outcome.type), "id": .string(outcome.id),
            ]
            if outcome.duplicate { object["duplicate"] = .bool(true) }
            context.print(JSONValue.object(object).description)
        } else if outcome.duplicate {
            context.print(
                "already recorded as seq \(outcome.seq): \(outcome.type) \(outcome.id) (same idempotency key); nothing appended"
            )
        } else {
            context.print("recorded seq \(outcome.seq): \(outcome.type) \(outcome.id)")
        }
    }
}
