extension ProgrammeState {
    /// What is allowed but unusual, said as advice: the seeds' programmes run 6 to 12 months,
    /// and people sign up shortly before the kick-off. Pure; `self` is the state before the
    /// event.
    public func advisories(for event: ProgrammeEvent) -> [String] {
        switch event {
        case .programmeLaunched(let e):
            let days = e.starts.days(to: e.ends)
            if days < 182 || days > 366 {
                return [
                    "programme \(e.programme) runs \(days) day\(days == 1 ? "" : "s"); reverse-mentoring programmes usually run 6 to 12 months"
                ]
            }
        case .participantSignedUp(let e):
            if let programme = programmes[e.programme], e.on.days(to: programme.starts) > 92 {
                return [
                    "\(e.participant) signed up on \(e.on), more than 3 months before programme \(e.programme) starts on \(programme.starts)"
                ]
            }
        default: break
        }
        return []
    }
}

/// The programme's rules, as checks of an event against the state it would be applied to.
///
/// `decide` builds an event from a command and validates it here; a void is allowed only if
/// every later event still validates without the voided one. The one rule that depends on
/// the clock ("not in the future") lives in `decide`, since a replay must not re-judge old
/// events by today's date.
extension ProgrammeState {
    /// Checks `event` against this state.
    /// - Throws: the `DomainError` of the first rule it breaks.
    public func validate(_ event: ProgrammeEvent) throws(DomainError) {
        switch event {
        case .programmeLaunched(let e):
            guard programmes[e.programme] == nil else { throw .duplicateProgramme(e.programme) }
            try Field.text("name", e.name, maximum: 200)
            guard e.ends > e.starts else { throw .programmeDates(starts: e.starts, ends: e.ends) }
            guard (1...366).contains(e.cadenceDays) else {
                throw .invalidValue(
                    field: "cadence-days", value: "\(e.cadenceDays)", expected: "a number of days from 1 to 366")
            }
            guard (3...10_000).contains(e.minGroupSize) else {
                throw .invalidValue(
                    field: "min-group-size", value: "\(e.minGroupSize)",
                    expected: "at least 3: smaller groups could name people")
            }

        case .participantSignedUp(let e):
            let programme = try self.programme(e.programme)
            if let closed = programme.closedOn { throw .programmeClosed(e.programme, on: closed) }
            guard !participants.contains(e.participant) else { throw .duplicateParticipant(e.participant) }
            guard e.on <= programme.ends else { throw .programmeEnded(e.programme, ends: programme.ends, date: e.on) }

        case .tandemMatched(let e):
            guard !tandems.contains(e.tandem) else { throw .duplicateTandem(e.tandem) }
            let programme = try self.programme(e.programme)
            guard e.mentor != e.mentee else { throw .sameParticipant(e.mentor) }
            let mentor = try available(e.mentor, in: e.programme, as: .mentor, on: e.on)
            let mentee = try available(e.mentee, in: e.programme, as: .mentee, on: e.on)
            guard !werePartners(e.mentor, e.mentee) else { throw .formerPartners(e.mentor, e.mentee) }
            try notOverlapping(e.mentor, from: e.on, entry: "match")
            try notOverlapping(e.mentee, from: e.on, entry: "match")
            try crossUnit(mentor, mentee, override: e.override)
            try within(programme, e.on)
            if let run = e.run {
                guard let owner = matchRuns[run] else { throw .unknownMatchRun(run) }
                guard owner == e.programme else {
                    throw .runOfOtherProgramme(run, belongsTo: owner, asked: e.programme)
                }
                // "As proposed by run R" must be true, unless a reason says why not.
                if e.override == nil, mentor.proposals[run] != e.mentee {
                    throw .notProposedByRun(run, mentor: e.mentor, mentee: e.mentee)
                }
            }

        case .sessionHeld(let e):
            let tandem = try active(e.tandem)
            try within(programmes[tandem.programme]!, e.on)
            guard e.on >= tandem.since else { throw .dateBeforeTandem(e.on, e.tandem, since: tandem.since) }
            guard (1...600).contains(e.minutes) else {
                throw .invalidValue(
                    field: "minutes", value: "\(e.minutes)", expected: "a session lasts from 1 to 600 minutes")
            }
            try Field.list("topics", e.topics, maximumItems: 12, maximumLength: 60)

        case .profileUpdated(let e):
            guard let participant = participants[e.participant] else { throw .unknownParticipant(e.participant) }
            guard !participant.erased else { throw .participantErased(e.participant) }
            guard e.on >= participant.signedUpOn else {
                throw .dateBeforeSignUp(e.on, e.participant, signedUp: participant.signedUpOn)
            }

        case .checkInRecorded(let e):
            let tandem = try active(e.tandem)
            try within(programmes[tandem.programme]!, e.on)
            guard e.on >= tandem.since else { throw .dateBeforeTandem(e.on, e.tandem, since: tandem.since) }
            guard tandem.mentor == e.participant || tandem.mentee == e.participant else {
                throw .notAMember(e.participant, e.tandem)
            }
            guard (1...5).contains(e.rating) else {
                throw .invalidValue(
                    field: "rating", value: "\(e.rating)",
                    expected: "a rating from 1 (does not fit) to 5 (fits very well)")
            }

        case .goalSet(let e):
            let tandem = try active(e.tandem)
            let programme = programmes[tandem.programme]!
            guard tandem.goals[e.goal] == nil else { throw .duplicateGoal(e.tandem, e.goal) }
            try within(programme, e.on)
            guard e.on >= tandem.since else { throw .dateBeforeTandem(e.on, e.tandem, since: tandem.since) }
            if let due = e.due {
                guard due >= e.on else { throw .dueBeforeSet(due: due, set: e.on) }
                guard due <= programme.ends else {
                    throw .dueAfterProgramme(due: due, tandem.programme, ends: programme.ends)
                }
            }
            if let category = e.category { try Field.code("category", category) }

        case .goalReached(let e):
            let tandem = try active(e.tandem)
            guard let goal = tandem.goals[e.goal] else { throw .unknownGoal(e.tandem, e.goal) }
            if let reached = goal.reachedOn { throw .goalAlreadyReached(e.tandem, e.goal, on: reached) }
            try within(programmes[tandem.programme]!, e.on)
            guard e.on >= goal.setOn else { throw .dateBeforeGoalSet(e.on, e.tandem, e.goal, set: goal.setOn) }

        case .partnerSwapped(let e):
            let tandem = try active(e.tandem)
            guard !tandems.contains(e.newTandem) else { throw .duplicateTandem(e.newTandem) }
            guard tandem.includes(e.leaving) else { throw .notAMember(e.leaving, e.tandem) }
            guard !tandem.includes(e.joining) else { throw .sameParticipant(e.joining) }
            let leaving = participants[e.leaving]!
            let joining = try available(e.joining, in: tandem.programme, as: leaving.role, on: e.on)
            let staying = tandem.partner(of: e.leaving)
            guard !werePartners(staying, e.joining) else { throw .formerPartners(staying, e.joining) }
            let stayingRecord = participants[staying]!
            if stayingRecord.erased { throw .participantErased(staying) }
            try crossUnit(
                leaving.role == .mentor ? joining : stayingRecord, leaving.role == .mentor ? stayingRecord : joining,
                override: e.override)
            try within(programmes[tandem.programme]!, e.on)
            guard e.on >= tandem.since else { throw .dateBeforeTandem(e.on, e.tandem, since: tandem.since) }
            try notBeforeActivity(tandem, e.on, entry: "swap")
            try notOverlapping(e.joining, from: e.on, entry: "swap")

        case .participantWithdrew(let e):
            guard let participant = participants[e.participant] else { throw .unknownParticipant(e.participant) }
            if let withdrawn = participant.withdrawnOn { throw .participantWithdrawn(e.participant, on: withdrawn) }
            guard e.on >= participant.signedUpOn else {
                throw .dateBeforeSignUp(e.on, e.participant, signedUp: participant.signedUpOn)
            }
            let programme = programmes[participant.programme]!
            guard e.on <= programme.ends else { throw .programmeEnded(programme.id, ends: programme.ends, date: e.on) }
            // Every tandem the person was in must lie before the withdrawal on the business-date
            // timeline: begun, ended and written about no later than it.
            for id in participant.tandems {
                guard let tandem = tandems[id] else { continue }
                if tandem.since > e.on {
                    throw .timelineConflict(
                        fact: "\(e.participant) was matched in \(id) on \(tandem.since)", factDate: tandem.since,
                        seq: tandem.sinceSeq, entry: "withdrawal", date: e.on)
                }
                if let until = tandem.until, until > e.on, let seq = tandem.untilSeq {
                    throw .timelineConflict(
                        fact: "\(id) was \(tandem.status == .completed ? "completed" : "dissolved") on \(until)",
                        factDate: until,
                        seq: seq, entry: "withdrawal", date: e.on)
                }
                if tandem.status == .active { try notBeforeActivity(tandem, e.on, entry: "withdrawal") }
            }

        case .tandemCompleted(let e):
            let tandem = try active(e.tandem)
            try within(programmes[tandem.programme]!, e.on)
            guard e.on >= tandem.since else { throw .dateBeforeTandem(e.on, e.tandem, since: tandem.since) }
            if let last = tandem.lastSession, e.on < last {
                throw .dateBeforeLastSession(e.on, e.tandem, lastSession: last)
            }
            try notBeforeActivity(tandem, e.on, entry: "completion")

        case .eventVoided(let e):
            guard e.seq >= 1, e.seq <= head else { throw .seqNotFound(e.seq, head: head) }
            if let by = voided[e.seq] { throw .alreadyVoided(e.seq, by: by) }
            if let reason = e.reason { try Field.text("reason", reason, maximum: 200) }

        case .personalDataErased(let e):
            guard let participant = participants[e.participant] else { throw .unknownParticipant(e.participant) }
            guard !participant.erased else { throw .alreadyErased(e.participant) }

        case .programmeClosed(let e):
            let programme = try self.programme(e.programme)
            if let closed = programme.closedOn { throw .programmeClosed(e.programme, on: closed) }
            guard e.on >= programme.starts else {
                throw .dateOutsideProgramme(e.on, e.programme, starts: programme.starts, ends: programme.ends)
            }
            if let open = tandems.values.first(where: { $0.programme == e.programme && $0.status == .active }) {
                throw .alreadyInTandem(open.mentor, open.id)
            }
        case .matchRunRecorded(let e):
            guard matchRuns[e.run] == nil else { throw .duplicateMatchRun(e.run) }
            _ = try programme(e.programme)

        case .logCreated, .unknown:
            break
        }
    }

