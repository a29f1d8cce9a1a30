import Dispatch
import EventLog
import Mentoring

/// The read model on disk (`cache/projections.snapshot`), with the `(seq, hash)` it covers.
///
/// Sections: `figures` (the programmes and each one's headline figures: what a warm
/// `tandem stats` reads, a few hundred bytes) and `model` (the whole read model, without
/// the session log that only `tandem sessions` keeps), and `lookup` (where each person's,
/// tandem's and goal list's record is in `model`). It holds no names, emails or texts:
/// traits and vault refs only. An erasure deletes it with every other cache.
public enum ProjectionSnapshot {
    static let kind = "projections"
    /// Raised whenever the layout or the meaning of a field changes.
    /// 3: the latest business date of the log is kept with the programmes; 4: and when a
    /// programme was closed; 7: people and tandems name each other by row number, not id
    /// (a load without lookups); 8: the model is checked chunk by chunk, and a `lookup`
    /// section finds one tandem's records (`ModelSlice`); 9: and each person's tandems; 10:
    /// sessions, minutes and online sessions per programme and day (not sessions per month);
    /// 11: the lookup finds each tandem's check-ins.
    public static let schema = 11

    /// The snapshot file of a store.
    public static func file(_ store: Store) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/projections.snapshot")
    }

    /// Writes a model folded from the whole log up to `head`, which ends at byte `logEnd`.
    /// - Returns: each programme's headline figures, as written: a query that needs them
    ///   need not compute them again.
    /// - Throws: `SystemError`.
    @discardableResult
    public static func write(
        _ model: ProgrammeReadModel, voided: [Int: Int], head: LogHead, logEnd: Int, vaultSize: Int,
        to file: SnapshotFile
    ) throws -> [ProgrammeID: StatsQuery.Figures] {
        var figures = SnapshotWriter()
        var computed: [ProgrammeID: StatsQuery.Figures] = [:]
        writeProgrammes(model, into: &figures)
        for id in model.programmeOrder {
            let f = StatsQuery.figures(model, programmes: [id], label: id.rawValue, segment: nil, needsPeople: false).0
            computed[id] = f
            write(.object(f.stats), into: &figures)
        }
        var w = SnapshotWriter(capacity: 64 * (model.people.count + model.tandems.count) + 1 << 16)
        writeProgrammes(model, into: &w)
        w.write(UInt64(voided.count))
        for (seq, by) in voided.sorted(by: { $0.key < $1.key }) {
            w.write(seq)
            w.write(by)
        }
        var lookup = SnapshotLookup.Builder()
        lookup.prefixEnd = UInt32(truncatingIfNeeded: w.bytes.count)
        w.write(UInt64(model.swaps.count))
        for (programme, count) in model.swaps.sorted(by: { $0.key < $1.key }) {
            w.write(programme.rawValue)
            w.write(count)
        }
        w.write(UInt64(model.dailySessions.count))
        for (key, day) in model.dailySessions.sorted(by: {
            ($0.key.programme, $0.key.day) < ($1.key.programme, $1.key.day)
        }) {
            w.write(key.programme.rawValue)
            w.write(key.day)
            w.write(day.sessions)
            w.write(day.minutes)
            w.write(day.online)
        }
        w.write(UInt64(model.checkIns.count))
        var checkInStarts: [(row: Int32, start: UInt32)] = []
        for (tandem, list) in model.checkIns.sorted(by: { $0.key < $1.key }) {
            if let row = model.tandemRows.row(of: tandem) {
                checkInStarts.append((row, UInt32(truncatingIfNeeded: w.bytes.count)))
            }
            w.write(tandem.rawValue)
            w.write(UInt64(list.count))
            for c in list {
                w.write(c.participant.rawValue)
                w.write(c.rating)
                w.write(c.on.dayNumber)
            }
        }
        w.write(UInt64(model.matchRuns.count))
        for run in model.matchRuns.values.sorted(by: { $0.run < $1.run }) { write(run, into: &w) }
        // In row order: a person's active tandem and a tandem's members are written as rows.
        w.write(UInt64(model.people.count))
        lookup.personStarts.reserveCapacity(model.people.count)
        for (row, person) in model.people.values.enumerated() {
            lookup.personStarts.append(UInt32(truncatingIfNeeded: w.bytes.count))
            write(person, activeTandem: model.peopleRows.activeTandemRow(Int32(row)), into: &w)
        }
        w.write(UInt64(model.tandems.count))
        lookup.tandemStarts.reserveCapacity(model.tandems.count)
        for (row, tandem) in model.tandems.values.enumerated() {
            lookup.tandemStarts.append(UInt32(truncatingIfNeeded: w.bytes.count))
            let stored = model.tandemRows.row(Int32(row))
            write(tandem, mentor: stored.mentor, mentee: stored.mentee, into: &w)
        }
        w.write(UInt64(model.goals.count))
        lookup.goalStarts = [UInt32](repeating: .max, count: model.tandems.count)
        lookup.checkInStarts = [UInt32](repeating: .max, count: model.tandems.count)
        for (row, start) in checkInStarts { lookup.checkInStarts[Int(row)] = start }
        for (tandem, goals) in model.goals {
            let row = model.tandemRows.row(of: tandem)!
            lookup.goalStarts[Int(row)] = UInt32(truncatingIfNeeded: w.bytes.count)
            w.write(Int(row))
            w.write(UInt64(goals.count))
            for goal in goals { write(goal, into: &w) }
        }
        var sections = [("figures", figures.bytes), ("model", w.bytes)]
        if let table = lookup.build(
            modelSize: w.bytes.count, people: model.people.count, tandems: model.tandems.count,
            personID: { model.peopleRows.id(ofRow: Int32($0)).rawValue },
            tandemID: { model.tandemRows.id(ofRow: Int32($0)).rawValue },
            members: {
                let row = model.tandemRows.row(Int32($0))
                return (row.mentor, row.mentee)
            })
        {
            sections.append(("lookup", table))
        }
        try file.write(
            kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize, sections: sections,
            chunked: ["model", "lookup"])
        return computed
    }

    /// The header, if the snapshot is one this build reads.
    /// - Throws: `SnapshotError`.
    public static func header(_ file: SnapshotFile) throws(SnapshotError) -> SnapshotFile.Header {
        try file.header(kind: kind, schema: schema)
    }

    /// The programmes and their figures only.
    /// - Throws: `SnapshotError`.
    public static func figures(
        _ file: SnapshotFile, header: SnapshotFile.Header
    ) throws(SnapshotError) -> (ProgrammeReadModel, [ProgrammeID: StatsQuery.Figures]) {
        let bytes = try file.section("figures", of: header)
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) -> (ProgrammeReadModel, [ProgrammeID: StatsQuery.Figures]) in
                var r = SnapshotReader(raw)
                var model = ProgrammeReadModel()
                try readProgrammes(&r, into: &model)
                var out: [ProgrammeID: StatsQuery.Figures] = [:]
                for id in model.programmeOrder {
                    guard let stats = try readValue(&r).objectValue else {
                        throw .malformed("figures that are not an object")
                    }
                    out[id] = StatsQuery.Figures(stats: stats)
                }
                return (model, out)
            }
        }.get()
    }

    /// The whole read model and the voids it honoured.
    /// - Throws: `SnapshotError`.
    /// - Parameter releaseStep: how far the reading moves before the section's pages behind
    ///   it go back (`SectionBuffer`).
    public static func model(
        _ file: SnapshotFile, header: SnapshotFile.Header, releaseStep: Int = SectionBuffer.defaultReleaseStep
    ) throws(SnapshotError) -> (ProgrammeReadModel, voided: [Int: Int]) {
        // The section's pages go back to the system as its records are read (it is as large
        // as the rows built from it).
        let buffer = try file.sectionBuffer("model", of: header, releaseStep: releaseStep)
        let raw = buffer.bytes
        return try Result { () throws(SnapshotError) -> (ProgrammeReadModel, voided: [Int: Int]) in
            var r = SnapshotReader(raw)
            var model = ProgrammeReadModel()
            try readProgrammes(&r, into: &model)
            var voided: [Int: Int] = [:]
            for _ in 0..<(try r.readCount()) {
                let seq = try r.readInt()
                voided[seq] = try r.readInt()
            }
            for _ in 0..<(try r.readCount()) { model.swaps[try id(&r)] = try r.readInt() }
            for _ in 0..<(try r.readCount()) {
                let key = DayKey(programme: try id(&r), day: try r.readInt())
                model.dailySessions[key] = DailySessions(
                    sessions: try r.readInt(), minutes: try r.readInt(), online: try r.readInt())
            }
            for _ in 0..<(try r.readCount()) {
                let tandem: TandemID = try id(&r)
                var list: [CheckInView] = []
                for _ in 0..<(try r.readCount()) {
                    list.append(
                        CheckInView(
                            tandem: tandem, participant: try id(&r), rating: try r.readInt(),
                            on: BusinessDate(dayNumber: try r.readInt())))
                }
                model.checkIns[tandem] = list
            }
            for _ in 0..<(try r.readCount()) {
                let run = try readRun(&r)
                model.matchRuns[run.run] = run
            }
            let people = try r.readCount()
            model.peopleRows.reserveCapacity(people)
            // People first, then their tandems; who is in which tandem is linked last.
            // Each record is read on another thread while the one before is filed here.
            var activeTandems: [(person: Int32, tandem: Int)] = []
            var row: Int32 = 0
            r.position = try pipelined(
                people, from: r,
                decode: { r throws(SnapshotError) in
                    defer { buffer.release(below: r.position) }
                    return try readPerson(&r)
                }
            ) {
                (person, active) throws(SnapshotError) in
                model.peopleRows.appendNew(person)
                if active >= 0 { activeTandems.append((row, active)) }
                row += 1
            }
            let tandems = try r.readCount()
            model.tandemRows.reserveCapacity(tandems)
            func personRow(_ value: Int) throws(SnapshotError) -> Int32 {
                guard value >= 0, value < people else {
                    throw .malformed("a tandem member who is not in the snapshot")
                }
                return Int32(value)
            }
            // The reading thread cannot see the people filed here: it gives the members'
            // rows, and their ids are put in as each tandem is filed.
            let unknown = ParticipantID("p-0")!
            r.position = try pipelined(
                tandems, from: r,
                decode: { r throws(SnapshotError) in
                    defer { buffer.release(below: r.position) }
                    return try readTandem(&r) { _ in unknown }
                }
            ) { (tandem, mentor, mentee) throws(SnapshotError) in
                var tandem = tandem
                let mentorRow = try personRow(mentor), menteeRow = try personRow(mentee)
                tandem.mentor = model.peopleRows.id(ofRow: mentorRow)
                tandem.mentee = model.peopleRows.id(ofRow: menteeRow)
                model.tandemRows.appendNew(tandem, mentor: mentorRow, mentee: menteeRow)
            }
            for (person, tandem) in activeTandems {
                guard tandem < tandems else { throw .malformed("an active tandem that is not in the snapshot") }
                model.peopleRows.update(person) { $0.activeTandem = Int32(tandem) }
            }
            for _ in 0..<(try r.readCount()) {
                let row = try r.readInt()
                guard row >= 0, row < tandems, model.tandemRows.goals(of: Int32(row)) == nil else {
                    throw .malformed("goals of an unknown tandem, or listed twice")
                }
                let tandem = model.tandemRows.id(ofRow: Int32(row))
                for _ in 0..<(try r.readCount()) {
                    model.tandemRows.appendGoal(try readGoal(&r, tandem: tandem), to: Int32(row))
                }
            }
            guard r.isAtEnd else { throw .malformed("bytes after the model") }
            return (model, voided)
        }.get()
    }

    /// Reads `count` records from `reader` on another thread, in batches, while `consume`
    /// files each here, in order: on two cores, making a record's strings and filing it into
    /// the model's tables overlap. A few records are read here.
    /// - Returns: the position after the last record.
    /// - Throws: the first `SnapshotError` of either side; the reading thread has stopped by
    ///   then (the bytes it reads stay valid only during this call).
    static func pipelined<Item: Sendable>(
        _ count: Int, from reader: SnapshotReader, inlineBelow: Int = 1 << 12,
        decode: @escaping @Sendable (inout SnapshotReader) throws(SnapshotError) -> Item,
        consume: (Item) throws(SnapshotError) -> Void
    ) throws(SnapshotError) -> Int {
        var r = reader
        guard count >= inlineBelow else {
            for _ in 0..<count { try consume(try decode(&r)) }
            return r.position
        }
        let channel = BatchChannel<Item>(capacity: 8)
        let shared = SharedReader(reader: reader)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { stopped.signal() }
            var r = shared.reader
            var batch: [Item] = []
            batch.reserveCapacity(1024)
            do {
                for _ in 0..<count {
                    batch.append(try decode(&r))
                    if batch.count == 1024 {
                        guard channel.send(batch) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty, !channel.send(batch) { return }
                shared.end = r.position
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        defer { stopped.wait() }
        do {
            while let batch = try channel.receive() {
                for item in batch { try consume(item) }
            }
        } catch let error as SnapshotError {
            channel.cancel()
            throw error
        } catch {
            channel.cancel()
            throw .malformed("\(error)")
        }
        return shared.end
    }

    /// The reader handed to the reading thread, and where it ended (written before the
    /// channel's end, read after it).
    private final class SharedReader: @unchecked Sendable {
        let reader: SnapshotReader
        var end = 0
        init(reader: SnapshotReader) { self.reader = reader }
    }

    // MARK: Encoding

    static func writeProgrammes(_ model: ProgrammeReadModel, into w: inout SnapshotWriter) {
        w.write(UInt64(model.programmeOrder.count))
        for id in model.programmeOrder {
            let p = model.programmes[id]!
            w.write(p.id.rawValue)
            w.write(p.name)
            w.write(p.starts.dayNumber)
            w.write(p.ends.dayNumber)
            w.write(p.cadenceDays)
            w.write(p.minGroupSize)
            w.write(p.closedOn?.dayNumber)
        }
        w.write(model.latestBusinessDate?.dayNumber)
    }

    static func write(_ p: PersonView, activeTandem: Int32, into w: inout SnapshotWriter) {
        w.write(p.id.rawValue)
        w.write(p.programme.rawValue)
        w.write(p.role == .mentor)
        w.write(p.signedUpOn.dayNumber)
        w.write(p.traits != nil)
        if let t = p.traits {
            w.write(t.unit)
            w.write(t.level)
            w.write(t.born)
            w.write(t.gender)
        }
        w.write(p.profileRef)
        w.write(p.erased)
        w.write(p.withdrawnOn?.dayNumber)
        w.write(p.withdrawalReason?.rawValue)
        w.write(p.withdrewBeforeMatch)
        w.write(p.firstMatchedOn?.dayNumber)
        w.write(Int(activeTandem))
        w.write(p.lastTandemEnd != nil)
        if let end = p.lastTandemEnd {
            w.write(end.on.dayNumber)
            w.write(end.status.rawValue)
        }
    }

    static func write(_ t: TandemView, mentor: Int32, mentee: Int32, into w: inout SnapshotWriter) {
        w.write(t.id.rawValue)
        w.write(t.programme.rawValue)
        w.write(Int(mentor))
        w.write(Int(mentee))
        w.write(t.status.rawValue)
        w.write(t.since.dayNumber)
        w.write(t.until?.dayNumber)
        w.write(t.sessions)
        w.write(t.minutes)
        w.write(t.lastSession?.dayNumber)
        w.write(t.goalsSet)
        w.write(t.goalsReached)
        switch t.origin {
        case .matched(let run, let override):
            w.write(false)
            w.write(run?.rawValue)
            w.write(override)
        case .swap(let from, let reason):
            w.write(true)
            w.write(from.rawValue)
            w.write(reason.rawValue)
        }
        w.write(t.endReason?.rawValue)
    }

    static func write(_ g: GoalView, into w: inout SnapshotWriter) {
        w.write(g.goal.rawValue)
        w.write(g.category)
        w.write(g.set.dayNumber)
        w.write(g.due?.dayNumber)
        w.write(g.reached?.dayNumber)
        w.write(g.textRef)
    }

    static func write(_ run: MatchRunView, into w: inout SnapshotWriter) {
        w.write(run.run.rawValue)
        w.write(run.programme.rawValue)
        w.write(run.on.dayNumber)
        w.write(run.mentors)
        w.write(run.mentees)
        w.write(run.proposedPairs)
    }

    /// A JSON value with its type kept (an integer stays an integer, a double a double).
    static func write(_ value: JSONValue, into w: inout SnapshotWriter) {
        switch value {
        case .null: w.write(0)
        case .bool(let b):
            w.write(1)
            w.write(b)
        case .int(let i):
            w.write(2)
            w.write(Int(i))
        case .double(let d):
            w.write(3)
            w.write(d.bitPattern)
        case .string(let s):
            w.write(4)
            w.write(s)
        case .array(let items):
            w.write(5)
            w.write(UInt64(items.count))
            for item in items { write(item, into: &w) }
        case .object(let object):
            w.write(6)
            w.write(UInt64(object.members.count))
            for (key, item) in object.members {
                w.write(key)
                write(item, into: &w)
            }
        }
    }

    // MARK: Decoding

    static func readValue(_ r: inout SnapshotReader, depth: Int = 0) throws(SnapshotError) -> JSONValue {
        guard depth < 32 else { throw .malformed("values nested too deep") }
        switch try r.readInt() {
        case 0: return .null
        case 1: return .bool(try r.readBool())
        case 2: return .int(Int64(try r.readInt()))
        case 3: return .double(Double(bitPattern: try r.readUInt64()))
        case 4: return .string(try r.readString())
        case 5:
            var items: [JSONValue] = []
            for _ in 0..<(try r.readCount()) { items.append(try readValue(&r, depth: depth + 1)) }
            return .array(items)
        case 6:
            var object = JSONObject()
            for _ in 0..<(try r.readCount()) {
                let key = try r.readString()
                object[key] = try readValue(&r, depth: depth + 1)
            }
            return .object(object)
        default: throw .malformed("a value of unknown type")
        }
    }

    static func readProgrammes(_ r: inout SnapshotReader, into model: inout ProgrammeReadModel) throws(SnapshotError) {
        for _ in 0..<(try r.readCount()) {
            let id: ProgrammeID = try id(&r)
            let name = try r.readString()
            let starts = BusinessDate(dayNumber: try r.readInt()), ends = BusinessDate(dayNumber: try r.readInt())
            model.programmes[id] = Programme(
                id: id, name: name, starts: starts, ends: ends, cadenceDays: try r.readInt(),
                minGroupSize: try r.readInt())
            model.programmes[id]?.closedOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
            model.programmeOrder.append(id)
        }
        model.latestBusinessDate = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
    }

    /// A person, and the row of their active tandem (−1: none).
    static func readPerson(_ r: inout SnapshotReader) throws(SnapshotError) -> (PersonView, activeTandem: Int) {
        let id: ParticipantID = try id(&r)
        let programme: ProgrammeID = try self.id(&r)
        let role: Role = try r.readBool() ? .mentor : .mentee
        var p = PersonView(
            id: id, programme: programme, role: role, signedUpOn: BusinessDate(dayNumber: try r.readInt()))
        if try r.readBool() {
            p.traits = Traits(
                unit: try r.readString(), level: try r.readInt(), born: try r.readInt(),
                gender: try r.readOptionalString())
        }
        p.profileRef = try r.readOptionalString()
        p.erased = try r.readBool()
        p.withdrawnOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        p.withdrawalReason = try reason(try r.readOptionalString())
        p.withdrewBeforeMatch = try r.readBool()
        p.firstMatchedOn = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        let activeTandem = try r.readInt()
        if try r.readBool() {
            p.lastTandemEnd = (BusinessDate(dayNumber: try r.readInt()), try status(try r.readString()))
        }
        return (p, activeTandem)
    }

    /// A tandem and its members' rows; `member` gives the id of a member's row.
    static func readTandem(
        _ r: inout SnapshotReader, member: (Int) throws(SnapshotError) -> ParticipantID
    ) throws(SnapshotError) -> (TandemView, mentor: Int, mentee: Int) {
        let id: TandemID = try self.id(&r)
        let programme: ProgrammeID = try self.id(&r)
        let mentorRow = try r.readInt(), menteeRow = try r.readInt()
        let mentor = try member(mentorRow), mentee = try member(menteeRow)
        let status = try status(try r.readString())
        let since = BusinessDate(dayNumber: try r.readInt())
        let until = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        let sessions = try r.readInt(), minutes = try r.readInt()
        let lastSession = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        let goalsSet = try r.readInt(), goalsReached = try r.readInt()
        let origin: TandemOrigin
        if try r.readBool() {
            let from: TandemID = try self.id(&r)
            guard let reason = try reason(try r.readString()) else { throw .malformed("a swap without a reason") }
            origin = .swap(from: from, reason: reason)
        } else {
            let run: MatchRunID? = try r.readBool() ? try self.id(&r) : nil
            origin = .matched(run: run, override: try r.readOptionalString())
        }
        var t = TandemView(
            id: id, programme: programme, mentor: mentor, mentee: mentee, status: status, since: since, until: until,
            sessions: sessions, minutes: minutes, lastSession: lastSession, goalsSet: goalsSet,
            goalsReached: goalsReached,
            origin: origin)
        t.endReason = try reason(try r.readOptionalString())
        return (t, mentorRow, menteeRow)
    }

    static func readGoal(_ r: inout SnapshotReader, tandem: TandemID) throws(SnapshotError) -> GoalView {
        let goal: GoalID = try id(&r)
        let category = try r.readOptionalString()
        let set = BusinessDate(dayNumber: try r.readInt())
        let due = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        let reached = try r.readOptionalInt().map(BusinessDate.init(dayNumber:))
        return GoalView(
            tandem: tandem, goal: goal, category: category, set: set, due: due, reached: reached,
            textRef: try r.readString())
    }

    static func readRun(_ r: inout SnapshotReader) throws(SnapshotError) -> MatchRunView {
        let run: MatchRunID = try id(&r)
        let programme: ProgrammeID = try id(&r)
        return MatchRunView(
            run: run, programme: programme, on: BusinessDate(dayNumber: try r.readInt()), mentors: try r.readInt(),
            mentees: try r.readInt(), proposedPairs: try r.readInt())
    }

    static func id<Kind>(_ r: inout SnapshotReader) throws(SnapshotError) -> Identifier<Kind> {
        let text = try r.readString()
        guard let id = Identifier<Kind>(text) else { throw .malformed("an invalid \(Kind.noun) id") }
        return id
    }

    static func reason(_ text: String?) throws(SnapshotError) -> ReasonCode? {
        guard let text else { return nil }
        guard let code = ReasonCode(rawValue: text) else { throw .malformed("an unknown reason code") }
        return code
    }

    static func status(_ text: String) throws(SnapshotError) -> TandemStatus {
        guard let status = TandemStatus(rawValue: text) else { throw .malformed("an unknown tandem status") }
        return status
    }
}
