import EventLog
import Foundation
import TestSupport
import Testing

/// A programme whose every personal string is a unique marker: names CANARY-NAME-<id>,
/// emails canary-mail-<id>@…, notes CANARY-NOTE-<tandem>, goal texts CANARY-GOAL-<tandem>,
/// free-text reasons CANARY-REASON-<id>. k = 3.
enum CanaryProgramme {
    static func build() throws -> CLI {
        var cli = CLI()
        try cli("init")
        var lines = [
            "{\"command\":\"programme launch\",\"id\":\"pilot\",\"name\":\"Pilot\",\"starts\":\"2027-01-01\",\"ends\":\"2027-12-31\",\"min-group-size\":3}"
        ]
        let people: [(String, String, String, Int, String)] = [
            ("m1", "mentor", "IT", 1999, "f"), ("m2", "mentor", "Sales", 2000, "m"), ("m3", "mentor", "IT", 1998, "m"),
            ("m4", "mentor", "HR", 2001, "f"),
            ("e1", "mentee", "Legal", 1962, "m"), ("e2", "mentee", "Legal", 1965, "f"),
            ("e3", "mentee", "Finance", 1960, "f"), ("e4", "mentee", "Ops", 1968, "m"),
        ]
        for (id, role, unit, born, gender) in people {
            lines.append(
                "{\"command\":\"signup\",\"programme\":\"pilot\",\"role\":\"\(role)\",\"name\":\"CANARY-NAME-\(id)\",\"email\":\"canary-mail-\(id)@example.org\",\"unit\":\"\(unit)\",\"level\":\(role == "mentor" ? 2 : 8),\"born\":\(born),\"gender\":\"\(gender)\",\"offers\":\"ai\",\"wants\":\"ai\",\"id\":\"\(id)\",\"on\":\"2027-01-05\"}"
            )
        }
        for (t, m, e) in [("t1", "m1", "e1"), ("t2", "m2", "e2"), ("t3", "m3", "e3")] {
            lines.append(
                "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"\(m)\",\"mentee\":\"\(e)\",\"id\":\"\(t)\",\"on\":\"2027-01-10\"}"
            )
            lines.append(
                "{\"command\":\"session\",\"tandem\":\"\(t)\",\"on\":\"2027-01-20\",\"minutes\":60,\"notes\":\"CANARY-NOTE-\(t)\"}"
            )
            lines.append(
                "{\"command\":\"goal set\",\"tandem\":\"\(t)\",\"goal\":\"g1\",\"text\":\"CANARY-GOAL-\(t)\",\"due\":\"2027-03-01\",\"on\":\"2027-01-20\"}"
            )
        }
        lines.append("{\"command\":\"goal reached\",\"tandem\":\"t1\",\"goal\":\"g1\",\"on\":\"2027-02-01\"}")
        lines.append(
            "{\"command\":\"swap\",\"tandem\":\"t2\",\"leaving\":\"m2\",\"joining\":\"m4\",\"new-id\":\"t4\",\"reason\":\"mismatch\",\"notes\":\"CANARY-REASON-swap\",\"on\":\"2027-02-01\"}"
        )
        lines.append(
            "{\"command\":\"withdraw\",\"participant\":\"e3\",\"reason\":\"health\",\"notes\":\"CANARY-REASON-e3\",\"on\":\"2027-02-05\"}"
        )
        lines.append(
            "{\"command\":\"session\",\"tandem\":\"t4\",\"on\":\"2027-02-10\",\"minutes\":45,\"notes\":\"CANARY-NOTE-t4\"}"
        )
        // Check-ins: notes for their author only, and no report shows them to anyone.
        lines.append(
            "{\"command\":\"checkin\",\"tandem\":\"t1\",\"participant\":\"e1\",\"rating\":2,\"notes\":\"CANARY-CHECKIN-t1\",\"on\":\"2027-02-12\"}"
        )
        lines.append(
            "{\"command\":\"checkin\",\"tandem\":\"t4\",\"participant\":\"e2\",\"rating\":4,\"notes\":\"CANARY-CHECKIN-t4\",\"on\":\"2027-02-12\"}"
        )
        cli.now = "2027-03-01T09:00:00Z"
        let outcome = try cli("append -", stdin: lines.joined(separator: "\n"))
        guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
        return cli
    }

