import Foundation
import Mentoring
import Projections
import TestSupport
import Testing

/// The scripted programme's answers, computed by hand.
@Suite("Queries on a scripted programme: hand-computed answers, all formats, as real processes", .serialized)
struct QueryCommandTests {
    static func json(_ cli: CLI, _ arguments: [String]) throws -> [String: Any] {
        let outcome = try cli.run(arguments + ["--format", "json"])
        guard outcome.status == 0 else { throw SeedingFailed(message: "\(arguments): \(outcome.stderr)") }
        return try #require(CLI.json(outcome), "\(arguments): not JSON: \(outcome.stdout)")
    }

    @Test("stats: the whole programme as of 2027-04-01")
    func stats() throws {
        let cli = try ScriptedProgramme.build()
        let document = try Self.json(cli, ["stats"])
        let stats = try #require(document["stats"] as? [String: Any])
        let expected: [String: Int] = [
            "participants": 12, "mentors": 5, "mentees": 7, "matched": 12, "waiting": 2, "withdrawn": 2,
            "activeTandems": 3, "completedTandems": 1, "dissolvedTandems": 3, "sessions": 11, "minutes": 615,
            "swaps": 1, "goalsSet": 4, "goalsReached": 2,
        ]
        for (key, value) in expected {
            #expect(stats[key] as? Int == value, "\(key): \(String(describing: stats[key]))")
        }
        #expect(stats["sessionsPerActiveTandem"] as? Double == 4.0 / 3.0)  // full precision in machine formats
        #expect(stats["goalAttainment"] as? Double == 0.5)
        let basis = try #require(document["basis"] as? [String: Any])
        #expect(
            basis["seq"] as? Int == 43 && basis["role"] as? String == "coordinator"
                && basis["asOf"] as? String == "2027-04-01")
        #expect((basis["knownAt"] as Any) is NSNull)
    }

    @Test("time travel: --known-at hides the session logged late, --as-of includes it")
    func timeTravel() throws {
        let cli = try ScriptedProgramme.build()
        // What the report said on 15 March: parts A and B only.
        let known = try #require(try Self.json(cli, ["stats", "--known-at", "2027-03-15"])["stats"] as? [String: Any])
        #expect(known["sessions"] as? Int == 9 && known["withdrawn"] as? Int == 1 && known["goalsReached"] as? Int == 1)
        #expect(
            known["activeTandems"] as? Int == 5 && known["dissolvedTandems"] as? Int == 2
                && known["waiting"] as? Int == 1)
        #expect(
            try Self.json(cli, ["stats", "--known-at", "seq:38"])["stats"] as? NSDictionary == known as NSDictionary)
        // The state of 15 February, as we know it now: t6's late session counts.
        let asOf = try #require(try Self.json(cli, ["stats", "--as-of", "2027-02-15"])["stats"] as? [String: Any])
        #expect(
            asOf["sessions"] as? Int == 6 && asOf["goalsReached"] as? Int == 0 && asOf["activeTandems"] as? Int == 5)
        #expect(asOf["withdrawn"] as? Int == 1 && asOf["swaps"] as? Int == 1)
        // The state of 15 February, as the report of 15 March saw it: no late session yet.
        let both = try Self.json(cli, ["stats", "--as-of", "2027-02-15", "--known-at", "2027-03-15"])
        #expect((both["stats"] as? [String: Any])?["sessions"] as? Int == 5)
        let basis = try #require(both["basis"] as? [String: Any])
        #expect(
            basis["asOf"] as? String == "2027-02-15" && basis["knownAt"] as? String == "2027-03-15"
                && basis["seq"] as? Int == 38)
    }

    @Test("tandems: every tandem's figures")
    func tandems() throws {
        let cli = try ScriptedProgramme.build()
        let rows = try #require(try Self.json(cli, ["tandems", "--status", "all"])["tandems"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0["tandem"] as! String, $0) })
        let expected: [(String, String, Int, Int, String?, Int, Int, String?)] = [
            ("t1", "completed", 3, 180, "2027-03-21", 2, 1, "2027-03-25"),
            ("t2", "dissolved", 2, 90, "2027-02-25", 1, 1, "2027-03-15"),
            ("t3", "dissolved", 1, 30, "2027-01-22", 0, 0, "2027-02-01"),
            ("t4", "active", 2, 120, "2027-03-01", 1, 0, nil),
            ("t5", "dissolved", 1, 90, "2027-01-15", 0, 0, "2027-02-10"),
            ("t6", "active", 1, 45, "2027-02-10", 0, 0, nil),
            ("t7", "active", 1, 60, "2027-02-20", 0, 0, nil),
        ]
        #expect(rows.count == 7)
        for (id, status, sessions, minutes, last, set, reached, until) in expected {
            let row = try #require(byID[id])
            #expect(row["status"] as? String == status, "\(id)")
            #expect(row["sessions"] as? Int == sessions && row["minutes"] as? Int == minutes, "\(id)")
            #expect(
                row["lastSession"] as? String == last && row["goalsSet"] as? Int == set
                    && row["goalsReached"] as? Int == reached, "\(id)")
            #expect((row["until"] as? String) == until, "\(id)")
        }
        #expect(byID["t6"]?["mentor"] as? String == "m3" && byID["t6"]?["mentee"] as? String == "e6")
        #expect(byID["t1"]?["mentorName"] as? String == "Name of m1")
        let active = try #require(try Self.json(cli, ["tandems"])["tandems"] as? [[String: Any]])
        #expect(active.map { $0["tandem"] as! String } == ["t4", "t6", "t7"])
        // At risk on 2027-04-01 (cadence 30, threshold 60 days): t6 (last 02-10: 50 days) is not,
        // t7 (02-20) is not; as of 2027-04-25, t6 is (74 days) and t7 is (64).
        let risk = try #require(
            try Self.json(cli, ["tandems", "--at-risk", "--as-of", "2027-04-25"])["tandems"] as? [[String: Any]])
        #expect(risk.map { $0["tandem"] as! String } == ["t6", "t7"])
        #expect(risk.first?["daysWithoutSession"] as? Int == 74)
    }

    @Test("goals: dates, days to reach, overdue")
    func goals() throws {
        let cli = try ScriptedProgramme.build()
        let rows = try #require(try Self.json(cli, ["goals"])["goals"] as? [[String: Any]])
        #expect(rows.count == 4)
        let t1g1 = try #require(rows.first { $0["tandem"] as? String == "t1" && $0["goal"] as? String == "g1" })
        #expect(
            t1g1["reached"] as? String == "2027-02-19" && t1g1["daysToReach"] as? Int == 30
                && t1g1["overdue"] as? Bool == false)
        #expect(t1g1["category"] as? String == "social-media")
        let t1g2 = try #require(rows.first { $0["tandem"] as? String == "t1" && $0["goal"] as? String == "g2" })
        // t1 completed with g2 still open: unreached, but not overdue for ever after.
        #expect(t1g2["overdue"] as? Bool == false && (t1g2["reached"] as Any) is NSNull)
        let early = try #require(
            try Self.json(cli, ["goals", "--tandem", "t1", "--as-of", "2027-02-15"])["goals"] as? [[String: Any]])
        #expect(early.allSatisfy { $0["overdue"] as? Bool == false })
        #expect(rows.allSatisfy { $0["text"] == nil })
    }

    @Test("audit: a participant's trail covers their tandems, a swap and voids")
    func audit() throws {
        let cli = try ScriptedProgramme.build()
        let document = try Self.json(cli, ["audit", "--participant", "e3"])
        let entries = try #require(document["entries"] as? [[String: Any]])
        #expect(entries.map { $0["seq"] as! Int } == [10, 17, 22, 29])
        let swap = try #require(entries.last)
        #expect(
            swap["type"] as? String == "PartnerSwapped" && (swap["summary"] as? String)?.contains("e3 left") == true)
        let e2 = try #require(try Self.json(cli, ["audit", "--participant", "e2"])["entries"] as? [[String: Any]])
        // m2's withdrawal (seq 42) touched e2: it ended their tandem.
        #expect(e2.contains { $0["seq"] as? Int == 42 })
        let t2 = try #require(try Self.json(cli, ["audit", "--tandem", "t2"])["entries"] as? [[String: Any]])
        let duplicate = try #require(t2.first { $0["seq"] as? Int == 36 })
        #expect(duplicate["voided"] as? Int == 37)
        #expect(t2.contains { $0["seq"] as? Int == 37 && $0["type"] as? String == "EventVoided" })
        for entry in t2 { #expect(!(entry["summary"] as! String).contains("Name of")) }
        let since = try #require(try Self.json(cli, ["audit", "--since", "2027-04-01"])["entries"] as? [[String: Any]])
        #expect(since.map { $0["seq"] as! Int } == [39, 40, 41, 42, 43])
    }

    @Test("stats by segment: analysts get perturbed figures, computed from the store's record keys")
    func suppression() throws {
        let cli = try ScriptedProgramme.build()
        let policy = try cli.analystPolicy()
        func people(_ ids: String) -> Population {
            policy.population(ids.split(separator: " ").map { ParticipantID(String($0))! })
        }
        let document = try Self.json(cli, ["--role", "analyst", "stats", "--by", "generation"])
        let groups = try #require((document["stats"] as? [String: Any])?["groups"] as? [[String: Any]])
        let byGroup = Dictionary(uniqueKeysWithValues: groups.map { ($0["group"] as! String, $0) })
        // boomer 3 (e1, e2, e5), gen-x 4 (e3, e4, e6, e7), gen-z 4 (m1–m4), millennial 1 (m5).
        // k = 3. A category of fewer than k people is not even named: millennial is "other".
        #expect(byGroup["millennial"] == nil)
        let other = people("m5")
        if policy.size(other) < 3 {
            #expect(
                byGroup["other"]?["suppressed"] as? Bool == true
                    && byGroup["other"]?["reason"] as? String == "small-group")
            #expect((byGroup["other"]?["participants"] as Any) is NSNull)
        }
        // Each published size is the cell-key value of exactly that group's people.
        for (name, ids) in [("boomer", "e1 e2 e5"), ("gen-x", "e3 e4 e6 e7"), ("gen-z", "m1 m2 m3 m4")] {
            let size = policy.size(people(ids))
            #expect(size % 3 == 0 && abs(size - ids.split(separator: " ").count) <= 2)
            #expect(byGroup[name]?["participants"] as? Int == (size < 3 ? nil : size), "\(name)")
        }
        // A count is perturbed over the group's population, not over those counted: gen-z's one
        // withdrawal (m2) is keyed by all four of gen-z.
        let genZ = people("m1 m2 m3 m4")
        let withdrawn = policy.count(1, in: genZ, "withdrawn")
        #expect(withdrawn == 0 || withdrawn == 3)
        // Shown unless it would say that everyone in the group withdrew.
        let expected: Int? = withdrawn > 0 && withdrawn >= policy.size(genZ) ? nil : withdrawn
        #expect(byGroup["gen-z"]?["withdrawn"] as? Int == expected)
        // No shown count lies between 1 and k − 1, and the basis names the method.
        for group in groups {
            for key in ["participants", "withdrawn", "reachedAGoal"] {
                if let n = group[key] as? Int { #expect(n == 0 || n >= 3) }
            }
        }
        let basis = try #require(document["basis"] as? [String: Any])
        let disclosure = try #require(basis["disclosure"] as? [String: Any])
        #expect(
            disclosure["method"] as? String == "cell-key" && disclosure["D"] as? Int == 2
                && disclosure["k"] as? Int == 3 && disclosure["base"] as? Int == 3)
        let table = try cli.run(["--role", "analyst", "stats", "--by", "generation"])
        #expect(table.stdout.contains("cell-key method") && table.stdout.contains("role analyst · figures perturbed"))
        // A coordinator sees every group, exactly, and no disclosure member.
        let exact = try Self.json(cli, ["stats", "--by", "generation"])
        let coordinator = try #require((exact["stats"] as? [String: Any])?["groups"] as? [[String: Any]])
        #expect(coordinator.first { $0["group"] as? String == "millennial" }?["participants"] as? Int == 1)
        #expect((exact["basis"] as? [String: Any])?["disclosure"] == nil)
        // A segment filter that leaves fewer than k is refused, naming the command.
        let small = try cli.run(["--role", "analyst", "stats", "--segment", "generation=millennial"])
        #expect(
            small.status == 1 && small.stderr.contains("fewer than 3 people")
                && small.stderr.contains("may not run `tandem stats` with this filter"))
        // The segment's headline is the same cell as the --by row: the same people, the same figure.
        let mentees = try Self.json(cli, ["--role", "analyst", "stats", "--segment", "role=mentee"])
        let byRole = try #require(
            (try Self.json(cli, ["--role", "analyst", "stats", "--by", "role"])["stats"] as? [String: Any])?["groups"]
                as? [[String: Any]])
        let menteeRow = try #require(byRole.first { $0["group"] as? String == "mentee" })
        #expect((mentees["stats"] as? [String: Any])?["participants"] as? Int == menteeRow["participants"] as? Int)
        #expect(
            (mentees["stats"] as? [String: Any])?["participants"] as? Int == policy.size(people("e1 e2 e3 e4 e5 e6 e7"))
        )
        #expect(
            (mentees["stats"] as? [String: Any])?["withdrawn"] as Any as? Int == menteeRow["withdrawn"] as Any as? Int)
    }

    @Test("every query runs in all three formats; JSON parses back and CSV is RFC 4180")
    func formats() throws {
        let cli = try ScriptedProgramme.build()
        let queries: [[String]] = [
            ["tandems", "--status", "all"], ["tandems", "--at-risk"], ["stats"], ["stats", "--by", "unit"],
            ["audit"], ["goals"], ["sessions"], ["access"],
        ]
        for query in queries {
            let table = try cli.run(query)
            #expect(table.status == 0, "\(query): \(table.stderr)")
            #expect(table.stdout.split(separator: "\n").last?.hasPrefix("basis: seq 43") == true, "\(query)")
            let json = try cli.run(query + ["--format", "json"])
            let object = try #require(CLI.json(json), "\(query)")
            #expect(object["basis"] != nil, "\(query)")
            let csv = try cli.run(query + ["--format", "csv"])
            #expect(csv.status == 0 && !csv.stdout.contains("basis:"), "\(query)")
            let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(!lines.isEmpty, "\(query)")
            if let python = ReferenceTools.python {
                let check = try Executables.run(
                    python,
                    [
                        "-c",
                        "import csv,sys; rows=list(csv.reader(sys.stdin)); assert len(set(map(len, rows)))==1, rows; print(len(rows))",
                    ], stdin: csv.stdout)
                #expect(check.status == 0, "\(query): \(check.stderr)")
            }
        }
    }

    @Test("bad query input: clear errors and exit codes")
    func badInput() throws {
        let cli = try ScriptedProgramme.build()
        let cases: [([String], Int32, String)] = [
            (["stats", "--programme", "nope"], 1, "unknown programme 'nope'"),
            (["tandems", "--programme", "nope"], 1, "unknown programme 'nope'"),
            (["goals", "--tandem", "t99"], 1, "unknown tandem 't99'"),
            (["audit", "--participant", "zz"], 1, "unknown participant 'zz'"),
            (["stats", "--as-of", "2027-02-30"], 64, "2027-02 has 28 days"),
            (["stats", "--known-at", "seq:500"], 1, "beyond the head of the log (seq 43)"),
            (["stats", "--known-at", "yesterday"], 64, "--known-at"),
            (["stats", "--by", "shoe"], 64, "The value 'shoe' is invalid for '--by <key>'"),
            (["audit", "--participant", "e1", "--tandem", "t1"], 64, "at most one of"),
            (["tandems", "--status", "sleeping"], 64, "The value 'sleeping' is invalid"),
        ]
        for (arguments, code, message) in cases {
            let outcome = try cli.run(arguments)
            #expect(
                outcome.status == code && outcome.stderr.hasPrefix("Error: ") && outcome.stderr.contains(message),
                "\(arguments): \(outcome.status) \(outcome.stderr)")
        }
        // A broken link is damage: exit 65 with a pointer to verify.
        let path = cli.store + "/events.jsonl"
        var lines = Files.text(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.remove(at: 20)
        Files.write(path, Array(lines.joined(separator: "\n").utf8))
        let broken = try cli("stats")
        #expect(broken.status == 65 && broken.stderr.contains("tandem verify"))
    }
}

