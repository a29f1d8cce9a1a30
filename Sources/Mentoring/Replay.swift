import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Which part of history a fold sees: time travel for queries.
public struct ReplayWindow: Sendable, Equatable {
    /// Only events recorded up to this seq (`--known-at`): "what did the log say then?"
    public var knownAt: Int?
    /// Only events about business days up to this one (`--as-of`), however late recorded.
    public var asOf: BusinessDate?
    /// Only events recorded up to this instant (`--known-at DATE`: the end of that day).
    public var recordedBy: Timestamp?

    public init(knownAt: Int? = nil, asOf: BusinessDate? = nil, recordedBy: Timestamp? = nil) {
        self.knownAt = knownAt
        self.asOf = asOf
        self.recordedBy = recordedBy
    }

    /// The whole log.
    public static let everything = ReplayWindow()

    /// Whether an event about `date` falls inside the window (events about no day always do).
    public func admits(_ date: BusinessDate?) -> Bool {
        guard let asOf, let date else { return true }
        return date <= asOf
    }
}

/// A read model or the decider's state: an initial value plus `apply`.
public protocol EventFold {
    /// Folds in one event that the window admits and no void has removed. `traits` are the
    /// signed-up participant's, from the vault (nil for other events, or once erased).
    mutating func apply(_ recorded: RecordedEvent, traits: Traits?)

    /// What applying `recorded` will look up, worked out on the reading thread (which
    /// table, and the key's hash); by default nothing.
    static func prefetchHint(for recorded: RecordedEvent) -> PrefetchHint

    /// Asks the CPU for what applying an event with this hint will read, a few events
    /// before it is applied (`stage` `.slot` further ahead, then `.row`). It changes
    /// nothing; by default it does nothing. Mutating only so that a call on a fold held by
    /// a closure works on the fold in place: a non-mutating call copied the whole read
    /// model (every table retained and released) for each hint.
    mutating func prefetch(_ hint: PrefetchHint, stage: PrefetchStage)
}

/// What a fold will look up for an event (`EventFold.prefetchHint(for:)`): a table of the
/// fold's own numbering, and the key's hash in it.
public struct PrefetchHint: Sendable {
    /// The fold's table (0: none).
    public var table: UInt8
    public var hash: Int

    public init(table: UInt8, hash: Int) {
        self.table = table
        self.hash = hash
    }

    /// Nothing to look up.
    public static let none = PrefetchHint(table: 0, hash: 0)
}

/// How far ahead a fold is told of an event (`EventFold.prefetch`): far enough for the
/// first memory read of its lookup to arrive, then for the one that depends on it.
public enum PrefetchStage: Sendable {
    /// `distance` events ahead: what the hash alone finds (an index slot).
    case slot
    /// Half as far: what the slot, at hand by now, points to (a row).
    case row

    /// How many events ahead `.slot` comes.
    public static let distance = 16
}

extension EventFold {
    public static func prefetchHint(for recorded: RecordedEvent) -> PrefetchHint { .none }
    public mutating func prefetch(_ hint: PrefetchHint, stage: PrefetchStage) {}

    /// Folds in one event, with the signed-up participant's whole profile (tests, the demo).
    public mutating func apply(_ recorded: RecordedEvent, profile: Profile?) {
        apply(recorded, traits: profile.map(Traits.init))
    }
}

extension ProgrammeState: EventFold {}

/// Folds a log into an `EventFold`, skipping voided events.
///
/// A void usually comes after the event it voids, which has then already been folded. The
/// fold cannot undo an event, so the first void that targets an already folded event makes
/// the replay collect every void in the rest of the log and start again, once, knowing them
/// all. Voids are rare; the common case is one pass.
public enum Replay {
    /// The result: the fold, the head it covers, and the voids it honoured.
    public struct Result<Fold: EventFold> {
        public var fold: Fold
        public var head: LogHead
        public var voided: [Int: Int]
    }

