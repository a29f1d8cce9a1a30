import Foundation
import TestSupport
import Testing

/// One tandem's sessions, and a member's own view, in a window of history
/// (`sessions --tandem T --as-of D`, `--role participant:ID --as-of D`), run as a real
/// process: the window's sessions only, notes for the members alone, recorded as a
/// confidential read, and an id the window does not know refused.
@Suite("Sessions in a window, for one tandem and for its members")
struct MemberWindowTests {
    /// Programme p with t1 (m1, e1) and t2 (m2, e2), and three sessions of t1 with notes:
    /// on 2027-01-20, 2027-02-10 and 2027-02-20.
    static func store() throws -> CLI {
        let cli = CLI()
        try CoordinatorFixesTests.programme(cli)
        for (on, minutes, notes) in [
            ("2027-01-20", "40", "first talk"), ("2027-02-10", "50", "second talk"), ("2027-02-20", "60", "later"),
        ] {
            let outcome = try cli.run(
                ["session", "--tandem", "t1", "--minutes", minutes, "--on", on, "--notes", notes, "--topics", "ai"])
            guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
        }
        return cli
    }

    @Test("the window's sessions of one tandem, with notes for its members only")
    func oneTandemInWindow() throws {
        let cli = try Self.store()
        let window = ["sessions", "--tandem", "t1", "--as-of", "2027-02-15", "--format", "csv"]
        let coordinator = try cli.run(window)
        #expect(coordinator.status == 0, "\(coordinator.stderr)")
        // CSV lines end in CRLF (RFC 4180).
        #expect(
            coordinator.stdout
                == [
                    "tandem,on,minutes,mode,topics,hasNotes", "t1,2027-01-20,40,in-person,ai,true",
                    "t1,2027-02-10,50,in-person,ai,true",
                ].map { $0 + "\r\n" }.joined())
        for member in ["e1", "m1"] {
            let own = try cli.run(window + ["--role", "participant:\(member)"])
            #expect(own.status == 0, "\(own.stderr)")
            #expect(
                own.stdout
                    == [
                        "tandem,on,minutes,mode,topics,hasNotes,notes", "t1,2027-01-20,40,in-person,ai,true,first talk",
                        "t1,2027-02-10,50,in-person,ai,true,second talk",
                    ].map { $0 + "\r\n" }.joined(), "\(member)")
        }
        // Every own tandem, the same window: the same two sessions, and the read is on the ledger.
        let all = try cli.run(["sessions", "--as-of", "2027-02-15", "--role", "participant:e1", "--format", "csv"])
        #expect(all.status == 0 && all.stdout.contains("second talk") && !all.stdout.contains("later"), "\(all.stdout)")
        let ledger = Files.text(cli.store + "/access.jsonl").split(separator: "\n").last.map(String.init) ?? ""
        #expect(ledger.contains(#""type":"ConfidentialRead""#) && ledger.contains(#""as-of":"2027-02-15""#))
        // The other tandem's member sees no notes of t1, and is told so.
        let other = try cli.run(window + ["--role", "participant:e2"])
        #expect(other.status == 1 && other.stderr.hasPrefix("Error: ") && other.stdout.isEmpty, "\(other.stderr)")
        #expect(!other.stderr.contains("talk"))
    }

    @Test("a tandem not yet matched on the as-of day is unknown, and nothing is printed")
    func tandemBeforeItsMatch() throws {
        let cli = try Self.store()
        let early = try cli.run(["sessions", "--tandem", "t1", "--as-of", "2027-01-04"])
        #expect(early.status == 1 && early.stdout.isEmpty, "\(early.stdout)")
        #expect(early.stderr.hasPrefix("Error: unknown tandem 't1'"), "\(early.stderr)")
        let known = try cli.run(["sessions", "--tandem", "t1", "--known-at", "seq:3", "--format", "csv"])
        #expect(known.status == 1 && known.stderr.contains("unknown tandem 't1'"), "\(known.stderr)")
    }
}
