import EventLog
import Mentoring

#if canImport(Glibc)
    import Glibc
#endif

/// The stores the benchmark measures, built with `tandem demo` (so they hold what a real
/// programme holds: profiles in the vault, matches, sessions, goals, swaps, withdrawals)
/// and kept between runs.
enum BenchStores {
    /// Every CLI run of the benchmark sees this clock: the same seed and day give the
    /// same store.
    static let now = "2027-06-01T12:00:00Z"
    static var today: BusinessDate { BusinessDate("2027-06-01")! }
    /// The demo's programme ends two weeks before today; it kick-offs 334 days before that.
    static var ends: BusinessDate { today.adding(days: -14) }
    static var starts: BusinessDate { ends.adding(days: -334) }
    /// Demo stores stop three weeks before the programme's end, so that tandems are still
    /// active and there is something to record.
    static var until: BusinessDate { ends.adding(days: -21) }
    /// Events per participant of a demo stopped then (measured: about 7.9).
    static let eventsPerParticipant = 7.7

    static func environment() -> [String: String] { ["TANDEM_NOW": now, "TANDEM_ACTOR": "bench"] }

    /// A demo store of at least about `events` events, built once.
    /// - Returns: the store's directory and its event count.
    static func demo(_ tandem: String, work: String, events: Int, label: String) throws -> (path: String, events: Int) {
        let path = work + "/store-" + label
        let marker = path + ".events"
        // A store built before is used as it is now (the CLI case appends to it): its count
        // is its head's seq, read from the end of the log.
        if let text = try? FileSystem.readFile(marker), let count = Int(String(decoding: text, as: UTF8.self)),
            count > 0,
            let head = try? FileLog(path: path + "/events.jsonl", quarantineDirectory: path + "/quarantine").readHead()
        {
            return (path, head.seq)
        }
        if FileSystem.kind(of: path).exists { _ = Harness.run("/bin/rm", ["-rf", path]) }
        let participants = Int((Double(events) / eventsPerParticipant).rounded(.up))
        print("building \(label) store: tandem demo --participants \(participants) --until \(until) …")
        let outcome = Harness.run(
            tandem,
            [
                "demo", "--store", path, "--participants", String(participants), "--until", until.description,
                "--format", "json",
            ], environment: environment())
        guard outcome.status == 0 else { throw BenchFailure("tandem demo failed: \(outcome.stdout)") }
        let count = try FileLog(path: path + "/events.jsonl", quarantineDirectory: path + "/quarantine").readHead().seq
        print("  \(count) events in \(Harness.fixed(outcome.seconds, 1)) s")
        let fd = try FileDescriptor(path: marker, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try fd.writeAll(Array(String(count).utf8))
        return (path, count)
    }

    /// A store of `size` mentors and `size` mentees, nobody matched, in which every pair is
    /// eligible: mentors are juniors (levels 1–3, born 1995–2004) from units no mentee
    /// belongs to (mentees: levels 6–10, born 1958–1980). Skills, interests and genders
    /// vary, so scores do, and an optimum differs from a greedy pass.
    static func eligiblePool(_ tandem: String, work: String, size: Int) throws -> String {
        let path = work + "/store-eligible-\(size)"
        if FileSystem.kind(of: path + "/events.jsonl").exists { return path }
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        func some(_ words: [String], _ range: ClosedRange<Int>) -> String {
            var picked: [String] = []
            for _ in 0..<(range.lowerBound + next(range.count)) {
                let word = words[next(words.count)]
                if !picked.contains(word) { picked.append(word) }
            }
            return "[" + picked.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        }
        let skills = [
            "linkedin", "chatgpt", "tiktok", "excel-automation", "python", "tableau", "video-editing", "e-commerce",
            "instagram", "podcasting", "no-code", "cyber-hygiene", "prompting", "data-viz",
        ]
        let interests = [
            "cycling", "running", "travel", "cooking", "gaming", "music", "sustainability", "photography", "chess",
            "hiking",
        ]
        let genders = ["f", "m", "d"]
        var out =
            #"{"command":"programme launch","id":"pool","name":"Pool","starts":"2027-01-01","ends":"2027-12-31"}"#
            + "\n"
        for n in 0..<size {
            out +=
                #"{"command":"signup","programme":"pool","role":"mentor","name":"Mentor \#(n)","unit":"\#(["IT", "Digital", "Data", "Marketing", "Sales"][n % 5])","level":\#(1 + next(3)),"born":\#(1995 + next(10)),"gender":"\#(genders[next(3)])","offers":\#(some(skills, 2...5)),"interests":\#(some(interests, 1...4)),"id":"m\#(n)","on":"2027-01-02"}"#
                + "\n"
            out +=
                #"{"command":"signup","programme":"pool","role":"mentee","name":"Mentee \#(n)","unit":"\#(["Board", "Finance", "Legal", "HR", "Operations"][n % 5])","level":\#(6 + next(5)),"born":\#(1958 + next(23)),"gender":"\#(genders[next(3)])","wants":\#(some(skills, 1...4)),"interests":\#(some(interests, 1...4)),"id":"e\#(n)","on":"2027-01-02"}"#
                + "\n"
        }
        let file = work + "/eligible-\(size).jsonl"
        let fd = try FileDescriptor(path: file, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try fd.writeAll(Array(out.utf8))
        for arguments in [["init", "--store", path], ["append", file, "--store", path]] {
            let outcome = Harness.run(tandem, arguments, environment: environment())
            guard outcome.status == 0 else {
                throw BenchFailure("tandem \(arguments[0]) (eligible pool) failed: \(outcome.stdout.prefix(400))")
            }
        }
        return path
    }

    /// A JSON Lines file of `count` commands for `tandem append`: a launch, signups, matches
    /// and sessions, each one checked by every rule when it is recorded.
    static func batchFile(work: String, count: Int, signupsOnly: Bool = false) throws -> String {
        let path = work + "/batch-\(count)\(signupsOnly ? "-signups" : "").jsonl"
        if FileSystem.kind(of: path).exists { return path }
        // Written a megabyte at a time: held whole (150 MB for a million commands), it
        // raised this process's peak, which Linux reports as the peak of every child
        // spawned after it, and the peak RSS column showed 211 MB for every later case.
        let partial = path + ".partial"
        let fd = try FileDescriptor(path: partial, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20 + 4096)
        var failure: (any Error)?
        func line(_ text: String) {
            out += Array(text.utf8)
            out.append(0x0A)
            if out.count >= 1 << 20, failure == nil {
                do { try fd.writeAll(out) } catch { failure = error }
                out.removeAll(keepingCapacity: true)
            }
        }
        line(
            #"{"command":"programme launch","id":"bench","name":"Bench","starts":"2027-01-01","ends":"2027-12-31","cadence-days":30,"min-group-size":5}"#
        )
        // 2 signups + 1 match + 2 sessions per pair; signups only: 2 per pair.
        let pairs = signupsOnly ? (count - 1) / 2 : (count - 1) / 5
        let units = ["IT", "Sales", "Legal", "Finance", "HR", "Operations", "Marketing"]
        for n in 0..<pairs {
            line(
                #"{"command":"signup","programme":"bench","role":"mentor","name":"Mentor \#(n)","unit":"\#(units[n % 7])","level":2,"born":1999,"id":"m\#(n)","on":"2027-01-02","offers":["linkedin","chatgpt"]}"#
            )
            line(
                #"{"command":"signup","programme":"bench","role":"mentee","name":"Mentee \#(n)","unit":"\#(units[(n + 3) % 7])","level":9,"born":1966,"id":"e\#(n)","on":"2027-01-02","wants":["linkedin"]}"#
            )
        }
        for n in 0..<pairs where !signupsOnly {
            line(
                #"{"command":"match","programme":"bench","mentor":"m\#(n)","mentee":"e\#(n)","id":"t\#(n)","on":"2027-01-05"}"#
            )
        }
        var written = 1 + (signupsOnly ? 2 : 3) * pairs
        var n = 0
        while written < count, !signupsOnly {
            line(
                #"{"command":"session","tandem":"t\#(n % pairs)","on":"2027-0\#(2 + n / pairs % 4)-1\#(n % 9)","minutes":\#(30 + n % 60),"topics":["linkedin"]}"#
            )
            written += 1
            n += 1
        }
        try fd.writeAll(out)
        if let failure { throw failure }
        guard rename(partial, path) == 0 else { throw BenchFailure("could not rename \(partial) to \(path)") }
        return path
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