    /// Replays `source` from seq 1.
    /// - Throws: `LogError` (a broken chain), `EventDecodingError` (an unreadable event).
    public static func fold<Fold: EventFold>(
        _ source: any LineSource, profiles: TraitsDirectory, window: ReplayWindow = .everything,
        knownVoids: [Int: Int] = [:], observe: LineObserver? = nil, make: () -> Fold
    ) throws -> Result<Fold> {
        try fold(
            source, loadingProfiles: { profiles }, window: window, knownVoids: knownVoids, observe: observe, make: make)
    }

    /// Sees every line a replay reads, on the reading thread, before the window filters it
    /// (a replay that starts again after a void shows lines a second time).
    public typealias LineObserver = @Sendable (LogLine) throws -> Void

    /// Replays `source` from seq 1, loading the profiles' traits (the vault) on this
    /// thread while the first lines are read and decoded on another.
    /// - Throws: `LogError` (a broken chain), `EventDecodingError` (an unreadable event),
    ///   and what `loadingProfiles` throws.
    public static func fold<Fold: EventFold>(
        _ source: any LineSource, loadingProfiles: () throws -> TraitsDirectory, window: ReplayWindow = .everything,
        knownVoids: [Int: Int] = [:], observe: LineObserver? = nil, make: () -> Fold
    ) throws -> Result<Fold> {
        var voided = knownVoids
        var profiles: TraitsDirectory?
        while true {
            var fold = make()
            var restart = false
            var collecting = false
            // The lines are read and decoded on another thread while this one folds.
            let head = try pipelined(
                source, window: window, observe: observe,
                beforeFolding: {
                    if profiles == nil { profiles = try loadingProfiles() }
                }, hints: Fold.prefetchHint(for:), prefetch: { fold.prefetch($0, stage: $1) }
            ) { recorded in
                if collecting {
                    // Only voids matter now.
                    if case .eventVoided(let v) = recorded.event { voided[v.seq] = recorded.seq }
                    return
                }
                if case .eventVoided(let v) = recorded.event, voided[v.seq] == nil {
                    voided[v.seq] = recorded.seq
                    restart = true
                    collecting = true
                    return
                }
                guard voided[recorded.seq] == nil, window.admits(recorded.event.businessDate) else { return }
                var traits: Traits? = nil
                if let ref = recorded.event.profileReference { traits = profiles![ref] }
                fold.apply(recorded, traits: traits)
            }
            if !restart { return Result(fold: fold, head: head, voided: voided) }
        }
    }

    /// A void in the tail of a resumed fold that may not replay from the first line.
    public struct RetroactiveVoid: Error {}

    /// A fold paused at a head: enough to resume it.
    public struct Checkpoint<Fold: EventFold> {
        public var fold: Fold
        public var head: LogHead
        public var voided: [Int: Int]
        public init(fold: Fold, head: LogHead, voided: [Int: Int]) {
            self.fold = fold
            self.head = head
            self.voided = voided
        }

        /// The fold, head and voids, the checkpoint given up: the fold is then held once, and
        /// its first change copies nothing.
        consuming func parts() -> (fold: Fold, head: LogHead, voided: [Int: Int]) { (fold, head, voided) }
    }

    /// Resumes a fold from a checkpoint, reading only the lines after it (linked to its
    /// head, so a checkpoint that does not match the log is caught). A void of an event the
    /// checkpoint already folded in makes it fall back to a full replay.
    ///
    /// `profiles` needs only the profiles of signups after the checkpoint; a fall back to a
    /// full replay asks `allProfiles` (when given) for every one. With `replaysOnVoid` false
    /// it throws `RetroactiveVoid` instead (a fold of part of the model cannot replay).
    public static func fold<Fold: EventFold>(
        _ source: any LineSource, profiles: TraitsDirectory, resumingFrom checkpoint: consuming Checkpoint<Fold>?,
        allProfiles: (() throws -> TraitsDirectory)? = nil, replaysOnVoid: Bool = true, make: () -> Fold
    ) throws -> Result<Fold> {
        guard let checkpoint = consume checkpoint, checkpoint.head.seq > 0 else {
            return try fold(source, profiles: profiles, make: make)
        }
        // Moved out, not copied: a state held twice copies every chunk the tail touches
        // (hundreds of megabytes on the 10M store) on its first change.
        var (fold, start, voided) = checkpoint.parts()
        var head = HeadTracker(start)
        var retroactive = false
        var decoder = EventDecoder()
        do {
            try source.forEachLine(from: start.seq + 1, after: start) { line in
                let recorded = try decoder.decode(line)
                head.note(line)
                if case .eventVoided(let v) = recorded.event, voided[v.seq] == nil {
                    voided[v.seq] = line.seq
                    if v.seq < line.seq {
                        retroactive = true
                        throw StopReading()
                    }
                }
                guard voided[line.seq] == nil else { return }
                var traits: Traits? = nil
                if let ref = recorded.event.profileReference { traits = profiles[ref] }
                fold.apply(recorded, traits: traits)
            }
        } catch is StopReading {}
        if retroactive {
            guard replaysOnVoid else { throw RetroactiveVoid() }
            return try Self.fold(source, profiles: try allProfiles?() ?? profiles, knownVoids: voided, make: make)
        }
        return Result(fold: fold, head: head.head, voided: voided)
    }

