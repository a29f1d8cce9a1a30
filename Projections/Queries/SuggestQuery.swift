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
    public static func pool(_ input: QueryInput, programme: ProgrammeID) throws -> (mentors: [Matching.Candidate], mentees: [Matching.Candidate]) {
        let model = input.model
        var mentors: [Matching.Candidate] = [], mentees: [Matching.Candidate] = []
        // After the programme's end nobody is waiting for a partner any more.
        if let p = model.programmes[programme], input.asOf > p.ends || p.closedOn != nil { return ([], []) }
        let waiting = model.people(in: programme).filter { $0.withdrawnOn == nil && $0.activeTandem == nil && $0.traits != nil }
        let ids = Set(waiting.map(\.id))
        let profiles = try input.profiles(of: ids)
        var partners: [ParticipantID: Set<ParticipantID>] = [:]
        for tandem in model.tandems.values where ids.contains(tandem.mentor) || ids.contains(tandem.mentee) {
            partners[tandem.mentor, default: []].insert(tandem.mentee)
            partners[tandem.mentee, default: []].insert(tandem.mentor)
        }
        for person in waiting {
            guard let profile = profiles[person.id] else { continue }
            let candidate = Matching.Candidate(id: person.id, profile: profile, formerPartners: partners[person.id] ?? [])
            if person.role == .mentor { mentors.append(candidate) } else { mentees.append(candidate) }
        }
        return (mentors, mentees)
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> (QueryResult, Matching.Proposal, Programme) {
        try input.disclosure.permit(.suggest)
        let programme = try input.programme(options.programme)
        let (mentors, mentees) = try pool(input, programme: programme.id)
        let proposal = Matching.propose(mentors: mentors, mentees: mentees, allowSameUnit: options.allowSameUnit)
        func named(_ object: inout JSONObject, _ key: String, _ id: ParticipantID) {
            if input.disclosure.showsEveryName { object[key] = input.name(of: id) }
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
        var result = QueryResult(basis: input.basis, payloadKey: "pairs", payload: payload, table: TextTable(
            headers: ["mentor", "mentee", "score", "why"],
            rows: proposal.pairs.map { pair in
                [input.name(of: pair.mentor).stringValue.map { "\($0) (\(pair.mentor))" } ?? pair.mentor.rawValue,
                 input.name(of: pair.mentee).stringValue.map { "\($0) (\(pair.mentee))" } ?? pair.mentee.rawValue,
                 Format.number(pair.score, digits: 3), pair.reasons.joined(separator: "; ")]
            }, numeric: [2]))
        result.csvColumns = ["mentor", "mentee"] + (input.disclosure.showsEveryName ? ["mentorName", "menteeName"] : []) + ["score", "reasons"]
        result.extra = [
            ("total", .double(proposal.total)),
            ("unmatched", .object(["mentors": unmatched(proposal.unmatchedMentors), "mentees": unmatched(proposal.unmatchedMentees)])),
        ]
        let candidates = proposal.candidates
        result.appendRows("candidates", JSONRows(count: candidates.count) { i, w in
            w.writeRaw(#"{"mentor":"#)
            w.write(candidates[i].mentor.rawValue)
            w.writeRaw(#","mentee":"#)
            w.write(candidates[i].mentee.rawValue)
            w.writeRaw(#","score":"#)
            w.write(candidates[i].score)
            w.writeRaw("}")
        })
        result.extra += [
            ("weights", .object(JSONObject(Matching.Weights().json.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.double($0.value)) }))),
            ("rules", .object(["allowSameUnit": .bool(options.allowSameUnit)])),
        ]
        var notes = ["Total score \(Format.number(proposal.total, digits: 4)) over \(Format.count(proposal.pairs.count, "pair")), the optimum for the pool of \(Format.count(mentors.count, "mentor")) and \(Format.count(mentees.count, "mentee")) (\(Format.count(proposal.candidates.count, "eligible pair")))."]
        for (id, why) in proposal.unmatchedMentors { notes.append("Unmatched mentor \(id): \(why.rawValue)") }
        for (id, why) in proposal.unmatchedMentees { notes.append("Unmatched mentee \(id): \(why.rawValue)") }
        notes += TandemsQuery.rematchNotes(input, programme: programme.id)
        result.notes = notes
        return (result, proposal, programme)
    }
}

/// `tandem due`: when each active tandem's next session falls due (its last session, or its
/// match, plus the programme's cadence): those due within a window, and those overdue.
public enum DueQuery {
    public struct Options: Sendable {
        public var programme: ProgrammeID?
        public var within: Int
        public init(programme: ProgrammeID? = nil, within: Int = 14) {
            self.programme = programme
            self.within = within
        }
    }

    /// One tandem's next session.
    public struct Item: Sendable, Equatable {
        public var tandem: TandemView
        public var dueOn: BusinessDate
        public var overdueDays: Int
    }

    public static func items(_ input: QueryInput, _ options: Options) throws -> [Item] {
        try input.disclosure.permit(.due)
        if let programme = options.programme, input.model.programmes[programme] == nil {
            throw QueryError.unknownProgramme(programme, known: input.model.programmeOrder)
        }
        var tandems = input.model.tandems(in: options.programme).filter { $0.status == .active }
        if let me = input.disclosure.ownTandemsOf {
            guard input.model.people[me] != nil else { throw QueryError.unknownParticipant(me) }
            tandems = tandems.filter { $0.includes(me) }
        }
        let horizon = input.asOf.adding(days: options.within)
        return tandems.compactMap { tandem -> Item? in
            guard let programme = input.model.programmes[tandem.programme] else { return nil }
            let due = (tandem.lastSession ?? tandem.since).adding(days: programme.cadenceDays)
            // No invitation past the programme's end, nor once it has ended.
            guard due <= horizon, due <= programme.ends, input.asOf <= programme.ends, programme.closedOn == nil else { return nil }
            return Item(tandem: tandem, dueOn: due, overdueDays: max(0, due.days(to: input.asOf)))
        }.sorted { ($0.dueOn, $0.tandem.id) < ($1.dueOn, $1.tandem.id) }
    }

    public static func run(_ input: QueryInput, _ options: Options) throws -> QueryResult {
        let items = try items(input, options)
        let names = input.disclosure.showsNames
        let rows: [JSONValue] = items.map { item in
            var object: JSONObject = ["tandem": .string(item.tandem.id.rawValue), "mentor": .string(item.tandem.mentor.rawValue),
                                      "mentee": .string(item.tandem.mentee.rawValue)]
            if names {
                object["mentorName"] = input.name(of: item.tandem.mentor)
                object["menteeName"] = input.name(of: item.tandem.mentee)
            }
            object["lastSession"] = Format.date(item.tandem.lastSession)
            object["dueOn"] = .string(item.dueOn.description)
            object["overdueDays"] = .int(Int64(item.overdueDays))
            return .object(object)
        }
        var result = QueryResult(basis: input.basis, payloadKey: "due", payload: .array(rows), table: TextTable(
            headers: ["tandem", "mentor", "mentee", "last session", "due on", "overdue"],
            rows: items.map { item in
                [item.tandem.id.rawValue, input.name(of: item.tandem.mentor).stringValue ?? item.tandem.mentor.rawValue,
                 input.name(of: item.tandem.mentee).stringValue ?? item.tandem.mentee.rawValue,
                 Format.cell(item.tandem.lastSession), item.dueOn.description, item.overdueDays > 0 ? Format.days(item.overdueDays) : ""]
            }))
        result.csvColumns = ["tandem", "mentor", "mentee"] + (names ? ["mentorName", "menteeName"] : []) + ["lastSession", "dueOn", "overdueDays"]
        result.notes = ["Due within \(options.within) days of \(input.asOf), and overdue: last session (or match) plus the programme's cadence."]
        if input.disclosure.coordinates {
            for programme in input.model.programmeOrder where options.programme == nil || options.programme == programme {
                result.notes += TandemsQuery.rematchNotes(input, programme: programme)
            }
        }
        return result
    }
}

/// RFC 5545 calendars: the invitations of `tandem due --ics`.
public enum ICalendar {
    /// A calendar with one all-day VEVENT per due session. Names appear only where the
    /// viewer may see them, and never a note or a goal text.
    public static func calendar(_ items: [DueQuery.Item], input: QueryInput, stamp: Timestamp) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tandem//Reverse mentoring//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                     "X-WR-CALNAME:" + escape("Reverse-mentoring sessions")]
        let dtstamp = compact(stamp)
        for item in items {
            // Overdue sessions are offered from the as-of day on: an invitation in the past helps no one.
            let start = max(item.dueOn, input.asOf)
            var names = ""
            let mentor = input.name(of: item.tandem.mentor).stringValue, mentee = input.name(of: item.tandem.mentee).stringValue
            if input.disclosure.showsEveryName, let mentor, let mentee { names = ": \(mentor) & \(mentee)" }
            else if input.disclosure.ownTandemsOf != nil, let partner = mentor ?? mentee { names = " with \(partner)" }
            var description = "Next session of tandem \(item.tandem.id), due \(item.dueOn)"
            if item.overdueDays > 0 { description += ", overdue by \(Format.days(item.overdueDays))" }
            if let last = item.tandem.lastSession { description += ". Last session: \(last)." } else { description += ". No session yet." }
            lines += ["BEGIN:VEVENT",
                      "UID:" + escape("\(item.tandem.id)-\(item.dueOn.description.replacingDashes())@tandem"),
                      "DTSTAMP:\(dtstamp)",
                      "DTSTART;VALUE=DATE:\(start.description.replacingDashes())",
                      "DTEND;VALUE=DATE:\(start.adding(days: 1).description.replacingDashes())",
                      "SUMMARY:" + escape("Reverse-mentoring session (tandem \(item.tandem.id))\(names)"),
                      "DESCRIPTION:" + escape(description),
                      "TRANSP:TRANSPARENT",
                      "END:VEVENT"]
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n": out += "\\n"
            case "\r": break
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Folds a content line at 75 octets (§3.1): CRLF and a space, never inside a UTF-8
    /// sequence.
    public static func fold(_ line: String) -> String {
        let bytes = Array(line.utf8)
        guard bytes.count > 75 else { return line }
        var parts: [String] = []
        var start = 0
        var limit = 75
        while start < bytes.count {
            var end = min(bytes.count, start + limit)
            // Back up over continuation bytes so a character is never split.
            while end < bytes.count && end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            parts.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
            limit = 74  // continuation lines start with a space, which counts
        }
        return parts.joined(separator: "\r\n ")
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func compact(_ t: Timestamp) -> String {
        t.rfc3339.filter { $0 != "-" && $0 != ":" }
    }
}

extension String {
    /// The text without dashes: `2027-03-01` → `20270301`.
    public func replacingDashes() -> String { String(filter { $0 != "-" }) }
}
