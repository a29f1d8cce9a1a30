import EventLog
import Foundation
import TestSupport
import Testing

/// FORMAT.md promises that an auditor can check a log without our code. Hold it to that.
@Suite("FORMAT.md")
struct FormatDocumentTests {
    static let document: String = {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("EventLog/FORMAT.md"), encoding: .utf8)) ?? ""
    }()

    static func block(_ language: String) -> String? {
        guard let start = document.range(of: "```\(language)\n"),
            let end = document.range(of: "```", range: start.upperBound..<document.endIndex)
        else { return nil }
        return String(document[start.upperBound..<end.lowerBound])
    }

    @Test("the document's Python verifier accepts a real store's log")
    func pythonVerifier() throws {
        let script = try #require(Self.block("python"), "FORMAT.md has no python block")
        try #require(ReferenceTools.python != nil, "python3 is not installed")
        let directory = TemporaryDirectory()
        let store = try makeStore(directory, records: 25)
        try store.events.append((0..<5).map { sampleRecord(100 + $0) })
        let outcome = try ReferenceTools.runPython(script, [store.events.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("ok 31 \(try store.events.readHead().hash.hex)"))
    }

    @Test("the worked example is a valid log with the hashes the document prints")
    func workedExample() throws {
        // The full lines: the abridged one near the top has "…" in it.
        let lines = Self.document.split(separator: "\n").filter {
            $0.hasPrefix("{\"seq\":") && $0.hasSuffix("\"}") && !$0.contains("…")
        }
        try #require(lines.count == 2)
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        #expect(bytes.count == 644)
        let report = try LogVerifier.verify(bytes: bytes)
        #expect(report.events == 2)
        #expect(
            Self.document.contains(
                "head -c 210 events.jsonl | sha256sum\n\(try InMemoryLog(bytes: bytes).entries()[0].hash.hex)"))
        #expect(Self.document.contains("head -c 282 | sha256sum\n\(report.head.hash.hex)"))
    }
}
