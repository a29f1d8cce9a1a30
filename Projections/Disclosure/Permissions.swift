import EventLog
import Mentoring

/// The queries, for the permission check.
public enum QueryKind: String, Sendable {
    case tandems, atRisk, stats, statsBySegment, audit, goals, sessions
    case dropouts, dropoutsBySegment, suggest, due, report, access, people, activity
}

/// A query a view may not run, and why; the command line words it, with what to run instead.
public struct DisclosureRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var role: Viewer
    public var query: QueryKind
    public var reason: Reason

    /// Why the view may not run the query.
    public enum Reason: Equatable, Sendable {
        /// Analysts see aggregates only, and a tandem is a group of two.
        case aggregatesOnly
        /// The list of people with names and profiles is for coordinators.
        case peopleForCoordinators
        /// The event trail is for coordinators and auditors.
        case trailForCoordinatorsAndAuditors
        /// Matching works on profiles this view does not see.
        case profilesNotVisible
        /// Auditors see pseudonymous ids, not the attributes segments are made of.
        case noSegments
        /// A participant sees their own tandems only.
        case ownTandemsOnly
        /// A filter leaves the group (or its complement in the parent) under `k` people.
        case threshold(filter: Filter, part: Part, k: Int)
    }

    /// A filter as given: the option's name and its value (`programme`, `pilot`).
    public struct Filter: Equatable, Sendable {
        public var option: String
        public var value: String
        public init(_ option: String, _ value: String) {
            self.option = option
            self.value = value
        }
    }

    /// Which side of a filter is too small.
    public enum Part: Equatable, Sendable { case group, complement }

    public init(role: Viewer, query: QueryKind, reason: Reason) {
        self.role = role
        self.query = query
        self.reason = reason
    }

    /// What the access ledger records: `threshold` (a filter would isolate fewer than k
    /// people) or `role` (the role may not run it).
    public var code: String {
        if case .threshold = reason { return "threshold" }
        return "role"
    }

    public var description: String { "\(role.roleName) may not run \(query.rawValue): \(reason)" }
}

extension Viewer {
    /// The role's name without the participant id.
    public var roleName: String {
        if case .participant = self { return "participant" }
        return description
    }

    /// Checks that this role may run `query`, per the disclosure table in the README.
    /// - Throws: `DisclosureRefusal` saying why.
    public func permit(_ query: QueryKind) throws(DisclosureRefusal) {
        func refuse(_ reason: DisclosureRefusal.Reason) -> DisclosureRefusal {
            DisclosureRefusal(role: self, query: query, reason: reason)
        }
        switch (self, query) {
        case (.coordinator, _), (_, .activity):
            // Everyone may see activity over time: analysts perturbed, participants their own.
            return
        case (.analyst, .stats), (.analyst, .statsBySegment), (.analyst, .dropouts), (.analyst, .dropoutsBySegment),
            (.analyst, .atRisk), (.analyst, .report):
            return
        case (.analyst, .tandems), (.analyst, .goals), (.analyst, .sessions), (.analyst, .due):
            throw refuse(.aggregatesOnly)
        case (.analyst, .people), (.auditor, .people):
            throw refuse(.peopleForCoordinators)
        case (.analyst, .audit), (.analyst, .access):
            throw refuse(.trailForCoordinatorsAndAuditors)
        case (.analyst, .suggest), (.auditor, .suggest):
            throw refuse(.profilesNotVisible)
        case (.auditor, .tandems), (.auditor, .atRisk), (.auditor, .stats), (.auditor, .audit), (.auditor, .goals),
            (.auditor, .sessions), (.auditor, .dropouts), (.auditor, .due), (.auditor, .report), (.auditor, .access):
            return
        case (.auditor, .statsBySegment), (.auditor, .dropoutsBySegment):
            throw refuse(.noSegments)
        case (.participant, .tandems), (.participant, .goals), (.participant, .sessions), (.participant, .due),
            (.participant, .people):
            return
        case (.participant, _):
            throw refuse(.ownTandemsOnly)
        }
    }
}

/// Why a cell was suppressed.
public enum SuppressionReason: String, Sendable, CaseIterable {
    /// The group's published size is below k: the whole row is hidden.
    case smallGroup = "small-group"
    /// A published count between 1 and k − 1.
    case smallCount = "small-count"
    /// The published count equals the group's published size (all withdrew, all reached a
    /// goal), which would read as a statement about each of them.
    case attribute
}

/// The cells an output hid, for its notes, its `suppression` member and the access ledger.
public struct SuppressedCells: Sendable {
    public let k: Int
    public private(set) var reasons: [SuppressionReason] = []

    public init(k: Int) { self.k = k }

    /// How many cells were hidden.
    public var count: Int { reasons.count }

    /// Records `n` hidden cells.
    public mutating func add(_ reason: SuppressionReason, _ n: Int = 1) {
        reasons += Array(repeating: reason, count: n)
    }

    /// A count as shown: the published value, or null (and recorded) where `policy` hides it.
    public mutating func show(_ published: Int, _ policy: DisclosurePolicy) -> JSONValue {
        guard let value = policy.shown(published, k: k) else {
            add(.smallCount)
            return .null
        }
        return .int(Int64(value))
    }

    /// A sentence for the output: how many cells, and why, without their values.
    public var explanation: String {
        let counted = Dictionary(grouping: reasons, by: { $0 }).mapValues(\.count)
        guard !counted.isEmpty else { return "No cell suppressed (k = \(k))." }
        var parts: [String] = []
        if let n = counted[.smallGroup] { parts.append("\(n) in groups of fewer than \(k) people") }
        if let n = counted[.smallCount] { parts.append("\(n) counts between 1 and \(k - 1)") }
        if let n = counted[.attribute] { parts.append("\(n) where the figure would be true of everyone in the group") }
        return "\(count) cell\(count == 1 ? "" : "s") suppressed (k = \(k)): " + parts.joined(separator: "; ")
    }

    /// The JSON summary: `{"k":…, "cells":…, "reasons":{…}}`, counts only.
    public var summary: JSONValue {
        let counted = Dictionary(grouping: reasons, by: { $0 }).mapValues(\.count)
        let byReason = SuppressionReason.allCases.compactMap { r in
            counted[r].map { (r.rawValue, JSONValue.int(Int64($0))) }
        }
        return .object(["k": .int(Int64(k)), "cells": .int(Int64(count)), "reasons": .object(JSONObject(byReason))])
    }
}
