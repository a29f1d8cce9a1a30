import Mentoring

/// A personal attribute to break reports down by. The values come from the vault; an
/// erased person's segment can no longer be told, and shows as "erased".
public enum SegmentKey: String, Sendable, CaseIterable {
    case unit, level, generation, gender, role
    /// The programme: cohorts side by side (`stats --by programme`).
    case programme

    /// The person's group under this key.
    public func value(of person: PersonView) -> String {
        value(role: person.role, programme: person.programme, traits: person.traits)
    }

    /// The group of someone with this role, programme and traits (nil: erased), as
    /// `value(of:)` gives it: the one place that says what a group is called.
    func value(role: Role, programme: ProgrammeID, traits: Traits?) -> String {
        if self == .role { return role.rawValue }
        if self == .programme { return programme.rawValue }
        guard let traits else { return "erased" }
        switch self {
        case .unit: return traits.unit
        case .level: return "level \(traits.level)"
        case .generation: return traits.generation.rawValue
        case .gender: return traits.gender ?? "not given"
        case .role: return role.rawValue
        case .programme: return programme.rawValue
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
    public func admits(_ person: PersonView) -> Bool { admits(label: key.value(of: person)) }

    /// Whether the people of the group named `label` (as `SegmentKey.value(of:)` names it)
    /// are in the segment: the one place that says what a segment admits, for views and rows.
    func admits(label: String) -> Bool {
        let label = label.lowercased(), wanted = value.lowercased()
        return label == wanted || (key == .level && label == "level " + wanted)
    }

    public var description: String { "\(key.rawValue)=\(value)" }
}

/// The programmes a query covers: the one asked for (or the only one), or, for a comparison
/// by programme without `--programme`, all of them.
public struct QueryScope: Sendable {
    public var programmes: [Programme]
    /// What the payload's `programme` says: the id, or `all`.
    public var label: String
    public var ids: Set<ProgrammeID> { Set(programmes.map(\.id)) }
    /// The strictest threshold of the programmes covered.
    public var k: Int { programmes.map(\.minGroupSize).max() ?? 5 }
    /// The longest cadence of the programmes covered.
    public var cadenceDays: Int { programmes.map(\.cadenceDays).max() ?? 30 }
}

extension QueryInput {
    /// The scope of a query with `--programme asked` and `--by by`.
    /// - Throws: `QueryError` as `programme(_:)` does.
    public func scope(_ asked: ProgrammeID?, by: SegmentKey?) throws(QueryError) -> QueryScope {
        if by == .programme, asked == nil {
            guard !model.programmeOrder.isEmpty else { throw .noProgramme }
            return QueryScope(
                programmes: model.programmeOrder.compactMap { model.programmes[$0] },
                label: model.programmeOrder.count == 1 ? model.programmeOrder[0].rawValue : "all")
        }
        let programme = try programme(asked)
        return QueryScope(programmes: [programme], label: programme.id.rawValue)
    }

    /// The people of a scope, in the order they signed up in: for figures that do not
    /// depend on the order (counts, sums of record keys, survival curves), where sorting a
    /// million ids was a third of `dropouts` on the 10M store.
    public func peopleInAnyOrder(in scope: QueryScope) -> [PersonView] {
        model.peopleRows.rows(in: scope.ids).map { model.peopleRows.view($0, tandems: model.tandemRows) }
    }

    /// The people of a scope, in id order.
    public func people(in scope: QueryScope) -> [PersonView] {
        let ids = scope.ids
        return scope.programmes.count == 1
            ? model.people(in: scope.programmes[0].id)
            : model.people.values.filter { ids.contains($0.programme) }.sorted { $0.id < $1.id }
    }
}
