import EventLog
import Mentoring
import Synchronization

/// Each log line's business day and recording day, by seq, and every void: what a
/// time-travel query needs to know about the log before it reads any of it
/// (`cache/timeline.snapshot`).
///
/// With it a query for a window (`--as-of`, `--known-at`) sees:
/// - how far the log is admitted line by line from the start, which says which checkpoint
///   it may resume from;
/// - which later lines it must still read: the events recorded late about an early day;
/// - which events the window's voids remove, before folding anything.
///
/// Layout: a snapshot file of kind `timeline` with two sections.
/// - `days`: per seq from 1, two 16-bit little-endian words, the business day and the
///   recording day, each as days since 1970-01-01 plus one. 0 means "no such day": an
///   undated event, or `LogCreated`, which no fold reads; the window always admits it.
///   0xFFFF means "not known here": a line the byte reader could not read, or a day outside
///   1970–2149; the window then asks the line itself.
/// - `voids`: per void, its seq, the seq it voids and when it was recorded (seconds), as
///   varints.
///
/// It holds days and seqs only, no personal data; `forget` drops it with the rest of `cache/`.
public struct Timeline: Sendable {
    static let kind = "timeline"
    static let schema = 1
    /// A word for "no day: always admitted".
    static let undated: UInt16 = 0
    /// A word for "unknown: read the line".
    static let unknown: UInt16 = 0xFFFF

    /// Four bytes per seq, seq 1 first.
    private(set) var days: [UInt8]
    /// The log's voids: (void's seq, voided seq, recorded at).
    private(set) var voids: [(seq: Int, target: Int, at: Timestamp?)]
    /// The last line covered.
    private(set) var head: LogHead

    /// How many lines it covers.
    private(set) var count = 0
    /// Whether it holds the lines' days; a timeline kept for its voids alone
    /// (`withoutDays()`) does not, and cannot judge a line.
    private(set) var hasDays = true

