import EventLog
import Foundation
import TestSupport
import Testing

/// A programme in the state the malformed commands are tried against (today: 2027-03-01):
/// mentors m1 (IT), m2 (Sales), m3 (Legal); mentees e1 (Legal), e2 (Finance), e3 (Legal);
/// withdrawn mentee w1; t1 = m1 × e1 active with goals g1 and g2 (g2 reached); t0 = m2 × e2
/// completed; seq 13 is a voided session.
func seededProgramme() throws -> CLI {
    let cli = CLI()
    try cli("init")
    let script = """
        {"command":"programme launch","id":"pilot","name":"Pilot 2027","starts":"2027-01-01","ends":"2027-12-31"}
        {"command":"signup","programme":"pilot","role":"mentor","name":"Mara Mentor","unit":"IT","level":2,"born":1999,"id":"m1","on":"2027-01-02"}
        {"command":"signup","programme":"pilot","role":"mentor","name":"Max Mentor","unit":"Sales","level":1,"born":2001,"id":"m2","on":"2027-01-02"}
        {"command":"signup","programme":"pilot","role":"mentor","name":"Mo Mentor","unit":"Legal","level":2,"born":1997,"id":"m3","on":"2027-01-02"}
        {"command":"signup","programme":"pilot","role":"mentee","name":"Erna Mentee","unit":"Legal","level":8,"born":1963,"id":"e1","on":"2027-01-03"}
        {"command":"signup","programme":"pilot","role":"mentee","name":"Emil Mentee","unit":"Finance","level":9,"born":1960,"id":"e2","on":"2027-01-03"}
        {"command":"signup","programme":"pilot","role":"mentee","name":"Eva Mentee","unit":"Legal","level":7,"born":1970,"id":"e3","on":"2027-01-03"}
        {"command":"signup","programme":"pilot","role":"mentee","name":"Willi Weg","unit":"Ops","level":7,"born":1968,"id":"w1","on":"2027-01-03"}
        {"command":"match","programme":"pilot","mentor":"m1","mentee":"e1","id":"t1","on":"2027-01-10"}
        {"command":"match","programme":"pilot","mentor":"m2","mentee":"e2","id":"t0","on":"2027-01-10"}
        {"command":"session","tandem":"t1","on":"2027-02-01","minutes":60,"key":"s-1"}
        {"command":"session","tandem":"t1","on":"2027-02-02","minutes":60}
        {"command":"void","seq":13,"reason":"entered twice"}
        {"command":"complete","tandem":"t0","on":"2027-02-15"}
        {"command":"goal set","tandem":"t1","goal":"g1","text":"Post on LinkedIn","on":"2027-02-01"}
        {"command":"goal set","tandem":"t1","goal":"g2","text":"Try an AI assistant","on":"2027-02-01"}
        {"command":"goal reached","tandem":"t1","goal":"g2","on":"2027-02-20"}
        {"command":"withdraw","participant":"w1","on":"2027-02-01","reason":"time"}
        """
    let outcome = try cli(["append", "-"].joined(separator: " "), stdin: script)
    guard outcome.status == 0 else { throw SeedingFailed(message: outcome.stderr) }
    return cli
}

struct SeedingFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { "seeding the programme failed: \(message)" }
}

