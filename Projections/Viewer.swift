import Mentoring

/// Whose view a report is computed for. Roles are views, not access control: what protects
/// the store is the operating system (0700/0600). A role decides what a report prints.
public enum Viewer: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Records what happens; sees names, never notes.
    case coordinator
    /// Builds reports; sees aggregates only, suppressed below the programme's k.
    case analyst
    /// Checks the trail; sees pseudonymous ids, no personal data.
    case auditor
    /// A participant; sees their own tandems, their partner's name and their own notes.
    case participant(ParticipantID)

    /// Parses `coordinator`, `analyst`, `auditor` or `participant:ID`.
    public init?(_ text: String) {
        switch text {
        case "coordinator": self = .coordinator
        case "analyst": self = .analyst
        case "auditor": self = .auditor
        default:
            guard text.hasPrefix("participant:"), let id = ParticipantID(String(text.dropFirst("participant:".count)))
            else { return nil }
            self = .participant(id)
        }
    }

    public var description: String {
        switch self {
        case .coordinator: "coordinator"
        case .analyst: "analyst"
        case .auditor: "auditor"
        case .participant(let id): "participant:\(id)"
        }
    }

    /// Whether this is a participant's view.
    public var isParticipant: Bool {
        if case .participant = self { return true }
        return false
    }

    /// Whether this view may record events.
    public var mayRecord: Bool { self == .coordinator }
}
