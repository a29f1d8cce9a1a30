import EventLog
import Foundation
import Synchronization
import TestSupport
import Testing

/// Collects warnings from a log.
final class Warnings: Sendable {
    private let stored = Mutex<[String]>([])
    var all: [String] { stored.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { message in self.stored.withLock { $0.append(message) } } }
}

/// A store with `count` sample records appended one by one.
func makeStore(_ directory: TemporaryDirectory, records count: Int = 10, warnings: Warnings? = nil) throws -> Store {
    let root = directory.appending("store")
    let ignore: @Sendable (String) -> Void = { _ in }
    let sink = warnings.map(\.sink) ?? ignore
    let (store, _) = try Store.create(
        root: root, actor: "tester", clock: SystemClock(), random: SeededRandomSource(seed: 3),
        warn: sink)
    for n in 0..<count { try store.events.append([sampleRecord(n)]) }
    return store
}

@Suite("File log: store, torn tails, damage")
struct FileLogTests {
    @Test("the store is 0700 and its files 0600")
    func modes() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        #expect(FileSystem.mode(of: store.root) == 0o700)
        #expect(FileSystem.mode(of: store.events.path) == 0o600)
        #expect(FileSystem.mode(of: store.access.path) == 0o600)
        #expect(store.permissionProblems().isEmpty)
        chmod(store.events.path, 0o644)
        #expect(store.permissionProblems().count == 1)
        #expect(store.permissionProblems()[0].contains("chmod 600"))
    }

    @Test("init is idempotent, and refuses files and foreign directories")
    func initRules() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("s")
        let first = try Store.create(root: root, actor: "a", clock: SystemClock(), random: SystemRandomSource())
        let before = Files.read(first.store.events.path)
        let second = try Store.create(root: root, actor: "a", clock: SystemClock(), random: SystemRandomSource())
        #expect(first.created && !second.created)
        #expect(
            sameBytes(Files.read(second.store.events.path), before),
            "\(byteDifference(Files.read(second.store.events.path), before))")

        Files.write(directory.appending("file"), Array("x".utf8))
        #expect(throws: StoreError.isFile(path: directory.appending("file"))) {
            _ = try Store.create(
                root: directory.appending("file"), actor: "a", clock: SystemClock(), random: SystemRandomSource())
        }
        let foreign = directory.appending("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        Files.write(foreign + "/notes.txt", Array("mine".utf8))
        #expect(throws: StoreError.notAStore(path: foreign, contents: ["notes.txt"])) {
            _ = try Store.create(root: foreign, actor: "a", clock: SystemClock(), random: SystemRandomSource())
        }
        #expect(Files.list(foreign) == ["notes.txt"])
        let empty = directory.appending("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try Store.create(root: empty, actor: "a", clock: SystemClock(), random: SystemRandomSource()).created)
        #expect(throws: StoreError.missing(path: directory.appending("nowhere"))) {
            _ = try Store(root: directory.appending("nowhere"))
        }
    }

    @Test("a partial last line is quarantined byte for byte before the next append")
    func partialLine() throws {
        let directory = TemporaryDirectory()
        let warnings = Warnings()
        let store = try makeStore(directory, warnings: warnings)
        let intact = Files.read(store.events.path)
        let torn = Array(#"{"seq":12,"at":"2027-01-01T00:00:00Z","actor":"x","type":"Ha"#.utf8)
        Files.write(store.events.path, intact + torn)
        // Readers ignore it.
        #expect(try store.events.readHead().seq == 11)
        let report = try LogVerifier.verify(path: store.events.path)
        #expect(report.events == 11 && report.tornTail?.length == torn.count && report.tornTail?.afterSeq == 11)
        // The next writer moves it away.
        try store.events.append([sampleRecord(99)])
        let quarantined = Files.list(store.quarantineDirectory)
        #expect(quarantined.count == 1)
        #expect(
            sameBytes(Files.read(store.quarantineDirectory + "/" + quarantined[0]), torn),
            "\(byteDifference(Files.read(store.quarantineDirectory + "/" + quarantined[0]), torn))")
        #expect(warnings.all.count == 1 && warnings.all[0].contains("after seq 11"))
        #expect(Array(Files.read(store.events.path).prefix(intact.count)) == intact)
        #expect(try LogVerifier.verify(path: store.events.path).events == 12)
    }

    /// Lines as a crashed writer leaves them: encoded, written, never acknowledged.
    static func unacknowledged(_ store: Store, count: Int, batch: Bool) throws -> [UInt8] {
        let head = try store.events.readHead()
        var bytes: [UInt8] = []
        var prev = head.hash
        let bounds = batch ? (head.seq + 1)...(head.seq + count + 2) : nil
        for i in 0..<count {
            prev = LineEncoder.encode(
                sampleRecord(500 + i), seq: head.seq + 1 + i, prev: prev, batch: bounds, into: &bytes)
        }
        return bytes
    }

    @Test("a last line whose hash fails is a torn tail too")
    func badHashLast() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let intact = Files.read(store.events.path)
        var line = try Self.unacknowledged(store, count: 1, batch: false)
        line[40] = line[40] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        Files.write(store.events.path, intact + line)
        #expect(try store.events.readHead().seq == 11)
        #expect(try LogVerifier.verify(path: store.events.path).tornTail?.reason.contains("hash") == true)
        try store.events.append([sampleRecord(50)])
        let quarantined = Files.list(store.quarantineDirectory)
        #expect(quarantined.count == 1)
        #expect(
            sameBytes(Files.read(store.quarantineDirectory + "/" + quarantined[0]), line),
            "\(byteDifference(Files.read(store.quarantineDirectory + "/" + quarantined[0]), line))")
        #expect(try LogVerifier.verify(path: store.events.path).events == 12)
    }

    @Test("an unfinished batch is quarantined whole: batches are all or nothing")
    func unfinishedBatch() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let intact = Files.read(store.events.path)
        // Three lines of a five-line batch reached the file before the process died.
        let partial = try Self.unacknowledged(store, count: 3, batch: true)
        Files.write(store.events.path, intact + partial)
        #expect(try store.events.readHead().seq == 11)
        var seen: [Int] = []
        try store.events.forEachLine { seen.append($0.seq) }
        #expect(seen == Array(1...11))
        try store.events.append([sampleRecord(7)])
        let quarantined = Files.list(store.quarantineDirectory)
        #expect(
            sameBytes(Files.read(store.quarantineDirectory + "/" + quarantined[0]), partial),
            "\(byteDifference(Files.read(store.quarantineDirectory + "/" + quarantined[0]), partial))")
        #expect(try LogVerifier.verify(path: store.events.path).events == 12)
    }

    @Test("an acknowledged last line that was damaged is refused, not quarantined")
    func damagedAcknowledgedTail() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        var bytes = Files.read(store.events.path)
        let lastStart = bytes.dropLast().lastIndex(of: 0x0A)! + 1
        bytes[lastStart + 40] ^= 0x01
        Files.write(store.events.path, bytes)
        #expect(throws: LogError.self) { try store.events.append([sampleRecord(50)]) }
        #expect(
            sameBytes(Files.read(store.events.path), bytes), "\(byteDifference(Files.read(store.events.path), bytes))")
        #expect(Files.list(store.quarantineDirectory).isEmpty)
    }

    @Test("a byte flipped in a line no writer has checked yet makes writes refuse")
    func damageRefusesWrites() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        var bytes = Files.read(store.events.path)
        let third = bytes.indices.filter { bytes[$0] == 0x0A }[2] + 1
        bytes[third + 60] ^= 0x01
        Files.write(store.events.path, bytes)
        // The acknowledged head vouches for the lines before it; without it (a store from
        // before records existed), the next writer checks everything.
        try FileManager.default.removeItem(atPath: store.root + "/events.head")
        // A new process knows nothing of what this one verified.
        let fresh = try Store(root: store.root)
        do {
            try fresh.events.append([sampleRecord(1)])
            Issue.record("append succeeded on a damaged log")
        } catch let LogError.damaged(damage, _) {
            #expect(damage.seq == 4 && damage.offset == third)
            // The log says what it found; the advice (`tandem verify`) is the command line's.
            #expect("\(LogError.damaged(damage, path: "p"))".contains("writes are refused"))
        }
        #expect(
            sameBytes(Files.read(store.events.path), bytes), "\(byteDifference(Files.read(store.events.path), bytes))")
        do {
            _ = try LogVerifier.verify(path: store.events.path)
            Issue.record("verify passed a damaged log")
        } catch let LogError.damaged(damage, _) {
            #expect(damage.seq == 4 && damage.offset == third)
        }
    }

    @Test("a removed middle line moves the checkpoint's line, so writers refuse")
    func removedLine() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        var bytes = Files.read(store.events.path)
        let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
        bytes.removeSubrange((newlines[3] + 1)...newlines[4])
        Files.write(store.events.path, bytes)
        #expect(throws: LogError.self) { try Store(root: store.root).events.append([sampleRecord(1)]) }
        #expect(
            sameBytes(Files.read(store.events.path), bytes), "\(byteDifference(Files.read(store.events.path), bytes))")
    }

    @Test("a consistently rewritten chain is caught by the checkpoint")
    func rewrittenChain() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let entries = try store.events.entries()
        // Re-encode a valid chain with one record changed: every hash recomputes.
        var forged: [UInt8] = []
        var prev = SHA256Digest.zero
        for entry in entries {
            var record = entry.record
            if entry.seq == 5 { record.data["note"] = .string("changed") }
            prev = LineEncoder.encode(record, seq: entry.seq, prev: prev, into: &forged)
        }
        Files.write(store.events.path, forged)
        #expect(try LogVerifier.verify(path: store.events.path).events == 11)
        do {
            try store.events.append([sampleRecord(1)])
            Issue.record("append succeeded on a rewritten log")
        } catch let LogError.damaged(damage, _) {
            #expect(damage.seq == 11 && damage.reason.contains("rewritten"), "\(damage)")
        }
    }

    @Test("a log cut back to an earlier valid head is caught by the checkpoint")
    func truncatedChain() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let bytes = Files.read(store.events.path)
        let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
        Files.write(store.events.path, Array(bytes[...newlines[7]]))
        do {
            try store.events.append([sampleRecord(1)])
            Issue.record("append succeeded on a truncated log")
        } catch let LogError.damaged(damage, _) {
            #expect(
                damage.seq == 9 && damage.reason.contains("seq 11 was acknowledged")
                    && damage.reason.contains("seq 9…11 are missing"))
        }
    }

    @Test("two bad lines at the end are damage, not a torn tail")
    func twoBadLines() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        var bytes = Files.read(store.events.path)
        let newlines = bytes.indices.filter { bytes[$0] == 0x0A }
        bytes[newlines[newlines.count - 3] + 50] ^= 0x01
        bytes[newlines[newlines.count - 2] + 50] ^= 0x01
        Files.write(store.events.path, bytes)
        #expect(throws: LogError.self) { try Store(root: store.root).events.append([sampleRecord(1)]) }
        #expect(
            sameBytes(Files.read(store.events.path), bytes), "\(byteDifference(Files.read(store.events.path), bytes))")
        #expect(Files.list(store.quarantineDirectory).isEmpty)
    }

    @Test("a file that is not a log is refused, never quarantined")
    func notALog() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        for content in ["hello world\n", "hello", "name,email\nann,a@b\n", "{\"seq\":1}\n"] {
            Files.write(store.events.path, Array(content.utf8))
            #expect(throws: LogError.self, "\(content)") { try store.events.append([sampleRecord(1)]) }
            #expect(Files.text(store.events.path) == content)
            #expect(throws: LogError.self) { _ = try LogVerifier.verify(path: store.events.path) }
        }
        #expect(Files.list(store.quarantineDirectory).isEmpty)
    }

    @Test("an unknown format version is refused by writers and verify")
    func unknownFormat() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory, records: 0)
        var bytes: [UInt8] = []
        let record = LogRecord(
            type: "LogCreated", actor: "x", at: Timestamp(secondsSinceEpoch: 0),
            data: ["log": .string("l"), "format": .int(2)])
        LineEncoder.encode(record, seq: 1, prev: .zero, into: &bytes)
        Files.write(store.events.path, bytes)
        #expect(throws: LogError.unsupportedFormat(found: "2", path: store.events.path)) {
            try store.events.append([sampleRecord(1)])
        }
        #expect(throws: LogError.unsupportedFormat(found: "2", path: store.events.path)) {
            _ = try LogVerifier.verify(path: store.events.path)
        }
        #expect(
            sameBytes(Files.read(store.events.path), bytes), "\(byteDifference(Files.read(store.events.path), bytes))")
    }

    @Test("reading from any seq of a large log finds it by binary search")
    func largeSeek() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory, records: 0)
        try store.events.append((0..<6000).map { sampleRecord($0) })
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<40 {
            let seq = Int.random(in: 1...6001, using: &generator)
            var first: Int?
            var count = 0
            try store.events.forEachLine(from: seq, after: nil) { line in
                if first == nil { first = line.seq }
                count += 1
            }
            #expect(first == seq && count == 6001 - seq + 1)
        }
    }

    @Test("a start offset given as a hint is used only where line seq starts; any other gives the same lines")
    func hintedStarts() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory, records: 0)
        // Every record's data opens with its own line's seq, `{"seq":N,`, inside the line:
        // only the newline before a line start tells the two apart.
        try store.events.append(
            (0..<3000).map { n in
                LogRecord(
                    type: "Sampled", actor: "anna", at: Timestamp(secondsSinceEpoch: 1_800_000_000),
                    data: ["seq": .int(Int64(n + 2)), "z": .string("\n{\"seq\":\(n + 2),")])
            })
        var starts: [Int: Int] = [:]
        var inner: [Int: Int] = [:]
        try store.events.forEachLine { line in
            starts[line.seq] = line.offset
            let text = Array(line.bytes)
            if let at = text.firstRange(of: Array("\"data\":{".utf8)) {
                inner[line.seq] = line.offset + at.upperBound - 1
            }
        }
        let size = try #require(FileSystem.size(of: store.events.path))
        var generator = SeededGenerator(seed: 21)
        for trial in 0..<300 {
            let seq = Int.random(in: 2...3001, using: &generator)
            let start = starts[seq]!
            let hint: Int =
                switch trial % 7 {
                case 0: start
                case 1: inner[seq]!
                case 2: starts[Int.random(in: 1...3001, using: &generator)]!
                case 3: start + Int.random(in: -40...40, using: &generator)
                case 4: [0, -5, size, size + 100][trial % 4]
                case 5: start - 1
                default: Int.random(in: 0..<size, using: &generator)
                }
            var seen: [(Int, Int)] = []
            do {
                try store.events.forEachLine(from: seq, after: nil, near: hint) { line in
                    seen.append((line.seq, line.offset))
                    if seen.count == 3 { throw CancellationError() }
                }
            } catch is CancellationError {}
            let expected = (seq..<min(seq + 3, 3002)).map { ($0, starts[$0]!) }
            #expect(
                seen.map(\.0) == expected.map(\.0) && seen.map(\.1) == expected.map(\.1), "seq \(seq), hint \(hint)")
        }
    }

    @Test("a writer waits for the lock, then gives up with a clear error")
    func lockTimeout() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let holder = try BackgroundProcess(Executables.path("tandem-probe"), ["hold-lock", store.root, "3"])
        #expect(holder.waitForLine { $0 == "locked" })
        let impatient = FileLog(
            path: store.events.path, quarantineDirectory: store.quarantineDirectory, lockTimeout: 0.3)
        let started = Date()
        #expect(throws: LogError.lockTimeout(path: store.events.path, seconds: 0.3)) {
            try impatient.append([sampleRecord(1)])
        }
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.3 && waited < 2.5)
        #expect("\(LogError.lockTimeout(path: "p", seconds: 0.3))".contains("waited 0.3 s"))
        holder.waitUntilExit()
        try impatient.append([sampleRecord(2)])
        #expect(try store.events.readHead().seq == 12)
    }

    @Test("a full disk (write fails midway) leaves the log byte-identical")
    func fullDisk() throws {
        let directory = TemporaryDirectory()
        let store = try makeStore(directory)
        let before = Files.read(store.events.path)
        // RLIMIT_FSIZE lets the probe write 100 bytes of its batch, then fails with EFBIG:
        // the same partial write a filling disk gives.
        let outcome = try Executables.run(Executables.path("tandem-probe"), ["append-limited", store.root, "100"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("cannot write") && outcome.stderr.contains("File too large"))
        #expect(
            sameBytes(Files.read(store.events.path), before), "\(byteDifference(Files.read(store.events.path), before))"
        )
        #expect(Files.list(store.quarantineDirectory).isEmpty)
        #expect(try LogVerifier.verify(path: store.events.path).events == 11)
    }

    static let canMount: Bool = {
        guard getuid() == 0, let mount = ReferenceTools.which("mount") else { return false }
        let probe = TemporaryDirectory()
        guard let outcome = try? Executables.run(mount, ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]),
            outcome.status == 0
        else { return false }
        _ = try? Executables.run(ReferenceTools.which("umount") ?? "/bin/umount", [probe.path])
        return true
    }()

    @Test("a read-only store refuses writes with a clear error", .enabled(if: canMount))
    func readOnly() throws {
        let directory = TemporaryDirectory()
        let mountPoint = directory.appending("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try #require(ReferenceTools.which("mount"))
        #expect(try Executables.run(mount, ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]).status == 0)
        defer { _ = try? Executables.run(ReferenceTools.which("umount") ?? "/bin/umount", [mountPoint]) }
        do {
            // In a scope of its own: a live FileLog keeps its file open, which would keep
            // the file system from going read-only.
            let (created, _) = try Store.create(
                root: mountPoint + "/store", actor: "a", clock: SystemClock(), random: SystemRandomSource())
            try created.events.append([sampleRecord(1)])
        }
        let store = try Store(root: mountPoint + "/store")
        let before = Files.read(store.events.path)
        #expect(try Executables.run(mount, ["-o", "remount,ro", mountPoint]).status == 0)
        do {
            try store.events.append([sampleRecord(2)])
            Issue.record("append succeeded on a read-only file system")
        } catch let LogError.system(error) {
            #expect(error.code == EROFS)
            #expect(error.description.contains("read-only"))
        }
        #expect(
            sameBytes(Files.read(store.events.path), before), "\(byteDifference(Files.read(store.events.path), before))"
        )
        #expect(try store.events.readHead().seq == 2)
    }
}