@Suite("Recording commands as real processes")
struct RecordingCommandTests {
    /// (arguments, exit code, what stderr must say).
    static let malformed: [([String], Int32, String)] = [
        // Unknown ids and references
        (["match", "--programme", "pilot", "--mentor", "zz", "--mentee", "e2"], 1, "unknown participant 'zz'"),
        (["match", "--programme", "nope", "--mentor", "m2", "--mentee", "e3"], 1, "unknown programme 'nope'"),
        (["session", "--tandem", "t9", "--minutes", "60"], 1, "unknown tandem 't9'"),
        (["goal", "reached", "--tandem", "t1", "--goal", "g9"], 1, "tandem 't1' has no goal 'g9'"),
        (
            ["match", "--programme", "pilot", "--mentor", "m3", "--mentee", "e2", "--run", "run-x"], 1,
            "unknown match run 'run-x'"
        ),
        (["forget", "--participant", "nobody"], 1, "unknown participant 'nobody'"),
        (
            [
                "signup", "--programme", "nope", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "2000",
            ], 1, "unknown programme 'nope'"
        ),
        // Duplicate ids
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "2000", "--id", "m1",
            ], 1, "a participant 'm1' already exists"
        ),
        (
            [
                "programme", "launch", "--id", "pilot", "--name", "Again", "--starts", "2027-01-01", "--ends",
                "2027-06-30",
            ], 1, "a programme 'pilot' already exists"
        ),
        (["goal", "set", "--tandem", "t1", "--goal", "g1", "--text", "x"], 1, "already has a goal 'g1'"),
        (
            ["match", "--programme", "pilot", "--mentor", "m3", "--mentee", "e2", "--id", "t1"], 1,
            "a tandem 't1' already exists"
        ),
        // Roles, tandems, units, former partners
        (
            ["match", "--programme", "pilot", "--mentor", "e2", "--mentee", "e3"], 1,
            "'e2' signed up as a mentee, so cannot be the mentor"
        ),
        (
            ["match", "--programme", "pilot", "--mentor", "m1", "--mentee", "e2"], 1,
            "'m1' is already in active tandem 't1'"
        ),
        (["match", "--programme", "pilot", "--mentor", "m3", "--mentee", "e3"], 1, "are both in unit 'Legal'"),
        (["match", "--programme", "pilot", "--mentor", "m2", "--mentee", "e2"], 1, "were partners before"),
        (["match", "--programme", "pilot", "--mentor", "m3", "--mentee", "w1"], 1, "'w1' withdrew on 2027-02-01"),
        (
            ["match", "--programme", "pilot", "--mentor", "m3", "--mentee", "e3", "--override", " "], 1,
            "--override '' is invalid"
        ),
        (
            ["swap", "--tandem", "t1", "--leaving", "m2", "--joining", "m3", "--reason", "mismatch"], 1,
            "'m2' is not a member of tandem 't1'"
        ),
        (
            ["swap", "--tandem", "t1", "--leaving", "e1", "--joining", "m3", "--reason", "mismatch"], 1,
            "'m3' signed up as a mentor, so cannot be the mentee"
        ),
        (
            ["swap", "--tandem", "t0", "--leaving", "e2", "--joining", "e3", "--reason", "time"], 1,
            "tandem 't0' is completed, not active"
        ),
        // Sessions and dates
        (
            ["session", "--tandem", "t0", "--minutes", "60", "--on", "2027-02-10"], 1,
            "tandem 't0' is completed, not active"
        ),
        (
            ["session", "--tandem", "t1", "--minutes", "60", "--on", "2027-01-09"], 1,
            "is before tandem 't1' began on 2027-01-10"
        ),
        (["session", "--tandem", "t1", "--minutes", "60", "--on", "2026-12-31"], 1, "is outside programme 'pilot'"),
        (["session", "--tandem", "t1", "--minutes", "60", "--on", "2027-02-30"], 64, "2027-02 has 28 days, not 30"),
        (["session", "--tandem", "t1", "--minutes", "60", "--on", "2027-13-01"], 64, "there is no month 13"),
        (["session", "--tandem", "t1", "--minutes", "60", "--on", "01.02.2027"], 64, "expected a date as YYYY-MM-DD"),
        (["session", "--tandem", "t1", "--minutes", "60", "--on", "2027-03-02"], 1, "2027-03-02 is in the future"),
        (["session", "--tandem", "t1", "--minutes", "0"], 1, "a session lasts from 1 to 600 minutes"),
        (["session", "--tandem", "t1", "--minutes", "601"], 1, "a session lasts from 1 to 600 minutes"),
        (["session", "--tandem", "t1", "--minutes", "-5"], 1, "a session lasts from 1 to 600 minutes"),
        (["session", "--tandem", "t1", "--minutes", "sixty"], 64, "expected a whole number"),
        (
            ["session", "--tandem", "t1", "--minutes", "60", "--mode", "phone"], 64,
            "The value 'phone' is invalid for '--mode <mode>'"
        ),
        (["session", "--tandem", "t1", "--minutes", "60", "--notes", "  "], 1, "--notes"),
        (["session", "--tandem", "t1"], 64, "Missing expected argument '--minutes <n>'"),
        // Goals
        (
            [
                "goal", "set", "--tandem", "t1", "--goal", "g3", "--text", "x", "--due", "2027-01-15", "--on",
                "2027-02-01",
            ], 1, "the due date 2027-01-15 is before"
        ),
        (
            ["goal", "set", "--tandem", "t1", "--goal", "g3", "--text", "", "--on", "2027-02-01"], 1,
            "--text '' is invalid: it must not be empty"
        ),
        (["goal", "reached", "--tandem", "t1", "--goal", "g2"], 1, "was already reached on 2027-02-20"),
        (
            ["goal", "reached", "--tandem", "t1", "--goal", "g1", "--on", "2027-01-31"], 1,
            "is before goal 'g1' of tandem 't1' was set"
        ),
        // Withdrawals and completions
        (["withdraw", "--participant", "w1", "--reason", "time"], 1, "'w1' withdrew on 2027-02-01"),
        (
            ["withdraw", "--participant", "e3", "--reason", "time", "--on", "2027-01-01"], 1,
            "is before participant 'e3' signed up"
        ),
        (
            ["withdraw", "--participant", "e3", "--reason", "bored"], 64,
            "The value 'bored' is invalid for '--reason <code>'"
        ),
        (
            ["complete", "--tandem", "t1", "--on", "2027-01-20"], 1,
            "before tandem 't1's last recorded session on 2027-02-01"
        ),
        // Signup fields
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "", "--unit", "IT", "--level", "1",
                "--born", "2000",
            ], 1, "--name '' is invalid: it must not be empty"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "0",
                "--born", "2000",
            ], 1, "--level '0' is invalid"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "1850",
            ], 1, "--born '1850' is invalid"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "19x9",
            ], 64, "expected a four-digit year"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "2000", "--email", "a@b",
            ], 1, "--email 'a@b' is invalid"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "", "--level", "1",
                "--born", "2000",
            ], 1, "--unit '' is invalid"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "boss", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "2000",
            ], 64, "The value 'boss' is invalid for '--role <role>'"
        ),
        (
            ["signup", "--programme", "pilot", "--role", "mentor", "--nmae", "A"], 64,
            "Unknown option '--nmae'. Did you mean '--name'?"
        ),
        (
            [
                "signup", "--programme", "pilot", "--role", "mentor", "--name", "A", "--unit", "IT", "--level", "1",
                "--born", "2000", "--id", "a b",
            ], 64, "ids are letters, digits"
        ),
        // Programme settings
        (
            ["programme", "launch", "--id", "p2", "--name", "P", "--starts", "2027-06-01", "--ends", "2027-01-01"], 1,
            "a programme must end after it starts"
        ),
        (
            [
                "programme", "launch", "--id", "p2", "--name", "P", "--starts", "2027-01-01", "--ends", "2027-06-01",
                "--min-group-size", "2",
            ], 1, "--min-group-size '2' is invalid"
        ),
        (
            [
                "programme", "launch", "--id", "p2", "--name", "P", "--starts", "2027-01-01", "--ends", "2027-06-01",
                "--cadence-days", "0",
            ], 1, "--cadence-days '0' is invalid"
        ),
        // Corrections
        (["void", "--seq", "999", "--reason", "typo"], 1, "there is no seq 999 to void"),
        (["void", "--seq", "13", "--reason", "again"], 1, "seq 13 was already voided by seq 14"),
        (["void", "--seq", "1", "--reason", "no"], 1, "seq 1 is a LogCreated, which cannot be voided"),
        (
            ["void", "--seq", "10", "--reason", "wrong pair"], 1,
            "voiding seq 10 would leave seq 12 (SessionHeld) invalid"
        ),
        (["void", "--seq", "0", "--reason", "x"], 64, "seqs start at 1"),
        // Idempotency
        (
            ["session", "--tandem", "t1", "--minutes", "45", "--on", "2027-02-01", "--key", "s-1"], 1,
            "the idempotency key 's-1' was already used for a different command"
        ),
        // Roles and the store
        (
            ["--role", "analyst", "session", "--tandem", "t1", "--minutes", "60"], 1,
            "the analyst role cannot record events"
        ),
        (
            ["session", "--tandem", "t1", "--minutes", "60", "--store", "/nonexistent/store"], 1,
            "no store at /nonexistent/store"
        ),
    ]

    @Test("malformed commands: the exit code, an Error: naming the problem, and byte-identical files")
    func malformedCommands() throws {
        let cli = try seededProgramme()
        let events = Files.read(cli.store + "/events.jsonl")
        let vault = Files.read(cli.store + "/vault.jsonl")
        #expect(Self.malformed.count >= 50)
        for (arguments, code, message) in Self.malformed {
            let outcome = try cli.run(arguments)
            let line = arguments.joined(separator: " ")
            #expect(outcome.status == code, "\(line): exit \(outcome.status), \(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("Error: "), "\(line): \(outcome.stderr)")
            #expect(outcome.stderr.contains(message), "\(line): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty, "\(line): \(outcome.stdout)")
            #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), events), "\(line) changed events.jsonl")
            #expect(sameBytes(Files.read(cli.store + "/vault.jsonl"), vault), "\(line) changed vault.jsonl")
        }
    }

    static let badFiles: [(String, String, String)] = [
        (
            "missing column", "name,email,role,unit,level,gender,offers,wants,interests\nA,,mentor,IT,1,,,,\n",
            "line 1: missing column 'born'"
        ),
        (
            "bad quote", "name,email,role,unit,level,born,gender,offers,wants,interests\nA\"b,,mentor,IT,1,2000,,,,\n",
            "line 2: a quote inside an unquoted field"
        ),
        (
            "unterminated quote",
            "name,email,role,unit,level,born,gender,offers,wants,interests\n\"A,,mentor,IT,1,2000,,,,\n",
            "line 2: a quoted field that never ends"
        ),
        (
            "field count", "name,email,role,unit,level,born,gender,offers,wants,interests\nA,,mentor,IT,1,2000\n",
            "line 2: expected 10 fields, found 6"
        ),
        (
            "unknown column", "name,email,role,unit,level,born,gender,offers,wants,interests,shoe\n",
            "line 1: unknown column 'shoe'"
        ),
        (
            "refused row",
            "name,email,role,unit,level,born,gender,offers,wants,interests\nA,,mentor,IT,1,2000,,,,\nB,,mentee,HR,0,1960,,,,\n",
            "line 3: --level '0' is invalid"
        ),
        (
            "bad value", "name,email,role,unit,level,born,gender,offers,wants,interests\nA,,teacher,IT,1,2000,,,,\n",
            "line 2: The value 'teacher' is invalid for column 'role'"
        ),
    ]

    @Test("a bad CSV names the line and column, and nothing is recorded")
    func badCSV() throws {
        let cli = try seededProgramme()
        let events = Files.read(cli.store + "/events.jsonl")
        let vault = Files.read(cli.store + "/vault.jsonl")
        for (name, content, message) in Self.badFiles {
            Files.write(cli.directory.appending("in.csv"), Array(content.utf8))
            let outcome = try cli.run(["import", "signups", "in.csv", "--programme", "pilot"])
            #expect(outcome.status == 1, "\(name)")
            #expect(
                outcome.stderr.hasPrefix("Error: in.csv, ") && outcome.stderr.contains(message),
                "\(name): \(outcome.stderr)")
            #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), events), "\(name)")
            #expect(sameBytes(Files.read(cli.store + "/vault.jsonl"), vault), "\(name)")
        }
    }

    static let badLines: [(String, String)] = [
        ("{\"command\":\"session\",\"tandem\":\"t1\",\"minutes\":30}\nnot json\n", "standard input, line 2: not JSON"),
        ("[1,2]\n", "line 1: expected a JSON object"),
        ("{\"tandem\":\"t1\"}\n", "line 1: no \"command\" field"),
        ("{\"command\":\"teleport\"}\n", "line 1: unknown command 'teleport'"),
        ("{\"command\":\"session\",\"tandem\":\"t1\"}\n", "line 1: Missing expected argument \"minutes\""),
        (
            "{\"command\":\"session\",\"tandem\":\"t1\",\"minutes\":30}\n\n{\"command\":\"session\",\"tandem\":\"t1\",\"minutes\":900}\n",
            "line 3: --minutes '900' is invalid"
        ),
        ("{\"command\":\"forget\",\"participant\":\"e3\"}\n", "line 1: unknown command 'forget'"),
    ]

    @Test("a bad JSON Lines batch names the line, and nothing is recorded")
    func badJSONLines() throws {
        let cli = try seededProgramme()
        let events = Files.read(cli.store + "/events.jsonl")
        let vault = Files.read(cli.store + "/vault.jsonl")
        for (input, message) in Self.badLines {
            let outcome = try cli("append -", stdin: input)
            #expect(outcome.status == 1 && outcome.stderr.contains(message), "\(input): \(outcome.stderr)")
            #expect(sameBytes(Files.read(cli.store + "/events.jsonl"), events))
            #expect(sameBytes(Files.read(cli.store + "/vault.jsonl"), vault))
        }
        let missing = try cli("append nowhere.jsonl")
        #expect(missing.status == 1 && missing.stderr.contains("cannot read nowhere.jsonl"))
    }

    @Test("every recording command works end to end and prints its outcome")
    func endToEnd() throws {
        let cli = try seededProgramme()
        let steps: [([String], String)] = [
            (
                [
                    "programme", "launch", "--id", "autumn", "--name", "Autumn", "--starts", "2027-09-01", "--ends",
                    "2028-02-28", "--cadence-days", "21",
                ], "recorded seq 20: ProgrammeLaunched autumn"
            ),
            (
                [
                    "signup", "--programme", "pilot", "--role", "mentee", "--name", "Jörg Ältere", "--unit", "Board",
                    "--level", "10", "--born", "1958", "--gender", "m", "--wants", "linkedin,ai", "--on", "2027-02-20",
                    "--id", "joerg",
                ], "recorded seq 21: ParticipantSignedUp joerg"
            ),
            (
                [
                    "match", "--programme", "pilot", "--mentor", "m3", "--mentee", "e2", "--id", "t2", "--on",
                    "2027-02-21",
                ], "recorded seq 22: TandemMatched t2"
            ),
            (
                [
                    "session", "--tandem", "t2", "--on", "2027-02-25", "--minutes", "50", "--mode", "online",
                    "--topics", "linkedin,ai", "--notes", "Went well",
                ], "recorded seq 23: SessionHeld t2"
            ),
            (
                [
                    "goal", "set", "--tandem", "t2", "--goal", "post", "--text", "Publish a first post", "--due",
                    "2027-05-01", "--category", "social-media", "--on", "2027-02-25",
                ], "recorded seq 24: GoalSet t2/post"
            ),
            (
                ["goal", "reached", "--tandem", "t2", "--goal", "post", "--on", "2027-02-28"],
                "recorded seq 25: GoalReached t2/post"
            ),
            (
                [
                    "swap", "--tandem", "t2", "--leaving", "e2", "--joining", "joerg", "--on", "2027-02-28", "--reason",
                    "mismatch", "--new-id", "t3", "--notes", "Different expectations",
                ], "recorded seq 26: PartnerSwapped t3"
            ),
            (
                [
                    "withdraw", "--participant", "e2", "--on", "2027-03-01", "--reason", "left-organisation", "--notes",
                    "Moved to a competitor",
                ], "recorded seq 27: ParticipantWithdrew e2"
            ),
            (["complete", "--tandem", "t3", "--on", "2027-03-01"], "recorded seq 28: TandemCompleted t3"),
            (["void", "--seq", "25", "--reason", "reached later"], "recorded seq 29: EventVoided 25"),
            (["forget", "--participant", "e2"], "recorded seq 30: PersonalDataErased e2"),
        ]
        for (arguments, expected) in steps {
            let outcome = try cli.run(arguments)
            #expect(
                outcome.status == 0 && outcome.stdout.hasPrefix(expected),
                "\(arguments): \(outcome.stdout) \(outcome.stderr)")
        }
        let json = try cli.run([
            "session", "--tandem", "t1", "--minutes", "30", "--format", "json", "--on-behalf-of", "m1", "--actor",
            "bert",
        ])
        let object = try #require(CLI.json(json))
        #expect(
            object["seq"] as? Int == 31 && object["type"] as? String == "SessionHeld" && object["id"] as? String == "t1"
        )
        let line = String(Files.text(cli.store + "/events.jsonl").split(separator: "\n").last!)
        // Whom bert acted for is in the vault; the line holds its reference.
        #expect(line.contains(#""actor":"bert","type":"SessionHeld""#) && line.contains(#""onBehalfOf":{"ref":"r-"#))
        #expect(line.contains(#""at":"2027-03-01T09:00:00Z""#))
        let verify = try cli("verify")
        #expect(verify.status == 0 && verify.stdout.contains("ok: 31 events"))
    }

    @Test("personal data goes to the vault only; forget removes it everywhere and verify still passes")
    func vaultAndForget() throws {
        let cli = try seededProgramme()
        try cli.run([
            "signup", "--programme", "pilot", "--role", "mentee", "--name", "Canary Zebrafinch", "--email",
            "canary@example.org",
            "--unit", "Board", "--level", "9", "--born", "1961", "--id", "c1", "--on", "2027-02-20",
        ])
        try cli.run([
            "match", "--programme", "pilot", "--mentor", "m3", "--mentee", "c1", "--id", "tc", "--on", "2027-02-21",
        ])
        try cli.run([
            "session", "--tandem", "tc", "--minutes", "60", "--on", "2027-02-22", "--notes", "canary-note-7731",
        ])
        try cli.run([
            "goal", "set", "--tandem", "tc", "--goal", "g", "--text", "canary-goal-5521", "--on", "2027-02-22",
        ])
        try cli.run(["withdraw", "--participant", "c1", "--reason", "other", "--notes", "canary-reason-9918"])
        let canaries = [
            "Canary Zebrafinch", "canary@example.org", "canary-note-7731", "canary-goal-5521", "canary-reason-9918",
        ]
        let events = Files.text(cli.store + "/events.jsonl")
        for canary in canaries {
            #expect(!events.contains(canary), "\(canary) in events.jsonl")
            #expect(Files.text(cli.store + "/vault.jsonl").contains(canary), "\(canary) not in the vault")
        }
        let before = try cli("verify")
        #expect(before.status == 0)
        let forget = try cli("forget --participant c1")
        #expect(forget.status == 0 && forget.stdout.hasPrefix("recorded seq "))
        for file in Files.allFiles(under: cli.store) {
            let text = Files.text(file)
            for canary in canaries { #expect(!text.contains(canary), "\(canary) still in \(file)") }
        }
        let after = try cli("verify")
        #expect(after.status == 0 && after.stdout.contains("4 erased"), "\(after.stdout)")
        #expect(FileSystem.mode(of: cli.store + "/vault.jsonl") == 0o600)
        // A tampered vault line no longer matches its commitment.
        let vaultPath = cli.store + "/vault.jsonl"
        Files.write(
            vaultPath, Array(Files.text(vaultPath).replacingOccurrences(of: "Mara Mentor", with: "Mara Mentos").utf8))
        let tampered = try cli("verify")
        #expect(tampered.status == 65 && tampered.stderr.contains("does not match the commitment of seq 3"))
    }

    @Test("an idempotency key makes a retry append nothing and report the original seq")
    func idempotency() throws {
        let cli = try seededProgramme()
        let first = try cli("session --tandem t1 --minutes 30 --key retry-1 --on 2027-02-27")
        #expect(first.stdout == "recorded seq 20: SessionHeld t1\n")
        let size = Files.read(cli.store + "/events.jsonl").count
        let again = try cli("session --tandem t1 --minutes 30 --key retry-1 --on 2027-02-27")
        #expect(again.status == 0 && again.stdout.hasPrefix("already recorded as seq 20: SessionHeld t1"))
        #expect(Files.read(cli.store + "/events.jsonl").count == size)
        let json = try #require(
            CLI.json(try cli("session --tandem t1 --minutes 30 --key retry-1 --on 2027-02-27 --format json")))
        #expect(json["seq"] as? Int == 20 && json["duplicate"] as? Bool == true)
        // The same key with other personal data is a different command.
        try cli.run([
            "session", "--tandem", "t1", "--minutes", "30", "--on", "2027-02-28", "--key", "n-1", "--notes", "first",
        ])
        let other = try cli.run([
            "session", "--tandem", "t1", "--minutes", "30", "--on", "2027-02-28", "--key", "n-1", "--notes", "second",
        ])
        #expect(other.status == 1 && other.stderr.contains("idempotency key 'n-1' was already used"))
    }

    @Test("imports and appends are one batch with one fsync, all or nothing")
    func bulk() throws {
        let cli = try seededProgramme()
        let csv =
            "\u{FEFF}name,email,role,unit,level,born,gender,offers,wants,interests\r\n\"Weber, Jonas\",jonas@example.org,mentor,Finance,2,2000,m,tiktok;ai,,gaming\r\n\"Anna \"\"Nan\"\" Roth\",,mentee,HR,8,1966,f,,tiktok;ai,hiking\r\n"
        Files.write(cli.directory.appending("people.csv"), Array(csv.utf8))
        let imported = try cli.run([
            "import", "signups", "people.csv", "--programme", "pilot", "--on", "2027-02-01", "--format", "json",
        ])
        let object = try #require(CLI.json(imported), "\(imported.stderr)")
        #expect(object["recorded"] as? Int == 2)
        let lines = Files.text(cli.store + "/events.jsonl").split(separator: "\n").suffix(2)
        #expect(lines.allSatisfy { $0.contains("\"batch\":[20,21]") })
        #expect(Files.text(cli.store + "/vault.jsonl").contains(#""name":"Anna \"Nan\" Roth""#))
        #expect(Files.text(cli.store + "/vault.jsonl").contains(#""name":"Weber, Jonas""#))
        let append = try cli(
            "append -",
            stdin:
                "{\"command\":\"session\",\"tandem\":\"t1\",\"on\":\"2027-02-26\",\"minutes\":30}\n{\"command\":\"complete\",\"tandem\":\"t1\",\"on\":\"2027-02-27\"}\n"
        )
        #expect(append.status == 0 && append.stdout.contains("line 2: recorded seq 23: TandemCompleted t1"))
    }
}
