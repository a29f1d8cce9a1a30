import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// `tandem sessions` for whole programmes, listed from the session index and streamed,
/// against the plain path (a replay keeping every session): on seeded histories, cold (no
/// cache), warm, after a tail (with voids for half the seeds, which restart the fold), and
/// with a damaged index, every format prints the same bytes.
@Suite("Session listing: every session streamed from the index prints as a replay's")
struct SessionListingTests {
    static let today = BusinessDate("2030-01-01")!

    /// The rendered answer (in every format) of `sessions`, or of `activity` (in a segment),
    /// and whether a listing answered.
    static func answer(
        _ keeping: SessionKeeping, viewer: Viewer, programme: ProgrammeID?, activity: SegmentFilter?? = nil,
        service: QueryService
    ) -> (text: String, listed: Bool) {
        let request = QueryService.Request(
            viewer: viewer, keepsSessions: keeping, figuresSuffice: activity == nil, today: today)
        do {
            let input = try service.input(request)
            let result =
                try activity.map { try ActivityQuery.run(input, .init(programme: programme, segment: $0)) }
                ?? SessionsQuery.run(input, .init(programme: programme))
            var text = ""
            for format in Renderer.Format.allCases {
                for width in [40, 200] { try Renderer.write(result, as: format, width: width) { text += $0 } }
            }
            return (text, input.sessionListing != nil)
        } catch {
            return ("error: \(error)", false)
        }
    }

