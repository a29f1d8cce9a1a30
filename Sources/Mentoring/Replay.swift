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
    /// Folds in one event that the window admits and no void has removed.
    mutating func apply(_ recorded: RecordedEvent, profile: Profile?)
}

extension ProgrammeState: EventFold {}

/// Signed-up participants' profiles from the vault, by ref.
public struct ProfileDirectory: Sendable {
    public private(set) var profiles: [String: Profile] = [:]

    public init() {}

    /// Reads every profile line of the vault from `offset` on (other payloads are skipped
    /// without being parsed).
    public mutating func load(_ vault: Vault, from offset: Int = 0) throws {
        let marker = Array("\"payload\":{\"kind\":\"profile\"".utf8)
        guard FileSystem.kind(of: vault.path).exists else { return }
        let fd = try FileDescriptor(path: vault.path, flags: O_RDONLY)
        let size = try fd.size()
        guard offset < size else { return }
        let bytes = try fd.read(count: size - offset, at: offset)
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                guard let newline = raw[start...].firstIndex(of: 0x0A) else { break }
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
                start = newline + 1
                guard Self.contains(line, marker), let object = (try? JSONScanner.parse(line))?.objectValue,
                      let ref = object["ref"]?.stringValue,
                      let profile = object["payload"]?.objectValue.flatMap(PersonalPayload.init(json:))?.profile else { continue }
                profiles[ref] = profile
            }
        }
    }

    /// Adds a profile (a signup decided in this process).
    public mutating func insert(_ profile: Profile, ref: String) { profiles[ref] = profile }

    /// Forgets profiles (after an erasure).
    public mutating func remove(_ refs: some Sequence<String>) { for ref in refs { profiles[ref] = nil } }

    /// The profile a signup points to, if the vault still has it.
    public subscript(_ reference: PersonalReference) -> Profile? { profiles[reference.ref] }

    private static func contains(_ line: UnsafeRawBufferPointer, _ marker: [UInt8]) -> Bool {
        guard line.count >= marker.count else { return false }
        // The writer puts ref (r- and 16 hex) and nonce (64 hex) first: the marker sits near
        // the start, but search the whole line to stay correct for any writer.
        return ByteSearch.contains(marker, in: line)
    }
}

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
        _ source: any LineSource, profiles: ProfileDirectory, window: ReplayWindow = .everything,
        knownVoids: [Int: Int] = [:], make: () -> Fold
    ) throws -> Result<Fold> {
        var voided = knownVoids
        while true {
            var fold = make()
            var head = LogHead.empty
            var restart = false
            var collecting = false
            let voidMarker = Array("\"type\":\"EventVoided\"".utf8)
            do {
                try source.forEachLine(from: 1, after: nil) { line in
                    if let limit = window.knownAt, line.seq > limit { throw StopReading() }
                    if let cutoff = window.recordedBy, Self.recordedAfter(line, cutoff) { return }
                    head = LogHead(seq: line.seq, hash: line.hash)
                    if collecting {
                        // Only voids matter now; skip every other line without decoding it.
                        let isVoid = ByteSearch.contains(voidMarker, in: line.bytes)
                        guard isVoid, case .eventVoided(let v) = try EventDecoder.decode(line).event else { return }
                        voided[v.seq] = line.seq
                        return
                    }
                    let recorded = try EventDecoder.decode(line)
                    if case .eventVoided(let v) = recorded.event, voided[v.seq] == nil {
                        voided[v.seq] = line.seq
                        restart = true
                        collecting = true
                        return
                    }
                    guard voided[line.seq] == nil, window.admits(recorded.event.businessDate) else { return }
                    var profile: Profile? = nil
                    if case .participantSignedUp(let e) = recorded.event { profile = profiles[e.personal] }
                    fold.apply(recorded, profile: profile)
                }
            } catch is StopReading {}
            if !restart { return Result(fold: fold, head: head, voided: voided) }
        }
    }

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
    }

    /// Resumes a fold from a checkpoint, reading only the lines after it (linked to its
    /// head, so a checkpoint that does not match the log is caught). A void of an event the
    /// checkpoint already folded in makes it fall back to a full replay.
    public static func fold<Fold: EventFold>(
        _ source: any LineSource, profiles: ProfileDirectory, resumingFrom checkpoint: Checkpoint<Fold>?,
        make: () -> Fold
    ) throws -> Result<Fold> {
        guard let checkpoint, checkpoint.head.seq > 0 else { return try fold(source, profiles: profiles, make: make) }
        var fold = checkpoint.fold
        var head = checkpoint.head
        var voided = checkpoint.voided
        var retroactive = false
        do {
            try source.forEachLine(from: checkpoint.head.seq + 1, after: checkpoint.head) { line in
                let recorded = try EventDecoder.decode(line)
                head = LogHead(seq: line.seq, hash: line.hash)
                if case .eventVoided(let v) = recorded.event, voided[v.seq] == nil {
                    voided[v.seq] = line.seq
                    if v.seq < line.seq { retroactive = true; throw StopReading() }
                }
                guard voided[line.seq] == nil else { return }
                var profile: Profile? = nil
                if case .participantSignedUp(let e) = recorded.event { profile = profiles[e.personal] }
                fold.apply(recorded, profile: profile)
            }
        } catch is StopReading {}
        if retroactive { return try Self.fold(source, profiles: profiles, knownVoids: voided, make: make) }
        return Result(fold: fold, head: head, voided: voided)
    }

    struct StopReading: Error {}

    /// Whether a line was recorded after `cutoff` (reads just its `at`, which follows
    /// `{"seq":N,"at":"` at a known offset).
    static func recordedAfter(_ line: LogLine, _ cutoff: Timestamp) -> Bool {
        let start = 7 + String(line.seq).utf8.count + 7
        guard start + 20 <= line.bytes.count,
              let at = Timestamp(rfc3339: UnsafeRawBufferPointer(rebasing: line.bytes[start..<(start + 20)])) else { return false }
        return at > cutoff
    }
}
