import EventLog
import Mentoring

/// The queries, for the permission check.
public enum QueryKind: String, Sendable {
    case tandems, atRisk = "tandems --at-risk", stats, statsBySegment = "stats --by", audit, goals, sessions
    case dropouts, dropoutsBySegment = "dropouts --by", suggest, due, report = "report", access, people
}

/// A query the role may not run, with what it may run instead.
public struct DisclosureRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var role: Viewer
    public var query: QueryKind
    public var why: String
    /// What the access ledger records: `role` (the role may not run it) or `threshold` (a
    /// filter would isolate fewer than k people).
    public var code: String = "role"
    public var description: String { "the \(role.roleName) view may not run `tandem \(query.rawValue)`: \(why)" }
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
        case (.coordinator, _):
            return
        case (.analyst, .stats), (.analyst, .statsBySegment), (.analyst, .dropouts), (.analyst, .dropoutsBySegment),
             (.analyst, .atRisk), (.analyst, .report):
            return
        case (.analyst, .tandems), (.analyst, .goals), (.analyst, .sessions), (.analyst, .due):
            throw refuse("analysts see aggregates only, and a tandem is a group of two; run `tandem stats --by …` or `tandem dropouts` instead")
        case (.analyst, .people), (.auditor, .people):
            throw refuse("the list of people with their names and profiles is for coordinators; run `tandem stats` (analysts by segment) for figures")
        case (.analyst, .audit), (.analyst, .access):
            throw refuse("the event trail is for coordinators and auditors")
        case (.analyst, .suggest):
            throw refuse("matching works on individual profiles, which analysts do not see")
        case (.auditor, .tandems), (.auditor, .atRisk), (.auditor, .stats), (.auditor, .audit), (.auditor, .goals),
             (.auditor, .sessions), (.auditor, .dropouts), (.auditor, .due), (.auditor, .report), (.auditor, .access):
            return
        case (.auditor, .statsBySegment), (.auditor, .dropoutsBySegment):
            throw refuse("auditors see pseudonymous ids, not units, levels, birth years or genders; segmented reports are for analysts")
        case (.auditor, .suggest):
            throw refuse("matching works on personal profiles, which auditors do not see")
        case (.participant, .tandems), (.participant, .goals), (.participant, .sessions), (.participant, .due), (.participant, .people):
            return
        case (.participant, _):
            throw refuse("participants see their own tandems: run `tandem tandems`, `tandem sessions`, `tandem goals` or `tandem due`")
        }
    }

    /// Whether this view sees people's names.
    public var seesNames: Bool { self == .coordinator }
}

/// Why a cell was suppressed.
public enum SuppressionReason: String, Sendable, CaseIterable {
    /// Fewer than k people.
    case smallGroup = "small-group"
    /// Suppressed as well, so that a small group cannot be recomputed from the totals.
    case complementary
    /// Everyone in the group has the attribute (all withdrew, all reached a goal), which
    /// would name each of them.
    case attribute
}

/// Statistical disclosure control for analysts: no cell about fewer than k people, no
/// cell recomputable from the totals, no attribute true of a whole group.
///
/// Modelled on what HR survey tools do (Viva Glint hides groups under 5 and then the
/// next-smallest; Culture Amp blocks filters whose remainder is under 5), and at least as
/// strict.
public enum Suppression {
    /// Suppresses cells of one column that has a total: primary suppression of groups under
    /// k, then complementary suppression until the suppressed cells together cover at least
    /// k people, so no single small group can be recovered by subtraction.
    ///
    /// - Parameters:
    ///   - sizes: the number of people each cell is about.
    ///   - preset: cells already suppressed (for another reason), kept.
    /// - Returns: the reason per cell, or nil where the cell may be shown.
    /// - Complexity: O(n²) in the number of cells, which is small.
    public static func column(sizes: [Int], k: Int, preset: [SuppressionReason?]? = nil) -> [SuppressionReason?] {
        var reasons = preset ?? Array(repeating: nil, count: sizes.count)
        for (i, size) in sizes.enumerated() where reasons[i] == nil && size < k { reasons[i] = .smallGroup }
        // An attribute-suppressed cell covers nobody anonymously: it needs partners too.
        func weight(_ i: Int) -> Int { reasons[i] == .attribute ? 0 : sizes[i] }
        while true {
            let suppressed = reasons.indices.filter { reasons[$0] != nil }
            guard !suppressed.isEmpty, suppressed.map(weight).reduce(0, +) < k else { break }
            let open = reasons.indices.filter { reasons[$0] == nil }
            guard let next = open.min(by: { (sizes[$0], $0) < (sizes[$1], $1) }) else { break }
            reasons[next] = .complementary
        }
        return reasons
    }

