import EventLog
import Foundation
import TestSupport
import Testing

@Suite("Crash safety and concurrent writers, as real processes", .serialized)
struct CrashSafetyTests {
    /// Torn writes made on purpose: the probe writes part of a batch, fsyncs it and kills
    /// itself, so each row tears at a known byte on any machine, however fast. The next
    /// writer must quarantine exactly those bytes, keep both acknowledged appends, and leave
    /// a log that verifies.
    @Test(
        "a write torn at a chosen byte is quarantined byte for byte",
        arguments: [
            (batch: 1, cut: "1"), (batch: 1, cut: "37"), (batch: 1, cut: "-1"), (batch: 4, cut: "lines:1"),
            (batch: 4, cut: "lines:3"), (batch: 4, cut: "-1"), (batch: 4, cut: "-200"), (batch: 20, cut: "lines:19"),
        ])
    func deterministicTear(batch: Int, cut: String) throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("store")
        let probe = Executables.path("tandem-probe")
        #expect(try Executables.run(probe, ["init", root]).status == 0)
        let sizeBefore = FileSystem.size(of: root + "/events.jsonl")!
        let child = try Executables.run(probe, ["tear", root, String(batch), "40", cut])
        #expect(child.signalled && child.status == SIGKILL)
        let lines = child.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["ack 2", "ack 3"])
        let tear = try #require(lines.last.flatMap { Int($0.split(separator: " ").last ?? "") })
        let torn = Files.read(root + "/events.jsonl").suffix(tear)

        let warnings = Warnings()
        let store = try Store(root: root, warn: warnings.sink)
        let head = try store.events.withExclusiveAccess { $0.head }
        #expect(head.seq == 3)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("moved a torn tail of \(tear) bytes after seq 3") == true)
        let quarantined = Files.list(store.quarantineDirectory)
        #expect(quarantined.count == 1)
        #expect(Files.read(store.quarantineDirectory + "/" + quarantined[0]) == Array(torn))
        let report = try LogVerifier.verify(path: store.events.path)
        #expect(report.tornTail == nil && report.events == 3 && report.bytes > sizeBefore)
        // The next append goes on from the acknowledged head.
        #expect(try store.events.append([sampleRecord(9)]).last?.seq == 4)
    }

    /// A child appends in a loop (single lines and batches) and is killed with SIGKILL at a
    /// random moment. Whether a kill tears a write depends on the machine's speed, so this
    /// asserts safety only: every acknowledged seq survives, recovery leaves a log that
    /// verifies, and quarantine holds only what was never acknowledged. The torn case itself
    /// is the deterministic test above.
    @Test("50 SIGKILLs at random moments lose no acknowledged append")
    func killedWriters() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("store")
        let probe = Executables.path("tandem-probe")
        #expect(try Executables.run(probe, ["init", root]).status == 0)
        var generator = SeededGenerator(seed: 50)
        var quarantinedSoFar: Set<String> = []
        for trial in 0..<50 {
            // Small lines, and batches of about 1 MB: a write that large is copied page by
            // page, so a SIGKILL can land inside it and tear it.
            // The torn-loop child writes in small pieces under the lock, as a write cut
            // short by a crash lands on disk; the next real writer must recover from it.
            let (mode, batch, scale) = [
                ("append-loop", 1, 40), ("append-loop", 5, 40), ("append-loop", 20, 6000),
                ("torn-loop", 1, 40), ("torn-loop", 4, 40),
            ][Int.random(in: 0..<5, using: &generator)]
            let child = try BackgroundProcess(probe, [mode, root, String(batch), String(scale)])
            #expect(child.waitForLine { $0.hasPrefix("ack ") }, "trial \(trial): the child never acknowledged")
            usleep(useconds_t(Int.random(in: 0...20_000, using: &generator)))
            child.kill(SIGKILL)
            let acknowledged = child.lines.compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }
            let highest = try #require(acknowledged.max())

            // Recovery happens in the next writer's session.
            let warnings = Warnings()
            let store = try Store(root: root, warn: warnings.sink)
            let head = try store.events.withExclusiveAccess { $0.head }
            #expect(head.seq >= highest, "trial \(trial): acknowledged seq \(highest) lost; head is \(head.seq)")
            let report = try LogVerifier.verify(path: store.events.path)
            #expect(report.tornTail == nil && report.events == head.seq)

            let quarantined = Set(Files.list(store.quarantineDirectory))
            let new = quarantined.subtracting(quarantinedSoFar)
            #expect(new.count <= 1, "trial \(trial): more than one tail quarantined")
            if let newest = new.first {
                #expect(warnings.all.count == 1)
                // Only unacknowledged lines: seqs above the last ack, at most one batch.
                let bytes = Files.read(store.quarantineDirectory + "/" + newest)
                for piece in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
                    if let seq = piece.withUnsafeBytes({ raw -> Int? in
                        let text = String(decoding: raw.prefix(24), as: UTF8.self)
                        guard text.hasPrefix("{\"seq\":"), let comma = text.firstIndex(of: ",") else { return nil }
                        return Int(text[text.index(text.startIndex, offsetBy: 7)..<comma])
                    }) {
                        #expect(seq > highest, "trial \(trial): quarantined acknowledged seq \(seq)")
                    }
                }
                #expect(bytes.count < 20 * 6000 * 24, "trial \(trial): the quarantined tail is larger than one batch")
            }
            quarantinedSoFar = quarantined
        }
    }

    @Test("two processes × 500 appends give exactly 1,000 events and a valid chain")
    func concurrentWriters() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("store")
        let probe = Executables.path("tandem-probe")
        #expect(try Executables.run(probe, ["init", root]).status == 0)
        let a = try BackgroundProcess(probe, ["append", root, "500"])
        let b = try BackgroundProcess(probe, ["append", root, "500"])
        #expect(a.waitUntilExit() == 0)
        #expect(b.waitUntilExit() == 0)
        let store = try Store(root: root)
        let report = try LogVerifier.verify(path: store.events.path)
        #expect(report.events == 1001)
        // Each writer's own appends are all there, in its order.
        var byWriter: [String: [Int64]] = [:]
        for entry in try store.events.entries().dropFirst() {
            byWriter[entry.actor, default: []].append(entry.data["n"]?.intValue ?? -1)
        }
        #expect(byWriter.count == 2)
        for (_, ns) in byWriter { #expect(ns == Array(0..<500)) }
    }
}

