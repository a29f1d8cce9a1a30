import EventLog
import Foundation
import TestSupport
import Testing

@Suite("tandem init, verify, help: as a real process")
struct StoreCommandTests {
    @Test("--version and --help follow argument-parser's conventions")
    func helpAndVersion() throws {
        let cli = CLI()
        let version = try cli("--version")
        #expect(version.status == 0 && version.stdout.hasPrefix("tandem ") && version.stderr.isEmpty)
        let help = try cli("--help")
        #expect(help.status == 0)
        for section in ["OVERVIEW:", "USAGE: tandem <subcommand>", "OPTIONS:", "SUBCOMMANDS:", "  verify "] {
            #expect(help.stdout.contains(section), "\(section)")
        }
        let verifyHelp = try cli("help verify")
        #expect(verifyHelp.status == 0 && verifyHelp.stdout.contains("--anchor <seq:hash>"))
        #expect(try cli("verify --help").stdout == verifyHelp.stdout)
    }

    @Test("usage errors: exit 64, the message, a suggestion and the usage line on stderr")
    func usageErrors() throws {
        let cli = CLI()
        let cases: [(String, String)] = [
            ("verify --anchr 1:00", "Error: Unknown option '--anchr'. Did you mean '--anchor'?"),
            ("vrify", "Error: Unknown command 'vrify'. Did you mean 'verify'?"),
            (
                "verify --format png",
                "Error: The value 'png' is invalid for '--format <format>'. Please provide one of 'table' or 'json'."
            ),
            ("verify --format", "Error: Missing value for '--format <format>'"),
            ("verify --anchor 12", "Error: The value '12' is invalid for '--anchor <seq:hash>'"),
            ("verify --role boss", "Error: The value 'boss' is invalid for '--role <role>'"),
            ("init extra", "Error: Unexpected argument 'extra'"),
        ]
        for (line, message) in cases {
            let outcome = try cli(line)
            #expect(outcome.status == 64, "\(line): \(outcome.status)")
            #expect(outcome.stderr.hasPrefix(message), "\(line): \(outcome.stderr)")
            #expect(outcome.stderr.contains("\nUsage: tandem"), "\(line)")
            #expect(outcome.stdout.isEmpty)
        }
    }

    @Test("init creates a 0700 store, is idempotent, and refuses what is not a store")
    func initialize() throws {
        let cli = CLI()
        let first = try cli("init")
        #expect(first.status == 0 && first.stdout.hasPrefix("created store \(cli.store) (log "))
        #expect(FileSystem.mode(of: cli.store) == 0o700 && FileSystem.mode(of: cli.store + "/events.jsonl") == 0o600)
        let before = Files.read(cli.store + "/events.jsonl")
        let second = try cli("init --format json")
        #expect(second.status == 0)
        #expect(CLI.json(second)?["created"] as? Bool == false)
        #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), before))

        Files.write(cli.directory.appending("a-file"), Array("x".utf8))
        let file = try cli.run(["init", "--store", cli.directory.appending("a-file")])
        #expect(
            file.status == 1 && file.stderr.hasPrefix("Error: ")
                && file.stderr.contains("is a file, not a store directory"))
        try FileManager.default.createDirectory(
            atPath: cli.directory.appending("docs"), withIntermediateDirectories: true)
        Files.write(cli.directory.appending("docs/readme.txt"), Array("x".utf8))
        let foreign = try cli.run(["init", "--store", cli.directory.appending("docs")])
        #expect(
            foreign.status == 1 && foreign.stderr.contains("is not a store") && foreign.stderr.contains("readme.txt"))
        #expect(Files.list(cli.directory.appending("docs")) == ["readme.txt"])
    }

    @Test("verify prints the head; damage exits 65 naming the seq and byte offset")
    func verify() throws {
        let cli = CLI()
        try cli("init")
        let store = try Store(root: cli.store)
        for n in 0..<8 {
            try store.events.append([
                LogRecord(
                    type: "Noted", actor: "a", at: Timestamp(secondsSinceEpoch: Int64(n)), data: ["n": .int(Int64(n))])
            ])
        }
        let head = try store.events.readHead()
        let ok = try cli("verify")
        #expect(ok.status == 0)
        #expect(ok.stdout.split(separator: "\n").first == "ok: 9 events, head seq 9 hash \(head.hash.hex)")
        let json = try #require(CLI.json(try cli("verify --format json")))
        #expect(
            json["ok"] as? Bool == true && json["events"] as? Int == 9 && json["seq"] as? Int == 9
                && json["head"] as? String == head.hash.hex)
        #expect(
            try cli("verify --anchor 9:\(head.hash.hex) --anchor 1:\(try store.events.entries()[0].hash.hex)").status
                == 0)

        let wrong = try cli("verify --anchor 9:\(SHA256.hash("x").hex)")
        #expect(wrong.status == 65 && wrong.stderr.contains("anchor 9:") && wrong.stderr.contains("rewritten"))
        let beyond = try cli("verify --anchor 40:\(head.hash.hex)")
        #expect(beyond.status == 65 && beyond.stderr.contains("truncated"))

        var bytes = Files.read(store.events.path)
        let starts = [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }
        bytes[starts[4] + 30] ^= 0x02
        Files.write(store.events.path, bytes)
        let damaged = try cli("verify")
        #expect(damaged.status == 65)
        #expect(damaged.stderr.hasPrefix("Error: ") && damaged.stderr.contains("seq 5 at byte offset \(starts[4])"))
        #expect(damaged.stdout.isEmpty)
    }

    @Test("verify on a missing store or one readable by others fails with advice")
    func verifyRefusals() throws {
        let cli = CLI()
        let missing = try cli("verify")
        #expect(missing.status == 1 && missing.stderr.contains("no store at") && missing.stderr.contains("tandem init"))
        try cli("init")
        chmod(cli.store + "/events.jsonl", 0o644)
        let open = try cli("verify")
        #expect(open.status == 1 && open.stderr.contains("readable by others") && open.stderr.contains("chmod 600"))
    }

    @Test("verify reports a torn tail as a warning, and the chain as ok")
    func tornTail() throws {
        let cli = CLI()
        try cli("init")
        let path = cli.store + "/events.jsonl"
        Files.write(path, Files.read(path) + Array(#"{"seq":2,"at":"2027-"#.utf8))
        let outcome = try cli("verify")
        #expect(outcome.status == 0 && outcome.stdout.hasPrefix("ok: 1 events"))
        #expect(
            outcome.stderr.contains("warning:") && outcome.stderr.contains("torn tail")
                && outcome.stderr.contains("after seq 1"))
    }
}
