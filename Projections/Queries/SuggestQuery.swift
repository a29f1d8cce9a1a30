import EventLog
import Mentoring

/// `tandem suggest`: the optimal proposal for everyone waiting, with reasons. Tandem
/// suggests; the coordinator decides, by recording `tandem match`.
public enum SuggestQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var allowSameUnit: Bool
        public init(programme: ProgrammeID? = nil, allowSameUnit: Bool = false) {
            self.programme = programme
            self.allowSameUnit = allowSameUnit
        }
    }

    /// The pool: every participant of the programme still in it, with their data, and not in
    /// an active tandem now; people freed by a swap or a partner's withdrawal included.
    /// - Throws: `SystemError` if the vault cannot be read.
    public static func pool(
        _ input: QueryInput, programme: ProgrammeID
    ) throws -> (mentors: [Matching.Candidate], mentees: [Matching.Candidate]) {
        let model = input.model
        var mentors: [Matching.Candidate] = [], mentees: [Matching.Candidate] = []
        // After the programme's end nobody is waiting for a partner any more.
        if let p = model.programmes[programme], input.asOf > p.ends || p.closedOn != nil { return ([], []) }
        let waiting = model.waiting(in: programme).filter { $0.traits != nil }
        let ids = Set(waiting.map(\.id))
        let profiles = try input.profiles(of: ids)
        var partners: [ParticipantID: Set<ParticipantID>] = [:]
        for tandem in model.tandems.values where ids.contains(tandem.mentor) || ids.contains(tandem.mentee) {
            partners[tandem.mentor, default: []].insert(tandem.mentee)
            partners[tandem.mentee, default: []].insert(tandem.mentor)
        }
        for person in waiting {
            guard let profile = profiles[person.id] else { continue }
            let candidate = Matching.Candidate(
                id: person.id, profile: profile, formerPartners: partners[person.id] ?? [])
            if person.role == .mentor { mentors.append(candidate) } else { mentees.append(candidate) }
        }
        return (mentors, mentees)
    }

    public static func run(
        _ input: QueryInput, _ options: Options
    ) throws -> (QueryResult, Matching.Proposal, Programme) {
        try input.disclosure.permit(.suggest)
        let programme = try input.programme(options.programme)
        let (mentors, mentees) = try pool(input, programme: programme.id)
        let proposal = Matching.propose(mentors: mentors, mentees: mentees, allowSameUnit: options.allowSameUnit)
        // Names from the pool's profiles: asking the vault for them would read everyone's
        // (1.3 million on the 10M store) for the few thousand shown.
        var poolNames: [ParticipantID: String] = [:]
        if input.disclosure.showsEveryName {
            for c in mentors + mentees { poolNames[c.id] = c.profile.name }
        }
        func name(of id: ParticipantID) -> JSONValue { poolNames[id].map { .string($0) } ?? .null }
        func named(_ object: inout JSONObject, _ key: String, _ id: ParticipantID) {
            if input.disclosure.showsEveryName { object[key] = name(of: id) }
        }
        let pairs: [JSONValue] = proposal.pairs.map { pair in
            var object: JSONObject = ["mentor": .string(pair.mentor.rawValue), "mentee": .string(pair.mentee.rawValue)]
            named(&object, "mentorName", pair.mentor)
            named(&object, "menteeName", pair.mentee)
            object["score"] = .double(pair.score)
            object["reasons"] = .array(pair.reasons.map(JSONValue.string))
            return .object(object)
        }
        func unmatched(_ list: [(ParticipantID, Matching.Unmatched)]) -> JSONValue {
            .array(list.map { .object(["participant": .string($0.0.rawValue), "reason": .string($0.1.rawValue)]) })
        }
        let payload: JSONValue = .array(pairs)
        var result = QueryResult(
            basis: input.basis, payloadKey: "pairs", payload: payload,
            table: TextTable(
                headers: ["mentor", "mentee", "score", "why"],
                rows: proposal.pairs.map { pair in
                    [
                        name(of: pair.mentor).stringValue.map { "\($0) (\(pair.mentor))" }
                            ?? pair.mentor.rawValue,
                        name(of: pair.mentee).stringValue.map { "\($0) (\(pair.mentee))" }
                            ?? pair.mentee.rawValue,
                        Format.number(pair.score, digits: 3), pair.reasons.joined(separator: "; "),
                    ]
                }, numeric: [2]))
        result.csvColumns =
            ["mentor", "mentee"] + (input.disclosure.showsEveryName ? ["mentorName", "menteeName"] : []) + [
                "score", "reasons",
            ]
        result.extra = [
            ("total", .double(proposal.total)),
            (
                "unmatched",
                .object([
                    "mentors": unmatched(proposal.unmatchedMentors), "mentees": unmatched(proposal.unmatchedMentees),
                ])
            ),
        ]
        let candidates = proposal.candidates
        result.appendRows(
            "candidates",
            candidateRows(candidates))
        result.extra += [
            (
                "weights",
                .object(
                    JSONObject(
                        Matching.Weights().json.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.double($0.value)) })
                )
            ),
            ("rules", .object(["allowSameUnit": .bool(options.allowSameUnit)])),
        ]
        var notes = [
            "Total score \(Format.number(proposal.total, digits: 4)) over \(Format.count(proposal.pairs.count, "pair")), the optimum for the pool of \(Format.count(mentors.count, "mentor")) and \(Format.count(mentees.count, "mentee")) (\(Format.count(proposal.candidates.count, "eligible pair")))."
        ]
        for (id, why) in proposal.unmatchedMentors { notes.append("Unmatched mentor \(id): \(why.rawValue)") }
        for (id, why) in proposal.unmatchedMentees { notes.append("Unmatched mentee \(id): \(why.rawValue)") }
        notes += TandemsQuery.rematchNotes(input, programme: programme.id)
        result.notes = notes
        return (result, proposal, programme)
    }

    /// The candidates as JSON rows (`{"mentor":…,"mentee":…,"score":…}`), written as they
    /// are scored.
    static func candidateRows(_ candidates: Matching.Candidates) -> JSONRows {
        JSONRows(count: candidates.count) { (w: inout JSONWriter, before: (inout JSONWriter, Int) -> Void) in
            // Tens of millions of rows: each person's id is encoded once, and each score
            // (4 decimals, so at most 10,001 of them in [0, 1]) formatted once.
            let mentors = candidates.mentorIDs.map { id in
                var w = JSONWriter()
                w.writeRaw(#"{"mentor":"#)
                w.write(id.rawValue)
                w.writeRaw(#","mentee":"#)
                return w.bytes
            }
            let mentees = candidates.menteeIDs.map { id in
                var w = JSONWriter()
                w.write(id.rawValue)
                w.writeRaw(#","score":"#)
                return w.bytes
            }
            var scores = [(score: Double, text: [UInt8])?](repeating: nil, count: 10_001)
            var i = 0
            candidates.forEachPosition { m, e, score in
                before(&w, i)
                i += 1
                w.bytes.append(contentsOf: mentors[m])
                w.bytes.append(contentsOf: mentees[e])
                let k = Int(exactly: (score * 10_000).rounded()) ?? -1
                if k >= 0 && k < scores.count, let known = scores[k], known.score == score {
                    w.bytes.append(contentsOf: known.text)
                } else {
                    var text = JSONWriter(capacity: 8)
                    text.write(score)
                    text.writeRaw("}")
                    if k >= 0 && k < scores.count { scores[k] = (score, text.bytes) }
                    w.bytes.append(contentsOf: text.bytes)
                }
            }
        }
    }
}