@Suite("Verifier: damage and anchors")
struct VerifierTests {
    /// A log of about 1 MB, so that the verifier splits it into several pieces.
    static func bigLog(lines: Int = 3000) -> [UInt8] {
        var bytes: [UInt8] = []
        var prev = LineEncoder.encode(
            LogCreation.record(logID: "l", actor: "a", at: Timestamp(secondsSinceEpoch: 0)),
            seq: 1, prev: .zero, into: &bytes)
        for n in 0..<(lines - 1) {
            prev = LineEncoder.encode(sampleRecord(n), seq: n + 2, prev: prev, into: &bytes)
        }
        return bytes
    }

    static func lineStarts(_ bytes: [UInt8]) -> [Int] {
        [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.dropLast()
    }

    static func damage(_ bytes: [UInt8]) -> LogDamage? {
        do {
            _ = try LogVerifier.verify(bytes: bytes, threads: 2)
            return nil
        } catch let LogError.damaged(damage, _) {
            return damage
        } catch {
            return LogDamage(seq: -1, offset: -1, reason: "\(error)")
        }
    }

    @Test("an intact log verifies on one thread and on several alike")
    func intact() throws {
        let bytes = Self.bigLog()
        let one = try LogVerifier.verify(bytes: bytes, threads: 1)
        let many = try LogVerifier.verify(bytes: bytes, threads: 4)
        #expect(one == many && one.events == 3000 && one.logID == "l")
    }

    @Test("a random byte flipped in a random line is reported at that line's seq")
    func flippedBytes() {
        let bytes = Self.bigLog()
        let starts = Self.lineStarts(bytes)
        var generator = SeededGenerator(seed: 2024)
        for _ in 0..<60 {
            let line = Int.random(in: 1..<(starts.count - 1), using: &generator)
            let position = Int.random(in: starts[line]..<starts[line + 1], using: &generator)
            var damaged = bytes
            damaged[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            let found = Self.damage(damaged)
            #expect(
                found?.seq == line + 1, "flip at byte \(position) of line \(line + 1): \(String(describing: found))")
            #expect(found?.offset == starts[line])
        }
    }

    @Test("a deleted middle line and a swapped pair are detected where they happen")
    func deletedAndSwapped() {
        let bytes = Self.bigLog()
        let starts = Self.lineStarts(bytes) + [bytes.count]
        var deleted = bytes
        deleted.removeSubrange(starts[1500]..<starts[1501])
        #expect(Self.damage(deleted)?.seq == 1501)
        var swapped = Array(bytes[..<starts[700]])
        swapped += bytes[starts[701]..<starts[702]]
        swapped += bytes[starts[700]..<starts[701]]
        swapped += bytes[starts[702]...]
        #expect(Self.damage(swapped)?.seq == 701)
    }

    @Test("a log truncated mid-line ends in a torn tail, not damage")
    func truncatedMidLine() throws {
        let bytes = Self.bigLog()
        let starts = Self.lineStarts(bytes)
        let cut = starts[2000] + 57
        let report = try LogVerifier.verify(bytes: Array(bytes[..<cut]), threads: 2)
        #expect(report.events == 2000)
        #expect(
            report.tornTail
                == TornTail(offset: starts[2000], length: 57, afterSeq: 2000, reason: "the last line has no newline"))
    }

    @Test("anchors: a head published earlier must still be in the chain")
    func anchors() throws {
        let bytes = Self.bigLog(lines: 300)
        let entries = try InMemoryLog(bytes: bytes).entries()
        let anchor = LogHead(seq: 200, hash: entries[199].hash)
        #expect(
            try LogVerifier.verify(bytes: bytes, anchors: [anchor, LogHead(seq: 300, hash: entries[299].hash)]).events
                == 300)

        // Rewritten from seq 150 on: a valid chain, but not the one that was anchored.
        var rewritten: [UInt8] = []
        var prev = SHA256Digest.zero
        for entry in entries {
            var record = entry.record
            if entry.seq >= 150 { record.data["note"] = .string("rewritten") }
            prev = LineEncoder.encode(record, seq: entry.seq, prev: prev, into: &rewritten)
        }
        #expect(try LogVerifier.verify(bytes: rewritten).events == 300)
        #expect(
            throws: LogError.anchorMismatch(
                seq: 200, expected: anchor.hash, found: try InMemoryLog(bytes: rewritten).entries()[199].hash,
                head: 300, path: "memory")
        ) {
            _ = try LogVerifier.verify(bytes: rewritten, anchors: [anchor])
        }
        // Truncated to 120 lines: a valid chain that no longer reaches the anchor.
        let starts = Self.lineStarts(bytes)
        #expect(throws: LogError.anchorMismatch(seq: 200, expected: anchor.hash, found: nil, head: 120, path: "memory"))
        {
            _ = try LogVerifier.verify(bytes: Array(bytes[..<starts[120]]), anchors: [anchor])
        }
    }
}
