import EventLog
import Foundation
import Mentoring
import Projections
import TestSupport
import Testing

/// The differencing attacks of the disclosure issue, run as an attacker would: real `tandem`
/// processes against a seeded programme with many targets, scored by the attacker's
/// advantage (true-positive rate minus false-positive rate over targets who did and did not
/// withdraw).
///
/// The programme is built so that the threshold hides nothing: every unit has 18 people,
/// every compared group at least 17, and every withdrawn count between 6 and 10, so each
/// figure an attack compares is published (none below k, none equal to its group's size).
/// Whatever protection remains is the perturbation's.
@Suite("Disclosure attacks: differencing as real processes", .serialized)
struct DisclosureAttackTests {
    static let units = 60

    /// Unit `u<i>`: seventeen base people (gender `g<i>`, level 3) and one target (gender `x`,
    /// level 9). Between 6 and 9 of the base people withdraw in February or March; half the
    /// targets withdraw on their unit's probe day, 2027-05-01 plus i.
    struct AttackedProgramme {
        var cli: CLI
        var withdrew: [Bool]
    }

    static func build() throws -> AttackedProgramme {
        var cli = CLI()
        cli.now = "2027-01-02T09:00:00Z"
        try cli("init")
        // A fixed secret, so that the run is the same on every machine.
        let secret = try #require(FileHandle(forWritingAtPath: cli.store + "/secret"))
        try secret.truncate(atOffset: 0)
        try secret.write(contentsOf: Data((String(repeating: "5a", count: 32) + "\n").utf8))
        try secret.close()
        var generator = SeededGenerator(seed: 2027)
        var lines = [
            #"{"command":"programme launch","id":"big","name":"Big 2027","starts":"2027-01-01","ends":"2027-12-31"}"#
        ]
        var withdrawals: [String] = []
        var withdrew: [Bool] = []
        for unit in 0..<units {
            for person in 0..<18 {
                let id = "p\(unit)x\(person)"
                let target = person == 17
                lines.append(
                    #"{"command":"signup","programme":"big","role":"\#(person % 2 == 0 ? "mentor" : "mentee")","name":"Person \#(unit) \#(person)","email":"\#(id)@example.org","unit":"u\#(unit)","level":\#(target ? 9 : 3),"born":\#(person % 2 == 0 ? 1999 : 1970),"gender":"\#(target ? "x" : "g\(unit)")","id":"\#(id)","on":"2027-01-02"}"#
                )
            }
            let base = Int.random(in: 6...9, using: &generator)
            for person in 0..<base {
                let day = Int.random(in: 1...28, using: &generator)
                withdrawals.append(
                    #"{"command":"withdraw","participant":"p\#(unit)x\#(person)","reason":"time","on":"2027-0\#(2 + person % 2)-\#(day < 10 ? "0" : "")\#(day)"}"#
                )
            }
            let leaves = generator.next() % 2 == 0
            withdrew.append(leaves)
            if leaves {
                withdrawals.append(
                    #"{"command":"withdraw","participant":"p\#(unit)x17","reason":"time","on":"\#(probeDay(unit))"}"#)
            }
        }
        let signups = try cli("append -", stdin: lines.joined(separator: "\n") + "\n")
        guard signups.status == 0 else { throw SeedingFailed(message: signups.stderr) }
        cli.now = "2028-01-15T09:00:00Z"
        let outcome = try cli("append -", stdin: withdrawals.joined(separator: "\n") + "\n")
        guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
        return AttackedProgramme(cli: cli, withdrew: withdrew)
    }

    static func probeDay(_ unit: Int) -> String { BusinessDate("2027-05-01")!.adding(days: unit).description }
    static func dayBefore(_ unit: Int) -> String { BusinessDate("2027-05-01")!.adding(days: unit - 1).description }

    /// The withdrawn figure of a stats query: nil if not shown.
    static func withdrawn(_ cli: CLI, _ role: String, _ arguments: [String]) throws -> Int? {
        let outcome = try cli.run(["--role", role, "stats", "--format", "json"] + arguments)
        let document = try #require(CLI.json(outcome), "\(arguments): \(outcome.stderr)")
        return (document["stats"] as? [String: Any])?["withdrawn"] as? Int
    }

    /// The withdrawn figure of every unit row of a `--by unit` query.
    static func rows(_ cli: CLI, _ role: String, _ arguments: [String]) throws -> [String: Int?] {
        let outcome = try cli.run(["--role", role, "stats", "--by", "unit", "--format", "json"] + arguments)
        let groups = try #require(
            (CLI.json(outcome)?["stats"] as? [String: Any])?["groups"] as? [[String: Any]], "\(outcome.stderr)")
        return Dictionary(uniqueKeysWithValues: groups.map { ($0["group"] as! String, $0["withdrawn"] as? Int) })
    }

