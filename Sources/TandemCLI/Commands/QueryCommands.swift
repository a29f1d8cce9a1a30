import EventLog
import Mentoring
import Projections

/// The queries: each replays the log (in the window asked for), answers in the viewer's
/// view, records the run in the access ledger, and prints table, JSON or CSV.
enum QueryCommands {
    typealias Run = @Sendable (QueryInput, ParsedCommand, QueryEnvironment) throws -> QueryResult

    /// What a query may need beyond the input: the log (for streamed reports) and window.
    struct QueryEnvironment {
        var store: Store
        var window: ReplayWindow
        var context: CommandContext
        var service: QueryService
    }

    static let programmeOption = OptionSpec.value("programme", "id", "Only this programme.")

    /// A query command: parse the window and role, replay, run, ledger, render.
    /// `figuresSuffice` says when the stored headline figures and programmes answer it (a
    /// plain `stats`; `sessions` listed from the index),
    /// `confinedTo` which tandems it is about, if it names some (`--tandem T`).
    static func spec(
        _ name: String, _ abstract: String, discussion: String? = nil, kind: QueryKind? = nil, options: [OptionSpec],
        keepsSessions: (@Sendable (ParsedCommand, Viewer) throws -> SessionKeeping)? = nil,
        figuresSuffice: (@Sendable (ParsedCommand) -> Bool)? = nil,
        confinedTo: (@Sendable (ParsedCommand, Viewer) throws -> Confinement?)? = nil, run: @escaping Run
    ) -> CommandSpec {
        CommandSpec(
            name: name, abstract: abstract, discussion: discussion, options: options, globals: GlobalOptions.query
        ) { command, context in
            let viewer = try Session.viewer(command, context)
            let store = try Session.store(command, context)
            var service = QueryService(
                store: store, clock: context.clock, random: context.random,
                warn: { context.warn(ErrorReport.words($0)) })
            service.checkpointSpacing = try GlobalOptions.checkpointSpacing(context)
            let access = QueryService.Access(
                command: command.path.joined(separator: " "), actor: try GlobalOptions.actor(command, context),
                filters: ledgerFilters(command), keyed: keyedFilters(command))
            let window: ReplayWindow, knownAt: String?, sessions: SessionKeeping, confined: Confinement?
            do {
                (window, knownAt) = try parseWindow(command)
                sessions = try keepsSessions?(command, viewer) ?? .none
                confined = try confinedTo?(command, viewer)
            } catch {
                // A usage error found before the service runs (a bad --as-of) is on the record too.
                service.record(
                    access, role: viewer, basisSeq: nil, suppressed: 0, confidentialRead: false,
                    outcome: QueryService.outcome(of: error))
                throw error
            }
            var request = QueryService.Request(
                viewer: viewer, window: window, knownAt: knownAt, keepsSessions: sessions,
                figuresSuffice: figuresSuffice?(command) ?? false, confinedTo: confined)
            request.kind = kind
            var loaded: QueryInput?
            let result = try service.answer(request, access: access) { input in
                loaded = input
                return try run(
                    input, command, QueryEnvironment(store: store, window: window, context: context, service: service))
            }
            context.leaveForExit(loaded)
            loaded = nil
            let format = Renderer.Format(rawValue: GlobalOptions.format(command)) ?? .table
            try Renderer.write(
                result, as: format, width: context.tableWidth, bytes: { context.stdout.write(bytes: $0) })
            context.leaveForExit(result)
            return ExitCode.ok
        }
    }

    /// `--as-of DATE` and `--known-at DATE|seq:N`.
    static func parseWindow(_ command: ParsedCommand) throws -> (ReplayWindow, String?) {
        var window = ReplayWindow()
        do throws(FieldError) { window.asOf = try command.optionalDate("as-of") } catch {
            throw UsageError(error.message, path: command.path)
        }
        guard let text = command.value("known-at") else { return (window, nil) }
        if text.hasPrefix("seq:") {
            guard let seq = Int(text.dropFirst(4)), seq >= 1 else {
                throw UsageError(
                    "The value '\(text)' is invalid for '--known-at <date|seq:N>': expected seq:N with N ≥ 1, or a date",
                    path: command.path)
            }
            window.knownAt = seq
        } else {
            guard let day = BusinessDate(text) else {
                throw UsageError(
                    "The value '\(text)' is invalid for '--known-at <date|seq:N>': \(ParsedCommand.dateAdvice(text)), or seq:N",
                    path: command.path)
            }
            window.recordedBy = Timestamp(secondsSinceEpoch: Int64(day.dayNumber) * 86400 + 86399)
        }
        return (window, text)
    }

