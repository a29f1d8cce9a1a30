import EventLog
import Foundation
import TestSupport
import Testing

/// Regressions a new coordinator ran into, each as a real process.
@Suite("Coordinator regressions, as real processes")
struct CoordinatorFixesTests {
    /// A programme (2027-01-01 to 2027-06-30) with two tandems: t1 (m1 × e1) and t2 (m2 × e2).
    static func programme(_ cli: CLI) throws {
        try cli("init")
        let lines = [
            #"{"command":"programme launch","id":"p","name":"P","starts":"2027-01-01","ends":"2027-06-30"}"#,
            #"{"command":"signup","programme":"p","role":"mentor","name":"A A","unit":"IT","level":2,"born":1999,"id":"m1","on":"2027-01-02"}"#,
            #"{"command":"signup","programme":"p","role":"mentor","name":"B B","unit":"Ops","level":2,"born":1999,"id":"m2","on":"2027-01-02"}"#,
            #"{"command":"signup","programme":"p","role":"mentee","name":"C C","unit":"HR","level":9,"born":1965,"id":"e1","on":"2027-01-02"}"#,
            #"{"command":"signup","programme":"p","role":"mentee","name":"D D","unit":"Legal","level":9,"born":1965,"id":"e2","on":"2027-01-02"}"#,
            #"{"command":"match","programme":"p","mentor":"m1","mentee":"e1","id":"t1","on":"2027-01-05"}"#,
            #"{"command":"match","programme":"p","mentor":"m2","mentee":"e2","id":"t2","on":"2027-01-05"}"#,
            #"{"command":"goal set","tandem":"t1","goal":"g1","text":"x","due":"2027-02-01","on":"2027-01-10"}"#,
        ]
        let outcome = try cli.run(["append", "-"], stdin: lines.joined(separator: "\n"))
        guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
    }

    /// Programme p (2027-01-01 to 2027-06-30) and people (id, role, unit) waiting to be
    /// matched, every mentor junior to every mentee.
    static func pool(_ cli: CLI, _ people: [(String, String, String)]) throws {
        var lines = [#"{"command":"programme launch","id":"p","name":"P","starts":"2027-01-01","ends":"2027-06-30"}"#]
        for (id, role, unit) in people {
            lines.append(
                #"{"command":"signup","programme":"p","role":"\#(role)","name":"N \#(id)","unit":"\#(unit)","level":\#(role == "mentor" ? 2 : 9),"born":\#(role == "mentor" ? 1999 : 1965),"id":"\#(id)","on":"2027-01-02"}"#
            )
        }
        let outcome = try cli.run(["append", "-"], stdin: lines.joined(separator: "\n"))
        guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
    }

    @Test("voiding launches one by one never reaches a dead end")
    func voidChain() throws {
        let cli = CLI()
        try cli("init")
        for id in ["p1", "p2", "p3"] {
            #expect(
                try cli.run([
                    "programme", "launch", "--id", id, "--name", id, "--starts", "2027-01-01", "--ends", "2027-09-30",
                ]).status == 0)
        }
        for seq in [2, 3, 4] {
            let outcome = try cli.run(["void", "--seq", String(seq), "--reason", "launched by mistake"])
            #expect(outcome.status == 0, "void --seq \(seq): \(outcome.stderr)")
        }
        let again = try cli.run(["void", "--seq", "5", "--reason", "x"])
        #expect(again.status == 1 && again.stderr.contains("seq 5 is an EventVoided, which cannot be voided"))
        #expect(try cli("verify").status == 0)
    }