    /// Resumes a fold from a checkpoint with only the lines of `runs` (ascending, all after the
    /// checkpoint), where the voids are known in advance: their targets are skipped and no
    /// void makes it start again. Lines the window leaves out are skipped: by `recordedBy`
    /// read from the bytes, by `asOf` once decoded (the runs come from a timeline that has
    /// judged every line's day already).
    ///
    /// `after` is called with each seq once it has been handled (folded or skipped), on
    /// this thread: a caller can save the fold there.
    /// - Throws: `LogError`, `EventDecodingError`, and what `after` throws.
    public static func fold<Fold: EventFold>(
        _ source: any LineSource, resumingFrom checkpoint: consuming Fold, runs: [ClosedRange<Int>],
        window: ReplayWindow, voided: [Int: Int], after: (Int, inout Fold) throws -> Void = { _, _ in }
    ) throws -> Fold {
        var fold = consume checkpoint
        var window = window
        window.knownAt = nil  // the runs are chosen already
        // The runs hold no line the timeline knows to be about a day after `asOf`, so the
        // reading side does not look for each line's day again (a twentieth of a tail fold);
        // a line whose day it could not tell is decoded and judged here.
        var reading = window
        reading.asOf = nil
        _ = try pipelined(
            source, window: reading, runs: runs, hints: Fold.prefetchHint(for:),
            prefetch: { fold.prefetch($0, stage: $1) }
        ) { recorded in
            if voided[recorded.seq] == nil, window.admits(recorded.event.businessDate) {
                fold.apply(recorded, traits: nil)
            }
            try after(recorded.seq, &fold)
        }
        return fold
    }

    /// The last line seen: its seq and hash digits are kept as bytes, and the digest is
    /// parsed once at the end rather than for every line.
    struct HeadTracker {
        private var seq = 0
        private var hex = [UInt8](repeating: 0, count: 64)
        private var known: LogHead?

        init(_ start: LogHead = .empty) {
            known = start
            seq = start.seq
        }

        mutating func note(_ line: LogLine) {
            seq = line.seq
            known = nil
            hex.withUnsafeMutableBytes { $0.copyMemory(from: line.hashHex) }
        }

        var head: LogHead {
            if let known { return known }
            return LogHead(seq: seq, hash: hex.withUnsafeBytes { SHA256Digest(hexBytes: $0)! })
        }
    }

    struct StopReading: Error {}

    /// The types whose `data` has an `"on"` date, the event's business date (checked
    /// against `ProgrammeEvent.businessDate` by a test).
    package static let datedTypes: [[UInt8]] = [
        SessionHeld.type, ParticipantSignedUp.type, TandemMatched.type, GoalSet.type, GoalReached.type,
        CheckInRecorded.type, PartnerSwapped.type, ParticipantWithdrew.type, TandemCompleted.type,
        MatchRunRecorded.type, ProgrammeClosed.type, ProfileUpdated.type,
    ].map { Array($0.utf8) }

    static let typeMarker: StaticString = ",\"type\":\""
    static let dataMarker: StaticString = "\",\"data\":{"
    static let onMarker: StaticString = "\"on\":\""

