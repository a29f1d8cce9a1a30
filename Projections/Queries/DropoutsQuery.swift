import EventLog
import Mentoring

/// `tandem dropouts`: who drops out, when and why, with a Kaplan–Meier survival curve over
/// the people who were ever matched.
///
/// - Origin: the day a person first entered a tandem (by a match, or by joining in a swap).
/// - Event: their withdrawal.
/// - Censoring: the completion of their last tandem, or else the earlier of the as-of date
///   and the programme's end.
public enum DropoutsQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var by: SegmentKey?
        public init(programme: ProgrammeID? = nil, by: SegmentKey? = nil) {
            self.programme = programme
            self.by = by
        }
    }

    /// A person's observation for the curve, or nil if they were never matched.
    public static func observation(_ person: PersonView, programme: Programme, asOf: BusinessDate) -> KaplanMeier.Observation? {
        guard let origin = person.firstMatchedOn else { return nil }
        if let withdrawn = person.withdrawnOn, withdrawn >= origin {
            return .init(duration: origin.days(to: withdrawn), event: true)
        }
        let end: BusinessDate
        if person.activeTandem == nil, let last = person.lastTandemEnd, last.status == .completed {
            end = last.on
        } else {
            end = min(asOf, programme.ends)
        }
        return .init(duration: max(0, origin.days(to: end)), event: false)
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        try input.viewer.permit(options.by == nil ? .dropouts : .dropoutsBySegment)
        let programme = try input.programme(options.programme)
        let k = programme.minGroupSize
        let people = input.model.people(in: programme.id)
        let analyst = input.viewer == .analyst
        if analyst {
            try Suppression.checkFilter("--programme \(programme.id)", selected: people.count, parent: input.model.people.count, k: k,
                                        query: options.by == nil ? .dropouts : .dropoutsBySegment)
        }
        let matched = people.filter { $0.firstMatchedOn != nil }
        let withdrawn = people.filter { $0.withdrawnOn != nil }
        let beforeMatch = withdrawn.filter(\.withdrewBeforeMatch).count
        let observations = matched.compactMap { observation($0, programme: programme, asOf: input.asOf) }
        var rows = KaplanMeier.estimate(observations)
        var notes: [String] = []
        var suppressed: [SuppressionReason?] = []

        // Reasons: codes with fewer than k people are merged into "other" for analysts.
        var reasons: [String: Int] = [:]
        for person in withdrawn { reasons[person.withdrawalReason?.rawValue ?? "other", default: 0] += 1 }
        if analyst {
            var merged = 0
            for (code, count) in reasons where count < k && code != "other" { merged += count; reasons[code] = nil }
            if merged > 0 {
                reasons["other", default: 0] += merged
                notes.append("Reason codes given by fewer than \(k) people are counted under 'other'.")
            }
            if let other = reasons["other"], other < k, reasons.count > 0 {
                suppressed.append(.smallGroup)
                notes.append("'other' covers fewer than \(k) people and is not shown.")
            }
            let cut = rows.firstIndex { $0.atRisk < k }
            if let cut {
                rows = Array(rows[..<cut])
                notes.append("The curve stops where fewer than \(k) people remain at risk.")
            }
        }
        let reasonObject = JSONObject(ReasonCode.all.compactMap { code in reasons[code].map { count in
            (code, analyst && code == "other" && count < k ? JSONValue.null : .int(Int64(count)))
        } })
        let median = KaplanMeier.median(rows)
        let matchedWithdrawals = withdrawn.count - beforeMatch
        var dropouts: JSONObject = [
            "programme": .string(programme.id.rawValue),
            "participants": .int(Int64(matched.count)),
            "withdrawals": .int(Int64(withdrawn.count)),
            "withdrawalsBeforeMatch": .int(Int64(beforeMatch)),
            "rate": Format.ratio(matchedWithdrawals, matched.count),
            "reasons": .object(reasonObject),
            "medianDaysToDropout": median.map { .int(Int64($0)) } ?? .null,
            "survival": .array(rows.map { row in
                .object(["day": .int(Int64(row.day)), "atRisk": .int(Int64(row.atRisk)), "events": .int(Int64(row.events)),
                         "censored": .int(Int64(row.censored)), "survival": .double(row.survival),
                         "lower": .double(row.lower), "upper": .double(row.upper)])
            }),
        ]
        var table = TextTable(headers: ["day", "at risk", "events", "censored", "survival", "95% CI"],
                              rows: rows.map { [String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                                                Format.number($0.survival, digits: 3), "\(Format.number($0.lower, digits: 3))–\(Format.number($0.upper, digits: 3))"] },
                              numeric: [0, 1, 2, 3, 4])
        notes.insert("\(matched.count) matched, \(withdrawn.count) withdrew (\(beforeMatch) before a match); rate \(Format.number(matched.isEmpty ? nil : Double(matchedWithdrawals) / Double(matched.count), digits: 3)); median days to dropout: \(median.map(String.init) ?? "not reached")", at: 0)
        notes.insert("Reasons: " + (reasonObject.isEmpty ? "none" : reasonObject.members.map { "\($0.key) \(StatsQuery.display($0.value).isEmpty ? "–" : StatsQuery.display($0.value))" }.joined(separator: ", ")), at: 1)
        var csvTable = TextTable(headers: ["day", "atRisk", "events", "censored", "survival", "lower", "upper"],
                                 rows: rows.map { [String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                                                   Self.full($0.survival), Self.full($0.lower), Self.full($0.upper)] })
        if let by = options.by {
            var groups: [String: (people: Int, withdrawals: Int, observations: [KaplanMeier.Observation])] = [:]
            let label = analyst ? Suppression.labels(of: people, by: by, k: k) : by.value(of:)
            for person in matched {
                let group = label(person)
                var entry = groups[group] ?? (0, 0, [])
                entry.people += 1
                if person.withdrawnOn != nil { entry.withdrawals += 1 }
                if let o = observation(person, programme: programme, asOf: input.asOf) { entry.observations.append(o) }
                groups[group] = entry
            }
            let names = groups.keys.sorted(by: NaturalOrder.less)
            var rowReasons = [SuppressionReason?](repeating: nil, count: names.count)
            var withdrawalReasons = rowReasons
            if analyst {
                let sizes = names.map { groups[$0]!.people }
                rowReasons = Suppression.column(sizes: sizes, k: k)
                withdrawalReasons = Suppression.attributeColumn(counts: names.map { groups[$0]!.withdrawals }, sizes: sizes, rowReasons: rowReasons, k: k)
            }
            var objects: [JSONValue] = []
            var tableRows: [[String]] = []
            for (i, name) in names.enumerated() {
                let g = groups[name]!
                let hidden = rowReasons[i] != nil
                let groupMedian = hidden || withdrawalReasons[i] != nil ? nil : KaplanMeier.median(KaplanMeier.estimate(g.observations))
                var object: JSONObject = [
                    "group": .string(name), "participants": hidden ? .null : .int(Int64(g.people)),
                    "withdrawals": withdrawalReasons[i] == nil ? .int(Int64(g.withdrawals)) : .null,
                    "rate": withdrawalReasons[i] == nil ? Format.ratio(g.withdrawals, g.people) : .null,
                    "medianDaysToDropout": groupMedian.map { .int(Int64($0)) } ?? .null,
                    "suppressed": .bool(hidden),
                ]
                if hidden { object["reason"] = .string(rowReasons[i]!.rawValue) }
                if !hidden, withdrawalReasons[i] != nil { object["suppressedFields"] = .array([.string("withdrawals"), .string("rate")]) }
                objects.append(.object(object))
                tableRows.append([name, StatsQuery.display(object["participants"]!), StatsQuery.display(object["withdrawals"]!),
                                  StatsQuery.display(object["rate"]!), StatsQuery.display(object["medianDaysToDropout"]!)])
                suppressed += hidden ? [rowReasons[i], rowReasons[i], rowReasons[i]] : [withdrawalReasons[i], withdrawalReasons[i]]
            }
            dropouts["by"] = .string(by.rawValue)
            dropouts["groups"] = .array(objects)
            table = TextTable(headers: ["group", "matched", "withdrew", "rate", "median days"], rows: tableRows, numeric: [1, 2, 3, 4], blank: "–")
            csvTable = TextTable(headers: ["group", "participants", "withdrawals", "rate", "medianDaysToDropout", "suppressed"],
                                 rows: zip(tableRows, objects).map { row, object in row + [object.objectValue?["suppressed"]?.boolValue == true ? "true" : "false"] })
        }
        var result = QueryResult(basis: input.basis, payloadKey: "dropouts", payload: .object(dropouts), table: table)
        result.csvTable = csvTable
        if analyst {
            notes.append(Suppression.explain(suppressed, k: k) ?? "No cell suppressed (k = \(k)).")
            result.extra.append(("suppression", Suppression.summary(suppressed, k: k)))
            result.suppressedCells = suppressed.compactMap { $0 }.count
        }
        result.notes = notes
        return result
    }

    /// A double as the shortest text that reads back exactly (what JSON carries too).
    static func full(_ value: Double) -> String { JSONValue.double(value).description }
}
