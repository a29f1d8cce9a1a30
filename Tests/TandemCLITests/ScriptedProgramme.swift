import Foundation
import TestSupport

/// A scripted programme of 43 events, recorded in three parts on three days, with hand-
/// computable answers. Programme "pilot", 2027-01-01 to 2027-06-30, monthly, k = 3.
///
/// Mentors (unit, born, gender): m1 IT 1999 f, m2 IT 2001 m, m3 Sales 1997 f, m4 Marketing
/// 2000 m, m5 HR 1995 d. Mentees: e1 Legal 1962 m, e2 Finance 1960 f, e3 Legal 1968 m,
/// e4 Ops 1970 f, e5 Board 1958 m, e6 Finance 1975 f, e7 Legal 1966 f.
enum ScriptedProgramme {
    struct Part {
        var recordedAt: String
        var lines: [String]
    }

    static func signup(_ id: String, _ role: String, _ unit: String, _ born: Int, _ gender: String) -> String {
        "{\"command\":\"signup\",\"programme\":\"pilot\",\"role\":\"\(role)\",\"name\":\"Name of \(id)\",\"email\":\"\(id)@example.org\",\"unit\":\"\(unit)\",\"level\":\(role == "mentor" ? 2 : 8),\"born\":\(born),\"gender\":\"\(gender)\",\"id\":\"\(id)\",\"on\":\"2027-01-05\"}"
    }

    static func session(_ tandem: String, _ on: String, _ minutes: Int) -> String {
        "{\"command\":\"session\",\"tandem\":\"\(tandem)\",\"on\":\"\(on)\",\"minutes\":\(minutes)}"
    }

    /// Seqs 2–29, recorded 2027-02-01.
    static let partA = Part(
        recordedAt: "2027-02-01T10:00:00Z",
        lines: [
            "{\"command\":\"programme launch\",\"id\":\"pilot\",\"name\":\"Pilot 2027\",\"starts\":\"2027-01-01\",\"ends\":\"2027-06-30\",\"min-group-size\":3}",
            signup("m1", "mentor", "IT", 1999, "f"), signup("m2", "mentor", "IT", 2001, "m"),
            signup("m3", "mentor", "Sales", 1997, "f"),
            signup("m4", "mentor", "Marketing", 2000, "m"), signup("m5", "mentor", "HR", 1995, "d"),
            signup("e1", "mentee", "Legal", 1962, "m"), signup("e2", "mentee", "Finance", 1960, "f"),
            signup("e3", "mentee", "Legal", 1968, "m"),
            signup("e4", "mentee", "Ops", 1970, "f"), signup("e5", "mentee", "Board", 1958, "m"),
            signup("e6", "mentee", "Finance", 1975, "f"),
            signup("e7", "mentee", "Legal", 1966, "f"),
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m1\",\"mentee\":\"e1\",\"id\":\"t1\",\"on\":\"2027-01-10\"}",
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m2\",\"mentee\":\"e2\",\"id\":\"t2\",\"on\":\"2027-01-10\"}",
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m3\",\"mentee\":\"e3\",\"id\":\"t3\",\"on\":\"2027-01-10\"}",
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m4\",\"mentee\":\"e4\",\"id\":\"t4\",\"on\":\"2027-01-10\"}",
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m5\",\"mentee\":\"e5\",\"id\":\"t5\",\"on\":\"2027-01-10\"}",
            session("t5", "2027-01-15", 90), session("t1", "2027-01-20", 60), session("t3", "2027-01-22", 30),
            session("t2", "2027-01-25", 45), session("t4", "2027-01-30", 60),
            "{\"command\":\"goal set\",\"tandem\":\"t1\",\"goal\":\"g1\",\"text\":\"goal text t1 g1\",\"due\":\"2027-03-01\",\"category\":\"social-media\",\"on\":\"2027-01-20\"}",
            "{\"command\":\"goal set\",\"tandem\":\"t1\",\"goal\":\"g2\",\"text\":\"goal text t1 g2\",\"due\":\"2027-02-15\",\"on\":\"2027-01-20\"}",
            "{\"command\":\"goal set\",\"tandem\":\"t2\",\"goal\":\"g1\",\"text\":\"goal text t2 g1\",\"due\":\"2027-04-01\",\"on\":\"2027-01-25\"}",
            "{\"command\":\"goal set\",\"tandem\":\"t4\",\"goal\":\"g1\",\"text\":\"goal text t4 g1\",\"on\":\"2027-01-30\"}",
            "{\"command\":\"swap\",\"tandem\":\"t3\",\"leaving\":\"e3\",\"joining\":\"e6\",\"new-id\":\"t6\",\"reason\":\"mismatch\",\"on\":\"2027-02-01\"}",
        ])

    /// Seqs 30–38, recorded 2027-03-01: seq 36 duplicates 35 and seq 37 voids it.
    static let partB = Part(
        recordedAt: "2027-03-01T10:00:00Z",
        lines: [
            session("t1", "2027-02-19", 60),
            "{\"command\":\"goal reached\",\"tandem\":\"t1\",\"goal\":\"g1\",\"on\":\"2027-02-19\"}",
            "{\"command\":\"withdraw\",\"participant\":\"e5\",\"reason\":\"time\",\"on\":\"2027-02-10\"}",
            "{\"command\":\"match\",\"programme\":\"pilot\",\"mentor\":\"m5\",\"mentee\":\"e7\",\"id\":\"t7\",\"on\":\"2027-02-15\"}",
            session("t7", "2027-02-20", 60), session("t2", "2027-02-25", 45), session("t2", "2027-02-25", 45),
            "{\"command\":\"void\",\"seq\":36,\"reason\":\"entered twice\"}",
            session("t4", "2027-03-01", 60),
        ])

    /// Seqs 39–43, recorded 2027-04-01: seq 39 is t6's session of 2027-02-10, logged late.
    static let partC = Part(
        recordedAt: "2027-04-01T10:00:00Z",
        lines: [
            session("t6", "2027-02-10", 45), session("t1", "2027-03-21", 60),
            "{\"command\":\"goal reached\",\"tandem\":\"t2\",\"goal\":\"g1\",\"on\":\"2027-03-10\"}",
            "{\"command\":\"withdraw\",\"participant\":\"m2\",\"reason\":\"role-change\",\"on\":\"2027-03-15\"}",
            "{\"command\":\"complete\",\"tandem\":\"t1\",\"on\":\"2027-03-25\"}",
        ])

    /// A store with the whole programme, queried as of 2027-04-01.
    static func build() throws -> CLI {
        var cli = CLI()
        try cli("init")
        for part in [partA, partB, partC] {
            cli.now = part.recordedAt
            let outcome = try cli("append -", stdin: part.lines.joined(separator: "\n") + "\n")
            guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
        }
        cli.now = "2027-04-01T12:00:00Z"
        return cli
    }
}