    func programme(_ id: ProgrammeID) throws(DomainError) -> Programme {
        guard let programme = programmes[id] else { throw .unknownProgramme(id) }
        return programme
    }

    func active(_ id: TandemID) throws(DomainError) -> TandemRecord {
        guard let tandem = tandems[id] else { throw .unknownTandem(id) }
        guard tandem.status == .active else { throw .tandemNotActive(id, tandem.status) }
        return tandem
    }

    /// Someone who can join a tandem: exists, in this programme, in this role, still in the
    /// programme, with their data, and not in a tandem now.
    func available(
        _ id: ParticipantID, in programme: ProgrammeID, as role: Role, on date: BusinessDate
    ) throws(DomainError) -> ParticipantRecord {
        guard let participant = participants[id] else { throw .unknownParticipant(id) }
        guard participant.programme == programme else {
            throw .wrongProgramme(id, belongsTo: participant.programme, asked: programme)
        }
        guard participant.role == role else { throw .wrongRole(id, signedUpAs: participant.role, neededAs: role) }
        if let withdrawn = participant.withdrawnOn { throw .participantWithdrawn(id, on: withdrawn) }
        if participant.erased { throw .participantErased(id) }
        if let tandem = participant.activeTandem { throw .alreadyInTandem(id, tandem) }
        guard date >= participant.signedUpOn else {
            throw .dateBeforeSignUp(date, id, signedUp: participant.signedUpOn)
        }
        return participant
    }

