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
        let query: QueryKind = options.by == nil ? .dropouts : .dropoutsBySegment
        try input.viewer.permit(query)
        let programme = try input.programme(options.programme)
        let k = programme.minGroupSize
        let policy = input.disclosure
        let people = input.model.people(in: programme.id)
        let population = policy.population(people.map(\.id))
        if policy.protects {
            try policy.checkFilter("--programme \(programme.id)", selected: population, parent: policy.population(input.model.people.values.map(\.id)),
                                   k: k, query: query)
        }
        var hidden = SuppressedCells(k: k)
        let matched = people.filter { $0.firstMatchedOn != nil }
        let withdrawn = people.filter { $0.withdrawnOn != nil }
        let beforeMatch = withdrawn.filter(\.withdrewBeforeMatch).count
        let observations = matched.compactMap { observation($0, programme: programme, asOf: input.asOf) }
        var notes: [String] = []
        // The same cells as `stats` (matched, withdrawn of the programme's people), so the
        // same people give the same figure in both.
        let published = (matched: policy.count(matched.count, in: population, "matched"),
                         withdrawn: policy.count(withdrawn.count, in: population, "withdrawn"),
                         beforeMatch: policy.count(beforeMatch, in: population, "withdrawnBeforeMatch"),
                         afterMatch: policy.count(withdrawn.count - beforeMatch, in: population, "withdrawnAfterMatch"))
        let shown = (matched: hidden.show(published.matched, policy), withdrawn: hidden.show(published.withdrawn, policy),
                     beforeMatch: hidden.show(published.beforeMatch, policy), afterMatch: hidden.show(published.afterMatch, policy))
        var reasons: [String: Int] = [:]
        for person in withdrawn { reasons[person.withdrawalReason?.rawValue ?? "other", default: 0] += 1 }
        let reasonObject = JSONObject(ReasonCode.all.compactMap { code in
            reasons[code].map { count in (code, hidden.show(policy.count(count, in: population, "reason:" + code), policy)) }
        })
        let curve = Curve(observations, programme: programme, population: policy.population(matched.map(\.id)), policy: policy, k: k)
        if curve.cut { notes.append("The survival table stops where fewer than \(k) people remain at risk, or where the dropouts left are fewer than \(k).") }
        let rate: JSONValue = shown.matched.intValue == nil || shown.afterMatch.intValue == nil ? .null : Format.ratio(published.afterMatch, published.matched)
        var dropouts: JSONObject = [
            "programme": .string(programme.id.rawValue),
            "participants": shown.matched,
            "withdrawals": shown.withdrawn,
            "withdrawalsBeforeMatch": shown.beforeMatch,
            "rate": rate,
            "reasons": .object(reasonObject),
            "medianDaysToDropout": curve.median.map { .int(Int64($0)) } ?? .null,
            "survival": .array(curve.json),
        ]
        var table = curve.table
        func text(_ value: JSONValue) -> String { StatsQuery.display(value).isEmpty ? "–" : StatsQuery.display(value) }
        notes.insert("\(text(shown.matched)) matched, \(text(shown.withdrawn)) withdrew (\(text(shown.beforeMatch)) before a match); rate \(rate.doubleValue.map { Format.number($0, digits: 3) } ?? "–"); median days to dropout: \(curve.median.map(String.init) ?? "not reached")", at: 0)
        notes.insert("Reasons: " + (reasonObject.isEmpty ? "none" : reasonObject.members.map { "\($0.key) \(text($0.value))" }.joined(separator: ", ")), at: 1)
        var csvTable = curve.csv
        if let by = options.by {
            var groups: [String: (population: Population, matched: Int, withdrawals: Int, observations: [KaplanMeier.Observation])] = [:]
            let label = policy.labels(of: people, by: by, k: k)
            for person in people {
                var entry = groups[label(person)] ?? (Population(), 0, 0, [])
                entry.population.add(policy.key(person.id))
                if person.firstMatchedOn != nil {
                    entry.matched += 1
                    if person.withdrawnOn != nil { entry.withdrawals += 1 }
                    if let o = observation(person, programme: programme, asOf: input.asOf) { entry.observations.append(o) }
                }
                groups[label(person)] = entry
            }
            var objects: [JSONValue] = []
            var tableRows: [[String]] = []
            for name in groups.keys.sorted(by: NaturalOrder.less) where groups[name]!.matched > 0 {
                let g = groups[name]!
                let size = policy.count(g.matched, in: g.population, "matched")
                var object: JSONObject = ["group": .string(name)]
                if policy.protects && size < k {
                    hidden.add(.smallGroup, 3)
                    object = object.merging(["participants": .null, "withdrawals": .null, "rate": .null, "medianDaysToDropout": .null,
                                  "suppressed": .bool(true), "reason": .string(SuppressionReason.smallGroup.rawValue)])
                } else {
                    let withdrawals = policy.count(g.withdrawals, in: g.population, "withdrawnAfterMatch")
                    var shownWithdrawals = hidden.show(withdrawals, policy)
                    if policy.protects, withdrawals > 0, withdrawals >= size {
                        hidden.add(.attribute)
                        shownWithdrawals = .null
                        object["suppressedFields"] = .array([.string("withdrawals"), .string("rate")])
                    }
                    let groupCurve = Curve(g.observations, programme: programme, population: g.population, policy: policy, k: k)
                    object = object.merging(["participants": .int(Int64(size)), "withdrawals": shownWithdrawals,
                                  "rate": shownWithdrawals.intValue == nil ? .null : Format.ratio(withdrawals, size),
                                  "medianDaysToDropout": groupCurve.median.map { .int(Int64($0)) } ?? .null, "suppressed": .bool(false)])
                }
                objects.append(.object(object))
                tableRows.append([name] + ["participants", "withdrawals", "rate", "medianDaysToDropout"].map { StatsQuery.display(object[$0]!) })
            }
            dropouts["by"] = .string(by.rawValue)
            dropouts["groups"] = .array(objects)
            table = TextTable(headers: ["group", "matched", "withdrew", "rate", "median days"], rows: tableRows, numeric: [1, 2, 3, 4], blank: "–")
            csvTable = TextTable(headers: ["group", "participants", "withdrawals", "rate", "medianDaysToDropout", "suppressed"],
                                 rows: zip(tableRows, objects).map { row, object in row + [object.objectValue?["suppressed"]?.boolValue == true ? "true" : "false"] })
        }
        var result = QueryResult(basis: input.basis, payloadKey: "dropouts", payload: .object(dropouts), table: table)
        result.csvTable = csvTable
        if policy.protects {
            notes.append("Survival is an actuarial life table over intervals of \(LifeTable.width(cadenceDays: programme.cadenceDays)) days, merged where a count would be below \(k), computed from the published counts.")
            notes.append(hidden.explanation)
            if let note = policy.note(k: k) { notes.append(note) }
            result.extra.append(("suppression", hidden.summary))
            result.suppressedCells = hidden.count
            result.basis.disclosure = policy.description(k: k)
        }
        result.notes = notes
        return result
    }

    /// A survival curve as the policy allows: Kaplan–Meier by day for exact views, a life
    /// table of published counts for protected ones.
    struct Curve {
        var json: [JSONValue]
        var table: TextTable
        var csv: TextTable
        var median: Int?
        var cut = false

        init(_ observations: [KaplanMeier.Observation], programme: Programme, population: Population, policy: DisclosurePolicy, k: Int) {
            if policy.protects {
                let (rows, cut) = LifeTable.estimate(observations, width: LifeTable.width(cadenceDays: programme.cadenceDays),
                                                     population: population, policy: policy, k: k)
                self.cut = cut
                median = LifeTable.median(rows)
                json = rows.map { row in
                    .object(["day": .int(Int64(row.start)), "until": .int(Int64(row.end)), "atRisk": .int(Int64(row.atRisk)),
                             "events": .int(Int64(row.events)), "censored": .int(Int64(row.censored)), "survival": .double(row.survival),
                             "lower": .double(row.lower), "upper": .double(row.upper)])
                }
                table = TextTable(headers: ["days", "at risk", "events", "censored", "survival", "95% CI"],
                                  rows: rows.map { ["\($0.start)–\($0.end)", String($0.atRisk), String($0.events), String($0.censored),
                                                    Format.number($0.survival, digits: 3), "\(Format.number($0.lower, digits: 3))–\(Format.number($0.upper, digits: 3))"] },
                                  numeric: [1, 2, 3, 4])
                csv = TextTable(headers: ["day", "until", "atRisk", "events", "censored", "survival", "lower", "upper"],
                                rows: rows.map { [String($0.start), String($0.end), String($0.atRisk), String($0.events), String($0.censored),
                                                  full($0.survival), full($0.lower), full($0.upper)] })
                return
            }
            let rows = KaplanMeier.estimate(observations)
            median = KaplanMeier.median(rows)
            json = rows.map { row in
                .object(["day": .int(Int64(row.day)), "atRisk": .int(Int64(row.atRisk)), "events": .int(Int64(row.events)),
                         "censored": .int(Int64(row.censored)), "survival": .double(row.survival),
                         "lower": .double(row.lower), "upper": .double(row.upper)])
            }
            table = TextTable(headers: ["day", "at risk", "events", "censored", "survival", "95% CI"],
                              rows: rows.map { [String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                                                Format.number($0.survival, digits: 3), "\(Format.number($0.lower, digits: 3))–\(Format.number($0.upper, digits: 3))"] },
                              numeric: [0, 1, 2, 3, 4])
            csv = TextTable(headers: ["day", "atRisk", "events", "censored", "survival", "lower", "upper"],
                            rows: rows.map { [String($0.day), String($0.atRisk), String($0.events), String($0.censored),
                                              full($0.survival), full($0.lower), full($0.upper)] })
        }
    }

    /// A double as the shortest text that reads back exactly (what JSON carries too).
    static func full(_ value: Double) -> String { JSONValue.double(value).description }
}
