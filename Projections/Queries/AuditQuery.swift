import EventLog
import Mentoring

/// `tandem audit`: the event trail, entry by entry: who recorded what, when, for whom, and
/// which entries were voided by which correction. Summaries name ids, never a person's
/// name, notes, goal texts or free-text reasons.
public enum AuditQuery {
    public enum Subject: Sendable, Equatable {
        case everything
        case participant(ParticipantID)
        case tandem(TandemID)
        case programme(ProgrammeID)
    }

    public struct Options: Sendable {
        public var subject: Subject
        /// Recorded on or after this day.
        public var since: BusinessDate?
        /// Recorded on or before this day.
        public var until: BusinessDate?
        public init(subject: Subject = .everything, since: BusinessDate? = nil, until: BusinessDate? = nil) {
            self.subject = subject
            self.since = since
            self.until = until
        }
    }

    /// One line of the trail.
    public struct Entry: Sendable, Equatable {
        public var seq: Int
        public var at: Timestamp
        public var actor: String
        public var onBehalfOf: String?
        public var type: String
        public var summary: String
        public var voided: Int?
        public var hash: String
    }

    /// Who is in which tandem as the trail unfolds: enough to tell which events touched whom.
    struct Membership {
        var members: [TandemID: (ParticipantID, ParticipantID)] = [:]
        var active: [ParticipantID: TandemID] = [:]
        var programmeOfTandem: [TandemID: ProgrammeID] = [:]
        var programmeOfPerson: [ParticipantID: ProgrammeID] = [:]
    }

    public static func run(
        _ source: any LineSource, window: ReplayWindow, input: QueryInput, options: Options
    ) throws -> QueryResult {
        try input.disclosure.permit(.audit)
        switch options.subject {
        case .participant(let p): guard input.model.people[p] != nil else { throw QueryError.unknownParticipant(p) }
        case .tandem(let t): guard input.model.tandems[t] != nil else { throw QueryError.unknownTandem(t) }
        case .programme(let p):
            guard input.model.programmes[p] != nil else {
                throw QueryError.unknownProgramme(p, known: input.model.programmeOrder)
            }
        case .everything: break
        }
        var entries: [Entry] = []
        var included = Set<Int>()
        var voidedBy: [Int: Int] = [:]
        var membership = Membership()
        var swapChain: [String] = []
        do {
            try source.forEachLine(from: 1, after: nil) { line in
                if let limit = window.knownAt, line.seq > limit { throw StopAudit() }
                let recorded = try EventDecoder.decode(line)
                if let cutoff = window.recordedBy, recorded.at > cutoff { return }
                let touched = touches(recorded, options.subject, &membership, &swapChain)
                if case .eventVoided(let v) = recorded.event { voidedBy[v.seq] = recorded.seq }
                guard touched || (recorded.event.voidTarget.map { included.contains($0) } ?? false) else { return }
                guard window.admits(recorded.event.businessDate) else { return }
                let day = BusinessDate(recorded.at)
                if let since = options.since, day < since { return }
                if let until = options.until, day > until { return }
                included.insert(recorded.seq)
                // Whom the actor acted for is in the vault (new events): the audit says that
                // someone was, not who.
                let behalf =
                    recorded.onBehalfOf ?? recorded.onBehalfOfRef.map { _ in "someone (recorded in the vault)" }
                entries.append(
                    Entry(
                        seq: recorded.seq, at: recorded.at, actor: recorded.actor, onBehalfOf: behalf,
                        type: recorded.event.type, summary: recorded.event.auditSummary, voided: nil,
                        hash: line.hash.hex))
            }
        } catch is StopAudit {}
        for i in entries.indices { entries[i].voided = voidedBy[entries[i].seq] }
        let rows: [JSONValue] = entries.map { entry in
            .object([
                "seq": .int(Int64(entry.seq)), "at": .string(entry.at.rfc3339), "actor": .string(entry.actor),
                "onBehalfOf": entry.onBehalfOf.map(JSONValue.string) ?? .null, "type": .string(entry.type),
                "summary": .string(entry.summary), "voided": entry.voided.map { .int(Int64($0)) } ?? .null,
                "hash": .string(entry.hash),
            ])
        }
        let table = entries.map { entry -> [String] in
            let actor = entry.onBehalfOf.map { "\(entry.actor) for \($0)" } ?? entry.actor
            let summary = entry.voided.map { "[voided by seq \($0)] " } ?? ""
            return [String(entry.seq), entry.at.rfc3339.replacingT(), actor, summary + entry.summary]
        }
        var result = QueryResult(
            basis: input.basis, payloadKey: "entries", payload: .array(rows),
            table: TextTable(headers: ["seq", "recorded", "by", "what"], rows: table, numeric: [0]))
        result.csvColumns = ["seq", "at", "actor", "onBehalfOf", "type", "summary", "voided", "hash"]
        if case .participant = options.subject, !swapChain.isEmpty {
            result.extra.append(("partners", .array(swapChain.map(JSONValue.string))))
            result.notes.append("Partners: " + swapChain.joined(separator: " → "))
        }
        return result
    }