    @Test("match --run refuses a pair the run never proposed, unless an override says why")
    func matchRunMustHaveProposed() throws {
        let cli = CLI()
        try cli("init")
        try Self.pool(
            cli, [("m1", "mentor", "IT"), ("m2", "mentor", "Ops"), ("e1", "mentee", "HR"), ("e2", "mentee", "Legal")])
        let recorded = try QueryCommandTests.json(cli, ["suggest", "--record"])
        let run = try #require((recorded["run"] as? [String: Any])?["id"] as? String)
        let proposed = Set((recorded["pairs"] as? [[String: Any]] ?? []).map { "\($0["mentor"]!) \($0["mentee"]!)" })
        #expect(proposed.count == 2)
        // Every pair is eligible (four units); the run proposed two of the four.
        let other = try #require(["m1 e1", "m1 e2", "m2 e1", "m2 e2"].first { !proposed.contains($0) }).split(
            separator: " "
        ).map(String.init)
        let refused = try cli.run([
            "match", "--programme", "p", "--mentor", other[0], "--mentee", other[1], "--run", run, "--id", "t9",
        ])
        #expect(
            refused.status == 1 && refused.stderr.contains("did not propose \(other[0]) × \(other[1])"),
            "\(refused.stderr)")
        let overridden = try cli.run([
            "match", "--programme", "p", "--mentor", other[0], "--mentee", other[1], "--run", run, "--id", "t9",
            "--override", "they asked for each other",
        ])
        #expect(overridden.status == 0, "\(overridden.stderr)")
        let audit = try #require(
            try QueryCommandTests.json(cli, ["audit", "--tandem", "t9"])["entries"] as? [[String: Any]])
        let summary = try #require(audit.first?["summary"] as? String)
        #expect(summary.contains("under match run \(run)") && !summary.contains("as proposed by"), "\(summary)")
    }

    @Test("after the programme's end, suggest and due are empty")
    func afterTheEnd() throws {
        var cli = CLI()
        try Self.programme(cli)
        cli.now = "2027-03-01T09:00:00Z"
        #expect(try cli.run(["withdraw", "--participant", "e2", "--on", "2027-02-01", "--reason", "time"]).status == 0)
        let during = try QueryCommandTests.json(cli, ["due", "--within", "60"])
        #expect((during["due"] as? [Any])?.isEmpty == false)
        cli.now = "2027-08-01T09:00:00Z"
        let suggest = try QueryCommandTests.json(cli, ["suggest"])
        #expect((suggest["pairs"] as? [Any])?.isEmpty == true)
        let due = try QueryCommandTests.json(cli, ["due", "--within", "60"])
        #expect((due["due"] as? [Any])?.isEmpty == true)
        // Near the end, nothing falls due past it.
        cli.now = "2027-06-20T09:00:00Z"
        let late = try QueryCommandTests.json(cli, ["due", "--within", "60"])
        #expect((late["due"] as? [[String: Any]] ?? []).allSatisfy { ($0["dueOn"] as? String ?? "") <= "2027-06-30" })
    }

    @Test("a goal is overdue while its tandem runs, and not after the tandem ended")
    func overdueGoals() throws {
        var cli = CLI()
        try Self.programme(cli)
        cli.now = "2027-03-01T09:00:00Z"
        let running = try #require(try QueryCommandTests.json(cli, ["goals"])["goals"] as? [[String: Any]])
        #expect(running.first?["overdue"] as? Bool == true)
        #expect(try cli.run(["complete", "--tandem", "t1", "--on", "2027-02-20"]).status == 0)
        let ended = try #require(try QueryCommandTests.json(cli, ["goals"])["goals"] as? [[String: Any]])
        #expect(ended.first?["overdue"] as? Bool == false)
    }

    @Test("unusual programme lengths and early signups are warnings, not refusals; wording counts right")
    func advisories() throws {
        let cli = CLI()
        try cli("init")
        let short = try cli.run([
            "programme", "launch", "--id", "p1", "--name", "Short", "--starts", "2027-01-01", "--ends", "2027-01-02",
        ])
        #expect(
            short.status == 0
                && short.stderr.contains(
                    "programme p1 runs 1 day; reverse-mentoring programmes usually run 6 to 12 months")
        )
        let long = try cli.run([
            "programme", "launch", "--id", "p2", "--name", "Long", "--starts", "2027-01-01", "--ends", "2028-07-01",
        ])
        #expect(long.status == 0 && long.stderr.contains("usually run 6 to 12 months"))
        let normal = try cli.run([
            "programme", "launch", "--id", "p3", "--name", "Normal", "--starts", "2027-09-01", "--ends", "2028-06-30",
        ])
        #expect(normal.status == 0 && normal.stderr.isEmpty)
        let early = try cli.run([
            "signup", "--programme", "p3", "--role", "mentor", "--name", "A B", "--unit", "IT", "--level", "2",
            "--born", "1999",
            "--on", "2027-02-01",
        ])
        #expect(
            early.status == 0 && early.stderr.contains("more than 3 months before programme p3 starts on 2027-09-01"),
            "\(early.stderr)")
        #expect(try cli.run(["report", "--html", "r.html", "--format", "csv"]).status == 64)
    }

    @Test("completions: bash completes commands and options from the command tree; zsh and fish scripts too")
    func completions() throws {
        let cli = CLI()
        let bash = try cli.run(["completions", "bash"])
        #expect(bash.status == 0)
        Files.write(cli.directory.appending("tandem.bash"), Array(bash.stdout.utf8))
        let script = """
            source \(cli.directory.appending("tandem.bash"))
            COMP_WORDS=(tandem goal se); COMP_CWORD=2; _tandem; echo "${COMPREPLY[*]}"
            COMP_WORDS=(tandem session --mi); COMP_CWORD=2; _tandem; echo "${COMPREPLY[*]}"
            COMP_WORDS=(tandem ver); COMP_CWORD=1; _tandem; echo "${COMPREPLY[*]}"
            """
        let run = try Executables.run("/bin/bash", ["-c", script])
        #expect(run.stdout == "set\n--minutes\nverify\n", "\(run.stdout) \(run.stderr)")
        #expect(try cli.run(["completions", "zsh"]).stdout.hasPrefix("#compdef tandem"))
        let fish = try cli.run(["completions", "fish"]).stdout
        #expect(fish.contains("-a verify") && fish.contains("-l minutes"))
        #expect(try cli.run(["completions", "tcsh"]).status == 64)
    }

    @Test("people: find anyone by name or email without regard to case or accents; status; roles; ids never cut")
    func people() throws {
        var cli = CLI()
        try cli("init")
        try ErasureCanary.record(
            cli, ["programme", "launch", "--id", "p", "--name", "P", "--starts", "2027-01-01", "--ends", "2027-08-31"])
        let jurgen = try ErasureCanary.record(
            cli,
            [
                "signup", "--programme", "p", "--role", "mentee", "--name", "Jürgen Müller", "--email",
                "j.mueller@example.org", "--unit", "Board", "--level", "9", "--born", "1961", "--on", "2027-01-02",
            ])
        let lena = try ErasureCanary.record(
            cli,
            [
                "signup", "--programme", "p", "--role", "mentor", "--name", "Lena Vogt", "--unit", "IT",
                "--level", "2", "--born", "1999", "--on", "2027-01-02",
            ])
        let anna = try ErasureCanary.record(
            cli,
            [
                "signup", "--programme", "p", "--role", "mentee", "--name", "Anna Ötztal", "--unit", "HR",
                "--level", "8", "--born", "1966", "--on", "2027-01-02",
            ])
        cli.now = "2027-03-01T09:00:00Z"
        let tandem = try ErasureCanary.record(
            cli, ["match", "--programme", "p", "--mentor", lena, "--mentee", anna, "--on", "2027-01-10"])
        for search in ["muller", "MÜLLER", "mueller", "jurgen"] {
            let rows = try #require(
                try QueryCommandTests.json(cli, ["people", "--search", search])["people"] as? [[String: Any]])
            #expect(rows.count == 1 && rows.first?["participant"] as? String == jurgen, "\(search)")
        }
        let matched = try #require(
            try QueryCommandTests.json(cli, ["people", "--status", "matched"])["people"] as? [[String: Any]])
        #expect(Set(matched.compactMap { $0["participant"] as? String }) == [lena, anna])
        #expect(matched.allSatisfy { $0["tandem"] as? String == tandem && $0["since"] as? String == "2027-01-10" })
        let waiting = try #require(
            try QueryCommandTests.json(cli, ["people", "--status", "waiting"])["people"] as? [[String: Any]])
        #expect(
            waiting.count == 1 && waiting[0]["name"] as? String == "Jürgen Müller" && waiting[0]["born"] as? Int == 1961
        )
        let own = try #require(
            try QueryCommandTests.json(cli, ["--role", "participant:\(anna)", "people"])["people"] as? [[String: Any]])
        #expect(own.count == 1 && own[0]["participant"] as? String == anna)
        let analyst = try cli.run(["--role", "analyst", "people"])
        #expect(analyst.status == 1 && analyst.stderr.contains("run `tandem stats`"))
        #expect(try cli.run(["--role", "auditor", "people"]).status == 1)
        // 40 columns: names give way, ids and dates do not.
        let narrow = try cli.run(["people"], extra: ["COLUMNS": "40"])
        for id in [jurgen, lena, anna, tandem] {
            #expect(narrow.stdout.contains(id), "\(id) was cut:\n\(narrow.stdout)")
        }
        #expect(narrow.stdout.contains("2027-01-10"))
        // The ledger keeps a search as a keyed hash, never the name.
        let ledger = Files.text(cli.store + "/access.jsonl")
        #expect(ledger.contains("\"search\":\"hmac:") && !ledger.lowercased().contains("muller"))
    }

    @Test("match --run R --all records every pair the run proposed, all or nothing")
    func matchWholeRun() throws {
        let cli = CLI()
        try cli("init")
        try Self.pool(
            cli,
            [
                ("m1", "mentor", "IT"), ("m2", "mentor", "Ops"), ("m3", "mentor", "Sales"), ("e1", "mentee", "HR"),
                ("e2", "mentee", "Legal"), ("e3", "mentee", "Finance"),
            ])
        let run = try #require(
            (try QueryCommandTests.json(cli, ["suggest", "--record"])["run"] as? [String: Any])?["id"] as? String)
        // One proposed pair becomes impossible first: the whole run is refused, nothing recorded.
        #expect(try cli.run(["withdraw", "--participant", "e3", "--reason", "time"]).status == 0)
        let before = Files.read(cli.store + "/events.jsonl")
        let refused = try cli.run(["match", "--programme", "p", "--run", run, "--all"])
        #expect(
            refused.status == 1 && refused.stderr.contains("of run \(run)")
                && refused.stderr.contains("nothing was recorded"), "\(refused.stderr)")
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
        // A new run over the pool that is left: all of its pairs, in one batch.
        let second = try #require(
            (try QueryCommandTests.json(cli, ["suggest", "--record"])["run"] as? [String: Any])?["id"] as? String)
        let all = try cli.run(["match", "--programme", "p", "--run", second, "--all", "--format", "json"])
        #expect(all.status == 0, "\(all.stderr)")
        let results = try #require(CLI.json(all)?["results"] as? [[String: Any]])
        #expect(
            results.count == 2 && results.allSatisfy { $0["type"] as? String == "TandemMatched" && $0["pair"] != nil })
        #expect(try cli.run(["match", "--programme", "p", "--run", second, "--all", "--mentor", "m1"]).status == 64)
        #expect(try cli.run(["match", "--programme", "p", "--all"]).status == 64)
    }

    @Test("a participant records sessions and goals of their own active tandem, as themselves, and nothing else")
    func selfService() throws {
        var cli = CLI()
        try Self.programme(cli)
        cli.now = "2027-03-01T09:00:00Z"
        let me = ["--role", "participant:e1"]
        let session = try cli.run(
            me + ["session", "--tandem", "t1", "--minutes", "40", "--on", "2027-02-20", "--notes", "we met"])
        #expect(session.status == 0, "\(session.stderr)")
        let line = String(Files.text(cli.store + "/events.jsonl").split(separator: "\n").last!)
        #expect(line.contains(#""actor":"participant:e1""#))
        #expect(
            try cli.run(
                me + ["goal", "set", "--tandem", "t1", "--goal", "g2", "--text", "post weekly", "--on", "2027-02-20"]
            ).status == 0)
        #expect(
            try cli.run(me + ["goal", "reached", "--tandem", "t1", "--goal", "g2", "--on", "2027-02-25"]).status == 0)
        let before = Files.read(cli.store + "/events.jsonl")
        let other = try cli.run(me + ["session", "--tandem", "t2", "--minutes", "40", "--on", "2027-02-20"])
        #expect(
            other.status == 1 && other.stderr.contains("tandem 't2' is not an active tandem of e1"), "\(other.stderr)")
        let withdraw = try cli.run(me + ["withdraw", "--participant", "e1", "--reason", "time"])
        #expect(
            withdraw.status == 1
                && withdraw.stderr.contains("participants record their own tandem's sessions and goals only"))
        #expect(try cli.run(["--role", "analyst", "session", "--tandem", "t1", "--minutes", "40"]).status == 1)
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
    }

    @Test("programme close completes every active tandem and ends the programme, all or nothing")
    func close() throws {
        var cli = CLI()
        try Self.programme(cli)
        cli.now = "2027-03-01T09:00:00Z"
        #expect(try cli.run(["session", "--tandem", "t2", "--minutes", "30", "--on", "2027-02-25"]).status == 0)
        let before = Files.read(cli.store + "/events.jsonl")
        // t2 met on 2027-02-25: closing on the 20th would complete it before that.
        let early = try cli.run(["programme", "close", "--programme", "p", "--on", "2027-02-20"])
        #expect(
            early.status == 1 && early.stderr.contains("completing t2")
                && early.stderr.contains("nothing was recorded"), "\(early.stderr)")
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
        let closed = try cli.run(["programme", "close", "--programme", "p", "--on", "2027-02-28", "--format", "json"])
        #expect(closed.status == 0, "\(closed.stderr)")
        let results = try #require(CLI.json(closed)?["results"] as? [[String: Any]])
        #expect(results.map { $0["type"] as? String } == ["TandemCompleted", "TandemCompleted", "ProgrammeClosed"])
        let tandems = try #require(
            try QueryCommandTests.json(cli, ["tandems", "--status", "all"])["tandems"] as? [[String: Any]])
        #expect(tandems.allSatisfy { $0["status"] as? String == "completed" && $0["until"] as? String == "2027-02-28" })
        let signup = try cli.run([
            "signup", "--programme", "p", "--role", "mentor", "--name", "Late Comer", "--unit", "IT", "--level", "2",
            "--born", "1999", "--on", "2027-03-01",
        ])
        #expect(
            signup.status == 1 && signup.stderr.contains("programme 'p' was closed on 2027-02-28"), "\(signup.stderr)")
        #expect((try QueryCommandTests.json(cli, ["suggest"])["pairs"] as? [Any])?.isEmpty == true)
        #expect((try QueryCommandTests.json(cli, ["due"])["due"] as? [Any])?.isEmpty == true)
        #expect(try cli.run(["programme", "close", "--programme", "p"]).status == 1)
        let audit = try #require(try QueryCommandTests.json(cli, ["audit"])["entries"] as? [[String: Any]])
        #expect((audit.last?["summary"] as? String) == "programme p closed on 2027-02-28")
        #expect(try cli("verify").status == 0)
    }

    @Test(
        "duplicates: a signup or an import that repeats someone is refused and names them; --allow-duplicate records anyway"
    )
    func duplicates() throws {
        let cli = CLI()
        try cli("init")
        try ErasureCanary.record(
            cli, ["programme", "launch", "--id", "p", "--name", "P", "--starts", "2027-01-01", "--ends", "2027-08-31"])
        let claudia = try ErasureCanary.record(
            cli,
            [
                "signup", "--programme", "p", "--role", "mentee", "--name", "Claudia Berger", "--email",
                "c.berger@example.org", "--unit", "HR", "--level", "8", "--born", "1966", "--on", "2027-01-02",
            ])
        let sameMail = try cli.run([
            "signup", "--programme", "p", "--role", "mentee", "--name", "C. Berger", "--email", "C.Berger@Example.org",
            "--unit", "HR", "--level", "8", "--born", "1966", "--on", "2027-01-02",
        ])
        #expect(
            sameMail.status == 1 && sameMail.stderr.contains("\(claudia) in programme p has the same email")
                && sameMail.stderr.contains("--allow-duplicate"),
            "\(sameMail.stderr)")
        let sameName = try cli.run([
            "signup", "--programme", "p", "--role", "mentee", "--name", "CLAUDIA BÉRGER", "--unit", "HR", "--level",
            "8",
            "--born", "1966", "--on", "2027-01-02",
        ])
        #expect(sameName.status == 1 && sameName.stderr.contains("the same name and birth year"), "\(sameName.stderr)")
        let allowed = try cli.run([
            "signup", "--programme", "p", "--role", "mentee", "--name", "Claudia Berger", "--unit", "Sales", "--level",
            "8",
            "--born", "1966", "--on", "2027-01-02", "--allow-duplicate",
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        // The same file imported twice: refused whole, every line listed.
        let csv =
            "name,email,role,unit,level,born\nAnna Ort,anna@example.org,mentor,IT,2,1999\nBo Lind,bo@example.org,mentor,Ops,2,2000\n"
        Files.write(cli.directory.appending("people.csv"), Array(csv.utf8))
        #expect(try cli.run(["import", "signups", "people.csv", "--programme", "p", "--on", "2027-01-02"]).status == 0)
        let before = Files.read(cli.store + "/events.jsonl")
        let again = try cli.run(["import", "signups", "people.csv", "--programme", "p", "--on", "2027-01-02"])
        #expect(
            again.status == 1 && again.stderr.contains("2 row(s) repeat someone already signed up: line 2 (p-")
                && again.stderr.contains("line 3 (p-"),
            "\(again.stderr)")
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
        // A row twice in one file.
        Files.write(
            cli.directory.appending("twice.csv"),
            Array("name,role,unit,level,born\nEd Moe,mentor,IT,2,1999\nEd Moe,mentor,IT,2,1999\n".utf8))
        let twice = try cli.run(["import", "signups", "twice.csv", "--programme", "p", "--on", "2027-01-02"])
        #expect(
            twice.status == 1 && twice.stderr.contains("line 3 (as line 2, the same name and birth year)"),
            "\(twice.stderr)")
    }
}
