import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Benchmarks of the EventLog layer: durable appends and verification.
enum LogCases {
    /// A realistic line: a SessionHeld event with a personal commitment, about 410 bytes.
    static func record(_ n: Int) -> LogRecord {
        let day = 20_454 + n % 300
        return LogRecord(
            type: "SessionHeld", actor: "coordinator-\(n % 7)",
            at: Timestamp(secondsSinceEpoch: 1_767_225_600 + Int64(n) * 37),
            data: [
                "tandem": .string("t-\(String(n % 50_000, radix: 36))x"), "on": .string(CivilCalendar.formatDate(day)),
                "minutes": .int(Int64(30 + n % 90)), "mode": .string(n % 3 == 0 ? "online" : "in-person"),
                "topics": .array([.string("linkedin"), .string("generative-ai")]),
                "personal": .object([
                    "ref": .string("r-\(String(n, radix: 16))"),
                    "commit": .string(SHA256.hash("\(n)").hex),
                ]),
            ])
    }

    /// Writes a log of `events` lines to `path` (skipped if it already has them).
    static func generate(path: String, events: Int) throws {
        if let size = FileSystem.size(of: path), size > 0,
            let head = try? InMemoryHeadReader.head(path), head == events
        {
            return
        }
        let fd = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(9 << 20)
        var prev = LineEncoder.encode(
            LogCreation.record(logID: "bench", actor: "bench", at: Timestamp(secondsSinceEpoch: 1_767_225_600)),
            seq: 1, prev: .zero, into: &bytes)
        for n in 2...max(2, events) {
            prev = LineEncoder.encode(record(n), seq: n, prev: prev, into: &bytes)
            if bytes.count >= 8 << 20 {
                try fd.writeAll(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        try fd.writeAll(bytes)
        try fd.sync()
    }

    /// Raw fsync rate: `perSync` lines of 410 bytes, one write and one fsync each time.
    static func rawFsync(fd: borrowing FileDescriptor, iterations: Int, perSync: Int) throws -> Double {
        let line = [UInt8](repeating: 0x61, count: 409) + [0x0A]
        let chunk = Array([[UInt8]](repeating: line, count: perSync).joined())
        let started = Harness.now()
        for _ in 0..<iterations {
            try fd.writeAll(chunk)
            try fd.sync()
        }
        return Harness.now() - started
    }

    /// Durable appends through `FileLog` (lock, tail check, encode, write, fsync, each time),
    /// in rounds alternating with raw write+fsync rounds on the same disk, so that both
    /// see the same device state.
    /// - Returns: events, seconds for FileLog, seconds for the raw baseline (same count).
    static func appends(
        directory: String, iterations: Int, perAppend: Int
    ) throws -> (events: Int, seconds: Double, rawSeconds: Double) {
        let root = directory + "/append-store-\(getpid())"
        let (store, _) = try Store.create(
            root: root, actor: "bench", clock: SystemClock(), random: SystemRandomSource())
        let rawPath = root + "/raw-fsync.bin"
        let raw = try FileDescriptor(path: rawPath, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND)
        let batches = (0..<iterations).map { i in (0..<perAppend).map { record(i * perAppend + $0) } }
        var seconds = 0.0, rawSeconds = 0.0
        let rounds = 4
        for round in 0..<rounds {
            let slice = (iterations * round / rounds)..<(iterations * (round + 1) / rounds)
            rawSeconds += try rawFsync(fd: raw, iterations: slice.count, perSync: perAppend)
            let started = Harness.now()
            for i in slice { try store.events.append(batches[i]) }
            seconds += Harness.now() - started
        }
        for name in (try? FileSystem.contents(of: root)) ?? [] where !FileSystem.kind(of: root + "/" + name).isDirectory
        {
            try? FileSystem.remove(root + "/" + name)
        }
        return (iterations * perAppend, seconds, rawSeconds)
    }
}

/// Reads a log's head seq without opening it as a store.
enum InMemoryHeadReader {
    static func head(_ path: String) throws -> Int {
        let directory = FileSystem.parentDirectory(of: path)
        return try FileLog(path: path, quarantineDirectory: directory + "/quarantine").readHead().seq
    }
}

/// The auditor's few lines of Python: recompute every hash, check every link.
let pythonChainVerifier = """
    import hashlib, sys
    prev = b"0" * 64
    n = 0
    with open(sys.argv[1], "rb") as f:
        for line in f:
            cut = line.rindex(b',"hash":')
            digest = hashlib.sha256(line[:cut]).hexdigest().encode()
            if line[cut + 9:cut + 73] != digest or line[cut - 65:cut - 1] != prev:
                sys.exit("bad line %d" % (n + 1))
            prev = digest
            n += 1
    print(n)
    """
