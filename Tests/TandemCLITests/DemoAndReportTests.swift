import EventLog
import Foundation
import Mentoring
import Projections
import TandemCLI
import TestSupport
import Testing

@Suite("Dropouts, the HTML report and the demo", .serialized)
struct DemoAndReportTests {
    @Test("dropouts on the scripted programme: hand-computed Kaplan–Meier")
    func dropouts() throws {
        let cli = try ScriptedProgramme.build()
        let document = try QueryCommandTests.json(cli, ["dropouts"])
        let d = try #require(document["dropouts"] as? [String: Any])
        // Matched: all 12. Events: e5 after 31 days, m2 after 64. Censored: e7 at 45 (matched
        // 02-15), e6 at 59 (joined 02-01), m1 and e1 at 74 (t1 completed 03-25), and six at 81
        // (2027-04-01, the as-of date).
        #expect(
            d["participants"] as? Int == 12 && d["withdrawals"] as? Int == 2 && d["withdrawalsBeforeMatch"] as? Int == 0
        )
        #expect(d["rate"] as? Double == 1.0 / 6.0)
        #expect((d["reasons"] as? [String: Int]) == ["time": 1, "role-change": 1])
        #expect((d["medianDaysToDropout"] as Any) is NSNull)
        let rows = try #require(d["survival"] as? [[String: Any]])
        #expect(rows.map { $0["day"] as! Int } == [31, 45, 59, 64, 74, 81])
        #expect(rows.map { $0["atRisk"] as! Int } == [12, 11, 10, 9, 8, 6])
        #expect(rows.map { $0["events"] as! Int } == [1, 0, 0, 1, 0, 0])
        #expect(rows.map { $0["censored"] as! Int } == [0, 1, 1, 0, 2, 6])
        #expect(abs((rows[0]["survival"] as! Double) - 11.0 / 12) < 1e-6)
        #expect(abs((rows[3]["survival"] as! Double) - 11.0 / 12 * 8 / 9) < 1e-6)
        // The analyst's view, k = 3: every figure is the cell-key value of its population.
        let policy = try cli.analystPolicy()
        func people(_ ids: String) -> Population {
            policy.population(ids.split(separator: " ").map { ParticipantID(String($0))! })
        }
        let everyone = people("m1 m2 m3 m4 m5 e1 e2 e3 e4 e5 e6 e7")
        let analystDocument = try QueryCommandTests.json(cli, ["--role", "analyst", "dropouts"])
        let analyst = try #require(analystDocument["dropouts"] as? [String: Any])
        #expect(analyst["participants"] as? Int == policy.count(12, in: everyone, "matched"))
        let reasons = try #require(analyst["reasons"] as? [String: Any])
        for code in ["time", "role-change"] {
            let published = policy.count(1, in: everyone, "reason:" + code)
            #expect(reasons[code] as? Int == published && (published == 0 || published == 3))
        }
        // The life table over 30-day intervals, from the hand-computed observations above.
        let observations =
            [(31, true), (64, true), (45, false), (59, false), (74, false), (74, false)].map {
                KaplanMeier.Observation(duration: $0.0, event: $0.1)
            }
            + Array(repeating: KaplanMeier.Observation(duration: 81, event: false), count: 6)
        let expected = LifeTable.estimate(observations, width: 30, population: everyone, policy: policy, k: 3).rows
        let lifeRows = try #require(analyst["survival"] as? [[String: Any]])
        #expect(lifeRows.map { $0["day"] as! Int } == expected.map(\.start))
        #expect(lifeRows.map { $0["until"] as! Int } == expected.map(\.end))
        #expect(lifeRows.map { $0["events"] as! Int } == expected.map(\.events))
        // No single day, and no count between 1 and k − 1.
        for row in lifeRows {
            #expect((row["until"] as! Int) - (row["day"] as! Int) >= 30)
            for key in ["atRisk", "events", "censored"] { #expect((row[key] as! Int) == 0 || (row[key] as! Int) >= 3) }
        }
        #expect(
            ((analystDocument["basis"] as? [String: Any])?["disclosure"] as? [String: Any])?["method"] as? String
                == "cell-key")
        let byRole = try #require(
            try QueryCommandTests.json(cli, ["--role", "analyst", "dropouts", "--by", "role"])["dropouts"]
                as? [String: Any])
        let groups = try #require(byRole["groups"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as! String } == ["mentee", "mentor"])
        let mentees = policy.count(7, in: people("e1 e2 e3 e4 e5 e6 e7"), "matched")
        #expect(groups.first?["participants"] as? Int == (mentees < 3 ? nil : mentees))
    }

    @Test("the report: well-formed, all charts, escaped, no script, no external reference, role-aware")
    func report() throws {
        var cli = try ScriptedProgramme.build()
        // A name that would break HTML if it were not escaped.
        cli.now = "2027-04-01T12:00:00Z"
        try cli.run([
            "signup", "--programme", "pilot", "--role", "mentee", "--name", "<script>alert('x')</script> & \"Co\"",
            "--unit", "R&D",
            "--level", "9", "--born", "1961", "--id", "x1", "--on", "2027-03-01",
        ])
        let matched = try cli.run([
            "match", "--programme", "pilot", "--mentor", "m1", "--mentee", "x1", "--on", "2027-03-26",
        ])
        #expect(matched.status == 0, "\(matched.stderr)")
        let outcome = try cli.run(["report", "--html", "report.html"])
        #expect(outcome.status == 0 && outcome.stdout.contains("report.html"), "\(outcome.stderr)")
        let path = cli.directory.appending("report.html")
        let html = Files.text(path)
        #expect(!html.lowercased().contains("<script") && !html.contains("http"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"))
        #expect(FileSystem.mode(of: path) == 0o600)
        let python = try #require(ReferenceTools.python)
        let check = try Executables.run(
            python,
            [
                "-c",
                """
                import sys, xml.etree.ElementTree as ET
                root = ET.fromstring(open(sys.argv[1]).read().replace('<!DOCTYPE html>', ''))
                svgs = {s.get('id'): s for s in root.iter('svg')}
                for name in ['sessions-per-month', 'active-tandems', 'survival', 'withdrawal-reasons', 'goal-attainment']:
                    svg = svgs[name]
                    assert svg.find('title') is not None and svg.find('title').text, name
                    ET.fromstring(ET.tostring(svg))
                print(','.join(sorted(svgs)))
                print(len(list(root.iter('table'))))
                """, path,
            ])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("active-tandems,goal-attainment,sessions-per-month,survival,withdrawal-reasons"))
        #expect(
            html.contains("Basis: log seq 45") && html.contains("coordinator view")
                && html.contains("at risk") == html.contains("at risk"))
        #expect(
            html.contains("days since first match") && html.contains("sessions") && html.contains("share remaining"))
        #expect(html.contains("<table>") && html.contains("Name of m1"))
        // The analyst's report: no tandem table, no names, suppressed figures.
        let analyst = try cli.run(["--role", "analyst", "report", "--html", "analyst.html"])
        #expect(analyst.status == 0)
        let analystHTML = Files.text(cli.directory.appending("analyst.html"))
        #expect(
            !analystHTML.contains("<table>") && !analystHTML.contains("Name of") && analystHTML.contains("analyst view")
        )
        let auditor = Files.text(cli.directory.appending("analyst.html"))
        #expect(!auditor.contains("alert"))
        #expect(try cli.run(["--role", "participant:m1", "report", "--html", "p.html"]).status == 1)
    }

    static func runDemo(store: String, seed: String) -> (Int32, String) {
        let out = StringSink(), err = StringSink()
        let context = CommandContext(
            environment: [:], clock: FixedClock(Timestamp(rfc3339: "2026-11-24T12:00:00Z")!),
            random: SeededRandomSource(seed: 99), currentDirectory: "/", stdout: out, stderr: err)
        let code = TandemCLI.run(["demo", "--store", store, "--seed", seed, "--participants", "30"], context: context)
        return (code, out.text + err.text)
    }

    @Test("the demo is deterministic: same seed, same clock and randomness, byte-identical files")
    func demoDeterministic() throws {
        let directory = TemporaryDirectory()
        let a = Self.runDemo(store: directory.appending("a"), seed: "7")
        let b = Self.runDemo(store: directory.appending("b"), seed: "7")
        let c = Self.runDemo(store: directory.appending("c"), seed: "8")
        #expect(a.0 == 0 && b.0 == 0 && c.0 == 0, "\(a.1)")
        for file in ["events.jsonl", "vault.jsonl"] {
            #expect(
                sameBytes(Files.read(directory.appending("a/\(file)")), Files.read(directory.appending("b/\(file)"))),
                "\(file)")
        }
        #expect(
            !sameBytes(
                Files.read(directory.appending("a/events.jsonl")), Files.read(directory.appending("c/events.jsonl"))))
        #expect(a.1.contains("Report: \(directory.appending("a-report.html"))"))
    }

    @Test("the demo's programme follows the rules and looks like a programme")
    func demoRealistic() throws {
        let cli = CLI()
        let outcome = try cli.run([
            "demo", "--store", cli.store, "--participants", "60", "--seed", "3", "--format", "json",
        ])
        let object = try #require(CLI.json(outcome), "\(outcome.stderr)")
        let stats = try #require(object["stats"] as? [String: Any])
        #expect(stats["participants"] as? Int == 60 && stats["mentors"] as? Int == 32)
        #expect(
            (stats["sessions"] as? Int ?? 0) > 150 && (stats["goalsSet"] as? Int ?? 0) > 20
                && (stats["goalsReached"] as? Int ?? 0) > 5)
        #expect((stats["completedTandems"] as? Int ?? 0) > 10 && (stats["withdrawn"] as? Int ?? 0) >= 1)
        let verify = try cli("verify")
        #expect(verify.status == 0, "\(verify.stderr)")
        let audit = try #require(CLI.json(try cli("audit --format json"))?["entries"] as? [[String: Any]])
        let types = Set(audit.map { $0["type"] as! String })
        for type in [
            "ProgrammeLaunched", "ParticipantSignedUp", "MatchRunRecorded", "TandemMatched", "SessionHeld", "GoalSet",
            "GoalReached", "TandemCompleted",
        ] {
            #expect(types.contains(type), "no \(type)")
        }
        // Matches follow a recorded run, and sessions were sometimes logged late.
        #expect(audit.contains { ($0["summary"] as? String)?.contains("as proposed by match run") == true })
        // The report lies beside the store, never in it.
        #expect(Files.allFiles(under: cli.store).allSatisfy { !$0.hasSuffix(".html") })
        #expect(FileManager.default.fileExists(atPath: cli.store + "-report.html"))
        // A second demo never writes into a store that holds something.
        let again = try cli.run(["demo", "--store", cli.store])
        #expect(again.status == 1 && again.stderr.contains("needs a new or empty directory"))
    }
}
