// tandem-bench: one command that runs every benchmark next to its baseline, in the same
// invocation, and prints one table. Build it in release mode:
//
//   swift run -c release tandem-bench [--work DIR] [--events N] [--ten-million] [--only CASE,...]
//
// Cases: append, batch, replay, verify, cli, suggest. Stores are built with `tandem demo`
// (100k and --events, 1M by default; 10M with --ten-million) and kept in the work
// directory. Each measured case runs in a child process, so its peak RSS is its own.
import EventLog
import Mentoring

#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let selfPath: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return String(decoding: buffer[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}()
let tandem = FileSystem.parentDirectory(of: selfPath) + "/tandem"

func option(_ name: String, in arguments: [String] = arguments) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

// Child mode: run one case and print "events seconds bytes [extra]".
if arguments.first == "child" {
    do {
        switch arguments[1] {
        case "verify":
            let started = Harness.now()
            let report = try LogVerifier.verify(path: arguments[2])
            print("\(report.events) \(Harness.now() - started) \(report.bytes)")
        case "append":
            let (events, seconds, raw) = try LogCases.appends(
                directory: arguments[2], iterations: Int(arguments[3])!, perAppend: Int(arguments[4])!)
            print("\(events) \(seconds) \(events * 410) \(raw)")
        case "replay":
            let (events, seconds, bytes) = try DomainCases.replay(store: arguments[2])
            print("\(events) \(seconds) \(bytes)")
        case "decode":
            let (events, seconds, bytes) = try DomainCases.decode(store: arguments[2])
            print("\(events) \(seconds) \(bytes)")
        default:
            print("0 0 0")
        }
        exit(0)
    } catch {
        print("error: \(error)")
        exit(1)
    }
}

if arguments.contains("--help") {
    print(
        """
        USAGE: tandem-bench [--work DIR] [--events N] [--ten-million] [--only CASE,...]
                            [--json FILE] [--compare OLD.json]

        Runs every case next to its baseline and prints one table. Cases: append, batch,
        replay, verify, cli, suggest. Stores are built with `tandem demo` and kept in the work
        directory (default /tmp/tandem-bench).

        --json FILE         also write the table as JSON, for a later --compare
        --compare OLD.json  print each case's rate and peak RSS as a ratio to that run's
        """)
    exit(0)
}

let work = option("--work") ?? "/tmp/tandem-bench"
let large = Int(option("--events") ?? "") ?? 1_000_000
let tenMillion = arguments.contains("--ten-million")
let only = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
let jsonPath = option("--json")
let comparePath = option("--compare")
func wanted(_ name: String) -> Bool { only?.contains(name) ?? true }

do {
    try FileSystem.makeDirectories(work)
    guard FileSystem.kind(of: tandem).exists else {
        throw BenchFailure("\(tandem) not found: build it first (swift build -c release)")
    }
    // Read before running, so that a bad file is reported before minutes of measuring.
    let saved = try comparePath.map(Comparison.load)
    print(
        "tandem-bench: \(SHA256Backend.active.rawValue) SHA-256, \(LogVerifier.processorCount) cores, work directory \(work)"
    )
    var table = BenchTable()

    if wanted("append") { try AppendCases.run(work: work, into: &table) }
    if wanted("batch") {
        try AppendCases.batch(work: work, into: &table)
        try AppendCases.batch(work: work, into: &table, count: 1_000_000, attempts: 1)
        // What migrations and imports consist of: each signup seals a vault record.
        try AppendCases.batch(work: work, into: &table, count: 200_001, attempts: 2, signupsOnly: true)
    }
    var stores: [(label: String, path: String, events: Int)] = []
    if wanted("replay") || wanted("verify") || wanted("cli") {
        for (label, events) in [("100k", 100_000), (Harness.short(Double(large)), large)]
            + (tenMillion ? [("10M", 10_000_000)] : [])
        {
            if label == "100k" && !(wanted("replay")) { continue }
            let (path, count) = try BenchStores.demo(tandem, work: work, events: events, label: label)
            stores.append((label, path, count))
        }
    }
    if wanted("replay") { try ReadCases.replay(stores, work: work, into: &table) }
    if wanted("verify") { try ReadCases.verify(stores.filter { $0.label != "100k" }, work: work, into: &table) }
    if wanted("cli"), let store = stores.first(where: { $0.label == Harness.short(Double(large)) }) {
        try CLICases.run(store: store.path, events: store.events, into: &table)
    }
    if wanted("suggest") { try CLICases.suggest(work: work, into: &table) }

    print()
    table.print()
    if let saved, let comparePath { Comparison.printComparison(table, with: saved, name: comparePath) }
    if let jsonPath {
        try Comparison.save(table, to: jsonPath)
        print("\nwrote \(jsonPath)")
    }
} catch {
    print("tandem-bench: \(error)")
    exit(1)
}
