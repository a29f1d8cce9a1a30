import EventLog
import Foundation
import Mentoring
import Projections
import TandemCLI
import TestSupport
import Testing

@Suite("Snapshots as real processes: warm answers equal cold ones, damage and old layouts are rebuilt", .serialized)
struct SnapshotCommandTests {
    /// A demo store stopped mid-programme, so that there are active tandems to record for.
    static func store() throws -> CLI {
        let cli = CLI()
        let demo = try cli.run([
            "demo", "--store", cli.store, "--participants", "80", "--seed", "5", "--until", "2027-01-20",
        ])
        #expect(demo.status == 0, "\(demo.stderr)")
        return cli
    }

    static let queries: [[String]] = [
        ["stats", "--format", "json"],
        ["--role", "analyst", "stats", "--by", "unit", "--format", "json"],
        ["--role", "analyst", "stats", "--format", "csv"],
        ["tandems", "--status", "all", "--format", "json"],
        ["dropouts", "--format", "json"],
        ["goals", "--format", "json"],
        ["--role", "auditor", "audit", "--format", "json"],
        ["suggest", "--format", "json"],
        ["tandems", "--at-risk"],
    ]

    static func answers(_ cli: CLI) throws -> [String] {
        try queries.map { arguments in
            let outcome = try cli.run(arguments)
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
            return outcome.stdout
        }
    }

    static func removeSnapshots(_ cli: CLI) {
        for name in Files.list(cli.store + "/cache") where name.hasSuffix(".snapshot") {
            try? FileManager.default.removeItem(atPath: cli.store + "/cache/" + name)
        }
    }

    static func activeTandem(_ cli: CLI) throws -> String {
        let tandems = try #require(CLI.json(try cli("tandems --format json"))?["tandems"] as? [[String: Any]])
        return try #require(tandems.first?["tandem"] as? String)
    }

    @Test("every query answers the same from snapshots (warm, and caught up after appends) as from a replay")
    func warmEqualsCold() throws {
        let cli = try Self.store()
        let snapshots = Set(Files.list(cli.store + "/cache").filter { $0.hasSuffix(".snapshot") })
        #expect(
            snapshots == ["decider.snapshot", "projections.snapshot", "sessions.snapshot", "profiles.snapshot"],
            "the demo leaves the snapshots, the session index and the profile index (its listings show names)")
        let warm = try Self.answers(cli)
        Self.removeSnapshots(cli)
        let cold = try Self.answers(cli)
        #expect(warm == cold)

