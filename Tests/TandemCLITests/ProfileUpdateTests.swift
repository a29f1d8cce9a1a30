import Foundation
import TestSupport
import Testing

/// `tandem update`: profiles that change from a date on, as real processes.
@Suite("Profile updates: as-of profiles, matching on the current one, refusals", .serialized)
struct ProfileUpdateTests {
    static func build() throws -> CLI {
        var cli = CLI()
        cli.now = "2027-07-01T09:00:00Z"
        try cli("init")
        for line in [
            "programme launch --id p --name P --starts 2027-01-01 --ends 2027-12-31 --min-group-size 3",
            "signup --programme p --role mentee --name Anna --unit Legal --level 8 --born 1965 --wants ai --id a1 --on 2027-01-05",
            "signup --programme p --role mentor --name Ben --unit IT --level 2 --born 1999 --offers ai --id b1 --on 2027-01-05",
        ] {
            let outcome = try cli(line)
            guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
        }
        return cli
    }

    @Test("a unit change in June moves the later figures, not the earlier ones; the audit names fields, not values")
    func asOf() throws {
        let cli = try Self.build()
        let update = try cli.run([
            "update", "--participant", "a1", "--unit", "Finance", "--email", "anna.new@example.org", "--on",
            "2027-06-01",
        ])
        #expect(update.status == 0 && update.stdout.contains("ProfileUpdated a1"), "\(update.stderr)")
        func units(_ extra: [String]) throws -> [String] {
            let groups =
                (CLI.json(try cli.run(["stats", "--by", "unit", "--format", "json"] + extra))?["stats"]
                as? [String: Any])?["groups"] as? [[String: Any]]
            return (groups ?? []).compactMap { $0["group"] as? String }
        }
        #expect(try units(["--as-of", "2027-05-31"]) == ["IT", "Legal"])
        #expect(try units(["--as-of", "2027-06-01"]) == ["Finance", "IT"])
        #expect(try units([]) == ["Finance", "IT"])
        func person(_ extra: [String]) throws -> [String: Any]? {
            (CLI.json(try cli.run(["people", "--format", "json"] + extra))?["people"] as? [[String: Any]])?.first {
                $0["participant"] as? String == "a1"
            }
        }
        #expect(try person(["--as-of", "2027-05-01"])?["unit"] as? String == "Legal")
        #expect(
            try person([])?["unit"] as? String == "Finance"
                && (try person([]))?["email"] as? String == "anna.new@example.org")
        // Fields unchanged stay as they were.
        #expect(try person([])?["level"] as? Int == 8 && (try person([]))?["name"] as? String == "Anna")
        let audit = try cli.run(["audit"])
        #expect(audit.stdout.contains("profile of a1 updated from 2027-06-01: email, unit (values in the vault)"))
        #expect(!audit.stdout.contains("Finance") && !Files.text(cli.store + "/events.jsonl").contains("Finance"))
        // A second update builds on the first.
        try cli.run(["update", "--participant", "a1", "--level", "9", "--on", "2027-06-15"])
        #expect(try person([])?["unit"] as? String == "Finance" && (try person([]))?["level"] as? Int == 9)
    }

    @Test("matching uses the current profile: a move into the mentor's unit rules the pair out")
    func matching() throws {
        let cli = try Self.build()
        let before = try #require(CLI.json(try cli.run(["suggest", "--format", "json"]))?["pairs"] as? [[String: Any]])
        #expect(before.count == 1)
        try cli.run(["update", "--participant", "a1", "--unit", "IT", "--on", "2027-06-01"])
        let after = try #require(CLI.json(try cli.run(["suggest", "--format", "json"]))?["pairs"] as? [[String: Any]])
        #expect(after.isEmpty)
        let match = try cli.run(["match", "--programme", "p", "--mentor", "b1", "--mentee", "a1"])
        #expect(match.status != 0 && match.stderr.contains("IT"), "\(match.stderr)")
    }

    @Test("bad updates are refused with a clear error and nothing is appended")
    func refusals() throws {
        let cli = try Self.build()
        try cli.run(["forget", "--participant", "b1"])
        let events = Files.text(cli.store + "/events.jsonl"), vault = Files.text(cli.store + "/vault.jsonl")
        let cases: [([String], Int32, String)] = [
            (["update", "--participant", "a1"], 64, "Nothing to update"),
            (["update", "--participant", "zz", "--unit", "HR"], 1, "zz"),
            (["update", "--participant", "a1", "--unit", "HR", "--on", "2027-01-01"], 1, "2027-01-01"),
            (["update", "--participant", "a1", "--level", "30"], 1, "--level"),
            (["update", "--participant", "a1", "--born", "65"], 64, "--born"),
            (["update", "--participant", "a1", "--email", "not-an-email"], 1, "--email"),
            (["update", "--participant", "b1", "--unit", "HR"], 1, "b1"),
        ]
        for (arguments, status, mention) in cases {
            let outcome = try cli.run(arguments)
            #expect(
                outcome.status == status && outcome.stderr.hasPrefix("Error: ") && outcome.stderr.contains(mention),
                "\(arguments): \(outcome.stderr)")
        }
        #expect(Files.text(cli.store + "/events.jsonl") == events && Files.text(cli.store + "/vault.jsonl") == vault)
    }
}