    /// Every marker in the programme.
    static let markers: [String] =
        ["m1", "m2", "m3", "m4", "e1", "e2", "e3", "e4"].flatMap { ["CANARY-NAME-\($0)", "canary-mail-\($0)"] }
        + ["t1", "t2", "t3", "t4"].flatMap { ["CANARY-NOTE-\($0)", "CANARY-GOAL-\($0)"] } + [
            "CANARY-REASON-swap", "CANARY-REASON-e3", "CANARY-CHECKIN-t1", "CANARY-CHECKIN-t4",
        ]

    /// What each role may see, per the disclosure table.
    static func allowed(for role: String) -> Set<String> {
        switch role {
        case "coordinator": return Set(["m1", "m2", "m3", "m4", "e1", "e2", "e3", "e4"].map { "CANARY-NAME-\($0)" })
        // m1 is in t1 with e1: their partner's name, and their own tandem's notes and goal text.
        case "participant:m1": return ["CANARY-NAME-e1", "CANARY-NOTE-t1", "CANARY-GOAL-t1"]
        // e2 was in t2 with m2, then with m4 in t4 after the swap: both tandems are hers.
        case "participant:e2":
            return ["CANARY-NAME-m2", "CANARY-NAME-m4", "CANARY-NOTE-t2", "CANARY-NOTE-t4", "CANARY-GOAL-t2"]
        default: return []
        }
    }
}

@Suite("Confidentiality: roles, canaries, erasure, the access ledger", .serialized)
struct ConfidentialityTests {
    static let roles = ["coordinator", "analyst", "auditor", "participant:m1", "participant:e2"]
    static let queries: [[String]] = [
        ["tandems", "--status", "all"], ["tandems", "--at-risk"], ["stats"], ["stats", "--by", "unit"],
        ["stats", "--by", "gender"],
        ["audit"], ["audit", "--participant", "e3"], ["goals"], ["sessions"], ["sessions", "--tandem", "t1"],
        ["access"],
        ["dropouts"], ["dropouts", "--by", "gender"], ["suggest"], ["due"], ["due", "--ics", "out.ics"],
        ["report", "--html", "out.html"],
    ]