    /// A new tandem from `date` on must not overlap an earlier tandem of the same person that
    /// ended after `date` (recorded late, a backdated match would put them in two tandems).
    func notOverlapping(_ id: ParticipantID, from date: BusinessDate, entry: String) throws(DomainError) {
        guard let participant = participants[id] else { return }
        for tandemID in participant.tandems {
            guard let tandem = tandems[tandemID], let until = tandem.until, until > date, let seq = tandem.untilSeq
            else { continue }
            throw .timelineConflict(
                fact: "\(id) was in \(tandemID) until \(until)", factDate: until, seq: seq, entry: entry, date: date)
        }
    }

    /// An end of a tandem (a swap, a withdrawal, a completion) may not come before what was
    /// recorded about its time together.
    func notBeforeActivity(_ tandem: TandemRecord, _ date: BusinessDate, entry: String) throws(DomainError) {
        guard let last = tandem.lastActivity, last > date else { return }
        throw .timelineConflict(
            fact: "\(tandem.id) has an entry dated \(last)", factDate: last, seq: tandem.lastActivitySeq, entry: entry,
            date: date)
    }

    func crossUnit(_ mentor: ParticipantRecord, _ mentee: ParticipantRecord, override: String?) throws(DomainError) {
        if let override {
            try Field.text("override", override, maximum: 200)
            return
        }
        if let a = mentor.unit, let b = mentee.unit, Field.normalised(a) == Field.normalised(b) {
            throw .sameUnit(mentor.id, mentee.id, unit: a)
        }
    }

