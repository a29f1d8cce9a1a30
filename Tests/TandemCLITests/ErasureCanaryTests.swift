import EventLog
import Foundation
import TestSupport
import Testing

/// A canary in every input that can hold personal data about one person, "the target": her
/// profile, her tandems' notes and goal texts, her withdrawal reason, the reasons a rule was
/// waived for her, a correction's reason, whom an actor acted for, an idempotency key. After
/// `forget`, none may stand in any byte of any file of the store.
enum ErasureCanary {
    static let markers = [
        "Zqcanaryname", "zq-canary-mail", "ZqCanaryUnit", "zqcanarygender", "zqcanaryskill", "ZQ-CANARY-NOTE",
        "ZQ-CANARY-GOAL", "ZQ-CANARY-REASON", "ZQ-CANARY-OVERRIDE", "ZQ-CANARY-SWAP", "ZQ-CANARY-VOID",
        "ZQ-CANARY-BEHALF", "ZQ-CANARY-KEY", "ZQ-CANARY-CHECK", "ZQ-CANARY-FIT",
    ]

    /// Runs a command and returns the id it printed last ("recorded seq N: Type ID").
    @discardableResult
    static func record(_ cli: CLI, _ arguments: [String]) throws -> String {
        let outcome = try cli.run(arguments)
        guard outcome.status == 0 else { throw SeedingFailed(message: "\(arguments): \(outcome.stderr)") }
        return String(outcome.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The programme: the target (a mentee) with two mentors over time, a bystander pair,
    /// and every free-text input about her carrying a marker. Returns the target's id.
    static func build(_ cli: CLI, withdraw: Bool = true) throws -> (target: String, tandem: String) {
        try cli("init")
        try record(
            cli,
            [
                "programme", "launch", "--id", "pilot", "--name", "Pilot", "--starts", "2027-01-01", "--ends",
                "2027-10-31",
            ])
        func signUp(
            _ name: String, _ role: String, _ unit: String, email: String? = nil, gender: String = "f",
            skills: String = "ai"
        ) throws -> String {
            var arguments = [
                "signup", "--programme", "pilot", "--role", role, "--name", name, "--unit", unit, "--level",
                role == "mentor" ? "2" : "8",
                "--born", role == "mentor" ? "1999" : "1963", "--gender", gender, "--offers", skills, "--wants", skills,
                "--interests", skills, "--on", "2027-01-05",
            ]
            if let email { arguments += ["--email", email] }
            return try record(cli, arguments)
        }
        let target = try signUp(
            "Anna Zqcanaryname", "mentee", "ZqCanaryUnit", email: "zq-canary-mail@example.org",
            gender: "zqcanarygender",
            skills: "zqcanaryskill")
        let mentorA = try signUp("Ben Other", "mentor", "Board")
        let mentorB = try signUp("Cem Other", "mentor", "Sales")
        let bystanderMentor = try signUp("Dora Other", "mentor", "IT")
        let bystanderMentee = try signUp("Emil Other", "mentee", "Legal")
        let tandem = try record(
            cli,
            [
                "match", "--programme", "pilot", "--mentor", mentorA, "--mentee", target, "--on", "2027-01-10",
                "--override", "ZQ-CANARY-OVERRIDE only two volunteers in that unit",
            ])
        try record(
            cli,
            [
                "match", "--programme", "pilot", "--mentor", bystanderMentor, "--mentee", bystanderMentee, "--on",
                "2027-01-10",
            ])
        try record(
            cli,
            [
                "session", "--tandem", tandem, "--on", "2027-01-20", "--minutes", "60", "--notes",
                "ZQ-CANARY-NOTE first meeting",
                "--on-behalf-of", "ZQ-CANARY-BEHALF her assistant", "--key", "ZQ-CANARY-KEY-1",
            ])
        let session = Files.text(cli.store + "/events.jsonl").split(separator: "\n").count
        try record(
            cli,
            [
                "goal", "set", "--tandem", tandem, "--goal", "g1", "--text", "ZQ-CANARY-GOAL a LinkedIn profile",
                "--on", "2027-01-20",
            ])
        try record(cli, ["void", "--seq", String(session), "--reason", "ZQ-CANARY-VOID entered for the wrong day"])
        let swapped = try record(
            cli,
            [
                "swap", "--tandem", tandem, "--leaving", mentorA, "--joining", mentorB, "--on", "2027-02-01",
                "--reason", "mismatch", "--notes", "ZQ-CANARY-SWAP did not get along",
            ])
        try record(
            cli,
            [
                "session", "--tandem", swapped, "--on", "2027-02-10", "--minutes", "45", "--notes",
                "ZQ-CANARY-NOTE second",
            ])
        try record(
            cli,
            [
                "update", "--participant", target, "--email", "zq-canary-mail-new@example.org", "--unit",
                "ZqCanaryUnitTwo",
                "--on", "2027-02-11",
            ])
        try record(
            cli,
            [
                "--role", "participant:\(target)", "checkin", "--tandem", swapped, "--participant", target, "--rating",
                "2",
                "--notes", "ZQ-CANARY-FIT we do not click", "--on", "2027-02-12",
            ])
        if withdraw {
            try record(
                cli,
                [
                    "withdraw", "--participant", target, "--on", "2027-02-20", "--reason", "health", "--notes",
                    "ZQ-CANARY-REASON surgery",
                ])
        }
        // Queries in every role leave ledger lines, the target's own among them.
        for arguments in [
            ["stats"], ["--role", "participant:\(target)", "tandems"],
            ["--role", "analyst", "stats", "--segment", "unit=ZqCanaryUnit"],
            ["--role", "auditor", "audit"], ["sessions", "--tandem", swapped],
        ] {
            try cli.run(arguments)
        }
        return (target, swapped)
    }

    /// Every marker found in any byte of any file below `root`, with the file.
    static func leftovers(in root: String) -> [String] {
        var found: [String] = []
        for path in Files.allFiles(under: root) {
            let text = String(decoding: Files.read(path), as: UTF8.self).lowercased()
            for marker in markers where text.contains(marker.lowercased()) { found.append("\(marker) in \(path)") }
        }
        return found
    }
}

@Suite("Erasure leaves nothing behind: a canary in every input, every file checked", .serialized)
struct ErasureCanaryTests {
    @Test("after forget, no canary stands in any byte of the store, and verify passes")
    func forgetLeavesNothing() throws {
        let cli = CLI()
        let (target, _) = try ErasureCanary.build(cli)
        #expect(!ErasureCanary.leftovers(in: cli.store).isEmpty, "the canaries were never planted")
        let forget = try cli.run([
            "forget", "--participant", target, "--on-behalf-of", "ZQ-CANARY-CHECK the works council asked",
        ])
        #expect(forget.status == 0, "\(forget.stderr)")
        // The erasure's own on-behalf-of is about the erasure, not the person: it stays, in
        // the vault; every other marker is gone.
        let left = ErasureCanary.leftovers(in: cli.store).filter { !$0.hasPrefix("ZQ-CANARY-CHECK") }
        #expect(left.isEmpty, "\(left)")
        let verify = try cli("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(!verify.stderr.contains("older version"))
    }

    /// Writers killed at seeded random moments leave torn log and vault tails, unsynced vault
    /// lines and spill files; the next writer (the erasure) must leave none of the target's
    /// data behind. Only safety is asserted: how many kills tore a write depends on the
    /// machine.
    @Test("writers killed mid-batch leave nothing of the target after forget", arguments: [1, 2, 3])
    func killedWritersThenForget(seed: UInt64) throws {
        let cli = CLI()
        let (target, tandem) = try ErasureCanary.build(cli, withdraw: false)
        var generator = SeededGenerator(seed: seed)
        let batch = cli.directory.appending("batch.jsonl")
        var lines: [String] = []
        for n in 0..<4000 {
            lines.append(
                "{\"command\":\"session\",\"tandem\":\"\(tandem)\",\"on\":\"2027-02-1\(n % 9)\",\"minutes\":30,\"notes\":\"ZQ-CANARY-NOTE batch \(n)\",\"on-behalf-of\":\"ZQ-CANARY-BEHALF \(n)\"}"
            )
        }
        Files.write(batch, Array(lines.joined(separator: "\n").utf8))
        for _ in 0..<3 {
            let child = try BackgroundProcess(
                Executables.path("tandem"), ["append", batch, "--store", cli.store, "--actor", "anna"])
            usleep(useconds_t(Int.random(in: 0...400_000, using: &generator)))
            child.kill(SIGKILL)
            _ = child.waitUntilExit()
        }
        let forget = try cli.run(["forget", "--participant", target])
        #expect(forget.status == 0, "\(forget.stderr)")
        #expect(ErasureCanary.leftovers(in: cli.store).isEmpty, "\(ErasureCanary.leftovers(in: cli.store))")
        let verify = try cli("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    /// A store written before free text went to the vault still opens and verifies; verify
    /// names the events whose text `forget` cannot remove, and the audit does not print it.
    @Test("events with free text in the log, from an older version, are listed by verify")
    func olderStore() throws {
        let cli = CLI()
        let (_, tandem) = try ErasureCanary.build(cli, withdraw: false)
        let store = try Store(root: cli.store)
        let at = Timestamp(rfc3339: "2027-02-15T09:00:00Z")!
        let sessionSeq = try store.events.readHead().seq + 1
        try store.events.append([
            LogRecord(
                type: "SessionHeld", actor: "anna", at: at,
                data: [
                    "tandem": .string(tandem), "on": .string("2027-02-12"), "minutes": .int(30),
                    "mode": .string("online"),
                ], extras: ["onBehalfOf": .string("Old Style Name")]),
            LogRecord(
                type: "EventVoided", actor: "anna", at: at,
                data: ["seq": .int(Int64(sessionSeq)), "reason": .string("old style reason")]),
        ])
        let verify = try cli.run(["verify", "--format", "json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.contains("2 event(s) written by an older version hold free text in the log itself"))
        #expect(verify.stderr.contains("seq \(sessionSeq), \(sessionSeq + 1)"))
        let audit = try cli("audit")
        #expect(audit.status == 0 && !audit.stdout.contains("old style reason"))
        #expect(
            audit.stdout.contains("voids seq \(sessionSeq) (the reason stands in the log, written by an older version)")
        )
    }
}
