import EventLog
import Foundation
import TestSupport
import Testing

/// The log implementations that must behave alike.
enum LogKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, file
    var testDescription: String { rawValue }

    /// A fresh, initialised log (the directory keeps a file log's store alive).
    func make() throws -> (log: any AppendOnlyLog, keepAlive: TemporaryDirectory) {
        let directory = TemporaryDirectory()
        switch self {
        case .memory:
            let log = InMemoryLog()
            try log.initialize(actor: "tester", logID: "log-1", at: Timestamp(secondsSinceEpoch: 1_800_000_000))
            return (log, directory)
        case .file:
            let (store, _) = try Store.create(
                root: directory.appending("store"), actor: "tester",
                clock: FixedClock(Timestamp(secondsSinceEpoch: 1_800_000_000)),
                random: SeededRandomSource(seed: 1))
            return (store.events, directory)
        }
    }
}

func sampleRecord(_ n: Int, type: String = "Sampled") -> LogRecord {
    LogRecord(
        type: type, actor: "anna", at: Timestamp(secondsSinceEpoch: 1_800_000_000 + Int64(n)),
        data: ["n": .int(Int64(n)), "note": .string("line \(n) — ü")])
}

/// One suite that every `AppendOnlyLog` must pass.
@Suite("AppendOnlyLog conformance")
struct LogConformanceTests {
    @Test("a new log holds one LogCreated line", arguments: LogKind.allCases)
    func created(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        let head = try log.readHead()
        #expect(head.seq == 1)
        let entries = try log.entries()
        #expect(entries.count == 1)
        #expect(entries[0].type == "LogCreated")
        #expect(entries[0].data["format"] == .int(1))
        #expect(entries[0].prev == .zero)
        #expect(entries[0].hash == head.hash)
    }

    @Test("appends chain: contiguous seqs, prev links, recomputable hashes", arguments: LogKind.allCases)
    func chain(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        var heads: [LogHead] = []
        for n in 0..<5 { heads += try log.append([sampleRecord(n)]) }
        heads += try log.append((5..<9).map { sampleRecord($0) })
        #expect(heads.map(\.seq) == Array(2...10))
        var previous = SHA256Digest.zero
        var seen = 0
        try log.forEachLine { line in
            seen += 1
            #expect(line.seq == seen)
            let entry = try line.entry()
            #expect(entry.prev == previous)
            // The hash rule: SHA-256 of the bytes up to, not including, ,"hash":
            let text = Array(line.bytes)
            let cut = try #require(String(decoding: text, as: UTF8.self).range(of: ",\"hash\":"))
            let prefix = Array(String(decoding: text, as: UTF8.self).utf8[..<cut.lowerBound])
            #expect(SHA256.hash(prefix) == entry.hash)
            previous = entry.hash
            if line.seq >= 2 { #expect(heads[line.seq - 2].hash == entry.hash) }
        }
        #expect(seen == 10)
        #expect(try log.readHead() == heads.last)
    }

    @Test("a batch carries its bounds on every line; single appends carry none", arguments: LogKind.allCases)
    func batches(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        try log.append([sampleRecord(0)])
        try log.append([sampleRecord(1), sampleRecord(2), sampleRecord(3)])
        let entries = try log.entries()
        #expect(entries[1].batch == nil)
        #expect(entries[2].batch == 3...5 && entries[3].batch == 3...5 && entries[4].batch == 3...5)
    }

    @Test("a stale expected head is a conflict and appends nothing", arguments: LogKind.allCases)
    func conflict(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        try log.append([sampleRecord(0)], expectedHead: 1)
        #expect(throws: LogError.conflict(expected: 1, actual: 2)) {
            try log.append([sampleRecord(1)], expectedHead: 1)
        }
        #expect(try log.readHead().seq == 2)
    }

