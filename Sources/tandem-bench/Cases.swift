import EventLog
import Projections

#if canImport(Glibc)
    import Glibc
#endif

/// The rows of the report: each case once per baseline, and the baselines' own runs.
struct BenchTable {
    var rows: [Measurement] = []
    var baselineRuns: [(case: String, run: Baselines.Run)] = []

    /// Adds a case with its baselines (a missing baseline prints "skipped").
    mutating func add(_ measurement: Measurement, baselines: [(name: String, run: Baselines.Run?)]) {
        if baselines.isEmpty {
            rows.append(measurement)
            return
        }
        for (name, run) in baselines {
            var row = measurement
            row.baselineName = name
            row.baselineRate = run?.rate
            rows.append(row)
            if let run { baselineRuns.append((measurement.name, run)) }
        }
    }

    func print() {
        Harness.printTable(rows)
        guard !baselineRuns.isEmpty else { return }
        Swift.print("\nbaselines, as measured in this run:")
        for (name, run) in baselineRuns {
            Swift.print(
                "  " + Harness.pad(run.name, 34) + Harness.pad(Harness.short(Double(run.events)), 9, right: true)
                    + Harness.pad(Harness.fixed(run.seconds, 3) + " s", 11, right: true)
                    + Harness.pad(Harness.short(run.rate) + "/s", 11, right: true)
                    + Harness.pad(Harness.fixed(Double(run.peakKB) / 1024, 0) + " MB", 9, right: true) + "   for: "
                    + name)
        }
    }
}

/// Runs a child case of this program; nil (and a message) if it failed.
func child(_ arguments: [String]) -> (events: Int, seconds: Double, bytes: Int, peakKB: Int, extra: Double?)? {
    let outcome = Harness.run(selfPath, ["child"] + arguments)
    let fields = outcome.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard outcome.status == 0, fields.count >= 3, let e = Int(fields[0]), let s = Double(fields[1]),
        let b = Int(fields[2])
    else {
        print("case \(arguments[0]) failed: \(outcome.stdout)")
        return nil
    }
    return (e, s, b, outcome.peakKB, fields.count > 3 ? Double(fields[3]) : nil)
}

enum AppendCases {
    /// Durable appends through FileLog next to raw write+fsync on the same disk.
    static func run(work: String, into table: inout BenchTable) throws {
        if let r = child(["append", work, "2000", "1"]) {
            table.add(
                Measurement(
                    name: "durable single append (FileLog)", events: r.events, seconds: r.seconds, bytes: r.bytes,
                    peakKB: r.peakKB, baselineName: "raw write+fsync, 1 line",
                    baselineRate: r.extra.map { Double(r.events) / $0 }),
                baselines: [])
        }
        if let r = child(["append", work, "400", "100"]) {
            table.add(
                Measurement(
                    name: "append, 100 lines per fsync", events: r.events, seconds: r.seconds, bytes: r.bytes,
                    peakKB: r.peakKB, baselineName: "raw write+fsync, 100 lines",
                    baselineRate: r.extra.map { Double(r.events) / $0 }),
                baselines: [])
        }
    }

    /// `tandem append` of 100k commands into a new store: one process, every rule checked,
    /// one vault write, one log write, one fsync each.
    static func batch(
        work: String, into table: inout BenchTable, count: Int = 100_000, attempts: Int = 3, signupsOnly: Bool = false
    ) throws {
        let file = try BenchStores.batchFile(work: work, count: count, signupsOnly: signupsOnly)
        var best: (seconds: Double, peakKB: Int, bytes: Int)?
        for attempt in 0..<attempts {
            let store = work + "/batch-store"
            _ = Harness.run("/bin/rm", ["-rf", store])
            let created = Harness.run(tandem, ["init", "--store", store], environment: BenchStores.environment())
            guard created.status == 0 else { throw BenchFailure("tandem init failed: \(created.stdout)") }
            let outcome = Harness.run(
                tandem, ["append", file, "--store", store, "--format", "json"], environment: BenchStores.environment())
            guard outcome.status == 0 else { throw BenchFailure("tandem append failed: \(outcome.stdout.prefix(400))") }
            let bytes =
                (FileSystem.size(of: store + "/events.jsonl") ?? 0) + (FileSystem.size(of: store + "/vault.jsonl") ?? 0)
            if attempt == 0 || outcome.seconds < best!.seconds { best = (outcome.seconds, outcome.peakKB, bytes) }
        }
        var baselines: [(name: String, run: Baselines.Run?)] = []
        if let python = Harness.which("python3") {
            let script = try Baselines.script(work, "sqlite_insert.py", Baselines.pythonSQLiteInsert)
            baselines.append(
                (
                    "python sqlite3 insert, 1 commit",
                    Baselines.run(
                        "python sqlite3 insert, 1 commit", tool: python,
                        [script, file, work + "/batch.sqlite"], expect: count)
                ))
        } else {
            baselines.append(("python sqlite3 insert, 1 commit", nil))
        }
        if let best {
            table.add(
                Measurement(
                    name: "tandem append: \(Harness.short(Double(count))) \(signupsOnly ? "signups" : "commands")",
                    events: count,
                    seconds: best.seconds,
                    bytes: best.bytes, peakKB: best.peakKB, baselineName: "", baselineRate: nil,
                    note:
                        "whole process, best of \(attempts); every rule checked; \(signupsOnly ? "a launch, then signups" : "40% signups")"
                ),
                baselines: baselines)
        }
    }
}

