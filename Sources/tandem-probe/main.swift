// A small process that the EventLog tests start, kill and race: it exercises the file
// log exactly as `tandem` does, but with opaque records and no domain.
//
//   tandem-probe init DIR
//   tandem-probe append-loop DIR [BATCH] [SIZE]  append until killed; "ack SEQ" per fsync;
//                                          SIZE scales the records (big writes tear)
//   tandem-probe torn-loop DIR [BATCH]     like append-loop, but writes each batch in
//                                          128-byte pieces with pauses (under the lock),
//                                          so that a kill tears it as a crash would
//   tandem-probe tear DIR BATCH SIZE CUT   two acknowledged appends, then a batch of BATCH
//                                          whose first CUT bytes (CUT < 0: all but -CUT;
//                                          lines:K, its first K whole lines)
//                                          reach the disk before the process kills itself:
//                                          a torn write at a chosen byte, not a lucky one
//   tandem-probe append DIR COUNT          COUNT single appends, then "done HEAD"
//   tandem-probe hold-lock DIR SECONDS     take the writer lock and sleep
//   tandem-probe append-limited DIR BYTES  append one record with RLIMIT_FSIZE = size + BYTES
import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes: an "ack" must reach the pipe before a SIGKILL can land.
func say(_ text: String, to fd: Int32 = 1) {
    var line = text + "\n"
    line.withUTF8 { raw in _ = write(fd, raw.baseAddress, raw.count) }
}
let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    say("usage: tandem-probe init|append-loop|append|hold-lock|append-limited DIR [N]", to: 2)
    exit(64)
}
let command = arguments[1]
let root = arguments[2]
let number = arguments.count > 3 ? Int(arguments[3]) ?? 1 : 1
let scale = arguments.count > 4 ? UInt64(arguments[4]) ?? 40 : 40
let cut = arguments.count > 5 ? arguments[5] : "1"
let pid = Int64(getpid())
let random = SystemRandomSource()
let warn: @Sendable (String) -> Void = { message in say("warning: \(message)", to: 2) }

/// A record of varying length, with escapes and non-ASCII text, so that tearing can
/// happen anywhere inside a line.
func record(_ n: Int) -> LogRecord {
    let filler = String(repeating: "Zürich \"quoted\" ☕ ", count: Int(random.next(below: scale)))
    return LogRecord(
        type: "ProbeRecorded", actor: "probe-\(pid)", at: SystemClock().now(),
        data: ["n": .int(Int64(n)), "pid": .int(pid), "text": .string(filler)])
}

do {
    switch command {
    case "init":
        let (_, created) = try Store.create(
            root: root, actor: "probe", clock: SystemClock(), random: random, warn: warn)
        say(created ? "created" : "exists")
    case "append-loop":
        let store = try Store(root: root, lockTimeout: 30, warn: warn)
        var n = 0
        while true {
            let batch = (0..<number).map { i in record(n + i) }
            let heads = try store.events.append(batch)
            n += number
            say("ack \(heads.last!.seq)")
        }
    case "torn-loop":
        let store = try Store(root: root, lockTimeout: 30, warn: warn)
        var n = 0
        while true {
            let head = try store.events.withExclusiveAccess { session -> LogHead in
                var bytes: [UInt8] = []
                var prev = session.head.hash
                let first = session.head.seq + 1
                let batch = number > 1 ? first...(first + number - 1) : nil
                for i in 0..<number {
                    prev = LineEncoder.encode(record(n + i), seq: first + i, prev: prev, batch: batch, into: &bytes)
                }
                let fd = try FileDescriptor(path: store.events.path, flags: O_WRONLY | O_APPEND)
                var offset = 0
                while offset < bytes.count {
                    let end = min(bytes.count, offset + 128)
                    try bytes[offset..<end].withUnsafeBytes { raw in
                        try Result { () throws(SystemError) in try fd.writeAll(raw) }.get()
                    }
                    offset = end
                    usleep(2000)
                }
                try fd.sync()
                return LogHead(seq: first + number - 1, hash: prev)
            }
            n += number
            say("ack \(head.seq)")
        }
    case "tear":
        let store = try Store(root: root, lockTimeout: 30, warn: warn)
        for n in 0..<2 { say("ack \(try store.events.append([record(n)]).last!.seq)") }
        try store.events.withExclusiveAccess { session in
            var bytes: [UInt8] = []
            var prev = session.head.hash
            let first = session.head.seq + 1
            let batch = number > 1 ? first...(first + number - 1) : nil
            for i in 0..<number {
                prev = LineEncoder.encode(record(2 + i), seq: first + i, prev: prev, batch: batch, into: &bytes)
            }
            // CUT is a byte count, a count from the end (-N), or whole lines (lines:K).
            let length: Int
            if cut.hasPrefix("lines:"), let k = Int(cut.dropFirst(6)) {
                length = bytes.indices.filter { bytes[$0] == 0x0A }[k - 1] + 1
            } else if let n = Int(cut) {
                length = n < 0 ? bytes.count + n : n
            } else {
                length = 0
            }
            precondition(length > 0 && length < bytes.count, "CUT must leave a torn write")
            say("batch \(bytes.count) tear \(length)")
            let fd = try FileDescriptor(path: store.events.path, flags: O_WRONLY | O_APPEND)
            try bytes[0..<length].withUnsafeBytes { raw in
                try Result { () throws(SystemError) in try fd.writeAll(raw) }.get()
            }
            try fd.sync()
            kill(getpid(), SIGKILL)
        }
    case "append":
        let store = try Store(root: root, lockTimeout: 60, warn: warn)
        var head = LogHead.empty
        for i in 0..<number { head = try store.events.append([record(i)]).last! }
        say("done \(head.seq)")
    case "hold-lock":
        let store = try Store(root: root, warn: warn)
        try store.events.withExclusiveAccess { _ in
            say("locked")
            usleep(useconds_t(number * 1_000_000))
        }
    case "append-limited":
        let store = try Store(root: root, warn: warn)
        signal(SIGXFSZ, SIG_IGN)
        let size = FileSystem.size(of: store.events.path) ?? 0
        var limit = rlimit(rlim_cur: rlim_t(size + number), rlim_max: rlim_t(size + number))
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        _ = try store.events.append([record(0), record(1), record(2)])
        say("appended")
    default:
        say("unknown probe command \(command)", to: 2)
        exit(64)
    }
} catch {
    say("Error: \(error)", to: 2)
    exit(1)
}