    /// Whether the line is an event of a known dated type about a day after `asOf`, read
    /// from its bytes without decoding it. A line this cannot read is not skipped (the
    /// decoder then judges it).
    package static func datedAfter(_ line: LogLine, _ asOf: BusinessDate) -> Bool {
        guard let day = businessDay(of: line) else { return false }
        return day > asOf.dayNumber
    }

    /// The business day (`data.on`) of an event of a known dated type, read from the line's
    /// bytes; nil for other types and for lines this cannot read. Text in a line is
    /// JSON-escaped, so `","type":"` and `"on":"` only occur as the envelope's and the
    /// data's own keys.
    package static func businessDay(of line: LogLine) -> Int? {
        guard let (name, dataAt) = typeName(of: line), isDated(name) else { return nil }
        return day(in: line, dataAt: dataAt)
    }

    /// The `"on"` date of the data that begins at `dataAt`.
    static func day(in line: LogLine, dataAt: Int) -> Int? {
        let bytes = line.bytes
        guard let onAt = ByteSearch.firstIndex(of: onMarker, in: bytes, from: dataAt),
            onAt + onMarker.utf8CodeUnitCount + 11 <= bytes.count,
            bytes[onAt + onMarker.utf8CodeUnitCount + 10] == UInt8(ascii: "\""),
            let day = CivilCalendar.parseDate(
                UnsafeRawBufferPointer(
                    rebasing: bytes[(onAt + onMarker.utf8CodeUnitCount)..<(onAt + onMarker.utf8CodeUnitCount + 10)]))
        else { return nil }
        return day
    }

    /// What a line is, as far as time travel cares, read from its bytes with one look at
    /// its type.
    package enum LineKind: Equatable {
        /// The log's first line, which no fold reads.
        case logCreated
        /// A void (decode it for its target).
        case void
        /// An event of a dated type, with its business day (nil if the bytes do not say).
        case dated(Int?)
        /// Any other event: it has no business day.
        case undated
        /// A line whose type the bytes do not show.
        case unreadable
    }

    /// The line's kind, from its bytes.
    package static func kind(of line: LogLine) -> LineKind {
        guard let (name, dataAt) = typeName(of: line) else { return .unreadable }
        if isDated(name) { return .dated(day(in: line, dataAt: dataAt)) }
        if ByteSearch.equals(name, "EventVoided") { return .void }
        if ByteSearch.equals(name, "LogCreated") { return .logCreated }
        return .undated
    }

    /// The line's type name and where its data begins, read from its bytes.
    static func typeName(of line: LogLine) -> (name: UnsafeRawBufferPointer, dataAt: Int)? {
        let bytes = line.bytes
        guard let typeAt = ByteSearch.firstIndex(of: typeMarker, in: bytes, from: 0) else { return nil }
        let nameStart = typeAt + typeMarker.utf8CodeUnitCount
        guard let dataAt = ByteSearch.firstIndex(of: dataMarker, in: bytes, from: nameStart) else { return nil }
        return (UnsafeRawBufferPointer(rebasing: bytes[nameStart..<dataAt]), dataAt)
    }

    static func isDated(_ name: UnsafeRawBufferPointer) -> Bool {
        datedTypes.contains(where: { type in
            type.count == name.count
                && type.withUnsafeBytes { memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }
        })
    }

    /// When the line was recorded (its `at`, which follows `{"seq":N,"at":"` at a known
    /// offset); nil if it cannot be read there.
    package static func recordedAt(_ line: LogLine) -> Timestamp? {
        let start = 7 + String(line.seq).utf8.count + 7
        guard start + 20 <= line.bytes.count else { return nil }
        return Timestamp(rfc3339: UnsafeRawBufferPointer(rebasing: line.bytes[start..<(start + 20)]))
    }

    /// Whether a line was recorded after `cutoff`; a line whose `at` cannot be read here is
    /// not skipped.
    package static func recordedAfter(_ line: LogLine, _ cutoff: Timestamp) -> Bool {
        guard let at = recordedAt(line) else { return false }
        return at > cutoff
    }
}