    @Test("every query, in every role and format, shows a marker only where the table allows")
    func canaries() throws {
        let cli = try CanaryProgramme.build()
        var shown: [String: Set<String>] = [:]
        for role in Self.roles {
            for query in Self.queries {
                for format in ["table", "json", "csv"] where !(query.first == "report" && format == "csv") {
                    for file in ["out.ics", "out.html"] {
                        try? FileManager.default.removeItem(atPath: cli.directory.appending(file))
                    }
                    let outcome = try cli.run(["--role", role] + query + ["--format", format])
                    // What a query writes to a file counts as shown, too.
                    let text =
                        outcome.stdout + outcome.stderr + Files.text(cli.directory.appending("out.ics"))
                        + Files.text(cli.directory.appending("out.html"))
                    #expect(outcome.status == 0 || outcome.status == 1, "\(role) \(query): \(outcome.status)")
                    if outcome.status == 1 {
                        #expect(outcome.stderr.hasPrefix("Error: "), "\(role) \(query): \(outcome.stderr)")
                    }
                    for marker in CanaryProgramme.markers where text.contains(marker) {
                        shown[role, default: []].insert(marker)
                        #expect(
                            CanaryProgramme.allowed(for: role).contains(marker),
                            "\(role) saw \(marker) in \(query) as \(format)")
                    }
                }
            }
        }
        // And the views are not empty either: each role sees what it should.
        #expect(shown["coordinator"] == CanaryProgramme.allowed(for: "coordinator"))
        #expect(shown["participant:m1"] == CanaryProgramme.allowed(for: "participant:m1"))
        #expect(shown["participant:e2"] == CanaryProgramme.allowed(for: "participant:e2"))
        #expect(shown["analyst"] == nil && shown["auditor"] == nil)
    }

    @Test("an analyst gets numbers, an auditor ids, and neither a refused query's data")
    func views() throws {
        let cli = try CanaryProgramme.build()
        let analyst = try cli.run(["--role", "analyst", "tandems"])
        #expect(analyst.status == 1 && analyst.stderr.contains("a tandem is a group of two"))
        let count = try cli.run(["--role", "analyst", "tandems", "--at-risk", "--format", "json"])
        #expect(CLI.json(count)?["atRisk"] != nil)
        let auditor = try #require(CLI.json(try cli.run(["--role", "auditor", "tandems", "--format", "json"])))
        let rows = try #require(auditor["tandems"] as? [[String: Any]])
        #expect(!rows.isEmpty && rows.allSatisfy { $0["mentorName"] == nil && $0["mentor"] is String })
        let segmented = try cli.run(["--role", "auditor", "stats", "--by", "unit"])
        #expect(segmented.status == 1 && segmented.stderr.contains("segmented reports are for analysts"))
        let participant = try cli.run(["--role", "participant:m1", "stats"])
        #expect(participant.status == 1)
        let notYours = try cli.run(["--role", "participant:m1", "sessions", "--tandem", "t3"])
        #expect(notYours.status == 1 && notYours.stderr.contains("not one of yours"))
    }

    @Test("the access ledger has one line per query attempt, marks confidential reads, and verifies")
    func ledger() throws {
        let cli = try CanaryProgramme.build()
        let path = cli.store + "/access.jsonl"
        let before = Files.text(path).split(separator: "\n").count
        let runs: [[String]] = [
            ["stats"], ["tandems"], ["--role", "auditor", "audit"], ["--role", "participant:m1", "sessions"],
            ["--role", "analyst", "stats", "--by", "unit"], ["--role", "analyst", "tandems"],
        ]
        for run in runs { try cli.run(run) }
        let lines = Files.text(path).split(separator: "\n")
        #expect(lines.count - before == runs.count)
        #expect(lines.last?.contains("\"outcome\":\"refused:role\"") == true)
        #expect(lines.contains { $0.contains("\"type\":\"ConfidentialRead\"") && $0.contains("participant:m1") })
        #expect(lines.contains { $0.contains("\"role\":\"analyst\"") && $0.contains("\"by\":\"unit\"") })
        for marker in CanaryProgramme.markers { #expect(!Files.text(path).contains(marker)) }
        let verify = try cli("verify")
        #expect(verify.status == 0 && verify.stdout.contains("access ledger: \(lines.count) entries"))
        let listed = try #require(CLI.json(try cli.run(["--role", "auditor", "access", "--format", "json"])))
        #expect((listed["access"] as? [[String: Any]])?.count == lines.count - 1)
        #expect(try cli.run(["--role", "analyst", "access"]).status == 1)
    }

    /// Every refused or failed query leaves exactly one line, with its outcome; a participant
    /// is named by id; a segment value is kept only as a keyed hash.
    @Test("every refused query is on the record, once, with its outcome")
    func refusedQueries() throws {
        let cli = try CanaryProgramme.build()
        let path = cli.store + "/access.jsonl"
        let cases: [([String], String)] = [
            (["--role", "analyst", "audit"], "refused:role"), (["--role", "analyst", "sessions"], "refused:role"),
            (["--role", "analyst", "tandems"], "refused:role"), (["--role", "analyst", "access"], "refused:role"),
            (["--role", "auditor", "stats", "--by", "unit"], "refused:role"),
            (["--role", "auditor", "suggest"], "refused:role"),
            (["--role", "participant:m1", "stats"], "refused:role"),
            (["--role", "analyst", "stats", "--known-at", "seq:5"], "refused:role"),
            (["--role", "analyst", "dropouts", "--known-at", "2027-02-01"], "refused:role"),
            (["--role", "participant:m1", "sessions", "--tandem", "t3"], "refused:not-yours"),
            (["stats", "--known-at", "seq:9999"], "refused:invalid"),
            (["stats", "--programme", "nope"], "refused:unknown-id"),
            (["sessions", "--tandem", "t-none"], "refused:unknown-id"),
            (["report", "--html", "store/report.html"], "refused:output-path"),
            (["due", "--within", "99999"], "refused:usage"),
        ]
        for (arguments, outcome) in cases {
            let before = Files.text(path).split(separator: "\n").count
            let run = try cli.run(arguments)
            #expect(run.status != 0, "\(arguments) was not refused")
            let lines = Files.text(path).split(separator: "\n")
            #expect(lines.count == before + 1, "\(arguments): \(lines.count - before) ledger lines")
            #expect(lines.last?.contains("\"outcome\":\"\(outcome)\"") == true, "\(arguments): \(lines.last ?? "")")
            if arguments.contains("participant:m1") {
                #expect(lines.last?.contains("\"actor\":\"participant:m1\"") == true)
            }
        }
        // A refused segment leaves its dimension and a keyed hash, never the value.
        let segmented = try cli.run(["--role", "analyst", "stats", "--segment", "unit=Zz-Canary-Unit"])
        let line = String(Files.text(path).split(separator: "\n").last ?? "")
        #expect(
            line.contains("\"segment\":\"unit=hmac:") && !line.contains("Zz-Canary-Unit"), "\(segmented.stderr) \(line)"
        )
        let listed = try cli.run(["--role", "auditor", "access"])
        #expect(listed.stdout.contains("refused:not-yours") && listed.stdout.contains("outcome"))
        let knownAt = try cli.run(["--role", "analyst", "stats", "--known-at", "seq:5"])
        #expect(knownAt.stderr.hasPrefix("Error: the analyst view may not use --known-at"), "\(knownAt.stderr)")
    }

    @Test("a ledger that cannot be written does not stop a query: it answers, with a warning")
    func unwritableLedger() throws {
        let cli = try CanaryProgramme.build()
        let path = cli.store + "/access.jsonl"
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let outcome = try cli("stats")
        #expect(outcome.status == 0 && outcome.stdout.contains("participants"))
        #expect(outcome.stderr.contains("warning: this query could not be recorded in the access ledger"))
    }

    @Test("forget: no marker of the person is left in any file, caches and quarantine included")
    func erasure() throws {
        let cli = try CanaryProgramme.build()
        // A torn tail in quarantine and a few query runs first, so every directory has content.
        let events = cli.store + "/events.jsonl"
        Files.write(events, Files.read(events) + Array("{\"seq\":99,\"at\":\"2027".utf8))
        try cli("stats")
        try cli("--role participant:e2 sessions")
        let totals = try #require(CLI.json(try cli("stats --format json"))?["stats"] as? [String: Any])
        let forget = try cli("forget --participant e2")
        #expect(forget.status == 0 && forget.stderr.contains("moved a torn tail"))
        let gone = ["CANARY-NAME-e2", "canary-mail-e2", "CANARY-NOTE-t4", "CANARY-GOAL-t2", "CANARY-REASON-swap"]
        for file in Files.allFiles(under: cli.store) {
            let text = Files.text(file)
            for marker in gone { #expect(!text.contains(marker), "\(marker) in \(file)") }
        }
        #expect(try cli("verify").status == 0)
        let after = try #require(CLI.json(try cli("stats --format json"))?["stats"] as? [String: Any])
        for key in [
            "participants", "mentors", "mentees", "matched", "withdrawn", "sessions", "goalsSet", "goalsReached",
        ] {
            #expect(after[key] as? Int == totals[key] as? Int, "\(key) changed after erasure")
        }
        // e2 drops out of the segments: the unit of an erased person can no longer be told.
        let groups = try #require(
            (CLI.json(try cli("stats --by unit --format json"))?["stats"] as? [String: Any])?["groups"]
                as? [[String: Any]])
        #expect(groups.contains { $0["group"] as? String == "erased" && $0["participants"] as? Int == 1 })
    }
}
