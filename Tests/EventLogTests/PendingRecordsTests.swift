import EventLog
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A batch's records are kept as encoded bodies, spilled to a scratch file past a limit, and
/// written to the log in chunks beside the hashing. None of that may change a byte of what
/// the log holds.
@Suite("Pending records: spilled, chunked and written in the background, byte for byte")
struct PendingRecordsTests {
    /// `count` records with notes of seeded random lengths (some longer than a spill chunk).
    static func records(_ count: Int, seed: UInt64) -> [LogRecord] {
        let random = SeededRandomSource(seed: seed)
        return (0..<count).map { n in
            let length = Int(random.next(below: n % 997 == 0 ? 9_000 : 300))
            return LogRecord(
                type: "Sampled", actor: "anna", at: Timestamp(secondsSinceEpoch: 1_800_000_000 + Int64(n)),
                data: ["n": .int(Int64(n)), "note": .string(String(repeating: "ü-x", count: length / 3))])
        }
    }

    /// A new log at `path` with a fixed first line, then `pending` appended as one batch.
    /// - Returns: the heads the append reported, line by line.
    static func log(at path: String, appending pending: PendingRecords) throws -> [LogHead] {
        let log = FileLog(
            path: path, quarantineDirectory: path + ".quarantine", clock: FixedClock(Timestamp(secondsSinceEpoch: 1)))
        _ = try log.initialize(actor: "tester", logID: "00000000-0000-4000-8000-000000000000")
        var heads: [LogHead] = []
        _ = try log.withExclusiveAccess { session in
            try session.append(pending, expectedHead: 1) { heads.append($0) }
        }
        return heads
    }

    /// Records in runs that share their time, actor and type, and change one of them at a
    /// time: each body starts with its own record's parts, however the one before began.
    @Test("the start a record shares with the one before is its own: time, actor and type each change alone")
    func sharedStarts() throws {
        var generator = SeededGenerator(seed: 515)
        let times = [Timestamp(secondsSinceEpoch: 1_800_000_000), Timestamp(secondsSinceEpoch: 1_800_000_001)]
        let actors = ["anna", "ann", "b\"ob"], types = ["SessionHeld", "GoalSet"]
        var at = times[0], actor = actors[0], type = types[0]
        var records: [LogRecord] = []
        for n in 0..<2_000 {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: at = times.randomElement(using: &generator)!
            case 1: actor = actors.randomElement(using: &generator)!
            case 2: type = types.randomElement(using: &generator)!
            default: break
            }
            records.append(LogRecord(type: type, actor: actor, at: at, data: ["n": .int(Int64(n))]))
        }
        let pending = PendingRecords()
        for record in records { try pending.append(record) }
        var bodies: [[UInt8]] = []
        try pending.forEachBody { bodies.append(Array($0)) }
        #expect(bodies.count == records.count)
        for (body, record) in zip(bodies, records) {
            var expected: [UInt8] = []
            LineEncoder.encodeBody(record, into: &expected)
            #expect(body == expected, "\(record.type) \(record.actor) \(record.at)")
        }
        let readBack = try pending.records()
        #expect(readBack.map(\.at) == records.map(\.at))
        #expect(readBack.map(\.actor) == records.map(\.actor))
        #expect(readBack.map(\.type) == records.map(\.type))
    }

    @Test("a batch spilled many times is appended exactly as one held in memory", arguments: [1 << 10, 1 << 16])
    func spilledEqualsHeld(limit: Int) throws {
        let directory = TemporaryDirectory()
        let records = Self.records(12_000, seed: UInt64(limit))
        let held = PendingRecords()
        let spilled = PendingRecords(spillDirectory: directory.appending("cache"), memoryLimit: limit)
        for record in records {
            try held.append(record)
            try spilled.append(record)
        }
        #expect(FileSystem.kind(of: directory.appending("cache")).exists, "the batch never spilled")
        // Read back as a void's re-check reads it: every record, in order.
        let readBack = try spilled.records()
        #expect(readBack.count == records.count)
        #expect(readBack.map { $0.data["note"] } == records.map { $0.data["note"] })
        #expect(readBack.map(\.at) == records.map(\.at))

        let a = directory.appending("held.jsonl"), b = directory.appending("spilled.jsonl")
        let headsA = try Self.log(at: a, appending: held)
        let headsB = try Self.log(at: b, appending: spilled)
        #expect(headsA == headsB)
        #expect(headsA.map(\.seq) == Array(2...(records.count + 1)))
        let bytes = Files.read(a)
        // Several megabytes: written in chunks on the writing thread.
        #expect(bytes.count > 3 << 20, "\(bytes.count)")
        #expect(sameBytes(bytes, Files.read(b)), "\(byteDifference(bytes, Files.read(b)))")
        let verified = try LogVerifier.verify(path: b)
        #expect(verified.head == headsB.last)
        let entries = try FileLog(path: b, quarantineDirectory: b + ".quarantine").entries()
        #expect(entries.dropFirst().map { $0.record.data } == records.map(\.data))
    }

    @Test("background writes land in order, at an offset or at the end")
    func backgroundWritesInOrder() throws {
        let directory = TemporaryDirectory()
        let random = SeededRandomSource(seed: 41)
        for atOffset in [true, false] {
            let path = directory.appending("file-\(atOffset)")
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | (atOffset ? 0 : O_APPEND), 0o600)
            #expect(fd >= 0)
            defer { close(fd) }
            let prefix: [UInt8] = Array("head\n".utf8)
            _ = prefix.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let writes = BackgroundWrites(borrowing: fd, path: path, at: atOffset ? prefix.count : nil, depth: 2)
            var expected = prefix
            for n in 0..<200 {
                let chunk = [UInt8](repeating: UInt8(n % 251), count: Int(random.next(below: 70_000)))
                expected += chunk
                try writes.write(chunk)
            }
            #expect(try writes.finish() == expected.count - prefix.count)
            #expect(sameBytes(Files.read(path), expected))
        }
    }

    @Test("a failed background write is thrown, and nothing after it is written")
    func backgroundWriteFailure() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("read-only")
        Files.write(path, [])
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let writes = BackgroundWrites(borrowing: fd, path: path, depth: 1)
        try writes.write([1, 2, 3])
        // The failure surfaces at the latest in `finish`, and every later call throws it.
        #expect(throws: SystemError.self) { try writes.finish() }
        #expect(throws: SystemError.self) { try writes.write([4]) }
        #expect(throws: SystemError.self) { try writes.finish() }
        #expect(Files.read(path).isEmpty)
    }
}
