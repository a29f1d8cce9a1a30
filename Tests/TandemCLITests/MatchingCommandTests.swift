import Foundation
import TestSupport
import Testing

/// Parses an iCalendar file: unfolds lines, and returns the components' properties.
enum ICSParser {
    static func events(_ text: String) throws -> [[String: String]] {
        guard text.hasSuffix("\r\n"), !text.replacingOccurrences(of: "\r\n", with: "").contains("\n") else {
            throw SeedingFailed(message: "lines must end in CRLF")
        }
        var lines: [String] = []
        for physical in text.components(separatedBy: "\r\n") where !physical.isEmpty {
            guard physical.utf8.count <= 75 else {
                throw SeedingFailed(message: "a line longer than 75 octets: \(physical)")
            }
            if physical.hasPrefix(" ") {
                lines[lines.count - 1] += physical.dropFirst()
            } else {
                lines.append(physical)
            }
        }
        guard lines.first == "BEGIN:VCALENDAR", lines.last == "END:VCALENDAR", lines.contains("VERSION:2.0") else {
            throw SeedingFailed(message: "not a calendar")
        }
        var events: [[String: String]] = []
        var current: [String: String]?
        for line in lines {
            if line == "BEGIN:VEVENT" {
                current = [:]
                continue
            }
            if line == "END:VEVENT" {
                events.append(current!)
                current = nil
                continue
            }
            guard current != nil, let colon = line.firstIndex(of: ":") else { continue }
            current![String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return events
    }
}

@Suite("suggest, due and iCalendar as real processes", .serialized)
struct MatchingCommandTests {
    @Test("suggest: the freed and the waiting, the optimum, explained; --record and match --run")
    func suggest() throws {
        let cli = try ScriptedProgramme.build()
        let document = try QueryCommandTests.json(cli, ["suggest"])
        // Pool: mentor m1 (t1 completed); mentees e1 (m1's former partner), e2 (freed when m2
        // withdrew) and e3 (left t3). m1 × e3 scores 0.3 (generation, 6 levels, genders),
        // m1 × e2 0.2 (same gender).
        let pairs = try #require(document["pairs"] as? [[String: Any]])
        #expect(pairs.count == 1 && pairs[0]["mentor"] as? String == "m1" && pairs[0]["mentee"] as? String == "e3")
        #expect(pairs[0]["score"] as? Double == 0.3 && pairs[0]["mentorName"] as? String == "Name of m1")
        #expect((pairs[0]["reasons"] as? [String]) == ["gen-z × gen-x", "6 levels apart", "different genders"])
        #expect(document["total"] as? Double == 0.3)
        let unmatched = try #require(document["unmatched"] as? [String: [[String: String]]])
        #expect(
            unmatched["mentees"]?.contains { $0["participant"] == "e1" && $0["reason"] == "no eligible partner" }
                == true)
        #expect(unmatched["mentees"]?.contains { $0["participant"] == "e2" && $0["reason"] == "outnumbered" } == true)
        let candidates = try #require(document["candidates"] as? [[String: Any]])
        #expect(candidates.count == 2 && !candidates.contains { $0["mentee"] as? String == "e1" })
        #expect(
            candidates.contains {
                $0["mentee"] as? String == "e3" && $0["mentor"] as? String == "m1" && $0["score"] as? Double == 0.3
            })
        #expect(
            candidates.contains {
                $0["mentee"] as? String == "e2" && $0["mentor"] as? String == "m1" && $0["score"] as? Double == 0.2
            })
        // Record the proposal, then match with it; the audit tells run from hand.
        let recorded = try QueryCommandTests.json(cli, ["suggest", "--record"])
        let run = try #require((recorded["run"] as? [String: Any])?["id"] as? String)
        #expect(run.hasPrefix("run-"))
        let match = try cli.run([
            "match", "--programme", "pilot", "--mentor", "m1", "--mentee", "e3", "--run", run, "--id", "t8",
        ])
        #expect(match.status == 0, "\(match.stderr)")
        let audit = try #require(
            try QueryCommandTests.json(cli, ["audit", "--tandem", "t8"])["entries"] as? [[String: Any]])
        #expect((audit.first?["summary"] as? String)?.contains("as proposed by match run \(run)") == true)
        let runEntry = try #require(
            try QueryCommandTests.json(cli, ["audit", "--participant", "e2"])["entries"] as? [[String: Any]])
        #expect(runEntry.contains { $0["type"] as? String == "MatchRunRecorded" })
        // After the match, the pool shrinks: no mentor is left.
        let after = try QueryCommandTests.json(cli, ["suggest"])
        #expect((after["pairs"] as? [Any])?.isEmpty == true)
        // Analysts and auditors may not run it; only coordinators record.
        #expect(try cli.run(["--role", "analyst", "suggest"]).status == 1)
        #expect(try cli.run(["--role", "auditor", "suggest"]).status == 1)
    }

    @Test("the swap chain shows in a participant's audit")
    func swapChain() throws {
        let cli = try ScriptedProgramme.build()
        let m3 = try QueryCommandTests.json(cli, ["audit", "--participant", "m3"])
        #expect((m3["partners"] as? [String]) == ["e3 (t3)", "e6 (t6, after e3 left: mismatch)"])
        let e3 = try QueryCommandTests.json(cli, ["audit", "--participant", "e3"])
        #expect((e3["partners"] as? [String]) == ["m3 (t3)", "left t3: mismatch"])
        let e2 = try QueryCommandTests.json(cli, ["audit", "--participant", "e2"])
        #expect((e2["partners"] as? [String]) == ["m2 (t2)", "freed: m2 withdrew (role-change)"])
    }

    @Test("due: the next session of every active tandem, and the overdue ones")
    func due() throws {
        let cli = try ScriptedProgramme.build()
        let rows = try #require(try QueryCommandTests.json(cli, ["due"])["due"] as? [[String: Any]])
        // As of 2027-04-01, cadence 30: t6 last met 02-10 (due 03-12, 20 days over), t7 02-20
        // (due 03-22, 10 over), t4 03-01 (due 03-31, 1 over).
        #expect(rows.map { $0["tandem"] as! String } == ["t6", "t7", "t4"])
        #expect(rows.map { $0["dueOn"] as! String } == ["2027-03-12", "2027-03-22", "2027-03-31"])
        #expect(rows.map { $0["overdueDays"] as! Int } == [20, 10, 1])
        #expect(rows[0]["lastSession"] as? String == "2027-02-10" && rows[0]["mentorName"] as? String == "Name of m3")
        // Looking ahead from an earlier day: only what falls due within the window.
        // As of 2027-02-05: t5 last met 01-15, so it falls due on 02-14: inside a 10-day window,
        // outside a 7-day one; nothing else falls due before 02-19.
        let ten = try #require(
            try QueryCommandTests.json(cli, ["due", "--as-of", "2027-02-05", "--within", "10"])["due"]
                as? [[String: Any]])
        #expect(
            ten.map { $0["tandem"] as! String } == ["t5"] && ten[0]["dueOn"] as? String == "2027-02-14"
                && ten[0]["overdueDays"] as? Int == 0)
        #expect(
            (try QueryCommandTests.json(cli, ["due", "--as-of", "2027-02-05", "--within", "7"])["due"] as? [Any])?
                .isEmpty == true)
        let auditor = try #require(
            try QueryCommandTests.json(cli, ["--role", "auditor", "due"])["due"] as? [[String: Any]])
        #expect(auditor.allSatisfy { $0["mentorName"] == nil })
        let mine = try #require(
            try QueryCommandTests.json(cli, ["--role", "participant:m5", "due"])["due"] as? [[String: Any]])
        #expect(
            mine.map { $0["tandem"] as! String } == ["t7"] && mine[0]["menteeName"] as? String == "Name of e7"
                && mine[0]["mentorName"] is NSNull)
    }

    @Test("--ics writes a calendar that parses: CRLF, folded lines, escaped text, stable UIDs")
    func calendar() throws {
        let cli = try ScriptedProgramme.build()
        let outcome = try cli.run(["due", "--ics", "due.ics"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = Files.text(cli.directory.appending("due.ics"))
        let events = try ICSParser.events(text)
        #expect(events.count == 3)
        let t6 = try #require(events.first { $0["UID"] == "t6-20270312@tandem" })
        #expect(t6["DTSTART;VALUE=DATE"] == "20270401" && t6["DTEND;VALUE=DATE"] == "20270402")
        #expect(t6["SUMMARY"] == "Reverse-mentoring session (tandem t6): Name of m3 & Name of e6")
        #expect(t6["DESCRIPTION"]?.contains("due 2027-03-12\\, overdue by 20 days") == true)
        #expect(t6["DTSTAMP"] == "20270401T120000Z")
        #expect(!text.contains("goal text") && !text.contains("CANARY"))
        // The auditor's calendar names no one.
        try cli.run(["--role", "auditor", "due", "--ics", "auditor.ics"])
        let auditor = try ICSParser.events(Files.text(cli.directory.appending("auditor.ics")))
        #expect(auditor.allSatisfy { !($0["SUMMARY"] ?? "").contains("Name of") })
        // An empty calendar is still a calendar.
        try cli.run(["due", "--as-of", "2027-01-11", "--within", "0", "--ics", "empty.ics"])
        #expect(try ICSParser.events(Files.text(cli.directory.appending("empty.ics"))).isEmpty)
    }

    @Test("Python's icalendar reads our calendars", .enabled(if: ReferenceTools.pythonHas("icalendar")))
    func icalendar() throws {
        let cli = try ScriptedProgramme.build()
        try cli.run(["due", "--ics", "due.ics"])
        try cli.run(["due", "--as-of", "2027-01-11", "--within", "0", "--ics", "empty.ics"])
        let outcome = try ReferenceTools.runPython(
            """
            import sys, icalendar
            for path in sys.argv[1:]:
                cal = icalendar.Calendar.from_ical(open(path, 'rb').read())
                events = [c for c in cal.walk() if c.name == 'VEVENT']
                print(len(events), ';'.join(sorted(str(e['SUMMARY']) for e in events)), ';'.join(sorted(str(e['DTSTART'].dt) for e in events)))
            """, [cli.directory.appending("due.ics"), cli.directory.appending("empty.ics")])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("3 Reverse-mentoring session (tandem t4): Name of m4 & Name of e4;") == true)
        #expect(lines.first?.hasSuffix("2027-04-01;2027-04-01;2027-04-01") == true)
        #expect(lines.last == "0  ")
    }
}
