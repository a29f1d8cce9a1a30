import EventLog
import Foundation
import TestSupport
import Testing

@testable import Mentoring
@testable import TandemCLI

/// Standard output as a buffered writer: strings and byte runs of every size come out in
/// the order they were written, the large runs written straight through.
@Suite("Output sink: buffered and straight-through writes keep their order")
struct OutputSinkTests {
    @Test("strings and byte runs below, at and above the buffer's size come out whole and in order")
    func order() throws {
        let directory = TemporaryDirectory("tandem-sink")
        let path = directory.appending("out")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let sink = FileDescriptorSink(fd: fd)
        var g = SeededGenerator(seed: 65_536)
        var expected: [UInt8] = []
        for round in 0..<200 {
            let size = [0, 1, 7, 100, 65_535, 65_536, 65_537, 300_000][Int.random(in: 0..<8, using: &g)]
            let byte = UInt8(ascii: "a") + UInt8(round % 26)
            let run = [UInt8](repeating: byte, count: size) + [UInt8(ascii: "\n")]
            if round % 3 == 0 {
                sink.write(String(decoding: run, as: UTF8.self))
            } else {
                run.withUnsafeBytes { sink.write(bytes: $0) }
            }
            expected += run
        }
        sink.flush()
        #expect(Files.read(path) == expected)
    }
}

/// A batch's answer is written result by result in place; texts that need escaping, or are
/// long, go through the JSON writer instead. Either way the bytes are the writer's.
@Suite("Batch answer: results written in place are the JSON writer's bytes")
struct BatchAnswerTests {
    /// The result as an object the JSON writer writes whole.
    static func viaWriter(_ outcome: RecordedOutcome, label: String, line: Int, first: Bool) -> [UInt8] {
        // Labels are never a result's other keys.
        var object: JSONObject = [
            label: .int(Int64(line)), "seq": .int(Int64(outcome.seq)), "type": .string(outcome.type),
            "id": .string(outcome.id),
        ]
        if outcome.duplicate { object["duplicate"] = .bool(true) }
        var writer = JSONWriter()
        if !first { writer.writeRaw(",") }
        writer.write(object)
        return writer.bytes
    }

    @Test("plain, escaped, long and empty texts; small, large and negative numbers; duplicates")
    func agreesWithWriter() throws {
        let texts = [
            "t-1", "", "SessionHeld", "q\"uote", "back\\slash", "new\nline", "ö-ü", String(repeating: "x", count: 100),
            String(repeating: "y", count: 101), String(repeating: "z", count: 300),
        ]
        let numbers = [0, 1, 9, 10, 123_456_789, Int.max, Int.min, -1]
        var g = SeededGenerator(seed: 2_027)
        var writer = JSONWriter()
        var expected: [UInt8] = []
        for i in 0..<600 {
            let outcome = RecordedOutcome(
                seq: numbers.randomElement(using: &g)!, type: texts.randomElement(using: &g)!,
                id: texts.randomElement(using: &g)!, duplicate: Bool.random(using: &g))
            let label = i % 7 == 0 ? texts.randomElement(using: &g)! : "line"
            let line = numbers.randomElement(using: &g)!
            let before = writer.bytes.count
            BulkCommands.writeResult(outcome, label: label, line: line, first: i == 0, to: &writer)
            let one = Self.viaWriter(outcome, label: label, line: line, first: i == 0)
            #expect(Array(writer.bytes[before...]) == one, "\(outcome) \(label) \(line)")
            expected += one
        }
        #expect(writer.bytes == expected)
        // Still one JSON array's worth of objects.
        let parsed = try JSONScanner.parse([UInt8(ascii: "[")] + writer.bytes + [UInt8(ascii: "]")])
        #expect(parsed.arrayValue?.count == 600)
    }
}

/// `tandem append` surveys a file before deciding it: how many lines, and whether one may
/// be a void. Read in whole chunks, it must say what reading line by line says.
@Suite("Batch survey: whole reads count and find what a line-by-line reading does")
struct BatchSurveyTests {
    @Test("seeded files, with and without a last newline, needles across reads", arguments: [1, 2, 5, 64, 1 << 20])
    func agreesWithLines(chunk: Int) throws {
        let directory = TemporaryDirectory("tandem-survey")
        let path = directory.appending("in.jsonl")
        var g = SeededGenerator(seed: 77 + UInt64(chunk))
        let needle = Array("\"void\"".utf8)
        let pieces = ["{\"command\":", "\"void\"", "\"vo", "id\"", "\n", "\n\n", "x", " ", "\"", "level"]
        for _ in 0..<60 {
            let text = (0..<Int.random(in: 0..<40, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let reader = try InputLines(path: path, name: "in")
            var lines = 0
            var found = false
            while let hit = try reader.next({ ByteSearch.contains(needle, in: $0) }) {
                lines += 1
                found = found || hit
            }
            let survey = try InputLines.survey(path: path, name: "in", for: needle, chunk: chunk)
            #expect(survey.lines == lines && survey.found == found, "\(text.debugDescription)")
        }
    }
}