    /// True-positive rate minus false-positive rate.
    static func advantage(_ guesses: [Bool], _ truth: [Bool]) -> Double {
        let positives = truth.filter { $0 }.count, negatives = truth.count - positives
        let tp = zip(guesses, truth).filter { $0 && $1 }.count, fp = zip(guesses, truth).filter { $0 && !$1 }.count
        return Double(tp) / Double(positives) - Double(fp) / Double(negatives)
    }

    @Test("each single differencing attack: advantage 1.0 on exact figures, at most 0.5 on the analyst's")
    func attacks() throws {
        let population = try Self.build()
        let cli = population.cli
        #expect(population.withdrew.filter { $0 }.count >= 20 && population.withdrew.filter { !$0 }.count >= 20)
        var report: [String] = []
        for role in ["coordinator", "analyst"] {
            // 1. Segment against segment: unit u<i> against the gender only its base people have.
            var bySegment: [Bool] = []
            // 3. --as-of the day before the probe day against the probe day, for unit u<i>.
            var byDay: [Bool] = []
            for unit in 0..<Self.units {
                let whole = try #require(try Self.withdrawn(cli, role, ["--segment", "unit=u\(unit)"]))
                let base = try #require(try Self.withdrawn(cli, role, ["--segment", "gender=g\(unit)"]))
                bySegment.append(whole > base)
                let before = try #require(
                    try Self.withdrawn(cli, role, ["--segment", "unit=u\(unit)", "--as-of", Self.dayBefore(unit)]))
                let after = try #require(
                    try Self.withdrawn(cli, role, ["--segment", "unit=u\(unit)", "--as-of", Self.probeDay(unit)]))
                byDay.append(after != before)
            }
            // 2. A --by row against the same row within a segment that leaves the target out.
            let all = try Self.rows(cli, role, [])
            let bases = try Self.rows(cli, role, ["--segment", "level=3"])
            var byRow: [Bool] = []
            for unit in 0..<Self.units {
                let whole = try #require(all["u\(unit)"] ?? nil, "u\(unit)"),
                    base = try #require(bases["u\(unit)"] ?? nil, "u\(unit) within level 3")
                byRow.append(whole > base)
            }
            let advantages = [
                ("segment vs segment", Self.advantage(bySegment, population.withdrew)),
                ("segment vs --by row", Self.advantage(byRow, population.withdrew)),
                ("--as-of day vs day", Self.advantage(byDay, population.withdrew)),
            ]
            for (name, value) in advantages {
                report.append("\(role): \(name) advantage \(String(format: "%.2f", value))")
                if role == "coordinator" {
                    #expect(value == 1.0, "\(name) on exact figures")
                } else {
                    #expect(value <= 0.5, "\(name)")
                }
            }
        }
        print(report.joined(separator: "\n"))
    }

    /// Every count an analyst output shows about people or tandems (not sessions or minutes).
    static func counts(in value: Any, key: String? = nil, into out: inout [(String, Int)]) {
        let countKeys: Set<String> = [
            "participants", "mentors", "mentees", "matched", "waiting", "withdrawn", "activeTandems",
            "completedTandems",
            "dissolvedTandems", "swaps", "reachedAGoal", "withdrawals", "withdrawalsBeforeMatch", "atRisk", "events",
            "censored", "tandems", "matches", "newParticipants", "activeTandems",
        ]
        if let object = value as? [String: Any] {
            for (k, v) in object where k != "basis" && k != "suppression" {
                if k == "reasons", let reasons = v as? [String: Any] {
                    for (code, n) in reasons { if let n = n as? Int { out.append(("reason " + code, n)) } }
                } else if countKeys.contains(k), let n = v as? Int {
                    out.append((k, n))
                } else {
                    counts(in: v, key: k, into: &out)
                }
            }
        } else if let array = value as? [Any] {
            for item in array { counts(in: item, key: key, into: &out) }
        }
    }

    @Test(
        "no analyst output shows a count between 1 and k − 1, in any query or grouping; coordinators see exact counts")
    func noSmallCounts() throws {
        let cli = CLI()
        let demo = try cli.run(["demo", "--store", cli.store, "--participants", "60", "--seed", "11"])
        #expect(demo.status == 0, "\(demo.stderr)")
        var queries: [[String]] = [
            ["stats"], ["dropouts"], ["tandems", "--at-risk"], ["activity"], ["activity", "--by", "quarter"],
            ["dropouts", "--population", "mentees"], ["dropouts", "--population", "mentors", "--by", "generation"],
            ["stats", "--by", "programme"], ["dropouts", "--by", "programme"],
        ]
        for key in ["unit", "level", "generation", "gender", "role"] {
            queries += [["stats", "--by", key], ["dropouts", "--by", key]]
        }
        var checked = 0
        for query in queries {
            let outcome = try cli.run(["--role", "analyst"] + query + ["--format", "json"])
            #expect(outcome.status == 0, "\(query): \(outcome.stderr)")
            let document = try #require(CLI.json(outcome))
            let k = try #require(((document["basis"] as? [String: Any])?["disclosure"] as? [String: Any])?["k"] as? Int)
            var found: [(String, Int)] = []
            Self.counts(in: document, into: &found)
            for (name, n) in found {
                #expect(n == 0 || n >= k, "\(query): \(name) \(n)")
                #expect(n % 3 == 0, "\(query): \(name) \(n) is not a published value")
            }
            checked += found.count
            // Repeating a query gives the same bytes.
            #expect(try cli.run(["--role", "analyst"] + query + ["--format", "json"]).stdout == outcome.stdout)
        }
        #expect(checked > 100)
    }

    @Test(
        "consistency: the same people give the same figure in every query and format; a tiny programme is refused everywhere"
    )
    func consistency() throws {
        var cli = try ScriptedProgramme.build()
        func json(_ arguments: [String]) throws -> [String: Any] {
            let outcome = try cli.run(["--role", "analyst"] + arguments + ["--format", "json"])
            return try #require(CLI.json(outcome), "\(arguments): \(outcome.stderr)")
        }
        let stats = try #require(try json(["stats"])["stats"] as? [String: Any])
        let dropouts = try #require(try json(["dropouts"])["dropouts"] as? [String: Any])
        // matched and withdrawn are the same cells in stats and dropouts.
        #expect(stats["matched"] as? Int == dropouts["participants"] as? Int)
        #expect(stats["withdrawn"] as Any as? Int == dropouts["withdrawals"] as Any as? Int)
        // The CSV carries the same figures as the JSON.
        let csv = try cli.run(["--role", "analyst", "stats", "--format", "csv"]).stdout.split(
            whereSeparator: \.isNewline
        ).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(csv.first), values = try #require(csv.dropFirst().first)
        #expect(values[try #require(header.firstIndex(of: "participants"))] == String(stats["participants"] as! Int))
        // A day on which nothing happened publishes the same figures as the day before.
        let a = try json(["stats", "--as-of", "2027-03-17"])["stats"] as? [String: Any]
        let b = try json(["stats", "--as-of", "2027-03-18"])["stats"] as? [String: Any]
        #expect(NSDictionary(dictionary: try #require(a)) == NSDictionary(dictionary: try #require(b)))
        // A two-person programme: every analyst query about it is refused, naming its command.
        cli.now = "2027-04-01T12:00:00Z"
        let tiny = [
            #"{"command":"programme launch","id":"tiny","name":"Tiny","starts":"2027-01-01","ends":"2027-06-30"}"#,
            #"{"command":"signup","programme":"tiny","role":"mentor","name":"T One","email":"t1@example.org","unit":"IT","level":2,"born":1999,"id":"tm","on":"2027-01-05"}"#,
            #"{"command":"signup","programme":"tiny","role":"mentee","name":"T Two","email":"t2@example.org","unit":"HR","level":9,"born":1965,"id":"te","on":"2027-01-05"}"#,
            #"{"command":"match","programme":"tiny","mentor":"tm","mentee":"te","id":"tt","on":"2027-01-10"}"#,
        ]
        let added = try cli("append -", stdin: tiny.joined(separator: "\n") + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        for (query, command) in [
            (["tandems", "--at-risk"], "tandems"), (["stats"], "stats"), (["dropouts"], "dropouts"),
            (["report", "--html", "r.html"], "report"),
        ] {
            let outcome = try cli.run(["--role", "analyst"] + query + ["--programme", "tiny"])
            #expect(
                outcome.status == 1 && outcome.stderr.contains("may not run `tandem \(command)` with this filter"),
                "\(query): \(outcome.stderr)")
        }
    }
}