    @Test("reading from any seq streams the rest, linked to the given head", arguments: LogKind.allCases)
    func readFrom(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        try log.append((0..<50).map { sampleRecord($0) })
        let all = try log.entries()
        for start in [1, 2, 17, 50, 51] {
            var seqs: [Int] = []
            let after = start > 1 ? LogHead(seq: start - 1, hash: all[start - 2].hash) : nil
            try log.forEachLine(from: start, after: after) { seqs.append($0.seq) }
            #expect(seqs == Array(start...51))
        }
        var none: [Int] = []
        try log.forEachLine(from: 52, after: nil) { none.append($0.seq) }
        #expect(none.isEmpty)
        #expect(throws: LogError.seqOutOfRange(requested: 53, head: 51)) {
            try log.forEachLine(from: 53, after: nil) { _ in }
        }
        // A wrong `after` hash is a broken link.
        #expect(throws: LogError.self) {
            try log.forEachLine(from: 10, after: LogHead(seq: 9, hash: .zero)) { _ in }
        }
    }

    @Test("reading chosen seqs and runs gives exactly those lines, in order", arguments: LogKind.allCases)
    func readChosen(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        // Long enough that runs far apart are searched for and runs close by streamed.
        for batch in 0..<5 { try log.append((0..<600).map { sampleRecord(batch * 600 + $0) }) }
        let head = try log.readHead().seq
        var lines: [Int: [UInt8]] = [:]
        try log.forEachLine(from: 1, after: nil) { lines[$0.seq] = Array($0.bytes) }
        var generator = SeededGenerator(seed: 41)
        for round in 0..<16 {
            // Sparse, dense, and clustered choices, with the first and last lines sometimes.
            let density = [0.001, 0.02, 0.3, 0.9][round % 4]
            var seqs = (1...head).filter { _ in Double.random(in: 0..<1, using: &generator) < density }
            if round % 5 == 0 { seqs = Array(Set(seqs + [1, head])).sorted() }
            var read: [Int] = []
            try log.forEachLine(at: seqs) { line in
                read.append(line.seq)
                #expect(Array(line.bytes) == lines[line.seq], "round \(round): seq \(line.seq) has other bytes")
            }
            #expect(read == seqs, "round \(round): \(read.count) lines read for \(seqs.count) asked")
            let runs = SeqRuns.of(seqs)
            #expect(runs.flatMap { Array($0) } == seqs)
            #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.upperBound + 1 < $1.lowerBound }, "runs are maximal")
            read = []
            try log.forEachLine(inRuns: runs) { read.append($0.seq) }
            #expect(read == seqs, "round \(round): runs read other lines")
        }
    }

    @Test("records the format cannot hold are refused, and nothing is written", arguments: LogKind.allCases)
    func invalidRecords(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        var bad = sampleRecord(0)
        bad.actor = ""
        #expect(throws: LogError.self) { try log.append([sampleRecord(1), bad]) }
        bad = sampleRecord(0)
        bad.type = ""
        #expect(throws: LogError.self) { try log.append([bad]) }
        bad = sampleRecord(0)
        bad.extras = ["prev": .string("x")]
        #expect(throws: LogError.self) { try log.append([bad]) }
        #expect(try log.readHead().seq == 1)
    }

    @Test("optional keys stand between data and prev, in order", arguments: LogKind.allCases)
    func extras(kind: LogKind) throws {
        let (log, _keep) = try kind.make()
        _ = _keep
        var record = sampleRecord(0)
        record.extras = ["onBehalfOf": .string("bert"), "key": .string("k-1")]
        try log.append([record])
        var text = ""
        try log.forEachLine(from: 2, after: nil) { text = String(decoding: Array($0.bytes), as: UTF8.self) }
        #expect(text.contains(#"},"onBehalfOf":"bert","key":"k-1","prev":""#))
        #expect(try log.entries()[1].extras == ["onBehalfOf": .string("bert"), "key": .string("k-1")])
    }

    @Test("the log verifies, and the verifier agrees with the head", arguments: LogKind.allCases)
    func verifies(kind: LogKind) throws {
        let (log, keep) = try kind.make()
        try log.append((0..<20).map { sampleRecord($0) })
        let report: VerificationReport
        switch kind {
        case .memory: report = try LogVerifier.verify(bytes: (log as! InMemoryLog).bytes)
        case .file: report = try LogVerifier.verify(path: keep.appending("store/events.jsonl"))
        }
        #expect(report.events == 21)
        #expect(report.head == (try log.readHead()))
        #expect(report.tornTail == nil)
    }
}