    /// The date lies inside the programme, and the programme is not closed.
    func within(_ programme: Programme, _ date: BusinessDate) throws(DomainError) {
        if let closed = programme.closedOn { throw .programmeClosed(programme.id, on: closed) }
        guard programme.contains(date) else {
            throw .dateOutsideProgramme(date, programme.id, starts: programme.starts, ends: programme.ends)
        }
    }
}

/// Checks on free-form fields.
public enum Field {
    /// Non-empty (after trimming), at most `maximum` characters, no control characters.
    public static func text(_ field: String, _ value: String, maximum: Int) throws(DomainError) {
        let trimmed = value.trimmed
        guard !trimmed.isEmpty else {
            throw .invalidValue(field: field, value: value, expected: "it must not be empty")
        }
        // Bytes first: a text no longer in bytes than the maximum is no longer in
        // characters, and a control character is one byte in UTF-8 that no other scalar's
        // bytes contain. Counting characters (grapheme breaking) and walking scalars were
        // most of deciding a signup.
        guard trimmed.utf8.count <= maximum || trimmed.count <= maximum else {
            throw .invalidValue(
                field: field, value: String(trimmed.prefix(40)) + "…", expected: "at most \(maximum) characters")
        }
        var bytes = trimmed
        // Read as one run of bytes: walking the UTF-8 view byte by byte cost more than the rule.
        guard !bytes.withUTF8({ $0.contains { $0 < 0x20 || $0 == 0x7f } }) else {
            throw .invalidValue(
                field: field, value: trimmed, expected: "control characters (like newlines) are not allowed here")
        }
    }

    /// A code that stays in the log for good (a session topic, a goal category): a slug of
    /// lower-case ASCII letters and digits in hyphen-separated words, at most 40 characters,
    /// so that it cannot hold a name or a sentence.
    public static func slug(_ field: String, _ value: String) throws(DomainError) {
        // Read as bytes: every allowed character is ASCII, so any other byte refuses the
        // value, as it would refuse the word it stands in (splitting into characters cost
        // more than the rest of deciding a session).
        var text = value
        let isSlug = text.withUTF8 { utf8 -> Bool in
            guard !utf8.isEmpty, utf8.count <= 40 else { return false }
            var wordIsEmpty = true
            for byte in utf8 {
                if byte == UInt8(ascii: "-") {
                    if wordIsEmpty { return false }
                    wordIsEmpty = true
                } else if byte &- 97 < 26 || byte &- 48 < 10 {
                    wordIsEmpty = false
                } else {
                    return false
                }
            }
            return !wordIsEmpty
        }
        guard isSlug else {
            throw .invalidValue(
                field: field, value: value,
                expected:
                    "a code of lower-case letters, digits and hyphens, at most 40 characters, e.g. linkedin or data-visualisation"
            )
        }
    }

