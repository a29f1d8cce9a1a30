import Dispatch
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

        /// The entry of a line of the trail (its hash in hex).
        init(_ recorded: RecordedEvent, hash: String, voidedBy: [Int: Int]) {
            seq = recorded.seq
            at = recorded.at
            actor = recorded.actor
            // Whom the actor acted for is in the vault (new events): the audit says that
            // someone was, not who.
            onBehalfOf = recorded.onBehalfOf ?? recorded.onBehalfOfRef.map { _ in "someone (recorded in the vault)" }
            type = recorded.event.type
            summary = recorded.event.auditSummary
            voided = voidedBy[recorded.seq]
            self.hash = hash
        }

        /// The table's cells, in the order of `AuditQuery.headers`.
        var cells: [String] {
            let by = onBehalfOf.map { "\(actor) for \($0)" } ?? actor
            let flag = voided.map { "[voided by seq \($0)] " } ?? ""
            return [String(seq), at.rfc3339.replacingT(), by, flag + summary]
        }

        /// The JSON values, in the order of `AuditQuery.keys`.
        var values: [JSONValue] {
            [
                .int(Int64(seq)), .string(at.rfc3339), .string(actor), onBehalfOf.map(JSONValue.string) ?? .null,
                .string(type), .string(summary), voided.map { .int(Int64($0)) } ?? .null, .string(hash),
            ]
        }
    }

    /// Ascending seqs kept as runs of consecutive ones: a whole log's trail is one run.
    struct TrailSeqs {
        private(set) var runs: [ClosedRange<Int>] = []
        private(set) var count = 0

        init() {}

        /// Every seq from 1 to `last`.
        init(through last: Int) {
            if last > 0 { runs = [1...last] }
            count = max(last, 0)
        }

        /// Adds `seq`, which must be above every seq added before.
        mutating func append(_ seq: Int) {
            assert(runs.last.map { $0.upperBound < seq } ?? true, "seqs out of order")
            count += 1
            if let last = runs.last, last.upperBound == seq - 1 {
                runs[runs.count - 1] = last.lowerBound...seq
            } else {
                runs.append(seq...seq)
            }
        }

        /// - Complexity: O(log runs).
        func contains(_ seq: Int) -> Bool {
            var low = 0
            var high = runs.count
            while low < high {
                let mid = (low + high) / 2
                if runs[mid].upperBound < seq { low = mid + 1 } else { high = mid }
            }
            return low < runs.count && runs[low].contains(seq)
        }
    }

    /// Who is in which tandem as the trail unfolds: enough to tell which events touched whom.
    struct Membership {
        var members: [TandemID: (ParticipantID, ParticipantID)] = [:]
        var active: [ParticipantID: TandemID] = [:]
        var programmeOfTandem: [TandemID: ProgrammeID] = [:]
        var programmeOfPerson: [ParticipantID: ProgrammeID] = [:]
    }

    /// The trail of `options.subject` in `window`, streamed: a first pass decides which lines
    /// belong to it (keeping their seqs as runs, and which void voided each), and rendering
    /// reads those lines again, row by row. The trail of a ten-million-event store is gigabytes
    /// of text; it is never held whole.
    ///
    /// With a subject index (`--tandem`, `--participant`), only the lines it lists under the
    /// subject, its tandems and partners, every void, and the lines after the index are read:
    /// every line that can touch the subject is among them, and the membership each one is
    /// judged by is set by lines among them too. Without one, every line is read. Lines read
    /// after the index's head (every line, without an index) are added to `collecting`.
    /// - Throws: `DisclosureRefusal`, `QueryError` for an unknown subject, `LogError` and
    ///   `EventDecodingError` from reading the log, `SnapshotError` from a damaged index.
    ///   Rendering the result reads the log again, and throws what that read throws.
    /// - Complexity: memory O(runs of consecutive seqs in the trail + voids), besides the
    ///   membership of tandems and people a pass over every line keeps.
    ///
    /// In a window, the index is used only with `subjectModel`: a model of the whole log
    /// (a slice of it will do) holding the subject. The window's own model lacks the tandems
    /// formed after it, which a pass over every line still reads (a partner chain goes on
    /// past `--as-of`).
    public static func run(
        _ source: any AppendOnlyLog, window: ReplayWindow, input: QueryInput, options: Options,
        index: SubjectIndex.Reader? = nil, subjectModel: ProgrammeReadModel? = nil,
        collecting builder: SubjectIndex.Builder? = nil
    ) throws -> QueryResult {
        try run(
            source, window: window, input: input, options: options, index: index, subjectModel: subjectModel,
            collecting: builder, narrowedTo: nil, observing: nil, voidsOfWholeLog: nil)
    }

    /// `run`, reading for the trail of everything only the `narrowed` runs (`narrowedRuns`
    /// of a timeline) and the lines after the timeline's head; or adding every line it reads
    /// to `timelineBuilder`.
    ///
    /// With `voidsOfWholeLog` (the trail of everything, whole: every line up to `through`
    /// is in it), no line is read to choose: the voids, by the seq of the void and of the
    /// line it voids, come from a timeline, and rendering checks each line it reads
    /// against them (`SnapshotError.doesNotMatchLog` where a line is a void the timeline
    /// does not list, or is not the void it lists).
    static func run(
        _ source: any AppendOnlyLog, window: ReplayWindow, input: QueryInput, options: Options,
        index: SubjectIndex.Reader?, subjectModel: ProgrammeReadModel?, collecting builder: SubjectIndex.Builder?,
        narrowedTo narrowed: (runs: [ClosedRange<Int>], through: LogHead)?,
        observing timelineBuilder: Timeline.Builder?,
        voidsOfWholeLog: (targets: [Int: Int], through: Int)?
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
        if let (targets, through) = voidsOfWholeLog {
            precondition(
                options.subject == .everything && options.since == nil && options.until == nil && window == .everything,
                "the whole log's trail only")
            var voidedBy: [Int: Int] = [:]
            // The last void of a line is the one shown, as in the pass.
            for (void, target) in targets.sorted(by: { $0.key < $1.key }) { voidedBy[target] = void }
            return trail(
                source, included: TrailSeqs(through: through), voidedBy: voidedBy, voidTargets: targets,
                input: input, linesRead: 0)
        }
        var included = TrailSeqs()
        var voidedBy: [Int: Int] = [:]
        var membership = Membership()
        var swapChain: [String] = []
        var linesRead = 0
        let wholeModel = window == .everything ? input.model : subjectModel
        let indexed = index.flatMap { index in
            wholeModel.flatMap { IndexedSubject(options.subject, model: $0) }.map { (index, $0) }
        }
        // The trail of everything, by recording day or in a window: the timeline said which
        // lines cannot be in it, and they are not read.
        precondition(
            narrowed == nil || (options.subject == .everything && builder == nil), "narrowed only for everything")
        do {
            try forEachLine(source, indexed, narrowed) { line in
                linesRead += 1
                try timelineBuilder?.observe(line)
                if let limit = window.knownAt, line.seq > limit { throw StopAudit() }
                let recorded = try EventDecoder.decode(line)
                let touched: Bool
                if let (index, subject) = indexed {
                    if recorded.seq > index.head.seq, subject.needsMembership(recorded) { throw NeedsWholePass() }
                    if let cutoff = window.recordedBy, recorded.at > cutoff { return }
                    touched = subject.concerns(recorded, chain: &swapChain)
                } else {
                    if let cutoff = window.recordedBy, recorded.at > cutoff { return }
                    let resolved = resolve(recorded, options.subject, &membership, &swapChain)
                    builder?.add(recorded.seq, resolved, isVoid: recorded.event.voidTarget != nil)
                    touched = resolved.concerns(options.subject, membership)
                }
                if case .eventVoided(let v) = recorded.event { voidedBy[v.seq] = recorded.seq }
                guard touched || (recorded.event.voidTarget.map { included.contains($0) } ?? false) else { return }
                guard window.admits(recorded.event.businessDate) else { return }
                let day = BusinessDate(recorded.at)
                if let since = options.since, day < since { return }
                if let until = options.until, day > until { return }
                included.append(recorded.seq)
            }
        } catch is StopAudit {
        } catch is NeedsWholePass {
            return try run(source, window: window, input: input, options: options, collecting: builder)
        }
        // Only the voids of lines in the trail are shown.
        voidedBy = voidedBy.filter { included.contains($0.key) }
        var result = trail(
            source, included: included, voidedBy: voidedBy, voidTargets: nil, input: input, linesRead: linesRead)
        if case .participant = options.subject, !swapChain.isEmpty {
            result.extra.append(("partners", .array(swapChain.map(JSONValue.string))))
            result.notes.append("Partners: " + swapChain.joined(separator: " → "))
        }
        return result
    }

    /// The trail of the lines `included`, streamed (each line read again as it is printed).
    static func trail(
        _ source: any AppendOnlyLog, included: TrailSeqs, voidedBy: [Int: Int], voidTargets: [Int: Int]?,
        input: QueryInput, linesRead: Int
    ) -> QueryResult {
        var result = QueryResult(
            basis: input.basis, payloadKey: "entries", payload: .array([]),
            table: TextTable(headers: headers, rows: [], numeric: numeric))
        result.csvColumns = keys
        result.stream = StreamedList(headers: headers, numeric: numeric, keys: keys, count: included.count) {
            [runs = included.runs] part, body in
            try forEachRow(source, runs: runs, voidedBy: voidedBy, checking: voidTargets, part: part) {
                try body($0.0, $0.1)
            }
        }
        result.linesRead = linesRead
        return result
    }

    /// The rows of the lines in `runs`: read and decoded on another thread, in batches, and
    /// made into `part` of each row and handed to `body` on this one, in order. Printing the
    /// trail of a large store is a pass over most of its lines per pass of the renderer; the
    /// decoding then runs beside the printing. With `voidTargets` (the target of each void,
    /// by the void's seq), each line read is checked to be a void of that target, or no void
    /// if it is not listed.
    /// - Throws: `LogError`, `EventDecodingError`, `SnapshotError.doesNotMatchLog` from the
    ///   reading thread; what `body` throws (which stops the reading).
    static func forEachRow(
        _ source: any AppendOnlyLog, runs: [ClosedRange<Int>], voidedBy: [Int: Int], checking voidTargets: [Int: Int]?,
        part: StreamedList.Part, _ body: (([String], [JSONValue])) throws -> Void
    ) throws {
        struct Stop: Error {}
        let channel = BatchChannel<(RecordedEvent, String)>(capacity: 16)
        DispatchQueue.global().async {
            var batch: [(RecordedEvent, String)] = []
            batch.reserveCapacity(2048)
            var decoder = EventDecoder()
            do {
                try source.forEachLine(inRuns: runs) { line in
                    let recorded = try decoder.decode(line)
                    if let voidTargets, voidTargets[line.seq] != recorded.event.voidTarget {
                        throw SnapshotError.doesNotMatchLog(seq: line.seq)
                    }
                    batch.append((recorded, String(decoding: line.hashHex, as: UTF8.self)))
                    if batch.count == 2048 {
                        guard channel.send(batch) else { throw Stop() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = channel.send(batch) }
                channel.finish(nil)
            } catch is Stop {
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        do {
            while let batch = try channel.receive() {
                for (recorded, hash) in batch {
                    let entry = Entry(recorded, hash: hash, voidedBy: voidedBy)
                    try body(part == .cells ? (entry.cells, []) : ([], entry.values))
                }
            }
        } catch {
            channel.cancel()
            throw error
        }
    }

    static let headers = ["seq", "recorded", "by", "what"]
    static let numeric: Set<Int> = [0]
    static let keys = ["seq", "at", "actor", "onBehalfOf", "type", "summary", "voided", "hash"]

    struct StopAudit: Error {}

    /// A tail line the index path cannot judge (a withdrawal of someone it watches, whose
    /// tandem then depends on who was where): the audit starts again with every line.
    struct NeedsWholePass: Error {}

    /// The lines to read: with an index, the lines listed under the subject (and a
    /// participant's tandems) and every void, then every line after the index; else the
    /// `narrowed` runs, if any; else every line.
    static func forEachLine(
        _ source: any LineSource, _ indexed: (SubjectIndex.Reader, IndexedSubject)?,
        _ narrowed: (runs: [ClosedRange<Int>], through: LogHead)? = nil, _ body: (LogLine) throws -> Void
    ) throws {
        guard let (index, subject) = indexed else {
            if let (runs, timeline) = narrowed {
                try source.forEachLine(inRuns: runs, body)
                // Lines appended after the timeline was read.
                try source.forEachLine(from: timeline.seq + 1, after: timeline, body)
            } else {
                try source.forEachLine(from: 1, after: nil, body)
            }
            return
        }
        try source.forEachLine(at: try index.seqs(of: subject.keys + [SubjectIndex.voidKey]), body)
        try source.forEachLine(from: index.head.seq + 1, after: index.head, body)
    }

    /// The lines that may be in a trail of everything, as runs: every void (it marks what it
    /// voids, whenever it was recorded), and every other line that the timeline does not
    /// place, for sure, outside `--since`/`--until` (its recording day) or outside the
    /// window (its business day, its recording day) or after `--known-at`'s seq. Each line
    /// read is judged again in full; this only spares reading the rest.
    /// - Complexity: O(lines of the timeline), four bytes each.
    static func narrowedRuns(_ timeline: Timeline, options: Options, window: ReplayWindow) -> [ClosedRange<Int>] {
        let judge = Timeline.Judge(window)
        let limit = min(window.knownAt ?? timeline.count, timeline.count)
        let since = options.since?.dayNumber, until = options.until?.dayNumber
        var runs: [ClosedRange<Int>] = []
        var start = 0  // the open run's first seq (0: none)
        var voids = timeline.voids.lazy.map(\.seq).makeIterator()
        var nextVoid = voids.next()
        if limit >= 1 {
            for seq in 1...limit {
                while let v = nextVoid, v < seq { nextVoid = voids.next() }
                var keep = nextVoid == seq
                if !keep {
                    let (business, recorded) = timeline.words(seq)
                    keep = judge.admission(business: business, recorded: recorded) != .leftOut
                    if keep, recorded != Timeline.undated, recorded != Timeline.unknown {
                        let day = Int(recorded) - 1
                        keep = (since.map { day >= $0 } ?? true) && (until.map { day <= $0 } ?? true)
                    }
                }
                if keep {
                    if start == 0 { start = seq }
                } else if start > 0 {
                    runs.append(start...(seq - 1))
                    start = 0
                }
            }
            if start > 0 { runs.append(start...limit) }
        }
        return runs
    }

    /// A tandem or participant audited through the subject index. What a pass over every
    /// line learns from who is where, it takes from the model: a tandem's members never
    /// change, and the index lists each line under the tandems and people it touched as
    /// recorded (a withdrawal under the tandem it ended).
    struct IndexedSubject {
        let subject: Subject
        /// The tandem's members; or the participant's tandems and their partners.
        let members: (ParticipantID, ParticipantID)?
        let tandems: [TandemID: (ParticipantID, ParticipantID)]
        let partners: Set<ParticipantID>

        init?(_ subject: Subject, model: ProgrammeReadModel) {
            self.subject = subject
            switch subject {
            case .tandem(let t):
                guard let view = model.tandems[t] else { return nil }
                members = (view.mentor, view.mentee)
                tandems = [:]
                partners = []
            case .participant(let p):
                var tandems: [TandemID: (ParticipantID, ParticipantID)] = [:]
                for view in model.tandems.values where view.includes(p) {
                    tandems[view.id] = (view.mentor, view.mentee)
                }
                self.tandems = tandems
                partners = Set(tandems.values.flatMap { [$0.0, $0.1] }).subtracting([p])
                members = nil
            case .programme, .everything:
                return nil
            }
        }

        /// The index keys of the lines that may concern the subject.
        var keys: [UInt32] {
            switch subject {
            case .tandem(let t): [SubjectIndex.key(t)]
            case .participant(let p): [SubjectIndex.key(p)] + tandems.keys.map(SubjectIndex.key)
            case .programme, .everything: []
            }
        }

        /// Whether a line after the index needs who was where to be judged: a withdrawal by
        /// the tandem's member, or by the participant or a partner.
        func needsMembership(_ recorded: RecordedEvent) -> Bool {
            guard case .participantWithdrew(let e) = recorded.event else { return false }
            switch subject {
            case .tandem: return members.map { $0.0 == e.participant || $0.1 == e.participant } ?? false
            case .participant(let p): return e.participant == p || partners.contains(e.participant)
            case .programme, .everything: return false
            }
        }

        /// Whether a line listed under the subject's keys (or after the index) concerns
        /// it, adding to the participant's chain of partners as a whole pass does. A key
        /// shared by chance with another id lists lines that name neither the subject nor
        /// its tandems: they are passed over here.
        func concerns(_ recorded: RecordedEvent, chain: inout [String]) -> Bool {
            let subjects = recorded.event.subjects
            switch subject {
            case .tandem(let t):
                if subjects.tandems.contains(t) { return true }
                guard case .participantWithdrew(let e) = recorded.event, let (a, b) = members else { return false }
                return e.participant == a || e.participant == b
            case .participant(let p):
                switch recorded.event {
                case .tandemMatched(let e) where e.mentor == p || e.mentee == p:
                    chain.append("\(p == e.mentor ? e.mentee : e.mentor) (\(e.tandem))")
                case .partnerSwapped(let e):
                    if e.leaving == p {
                        chain.append("left \(e.tandem): \(e.reason.rawValue)")
                    } else if e.joining == p, let (a, b) = tandems[e.newTandem] {
                        chain.append("\(a == p ? b : a) (\(e.newTandem), joined: \(e.reason.rawValue))")
                    } else if tandems[e.tandem] != nil {
                        chain.append("\(e.joining) (\(e.newTandem), after \(e.leaving) left: \(e.reason.rawValue))")
                    }
                case .participantWithdrew(let e) where e.participant != p && partners.contains(e.participant):
                    chain.append("freed: \(e.participant) withdrew (\(e.reason.rawValue))")
                    return true
                default: break
                }
                return subjects.participants.contains(p) || subjects.tandems.contains { tandems[$0] != nil }
            case .programme, .everything:
                return true
            }
        }
    }

    /// Whom a line touches, with who was where when it was recorded: the people and
    /// tandems it names, a swap's staying partner, a withdrawal's tandem and both its
    /// members, and the programme.
    struct Touched {
        var people: Set<ParticipantID> = []
        var tandems: Set<TandemID> = []
        var programme: ProgrammeID?

        /// Whether the line concerns `subject` (a participant through any tandem they were
        /// in as well).
        func concerns(_ subject: Subject, _ m: Membership) -> Bool {
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

    /// Whom the event touches, updating who is where (and the participant's chain of
    /// partners).
    static func resolve(
        _ recorded: RecordedEvent, _ subject: Subject, _ m: inout Membership, _ chain: inout [String]
    ) -> Touched {
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
        return Touched(people: people, tandems: tandems, programme: programme)
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