@Suite("Machine formats carry full precision")
struct PrecisionTests {
    /// 11 of 60 matched people withdrew: JSON must carry 11/60 so that it reads back as
    /// exactly 11/60, not 0.1833.
    @Test("a JSON rate of 11/60 reads back as exactly 11/60 in Python")
    func elevenSixtieths() throws {
        let cli = CLI()
        try cli("init")
        var lines = [#"{"command":"programme launch","id":"p","name":"P","starts":"2027-01-01","ends":"2027-12-31"}"#]
        for n in 0..<30 {
            lines.append(
                #"{"command":"signup","programme":"p","role":"mentor","name":"M N\#(n)","unit":"U\#(n)","level":2,"born":1999,"id":"m\#(n)","on":"2027-01-02"}"#
            )
            lines.append(
                #"{"command":"signup","programme":"p","role":"mentee","name":"E N\#(n)","unit":"V\#(n)","level":9,"born":1965,"id":"e\#(n)","on":"2027-01-02"}"#
            )
            lines.append(
                #"{"command":"match","programme":"p","mentor":"m\#(n)","mentee":"e\#(n)","id":"t\#(n)","on":"2027-01-05"}"#
            )
        }
        // 11 of the 60 matched people withdraw.
        for n in 0..<11 {
            lines.append(#"{"command":"withdraw","participant":"e\#(n)","reason":"time","on":"2027-02-01"}"#)
        }
        #expect(try cli.run(["append", "-"], stdin: lines.joined(separator: "\n")).status == 0)
        let json = try cli.run(["dropouts", "--format", "json"]).stdout
        let check = try ReferenceTools.runPython(
            """
            import json, sys
            d = json.loads(sys.stdin.read())["dropouts"]
            print(d["rate"] == 11 / 60, d["rate"])
            """, stdin: json)
        #expect(check.stdout.hasPrefix("True"), "\(check.stdout) \(check.stderr)")
        let table = try cli("dropouts").stdout
        #expect(table.contains("rate 0.183"), "tables round to 3 decimals, half away from zero")
    }
}

@Suite("The basis is the truth")
struct BasisTests {
    /// With the clock set back behind the log, a report without --as-of is as of today: it
    /// leaves out events about later days and says how many, so that two reports on the same
    /// basis never disagree.
    @Test("without --as-of, events dated after today are left out, with a warning")
    func clockBehindTheLog() throws {
        var cli = CLI()
        cli.now = "2027-06-01T12:00:00Z"
        let demo = try cli.run(["demo", "--store", cli.store, "--participants", "20", "--until", "2027-05-01"])
        #expect(demo.status == 0, "\(demo.stderr)")
        cli.now = "2027-03-01T12:00:00Z"
        let plain = try cli.run(["stats", "--format", "json"])
        let asOf = try cli.run(["stats", "--format", "json", "--as-of", "2027-03-01"])
        #expect(plain.status == 0 && asOf.status == 0)
        let a = try #require(CLI.json(plain)?["stats"] as? [String: Any])
        let b = try #require(CLI.json(asOf)?["stats"] as? [String: Any])
        #expect(NSDictionary(dictionary: a).isEqual(to: b), "\(a) vs \(b)")
        #expect(
            plain.stderr.contains("are dated after today (2027-03-01) and were left out of this report"),
            "\(plain.stderr)")
        #expect(asOf.stderr.isEmpty)
    }
}
