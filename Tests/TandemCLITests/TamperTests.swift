import EventLog
import Foundation
import TestSupport
import Testing

/// One attack on a store, as an attacker or a clumsy user would make it, and what Tandem
/// must answer: `verify`'s exit code and message, then a writer's, with the store's log
/// left byte for byte as the attack left it.
struct Attack: Sendable, CustomStringConvertible {
    var name: String
    /// Changes the store's files (the store's root is passed in).
    var apply: @Sendable (_ store: String) throws -> Void
    /// What `verify` must print on stderr (exit 65).
    var verifyMessage: String
    var description: String { name }
}

/// The store every attack starts from: a demo programme with active tandems, then three
/// sessions recorded one by one through the CLI (so that the last lines were acknowledged
/// by separate writers).
enum TamperFixture {
    static let base: (directory: TemporaryDirectory, store: String, tandem: String) = {
        let cli = CLI()
        let demo = try! cli.run([
            "demo", "--store", cli.store, "--participants", "24", "--seed", "5", "--until", "2026-09-01",
        ])
        precondition(demo.status == 0, demo.stderr)
        let tandems = CLI.json(try! cli("tandems --format json"))!["tandems"] as! [[String: Any]]
        let tandem = tandems[0]["tandem"] as! String
        for day in ["2026-09-02", "2026-09-03", "2026-09-04"] {
            let outcome = try! cli.run(["session", "--tandem", tandem, "--minutes", "45", "--on", day])
            precondition(outcome.status == 0, outcome.stderr)
        }
        // Keep the directory alive for the whole test run.
        return (cli.directory, cli.store, tandem)
    }()

    /// A fresh copy of the base store in a new CLI's directory.
    static func copy() throws -> CLI {
        let cli = CLI()
        try FileManager.default.copyItem(atPath: base.store, toPath: cli.store)
        return cli
    }