enum ReadCases {
    /// A full replay of all projections, next to Python, jq and sqlite on the same log.
    static func replay(
        _ stores: [(label: String, path: String, events: Int)], work: String, into table: inout BenchTable
    ) throws {
        let python = Harness.which("python3")
        let projection = try Baselines.script(work, "projection.py", Baselines.pythonProjection)
        for store in stores {
            // Decoding alone on one core: how much of a replay is reading the lines.
            if let d = child(["decode", store.path]) {
                table.add(
                    Measurement(
                        name: "decode only, one core \(store.label)", events: d.events, seconds: d.seconds,
                        bytes: d.bytes, peakKB: d.peakKB, baselineName: "", baselineRate: nil),
                    baselines: [])
            }
            guard let r = child(["replay", store.path]) else { continue }
            let log = store.path + "/events.jsonl"
            let baselines: [(name: String, run: Baselines.Run?)] = [
                (
                    "python3 json.loads projection",
                    python.flatMap {
                        Baselines.run("python3 json.loads projection", tool: $0, [projection, log], expect: r.events)
                    }
                ),
                ("jq: count per type", Baselines.jq(log)),
                ("sqlite3: import + GROUP BY", Baselines.sqlite(log)),
            ]
            table.add(
                Measurement(
                    name: "full replay, all projections \(store.label)", events: r.events, seconds: r.seconds,
                    bytes: r.bytes,
                    peakKB: r.peakKB, baselineName: "", baselineRate: nil),
                baselines: baselines)
        }
    }

    /// The chain verification, next to the auditor's Python.
    static func verify(
        _ stores: [(label: String, path: String, events: Int)], work: String, into table: inout BenchTable
    ) throws {
        let script = try Baselines.script(work, "verify_chain.py", pythonChainVerifier)
        for store in stores {
            let log = store.path + "/events.jsonl"
            // Best of three, taken in turns: this VM's speed drifts by a fifth within a minute,
            // and a single run of either side made the ratio a coin toss.
            var python: Baselines.Run?
            var chain: (events: Int, seconds: Double, bytes: Int, peakKB: Int, extra: Double?)?
            var whole: (seconds: Double, peakKB: Int)?
            for _ in 0..<verifyAttempts {
                if let tool = Harness.which("python3"),
                    let run = Baselines.run(
                        "python3 hashlib chain verify", tool: tool, [script, log], expect: store.events),
                    run.seconds < python?.seconds ?? .infinity
                {
                    python = run
                }
                if let r = child(["verify", log]), r.seconds < chain?.seconds ?? .infinity { chain = r }
                // `tandem verify` as a user runs it: the chain, then every vault commitment.
                let outcome = Harness.run(
                    tandem, ["verify", "--store", store.path], environment: BenchStores.environment())
                if outcome.status == 0, outcome.seconds < whole?.seconds ?? .infinity {
                    whole = (outcome.seconds, outcome.peakKB)
                }
            }
            if let r = chain {
                table.add(
                    Measurement(
                        name: "verify chain \(store.label)", events: r.events, seconds: r.seconds, bytes: r.bytes,
                        peakKB: r.peakKB, baselineName: "", baselineRate: nil,
                        note: "best of \(verifyAttempts), in turns"),
                    baselines: [("python3 hashlib chain verify", python)])
            }
            if let whole {
                table.add(
                    Measurement(
                        name: "tandem verify \(store.label) (+vault)", events: store.events, seconds: whole.seconds,
                        bytes: (FileSystem.size(of: log) ?? 0)
                            + (FileSystem.size(of: store.path + "/vault.jsonl") ?? 0),
                        peakKB: whole.peakKB, baselineName: "", baselineRate: nil,
                        note: "whole process, best of \(verifyAttempts), in turns"),
                    baselines: [("python3 hashlib chain verify", python)])
            }
        }
    }