    /// The timeline file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/timeline.snapshot")
    }

    /// An empty timeline, before seq 1.
    init() {
        days = []
        voids = []
        head = .empty
    }

    /// A timeline of these entries, seq 1 first (the business-day word in each one's low
    /// half, the recording-day word in its high half), without voids: to test the scans.
    init(entries: [UInt32]) {
        self.init()
        days = entries.flatMap { entry in (0..<4).map { UInt8(truncatingIfNeeded: entry >> (8 * $0)) } }
        count = entries.count
    }

    /// The business-day and recording-day words of seq `seq` (1 ≤ seq ≤ count).
    @inline(__always)
    func words(_ seq: Int) -> (business: UInt16, recorded: UInt16) {
        assert(hasDays, "a timeline without its days judges no line")
        let i = (seq - 1) * 4
        return (UInt16(days[i]) | UInt16(days[i + 1]) << 8, UInt16(days[i + 2]) | UInt16(days[i + 3]) << 8)
    }

    static func word(day: Int?) -> UInt16 {
        guard let day else { return unknown }
        guard day >= 0, day < Int(unknown) - 1 else { return unknown }
        return UInt16(day + 1)
    }

    /// The same timeline without the lines' days: its voids, head and count, for a holder
    /// that judges no line (a window without a recording cut-off narrows a session listing
    /// with the voids alone; the days were 47 MB of its peak on the 10M store).
    func withoutDays() -> Timeline {
        var lean = self
        lean.days = []
        lean.hasDays = false
        return lean
    }

    /// Adds the next line.
    /// - Throws: `EventDecodingError` for a void that cannot be decoded.
    mutating func append(_ line: LogLine, decoder: inout EventDecoder) throws {
        precondition(line.seq == count + 1 && hasDays, "lines are added in order, to a timeline with its days")
        var business = Self.undated, recorded = Self.undated
        let kind = Replay.kind(of: line)
        if kind != .logCreated {
            let at = Replay.recordedAt(line)
            recorded = Self.word(day: at.map { Int(($0.secondsSinceEpoch).floorDivided(by: 86400)) })
            switch kind {
            case .dated(let day): business = Self.word(day: day)
            case .unreadable: business = Self.unknown
            case .void:
                if case .eventVoided(let v) = try decoder.decode(line).event { voids.append((line.seq, v.seq, at)) }
            case .undated, .logCreated: break
            }
        }
        days.append(UInt8(truncatingIfNeeded: business))
        days.append(UInt8(truncatingIfNeeded: business >> 8))
        days.append(UInt8(truncatingIfNeeded: recorded))
        days.append(UInt8(truncatingIfNeeded: recorded >> 8))
        count += 1
        head = LogHead(seq: line.seq, hash: line.hash)
    }

    /// How a window treats one line, as far as the timeline can tell.
    enum Admission {
        /// The window admits it for sure.
        case admitted
        /// The window leaves it out for sure.
        case leftOut
        /// Only the line itself can tell.
        case unsure
    }

    /// How `window` treats the line `seq` (its `knownAt` is not looked at).
    func admission(_ seq: Int, _ window: ReplayWindow) -> Admission {
        admission(seq, Judge(window))
    }

    /// How the window `judge` was made for treats the line `seq`.
    @inline(__always)
    func admission(_ seq: Int, _ judge: Judge) -> Admission {
        let (business, recorded) = words(seq)
        return judge.admission(business: business, recorded: recorded)
    }

    /// A window's bounds as day words, worked out once for the millions of lines a plan or
    /// a listing judges (the cut-off's day took a division per line).
    struct Judge: Sendable {
        /// The as-of day (nil: none).
        let asOfDay: Int?
        /// The cut-off's day (nil: none), and whether the cut-off is the end of that day.
        let cutoffDay: Int?
        let endOfDay: Bool

        /// The highest business-day and recording-day words the window admits for sure:
        /// every word above (the unknown word included) is left out or unsure, and 0 (no
        /// day) is never above. 0xFFFF: every word is admitted.
        let highestBusiness: UInt32, highestRecorded: UInt32

        init(_ window: ReplayWindow) {
            let asOfDay = window.asOf?.dayNumber
            let cutoffDay = window.recordedBy.map { Int($0.secondsSinceEpoch.floorDivided(by: 86400)) }
            let endOfDay = window.recordedBy.map { $0.secondsSinceEpoch.floorMod(86400) == 86399 } ?? false
            (self.asOfDay, self.cutoffDay, self.endOfDay) = (asOfDay, cutoffDay, endOfDay)
            // A day's word is the day + 1: admitted for sure up to the as-of day's word, and
            // up to the cut-off day's word only when the cut-off is the end of that day.
            func highest(_ word: Int?) -> UInt32 {
                guard let word else { return 0xFFFF }
                return UInt32(min(max(word, 0), Int(Timeline.unknown) - 1))
            }
            highestBusiness = highest(asOfDay.map { $0 + 1 })
            highestRecorded = highest(cutoffDay.map { endOfDay ? $0 + 1 : $0 })
        }

        /// Whether the window admits for sure a line whose timeline entry is `entry` (its
        /// business-day word in the low half, its recording-day word in the high half): what
        /// `admission` says is `.admitted`, in two comparisons.
        @inline(__always)
        func admitsForSure(_ entry: UInt32) -> Bool {
            entry & 0xFFFF <= highestBusiness && entry >> 16 <= highestRecorded
        }

        /// How the window treats a line with these words.
        @inline(__always)
        func admission(business: UInt16, recorded: UInt16) -> Admission {
            var unsure = false
            if let asOfDay, business != Timeline.undated {
                if business == Timeline.unknown {
                    unsure = true
                } else if Int(business) - 1 > asOfDay {
                    return .leftOut
                }
            }
            if let cutoffDay, recorded != Timeline.undated {
                if recorded == Timeline.unknown {
                    unsure = true
                } else if Int(recorded) - 1 > cutoffDay {
                    return .leftOut
                } else if Int(recorded) - 1 == cutoffDay && !endOfDay {
                    unsure = true
                }
            }
            return unsure ? .unsure : .admitted
        }
    }

    /// The first seq from `seq` on (up to `limit`) that `window` does not admit for sure,
    /// or `limit + 1`.
    /// - Complexity: O(lines passed), reading four bytes each.
    func firstNotAdmitted(from seq: Int, through limit: Int, _ window: ReplayWindow) -> Int {
        let judge = Judge(window)
        return days.withUnsafeBytes { raw in
            var s = max(seq, 1)
            let end = min(limit, count)
            // Sixteen entries at a time without a branch each (most of the log is admitted:
            // the plan passes ten million entries), one by one in the block that has one
            // not admitted.
            let block = 16
            while s + block - 1 <= end {
                var business: UInt32 = 0, recorded: UInt32 = 0
                for i in 0..<block {
                    let entry = UInt32(
                        littleEndian: raw.loadUnaligned(fromByteOffset: (s - 1 + i) * 4, as: UInt32.self))
                    business = max(business, entry & 0xFFFF)
                    recorded = max(recorded, entry >> 16)
                }
                guard judge.admitsForSure(business | recorded << 16) else { break }
                s += block
            }
            while s <= end {
                let entry = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (s - 1) * 4, as: UInt32.self))
                if !judge.admitsForSure(entry) { return s }
                s += 1
            }
            return s
        }
    }

    /// The lines `from...through` that `window` does not leave out for sure, as runs.
    /// - Complexity: O(lines), reading four bytes each.
    func runsNotLeftOut(from seq: Int, through limit: Int, _ window: ReplayWindow) -> [ClosedRange<Int>] {
        let judge = Judge(window)
        var runs: [ClosedRange<Int>] = []
        days.withUnsafeBytes { raw in
            var s = max(seq, 1)
            var start = 0  // the open run's first seq (0: none)
            while s <= min(limit, count) {
                let word = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (s - 1) * 4, as: UInt32.self))
                let admission = judge.admission(
                    business: UInt16(truncatingIfNeeded: word), recorded: UInt16(truncatingIfNeeded: word >> 16))
                if admission == .leftOut {
                    if start > 0 { runs.append(start...(s - 1)) }
                    start = 0
                } else if start == 0 {
                    start = s
                }
                s += 1
            }
            if start > 0 { runs.append(start...(s - 1)) }
        }
        return runs
    }

    // MARK: The file

    /// The cached timeline of the store's log, extended by the lines after it up to
    /// `head`; nil when there is none that fits the log (a replay then builds one on the
    /// way, see `Builder`). It is written back when extended by at least `rewriteAfter`
    /// lines (a few new lines are cheaper to read again next time than a rewrite of the file).
    /// - Throws: `LogError` from reading the log; `EventDecodingError` for an unreadable void.
    static func cached(_ store: Store, head: LogHead, rewriteAfter: Int = 50_000) throws -> Timeline? {
        let file = file(store)
        guard let header = try? file.header(kind: kind, schema: schema),
            header.head.seq <= head.seq,
            (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: header.vaultSize)) != nil,
            var timeline = try? read(file, header: header, through: head.seq)
        else { return nil }
        let known = timeline.count
        guard known < head.seq else { return timeline }
        var decoder = EventDecoder()
        try store.events.forEachLine(from: known + 1, after: timeline.head) { line in
            try timeline.append(line, decoder: &decoder)
        }
        if timeline.count - known >= rewriteAfter {
            timeline.save(store)
        }
        return timeline
    }

    /// The timeline read while a caller keeps it, for the next question about the same head:
    /// a window's plan and its session listing both ask (reading it again took 0.15 s on the
    /// 10M store). It is let go when the keeping ends: held for no one, it added its 47 MB
    /// to the peak of every time-travel query.
    final class Memo: Sendable {
        private let state = Mutex<(keepers: Int, keepersOfDays: Int, last: Timeline?)>((0, 0, nil))

        /// `Timeline.cached(store, head:)`, read once per head while `keep` runs; without
        /// `needsDays`, a timeline kept without its days does.
        /// - Throws: as `Timeline.cached`.
        func timeline(_ store: Store, head: LogHead, needsDays: Bool = true) throws -> Timeline? {
            if let kept = state.withLock({ $0.last }), kept.head == head, kept.hasDays || !needsDays { return kept }
            let found = try Timeline.cached(store, head: head)
            state.withLock {
                guard $0.keepers > 0 else { return }
                $0.last = $0.keepersOfDays > 0 ? found : found?.withoutDays()
            }
            return found
        }

        /// Runs `body`, keeping each timeline read meanwhile for the next question; with
        /// `days` false, only its voids, head and count (enough to narrow a listing for a
        /// window without a recording cut-off).
        func keep<R>(days: Bool = true, _ body: () throws -> R) rethrows -> R {
            state.withLock {
                $0.keepers += 1
                if days { $0.keepersOfDays += 1 }
            }
            defer {
                state.withLock {
                    $0.keepers -= 1
                    if days { $0.keepersOfDays -= 1 }
                    if $0.keepers == 0 { $0.last = nil }
                }
            }
            return try body()
        }
    }

    /// Writes the timeline to the store's cache; a cache that cannot be written is left as
    /// it is (the next query builds the timeline again).
    func save(_ store: Store) {
        guard count > 0, let end = try? SnapshotFile.logEnd(of: head.seq, in: store.events) else { return }
        try? write(to: Self.file(store), logEnd: end)
    }

    /// Builds a timeline from the lines a replay reads (`Replay.LineObserver`, on the
    /// replay's reading thread): the first time-travel query pays no pass of its own.
    final class Builder: @unchecked Sendable {
        // Touched by the reading thread only until the replay returns, then by the caller.
        private(set) var timeline = Timeline()
        private var decoder = EventDecoder()

        /// Adds the line if it is the next one (a replay that starts again shows lines twice).
        func observe(_ line: LogLine) throws {
            guard line.seq == timeline.count + 1 else { return }
            try timeline.append(line, decoder: &decoder)
        }
    }

    func write(to file: SnapshotFile, logEnd: Int) throws {
        precondition(hasDays, "a timeline without its days is never written")
        var w = SnapshotWriter(capacity: voids.count * 12 + 16)
        w.write(UInt64(voids.count))
        for void in voids {
            w.write(void.seq)
            w.write(void.target)
            w.write(void.at.map { Int($0.secondsSinceEpoch) })
        }
        try file.write(
            kind: Self.kind, schema: Self.schema, head: head, logEnd: logEnd, vaultSize: 0,
            sections: [("days", days), ("voids", w.bytes)], chunked: ["days"])
    }

    static func read(
        _ file: SnapshotFile, header: SnapshotFile.Header, through head: Int = 0
    ) throws(SnapshotError) -> Timeline {
        var timeline = Timeline()
        // Room for the lines up to `head`, which `cached` appends: growing the array would
        // copy all of it.
        timeline.days = try file.section("days", of: header, capacity: max(head, header.head.seq) * 4)
        guard timeline.days.count == header.head.seq * 4 else { throw .malformed("days that do not cover the log") }
        timeline.count = header.head.seq
        let voids = try file.section("voids", of: header)
        timeline.voids = try voids.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) -> [(seq: Int, target: Int, at: Timestamp?)] in
                var r = SnapshotReader(raw)
                var out: [(seq: Int, target: Int, at: Timestamp?)] = []
                for _ in 0..<(try r.readCount()) {
                    let seq = try r.readInt(), target = try r.readInt()
                    let at = try r.readOptionalInt().map { Timestamp(secondsSinceEpoch: Int64($0)) }
                    guard seq >= 1, seq <= header.head.seq, target >= 1, target < seq else {
                        throw .malformed("a void outside the log")
                    }
                    out.append((seq, target, at))
                }
                guard r.isAtEnd else { throw .malformed("bytes after the voids") }
                return out
            }
        }.get()
        timeline.head = header.head
        return timeline
    }
}

extension Int64 {
    fileprivate func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && self < 0) ? q - 1 : q
    }

    fileprivate func floorMod(_ d: Int64) -> Int64 {
        let m = self % d
        return m < 0 ? m + d : m
    }
}