    static func lineStarts(_ bytes: [UInt8]) -> [Int] {
        [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.dropLast()
    }

    /// The log's lines, newline included.
    static func lines(_ path: String) -> [[UInt8]] {
        Files.read(path).split(separator: 0x0A, omittingEmptySubsequences: true).map { Array($0) + [0x0A] }
    }
}

@Suite("Tamper suite: every attack is caught, and nothing is written after it", .serialized)
struct TamperTests {
    static let attacks: [Attack] = [
        Attack(
            name: "two acknowledged lines cut at a line boundary",
            apply: { store in
                let lines = TamperFixture.lines(store + "/events.jsonl")
                Files.write(store + "/events.jsonl", lines.dropLast(2).flatMap { $0 })
            }, verifyMessage: "are missing"),
        Attack(
            name: "the log cut in the middle of a line below the head",
            apply: { store in
                let bytes = Files.read(store + "/events.jsonl")
                let starts = TamperFixture.lineStarts(bytes)
                Files.write(store + "/events.jsonl", Array(bytes[..<(starts[starts.count / 2] + 40)]))
            }, verifyMessage: "are missing"),
        Attack(
            name: "one byte flipped in the last acknowledged line",
            apply: { store in
                var bytes = Files.read(store + "/events.jsonl")
                bytes[bytes.count - 30] ^= 0x01
                Files.write(store + "/events.jsonl", bytes)
            }, verifyMessage: "the last line's hash does not verify"),
        Attack(
            name: "one byte flipped in the last line, with cache/ deleted",
            apply: { store in
                var bytes = Files.read(store + "/events.jsonl")
                bytes[bytes.count - 30] ^= 0x01
                Files.write(store + "/events.jsonl", bytes)
                try FileManager.default.removeItem(atPath: store + "/cache")
            }, verifyMessage: "the last line's hash does not verify"),
        Attack(
            name: "the chain recomputed from the middle on",
            apply: { store in
                let entries = try InMemoryLog(bytes: Files.read(store + "/events.jsonl")).entries()
                var forged: [UInt8] = []
                var prev = SHA256Digest.zero
                for entry in entries {
                    var record = entry.record
                    if entry.seq >= entries.count / 2 { record.actor = "mallory" }
                    prev = LineEncoder.encode(record, seq: entry.seq, prev: prev, into: &forged)
                }
                Files.write(store + "/events.jsonl", forged)
            }, verifyMessage: "rewritten"),
        Attack(
            name: "two lines in the middle swapped",
            apply: { store in
                var lines = TamperFixture.lines(store + "/events.jsonl")
                lines.swapAt(40, 41)
                Files.write(store + "/events.jsonl", lines.flatMap { $0 })
            }, verifyMessage: "seq is 42, expected 41"),
        Attack(
            name: "a byte flipped deep in the log",
            apply: { store in
                var bytes = Files.read(store + "/events.jsonl")
                let starts = TamperFixture.lineStarts(bytes)
                bytes[starts[30] + 50] ^= 0x01
                Files.write(store + "/events.jsonl", bytes)
            }, verifyMessage: "seq 31 at byte offset"),
        Attack(
            name: "a hash and the next line's prev replaced alike by text that is not hex",
            apply: { store in
                var lines = TamperFixture.lines(store + "/events.jsonl")
                TamperTests.replaceLink(after: 40, in: &lines, with: String(repeating: "z", count: 64))
                Files.write(store + "/events.jsonl", lines.flatMap { $0 })
            }, verifyMessage: "hash is not 64 lowercase hex digits"),
        Attack(
            name: "the access ledger cut by a line",
            apply: { store in
                let lines = TamperFixture.lines(store + "/access.jsonl")
                Files.write(store + "/access.jsonl", lines.dropLast().flatMap { $0 })
            }, verifyMessage: "access.jsonl is damaged"),
        Attack(
            name: "a vault line duplicated",
            apply: { store in
                let lines = TamperFixture.lines(store + "/vault.jsonl")
                Files.write(store + "/vault.jsonl", (lines + [lines[3]]).flatMap { $0 })
            }, verifyMessage: "has a second line at byte"),
        Attack(
            name: "a garbage line in the vault",
            apply: { store in
                let lines = TamperFixture.lines(store + "/vault.jsonl")
                Files.write(store + "/vault.jsonl", (lines + [Array("garbage\n".utf8)]).flatMap { $0 })
            }, verifyMessage: "is not a vault record"),
        Attack(
            name: "a vault line changed",
            apply: { store in
                var lines = TamperFixture.lines(store + "/vault.jsonl")
                lines[2][40] ^= 0x01  // a digit of the nonce
                Files.write(store + "/vault.jsonl", lines.flatMap { $0 })
            }, verifyMessage: "does not match the commitment"),
        Attack(
            name: "events.jsonl replaced by a symlink out of the store",
            apply: { store in
                try FileManager.default.moveItem(atPath: store + "/events.jsonl", toPath: store + "-events.jsonl")
                try FileManager.default.createSymbolicLink(
                    atPath: store + "/events.jsonl", withDestinationPath: store + "-events.jsonl")
            }, verifyMessage: "is a symbolic link"),
        Attack(
            name: "the acknowledged-head record garbled",
            apply: { store in
                Files.write(store + "/events.head", Array("garbage\n".utf8))
            }, verifyMessage: "the acknowledged-head record"),
    ]

    @Test("verify reports the attack (65), then readers and writers refuse and write nothing", arguments: attacks)
    func attack(_ attack: Attack) throws {
        let cli = try TamperFixture.copy()
        try attack.apply(cli.store)
        let damaged = Files.read(cli.store + "/events.jsonl")
        let damagedVault = Files.read(cli.store + "/vault.jsonl")

        let verify = try cli("verify")
        #expect(verify.status == 65, "\(attack): verify exited \(verify.status): \(verify.stdout)")
        #expect(
            verify.stderr.hasPrefix("Error: ") && verify.stderr.contains(attack.verifyMessage),
            "\(attack): \(verify.stderr.prefix(600))")
        #expect(!verify.stdout.contains("ok:"), "\(attack)")