    /// Runs of each side of the verify rows.
    static let verifyAttempts = 3
}

enum CLICases {
    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Times `runs` runs of a command; nil if one fails.
    static func times(_ arguments: [String], runs: Int) -> [Double]? {
        var out: [Double] = []
        for _ in 0..<runs {
            let outcome = Harness.run(tandem, arguments, environment: BenchStores.environment())
            guard outcome.status == 0 else {
                print("  \(arguments.prefix(3).joined(separator: " ")) failed: \(outcome.stdout.prefix(300))")
                return nil
            }
            out.append(outcome.seconds)
        }
        return out
    }

    /// A CLI append and a warm query on the large store, each next to `tandem --version`.
    static func run(store: String, events: Int, into table: inout BenchTable, runs: Int = 40) throws {
        let listing = Harness.run(
            tandem, ["tandems", "--store", store, "--role", "auditor", "--format", "json"],
            environment: BenchStores.environment())
        guard listing.status == 0, let rest = text(after: "\"tandem\":\"", in: listing.stdout) else {
            throw BenchFailure("no active tandem in \(store)")
        }
        let id = String(rest.prefix { $0 != "\"" })
        guard let version = times(["--version"], runs: runs) else { return }
        let baseline = Baselines.Run(
            name: "tandem --version", events: runs, seconds: median(version) * Double(runs), peakKB: 0)
        let day = BenchStores.until.description
        guard
            let appends = times(
                ["session", "--store", store, "--tandem", id, "--on", day, "--minutes", "45"], runs: runs)
        else { return }
        table.add(
            Measurement(
                name: "CLI append (session), \(Harness.short(Double(events))) store", events: runs,
                seconds: median(appends) * Double(runs), bytes: 0, peakKB: 0, baselineName: "", baselineRate: nil,
                note: "median \(ms(median(appends))), max \(ms(appends.max()!)); --version \(ms(median(version)))"),
            baselines: [("tandem --version", baseline)])
        // The first query after the appends catches up and refreshes the snapshot; the
        // ones after it are warm.
        guard let first = times(["stats", "--store", store], runs: 1),
            let queries = times(["stats", "--store", store], runs: runs)
        else { return }
        let peak = Harness.run(tandem, ["stats", "--store", store], environment: BenchStores.environment()).peakKB
        table.add(
            Measurement(
                name: "warm query (stats), \(Harness.short(Double(events))) store", events: runs,
                seconds: median(queries) * Double(runs), bytes: 0, peakKB: peak, baselineName: "", baselineRate: nil,
                note: "median \(ms(median(queries))); catch-up after \(runs) appends \(ms(first[0]))"),
            baselines: [("tandem --version", baseline)])
        // Time travel, as an auditor asks it: the grouped figures as of the middle of the
        // programme. The first run finds no timeline and no checkpoint (they are removed
        // first): it reads every line and saves them; the runs after it resume from the
        // checkpoint it saved. Another day and a --known-at show the spread.
        let middle = BenchStores.starts.adding(days: 167).description
        let travel = ["stats", "--store", store, "--by", "generation", "--as-of", middle, "--format", "json"]
        let cache = store + "/cache"
        for name in (try? FileSystem.contents(of: cache)) ?? []
        where name.hasPrefix("checkpoint-") || name == "timeline.snapshot" || name == "traits.snapshot" {
            try? FileSystem.remove(cache + "/" + name)
        }
        if let cold = times(travel, runs: 1), let runs = times(travel, runs: 3) {
            let peakTravel = Harness.run(tandem, travel, environment: BenchStores.environment()).peakKB
            let later = BenchStores.starts.adding(days: 290).description
            let otherDay = times(
                ["stats", "--store", store, "--by", "generation", "--as-of", later, "--format", "json"], runs: 1)
            let knownAt = times(
                [
                    "stats", "--store", store, "--role", "auditor", "--known-at", "seq:\(events * 2 / 3)", "--format",
                    "json",
                ],
                runs: 2)
            var note = "median \(ms(median(runs))) from a checkpoint; first (no timeline, no checkpoint) \(ms(cold[0]))"
            if let otherDay { note += "; --as-of \(later) first \(ms(otherDay[0]))" }
            if let knownAt { note += "; --known-at seq:\(events * 2 / 3) \(ms(knownAt[0])), then \(ms(knownAt[1]))" }
            table.add(
                Measurement(
                    name: "time travel (stats --as-of), \(Harness.short(Double(events))) store", events: 3,
                    seconds: median(runs) * 3, bytes: 0, peakKB: peakTravel, baselineName: "", baselineRate: nil,
                    note: note),
                baselines: [])
        }
        // One tandem's sessions: the first run after the appends folds the tail and extends
        // the session index; the warm runs read the model and that tandem's lines only.
        let arguments = ["sessions", "--store", store, "--tandem", id, "--format", "json"]
        let firstSessions = Harness.run(tandem, arguments, environment: BenchStores.environment())
        if firstSessions.status == 0, let warm = times(arguments, runs: 5) {
            let peakSessions = Harness.run(tandem, arguments, environment: BenchStores.environment()).peakKB
            table.add(
                Measurement(
                    name: "sessions --tandem T, \(Harness.short(Double(events))) store", events: 5,
                    seconds: median(warm) * 5, bytes: 0, peakKB: peakSessions, baselineName: "", baselineRate: nil,
                    note:
                        "median \(ms(median(warm))) from the snapshot and session index; first after appends \(ms(firstSessions.seconds))"
                ),
                baselines: [])
        }
        // Every session of the store, as a coordinator lists them: streamed from the session
        // index (events = sessions listed, MB = the CSV written).
        // How many there are: the stored figures say (the output itself is not kept).
        let every = ["sessions", "--store", store, "--format", "csv"]
        let listed = Harness.run(tandem, every, environment: BenchStores.environment())
        let figures = Harness.run(tandem, ["stats", "--store", store], environment: BenchStores.environment())
        let rows =
            figures.stdout.split(separator: "\n").first { $0.hasPrefix("sessions ") }.flatMap {
                Int($0.split(separator: " ").last ?? "")
            } ?? 0
        if listed.status == 0, rows > 0, let warm = times(every, runs: 3) {
            table.add(
                Measurement(
                    name: "sessions (every tandem), \(Harness.short(Double(events))) store", events: rows * 3,
                    seconds: median(warm) * 3, bytes: listed.outputBytes * 3,
                    peakKB: Harness.run(tandem, every, environment: BenchStores.environment()).peakKB,
                    baselineName: "", baselineRate: nil,
                    note: "median \(ms(median(warm))) for \(rows) sessions, streamed from the session index"),
                baselines: [])
        }
        // Every session in a window of history: the window's model from a checkpoint, and the
        // session index narrowed to the window (events = runs, MB = the CSV written).
        let windowed = ["sessions", "--store", store, "--as-of", middle, "--format", "csv"]
        let firstWindowed = Harness.run(tandem, windowed, environment: BenchStores.environment())
        if firstWindowed.status == 0, let warm = times(windowed, runs: 3) {
            table.add(
                Measurement(
                    name: "sessions --as-of (every tandem), \(Harness.short(Double(events))) store", events: 3,
                    seconds: median(warm) * 3, bytes: firstWindowed.outputBytes * 3,
                    peakKB: Harness.run(tandem, windowed, environment: BenchStores.environment()).peakKB,
                    baselineName: "", baselineRate: nil,
                    note: "median \(ms(median(warm))); the session index narrowed to --as-of \(middle)"),
                baselines: [])
        }
        // One tandem's sessions in a window: a slice of the nearest checkpoint, and that
        // tandem's sessions from the session index narrowed to the window.
        let tandemWindow = ["sessions", "--store", store, "--tandem", id, "--as-of", middle, "--format", "json"]
        if let runs = times(tandemWindow, runs: 4) {
            addWarm(
                "sessions --tandem T --as-of, \(Harness.short(Double(events))) store", tandemWindow,
                runs: Array(runs.dropFirst()), into: &table,
                note: "checkpoint slice and narrowed index; first \(ms(runs[0]))")
        }
        // An analyst's activity in a window: a record key for everyone in it. The first run
        // finds no record-key files (removed first) and writes them; the runs after read them.
        for name in [RecordKeyFiles.participants, RecordKeyFiles.tandems] { try? FileSystem.remove(cache + "/" + name) }
        let analyst = ["activity", "--store", store, "--role", "analyst", "--as-of", middle, "--format", "json"]
        if let runs = times(analyst, runs: 4) {
            addWarm(
                "analyst activity --as-of, \(Harness.short(Double(events))) store", analyst,
                runs: Array(runs.dropFirst()), into: &table,
                note: "record keys read from cache/; first (making and writing them) \(ms(runs[0]))")
        }
        // The whole audit trail, streamed (events = lines listed, MB = the CSV written).
        let trail = ["audit", "--store", store, "--role", "auditor", "--format", "csv"]
        if let runs = times(trail, runs: 1) {
            let peak = Harness.run(tandem, trail, environment: BenchStores.environment())
            table.add(
                Measurement(
                    name: "audit (whole trail), \(Harness.short(Double(events))) store", events: events,
                    seconds: runs[0], bytes: peak.outputBytes, peakKB: peak.peakKB, baselineName: "",
                    baselineRate: nil, note: "streamed: a pass to choose the lines, a pass to print them"),
                baselines: [])
        }
        // Everyone, every tandem and every goal, as a coordinator lists them: streamed, the
        // rows made in blocks on every core (events = runs, MB = the CSV written).
        for (what, query) in [
            ("people (everyone)", "people"), ("tandems (every tandem)", "tandems"), ("goals (every tandem)", "goals"),
        ] {
            let arguments = [query, "--store", store, "--format", "csv"]
            guard let runs = times(arguments, runs: 3) else { continue }
            let last = Harness.run(tandem, arguments, environment: BenchStores.environment())
            table.add(
                Measurement(
                    name: "\(what), \(Harness.short(Double(events))) store", events: 3, seconds: median(runs) * 3,
                    bytes: last.outputBytes * 3, peakKB: last.peakKB, baselineName: "", baselineRate: nil,
                    note: "median \(ms(median(runs))), streamed, made in blocks on every core"),
                baselines: [])
        }
        // A member's own sessions with their notes: a slice of the model and a pass over the
        // vault for the notes.
        if let member = text(after: "\"mentor\":\"", in: listing.stdout).map({ String($0.prefix { $0 != "\"" }) }) {
            let own = ["sessions", "--store", store, "--role", "participant:\(member)", "--format", "json"]
            if let runs = times(own, runs: 5) {
                addWarm(
                    "a member's own sessions, \(Harness.short(Double(events))) store", own, runs: runs, into: &table,
                    note: "slice of the model, notes from the vault")
            }
            if let runs = times(own + ["--as-of", middle], runs: 4) {
                addWarm(
                    "a member's own sessions --as-of, \(Harness.short(Double(events))) store",
                    own + ["--as-of", middle],
                    runs: Array(runs.dropFirst()), into: &table,
                    note: "checkpoint slice, narrowed index, notes from the vault; first \(ms(runs[0]))")
            }
        }
        // One tandem's audit trail: the first run reads every line and writes the subject
        // index (removed first); the runs after it read the tandem's lines only.
        try? FileSystem.remove(cache + "/subjects.snapshot")
        let audit = ["audit", "--store", store, "--role", "auditor", "--tandem", id, "--format", "json"]
        if let first = times(audit, runs: 1), let runs = times(audit, runs: 5) {
            addWarm(
                "audit --tandem T, \(Harness.short(Double(events))) store", audit, runs: runs, into: &table,
                note: "from the subject index; first (writes it) \(ms(first[0]))")
            // In a window too: the index, told the tandem's partners by a slice at the head.
            if let runs = times(audit + ["--as-of", middle], runs: 5) {
                addWarm(
                    "audit --tandem T --as-of, \(Harness.short(Double(events))) store", audit + ["--as-of", middle],
                    runs: runs, into: &table, note: "from the subject index, in a window")
            }
        }
        // One day's trail of everything: only the lines the timeline places on that day (and
        // the voids) are read.
        let oneDay = [
            "audit", "--store", store, "--role", "auditor", "--since", middle, "--until", middle, "--format", "json",
        ]
        if let runs = times(oneDay, runs: 5) {
            addWarm(
                "audit of one recording day, \(Harness.short(Double(events))) store", oneDay, runs: runs, into: &table,
                note: "the lines the timeline places on that day, and the voids")
        }
    }

