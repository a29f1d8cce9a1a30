import EventLog
import Foundation
import Mentoring
import Projections
import TestSupport
import Testing

/// The analyst's dropout toolkit: populations, per-group curves, the log-rank test, cohorts,
/// long CSV, as real processes.
@Suite("Dropout toolkit: populations, curves per group, log-rank, cohorts", .serialized)
struct DropoutToolkitTests {
    /// The 6-MP arm of Freireich's leukaemia trial (Gehan 1965), weeks to relapse, `true` for
    /// a relapse, `false` for censored.
    static let sixMP: [(Int, Bool)] = [
        (6, true), (6, true), (6, true), (6, false), (7, true), (9, false), (10, true), (10, false), (11, false),
        (13, true), (16, true), (17, false), (19, false), (20, false), (22, true), (23, true), (25, false),
        (32, false), (32, false), (34, false), (35, false),
    ]

    /// The table as a programme: mentee i is matched on 2027-01-10 and withdraws (a relapse) or
    /// completes (censored) t days later; mentees alternate between units A and B. Mentors are
    /// matched too, so that only `--population mentees` gives the textbook curve.
    static func build() throws -> CLI {
        var cli = CLI()
        cli.now = "2027-01-10T08:00:00Z"
        try cli("init")
        var lines = [
            #"{"command":"programme launch","id":"mp","name":"6-MP","starts":"2027-01-01","ends":"2027-12-31","min-group-size":3}"#
        ]
        for (i, _) in sixMP.enumerated() {
            lines.append(
                #"{"command":"signup","programme":"mp","role":"mentor","name":"Mentor \#(i)","email":"m\#(i)@example.org","unit":"IT","level":2,"born":1999,"id":"m\#(i)","on":"2027-01-05"}"#
            )
            lines.append(
                #"{"command":"signup","programme":"mp","role":"mentee","name":"Mentee \#(i)","email":"e\#(i)@example.org","unit":"\#(i % 2 == 0 ? "A" : "B")","level":9,"born":1965,"id":"e\#(i)","on":"2027-01-05"}"#
            )
            lines.append(
                #"{"command":"match","programme":"mp","mentor":"m\#(i)","mentee":"e\#(i)","id":"t\#(i)","on":"2027-01-10"}"#
            )
        }
        let first = try cli("append -", stdin: lines.joined(separator: "\n") + "\n")
        guard first.status == 0 else { throw SeedingFailed(message: first.stderr) }
        cli.now = "2027-03-01T08:00:00Z"
        var ends: [String] = []
        for (i, (t, relapse)) in sixMP.enumerated() {
            let on = BusinessDate("2027-01-10")!.adding(days: t).description
            ends.append(
                relapse
                    ? #"{"command":"withdraw","participant":"e\#(i)","reason":"time","on":"\#(on)"}"#
                    : #"{"command":"complete","tandem":"t\#(i)","on":"\#(on)"}"#)
        }
        let second = try cli("append -", stdin: ends.joined(separator: "\n") + "\n")
        guard second.status == 0 else { throw SeedingFailed(message: second.stderr) }
        return cli
    }

    @Test("--population mentees reproduces the textbook 6-MP curve; the default counts mentors too and says so")
    func sixMPCurve() throws {
        let cli = try Self.build()
        let outcome = try cli.run(["dropouts", "--population", "mentees", "--as-of", "2027-03-01", "--format", "json"])
        let d = try #require(CLI.json(outcome)?["dropouts"] as? [String: Any], "\(outcome.stderr)")
        #expect(
            d["population"] as? String == "mentees" && d["participants"] as? Int == 21 && d["withdrawals"] as? Int == 9)
        let rows = try #require(d["survival"] as? [[String: Any]])
        let expected: [Int: Double] = [6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448]
        for (day, s) in expected {
            let row = try #require(rows.first { $0["day"] as? Int == day }, "day \(day)")
            #expect(abs((row["survival"] as! Double) - s) < 0.0005, "S(\(day))")
        }
        #expect(d["medianDaysToDropout"] as? Int == 23)
        let table = try cli.run(["dropouts", "--population", "mentees", "--as-of", "2027-03-01"])
        #expect(table.stdout.contains("Population: mentees only."))
        // Everyone: the mentors of relapsed mentees are freed, not withdrawn, so the curve is higher.
        let all = try #require(
            CLI.json(try cli.run(["dropouts", "--as-of", "2027-03-01", "--format", "json"]))?["dropouts"]
                as? [String: Any])
        #expect(all["population"] as? String == "all" && all["participants"] as? Int == 42)
        let everyone = try cli.run(["dropouts", "--as-of", "2027-03-01"])
        #expect(everyone.stdout.contains("Population: everyone ever matched, mentors and mentees"))
        // A bad value is a usage error naming the choices.
        let bad = try cli.run(["dropouts", "--population", "mentee"])
        #expect(bad.status == 64 && bad.stderr.contains("mentees"))
    }

    @Test("--by: a curve and median per group, and the log-rank test, as lifelines computes them; CSV is long format")
    func groupsAgainstLifelines() throws {
        let cli = try Self.build()
        let outcome = try cli.run([
            "dropouts", "--population", "mentees", "--by", "unit", "--as-of", "2027-03-01", "--format", "json",
        ])
        let d = try #require(CLI.json(outcome)?["dropouts"] as? [String: Any], "\(outcome.stderr)")
        let groups = try #require(d["groups"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as? String } == ["A", "B"])
        let observations = (0..<2).map { unit in
            Self.sixMP.enumerated().filter { $0.offset % 2 == unit }.map {
                KaplanMeier.Observation(duration: $0.element.0, event: $0.element.1)
            }
        }
        for (group, sample) in zip(groups, observations) {
            let rows = try #require(group["survival"] as? [[String: Any]])
            let expected = KaplanMeier.estimate(sample)
            #expect(rows.map { $0["day"] as! Int } == expected.map(\.day))
            for (row, e) in zip(rows, expected) {
                #expect(
                    abs((row["survival"] as! Double) - e.survival) < 1e-12
                        && abs((row["lower"] as! Double) - e.lower) < 1e-12)
            }
            #expect(group["medianDaysToDropout"] as? Int == KaplanMeier.median(expected))
        }
        let logrank = try #require(d["logrank"] as? [String: Any])
        let mine = try #require(LogRank.test(observations))
        #expect(abs((logrank["statistic"] as! Double) - mine.statistic) < 1e-12 && logrank["df"] as? Int == 1)
        if ReferenceTools.pythonHas("lifelines") {
            let script = """
                import json, sys
                from lifelines import KaplanMeierFitter
                from lifelines.statistics import multivariate_logrank_test
                data = json.load(sys.stdin)
                d = [x[0] for g in data for x in g]; e = [x[1] for g in data for x in g]; g = [i for i, grp in enumerate(data) for _ in grp]
                r = multivariate_logrank_test(d, g, e)
                curves = []
                for grp in data:
                    k = KaplanMeierFitter().fit([x[0] for x in grp], [x[1] for x in grp])
                    s = k.survival_function_.iloc[:, 0]; ci = k.confidence_interval_
                    curves.append({str(int(t)): [s.loc[t], ci.iloc[i, 0], ci.iloc[i, 1]] for i, t in enumerate(s.index)})
                print(json.dumps({"statistic": r.test_statistic, "p": r.p_value, "curves": curves}))
                """
            let input =
                "["
                + observations.map {
                    "[" + $0.map { "[\($0.duration),\($0.event ? 1 : 0)]" }.joined(separator: ",") + "]"
                }.joined(separator: ",") + "]"
            let python = try ReferenceTools.runPython(script, stdin: input)
            let reference = try #require(
                try JSONSerialization.jsonObject(with: Data(python.stdout.utf8)) as? [String: Any], "\(python.stderr)")
            #expect(abs((logrank["statistic"] as! Double) - (reference["statistic"] as! Double)) < 1e-6)
            #expect(abs((logrank["p"] as! Double) - (reference["p"] as! Double)) < 1e-6)
            for (group, curve) in zip(groups, reference["curves"] as! [[String: [Double]]]) {
                for row in group["survival"] as! [[String: Any]] {
                    let values = try #require(curve[String(row["day"] as! Int)])
                    #expect(
                        abs((row["survival"] as! Double) - values[0]) < 1e-6
                            && abs((row["lower"] as! Double) - values[1]) < 1e-6
                            && abs((row["upper"] as! Double) - values[2]) < 1e-6)
                }
            }
        }
        // Long CSV: one row per group and day, with a group column.
        let csv = try cli.run([
            "dropouts", "--population", "mentees", "--by", "unit", "--as-of", "2027-03-01", "--format", "csv",
        ])
        let lines = csv.stdout.split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.first == "group,day,atRisk,events,censored,survival,lower,upper")
        #expect(lines.dropFirst().count == groups.reduce(0) { $0 + ($1["survival"] as! [Any]).count })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("A,") || $0.hasPrefix("B,") })
        if ReferenceTools.pythonHas("pandas") {
            let read = try ReferenceTools.runPython(
                "import pandas, sys; f = pandas.read_csv(sys.stdin); print(sorted(f['group'].unique()), len(f))",
                stdin: csv.stdout)
            #expect(read.stdout.hasPrefix("['A', 'B']"), "\(read.stderr)")
        }
    }

    @Test("analysts: per-group life tables and a log-rank test from perturbed counts, no count between 1 and k − 1")
    func analystGroups() throws {
        let cli = try Self.build()
        let outcome = try cli.run([
            "--role", "analyst", "dropouts", "--population", "mentees", "--by", "unit", "--as-of", "2027-03-01",
            "--format", "json",
        ])
        let document = try #require(CLI.json(outcome), "\(outcome.stderr)")
        let d = try #require(document["dropouts"] as? [String: Any])
        for group in d["groups"] as? [[String: Any]] ?? [] {
            for row in group["survival"] as? [[String: Any]] ?? [] {
                #expect((row["until"] as! Int) - (row["day"] as! Int) >= 30)
                for key in ["atRisk", "events", "censored"] {
                    #expect((row[key] as! Int) == 0 || (row[key] as! Int) >= 3)
                }
            }
        }
        let table = try cli.run([
            "--role", "analyst", "dropouts", "--population", "mentees", "--by", "unit", "--as-of", "2027-03-01",
        ])
        if d["logrank"] is [String: Any] { #expect(table.stdout.contains("computed from the perturbed counts")) }
        // The population filter is checked like any other: mentors alone are fine, 21 people.
        let mentors = try cli.run(["--role", "analyst", "dropouts", "--population", "mentors"])
        #expect(mentors.status == 0, "\(mentors.stderr)")
    }

    @Test(
        "report --by draws one curve per group, distinguishable without colour, with a legend and the log-rank p-value")
    func reportByGroup() throws {
        let cli = try Self.build()
        let outcome = try cli.run(["report", "--html", "by-unit.html", "--by", "unit", "--as-of", "2027-03-01"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let html = Files.text(cli.directory.appending("by-unit.html"))
        let python = try #require(ReferenceTools.python)
        let parsed = try Executables.run(
            python,
            [
                "-c",
                "import sys, xml.etree.ElementTree as ET; ET.fromstring(open(sys.argv[1]).read().replace('<!DOCTYPE html>', ''))",
                cli.directory.appending("by-unit.html"),
            ])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(html.contains("Staying in the programme, by unit") && html.contains("log-rank p = "))
        // Two groups (A and B over everyone matched, mentors in IT too), each a polyline with its
        // own dash pattern, and each named in the legend.
        let curves = html.components(separatedBy: "<polyline").dropFirst().filter {
            $0.contains("<title>A</title>") || $0.contains("<title>B</title>") || $0.contains("<title>IT</title>")
        }
        #expect(curves.count >= 2)
        #expect(Set(curves.map { $0.contains("stroke-dasharray") }).count == 2, "the first solid, the next dashed")
        for group in ["A", "B"] { #expect(html.contains(">\(group)</text>"), "legend \(group)") }
        // An empty table says so.
        let none = try cli.run(["report", "--html", "none.html", "--as-of", "2027-03-01"])
        #expect(none.status == 0)
        #expect(Files.text(cli.directory.appending("none.html")).contains("<h2>Active tandems</h2><p>none</p>"))
    }

    @Test("cohorts: --by programme compares programmes side by side in stats and dropouts")
    func cohorts() throws {
        var cli = try Self.build()
        cli.now = "2027-03-02T08:00:00Z"
        var lines = [
            #"{"command":"programme launch","id":"second","name":"Second","starts":"2027-02-01","ends":"2027-12-31","min-group-size":3}"#
        ]
        for i in 0..<4 {
            lines.append(
                #"{"command":"signup","programme":"second","role":"mentor","name":"Second Mentor \#(i)","email":"sm\#(i)@example.org","unit":"IT","level":2,"born":1999,"id":"sm\#(i)","on":"2027-02-01"}"#
            )
            lines.append(
                #"{"command":"signup","programme":"second","role":"mentee","name":"Second Mentee \#(i)","email":"se\#(i)@example.org","unit":"HR","level":9,"born":1965,"id":"se\#(i)","on":"2027-02-01"}"#
            )
            lines.append(
                #"{"command":"match","programme":"second","mentor":"sm\#(i)","mentee":"se\#(i)","id":"st\#(i)","on":"2027-02-02"}"#
            )
        }
        lines.append(#"{"command":"withdraw","participant":"se0","reason":"time","on":"2027-02-20"}"#)
        let added = try cli("append -", stdin: lines.joined(separator: "\n") + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let stats = try #require(
            CLI.json(try cli.run(["stats", "--by", "programme", "--format", "json"]))?["stats"] as? [String: Any])
        #expect(stats["programme"] as? String == "all" && stats["participants"] as? Int == 50)
        let rows = try #require(stats["groups"] as? [[String: Any]])
        #expect(rows.map { $0["group"] as? String } == ["mp", "second"])
        #expect(rows.map { $0["participants"] as? Int } == [42, 8] && rows.map { $0["withdrawn"] as? Int } == [9, 1])
        let dropouts = try #require(
            CLI.json(try cli.run(["dropouts", "--by", "programme", "--population", "mentees", "--format", "json"]))?[
                "dropouts"] as? [String: Any])
        let curves = try #require(dropouts["groups"] as? [[String: Any]])
        #expect(
            curves.map { $0["group"] as? String } == ["mp", "second"]
                && curves.map { $0["withdrawals"] as? Int } == [9, 1])
        #expect(dropouts["logrank"] is [String: Any])
        // Without --by programme, two programmes still need --programme.
        let which = try cli.run(["stats"])
        #expect(which.status != 0 && which.stderr.contains("--programme"))
    }
}

@Suite("Activity over time: hand-counted", .serialized)
struct ActivityTests {
    @Test(
        "activity by month and quarter on the scripted programme, hand-counted; analysts perturbed; a participant sees their own"
    )
    func handCounted() throws {
        let cli = try ScriptedProgramme.build()
        let outcome = try cli.run(["activity", "--format", "json"])
        let periods = try #require(CLI.json(outcome)?["periods"] as? [[String: Any]], "\(outcome.stderr)")
        func column(_ key: String) -> [Int?] { periods.map { $0[key] as? Int } }
        #expect(periods.map { $0["period"] as? String } == ["2027-01", "2027-02", "2027-03", "2027-04"])
        // January: t5, t1, t3, t2, t4 (285 minutes). February: t6 (logged late), t1, t7, t2 (the
        // duplicate is voided). March: t4 and t1.
        #expect(column("sessions") == [5, 4, 2, 0] && column("minutes") == [285, 210, 120, 0])
        #expect(zip(column("online"), column("inPerson")).map { ($0 ?? 0) + ($1 ?? 0) } == [5, 4, 2, 0])
        // t1–t5 in January; t6 (the swap) and t7 in February.
        #expect(column("matches") == [5, 2, 0, 0])
        // e5 in February, m2 in March; goals t1/g1 in February, t2/g1 in March.
        #expect(column("withdrawals") == [0, 1, 1, 0] && column("goalsReached") == [0, 1, 1, 0])
        #expect(column("newParticipants") == [12, 0, 0, 0])
        // Active at each period's end: t1–t5; t1, t2, t4, t6, t7; t4, t6, t7 (t2 dissolved,
        // t1 completed); and on 1 April (the as-of date) still three.
        #expect(column("activeTandems") == [5, 5, 3, 3])
        let quarters = try #require(
            CLI.json(try cli.run(["activity", "--by", "quarter", "--format", "json"]))?["periods"] as? [[String: Any]])
        #expect(quarters.map { $0["period"] as? String } == ["2027-Q1", "2027-Q2"])
        #expect(
            quarters.map { $0["sessions"] as? Int } == [11, 0] && quarters.map { $0["matches"] as? Int } == [7, 0]
                && quarters.map { $0["activeTandems"] as? Int } == [3, 3])
        // A segment: the mentees of Legal (e1, e3, e7) and their tandems t1, t3, t7.
        let legal = try #require(
            CLI.json(try cli.run(["activity", "--segment", "unit=Legal", "--format", "json"]))?["periods"]
                as? [[String: Any]])
        #expect(
            legal.map { $0["sessions"] as? Int } == [2, 2, 1, 0]
                && legal.map { $0["newParticipants"] as? Int } == [3, 0, 0, 0])
        // CSV keeps its header; the table names its columns.
        let csv = try cli.run(["activity", "--format", "csv"])
        #expect(
            csv.stdout.hasPrefix(
                "period,sessions,minutes,online,inPerson,activeTandems,matches,withdrawals,goalsReached,newParticipants"
            ))
        // Analysts: no count between 1 and k − 1 (k = 3); the basis names the method.
        let analyst = try #require(CLI.json(try cli.run(["--role", "analyst", "activity", "--format", "json"])))
        for period in analyst["periods"] as? [[String: Any]] ?? [] {
            for key in ["activeTandems", "matches", "withdrawals", "newParticipants"] {
                if let n = period[key] as? Int { #expect(n == 0 || n >= 3) }
            }
        }
        #expect(
            ((analyst["basis"] as? [String: Any])?["disclosure"] as? [String: Any])?["method"] as? String == "cell-key")
        // Segments describe people: auditors (pseudonymous ids only) and participants may not
        // filter by them.
        for role in ["auditor", "participant:e7"] {
            let refused = try cli.run(["--role", role, "activity", "--segment", "unit=Legal"])
            #expect(
                refused.status == 1
                    && refused.stderr.hasPrefix("Error: the \(role.prefix(while: { $0 != ":" })) view may not run"),
                "\(refused.stderr)")
        }
        // The coordinator's report draws the same monthly sessions from the model (no replay).
        let report = try cli.run(["report", "--html", "r.html"])
        #expect(report.status == 0)
        let html = Files.text(cli.directory.appending("r.html"))
        for (month, count) in [("Jan", 5), ("Feb", 4), ("Mar", 2)] {
            #expect(html.contains(": \(count)</title></rect>") && html.contains(month), "\(month)")
        }
        // A participant: e7's tandem t7 only (matched in February, one session).
        let own = try #require(
            CLI.json(try cli.run(["--role", "participant:e7", "activity", "--format", "json"]))?["periods"]
                as? [[String: Any]])
        #expect(
            own.map { $0["sessions"] as? Int } == [0, 1, 0, 0] && own.map { $0["matches"] as? Int } == [0, 1, 0, 0])
    }
}
