import Mentoring

/// A personal attribute to break reports down by. The values come from the vault; an
/// erased person's segment can no longer be told, and shows as "erased".
public enum SegmentKey: String, Sendable, CaseIterable {
    case unit, level, generation, gender, role

    /// The person's group under this key.
    public func value(of person: PersonView) -> String {
        if self == .role { return person.role.rawValue }
        guard let traits = person.traits else { return "erased" }
        switch self {
        case .unit: return traits.unit
        case .level: return "level \(traits.level)"
        case .generation: return traits.generation.rawValue
        case .gender: return traits.gender ?? "not given"
        case .role: return person.role.rawValue
        }
    }
}

/// `--segment KEY=VALUE`: only the people in one segment.
public struct SegmentFilter: Sendable, Equatable, CustomStringConvertible {
    public var key: SegmentKey
    public var value: String

    /// Parses `unit=Legal`.
    public init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let key = SegmentKey(rawValue: String(parts[0])), !parts[1].isEmpty else { return nil }
        self.key = key
        value = String(parts[1])
    }

    /// Whether a person is in the segment. `level=3` and `level="level 3"` (the label the
    /// tables show) both select level 3.
    public func admits(_ person: PersonView) -> Bool {
        let label = key.value(of: person).lowercased(), wanted = value.lowercased()
        return label == wanted || (key == .level && label == "level " + wanted)
    }

    public var description: String { "\(key.rawValue)=\(value)" }
}