    /// A row of warm runs of one command: their median, and the peak memory of one more run.
    static func addWarm(
        _ name: String, _ arguments: [String], runs: [Double], into table: inout BenchTable, note: String
    ) {
        table.add(
            Measurement(
                name: name, events: runs.count, seconds: median(runs) * Double(runs.count), bytes: 0,
                peakKB: Harness.run(tandem, arguments, environment: BenchStores.environment()).peakKB,
                baselineName: "", baselineRate: nil, note: "median \(ms(median(runs))): " + note),
            baselines: [])
    }

    /// `tandem suggest` on 1,000 mentors × 1,000 mentees, every pair eligible, next to
    /// SciPy's bare assignment on a random matrix of the same size; the note compares the
    /// optimum's total with a greedy pass over the same candidates.
    static func suggest(work: String, into table: inout BenchTable, size: Int = 1000) throws {
        let store = try BenchStores.eligiblePool(tandem, work: work, size: size)
        guard let runs = times(["suggest", "--store", store, "--format", "json"], runs: 3) else { return }
        let outcome = Harness.run(
            tandem, ["suggest", "--store", store, "--format", "json"], environment: BenchStores.environment())
        var note = "whole process: scores, optimum, reasons; events = pairs scored"
        if let (total, candidates) = Self.proposal(outcome.stdout) {
            let greedy = Self.greedyTotal(candidates)
            note +=
                "; total \(Harness.fixed(total, 2)) vs greedy \(Harness.fixed(greedy, 2)) (+\(Harness.fixed((total / greedy - 1) * 100, 2)) %)"
        }
        var scipy: Baselines.Run?
        if let python = Harness.which("python3") {
            let script = try Baselines.script(work, "assignment.py", Baselines.scipyAssignment)
            let outcome = Harness.run(python, [script, String(size), String(size)])
            let lines = outcome.stdout.split(separator: "\n")
            if outcome.status == 0, lines.count >= 2, let cells = Int(lines[0]), let seconds = Double(lines[1]) {
                scipy = Baselines.Run(
                    name: "scipy linear_sum_assignment", events: cells, seconds: seconds, peakKB: outcome.peakKB)
            }
        }
        table.add(
            Measurement(
                name: "suggest \(size) × \(size)", events: size * size, seconds: median(runs), bytes: 0,
                peakKB: outcome.peakKB, baselineName: "", baselineRate: nil, note: note),
            baselines: [("scipy linear_sum_assignment", scipy)])
    }

