import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

@Suite("Row tables: chunked rows, the row index, and a read model past many chunks")
struct RowTableTests {
    @Test("chunked rows keep every row across chunk boundaries, and change in place")
    func chunkedRows() {
        var rows = ChunkedRows<Int>()
        for i in 0..<50_000 { #expect(rows.append(i * 7) == Int32(i)) }
        #expect(rows.count == 50_000)
        for i in stride(from: 0, to: 50_000, by: 1) where rows[Int32(i)] != i * 7 {
            Issue.record("row \(i) holds \(rows[Int32(i)])")
            break
        }
        rows[16_384] += 1
        #expect(rows[16_383] == 16_383 * 7 && rows[16_384] == 16_384 * 7 + 1 && rows[16_385] == 16_385 * 7)
    }

    @Test("the row index finds every row and nothing else, even when hashes collide", arguments: [1, 97, Int.max])
    func rowIndex(spread: Int) {
        // `spread` 1: every key hashes alike (one long probe run); 97: many collisions; max: few.
        let keys = (0..<6_000).map { "key-\($0 * 31 % 6_000)" }
        func hash(_ key: String) -> Int { spread == Int.max ? key.hashValue : abs(key.hashValue) % spread }
        var index = RowIndex()
        for (row, key) in keys.enumerated() { index.insert(row: Int32(row), hash: hash(key)) { hash(keys[Int($0)]) } }
        for (row, key) in keys.enumerated() where index.find(hash: hash(key), { keys[Int($0)] == key }) != Int32(row) {
            Issue.record("\(key) not found at row \(row)")
            break
        }
        #expect(index.find(hash: hash("absent"), { keys[Int($0)] == "absent" }) == nil)
    }

    /// 40,000 people (mentor mI and mentee eI), 20,000 tandems tI of mI and eI: I % 3
    /// sessions of 30 + I % 60 minutes; a goal for even I, reached for I divisible by 4;
    /// eI withdraws when I is divisible by 10 (ending tI); mI's data erased when I is
    /// divisible by 1,000; the others' traits: level I % 7, born 1960 + I % 40, unit U(I % 13).
    static func largeModel() -> ProgrammeReadModel {
        let programme = ProgrammeID("big")!
        let day = BusinessDate("2027-02-01")!
        var folding = Folding()
        func apply(_ event: ProgrammeEvent, traits: Traits? = nil) { folding.apply(event, traits: traits) }
        func ref(_ n: Int) -> PersonalReference { Folding.ref(n, legacyEvery: 5) }
        apply(
            .programmeLaunched(
                ProgrammeLaunched(
                    programme: programme, name: "Big", starts: BusinessDate("2027-01-01")!,
                    ends: BusinessDate("2027-12-31")!, cadenceDays: 30, minGroupSize: 5)))
        for i in 0..<20_000 {
            for (role, id, n) in [(Role.mentor, "m\(i)", 2 * i), (.mentee, "e\(i)", 2 * i + 1)] {
                apply(
                    .participantSignedUp(
                        ParticipantSignedUp(
                            participant: ParticipantID(id)!, programme: programme, role: role, on: day,
                            personal: ref(n))),
                    traits: Traits(
                        unit: "U\(i % 13)", level: level(i), born: 1960 + i % 40, gender: i % 2 == 0 ? "f" : nil))
            }
        }
        for i in 0..<20_000 {
            let tandem = TandemID("t\(i)")!
            apply(
                .tandemMatched(
                    TandemMatched(
                        tandem: tandem, programme: programme, mentor: ParticipantID("m\(i)")!,
                        mentee: ParticipantID("e\(i)")!, on: day.adding(days: 1))))
            for s in 0..<(i % 3) {
                apply(
                    .sessionHeld(
                        SessionHeld(tandem: tandem, on: day.adding(days: 10 + s), minutes: 30 + i % 60, mode: .online)))
            }
            if i % 2 == 0 {
                apply(
                    .goalSet(
                        GoalSet(
                            tandem: tandem, goal: GoalID("g")!, on: day.adding(days: 5), category: "c\(i % 3)",
                            personal: ref(100_000 + i))))
            }
            if i % 4 == 0 {
                apply(.goalReached(GoalReached(tandem: tandem, goal: GoalID("g")!, on: day.adding(days: 20))))
            }
            if i % 5 == 0 {
                for (member, rating) in [("m\(i)", 1 + i % 5), ("e\(i)", 5 - i % 3)] {
                    apply(
                        .checkInRecorded(
                            CheckInRecorded(
                                tandem: tandem, participant: ParticipantID(member)!, rating: rating,
                                on: day.adding(days: 15))))
                }
            }
            if i % 10 == 0 {
                apply(
                    .participantWithdrew(
                        ParticipantWithdrew(
                            participant: ParticipantID("e\(i)")!, on: day.adding(days: 30), reason: .time)))
            }
            if i % 1_000 == 0 {
                apply(.personalDataErased(PersonalDataErased(participant: ParticipantID("m\(i)")!, refs: [])))
            }
        }
        return folding.model
    }

    /// The level of pair `i`'s members: every 2,503rd out of range (its traits do not pack),
    /// in both halves of the people as a load splits them.
    static func level(_ i: Int) -> Int { i % 2_503 == 2_502 ? 40_000 : i % 7 }

    @Test("a read model of 40,000 people and 20,000 tandems answers as computed by hand")
    func largeModelAnswers() throws {
        let model = Self.largeModel()
        #expect(model.people.count == 40_000 && model.tandems.count == 20_000 && model.goals.count == 10_000)
        #expect(model.people.values.map(\.id.rawValue).prefix(4) == ["m0", "e0", "m1", "e1"])
        let day = BusinessDate("2027-02-01")!
        for i in [0, 1, 4, 10, 2_502, 16_383, 16_384, 17_520, 19_999] {
            let mentor = try #require(model.people[ParticipantID("m\(i)")!])
            let mentee = try #require(model.people[ParticipantID("e\(i)")!])
            let tandem = try #require(model.tandems[TandemID("t\(i)")!])
            let withdrew = i % 10 == 0
            #expect(tandem.mentor.rawValue == "m\(i)" && tandem.mentee.rawValue == "e\(i)")
            #expect(tandem.sessions == i % 3 && tandem.minutes == (i % 3) * (30 + i % 60))
            #expect(tandem.lastSession == (i % 3 == 0 ? nil : day.adding(days: 10 + i % 3 - 1)))
            #expect(
                tandem.status == (withdrew ? .dissolved : .active)
                    && tandem.until == (withdrew ? day.adding(days: 30) : nil))
            #expect(tandem.endReason == (withdrew ? .time : nil))
            #expect(tandem.goalsSet == (i % 2 == 0 ? 1 : 0) && tandem.goalsReached == (i % 4 == 0 ? 1 : 0))
            #expect(
                mentee.withdrawnOn == (withdrew ? day.adding(days: 30) : nil)
                    && mentee.withdrawalReason == (withdrew ? .time : nil))
            #expect(mentee.withdrewBeforeMatch == false && mentee.firstMatchedOn == day.adding(days: 1))
            #expect(mentor.activeTandem == (withdrew ? nil : TandemID("t\(i)")!))
            #expect(
                mentor.lastTandemEnd?.on == (withdrew ? day.adding(days: 30) : nil)
                    && mentor.lastTandemEnd?.status == (withdrew ? .dissolved : nil))
            #expect(
                mentee.traits
                    == Traits(
                        unit: "U\(i % 13)", level: Self.level(i), born: 1960 + i % 40, gender: i % 2 == 0 ? "f" : nil))
            #expect(model.checkIns(of: tandem.id).map(\.rating) == (i % 5 == 0 ? [1 + i % 5, 5 - i % 3] : []))
            let erased = i % 1_000 == 0
            #expect(mentor.erased == erased && (mentor.traits == nil) == erased && (mentor.profileRef == nil) == erased)
            let expectedRef =
                (2 * i + 1) % 5 == 0
                ? "legacy-\(2 * i + 1)" : PackedRef.unpack(UInt64(2 * i + 1) &* 0x9E37_79B9_7F4A_7C15)
            #expect(mentee.profileRef == expectedRef)
            // Each member's activity is their one tandem's sessions and reached goals.
            let activity = model.activity()
            for member in [mentor.id, mentee.id] {
                #expect(activity[member]?.sessions == i % 3 && activity[member]?.goalsReached == (i % 4 == 0 ? 1 : 0))
            }
            let goals = model.goals[TandemID("t\(i)")!]
            #expect(goals?.count == (i % 2 == 0 ? 1 : nil))
            if let goal = goals?.first {
                #expect(goal.category == "c\(i % 3)" && goal.reached == (i % 4 == 0 ? day.adding(days: 20) : nil))
            }
        }
        #expect(model.people[ParticipantID("m20000")!] == nil && model.tandems[TandemID("t20000")!] == nil)
        #expect(model.activity()[ParticipantID("m20000")!] == nil)
        #expect(model.people.values.filter { $0.withdrawnOn != nil }.count == 2_000)
        // m0, m1000, …, m19000: counted from the rows' flags as from the views.
        #expect(model.people.erasedCount == 20 && model.people.values.filter(\.erased).count == 20)
        #expect(model.people.ids == model.people.values.map(\.id))
        #expect(model.tandems.values.reduce(0) { $0 + $1.sessions } == (0..<20_000).reduce(0) { $0 + $1 % 3 })
    }

    @Test("a fold's prefetch hint names the table and the slot where applying the event finds its row")
    func prefetchHints() {
        let model = Self.largeModel()
        let day = BusinessDate("2027-03-01")!
        var first = 0
        for i in 0..<20_000 {
            let tandem = TandemID("t\(i)")!, mentor = ParticipantID("m\(i)")!
            let row = model.tandemRows.row(of: tandem)!
            for event in [
                ProgrammeEvent.sessionHeld(SessionHeld(tandem: tandem, on: day, minutes: 30, mode: .online)),
                .goalReached(GoalReached(tandem: tandem, goal: GoalID("g")!, on: day)),
                .checkInRecorded(CheckInRecorded(tandem: tandem, participant: mentor, rating: 3, on: day)),
            ] {
                let hint = ProgrammeReadModel.prefetchHint(
                    for: RecordedEvent(seq: 1, at: Timestamp(secondsSinceEpoch: 0), actor: "a", event: event))
                #expect(hint.table == ProgrammeReadModel.tandemTable && hint.hash == TandemRows.hash(tandem))
                if model.tandemRows.index.firstRow(hash: hint.hash) == row { first += 1 }
            }
            let withdrew = ProgrammeReadModel.prefetchHint(
                for: RecordedEvent(
                    seq: 1, at: Timestamp(secondsSinceEpoch: 0), actor: "a",
                    event: .participantWithdrew(ParticipantWithdrew(participant: mentor, on: day, reason: .time))))
            #expect(withdrew.table == ProgrammeReadModel.peopleTable && withdrew.hash == PeopleRows.hash(mentor))
        }
        // Most rows sit in the first slot their hash names (the others a probe or more on: the
        // index is up to three quarters full).
        #expect(first > 3 * 20_000 / 2, "\(first) of \(3 * 20_000) in the first slot")
        let launched = ProgrammeReadModel.prefetchHint(
            for: RecordedEvent(
                seq: 1, at: Timestamp(secondsSinceEpoch: 0), actor: "a",
                event: .programmeLaunched(
                    ProgrammeLaunched(
                        programme: ProgrammeID("p")!, name: "P", starts: day, ends: day, cadenceDays: 30,
                        minGroupSize: 5))))
        #expect(launched.table == 0)
    }

    /// The large model and its snapshot, written in `directory`.
    static func largeSnapshot(in directory: TemporaryDirectory) throws -> (ProgrammeReadModel, SnapshotFile) {
        let model = Self.largeModel()
        let file = SnapshotFile(path: directory.appending("projections.snapshot"))
        try ProjectionSnapshot.write(
            model, voided: [:], head: LogHead(seq: 42, hash: .zero), logEnd: 0, vaultSize: 0, to: file)
        return (model, file)
    }

    /// From how many people a load reads the tandems on another core: from none, or never.
    static func parallelFrom(_ apart: Bool) -> Int { apart ? 0 : .max }

    @Test(
        "a large read model reads back from its snapshot equal, in the same order, its tandems read apart or after the people",
        arguments: [true, false])
    func largeModelSnapshot(apart: Bool) throws {
        let directory = TemporaryDirectory()
        let (model, file) = try Self.largeSnapshot(in: directory)
        let (readBack, _) = try ProjectionSnapshot.model(
            file, header: try ProjectionSnapshot.header(file), parallelFrom: Self.parallelFrom(apart))
        #expect(readBack == model)
        #expect(readBack.people.values.map(\.id) == model.people.values.map(\.id))
        #expect(readBack.tandems.values.map(\.id) == model.tandems.values.map(\.id))
        // The indexes taken from the lookup are the ones the fold built, slot for slot.
        #expect(readBack.peopleRows.index == model.peopleRows.index)
        #expect(readBack.tandemRows.index == model.tandemRows.index)
        // Written again from what was read, the snapshot is the same bytes.
        let again = SnapshotFile(path: directory.appending("again.snapshot"))
        try ProjectionSnapshot.write(
            readBack, voided: [:], head: LogHead(seq: 42, hash: .zero), logEnd: 0, vaultSize: 0, to: again)
        #expect(Files.read(file.path) == Files.read(again.path))
    }

    /// A model with a row of every shape the snapshot's records carry: two programmes,
    /// traits that do not pack (a level out of range) and traits without a gender, refs that
    /// do not pack, a match by a run and one by an override, a swap, a completed tandem, a
    /// withdrawal before a match and one after, an erasure, goals with and without a
    /// category and with a ref that does not pack.
    static func modelOfEveryShape() -> ProgrammeReadModel {
        let day = BusinessDate("2027-02-01")!
        var folding = Folding()
        func apply(_ event: ProgrammeEvent, traits: Traits? = nil) { folding.apply(event, traits: traits) }
        func ref(_ n: Int) -> PersonalReference { Folding.ref(n, legacyEvery: 2) }
        let programmes = [ProgrammeID("alpha")!, ProgrammeID("beta")!]
        for p in programmes {
            apply(
                .programmeLaunched(
                    ProgrammeLaunched(
                        programme: p, name: p.rawValue, starts: BusinessDate("2027-01-01")!,
                        ends: BusinessDate("2027-12-31")!, cadenceDays: 30, minGroupSize: 3)))
        }
        let levels = [3, 40_000, -2, 7]
        for (n, p) in programmes.enumerated() {
            for i in 0..<8 {
                apply(
                    .participantSignedUp(
                        ParticipantSignedUp(
                            participant: ParticipantID("\(p.rawValue)-\(i)")!, programme: p,
                            role: i % 2 == 0 ? .mentor : .mentee, on: day.adding(days: i), personal: ref(8 * n + i))),
                    traits: Traits(
                        unit: "U\(i % 3)", level: levels[i % 4], born: 1960 + i, gender: i % 3 == 0 ? nil : "g\(i % 2)")
                )
            }
            let person = { (i: Int) in ParticipantID("\(p.rawValue)-\(i)")! }
            let run = MatchRunID("run-\(p.rawValue)")!
            apply(
                .matchRunRecorded(
                    MatchRunRecorded(
                        run: run, programme: p, on: day.adding(days: 9), weights: [:], mentors: [person(0)],
                        mentees: [person(1)], pairs: [.init(mentor: person(0), mentee: person(1))])))
            apply(
                .tandemMatched(
                    TandemMatched(
                        tandem: TandemID("\(p.rawValue)-t1")!, programme: p, mentor: person(0), mentee: person(1),
                        on: day.adding(days: 10), run: run)))
            apply(
                .tandemMatched(
                    TandemMatched(
                        tandem: TandemID("\(p.rawValue)-t2")!, programme: p, mentor: person(2), mentee: person(3),
                        on: day.adding(days: 10), override: "manual pairing", overrideReason: ref(99))))
            apply(
                .tandemMatched(
                    TandemMatched(
                        tandem: TandemID("\(p.rawValue)-t3")!, programme: p, mentor: person(4), mentee: person(5),
                        on: day.adding(days: 10))))
            apply(
                .sessionHeld(
                    SessionHeld(
                        tandem: TandemID("\(p.rawValue)-t1")!, on: day.adding(days: 12), minutes: 45, mode: .online)))
            apply(
                .goalSet(
                    GoalSet(
                        tandem: TandemID("\(p.rawValue)-t1")!, goal: GoalID("g1")!, on: day.adding(days: 12),
                        category: "skills", personal: ref(100))))
            apply(
                .goalSet(
                    GoalSet(
                        tandem: TandemID("\(p.rawValue)-t1")!, goal: GoalID("g2")!, on: day.adding(days: 13),
                        category: nil, personal: ref(101))))
            apply(
                .goalReached(
                    GoalReached(tandem: TandemID("\(p.rawValue)-t1")!, goal: GoalID("g2")!, on: day.adding(days: 20))))
            apply(
                .partnerSwapped(
                    PartnerSwapped(
                        tandem: TandemID("\(p.rawValue)-t2")!, newTandem: TandemID("\(p.rawValue)-t4")!,
                        leaving: person(3), joining: person(7), on: day.adding(days: 15), reason: .mismatch)))
            apply(.tandemCompleted(TandemCompleted(tandem: TandemID("\(p.rawValue)-t3")!, on: day.adding(days: 40))))
            apply(
                .participantWithdrew(
                    ParticipantWithdrew(participant: person(6), on: day.adding(days: 16), reason: .time)))
            apply(
                .participantWithdrew(
                    ParticipantWithdrew(participant: person(1), on: day.adding(days: 30), reason: .roleChange)))
            apply(.personalDataErased(PersonalDataErased(participant: person(2), refs: [])))
            // Check-ins: two by one member on the same day (the later wins), one by the
            // other, and one of a tandem the model does not know (kept aside).
            for (i, rating) in [(0, 2), (0, 4), (1, 1)] {
                apply(
                    .checkInRecorded(
                        CheckInRecorded(
                            tandem: TandemID("\(p.rawValue)-t1")!, participant: person(i), rating: rating,
                            on: day.adding(days: 14))))
            }
            apply(
                .checkInRecorded(
                    CheckInRecorded(
                        tandem: TandemID("\(p.rawValue)-t9")!, participant: person(5), rating: 3,
                        on: day.adding(days: 14))))
        }
        return folding.model
    }

    @Test("a row of every shape reads back from the snapshot as it was held, whole and by slice")
    func everyShapeReadsBack() throws {
        let directory = TemporaryDirectory()
        let model = Self.modelOfEveryShape()
        // The model has what the test says it has.
        let tandems = model.tandems.values
        #expect(tandems.contains { if case .swap = $0.origin { return true } else { return false } })
        #expect(
            tandems.contains { if case .matched(_, "manual pairing") = $0.origin { return true } else { return false } }
        )
        #expect(tandems.contains { if case .matched(.some, nil) = $0.origin { return true } else { return false } })
        #expect(tandems.contains { $0.status == .completed } && tandems.contains { $0.status == .dissolved })
        #expect(model.people.values.contains { $0.traits?.level == 40_000 })
        #expect(model.people.values.contains { $0.traits != nil && $0.traits?.gender == nil })
        #expect(model.people.values.contains { $0.profileRef?.hasPrefix("legacy-") == true })
        #expect(
            model.people.values.contains { $0.withdrewBeforeMatch } && model.people.values.contains(where: \.erased))
        #expect(model.goals.contains { $0.value.contains { $0.category == nil } })
        #expect(model.checkIns(of: TandemID("alpha-t1")!).map(\.rating) == [2, 4, 1])
        #expect(model.latestCheckIns(of: TandemID("alpha-t1")!).map(\.rating) == [4, 1])
        #expect(model.checkIns(of: TandemID("alpha-t9")!).map(\.rating) == [3])
        let file = SnapshotFile(path: directory.appending("projections.snapshot"))
        try ProjectionSnapshot.write(
            model, voided: [3: 9], head: LogHead(seq: 42, hash: .zero), logEnd: 0, vaultSize: 0, to: file)
        let header = try ProjectionSnapshot.header(file)
        let (readBack, voided) = try ProjectionSnapshot.model(file, header: header)
        #expect(voided == [3: 9])
        #expect(readBack == model)
        #expect(readBack.peopleRows.index == model.peopleRows.index)
        #expect(readBack.tandemRows.index == model.tandemRows.index)
        #expect(readBack.people.values.map(\.id) == model.people.values.map(\.id))
        for person in model.people.values { #expect(readBack.people[person.id] == person) }
        for id in ["alpha-t9", "beta-t9"] {
            #expect(readBack.checkIns(of: TandemID(id)!) == model.checkIns(of: TandemID(id)!))
        }
        for tandem in tandems {
            #expect(readBack.tandems[tandem.id] == tandem)
            #expect(readBack.goals[tandem.id] == model.goals[tandem.id])
            #expect(readBack.checkIns(of: tandem.id) == model.checkIns(of: tandem.id))
            // A slice of one tandem holds it, its goals and its members as the whole model does.
            let slice = try #require(
                try ProjectionSnapshot.slice(file, header: header, confinement: Confinement(tandems: [tandem.id])))
            #expect(slice.model.tandems[tandem.id] == tandem)
            #expect(slice.model.goals[tandem.id] == model.goals[tandem.id])
            #expect(slice.model.checkIns(of: tandem.id) == model.checkIns(of: tandem.id))
            for member in [tandem.mentor, tandem.mentee] {
                var expected = try #require(model.people[member])
                // An active tandem outside the slice is not linked in it.
                if let active = expected.activeTandem, slice.model.tandems[active] == nil {
                    expected.activeTandem = nil
                }
                #expect(slice.model.people[member] == expected)
            }
        }
    }

    @Test("the lookup's id tables taken from the rows' indexes are the tables placed again, byte for byte")
    func lookupFromIndexes() throws {
        let directory = TemporaryDirectory()
        let model = Self.largeModel()
        var files: [[UInt8]] = []
        for fromIndexes in [true, false] {
            let file = SnapshotFile(path: directory.appending("\(fromIndexes).snapshot"))
            try ProjectionSnapshot.write(
                model, voided: [:], head: LogHead(seq: 42, hash: .zero), logEnd: 0, vaultSize: 0, to: file,
                lookupFromIndexes: fromIndexes)
            files.append(Files.read(file.path))
        }
        let same = files[0] == files[1]
        #expect(same, "the snapshots differ")
        // And a model whose index is larger than the lookup's (reserved ahead) is placed again.
        var grown = model
        grown.tandemRows.reserveCapacity(4 * model.tandems.count)
        let file = SnapshotFile(path: directory.appending("grown.snapshot"))
        try ProjectionSnapshot.write(
            grown, voided: [:], head: LogHead(seq: 42, hash: .zero), logEnd: 0, vaultSize: 0, to: file)
        let placed = Files.read(file.path) == files[1]
        #expect(placed, "the snapshot of a model with a larger index differs")
    }

    @Test(
        "a damaged lookup leaves the load to place every row itself, with the same answers", arguments: [true, false])
    func damagedLookupIsNotAdopted(apart: Bool) throws {
        let directory = TemporaryDirectory()
        let (model, file) = try Self.largeSnapshot(in: directory)
        let header = try ProjectionSnapshot.header(file)
        let lookup = try #require(header.sections["lookup"]).0
        // A byte in the middle of the people's slots (after five header words and the
        // people's, tandems' and goal lists' offsets).
        let (people, tandems) = (model.people.count, model.tandems.count)
        let slotsStart = 4 * (5 + (people + 1) + (tandems + 1) + tandems)
        var bytes = try FileSystem.readFile(file.path)
        bytes[lookup.lowerBound + slotsStart + 4 * SnapshotLookup.slotCount(for: people)] ^= 0x40
        try FileSystem.replaceAtomically(file.path, with: bytes)
        #expect(throws: SnapshotError.self) { try ProjectionSnapshot.indexes(file, header: header) }
        let (readBack, _) = try ProjectionSnapshot.model(file, header: header, parallelFrom: Self.parallelFrom(apart))
        #expect(readBack == model)
        #expect(readBack.peopleRows.index == model.peopleRows.index)
        #expect(readBack.tandemRows.index == model.tandemRows.index)
    }

    @Test(
        "a lookup that says a part of the model begins elsewhere (the people's second half, the tandems, the goal lists) is refused, never misread"
    )
    func lookupStartsThatLie() throws {
        let directory = TemporaryDirectory()
        let (model, file) = try Self.largeSnapshot(in: directory)
        let header = try ProjectionSnapshot.header(file)
        let (people, tandems) = (model.people.count, model.tandems.count)
        // The parts a load reads apart, as the lookup places them.
        let parts = try #require(ProjectionSnapshot.loadParts(file, header: header, people: people))
        #expect(parts.secondPeople?.row == 16_384 && parts.tandems == tandems && parts.goals?.lists == 10_000)
        let figures = try file.section("figures", of: header), section = try file.section("model", of: header)
        let lookup = try file.section("lookup", of: header)
        func word(_ index: Int) -> UInt32 {
            lookup.withUnsafeBytes {
                UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
            }
        }
        let first = SnapshotLookup.headerWords
        let secondPerson = first + 16_384, firstTandem = first + people + 1, firstGoals = first + people + tandems + 2
        // Each lie points at another record's start (the next one's, or the next list's: t1
        // has no goals, t2 has), or into the middle of a record.
        let lies = [
            (secondPerson, word(secondPerson + 1)), (secondPerson, word(secondPerson) + 3),
            (firstTandem, word(firstTandem + 1)), (firstGoals, word(firstGoals + 2)),
            (firstGoals, word(firstGoals) - 1),
        ]
        for (at, value) in lies {
            var lying = lookup
            withUnsafeBytes(of: value.littleEndian) { lying.replaceSubrange((4 * at)..<(4 * at + 4), with: $0) }
            try file.write(
                kind: header.kind, schema: header.schema, head: header.head, logEnd: header.logEnd,
                vaultSize: header.vaultSize, sections: [("figures", figures), ("model", section), ("lookup", lying)],
                chunked: ["model", "lookup"])
            let rewritten = try ProjectionSnapshot.header(file)
            #expect(throws: SnapshotError.self, "word \(at) says \(value)") {
                _ = try ProjectionSnapshot.model(file, header: rewritten, parallelFrom: 0)
            }
            // Read in order, without the parts' starts, it is the same model.
            #expect(try ProjectionSnapshot.model(file, header: rewritten, parallelFrom: .max).0 == model)
        }
    }

    @Test(
        "a large read model reads back equal when the section's pages go back after every page read",
        arguments: [true, false])
    func largeModelReleasingPages(apart: Bool) throws {
        let directory = TemporaryDirectory()
        let (model, file) = try Self.largeSnapshot(in: directory)
        let (readBack, _) = try ProjectionSnapshot.model(
            file, header: try ProjectionSnapshot.header(file), releaseStep: 4096, parallelFrom: Self.parallelFrom(apart)
        )
        #expect(readBack == model)
        #expect(readBack.people.values.map(\.id) == model.people.values.map(\.id))
    }

    @Test("a section buffer holds the section's bytes, and the pages it hands back read as zeros")
    func sectionBufferReleases() throws {
        let directory = TemporaryDirectory()
        let file = SnapshotFile(path: directory.appending("some.snapshot"))
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251 + 1) }
        try file.write(
            kind: "test", schema: 1, head: LogHead(seq: 1, hash: .zero), logEnd: 0, vaultSize: 0,
            sections: [("data", bytes)])
        let header = try file.header()
        let whole = try file.sectionBuffer("data", of: header)
        #expect(Array(whole.bytes) == bytes)
        whole.release(below: 50_000)  // less than a step: nothing goes
        #expect(Array(whole.bytes) == bytes)
        let buffer = try file.sectionBuffer("data", of: header, releaseStep: 4096)
        #expect(Array(buffer.bytes) == bytes)
        buffer.release(below: 50_000)
        let page = 4096, released = 50_000 / page * page
        #expect(buffer.bytes[..<released].allSatisfy { $0 == 0 }, "the pages below went back")
        #expect(Array(buffer.bytes[released...]) == Array(bytes[released...]), "the rest stayed")
        // A damaged section is refused as `section(_:of:)` refuses it.
        var damaged = Files.read(file.path)
        damaged[damaged.count - 10] ^= 1
        Files.write(file.path, damaged)
        #expect(throws: SnapshotError.self) { _ = try file.sectionBuffer("data", of: header) }
    }

    @Test(
        "a streamed section is read and checked a chunk at a time, only as far as asked, and damage is caught when reached"
    )
    func streamedSectionReadsAsAsked() throws {
        let directory = TemporaryDirectory()
        let file = SnapshotFile(path: directory.appending("some.snapshot"))
        let step = SectionBuffer.defaultReadAhead
        let bytes = (0..<(3 * step + 100)).map { UInt8(truncatingIfNeeded: $0 % 251 + 1) }
        try file.write(
            kind: "test", schema: 1, head: LogHead(seq: 1, hash: .zero), logEnd: 0, vaultSize: 0,
            sections: [("data", bytes)], chunked: ["data"])
        let header = try file.header()
        let buffer = try file.streamedSectionBuffer("data", of: header)
        #expect(buffer.filled == 0)
        try buffer.ensure(10)
        #expect(buffer.filled == step)
        #expect(Array(buffer.bytes[..<step]) == Array(bytes[..<step]))
        #expect(buffer.bytes[step..<(2 * step)].allSatisfy { $0 == 0 }, "nothing beyond is read yet")
        // Asked for one byte more than a whole step, it reads to the chunk's end beyond it.
        try buffer.ensure(2 * step + 1)
        #expect(buffer.filled == 2 * step + SnapshotChunks.size)
        try buffer.ensure(.max)
        #expect(buffer.filled == bytes.count && Array(buffer.bytes) == bytes)
        // A flipped byte in the third step: the first two still read, the third is refused.
        var damaged = Files.read(file.path)
        let at = try #require(header.sections["data"]).0.lowerBound + 2 * step + 5
        damaged[at] ^= 1
        Files.write(file.path, damaged)
        let again = try file.streamedSectionBuffer("data", of: header)
        try again.ensure(2 * step)
        #expect(again.filled == 2 * step)
        #expect(throws: SnapshotError.self) { try again.ensure(2 * step + 1) }
    }

    @Test(
        "a whole model read from a streamed section is refused for damage at its end, and for a record longer than it says",
        arguments: [true, false])
    func streamedModelDamage(apart: Bool) throws {
        let from = Self.parallelFrom(apart)
        let directory = TemporaryDirectory()
        let (model, file) = try Self.largeSnapshot(in: directory)
        let header = try ProjectionSnapshot.header(file)
        let model_ = try #require(header.sections["model"]).0
        let pristine = Files.read(file.path)
        // The last byte of the section (in its last chunk, read last).
        var damaged = pristine
        damaged[model_.upperBound - 1] ^= 1
        Files.write(file.path, damaged)
        #expect(throws: SnapshotError.self) {
            _ = try ProjectionSnapshot.model(file, header: header, parallelFrom: from)
        }
        // A byte anywhere along it: among the people, the tandems, the goals or the check-ins.
        for tenth in 1...9 {
            var damaged = pristine
            damaged[model_.lowerBound + model_.count * tenth / 10] ^= 0x20
            Files.write(file.path, damaged)
            #expect(throws: SnapshotError.self, "damage \(tenth)/10 along the section") {
                _ = try ProjectionSnapshot.model(file, header: header, parallelFrom: from)
            }
        }
        // A section that says its longest record is one byte long, with digests that fit: the
        // load never reads past what it checked, so it refuses (a record crosses a chunk) rather
        // than read what it did not check.
        Files.write(file.path, pristine)
        var section = try file.section("model", of: header)
        section[4] = 1
        section[5] = 0
        section[6] = 0
        section[7] = 0
        let figures = try file.section("figures", of: header), lookup = try file.section("lookup", of: header)
        try file.write(
            kind: header.kind, schema: header.schema, head: header.head, logEnd: header.logEnd,
            vaultSize: header.vaultSize, sections: [("figures", figures), ("model", section), ("lookup", lookup)],
            chunked: ["model", "lookup"])
        let rewritten = try ProjectionSnapshot.header(file)
        let chunk = SnapshotChunks.size
        #expect(try file.section("model", of: rewritten).count > 4 * chunk, "records cross chunks")
        #expect(throws: SnapshotError.self) {
            _ = try ProjectionSnapshot.model(file, header: rewritten, readAhead: chunk, parallelFrom: from)
        }
        // Read ahead far enough, everything read was checked: the same model, whatever it says.
        #expect(try ProjectionSnapshot.model(file, header: rewritten, parallelFrom: from).0 == model)
        // Written again as it was, it reads back whole, a chunk ahead at a time too.
        Files.write(file.path, pristine)
        #expect(try ProjectionSnapshot.model(file, header: header, readAhead: chunk, parallelFrom: from).0 == model)
        #expect(try ProjectionSnapshot.model(file, header: header, parallelFrom: from).0 == model)
    }
}

