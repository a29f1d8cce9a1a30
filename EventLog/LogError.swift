/// Where a log is damaged: the first bad line's seq (its position in the chain, which is
/// what it should hold) and byte offset, and what is wrong with it.
public struct LogDamage: Error, Equatable, Sendable, CustomStringConvertible {
    /// The seq the bad line should have: its 1-based line number.
    public var seq: Int
    /// Byte offset of the line's first byte in the file.
    public var offset: Int
    /// What is wrong.
    public var reason: String

    public init(seq: Int, offset: Int, reason: String) {
        self.seq = seq
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "seq \(seq) at byte offset \(offset): \(reason)" }
}

/// Everything that can go wrong with a log, each with a message that says what to do.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A record the format cannot hold.
    case invalidRecord(String)
    /// Optimistic concurrency: the caller expected another head.
    case conflict(expected: Int, actual: Int)
    /// A line other than a torn tail is damaged. Writes are refused.
    case damaged(LogDamage, path: String)
    /// Damage was found earlier and recorded; nothing is read or written until the store is
    /// restored (and a full verification passes) or recovered.
    case damageRecorded(DamageNotice)
    /// An anchor published earlier is no longer in the chain.
    case anchorMismatch(seq: Int, expected: SHA256Digest, found: SHA256Digest?, head: Int, path: String)
    /// The log file is missing or empty.
    case notInitialized(path: String)
    /// The first line declares a format this build does not read.
    case unsupportedFormat(found: String, path: String)
    /// Another process held the lock for longer than the caller waits.
    case lockTimeout(path: String, seconds: Double)
    /// A system call failed.
    case system(SystemError)
    /// A seq outside the log was asked for.
    case seqOutOfRange(requested: Int, head: Int)

    public var description: String {
        switch self {
        case .invalidRecord(let reason):
            return "invalid record: \(reason)"
        case .conflict(let expected, let actual):
            return
                "the log moved on while this command was deciding (expected head seq \(expected), found \(actual)); nothing was written, run the command again"
        case .damaged(let damage, let path):
            return
                "\(path) is damaged at \(damage). Nothing was written; writes are refused until the store is restored"
        case .damageRecorded(let notice):
            return "the store was found damaged earlier: \(notice). Nothing was read or written"
        case .anchorMismatch(let seq, let expected, let found, let head, let path):
            if let found {
                return
                    "anchor \(seq):\(expected.hex) does not match \(path): seq \(seq) now has hash \(found.hex), so the log was rewritten at or before seq \(seq)"
            }
            return "anchor \(seq):\(expected.hex) is beyond the head of \(path) (seq \(head)), so the log was truncated"
        case .notInitialized(let path):
            return "\(path) holds no log yet"
        case .unsupportedFormat(let found, let path):
            return
                "\(path) uses log format \(found), but this build of tandem reads format \(logFormatVersion) only; use a tandem version that supports it"
        case .lockTimeout(let path, let seconds):
            return
                "another tandem process is writing to the store (\(path) is locked); waited \(Self.format(seconds)) s. Try again when it has finished, or raise TANDEM_LOCK_TIMEOUT"
        case .system(let error):
            return error.description
        case .seqOutOfRange(let requested, let head):
            return "seq \(requested) is not in the log, whose head is seq \(head)"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// Whether this error means the log itself is damaged (exit code 65 on the command line).
    public var isDamage: Bool {
        switch self {
        case .damaged, .damageRecorded, .anchorMismatch, .unsupportedFormat: true
        default: false
        }
    }
}

extension LogError {
    init(_ error: SystemError) { self = .system(error) }
}
