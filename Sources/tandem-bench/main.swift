// tandem-bench: one command that runs every benchmark next to its baseline and prints a
// table. Build it in release mode: `swift run -c release tandem-bench`.
//
//   tandem-bench [--work DIR] [--events N] [--only CASE,...]
//
// Each case runs in a child process of this program, so that the peak RSS column is that
// case's own.
import EventLog
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let selfPath = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0] : {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return String(decoding: buffer[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}()

func option(_ name: String, in arguments: [String] = arguments) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

// Child mode: run one case and print "events seconds bytes".
if arguments.first == "child" {
    do {
        switch arguments[1] {
        case "verify":
            let path = arguments[2]
            let started = Harness.now()
            let report = try LogVerifier.verify(path: path)
            print("\(report.events) \(Harness.now() - started) \(report.bytes)")
        case "append":
            let (events, seconds, raw) = try LogCases.appends(directory: arguments[2], iterations: Int(arguments[3])!, perAppend: Int(arguments[4])!)
            print("\(events) \(seconds) \(events * 410) \(raw)")
        default:
            print("0 0 0")
        }
        exit(0)
    } catch {
        print("error: \(error)")
        exit(1)
    }
}

let work = option("--work") ?? "/tmp/tandem-bench"
let events = Int(option("--events") ?? "") ?? 1_000_000
let only = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
func wanted(_ name: String, only: Set<String>? = only) -> Bool { only?.contains(name) ?? true }
try FileSystem.makeDirectories(work)

print("tandem-bench: \(SHA256Backend.active.rawValue) SHA-256, \(LogVerifier.processorCount) cores, work directory \(work)")
var rows: [Measurement] = []

func child(_ arguments: [String], selfPath: String = selfPath) -> (events: Int, seconds: Double, bytes: Int, peakKB: Int, extra: Double?)? {
    let outcome = Harness.run(selfPath, ["child"] + arguments)
    let fields = outcome.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard outcome.status == 0, fields.count >= 3, let e = Int(fields[0]), let s = Double(fields[1]), let b = Int(fields[2]) else {
        print("case \(arguments[0]) failed: \(outcome.stdout)")
        return nil
    }
    return (e, s, b, outcome.peakKB, fields.count > 3 ? Double(fields[3]) : nil)
}

if wanted("append") {
    if let r = child(["append", work, "4000", "1"]) {
        rows.append(Measurement(name: "durable single append (FileLog)", events: r.events, seconds: r.seconds, bytes: r.bytes,
                                peakKB: r.peakKB, baselineName: "raw write+fsync, 1 line",
                                baselineRate: r.extra.map { Double(r.events) / $0 }))
    }
    if let r = child(["append", work, "400", "100"]) {
        rows.append(Measurement(name: "batch append, 100 per fsync", events: r.events, seconds: r.seconds, bytes: r.bytes,
                                peakKB: r.peakKB, baselineName: "raw write+fsync, 100 lines",
                                baselineRate: r.extra.map { Double(r.events) / $0 }))
    }
}

if wanted("verify") {
    let path = work + "/verify-\(events).jsonl"
    try LogCases.generate(path: path, events: events)
    var baseline: Double? = nil
    if let python = Harness.which("python3") {
        let script = work + "/verify_chain.py"
        let fd = try FileDescriptor(path: script, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try fd.writeAll(Array(pythonChainVerifier.utf8))
        let outcome = Harness.run(python, [script, path])
        if outcome.status == 0, Int(outcome.stdout.split(separator: "\n").first ?? "") == events {
            baseline = Double(events) / outcome.seconds
        } else {
            print("python verify failed: \(outcome.stdout)")
        }
    }
    if let r = child(["verify", path]) {
        rows.append(Measurement(name: "verify \(Harness.short(Double(events))) events", events: r.events, seconds: r.seconds,
                                bytes: r.bytes, peakKB: r.peakKB, baselineName: "python3 hashlib chain verify", baselineRate: baseline))
    }
}

print()
Harness.printTable(rows)