    /// Attribute disclosure: a count of people with an attribute that equals the whole group
    /// (and is not zero) is suppressed; then the column is protected like any other.
    public static func attributeColumn(counts: [Int], sizes: [Int], rowReasons: [SuppressionReason?], k: Int) -> [SuppressionReason?] {
        var reasons = rowReasons
        for i in counts.indices where reasons[i] == nil && counts[i] > 0 && counts[i] == sizes[i] { reasons[i] = .attribute }
        guard reasons.contains(where: { $0 == .attribute }) else { return reasons }
        return column(sizes: sizes, k: k, preset: reasons)
    }

    /// A sentence for the output: how many cells, and why, without their values.
    public static func explain(_ reasons: [SuppressionReason?], k: Int) -> String? {
        let counted = Dictionary(grouping: reasons.compactMap { $0 }, by: { $0 }).mapValues(\.count)
        guard !counted.isEmpty else { return nil }
        var parts: [String] = []
        if let n = counted[.smallGroup] { parts.append("\(n) about fewer than \(k) people") }
        if let n = counted[.complementary] { parts.append("\(n) so that those cannot be worked out from the totals") }
        if let n = counted[.attribute] { parts.append("\(n) where the figure would be true of everyone in the group") }
        let total = counted.values.reduce(0, +)
        return "\(total) cell\(total == 1 ? "" : "s") suppressed (k = \(k)): " + parts.joined(separator: "; ")
    }

    /// The JSON summary: `{"k":…, "cells":…, "reasons":{…}}`, counts only.
    public static func summary(_ reasons: [SuppressionReason?], k: Int) -> JSONValue {
        let counted = Dictionary(grouping: reasons.compactMap { $0 }, by: { $0 }).mapValues(\.count)
        let byReason = SuppressionReason.allCases.compactMap { r in counted[r].map { (r.rawValue, JSONValue.int(Int64($0))) } }
        return .object(["k": .int(Int64(k)), "cells": .int(Int64(counted.values.reduce(0, +))), "reasons": .object(JSONObject(byReason))])
    }

    /// Checks an analyst's filter: the filtered group and, if not empty, its complement
    /// within the parent must both have at least k people.
    /// The group labels analysts see: a category with fewer than k people in the programme is
    /// recoded to `other` (a row labelled `level 12` would say that such a person takes part).
    public static func labels(of people: [PersonView], by key: SegmentKey, k: Int) -> (PersonView) -> String {
        var sizes: [String: Int] = [:]
        for person in people { sizes[key.value(of: person), default: 0] += 1 }
        return { person in
            let label = key.value(of: person)
            return (sizes[label] ?? 0) < k ? "other" : label
        }
    }

    public static func checkFilter(_ description: String, selected: Int, parent: Int, k: Int, query: QueryKind) throws(DisclosureRefusal) {
        let complement = parent - selected
        guard selected >= k, complement == 0 || complement >= k else {
            throw DisclosureRefusal(role: .analyst, query: query, why:
                "the filter \(description) leaves \(selected < k ? "a group" : "its complement") of fewer than \(k) people, which could name them; widen the filter",
                code: "threshold")
        }
    }
}