    /// The `total` and the `candidates` of `tandem suggest --format json` output.
    static func proposal(_ json: String) -> (Double, [(mentor: String, mentee: String, score: Double)])? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBytes { raw -> (Double, [(mentor: String, mentee: String, score: Double)])? in
            var s = JSONScanner(raw)
            var total: Double?
            var candidates: [(mentor: String, mentee: String, score: Double)] = []
            do throws(JSONSyntaxError) {
                try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                    if s.keyEquals(key, "total") {
                        total = try s.parseValue().doubleValue
                    } else if s.keyEquals(key, "candidates") {
                        try s.forEachElement { (s: inout JSONScanner) throws(JSONSyntaxError) in
                            var mentor = "", mentee = "", score = 0.0
                            try s.forEachMember {
                                (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                                if s.keyEquals(key, "mentor") {
                                    mentor = try s.parseString()
                                } else if s.keyEquals(key, "mentee") {
                                    mentee = try s.parseString()
                                } else if s.keyEquals(key, "score") {
                                    score = try s.parseValue().doubleValue ?? 0
                                } else {
                                    try s.skipValue()
                                }
                            }
                            candidates.append((mentor, mentee, score))
                        }
                    } else {
                        try s.skipValue()
                    }
                }
            } catch { return nil }
            return total.map { ($0, candidates) }
        }
    }

    /// The total of a greedy pass: the best-scoring pair first, as long as both are free.
    static func greedyTotal(_ candidates: [(mentor: String, mentee: String, score: Double)]) -> Double {
        var taken = Set<String>(), total = 0.0
        for c in candidates.sorted(by: { ($0.score, $1.mentor, $1.mentee) > ($1.score, $0.mentor, $0.mentee) })
        where !taken.contains("m:" + c.mentor) && !taken.contains("e:" + c.mentee) {
            taken.insert("m:" + c.mentor)
            taken.insert("e:" + c.mentee)
            total += c.score
        }
        return total
    }

    /// The text after the first occurrence of `marker`.
    static func text(after marker: String, in text: String) -> Substring? {
        let m = Array(marker.utf8)
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].utf8.starts(with: m) { return text[text.utf8.index(index, offsetBy: m.count)...] }
            index = text.index(after: index)
        }
        return nil
    }

    static func ms(_ seconds: Double) -> String { Harness.fixed(seconds * 1000, 1) + " ms" }
}
