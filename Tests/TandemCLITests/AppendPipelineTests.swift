import EventLog
import Foundation
import TestSupport
import Testing

/// `tandem append` reads, parses and builds its lines on one core while the other decides
/// them, a few batches of 512 lines ahead. These batches are large enough for the reader to
/// run ahead, to fill its queue and to wait: the order of the commands, which line an error
/// names, and all-or-nothing must be as if the lines were read one at a time.
@Suite("tandem append read ahead: order, the first error, all or nothing")
struct AppendPipelineTests {
    /// `count` session lines for t1 of the seeded programme, line n (1-based) with
    /// `30 + n % 60` minutes; `replace` puts other text on some lines.
    static func sessions(_ count: Int, replace: [Int: String] = [:]) -> String {
        (1...count).map { n in
            replace[n]
                ?? #"{"command":"session","tandem":"t1","on":"2027-02-\#(String(format: "%02d", 3 + n % 25))","minutes":\#(30 + n % 60)}"#
        }.joined(separator: "\n") + "\n"
    }

    /// The store's files, to show that a refused batch left them as they were.
    static func files(_ cli: CLI) -> [[UInt8]] {
        ["events.jsonl", "vault.jsonl"].map { Files.read(cli.store + "/" + $0) }
    }

    @Test("5,000 lines are recorded in their order, from a file and from standard input")
    func order() throws {
        for fromFile in [true, false] {
            let cli = try seededProgramme()
            let before = try Store(root: cli.store).events.readHead().seq
            let input = Self.sessions(5_000)
            let outcome: ProcessOutcome
            if fromFile {
                Files.write(cli.directory.appending("batch.jsonl"), Array(input.utf8))
                outcome = try cli.run(["append", "batch.jsonl"])
            } else {
                outcome = try cli.run(["append", "-"], stdin: input)
            }
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("5000 commands recorded in one batch"), "\(outcome.stdout.prefix(300))")
            let entries = try Store(root: cli.store).events.entries().filter { $0.seq > before }
            #expect(entries.count == 5_000)
            #expect(entries.map { $0.record.data["minutes"]?.intValue } == (1...5_000).map { Int64(30 + $0 % 60) })
        }
    }

    /// Which line an error names, for errors the reader finds (not JSON, a value the builder
    /// refuses) and errors the rules find (an unknown tandem), in either order.
    static let firstErrors: [(replace: [Int: String], line: Int, message: String)] = [
        ([4_321: "{not json"], 4_321, "not JSON"),
        ([5_000: #"{"command":"session","tandem":"t1","minutes":900}"#], 5_000, "--minutes '900' is invalid"),
        (
            // The rules stop the batch at line 20 while the reader is thousands of lines
            // ahead, waiting for room: it must let go, and its later error must not win.
            [20: #"{"command":"session","tandem":"t9","minutes":30}"#, 4_321: "{not json"], 20, "t9"
        ),
        (
            [1_999: #"{"command":"session","tandem":"t9","minutes":30}"#, 2_000: "{not json"], 1_999, "t9"
        ),
        (
            [2_000: "{not json", 2_001: #"{"command":"session","tandem":"t9","minutes":30}"#], 2_000, "not JSON"
        ),
        ([513: #"{"command":"session","tandem":"t9","minutes":30}"#], 513, "t9"),
        (
            // A context equal to the line before's is not checked again; one that differs is.
            [
                10: #"{"command":"session","tandem":"t1","minutes":30,"actor":"anna"}"#,
                11: #"{"command":"session","tandem":"t1","minutes":31,"actor":"anna"}"#,
                12: #"{"command":"session","tandem":"t1","minutes":32,"actor":"an\u0001na"}"#,
            ], 12, "actor"
        ),
        (
            [
                2_999: #"{"command":"session","tandem":"t1","minutes":30,"actor":"  "}"#,
                3_000: #"{"command":"session","tandem":"t1","minutes":30,"actor":"  "}"#,
            ], 2_999, "actor"
        ),
    ]

    @Test("the first bad line is named, whichever side finds it, and nothing is recorded", arguments: 0..<8)
    func firstError(_ index: Int) throws {
        let (replace, line, message) = Self.firstErrors[index]
        let cli = try seededProgramme()
        let before = Self.files(cli)
        Files.write(cli.directory.appending("batch.jsonl"), Array(Self.sessions(5_000, replace: replace).utf8))
        let outcome = try cli.run(["append", "batch.jsonl"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("Error: batch.jsonl, line \(line): "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
        #expect(Self.files(cli) == before)
    }

    @Test("a line's fields are found by their flag names or their camel-case form, the exact name first")
    func camelCaseFields() throws {
        let cli = CLI()
        try cli("init")
        let lines = """
            {"command":"programme launch","id":"a","name":"A","starts":"2027-01-01","ends":"2027-12-31","cadenceDays":21,"minGroupSize":7}
            {"command":"programme launch","id":"b","name":"B","starts":"2027-01-01","ends":"2027-12-31","cadence-days":14}
            {"command":"programme launch","id":"c","name":"C","starts":"2027-01-01","ends":"2027-12-31","cadenceDays":10,"cadence-days":12}
            {"command":"programme launch","id":"d","name":"D","starts":"2027-01-01","ends":"2027-12-31"}
            """
        let outcome = try cli.run(["append", "-"], stdin: lines)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let launched = try Store(root: cli.store).events.entries().filter { $0.record.type == "ProgrammeLaunched" }
        #expect(launched.map { $0.record.data["cadenceDays"]?.intValue } == [21, 14, 12, 30])
        #expect(launched.map { $0.record.data["minGroupSize"]?.intValue } == [7, 5, 5, 5])

        let misspelt = try cli.run(
            ["append", "-"],
            stdin:
                #"{"command":"programme launch","id":"e","name":"E","starts":"2027-01-01","ends":"2027-12-31","cadenceDay":9}"#
        )
        #expect(misspelt.status == 1)
        #expect(
            misspelt.stderr.contains(#"unknown field "cadenceDay"; did you mean "cadence-days"?"#), "\(misspelt.stderr)"
        )
    }

    @Test("the JSON answer to a batch names each line's seq, type and id, and marks a retry")
    func jsonAnswer() throws {
        let cli = try seededProgramme()
        let before = try Store(root: cli.store).events.readHead().seq
        let lines = """
            {"command":"session","tandem":"t1","on":"2027-02-03","minutes":30,"key":"a"}

            {"command":"goal set","tandem":"t1","goal":"g9","text":"Write a blog post","on":"2027-02-03"}
            {"command":"session","tandem":"t1","on":"2027-02-03","minutes":30,"key":"a"}
            """
        let outcome = try cli.run(["append", "-", "--format", "json"], stdin: lines)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let (s1, s2) = (before + 1, before + 2)
        #expect(
            outcome.stdout
                == #"{"recorded":2,"results":[{"line":1,"seq":\#(s1),"type":"SessionHeld","id":"t1"},"#
                + #"{"line":3,"seq":\#(s2),"type":"GoalSet","id":"t1/g9"},"#
                + #"{"line":4,"seq":\#(s1),"type":"SessionHeld","id":"t1","duplicate":true}]}"# + "\n")
    }
}
