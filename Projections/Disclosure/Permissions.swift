import EventLog
import Mentoring

/// The queries, for the permission check.
public enum QueryKind: String, Sendable {
    case tandems, atRisk = "tandems --at-risk", stats, statsBySegment = "stats --by", audit, goals, sessions
    case dropouts, dropoutsBySegment = "dropouts --by", suggest, due, report = "report", access, people, activity
}

/// A query the role may not run, with what it may run instead.
public struct DisclosureRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var role: Viewer
    public var query: QueryKind
    public var why: String
    /// What the access ledger records: `role` (the role may not run it) or `threshold` (a
    /// filter would isolate fewer than k people).
    public var code: String = "role"
    public var description: String {
        // A threshold refusal is about the filter, not the command: name the command itself.
        if code == "threshold" {
            return
                "the \(role.roleName) view may not run `tandem \(query.rawValue.split(separator: " ")[0])` with this filter: \(why)"
        }
        return "the \(role.roleName) view may not run `tandem \(query.rawValue)`: \(why)"
    }
}

extension Viewer {
    /// The role's name without the participant id.
    public var roleName: String {
        if case .participant = self { return "participant" }
        return description
    }

    /// Checks that this role may run `query`, per the disclosure table in the README.
    /// - Throws: `DisclosureRefusal` saying why, and what to run instead.
    public func permit(_ query: QueryKind) throws(DisclosureRefusal) {
        func refuse(_ why: String) -> DisclosureRefusal { DisclosureRefusal(role: self, query: query, why: why) }
        switch (self, query) {
        case (.coordinator, _), (_, .activity):
            // Everyone may see activity over time: analysts perturbed, participants their own.
            return
        case (.analyst, .stats), (.analyst, .statsBySegment), (.analyst, .dropouts), (.analyst, .dropoutsBySegment),
            (.analyst, .atRisk), (.analyst, .report):
            return
        case (.analyst, .tandems), (.analyst, .goals), (.analyst, .sessions), (.analyst, .due):
            throw refuse(
                "analysts see aggregates only, and a tandem is a group of two; run `tandem stats --by …` or `tandem dropouts` instead"
            )
        case (.analyst, .people), (.auditor, .people):
            throw refuse(
                "the list of people with their names and profiles is for coordinators; run `tandem stats` (analysts by segment) for figures"
            )
        case (.analyst, .audit), (.analyst, .access):
            throw refuse("the event trail is for coordinators and auditors")
        case (.analyst, .suggest):
            throw refuse("matching works on individual profiles, which analysts do not see")
        case (.auditor, .tandems), (.auditor, .atRisk), (.auditor, .stats), (.auditor, .audit), (.auditor, .goals),
            (.auditor, .sessions), (.auditor, .dropouts), (.auditor, .due), (.auditor, .report), (.auditor, .access):
            return
        case (.auditor, .statsBySegment), (.auditor, .dropoutsBySegment):
            throw refuse(
                "auditors see pseudonymous ids, not units, levels, birth years or genders; segmented reports are for analysts"
            )
        case (.auditor, .suggest):
            throw refuse("matching works on personal profiles, which auditors do not see")
        case (.participant, .tandems), (.participant, .goals), (.participant, .sessions), (.participant, .due),
            (.participant, .people):
            return
        case (.participant, _):
            throw refuse(
                "participants see their own tandems: run `tandem tandems`, `tandem sessions`, `tandem goals` or `tandem due`"
            )
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