    /// Filters the ledger keeps as they are: ids, dimension names, dates, numbers.
    static let plainFilters = [
        "programme", "tandem", "participant", "status", "by", "as-of", "known-at", "since", "until", "within",
    ]

    /// The filters the ledger keeps as they are.
    static func ledgerFilters(_ command: ParsedCommand) -> JSONObject {
        var filters = JSONObject()
        for name in plainFilters {
            if let value = command.value(name) { filters[name] = .string(value) }
        }
        if command.has("at-risk") { filters["at-risk"] = .bool(true) }
        return filters
    }

    /// The filters whose values describe people: a `--segment` value (a unit, a gender) and a
    /// search (a name, or part of one), which the ledger keeps as keyed hashes.
    static func keyedFilters(_ command: ParsedCommand) -> [(name: String, dimension: String?, value: String)] {
        var keyed: [(name: String, dimension: String?, value: String)] = []
        if let segment = command.value("segment") {
            let parts = segment.split(separator: "=", maxSplits: 1).map(String.init)
            keyed.append(("segment", parts.count == 2 ? parts[0] : "?", parts.count == 2 ? parts[1] : segment))
        }
        if let search = command.value("search") { keyed.append(("search", nil, Field.fold(search.trimmed))) }
        return keyed
    }

    static func ids<Kind>(_ command: ParsedCommand, _ name: String, _: Kind.Type) throws -> Identifier<Kind>? {
        do throws(FieldError) { return try command.optionalID(name, Kind.self) } catch {
            throw UsageError(error.message, path: command.path)
        }
    }