        // Appends go through the decider snapshot; the next query catches up from the
        // projections snapshot; both equal a replay from zero.
        let tandem = try Self.activeTandem(cli)
        for minutes in [30, 45, 60] {
            let outcome = try cli.run([
                "session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", String(minutes),
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        let signup = try cli.run([
            "signup", "--programme", "demo-2026", "--role", "mentee", "--name", "Late Joiner", "--unit", "Legal",
            "--level", "9", "--born", "1970",
            "--on", "2027-01-21",
        ])
        #expect(signup.status == 0, "\(signup.stderr)")
        let caughtUp = try Self.answers(cli)
        Self.removeSnapshots(cli)
        #expect(caughtUp == (try Self.answers(cli)))
        #expect(caughtUp != warm, "the appends show")
    }

    @Test("sessions --tandem reads the session index: the same answer as a replay, after appends, voids and damage")
    func sessionsFromTheIndex() throws {
        let cli = try Self.store()
        let tandem = try Self.activeTandem(cli)
        let cache = cli.store + "/cache/"
        func sessions() throws -> (text: String, count: Int) {
            let outcome = try cli.run(["sessions", "--tandem", tandem, "--format", "json"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let rows = CLI.json(outcome)?["sessions"] as? [[String: Any]]
            return (outcome.stdout, rows?.count ?? -1)
        }
        func snapshotInode() -> UInt64? { FileSystem.identity(of: cache + "projections.snapshot")?.inode }

        let warm = try sessions()
        #expect(warm.count > 0, "the demo's tandem has sessions")
        // Read from the index: the projections snapshot was neither replaced nor rewritten.
        let inode = snapshotInode()
        #expect(try sessions().text == warm.text)
        #expect(snapshotInode() == inode, "a warm sessions query reads the index, it does not replay")
        Self.removeSnapshots(cli)
        #expect(try sessions().text == warm.text, "cold equals warm")
        #expect(FileSystem.kind(of: cache + "sessions.snapshot").exists, "the replay left the index")

        // Three new sessions and a void of an old one: the tail is folded, the void applies
        // to a line the index lists.
        let trail = try #require(CLI.json(try cli.run(["audit", "--tandem", tandem, "--format", "json"])))
        let entries = try #require(trail["entries"] as? [[String: Any]])
        let firstSession = try #require(entries.first { $0["type"] as? String == "SessionHeld" }?["seq"] as? Int)
        for minutes in [31, 46, 61] {
            let outcome = try cli.run([
                "session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", String(minutes),
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        // The tail is folded into the tandem's slice, which writes nothing; the next query of
        // the whole model extends the snapshot and the index with it.
        let extended = try sessions()
        #expect(extended.count == warm.count + 3)
        #expect(try cli.run(["tandems", "--format", "json"]).status == 0)
        let indexHead = try SessionIndex.header(SessionIndex.file(Store(root: cli.store))).head
        #expect(indexHead == (try Store(root: cli.store).events.readHead()), "the index covers the tail now")
        #expect(try sessions().text == extended.text)
        #expect(try cli.run(["void", "--seq", String(firstSession), "--reason", "entered twice"]).status == 0)
        let caughtUp = try sessions()
        #expect(caughtUp.count == warm.count + 3 - 1)
        #expect(try sessions().text == caughtUp.text, "the index was extended with the tail")
        Self.removeSnapshots(cli)
        #expect(try sessions().text == caughtUp.text, "cold equals caught up")

        // A damaged index, or one that lists a line that is not this tandem's session, is not
        // trusted.
        Files.write(cache + "sessions.snapshot", Array(repeating: 0x41, count: 512))
        #expect(try sessions().text == caughtUp.text)
        let store = try Store(root: cli.store)
        let header = try SessionIndex.header(SessionIndex.file(store))
        var lying = SessionIndex.Builder()
        for seq in [1, 2, 3] {
            lying.add(
                seq: seq, programme: try #require(ProgrammeID("pilot")),
                SessionHeld(
                    tandem: try #require(TandemID(tandem)), on: BusinessDate("2027-01-04")!, minutes: 60, mode: .online)
            )
        }
        try SessionIndex.write(
            SessionIndex.sections(lying), head: header.head, logEnd: header.logEnd, vaultSize: header.vaultSize,
            to: SessionIndex.file(store))
        #expect(try sessions().text == caughtUp.text)
    }

    @Test(
        "sessions of every tandem stream from the index: cold, warm, after appends and a void, damaged, in every format"
    )
    func everySessionFromTheIndex() throws {
        let cli = try Self.store()
        let tandem = try Self.activeTandem(cli)
        let cache = cli.store + "/cache/"
        func sessions(_ format: String = "json") throws -> String {
            let outcome = try cli.run(["sessions", "--format", format])
            #expect(outcome.status == 0 && outcome.stderr.isEmpty, "\(outcome.stderr)")
            return outcome.stdout
        }
        func rows() throws -> [[String: Any]] {
            try #require(CLI.json(try cli.run(["sessions", "--format", "json"]))?["sessions"] as? [[String: Any]])
        }
        func all() throws -> [String] { try ["json", "csv", "table"].map { try sessions($0) } }
        func snapshotInode() -> UInt64? { FileSystem.identity(of: cache + "projections.snapshot")?.inode }

        let warm = try all()
        let before = try rows()
        #expect(before.count > 20, "the demo has sessions")
        let inode = snapshotInode()
        #expect(try all() == warm)
        #expect(snapshotInode() == inode, "a warm listing reads the index, it does not replay")
        // The table has its header, one line per session, the note and the basis.
        #expect(warm[2].split(separator: "\n").count == before.count + 4)
        #expect(warm[2].contains("Session notes are confidential"))
        #expect(warm[1].hasPrefix("tandem,on,minutes,mode,topics,hasNotes\r\n"))
        Self.removeSnapshots(cli)
        #expect(try all() == warm, "cold equals warm")

        // A new session of the tandem is listed with the tandem's others, in id order; a void
        // removes one; both as a replay lists them.
        let added = try cli.run([
            "session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", "37", "--topics", "zz-new-topic",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        let extended = try rows()
        #expect(extended.count == before.count + 1)
        let position = try #require(extended.firstIndex { $0["topics"] as? [String] == ["zz-new-topic"] })
        #expect(extended[position]["tandem"] as? String == tandem && extended[position]["minutes"] as? Int == 37)
        #expect(extended[position]["hasNotes"] as? Bool == false)
        // The tandem's sessions are together, the new one (the latest line) last among them.
        let ofTandem = extended.indices.filter { extended[$0]["tandem"] as? String == tandem }
        #expect(ofTandem == Array(ofTandem[0]...position))
        let caughtUp = try all()
        Self.removeSnapshots(cli)
        #expect(try all() == caughtUp, "the index was extended as a replay writes it")
        let trail = try #require(CLI.json(try cli.run(["--role", "auditor", "audit", "--format", "json"])))
        let entries = try #require(trail["entries"] as? [[String: Any]])
        let firstSession = try #require(entries.first { $0["type"] as? String == "SessionHeld" }?["seq"] as? Int)
        #expect(try cli.run(["void", "--seq", String(firstSession), "--reason", "entered twice"]).status == 0)
        #expect(try rows().count == before.count)
        let voided = try all()
        Self.removeSnapshots(cli)
        #expect(try all() == voided)

        // An index that is garbage or damaged is not trusted, and an unknown programme is
        // refused as it always was.
        Files.write(cache + "sessions.snapshot", Array(repeating: 0x41, count: 512))
        #expect(try all() == voided)
        var bytes = try FileSystem.readFile(cache + "sessions.snapshot")
        bytes[bytes.count - 2] ^= 0x20
        Files.write(cache + "sessions.snapshot", bytes)
        #expect(try all() == voided)
        let unknown = try cli.run(["sessions", "--programme", "nope"])
        #expect(unknown.status != 0 && unknown.stdout.isEmpty)
        #expect(unknown.stderr.hasPrefix("Error: ") && unknown.stderr.contains("nope"), "\(unknown.stderr)")
    }

    @Test(
        "audit --tandem and --participant read the subject index: the trail of a pass over every line, after appends, a withdrawal and damage"
    )
    func auditFromTheIndex() throws {
        let cli = try Self.store()
        let tandems = try #require(CLI.json(try cli("tandems --format json"))?["tandems"] as? [[String: Any]])
        let tandem = try #require(tandems.first?["tandem"] as? String)
        let mentor = try #require(tandems.first?["mentor"] as? String)
        let index = cli.store + "/cache/subjects.snapshot"
        func trails() throws -> [String] {
            try [["--tandem", tandem], ["--participant", mentor]].map { subject in
                let outcome = try cli.run(["--role", "auditor", "audit"] + subject + ["--format", "json"])
                #expect(outcome.status == 0, "\(outcome.stderr)")
                return outcome.stdout
            }
        }
        func cold() throws -> [String] {
            try? FileManager.default.removeItem(atPath: index)
            return try trails()
        }

        let first = try trails()
        #expect(FileSystem.kind(of: index).exists, "the first audit wrote the index")
        #expect(try trails() == first)
        #expect(first[0].contains("SessionHeld") && first[1].contains("TandemMatched"))
        // A session in the tail after the index.
        #expect(try cli.run(["session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", "45"]).status == 0)
        let tail = try trails()
        #expect(tail != first, "the tail's session shows")
        #expect(try cold() == tail)
        // A withdrawal in the tail: who was where decides which tandem it ended.
        #expect(
            try cli.run(["withdraw", "--participant", mentor, "--on", "2027-01-22", "--reason", "time"]).status == 0)
        #expect(try cli.run(["tandems", "--format", "json"]).status == 0)
        let withdrawn = try trails()
        #expect(withdrawn[1].contains("ParticipantWithdrew"))
        #expect(try cold() == withdrawn)
        // A damaged index is not used.
        Files.write(index, Array(repeating: 0x41, count: 4096))
        #expect(try trails() == withdrawn)
    }

    @Test(
        "time travel answers from checkpoints as from the first line: cold, warm, after a late-recorded session and a void"
    )
    func timeTravelFromCheckpoints() throws {
        var cli = try Self.store()
        // Checkpoints every 64 lines: a demo store of some 800 lines gets a dozen.
        cli.environment["TANDEM_CHECKPOINT_SPACING"] = "64"
        let queries: [[String]] = [
            ["stats", "--as-of", "2026-11-30", "--format", "json"],
            ["tandems", "--status", "all", "--as-of", "2026-10-15", "--format", "json"],
            ["dropouts", "--as-of", "2027-01-05", "--format", "json"],
            ["--role", "auditor", "stats", "--known-at", "seq:300", "--format", "json"],
            ["--role", "auditor", "goals", "--known-at", "2026-12-01", "--as-of", "2026-11-20", "--format", "json"],
            ["--role", "analyst", "stats", "--by", "unit", "--as-of", "2026-12-20", "--format", "json"],
        ]
        func answers() throws -> [String] {
            try queries.map { arguments in
                let outcome = try cli.run(arguments)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                return outcome.stdout
            }
        }
        func fromTheFirstLine() throws -> [String] {
            Self.removeSnapshots(cli)
            let answered = try answers()
            return answered
        }
        let cache = cli.store + "/cache/"
        let cold = try fromTheFirstLine()
        let saved = Files.list(cache).filter { $0.hasPrefix("checkpoint-") }
        #expect(saved.count >= 3, "windows save checkpoints: \(saved)")
        #expect(FileSystem.kind(of: cache + "timeline.snapshot").exists)
        #expect(FileSystem.kind(of: cache + "traits.snapshot").exists)
        #expect(try answers() == cold, "from checkpoints equals from the first line")

        // A session recorded now about November, and a void of the tandem's first session:
        // both reach back into what the checkpoints hold.
        let tandems = try #require(
            CLI.json(try cli("tandems --status active --format json"))?["tandems"] as? [[String: Any]])
        let early = try #require(tandems.first { ($0["since"] as? String ?? "9") < "2026-10-01" })
        let tandem = try #require(early["tandem"] as? String)
        #expect(try cli.run(["session", "--tandem", tandem, "--on", "2026-11-25", "--minutes", "50"]).status == 0)
        let trail = try #require(CLI.json(try cli.run(["audit", "--tandem", tandem, "--format", "json"])))
        let entries = try #require(trail["entries"] as? [[String: Any]])
        let firstSession = try #require(entries.first { $0["type"] as? String == "SessionHeld" }?["seq"] as? Int)
        #expect(try cli.run(["void", "--seq", String(firstSession), "--reason", "entered twice"]).status == 0)
        let warm = try answers()
        #expect(warm[0] != cold[0], "the late session shows as of November 30")
        #expect(warm[3] == cold[3], "known at seq 300, nothing changed")
        #expect(try fromTheFirstLine() == warm, "after appends, from checkpoints equals from the first line")

        // Damaged checkpoints and timeline are not trusted.
        for name in Files.list(cache) where name.hasPrefix("checkpoint-") || name == "timeline.snapshot" {
            Files.write(cache + name, Array(repeating: 0x41, count: 600))
        }
        #expect(try answers() == warm)
    }

    @Test("a decider snapshot is used for appends and gives the same refusals as a replay")
    func appendsUseTheSnapshot() throws {
        let cli = try Self.store()
        let tandem = try Self.activeTandem(cli)
        // A refusal from the partial state reads like one from the whole state.
        let early = try cli.run(["session", "--tandem", tandem, "--on", "2020-01-01", "--minutes", "30"])
        Self.removeSnapshots(cli)
        let earlyCold = try cli.run(["session", "--tandem", tandem, "--on", "2020-01-01", "--minutes", "30"])
        #expect(
            early.status == 1 && early.stderr == earlyCold.stderr && early.stdout == earlyCold.stdout, "\(early.stderr)"
        )
        // After the refusal (and its replay), the snapshot exists again and is refreshed once
        // the tail grows: 70 appends leave a snapshot no more than 64 events behind.
        for n in 0..<70 {
            let outcome = try cli.run([
                "session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", String(20 + n),
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        let header = try DeciderSnapshot.file(Store(root: cli.store)).header()
        let head = try Store(root: cli.store).events.readHead()
        #expect(head.seq - header.head.seq < 64 && header.head.seq > 0)
    }

    @Test("a decider snapshot of another history is not used, whether its head is the log's or behind it")
    func foreignSnapshotsAreNotUsed() throws {
        // Two copies of one store part at the same seq: one completes a tandem, the other
        // records a session of another. The first one's snapshot says the tandem is over.
        let first = try Self.store()
        let second = CLI()
        try FileManager.default.copyItem(atPath: first.store, toPath: second.store)
        let tandems = try #require(CLI.json(try first("tandems --format json"))?["tandems"] as? [[String: Any]])
        let ids = tandems.compactMap { $0["tandem"] as? String }
        try #require(ids.count >= 2)
        Self.removeSnapshots(first)
        #expect(try first.run(["complete", "--tandem", ids[0], "--on", "2027-01-21"]).status == 0)
        let foreign = Files.read(first.store + "/cache/decider.snapshot")
        #expect(try DeciderSnapshot.file(Store(root: first.store)).header().head == first.head())
        #expect(
            try second.run(["session", "--tandem", ids[1], "--on", "2027-01-21", "--minutes", "30"]).status == 0)
        #expect(try first.head().seq == second.head().seq)
        // Same seq, another hash; then a log one line ahead of the snapshot, whose next line
        // does not link to it. Either way the tandem is still active here.
        for minutes in ["31", "32"] {
            Files.write(second.store + "/cache/decider.snapshot", foreign)
            let session = try second.run(["session", "--tandem", ids[0], "--on", "2027-01-21", "--minutes", minutes])
            #expect(session.status == 0, "\(session.stderr)")
            let header = try DeciderSnapshot.file(Store(root: second.store)).header()
            #expect(header.head == (try second.head()), "the snapshot was rebuilt from this log")
        }
    }

    @Test("garbage, a cut-short file and an older layout are rebuilt, never trusted")
    func damagedSnapshotsAreRebuilt() throws {
        let cli = try Self.store()
        let expected = try Self.answers(cli)
        let cache = cli.store + "/cache/"
        let store = try Store(root: cli.store)

        // Garbage in both snapshots.
        Files.write(cache + "decider.snapshot", Array("not a snapshot".utf8))
        Files.write(cache + "projections.snapshot", Array(repeating: 0x42, count: 4096))
        #expect(try Self.answers(cli) == expected)
        let tandem = try Self.activeTandem(cli)
        #expect(try cli.run(["session", "--tandem", tandem, "--on", "2027-01-21", "--minutes", "40"]).status == 0)
        #expect(try DeciderSnapshot.file(store).header().kind == "decider", "the append wrote a new snapshot")
        let afterAppend = try Self.answers(cli)
        #expect(
            try ProjectionSnapshot.header(ProjectionSnapshot.file(store)).head.seq
                == (try Store(root: cli.store).events.readHead().seq))

        // Cut short.
        let bytes = Files.read(cache + "projections.snapshot")
        Files.write(cache + "projections.snapshot", Array(bytes.prefix(bytes.count - 100)))
        #expect(try Self.answers(cli) == afterAppend)

        // Written by an older build: same bytes, another layout number.
        let file = ProjectionSnapshot.file(store)
        let header = try ProjectionSnapshot.header(file)
        let figures = try file.section("figures", of: header), model = try file.section("model", of: header)
        try file.write(
            kind: "projections", schema: ProjectionSnapshot.schema - 1, head: header.head, logEnd: header.logEnd,
            vaultSize: header.vaultSize, sections: [("figures", figures), ("model", model)])
        #expect(try Self.answers(cli) == afterAppend)
        #expect(try file.header().schema == ProjectionSnapshot.schema, "rebuilt in this build's layout")
    }

    @Test("warm queries and appends read the tail only; verify always reads everything")
    func tailOnly() throws {
        let cli = try Self.store()
        let path = cli.store + "/events.jsonl"
        let before = try #require(CLI.json(try cli("stats --format json"))?["stats"] as? [String: Any])
        // An edit in place, early in the log, that keeps every length: the minutes of the
        // first session. Only a reader of that line can notice it.
        var text = Files.text(path)
        let range = try #require(
            text.range(
                of: #""type":"SessionHeld","data":\{"tandem":"[^"]+","on":"[0-9-]+","minutes":[0-9]"#,
                options: .regularExpression))
        let digit = text[text.index(before: range.upperBound)]
        text.replaceSubrange(text.index(before: range.upperBound)..<range.upperBound, with: digit == "9" ? "8" : "9")
        Files.write(path, Array(text.utf8))

        // The warm query answers from its snapshot; the append reads the tail only.
        let warm = try #require(CLI.json(try cli("stats --format json"))?["stats"] as? [String: Any])
        #expect(warm["minutes"] as? Int == before["minutes"] as? Int)
        let append = try cli.run([
            "session", "--tandem", try Self.activeTandem(cli), "--on", "2027-01-21", "--minutes", "40",
        ])
        #expect(append.status == 0, "\(append.stderr)")

        // verify starts from zero, and finds the edit.
        let verify = try cli("verify")
        #expect(verify.status == 65 && verify.stderr.contains("hash"), "\(verify.stdout) \(verify.stderr)")
    }

    @Test("a cache found out of step with the log while an answer prints says so, and how to mend it")
    func cacheOutOfStepWording() {
        let (code, text) = ErrorReport.describe(SnapshotError.doesNotMatchLog(seq: 42), parser: TandemCLI.parser)
        #expect(code == ExitCode.failure)
        #expect(
            text
                == "Error: a file in the store's cache/ does not match the log (the log's line 42 is not the one the "
                + "snapshot covers); delete the store's cache/ directory (it is rebuilt from the log) and run the "
                + "command again.")
    }

    /// An analyst's figures are the same whether the record keys are made or read from
    /// `cache/`, and whatever happened to their files.
    @Test("analysts' record keys are kept in cache/ (0600); damaged, deleted or erased, the figures stay the same")
    func recordKeyFiles() throws {
        let cli = try Self.store()
        let cache = cli.store + "/cache/"
        let names = ["record-keys-participants", "record-keys-tandems"]
        for name in names { try? FileManager.default.removeItem(atPath: cache + name) }
        let analyst: [[String]] = [
            ["--role", "analyst", "stats", "--by", "unit", "--format", "json"],
            ["--role", "analyst", "stats", "--format", "csv"],
            ["--role", "analyst", "dropouts", "--by", "unit", "--format", "json"],
            ["--role", "analyst", "activity", "--format", "json"],
            ["--role", "analyst", "activity", "--as-of", "2027-01-10", "--format", "json"],
        ]
        func answers() throws -> [String] {
            try analyst.map { arguments in
                let outcome = try cli.run(arguments)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                return outcome.stdout
            }
        }
        func mode(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
        }
        let made = try answers()
        for name in names {
            #expect(Files.exists(cache + name), "\(name) written by the first analyst's query")
            #expect(mode(cache + name) == 0o600, "\(name) is as secret as the store's secret")
        }
        let written = names.map { Files.read(cache + $0) }
        #expect(try answers() == made, "read back")

        // A flipped bit in each file, then the files gone: the same figures, the files made again.
        for (name, bytes) in zip(names, written) {
            var damaged = bytes
            damaged[damaged.count / 2] ^= 0x01
            Files.write(cache + name, damaged)
        }
        #expect(try answers() == made, "damaged files are not used")
        #expect(names.map { Files.read(cache + $0) } == written, "and are written again")
        for name in names { try FileManager.default.removeItem(atPath: cache + name) }
        #expect(try answers() == made, "deleted files are made again")
        #expect(names.map { Files.read(cache + $0) } == written)

        // An erasure removes them with every cache; the next analyst's query writes them again.
        let people = try #require(CLI.json(try cli("people --format json"))?["people"] as? [[String: Any]])
        let someone = try #require(people.first?["participant"] as? String)
        let forget = try cli.run(["forget", "--participant", someone])
        #expect(forget.status == 0, "\(forget.stderr)")
        for name in names { #expect(!Files.exists(cache + name), "\(name) removed by forget") }
        _ = try answers()
        #expect(names.map { Files.read(cache + $0) } == written, "an erased person keeps their key")
    }
}