    struct StopAudit: Error {}

    /// Whether the event concerns the subject, updating who is where.
    static func touches(
        _ recorded: RecordedEvent, _ subject: Subject, _ m: inout Membership, _ chain: inout [String]
    ) -> Bool {
        var people: Set<ParticipantID> = []
        var tandems: Set<TandemID> = []
        var programme: ProgrammeID?
        switch recorded.event {
        case .participantSignedUp(let e):
            m.programmeOfPerson[e.participant] = e.programme
            people = [e.participant]
            programme = e.programme
        case .tandemMatched(let e):
            m.members[e.tandem] = (e.mentor, e.mentee)
            m.active[e.mentor] = e.tandem
            m.active[e.mentee] = e.tandem
            m.programmeOfTandem[e.tandem] = e.programme
            people = [e.mentor, e.mentee]
            tandems = [e.tandem]
            programme = e.programme
            if case .participant(let p) = subject, people.contains(p) {
                chain.append("\(p == e.mentor ? e.mentee : e.mentor) (\(e.tandem))")
            }
        case .tandemCompleted(let e):
            tandems = [e.tandem]
            if let (a, b) = m.members[e.tandem] { for p in [a, b] where m.active[p] == e.tandem { m.active[p] = nil } }
        case .partnerSwapped(let e):
            tandems = [e.tandem, e.newTandem]
            people = [e.leaving, e.joining]
            if let (a, b) = m.members[e.tandem] {
                let staying = a == e.leaving ? b : a
                people.insert(staying)
                let pair = a == staying ? (staying, e.joining) : (e.joining, staying)
                m.members[e.newTandem] = pair
                m.programmeOfTandem[e.newTandem] = m.programmeOfTandem[e.tandem]
                m.active[e.leaving] = nil
                m.active[staying] = e.newTandem
                m.active[e.joining] = e.newTandem
                if case .participant(let p) = subject {
                    if p == staying {
                        chain.append("\(e.joining) (\(e.newTandem), after \(e.leaving) left: \(e.reason.rawValue))")
                    } else if p == e.joining {
                        chain.append("\(staying) (\(e.newTandem), joined: \(e.reason.rawValue))")
                    } else if p == e.leaving {
                        chain.append("left \(e.tandem): \(e.reason.rawValue)")
                    }
                }
            }
        case .participantWithdrew(let e):
            people = [e.participant]
            if let tandem = m.active[e.participant] {
                tandems = [tandem]
                if let (a, b) = m.members[tandem] {
                    people.formUnion([a, b])
                    m.active[a] = nil
                    m.active[b] = nil
                    if case .participant(let p) = subject, p != e.participant, people.contains(p) {
                        chain.append("freed: \(e.participant) withdrew (\(e.reason.rawValue))")
                    }
                }
            }
        default:
            // Events that change no membership belong to whatever they name; a programme
            // not named comes from the tandem or person below.
            let subjects = recorded.event.subjects
            people = Set(subjects.participants)
            tandems = Set(subjects.tandems)
            programme = subjects.programmes.first
        }
        if programme == nil, let t = tandems.first { programme = m.programmeOfTandem[t] }
        if programme == nil, let p = people.first { programme = m.programmeOfPerson[p] }
        switch subject {
        case .everything: return true
        case .participant(let p):
            if people.contains(p) { return true }
            return tandems.contains { t in m.members[t].map { $0.0 == p || $0.1 == p } ?? false }
        case .tandem(let t): return tandems.contains(t)
        case .programme(let p): return programme == p
        }
    }
}

extension ProgrammeEvent {
    /// The seq a void targets.
    public var voidTarget: Int? { if case .eventVoided(let e) = self { e.seq } else { nil } }
}

extension String {
    /// `2027-03-01T09:00:00Z` → `2027-03-01 09:00`.
    func replacingT() -> String {
        guard count >= 16 else { return self }
        return String(prefix(10)) + " " + String(dropFirst(11).prefix(5))
    }
}
