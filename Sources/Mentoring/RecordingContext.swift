import EventLog

/// Who records, for whom, and with which idempotency key.
public struct RecordingContext: Sendable, Equatable {
    public var actor: String
    public var onBehalfOf: String?
    public var key: String?
    /// Set when a participant records for themselves: they may record sessions and goals of
    /// their own active tandem, and nothing else.
    public var participant: ParticipantID?

    public init(actor: String, onBehalfOf: String? = nil, key: String? = nil) {
        self.actor = actor
        self.onBehalfOf = onBehalfOf
        self.key = key
    }
}

/// How idempotency keys are kept: as `sha256:` and the hex SHA-256 of the key a client sent.
/// Logs written before keys were hashed hold them as sent; they are hashed when read, so
/// that a retry matches either way.
public enum IdempotencyKey {
    /// The stored form of `key` (a stored form stays as it is).
    public static func stored(_ key: String) -> String {
        key.hasPrefix("sha256:") && key.utf8.count == 71 ? key : "sha256:" + SHA256.hash(key).hex
    }
}

extension RecordingContext {
    /// Checks who records: the same rules whether the values came from flags, the
    /// environment, or a line of a batch file.
    /// - Throws: `DomainError.invalidValue` for an empty or overlong actor, or control
    ///   characters (which a terminal would obey when the audit prints them).
    public func validate() throws(DomainError) {
        let trimmed = actor.trimmed
        guard !trimmed.isEmpty, trimmed.count <= 64,
            !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw .invalidValue(
                field: "actor", value: String(actor.prefix(64)), expected: "a name of 1 to 64 printable characters")
        }
        if let onBehalfOf { try Field.text("on-behalf-of", onBehalfOf, maximum: 200) }
    }
}

/// What recording a command did.
public struct RecordedOutcome: Sendable, Equatable {
    /// The seq of the event (for a retry: of the original event).
    public var seq: Int
    public var type: String
    /// The id of the thing recorded: a participant, a tandem, `tandem/goal`, a seq.
    public var id: String
    /// True when an idempotency key made this a retry: nothing was appended.
    public var duplicate: Bool
    /// Things worth a second look that break no rule (a programme shorter than six months).
    public var advisories: [String] = []
}

/// One command of a batch was refused: which one, and why. Nothing of the batch was appended.
public struct BatchFailure: Error, Sendable, CustomStringConvertible {
    /// 0-based index of the command in the batch.
    public var index: Int
    public var error: any Error

    public var description: String { "command \(index + 1): \(error)" }
}
