import Foundation
import TestSupport
import Testing

/// Check-ins, "does it fit?", as real processes on the scripted programme (as of 2027-04-01:
/// t4 m4/e4, t6 m3/e6 and t7 m5/e7 are active; cadence 30 days).
@Suite("Check-ins: ratings raise at-risk, self-service, refusals", .serialized)
struct CheckInTests {
    @Test("a rating of 2 or less puts an active tandem at risk, with the reason; a later better rating lifts it")
    func ratingRaisesAtRisk() throws {
        var cli = try ScriptedProgramme.build()
        cli.now = "2027-04-02T09:00:00Z"
        let before = try #require(
            CLI.json(try cli.run(["tandems", "--at-risk", "--format", "json"]))?["tandems"] as? [[String: Any]])
        #expect(!before.contains { $0["tandem"] as? String == "t7" })
        let recorded = try cli.run([
            "checkin", "--tandem", "t7", "--participant", "e7", "--rating", "2", "--notes", "we do not click", "--on",
            "2027-04-01",
        ])
        #expect(recorded.status == 0 && recorded.stdout.contains("CheckInRecorded"), "\(recorded.stderr)")
        let after = try #require(
            CLI.json(try cli.run(["tandems", "--at-risk", "--format", "json"]))?["tandems"] as? [[String: Any]])
        let t7 = try #require(after.first { $0["tandem"] as? String == "t7" })
        #expect(t7["atRiskReasons"] as? [String] == ["rating 2 from the mentee on 2027-04-01"])
        // The table says why; due and suggest name it as a rematch candidate.
        #expect(try cli.run(["tandems", "--at-risk"]).stdout.contains("rating 2 from the mentee on 2027-04-01"))
        #expect(try cli.run(["due"]).stdout.contains("Rematch candidate: t7 (rating 2 from the mentee on 2027-04-01)"))
        #expect(try cli.run(["suggest"]).stdout.contains("Rematch candidate: t7"))
        // Before the check-in's date, it is not at risk (--as-of sees the fit as it was).
        let earlier = try #require(
            CLI.json(try cli.run(["tandems", "--at-risk", "--as-of", "2027-03-31", "--format", "json"]))?["tandems"]
                as? [[String: Any]])
        #expect(!earlier.contains { $0["tandem"] as? String == "t7" })
        // The audit says who rated what, never the notes.
        let audit = try cli.run(["audit", "--tandem", "t7"])
        #expect(
            audit.stdout.contains("check-in on t7 by e7 on 2027-04-01: rating 2 of 5, notes in the vault")
                && !audit.stdout.contains("click"))
        // A later, better rating from the same member lifts it.
        try cli.run(["checkin", "--tandem", "t7", "--participant", "e7", "--rating", "4", "--on", "2027-04-02"])
        let lifted = try #require(
            CLI.json(try cli.run(["tandems", "--at-risk", "--format", "json"]))?["tandems"] as? [[String: Any]])
        #expect(!lifted.contains { $0["tandem"] as? String == "t7" })
        // The notes are nowhere in any report.
        for query in [["tandems", "--at-risk"], ["audit"], ["sessions", "--tandem", "t7"], ["due"]] {
            #expect(!(try cli.run(query)).stdout.contains("click"), "\(query)")
        }
    }

    @Test("a participant records their own check-in; not their partner's, and not another tandem's")
    func selfService() throws {
        var cli = try ScriptedProgramme.build()
        cli.now = "2027-04-02T09:00:00Z"
        let own = try cli.run([
            "--role", "participant:e7", "checkin", "--tandem", "t7", "--participant", "e7", "--rating", "5",
        ])
        #expect(own.status == 0, "\(own.stderr)")
        let events = Files.text(cli.store + "/events.jsonl")
        #expect(events.split(separator: "\n").last?.contains("\"actor\":\"participant:e7\"") == true)
        for arguments in [
            ["--role", "participant:e7", "checkin", "--tandem", "t7", "--participant", "m5", "--rating", "1"],
            ["--role", "participant:e7", "checkin", "--tandem", "t4", "--participant", "e4", "--rating", "1"],
        ] {
            let refused = try cli.run(arguments)
            #expect(refused.status != 0 && refused.stderr.hasPrefix("Error: "), "\(arguments)")
        }
        #expect(Files.text(cli.store + "/events.jsonl") == events)
    }

    @Test("bad check-ins are refused with a clear error and nothing is appended")
    func refusals() throws {
        var cli = try ScriptedProgramme.build()
        cli.now = "2027-04-02T09:00:00Z"
        let events = Files.text(cli.store + "/events.jsonl")
        let cases: [([String], String)] = [
            (["checkin", "--tandem", "t7", "--participant", "e7", "--rating", "6"], "1 (does not fit) to 5"),
            (["checkin", "--tandem", "t7", "--participant", "e7", "--rating", "0"], "1 (does not fit) to 5"),
            (["checkin", "--tandem", "t7", "--participant", "e1", "--rating", "3"], "e1"),
            (["checkin", "--tandem", "t1", "--participant", "e1", "--rating", "3"], "t1"),
            (["checkin", "--tandem", "t9", "--participant", "e1", "--rating", "3"], "t9"),
            (
                ["checkin", "--tandem", "t7", "--participant", "e7", "--rating", "3", "--on", "2027-02-01"],
                "2027-02-01"
            ),
            (["checkin", "--tandem", "t7", "--participant", "e7", "--rating", "x"], "--rating"),
        ]
        for (arguments, mention) in cases {
            let outcome = try cli.run(arguments)
            #expect(
                outcome.status != 0 && outcome.stderr.hasPrefix("Error: ") && outcome.stderr.contains(mention),
                "\(arguments): \(outcome.stderr)")
            #expect(!outcome.stderr.contains("Fatal error"))
        }
        #expect(Files.text(cli.store + "/events.jsonl") == events)
    }
}