    /// A given participant id must not carry the person's name, since ids stay in the log for
    /// good: refuses an id that contains a word (3 letters or more) of `name`, compared
    /// without case and accents.
    public static func idNamesNobody(_ id: String, name: String) throws(DomainError) {
        // Most ids and names are ASCII: their words are runs of letters among the bytes,
        // found without breaking the text into characters (a large import checks every row).
        let ascii = id.utf8.allSatisfy({ $0 < 0x80 }) && name.utf8.allSatisfy({ $0 < 0x80 })
        if let word = ascii ? asciiWordOf(name, in: id) : wordOf(name, in: id) {
            throw .idNamesPerson(id: id, word: word)
        }
    }

    /// The first word (3 letters or more, folded) of `name` that `id` contains, compared
    /// without case and accents: what `idNamesNobody` refuses.
    static func wordOf(_ name: String, in id: String) -> String? {
        let folded = fold(id)
        var word = ""
        for character in fold(name) + " " {
            if character.isLetter {
                word.append(character)
                continue
            }
            if word.count >= 3, folded.contains(word) { return word }
            word = ""
        }
        return nil
    }

    /// `wordOf` for an ASCII `name` and `id`, on their bytes.
    static func asciiWordOf(_ name: String, in id: String) -> String? {
        // In place on both texts' bytes: every signup of an import asks, and two arrays
        // per call were most of what deciding a signup cost.
        @inline(__always) func lower(_ c: UInt8) -> UInt8 { c &- 65 < 26 ? c | 0x20 : c }
        var name = name
        var id = id
        return name.withUTF8 { letters in
            id.withUTF8 { folded -> String? in
                var start = 0
                while start < letters.count {
                    guard lower(letters[start]) &- 97 < 26 else {
                        start += 1
                        continue
                    }
                    var end = start
                    while end < letters.count, lower(letters[end]) &- 97 < 26 { end += 1 }
                    let length = end - start
                    if length >= 3, folded.count >= length {
                        for offset in 0...(folded.count - length) {
                            var i = 0
                            while i < length, lower(folded[offset + i]) == lower(letters[start + i]) { i += 1 }
                            if i == length {
                                return String(decoding: letters[start..<end].map(lower), as: UTF8.self)
                            }
                        }
                    }
                    start = end
                }
                return nil
            }
        }
    }

    /// Lower case, with the accents of Latin letters taken off (ü → u, ß → ss): how names
    /// are compared and searched.
    public static func fold(_ text: String) -> String {
        // Most names and ids are ASCII: lower-casing their bytes is the whole fold.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: text.utf8.map { $0 &- 65 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        var out = ""
        for character in text.lowercased() { out += foldedLetters[character] ?? String(character) }
        return out
    }

    /// The Latin letters with accents that `fold` replaces, lower case.
    private static let foldedLetters: [Character: String] = [
        "ä": "a", "à": "a", "á": "a", "â": "a", "ã": "a", "å": "a", "æ": "ae", "ç": "c", "č": "c",
        "è": "e", "é": "e", "ê": "e", "ë": "e", "ì": "i", "í": "i", "î": "i", "ï": "i", "ñ": "n",
        "ò": "o", "ó": "o", "ô": "o", "õ": "o", "ö": "o", "ø": "o", "ß": "ss", "š": "s", "ù": "u",
        "ú": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y", "ž": "z", "ł": "l", "ğ": "g", "ş": "s",
    ]

    /// A short code: 1–40 characters, no control characters.
    public static func code(_ field: String, _ value: String) throws(DomainError) {
        try text(field, value, maximum: 40)
    }

    /// A list of short items.
    public static func list(
        _ field: String, _ values: [String], maximumItems: Int, maximumLength: Int
    ) throws(DomainError) {
        guard values.count <= maximumItems else {
            throw .invalidValue(
                field: field, value: values.joined(separator: ","), expected: "at most \(maximumItems) items")
        }
        for value in values { try text(field, value, maximum: maximumLength) }
    }

    /// Case-folded and trimmed, for comparing units.
    public static func normalised(_ value: String) -> String { value.trimmed.lowercased() }
}

extension String {
    /// Without leading and trailing white space.
    public var trimmed: String {
        // Nearly every value starts and ends with a visible ASCII character: no work to do.
        var copy = self
        let visibleEnds = copy.withUTF8 { utf8 -> Bool in
            guard let a = utf8.first, let z = utf8.last else { return false }
            return a > 0x20 && a < 0x7F && z > 0x20 && z < 0x7F
        }
        if visibleEnds { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