        let writer = try cli.run([
            "session", "--tandem", TamperFixture.base.tandem, "--minutes", "30", "--on", "2026-09-05",
        ])
        #expect(writer.status == 65, "\(attack): the writer exited \(writer.status): \(writer.stdout)")
        #expect(writer.stderr.hasPrefix("Error: "), "\(attack)")
        let query = try cli("stats")
        #expect(query.status == 65, "\(attack): a query after damage exited \(query.status)")
        // A second verify still reports it: nothing lowered the acknowledged head.
        #expect(try cli("verify").status == 65, "\(attack)")

        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), damaged), "\(attack): the log changed")
        #expect(sameBytes(Files.read(cli.store + "/vault.jsonl"), damagedVault), "\(attack): the vault changed")
        #expect(
            !FileManager.default.fileExists(atPath: cli.store + "/quarantine"), "\(attack): something was quarantined")
    }

    /// Sets line `index`'s hash and the next line's prev (0-based) to `digits`, so that the
    /// two still link.
    static func replaceLink(after index: Int, in lines: inout [[UInt8]], with digits: String) {
        // Each line ends `"prev":"<64>","hash":"<64>"}` and a newline.
        let hashStart = lines[index].count - 2 - 1 - 64
        lines[index].replaceSubrange(hashStart..<(hashStart + 64), with: Array(digits.utf8))
        let prevStart = lines[index + 1].count - 2 - 1 - 64 - 10 - 64
        lines[index + 1].replaceSubrange(prevStart..<(prevStart + 64), with: Array(digits.utf8))
    }

    /// A replay keeps the last line of each batch it reads (2,048 lines) as its head, and
    /// read its hash digits as a digest: a link forged to match with other text crashed
    /// every query that replayed past it.
    @Test("queries that replay past a forged, still-linked hash refuse it as damage, without a crash")
    func forgedLinkAtABatchEnd() throws {
        let cli = CLI()
        let demo = try cli.run(["demo", "--store", cli.store, "--participants", "300", "--seed", "3"])
        #expect(demo.status == 0, "\(demo.stderr)")
        var lines = TamperFixture.lines(cli.store + "/events.jsonl")
        try #require(lines.count > 2100)
        Self.replaceLink(after: 2047, in: &lines, with: String(repeating: "z", count: 64))
        Files.write(cli.store + "/events.jsonl", lines.flatMap { $0 })
        try FileManager.default.removeItem(atPath: cli.store + "/cache")
        let damaged = Files.read(cli.store + "/events.jsonl")
        for query in ["stats", "sessions", "tandems"] {
            let outcome = try cli(query)
            #expect(outcome.status == 65, "\(query) exited \(outcome.status)")
            #expect(
                outcome.stderr.hasPrefix("Error: ") && outcome.stderr.contains("seq 2048")
                    && outcome.stderr.contains("hash is not 64 lowercase hex digits"), "\(query): \(outcome.stderr)")
        }
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), damaged))
    }

    @Test("a restored store verifies again, and writers go on")
    func restore() throws {
        let cli = try TamperFixture.copy()
        let original = Files.read(cli.store + "/events.jsonl")
        var flipped = original
        flipped[2000] ^= 0x01
        Files.write(cli.store + "/events.jsonl", flipped)
        #expect(try cli("verify").status == 65)
        #expect(
            try cli.run(["session", "--tandem", TamperFixture.base.tandem, "--minutes", "30", "--on", "2026-09-05"])
                .status == 65)
        Files.write(cli.store + "/events.jsonl", original)
        let verify = try cli("verify")
        #expect(verify.status == 0 && verify.stderr.contains("the damage recorded earlier"), "\(verify.stderr)")
        #expect(
            try cli.run(["session", "--tandem", TamperFixture.base.tandem, "--minutes", "30", "--on", "2026-09-05"])
                .status == 0)
    }

    @Test("recover --accept-loss keeps the intact prefix, quarantines the rest, and is on the record")
    func recovery() throws {
        let cli = try TamperFixture.copy()
        let lines = TamperFixture.lines(cli.store + "/events.jsonl")
        let head = lines.count
        Files.write(cli.store + "/events.jsonl", lines.dropLast(2).flatMap { $0 } + lines[head - 1].prefix(30))
        #expect(try cli("verify").status == 65)

        let refused = try cli.run(["recover", "--reason", "no backup"])
        #expect(refused.status == 64 && refused.stderr.contains("--accept-loss"))
        let recovered = try cli.run([
            "recover", "--accept-loss", "--reason", "no backup of September", "--format", "json",
        ])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let report = try #require(CLI.json(recovered))
        #expect(
            report["keptSeq"] as? Int == head - 2 && report["previousSeq"] as? Int == head
                && report["cutBytes"] as? Int == 30)
        #expect(report["seq"] as? Int == head - 1)
        let quarantined = try #require(report["quarantined"] as? String)
        #expect(Files.read(quarantined) == Array(lines[head - 1].prefix(30)))

        let verify = try cli("verify")
        #expect(verify.status == 0 && verify.stdout.contains("ok: \(head - 1) events"), "\(verify.stderr)")
        let audit = try #require(CLI.json(try cli("audit --format json"))?["entries"] as? [[String: Any]])
        let summary = try #require(audit.last?["summary"] as? String)
        #expect(
            summary.contains(
                "recovery accepted a loss: kept seq 1…\(head - 2), the acknowledged head had been seq \(head)"))
        // The reason is free text: in the vault, not in the log.
        #expect(!String(decoding: Files.read(cli.store + "/events.jsonl"), as: UTF8.self).contains("September"))
        #expect(
            String(decoding: Files.read(cli.store + "/vault.jsonl"), as: UTF8.self).contains("no backup of September"))
        let next = try cli.run([
            "session", "--tandem", TamperFixture.base.tandem, "--minutes", "30", "--on", "2026-09-05",
        ])
        #expect(next.status == 0 && next.stdout.contains("recorded seq \(head)"), "\(next.stderr)")
    }

    @Test(
        "output paths that resolve into the store are refused, and nothing is written",
        arguments: [
            ["report", "--html", "store/events.jsonl"], ["due", "--ics", "store/vault.jsonl"],
            ["report", "--html", "store/cache/x.html"],
            ["report", "--html", "link-to-log.html"], ["due", "--ics", "dangling.ics"],
            ["report", "--html", "store/../store/new.html"],
        ])
    func outputIntoStore(_ arguments: [String]) throws {
        let cli = try TamperFixture.copy()
        try FileManager.default.createSymbolicLink(
            atPath: cli.directory.appending("link-to-log.html"), withDestinationPath: cli.store + "/events.jsonl")
        try FileManager.default.createSymbolicLink(
            atPath: cli.directory.appending("dangling.ics"), withDestinationPath: "store/new.ics")
        // The log, the vault and their records; the access ledger gains the refused run's
        // line, and cache/ is disposable.
        func kept(_ path: String) -> Bool {
            !path.hasPrefix(cli.store + "/access") && !path.hasPrefix(cli.store + "/cache/")
        }
        let before = Files.allFiles(under: cli.store).filter(kept).map { ($0, Files.read($0)) }
        let outcome = try cli.run(arguments)
        #expect(outcome.status == 1, "\(arguments): \(outcome.status)")
        #expect(
            outcome.stderr.hasPrefix("Error: --\(arguments[1].dropFirst(2)) ")
                && outcome.stderr.contains("lies inside the store"), "\(outcome.stderr)")
        let after = Files.allFiles(under: cli.store).filter(kept)
        #expect(after.count == before.count, "\(arguments): a file appeared")
        for (path, bytes) in before {
            #expect(sameBytes(Files.read(path), bytes), "\(arguments): \(path) changed")
        }
        #expect(try cli("verify").status == 0)
    }

    @Test(
        "append is as strict as the command line",
        arguments: [
            (
                #"{"command":"session","tandem":"T","minutes":60,"on":"2026-09-05","note":"private text"}"#,
                #"line 1: unknown field "note"; did you mean "notes"?"#
            ),
            (
                #"{"command":"session","tandem":"T","minutes":60,"on":"2026-09-05","mod":"online"}"#,
                #"unknown field "mod"; did you mean "mode"?"#
            ),
            (#"{"command":"session","tandem":"T","minutes":60,"date":"2026-09-05"}"#, #"unknown field "date""#),
            (#"{"command":"session","tandem":"T","minutes":60,"notes":["a"]}"#, #"field "notes" has the wrong type"#),
            (
                #"{"command":"session","tandem":"T","minutes":60,"topics":[1,"ai",{}]}"#,
                #"field "topics" has the wrong type"#
            ),
            (#"{"command":"session","tandem":"T","minutes":{"n":60}}"#, #"field "minutes" has the wrong type"#),
            // The keys of the line before, at the same positions, with another shape.
            (
                #"{"command":"session","tandem":"T","minutes":60,"on":["2026-09-05"]}"#,
                #"field "on" has the wrong type"#
            ),
            (
                #"{"command":"session","tandem":"T","minutes":60,"mode":["online"]}"#,
                #"field "mode" has the wrong type"#
            ),
            (#"{"command":"session","tandem":"T","minutes":60,"actor":""}"#, "actor '' is invalid"),
            (
                #"{"command":"session","tandem":"T","minutes":60,"actor":"a\u001b[31mb"}"#,
                #"actor 'a\u001b[31mb' is invalid"#
            ),
            (
                #"{"command":"session","tandem":"T","minutes":60,"on-behalf-of":"x\ny"}"#,
                #"on-behalf-of 'x\u000ay' is invalid"#
            ),
        ])
    func strictAppend(_ line: String, _ message: String) throws {
        let cli = try TamperFixture.copy()
        let before = Files.read(cli.store + "/events.jsonl")
        let input =
            "{\"command\":\"session\",\"tandem\":\"T\",\"minutes\":30,\"on\":\"2026-09-05\"}\n"
            .replacingOccurrences(of: "\"T\"", with: "\"\(TamperFixture.base.tandem)\"")
            + line.replacingOccurrences(of: "\"T\"", with: "\"\(TamperFixture.base.tandem)\"") + "\n"
        let outcome = try cli.run(["append", "-"], stdin: input)
        #expect(outcome.status == 1, "\(line): \(outcome.status) \(outcome.stdout)")
        #expect(
            outcome.stderr.contains(message.replacingOccurrences(of: "line 1", with: "line 2")), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("\u{1b}"), "a control character reached the terminal")
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
    }

    @Test("append reads a FIFO, and refuses invalid UTF-8 on standard input")
    func appendSources() throws {
        let cli = try TamperFixture.copy()
        let line =
            "{\"command\":\"session\",\"tandem\":\"\(TamperFixture.base.tandem)\",\"minutes\":30,\"on\":\"2026-09-05\"}\n"
        var bad = Array(line.utf8)
        bad.insert(0xFF, at: 20)
        let fifo = cli.directory.appending("commands.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        writer.start()
        let outcome = try cli.run(["append", fifo])
        #expect(outcome.status == 0 && outcome.stdout.contains("1 command recorded in one batch"), "\(outcome.stderr)")

        let raw = cli.directory.appending("bad.jsonl")
        Files.write(raw, bad)
        let shell = try Executables.run(
            "/bin/sh", ["-c", "\(Executables.path("tandem")) append - < \(raw)"],
            environment: ["TANDEM_STORE": cli.store, "TANDEM_NOW": cli.now, "TANDEM_ACTOR": "anna"])
        #expect(shell.status == 1 && shell.stderr.contains("standard input, line 1: not UTF-8 text"), "\(shell.stderr)")
    }

    @Test("control characters from the store are escaped in table output")
    func controlCharacters() throws {
        let cli = try TamperFixture.copy()
        // An older or foreign writer could have stored one; today's rules refuse it on input.
        let store = try Store(root: cli.store)
        let entries = try store.events.entries()
        let session = try #require(entries.last { $0.type == "SessionHeld" })
        var record = session.record
        record.actor = "mallory\u{1b}[2J\u{1b}[31m"
        record.data["on"] = .string("2026-09-05")
        try store.events.append([record])
        let audit = try cli("audit")
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(!audit.stdout.contains("\u{1b}"))
        #expect(audit.stdout.contains("mallory\\u001b[2J\\u001b[31m"))
    }
}

@Suite("Small things users hit: environment, ranges, dates, batch keys")
struct InputEdgeTests {
    @Test("bad environment, out-of-range numbers and impossible years are clear errors, and nothing is written")
    func refusals() throws {
        let cli = try TamperFixture.copy()
        let before = Files.read(cli.store + "/events.jsonl")
        let tandem = TamperFixture.base.tandem
        let cases: [([String], [String: String], Int32, String)] = [
            (
                ["session", "--tandem", tandem, "--minutes", "30"], ["TANDEM_LOCK_TIMEOUT": "abc"], 1,
                "Error: TANDEM_LOCK_TIMEOUT='abc' is not a number of seconds from 0 to 3600"
            ),
            (["stats"], ["TANDEM_STORE": ""], 1, "Error: $TANDEM_STORE is set but empty"),
            (["stats", "--store", ""], [:], 1, "Error: --store is empty"),
            (["due", "--within", "9223372036854775807"], [:], 64, "expected a number of days from 0 to 3660"),
            (["due", "--within", "-1"], [:], 64, "expected a number of days from 0 to 3660"),
            (
                ["session", "--tandem", tandem, "--minutes", "30", "--on", "0999-12-31"], [:], 64,
                "the year 0999 is before 1000"
            ),
            (
                ["session", "--tandem", tandem, "--minutes", "30", "--on", "0000-01-01"], [:], 64,
                "the year 0000 is before 1000"
            ),
            (["stats", "--as-of", "2027-02-30"], [:], 64, "2027-02 has 28 days, not 30"),
            (["session", "--tandem", tandem, "--minutes", "99999999999999999999"], [:], 64, "expected a whole number"),
        ]
        for (arguments, environment, status, message) in cases {
            let outcome = try cli.run(arguments, extra: environment)
            #expect(outcome.status == status, "\(arguments) \(environment): \(outcome.status) \(outcome.stderr)")
            #expect(
                outcome.stderr.hasPrefix("Error: ") && outcome.stderr.contains(message),
                "\(arguments): \(outcome.stderr)")
            #expect(!outcome.stderr.contains("Fatal error") && !outcome.stderr.contains("Stack"))
        }
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))
        let help = try cli("help verify")
        #expect(help.status == 0 && help.stdout.contains("USAGE: tandem verify"))
    }

    @Test("a key used twice with different content inside one refused batch cites no seq that was never written")
    func keyConflictInBatch() throws {
        let cli = try TamperFixture.copy()
        let tandem = TamperFixture.base.tandem
        let input = """
            {"command":"session","tandem":"\(tandem)","minutes":30,"on":"2026-09-05","key":"k-1"}
            {"command":"session","tandem":"\(tandem)","minutes":45,"on":"2026-09-05","key":"k-1"}

            """
        let outcome = try cli.run(["append", "-"], stdin: input)
        #expect(outcome.status == 1)
        #expect(
            outcome.stderr.contains(
                "line 2: the idempotency key 'k-1' is used by command 1 of this batch for a different command"),
            "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("(seq "))
    }
}