/// A read model folded event by event, as a replay folds it (every event recorded at the
/// same moment by the same actor).
struct Folding {
    var model = ProgrammeReadModel()
    var seq = 0

    mutating func apply(_ event: ProgrammeEvent, traits: Traits? = nil) {
        seq += 1
        model.apply(
            RecordedEvent(seq: seq, at: Timestamp(secondsSinceEpoch: 1_800_000_000), actor: "test", event: event),
            traits: traits)
    }

    /// A personal reference: every `legacyEvery`-th one of a shape that does not pack.
    static func ref(_ n: Int, legacyEvery: Int) -> PersonalReference {
        PersonalReference(
            ref: n % legacyEvery == 0 ? "legacy-\(n)" : PackedRef.unpack(UInt64(n) &* 0x9E37_79B9_7F4A_7C15),
            commit: .zero)
    }
}

/// A rematch note names a tandem whose member's latest check-in rated it 2 or less. The
/// candidates are found from the rows; the views' latest check-ins are the reference.
@Suite("Check-ins from the rows: a member's latest is the views' latest")
struct LatestCheckInRowsTests {
    @Test("by business day, and of one day the last recorded, in every tandem", arguments: [1, 3, 4, 5, 6])
    func latestFromRows(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 9450)
        history.voids = false
        history.run(steps: 150)
        // Check-ins on one day, a low one recorded first and a good one after (the good one
        // is the latest), and a good one recorded after a low one of a later day (the low one
        // is): days out of recording order, which a walk from the last recorded must weigh.
        let model0 = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        let active = model0.tandems.values.filter { $0.status == .active && $0.since < history.day.adding(days: -1) }
            .sorted { $0.id < $1.id }
        #expect(active.count >= 2, "seed \(seed): too few active tandems")
        var pinned = 0
        for (n, tandem) in active.prefix(6).enumerated() {
            let day = history.day
            let ratings = n % 2 == 0 ? [(1, day), (4, day)] : [(1, day), (5, day.adding(days: -1))]
            for (rating, on) in ratings {
                if history.record(
                    .checkIn(RecordCheckIn(tandem: tandem.id, participant: tandem.mentor, rating: rating, on: on)))
                {
                    pinned += 1
                }
            }
        }
        #expect(pinned == 2 * min(6, active.count), "seed \(seed): check-ins were refused")
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        var low = 0
        for number in 0..<Int32(model.tandemRows.count) {
            let id = model.tandemRows.id(ofRow: number)
            let expected = model.latestCheckIns(of: id).contains { $0.rating <= 2 }
            #expect(model.tandemRows.latestCheckInRatedLow(number) == expected, "seed \(seed), \(id)")
            if expected { low += 1 }
        }
        #expect(low > 0 && low < model.tandemRows.count, "seed \(seed): \(low) low")
    }
}
