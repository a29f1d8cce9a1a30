import EventLog
import Mentoring
import Projections

/// `tandem demo`: a realistic simulated programme, for a first run and for benchmarks.
enum DemoCommand {
    static let spec = CommandSpec(
        name: "demo",
        abstract: "Simulate a realistic programme, then show its reports.",
        discussion: """
            Simulates eleven months of reverse mentoring, ending two weeks before today, through
            the same recording path as the real
            commands, so every rule is enforced: signups with profiles, optimal matching at the
            kick-off and rematching every two weeks, sessions at the cadence, goals, a few swaps,
            withdrawals (more of them early), and completions at the programme's end. The same
            seed gives the same log. It prints the overview and writes the HTML report beside the
            store. Without --store it creates ./tandem-demo (or -2, -3, … if that exists).
            """,
        options: [
            .value("participants", "n", "How many people sign up (default 40; pilots have 10–20 pairs)."),
            .value("seed", "s", "The simulation's seed (default 2027)."),
            .value("until", "date", "Stop on this day (default: the programme's end, two weeks before today)."),
            .value("format", "format", "Output format.", allowed: ["table", "json"]),
        ],
        globals: GlobalOptions.base
    ) { command, context in
        var settings = ProgrammeSimulation.Settings()
        settings.today = BusinessDate(context.clock.now())
        do throws(FieldError) {
            if let n = try command.optionalInteger("participants", "n") {
                guard (4...2_000_000).contains(n) else {
                    throw command.invalid("participants", "n", String(n), "from 4 to 2,000,000")
                }
                settings.participants = n
            }
            if let text = command.value("seed") {
                guard let seed = UInt64(text) else { throw command.invalid("seed", "s", text, "a whole number ≥ 0") }
                settings.seed = seed
            }
            settings.until = try command.optionalDate("until")
        } catch { throw UsageError(error.message, path: command.path) }
        let root = try storePath(command, context)
        let (store, _) = try Store.create(
            root: root, actor: "demo", clock: context.clock, random: context.random,
            lockTimeout: try GlobalOptions.lockTimeout(context), warn: context.warn)
        let service = ProgrammeService(store: store, clock: context.clock, random: context.random)
        var simulation = ProgrammeSimulation(settings: settings)
        try service.recording { recorder in try simulation.run(recorder: recorder, random: context.random) }
        // The reports are as of the simulation's last day. No event is about a later day (the
        // rules refuse the future), so the whole log is that window, and the fold leaves the
        // projections snapshot behind for the next query.
        let asOf = simulation.until
        let queries = QueryService(
            store: store, clock: context.clock, random: context.random,
            warn: { context.warn(ErrorReport.words($0)) })
        let input = try queries.input(.init(viewer: .coordinator, today: asOf))
        let stats = try StatsQuery.run(input, .init())
        let dropouts = try DropoutsQuery.run(input, .init())
        let atRisk = try TandemsQuery.run(input, .init(atRisk: true))
        let report = try HTMLReport.render(input, programme: nil)
        // Beside the store, never in it: the store holds only the log, the vault and their
        // records, and a report with names would outlive a `forget` there.
        let reportPath = try OutputFile.checked(
            FileSystem.parentDirectory(of: context.absolute(root)) + "/" + FileSystem.baseName(of: root)
                + "-report.html",
            option: "store", store: store)
        if case .string(let html)? = report.extra.first(where: { $0.0 == "html" })?.1 {
            try FileSystem.replaceAtomically(reportPath, with: Array(html.utf8), mode: 0o600)
        }
        queries.record(
            .init(command: "demo", actor: "demo"), role: .coordinator, basisSeq: input.basis.head.seq, suppressed: 0,
            confidentialRead: false, outcome: "ok")
        if GlobalOptions.format(command) == "json" {
            context.print(
                JSONValue.object([
                    "store": .string(root), "events": .int(Int64(input.basis.head.seq)),
                    "seed": .int(Int64(settings.seed)),
                    "participants": .int(Int64(settings.participants)), "report": .string(reportPath),
                    "stats": stats.payload, "dropouts": dropouts.payload,
                    "atRisk": .int(Int64(atRisk.payload.arrayValue?.count ?? 0)),
                    "basis": input.basis.json,
                ]).description)
            return ExitCode.ok
        }
        context.print(
            "Simulated \"\(simulation.name)\", \(simulation.starts) to \(simulation.ends) (seed \(settings.seed)): \(settings.participants) people, \(Format.count(simulation.summary.matchRuns, "match run")), \(input.basis.head.seq) events in \(root)"
        )
        context.print()
        context.stdout.write(Renderer.table(stats.table, width: context.tableWidth))
        context.print()
        // The dropout summary: who counts, the figures, the reasons.
        for note in dropouts.notes.prefix(3) { context.print(note) }
        context.print(
            "At risk on \(asOf): \(atRisk.payload.arrayValue?.count ?? 0) active tandems without a session for over 60 days"
        )
        context.print(input.basis.footer)
        context.print()
        context.print("Report: \(reportPath)")
        context.print("Next:   tandem --store \(root) tandems --status all")
        context.print("        tandem --store \(root) --role analyst stats --by generation")
        context.print("        tandem --store \(root) verify")
        return ExitCode.ok
    }

    /// `--store`, else `$TANDEM_STORE`, else the first of ./tandem-demo, ./tandem-demo-2, …
    /// that does not exist yet. The demo never writes into a store that holds anything.
    static func storePath(_ command: ParsedCommand, _ context: CommandContext) throws -> String {
        if let given = try GlobalOptions.givenStore(command, context) {
            let path = context.absolute(given)
            let kind = FileSystem.kind(of: path)
            if kind.exists && (!kind.isDirectory || !((try? FileSystem.contents(of: path)) ?? []).isEmpty) {
                throw CommandFailure(
                    "the demo needs a new or empty directory, and \(path) is not one; pass another --store")
            }
            return path
        }
        var n = 1
        while true {
            let path = context.absolute(n == 1 ? "tandem-demo" : "tandem-demo-\(n)")
            if !FileSystem.kind(of: path).exists { return path }
            n += 1
        }
    }
}