    static let tandems = spec(
        "tandems", "List tandems with their sessions, minutes and goals.",
        discussion: """
            Coordinators see names; auditors see pseudonymous ids; a participant sees their own
            tandems and their partner's name. With --at-risk: active tandems without a session
            for more than twice the programme's cadence (analysts get the count only).
            """,
        options: [
            programmeOption,
            .value(
                "status", "status", "Which tandems (default: active).",
                allowed: TandemsQuery.StatusFilter.allCases.map(\.rawValue)),
            .flag("at-risk", "Only active tandems that have not met for more than twice the cadence."),
        ], confinedTo: ownTandems
    ) { input, command, _ in
        try TandemsQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                status: TandemsQuery.StatusFilter(rawValue: command.value("status") ?? "active") ?? .active,
                atRisk: command.has("at-risk")))
    }

    static let stats = spec(
        "stats", "Participation figures of a programme, optionally by segment.",
        discussion: """
            Analysts see aggregates only, perturbed by the cell-key method: every count is rounded
            at random to a multiple of 3 (by at most 2, unbiased, the same people always giving
            the same figure), counts between 1 and k − 1 (k is the programme's minGroupSize) are
            not shown, and a --by group or --segment of fewer than k people is hidden or refused.
            Output says how many cells were suppressed and why; basis.disclosure names the method.
            """,
        options: [
            programmeOption,
            .value(
                "by", "key", "Break down by a segment, or compare programmes (--by programme).",
                allowed: SegmentKey.allCases.map(\.rawValue)),
            .value("segment", "key=value", "Only people in one segment, e.g. unit=Legal."),
        ], figuresSuffice: { command in command.value("by") == nil && command.value("segment") == nil }
    ) { input, command, _ in
        try StatsQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                by: command.value("by").flatMap(SegmentKey.init(rawValue:)), segment: try segmentFilter(command)))
    }

    /// `--segment KEY=VALUE`, parsed.
    static func segmentFilter(_ command: ParsedCommand) throws -> SegmentFilter? {
        guard let text = command.value("segment") else { return nil }
        guard let parsed = SegmentFilter(text) else {
            throw UsageError(
                "The value '\(text)' is invalid for '--segment <key=value>': expected KEY=VALUE with KEY one of \(SegmentKey.allCases.map(\.rawValue).joined(separator: ", "))",
                path: command.path)
        }
        return parsed
    }

    static let audit = spec(
        "audit", "The event trail: who recorded what, when, and what was voided.",
        discussion: """
            For a participant, every event that touched them or their tandems, their partner's
            withdrawal and swaps included, and their chain of partners. Summaries name ids, never
            names, notes, goal texts or free-text reasons. --since/--until filter by the day an
            event was recorded.
            """,
        kind: .audit,
        options: [
            .value("participant", "id", "Only what touched this participant."),
            .value("tandem", "id", "Only what touched this tandem."),
            programmeOption,
            .value("since", "date", "Recorded on or after this day."),
            .value("until", "date", "Recorded on or before this day."),
        ],
        // The trail of everything or of a programme reads the log, not the model: the
        // programmes suffice to check the subject.
        figuresSuffice: { command in command.value("participant") == nil && command.value("tandem") == nil },
        confinedTo: { command, _ in
            if let tandem = try ids(command, "tandem", TandemKind.self) { return Confinement(tandems: [tandem]) }
            if let person = try ids(command, "participant", ParticipantKind.self) {
                return Confinement(participants: [person])
            }
            return nil
        }
    ) { input, command, environment in
        let chosen = ["participant", "tandem", "programme"].filter { command.value($0) != nil }
        guard chosen.count <= 1 else {
            throw UsageError(
                "Give at most one of --participant, --tandem and --programme (got \(chosen.map { "--" + $0 }.joined(separator: " and ")))",
                path: command.path)
        }
        var subject = AuditQuery.Subject.everything
        if let p = try ids(command, "participant", ParticipantKind.self) { subject = .participant(p) }
        if let t = try ids(command, "tandem", TandemKind.self) { subject = .tandem(t) }
        if let p = try ids(command, "programme", ProgrammeKind.self) { subject = .programme(p) }
        let since: BusinessDate?, until: BusinessDate?
        do throws(FieldError) {
            since = try command.optionalDate("since")
            until = try command.optionalDate("until")
        } catch { throw UsageError(error.message, path: command.path) }
        return try environment.service.audit(
            input, window: environment.window, options: .init(subject: subject, since: since, until: until))
    }

    static let people = spec(
        "people", "Find people: names, profiles, where they stand (coordinators).",
        discussion: """
            Everyone signed up, with their profile as of the as-of date and their status: waiting
            (in no tandem, not done), matched (in an active tandem), withdrawn, or done (their
            last tandem completed), with the tandem and the date of that status. --search matches
            names and emails without regard to case or accents ("muller" finds "Müller"). A
            participant sees their own row; analysts and auditors are pointed to `tandem stats`.
            """,
        kind: .people,
        options: [
            programmeOption,
            .value("search", "text", "Only people whose name or email contains TEXT."),
            .value(
                "status", "status", "Only people with this status (default all).",
                allowed: PeopleQuery.Status.allCases.map(\.rawValue)),
        ], confinedTo: ownTandems
    ) { input, command, _ in
        try PeopleQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self), search: command.value("search"),
                status: command.value("status").flatMap(PeopleQuery.Status.init(rawValue:)) ?? .all))
    }

    /// A participant's own tandems (a slice of the model answers); everything for the others.
    static let ownTandems: @Sendable (ParsedCommand, Viewer) throws -> Confinement? = { _, viewer in
        if case .participant = viewer { return Confinement() }
        return nil
    }

    /// `--tandem T`: that tandem; none, for a participant: their own tandems; else everything.
    static let tandemOrOwn: @Sendable (ParsedCommand, Viewer) throws -> Confinement? = { command, viewer in
        if let tandem = try ids(command, "tandem", TandemKind.self) { return Confinement(tandems: [tandem]) }
        if case .participant = viewer { return Confinement() }
        return nil
    }

    static let goals = spec(
        "goals", "Goals with their dates, and which are overdue.",
        kind: .goals,
        options: [
            programmeOption, .value("tandem", "id", "Only this tandem's goals."),
        ], confinedTo: tandemOrOwn
    ) { input, command, _ in
        try GoalsQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                tandem: try ids(command, "tandem", TandemKind.self)))
    }

    static let sessions = spec(
        "sessions", "Sessions held; notes only for the tandem's own members.",
        kind: .sessions,
        options: [
            programmeOption, .value("tandem", "id", "Only this tandem's sessions."),
        ], keepsSessions: { command, _ in try ids(command, "tandem", TandemKind.self).map { .of([$0]) } ?? .listed },
        // Every tandem's sessions are listed from the index: the programmes are all the
        // model it needs.
        figuresSuffice: { command in command.value("tandem") == nil }, confinedTo: tandemOrOwn
    ) { input, command, _ in
        try SessionsQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                tandem: try ids(command, "tandem", TandemKind.self)))
    }

    static let activity = spec(
        "activity", "Activity over time: sessions, matches, withdrawals and more, per month or quarter.",
        discussion: """
            One row per period from the programme's start to the as-of date: sessions, minutes,
            online and in-person sessions, tandems active at the period's end, matches (new
            tandems), withdrawals, goals reached and new participants. Every role may run it:
            analysts get perturbed figures (see `tandem help stats`), a participant their own
            tandems' activity.
            """,
        options: [
            programmeOption,
            .value(
                "by", "period", "The period length (default: month).",
                allowed: ActivityQuery.Period.allCases.map(\.rawValue)),
            .value("segment", "key=value", "Only people in one segment, and their tandems."),
        ],
        // Each session is needed where figures are perturbed per tandem (analysts), or for
        // some people only (a segment; a participant's own tandems, from a slice); an exact
        // view of a whole programme sums the model's daily counts.
        keepsSessions: { command, viewer in
            if case .participant = viewer { return .all }
            // From the session index where the window is the whole log.
            if viewer == .analyst || command.value("segment") != nil { return .listed }
            return .none
        },
        confinedTo: ownTandems
    ) { input, command, _ in
        try ActivityQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                period: command.value("by").flatMap(ActivityQuery.Period.init(rawValue:)) ?? .month,
                segment: try segmentFilter(command)))
    }

    static let dropouts = spec(
        "dropouts", "Who drops out, when and why: a Kaplan–Meier survival curve.",
        discussion: """
            Over the people ever matched: origin is the day they first entered a tandem, the event
            their withdrawal; they are censored at the completion of their last tandem, or at the
            earlier of the as-of date and the programme's end. The interval is the 95% interval of
            the log(−log) transform with Greenwood's variance (as lifelines computes it). Analysts
            get a life table over intervals of the cadence (at least 30 days) from perturbed
            counts, and perturbed figures everywhere else (see `tandem help stats`).
            """,
        options: [
            programmeOption,
            .value(
                "by", "key", "A curve per group, with a log-rank test across them.",
                allowed: SegmentKey.allCases.map(\.rawValue)),
            .value(
                "population", "who", "Who counts (default: all).",
                allowed: DropoutsQuery.PopulationFilter.allCases.map(\.rawValue)),
        ]
    ) { input, command, _ in
        try DropoutsQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                by: command.value("by").flatMap(SegmentKey.init(rawValue:)),
                population: command.value("population").flatMap(DropoutsQuery.PopulationFilter.init(rawValue:)) ?? .all)
        )
    }

    static let report = spec(
        "report", "Write the programme report: one self-contained HTML file.",
        discussion: """
            Headline numbers, sessions per month, active tandems over time, the survival curve
            with its interval, withdrawal reasons, goal attainment and, for coordinators, a table
            of active tandems with health markers. Inline CSS and SVG, no script and no external
            requests; it prints well to PDF. It respects the role: the analyst's version is
            perturbed like every analyst output, and says so; the coordinator's says it is exact.
            """,
        options: [
            .value("html", "file", "Where to write the report.", required: true),
            programmeOption,
            .value(
                "by", "key", "One survival curve per group, with the log-rank p-value.",
                allowed: SegmentKey.allCases.filter { $0 != .programme }.map(\.rawValue)),
        ],
        // An exact report reads its monthly chart from the model (snapshot and tail); a
        // perturbed one needs each tandem's sessions per month, so replays keeping them.
        keepsSessions: { _, viewer in viewer == .analyst ? .listed : .none }
    ) { input, command, environment in
        guard (command.value("format") ?? "table") != "csv" else {
            throw UsageError(
                "The value 'csv' is invalid for '--format <format>' here: a report is one HTML file; use 'table' or 'json' for the summary",
                path: command.path)
        }
        let path = try OutputFile.checked(
            environment.context.absolute(command.value("html")!), option: "html", store: environment.store)
        var result = try HTMLReport.render(
            input, programme: try ids(command, "programme", ProgrammeKind.self),
            by: command.value("by").flatMap(SegmentKey.init(rawValue:)))
        guard case .string(let html)? = result.extra.first(where: { $0.0 == "html" })?.1 else {
            preconditionFailure("the report renders HTML")
        }
        do {
            // Written from the string's own bytes: a coordinator's report of the 10M store is
            // 100 MB of HTML, and a copy of it was the peak.
            var html = html
            try FileSystem.replaceAtomically(path, mode: 0o600) { write in
                try html.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
            }
        } catch {
            throw CommandFailure("cannot write the report: \(error)")
        }
        result.extra.removeAll { $0.0 == "html" }
        result.payload = .object(
            (result.payload.objectValue ?? JSONObject()).members.reduce(into: JSONObject()) { $0[$1.key] = $1.value }
                .merging(["file": .string(path)]))
        result.table = TextTable(
            headers: ["report", "bytes", "role"], rows: [[path, String(html.utf8.count), input.viewer.description]],
            numeric: [1])
        return result
    }

    static let suggest = spec(
        "suggest", "Propose the best tandems for everyone waiting, with reasons.",
        discussion: """
            The pool: everyone in the programme who is not in an active tandem (people freed by a
            swap or a withdrawal included). Hard rules: mentor × mentee, different units (unless
            --allow-same-unit), never former partners, and the mentor is the junior (a lower
            level, or at the same level born later). Score in [0, 1]: 0.5 skill fit (the mentor's
            offers covering the mentee's wants), 0.2 shared interests, and 0.1 each for a
            different generation, a level gap (full at 5 levels) and different genders. The
            proposal maximises the total score (Kuhn–Munkres), ties going to more pairs. JSON
            lists every eligible pair under candidates, so anyone can check the optimum. With
            --record, the proposal is recorded as a MatchRunRecorded event; `tandem match --run`
            links a match to it.
            """,
        kind: .suggest,
        options: [
            programmeOption,
            .flag("allow-same-unit", "Also pair people from the same unit."),
            .flag("record", "Record the proposal as a match run (coordinators)."),
        ]
    ) { input, command, environment in
        var (result, proposal, programme) = try SuggestQuery.run(
            input,
            .init(
                programme: try ids(command, "programme", ProgrammeKind.self),
                allowSameUnit: command.has("allow-same-unit")))
        if command.has("record") {
            let outcome = try environment.service.recordMatchRun(
                proposal, programme: programme.id, input: input,
                context: try Session.recordingContext(command, environment.context))
            result.extra.append(("run", .object(["seq": .int(Int64(outcome.seq)), "id": .string(outcome.id)])))
            result.notes.append(
                "recorded seq \(outcome.seq): MatchRunRecorded \(outcome.id); match with `tandem match … --run \(outcome.id)`"
            )
        }
        return result
    }

    static let due = spec(
        "due", "Session invitations: tandems due to meet, and overdue ones.",
        discussion: """
            A tandem's next session falls due at its last session (or its match) plus the
            programme's cadence. With --ics FILE, writes an RFC 5545 calendar with one all-day
            event per due tandem (names only in the coordinator view, never notes or goal texts).
            """,
        kind: .due,
        options: [
            programmeOption,
            .value("within", "days", "How far ahead to look (default 14)."),
            .value("ics", "file", "Also write the invitations as an iCalendar file."),
        ], confinedTo: ownTandems
    ) { input, command, environment in
        let within: Int
        do throws(FieldError) { within = try command.optionalInteger("within", "days") ?? 14 } catch {
            throw UsageError(error.message, path: command.path)
        }
        guard (0...3660).contains(within) else {
            throw UsageError(
                "The value '\(within)' is invalid for '--within <days>': expected a number of days from 0 to 3660 (ten years)",
                path: command.path)
        }
        let options = DueQuery.Options(programme: try ids(command, "programme", ProgrammeKind.self), within: within)
        var result = try DueQuery.run(input, options)
        if let file = command.value("ics") {
            let path = try OutputFile.checked(
                environment.context.absolute(file), option: "ics", store: environment.store)
            let calendar = ICalendar.calendar(
                try DueQuery.items(input, options), input: input, stamp: environment.context.clock.now())
            do { try FileSystem.replaceAtomically(path, with: Array(calendar.utf8), mode: 0o600) } catch {
                throw CommandFailure("cannot write the calendar: \(error)")
            }
            result.notes.append("Wrote \(Format.count(result.payload.arrayValue?.count ?? 0, "invitation")) to \(path)")
            result.extra.append(("ics", .string(path)))
        }
        return result
    }

    static let access = spec(
        "access", "The access ledger: who ran which report, in which role.",
        options: [
            .value("since", "date", "Only runs on or after this day.")
        ]
    ) { input, command, environment in
        let since: BusinessDate?
        do throws(FieldError) { since = try command.optionalDate("since") } catch {
            throw UsageError(error.message, path: command.path)
        }
        return try environment.service.accessLog(input, since: since)
    }
}
