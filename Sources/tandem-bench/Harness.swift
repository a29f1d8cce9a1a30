import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// One measured row of the benchmark table.
struct Measurement {
    var name: String
    var events: Int
    var seconds: Double
    var bytes: Int
    var peakKB: Int
    var baselineName: String
    /// Events per second of the baseline, if it ran.
    var baselineRate: Double?
    var note: String = ""

    var rate: Double { seconds > 0 ? Double(events) / seconds : 0 }
    var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1_000_000 : 0 }
}

/// Time, processes and formatting for the benchmark.
enum Harness {
    /// Monotonic seconds.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Runs a program, waits for it, and returns its stdout (the first 4 MB), exit status,
    /// wall time, peak resident memory (from wait4's rusage, so it is that process's own
    /// peak) and how many bytes it wrote to stdout in all.
    static func run(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil
    )
        -> (status: Int32, stdout: String, seconds: Double, peakKB: Int, outputBytes: Int)
    {
        var outPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
        pipe(&outPipe)
        pipe(&inPipe)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        var env: [UnsafeMutablePointer<CChar>?] = []
        var pointer = environ
        var names = Set<String>()
        for (key, value) in environment {
            env.append(strdup("\(key)=\(value)"))
            names.insert(key)
        }
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if !names.contains(String(text.prefix { $0 != "=" })) { env.append(strdup(entry)) }
            pointer += 1
        }
        env.append(nil)
        defer {
            argv.forEach { free($0) }
            env.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_addclose(&actions, outPipe[0])
        posix_spawn_file_actions_addclose(&actions, inPipe[1])
        let started = now()
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, env)
        posix_spawn_file_actions_destroy(&actions)
        close(outPipe[1])
        close(inPipe[0])
        guard spawned == 0 else {
            close(outPipe[0])
            close(inPipe[1])
            return (127, "", 0, 0, 0)
        }
        if let stdin {
            var copy = stdin
            copy.withUTF8 { _ = write(inPipe[1], $0.baseAddress, $0.count) }
        }
        close(inPipe[1])
        // At most 4 MB of output is kept (the rest is read and dropped): a child spawned by a
        // large parent reports the parent's peak as its own (Linux records the old memory's
        // peak at exec), so holding a million-line output here would inflate every later
        // child's peak RSS.
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var written = 0
        while true {
            let n = read(outPipe[0], &chunk, chunk.count)
            if n <= 0 { break }
            written += n
            if output.count < 4 << 20 { output.append(contentsOf: chunk[0..<n]) }
        }
        close(outPipe[0])
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = now() - started
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: output, as: UTF8.self), seconds, Int(usage.ru_maxrss), written)
    }

    /// The absolute path of a program on PATH, or nil.
    static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// This process's peak resident memory in KB.
    static func peakKB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
            if digits == 0 { text = String(text[..<dot]) }
        } else if digits > 0 {
            text += "." + String(repeating: "0", count: digits)
        }
        return text
    }

    /// 1234567 → "1.23M", 12345 → "12.3k".
    static func short(_ value: Double) -> String {
        if value >= 1e6 { return fixed(value / 1e6, 2) + "M" }
        if value >= 1e3 { return fixed(value / 1e3, 1) + "k" }
        return fixed(value, 0)
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        if count >= width { return text }
        let fill = String(repeating: " ", count: width - count)
        return right ? fill + text : text + fill
    }

    /// Prints the table: case, events, seconds, events/s, MB/s, peak RSS, baseline, ratio.
    static func printTable(_ rows: [Measurement]) {
        let header = [
            pad("case", 34), pad("events", 9, right: true), pad("seconds", 8, right: true),
            pad("events/s", 10, right: true), pad("MB/s", 8, right: true), pad("peak RSS", 9, right: true),
            "  " + pad("baseline", 30), pad("base ev/s", 10, right: true), pad("ratio", 7, right: true),
        ]
        print(header.joined(separator: " "))
        for row in rows {
            let ratio = row.baselineRate.map { $0 > 0 ? fixed(row.rate / $0, 2) + "×" : "–" } ?? "–"
            let base = row.baselineRate.map { short($0) } ?? "skipped"
            let line = [
                pad(row.name, 34), pad(short(Double(row.events)), 9, right: true),
                pad(fixed(row.seconds, 3), 8, right: true),
                pad(short(row.rate), 10, right: true),
                pad(row.bytes > 0 ? fixed(row.megabytesPerSecond, 0) : "–", 8, right: true),
                pad(fixed(Double(row.peakKB) / 1024, 0) + " MB", 9, right: true),
                "  " + pad(row.baselineName, 30), pad(base, 10, right: true), pad(ratio, 7, right: true),
            ]
            print(line.joined(separator: " ") + (row.note.isEmpty ? "" : "  " + row.note))
        }
    }
}