    /// Each viewer's and programme's listing equals the plain path's; returns how many
    /// answers a listing gave.
    static func expectSame(_ service: QueryService, store: Store, seed: Int, stage: String) throws -> Int {
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        var listed = 0
        for viewer in [Viewer.coordinator, .auditor, .analyst] {
            for programme in [nil, ProgrammeID("p-never")!] + model.programmeOrder {
                let fast = answer(.listed, viewer: viewer, programme: programme, service: service)
                let plain = answer(.all, viewer: viewer, programme: programme, service: service)
                #expect(fast.text == plain.text, "seed \(seed), \(stage): \(viewer), \(programme?.rawValue ?? "all")")
                #expect(!plain.listed)
                if fast.listed { listed += 1 }
            }
        }
        // Activity where each session counts one by one: an analyst's (perturbed per tandem),
        // and in a segment.
        // The largest unit (a small one is refused to analysts, on both paths alike).
        let units = Dictionary(grouping: model.people.values.compactMap { $0.traits?.unit }, by: { $0 })
        let unit = units.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) }?.key ?? "none"
        for (viewer, segment) in [
            (Viewer.analyst, nil), (.analyst, SegmentFilter("unit=\(unit)")),
            (.coordinator, SegmentFilter("unit=\(unit)")),
        ] {
            for programme in model.programmeOrder {
                let fast = answer(.listed, viewer: viewer, programme: programme, activity: segment, service: service)
                let plain = answer(.all, viewer: viewer, programme: programme, activity: segment, service: service)
                #expect(
                    fast.text == plain.text,
                    "seed \(seed), \(stage): activity for \(viewer) in \(segment?.description ?? "all")")
                #expect(!fast.text.hasPrefix("error"), "\(fast.text)")
                if fast.listed { listed += 1 }
            }
        }
        return listed
    }

    @Test("cold, warm, after a tail, and with a damaged index", arguments: 0..<6)
    func listingEqualsReplay(seed: Int) throws {
        let directory = TemporaryDirectory()
        var (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8100, steps: 180, backdating: seed % 2 == 1, in: directory)
        let index = SessionIndex.file(store)
        // Cold: the replay's own index answers (and is written); warm: the file answers.
        try? FileSystem.remove(index.path)
        #expect(try Self.expectSame(service, store: store, seed: seed, stage: "cold") > 0)
        #expect(FileSystem.kind(of: index.path).exists)
        #expect(try Self.expectSame(service, store: store, seed: seed, stage: "warm") > 0)
        try Self.expectNaturalSection(index, seed: seed, stage: "warm")

        // A tail: the index is extended (or, after a void of what it covers, made anew).
        history.voids = seed % 2 == 0
        let before = try store.events.readHead().seq
        history.run(steps: 70)
        try TimeTravelTests.append(history, after: before, to: store)
        #expect(try Self.expectSame(service, store: store, seed: seed, stage: "tail") > 0)
        let header = try SessionIndex.header(index)
        #expect(header.head == (try store.events.readHead()), "seed \(seed): the index was brought up to date")
        try Self.expectNaturalSection(index, seed: seed, stage: "tail")

        // A natural order that does not check (a changed byte; a record twice under a
        // digest that fits) is not used: the listing sorts, and prints the same.
        let natural = try #require(header.sections["natural"]).range
        var changed = try FileSystem.readFile(index.path)
        changed[natural.lowerBound + 1] ^= 0x01
        try FileSystem.replaceAtomically(index.path, with: changed)
        #expect(try Self.expectSame(service, store: store, seed: seed, stage: "natural changed") > 0)
        var twice = try SessionIndex.extended(index, header: SessionIndex.header(index), with: SessionIndex.Builder())
        if twice.natural.count > 1 { twice.natural[0] = twice.natural[1] }
        try SessionIndex.write(twice, head: header.head, logEnd: header.logEnd, vaultSize: header.vaultSize, to: index)
        #expect(try Self.naturalSection(index) == nil || twice.natural.count < 2)
        #expect(try Self.expectSame(service, store: store, seed: seed, stage: "natural twice") > 0)

        // A damaged record: the listing is refused, and a replay answers instead.
        let range = try #require(header.sections["byTandem"]).range
        var bytes = try FileSystem.readFile(index.path)
        bytes[range.upperBound - 3] ^= 0x41
        try FileSystem.replaceAtomically(index.path, with: bytes)
        _ = try Self.expectSame(service, store: store, seed: seed, stage: "damaged")
    }

    /// The index's `natural` section holds its records' numbers in the natural order of
    /// their keys, as a plain sort by `NaturalOrder.less` puts them.
    static func expectNaturalSection(_ index: SnapshotFile, seed: Int, stage: String) throws {
        let header = try SessionIndex.header(index)
        let map = try MappedFile(path: index.path)
        let section = try index.section("byTandem", of: header, in: map)
        let keys = try (0..<KeyedSection.count(in: section)).map {
            String(decoding: try KeyedSection.key($0, in: section), as: UTF8.self)
        }
        let expected = keys.indices.sorted { NaturalOrder.less(keys[$0], keys[$1]) }.map(Int32.init)
        #expect(try naturalSection(index) == expected, "seed \(seed), \(stage): \(keys.count) tandems")
    }

    /// The index's natural order as a listing takes it: nil unless it checks.
    static func naturalSection(_ index: SnapshotFile) throws -> [Int32]? {
        let header = try SessionIndex.header(index)
        let map = try MappedFile(path: index.path)
        let section = try index.section("byTandem", of: header, in: map)
        guard let (range, digest) = header.sections["natural"] else { return nil }
        return SessionIndex.naturalPositions(
            UnsafeRawBufferPointer(rebasing: map.bytes[range]), digest: digest,
            count: try KeyedSection.count(in: section))
    }

    /// A streamed answer prints as the held one, in every form.
    static func expectSamePrint(_ stream: QueryResult, _ held: QueryResult, width: Int, _ context: String) throws {
        #expect(held.stream == nil, "\(context): held")
        for format in Renderer.Format.allCases {
            var text = ""
            try Renderer.write(stream, as: format, width: width) { text += $0 }
            #expect(text == Renderer.render(held, as: format, width: width), "\(context), \(format)")
        }
    }

    @Test("tandems streamed print as tandems held, for every viewer, status and at-risk list", arguments: 0..<3)
    func tandemsStreamedAsHeld(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: UInt64(seed) &+ 8400, steps: 200, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let member = try #require(model.tandems.values.first).mentor
        var streamed = 0
        for viewer in [Viewer.coordinator, .auditor, .participant(member)] {
            let input = try service.input(QueryService.Request(viewer: viewer, today: Self.today))
            for status in TandemsQuery.StatusFilter.allCases {
                for atRisk in viewer.isParticipant ? [false] : [false, true] {
                    var options = TandemsQuery.Options(status: status, atRisk: atRisk)
                    let held = try TandemsQuery.run(input, options)
                    options.heldUpTo = 0
                    let stream = try TandemsQuery.run(input, options)
                    if stream.stream != nil { streamed += 1 }
                    for width in [40, 200] {
                        try Self.expectSamePrint(
                            stream, held, width: width, "seed \(seed), \(viewer), \(status), at risk \(atRisk)")
                    }
                }
            }
        }
        #expect(streamed > 0)
    }

    @Test("due, read from the rows, lists the views' due tandems; streamed it prints as held", arguments: 0..<3)
    func dueFromRowsStreamedAsHeld(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8450, steps: 240, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let member = try #require(model.tandems.values.first { $0.status == .active }).mentor
        var streamed = 0, listed = 0, named = 0
        for day in ["2027-02-15", "2027-05-01", "2027-06-15", "2027-08-01"] {
            let window = ReplayWindow(asOf: BusinessDate(day)!)
            for viewer in [Viewer.coordinator, .auditor, .participant(member)] {
                let input = try service.input(QueryService.Request(viewer: viewer, window: window, today: Self.today))
                if viewer.isParticipant, input.model.people[member] == nil {
                    // Not signed up yet on that day: refused, as an unknown id.
                    #expect(throws: QueryError.unknownParticipant(member)) { try DueQuery.items(input, .init()) }
                    continue
                }
                for programme in [nil, history.programme] {
                    for within in [0, 30] {
                        var options = DueQuery.Options(programme: programme, within: within)
                        // By hand, from the views: active, last session (or match) plus the
                        // cadence, within the horizon and the programme.
                        let horizon = input.asOf.adding(days: within)
                        let expected = input.model.tandems(in: programme).filter {
                            $0.status == .active && (viewer.isParticipant ? $0.includes(member) : true)
                        }.compactMap { tandem -> DueQuery.Item? in
                            let p = input.model.programmes[tandem.programme]!
                            let due = (tandem.lastSession ?? tandem.since).adding(days: p.cadenceDays)
                            guard due <= horizon, due <= p.ends, input.asOf <= p.ends, p.closedOn == nil else {
                                return nil
                            }
                            return DueQuery.Item(
                                tandem: tandem, dueOn: due, overdueDays: max(0, due.days(to: input.asOf)))
                        }.sorted { ($0.dueOn, $0.tandem.id) < ($1.dueOn, $1.tandem.id) }
                        let context = "seed \(seed), \(day), \(viewer), \(programme?.rawValue ?? "all"), \(within)"
                        #expect(try DueQuery.items(input, options) == expected, "\(context)")
                        listed += expected.count
                        let held = try DueQuery.run(input, options)
                        // Names read by row are those looked up by id: none for an auditor,
                        // the partner's (not their own) for a participant.
                        let objects = held.payload.arrayValue ?? []
                        #expect(objects.count == expected.count, "\(context)")
                        for (object, item) in zip(objects, expected) {
                            let shown = object.objectValue
                            #expect(
                                shown?["mentorName"] ?? .null == input.name(of: item.tandem.mentor)
                                    && shown?["menteeName"] ?? .null == input.name(of: item.tandem.mentee),
                                "\(context), \(item.tandem.id)")
                            if case .string = shown?["mentorName"] ?? .null { named += 1 }
                            if viewer.isParticipant {
                                #expect(
                                    (item.tandem.mentor == member ? shown?["mentorName"] : shown?["menteeName"])
                                        ?? .null == .null, "\(context): not their own name")
                            }
                        }
                        // The table's last column: "3 days" overdue, "1 day", or empty.
                        #expect(
                            held.table.rows.map { $0.last ?? "-" }
                                == expected.map {
                                    $0.overdueDays == 0 ? "" : $0.overdueDays == 1 ? "1 day" : "\($0.overdueDays) days"
                                }, "\(context)")
                        options.heldUpTo = 0
                        let stream = try DueQuery.run(input, options)
                        if stream.stream != nil { streamed += 1 }
                        for width in [40, 200] { try Self.expectSamePrint(stream, held, width: width, context) }
                    }
                }
            }
        }
        #expect(streamed > 0 && listed > 0, "seed \(seed): nothing was due")
        #expect(named > 0, "seed \(seed): no name was shown")
    }

    @Test("goals streamed print as goals held, for every viewer and programme", arguments: 0..<3)
    func goalsStreamedAsHeld(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8500, steps: 240, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let member = try #require(model.tandems.values.first { !(model.goals[$0.id] ?? []).isEmpty }).mentor
        var streamed = 0, overdue = 0
        for viewer in [Viewer.coordinator, .auditor, .participant(member)] {
            let input = try service.input(QueryService.Request(viewer: viewer, today: Self.today))
            for programme in [nil, history.programme] {
                var options = GoalsQuery.Options(programme: programme)
                let held = try GoalsQuery.run(input, options)
                options.heldUpTo = 0
                let stream = try GoalsQuery.run(input, options)
                if stream.stream != nil { streamed += 1 }
                #expect(stream.confidentialRead == held.confidentialRead)
                overdue += Renderer.render(held, as: .table).components(separatedBy: "overdue").count - 1
                try Self.expectSamePrint(stream, held, width: 120, "seed \(seed), \(viewer)")
            }
        }
        #expect(streamed > 0)
        #expect(overdue > 0, "seed \(seed): some goals are overdue")
    }

    @Test("people streamed print as people held, for every status and a search", arguments: 0..<3)
    func peopleStreamedAsHeld(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8600, steps: 200, in: directory)
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let someone = try #require(model.people.values.first).id
        var streamed = 0, rows = 0
        for viewer in [Viewer.coordinator, .participant(someone)] {
            let input = try service.input(QueryService.Request(viewer: viewer, today: Self.today))
            for status in PeopleQuery.Status.allCases {
                for search in [nil, "a", "zzz-nobody"] {
                    var options = PeopleQuery.Options(programme: history.programme, search: search, status: status)
                    let held = try PeopleQuery.run(input, options)
                    options.heldUpTo = 0
                    let stream = try PeopleQuery.run(input, options)
                    if let list = stream.stream {
                        streamed += 1
                        rows += list.count
                    }
                    #expect(stream.notes == held.notes)
                    try Self.expectSamePrint(
                        stream, held, width: 100, "seed \(seed), \(viewer), \(status), \(search ?? "-")")
                }
            }
        }
        #expect(streamed > 0 && rows > 0)
    }

    @Test("rematch candidates from the rows equal those of every active tandem's view", arguments: 0..<4)
    func rematchNotesFromRows(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (history, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8700, steps: 260, in: directory)
        var generator = SeededGenerator(seed: UInt64(seed))
        var found = 0
        for window in try [.everything] + TimeTravelTests.windows(store, generator: &generator) {
            let input = try service.input(QueryService.Request(viewer: .coordinator, window: window, today: Self.today))
            let model = input.model
            // Every active tandem's view, and its members' latest check-ins.
            let plain = model.tandems(in: history.programme).filter { $0.status == .active }.compactMap {
                TandemsQuery.rematchNote($0, model: model)
            }
            #expect(TandemsQuery.rematchNotes(input, programme: history.programme) == plain, "seed \(seed), \(window)")
            found += plain.count
        }
        #expect(found > 0, "seed \(seed): some tandems are rematch candidates")
    }

    @Test("dropouts are the same for the people in any order", arguments: 0..<3)
    func dropoutsInAnyOrder(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (history, _, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 8800, steps: 260, in: directory)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 1)
        for viewer in [Viewer.coordinator, .analyst] {
            let input = try service.input(QueryService.Request(viewer: viewer, today: Self.today))
            for by in [nil, SegmentKey.programme, .role, .generation] {
                let scope = try input.scope(by == .programme ? nil : history.programme, by: by)
                let ordered = input.people(in: scope)
                let unordered = input.peopleInAnyOrder(in: scope)
                #expect(unordered.map(\.id).sorted() == ordered.map(\.id), "seed \(seed)")
                var options = DropoutsQuery.Options(programme: by == .programme ? nil : history.programme)
                options.by = by
                let byID = Renderer.render(try DropoutsQuery.run(input, options) { _ in ordered }, as: .json)
                #expect(Renderer.render(try DropoutsQuery.run(input, options), as: .json) == byID, "seed \(seed)")
                let shuffled = ordered.shuffled(using: &generator)
                #expect(
                    Renderer.render(try DropoutsQuery.run(input, options) { _ in shuffled }, as: .json) == byID,
                    "seed \(seed), \(viewer), by \(by?.rawValue ?? "-")")
            }
        }
    }

    @Test("a view that may not run a query is refused before the store is read")
    func refusedBeforeReading() throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: 8300, steps: 60, in: directory)
        // With the log gone, anything that reads the store fails; the refusal comes first.
        try FileSystem.remove(store.root + "/events.jsonl")
        for kind in [QueryKind.sessions, .goals, .audit, .due, .people, .suggest] {
            var request = QueryService.Request(viewer: .analyst, keepsSessions: .listed, today: Self.today)
            request.kind = kind
            #expect(throws: DisclosureRefusal.self, "\(kind)") { _ = try service.input(request) }
        }
        // A view that may run it reads the store (and here finds no log).
        var allowed = QueryService.Request(viewer: .coordinator, keepsSessions: .listed, today: Self.today)
        allowed.kind = .sessions
        do {
            _ = try service.input(allowed)
            Issue.record("a store without a log answered")
        } catch {
            #expect(!(error is DisclosureRefusal), "\(error)")
        }
    }

    @Test("a participant's sessions show their notes and never come from the listing")
    func participantsGetTheirNotes() throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: 8200, steps: 180, in: directory)
        _ = try service.input(QueryService.Request(viewer: .coordinator, keepsSessions: .listed, today: Self.today))
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        let tandem = try #require(model.tandems.values.first { $0.sessions > 0 })
        let viewer = Viewer.participant(tandem.mentor)
        let input = try service.input(QueryService.Request(viewer: viewer, keepsSessions: .listed, today: Self.today))
        #expect(input.sessionListing == nil)
        let result = try SessionsQuery.run(input, .init())
        #expect(result.stream == nil)
        #expect(result.table.headers.last == "notes")
    }
}
