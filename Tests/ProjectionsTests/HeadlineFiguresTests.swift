import EventLog
import Mentoring
import Projections
import Testing

/// The headline figures, counted from the rows, against the same figures counted from every
/// person's and tandem's view (the way they were computed before): on seeded histories with
/// withdrawals, swaps, completions and erasures, for several programmes, exact and perturbed.
@Suite("Headline figures: counted from the rows as from the views")
struct HeadlineFiguresTests {
    /// The figures as the views count them, in the order `StatsQuery` writes them.
    static func reference(
        _ model: ProgrammeReadModel, _ programmes: Set<ProgrammeID>, segment: SegmentFilter? = nil,
        policy: DisclosurePolicy
    )
        -> [String: JSONValue]
    {
        let people = model.people.values.filter {
            programmes.contains($0.programme) && segment?.admits($0) ?? true
        }
        let ids = Set(people.map(\.id))
        // A segment's tandems: those with a member in it.
        let tandems = model.tandems.values.filter {
            programmes.contains($0.programme) && (segment == nil || ids.contains($0.mentor) || ids.contains($0.mentee))
        }
        let population = policy.population(people.map(\.id))
        let pairs = policy.population(tandems: tandems.map(\.id))
        func sum(_ values: [Int]) -> (Int, Int) { (values.reduce(0, +), values.max() ?? 0) }
        func magnitude(_ m: (Int, Int), _ name: String) -> Int {
            policy.magnitude(m.0, largest: m.1, in: pairs, name)
        }
        func count(_ n: Int, _ name: String, _ base: Population) -> Int { policy.count(n, in: base, name) }
        let mentors = people.filter { $0.role == .mentor }.count
        return [
            "participants": .int(Int64(policy.size(population))),
            "mentors": .int(Int64(count(mentors, "mentors", population))),
            "mentees": .int(Int64(count(people.count - mentors, "mentees", population))),
            "matched": .int(Int64(count(people.filter { $0.firstMatchedOn != nil }.count, "matched", population))),
            "waiting": .int(Int64(count(people.filter(\.isWaiting).count, "waiting", population))),
            "withdrawn": .int(Int64(count(people.filter { $0.withdrawnOn != nil }.count, "withdrawn", population))),
            "activeTandems": .int(Int64(count(tandems.filter { $0.status == .active }.count, "active", pairs))),
            "completedTandems": .int(
                Int64(count(tandems.filter { $0.status == .completed }.count, "completed", pairs))),
            "dissolvedTandems": .int(
                Int64(count(tandems.filter { $0.status == .dissolved }.count, "dissolved", pairs))),
            "sessions": .int(Int64(magnitude(sum(tandems.map(\.sessions)), "sessions"))),
            "minutes": .int(Int64(magnitude(sum(tandems.map(\.minutes)), "minutes"))),
            "goalsSet": .int(Int64(magnitude(sum(tandems.map(\.goalsSet)), "goalsSet"))),
            "goalsReached": .int(Int64(magnitude(sum(tandems.map(\.goalsReached)), "goalsReached"))),
        ].merging(
            // Perturbed swaps, and a segment's, are those of the tandems in scope (exact ones
            // of a whole programme, the model's tally).
            policy.protects || segment != nil
                ? [
                    "swaps": .int(
                        Int64(
                            count(
                                tandems.filter { if case .swap = $0.origin { true } else { false } }.count, "swaps",
                                pairs
                            )))
                ] : [:]
        ) { a, _ in a }
    }

    @Test("every count equals the views' count", arguments: 0..<10)
    func rowsEqualViews(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 5300)
        history.backdating = seed % 2 == 0
        var checked = 0, ended = false
        for _ in 0..<3 {
            history.run(steps: 120)
            let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
            var scopes = model.programmeOrder.map { Set([$0]) }
            scopes.append(Set(model.programmeOrder))
            scopes.append([ProgrammeID("p-never")!])
            let perturbed = DisclosurePolicy.cellKey(RecordKeys(secret: Array("seed \(seed)".utf8)), erased: 0)
            for scope in scopes {
                // Segments that hold people, and one that holds nobody.
                let first = model.people.values.first { scope.contains($0.programme) }
                let segments: [SegmentFilter?] = [
                    nil, SegmentFilter("role=mentee"), SegmentFilter("generation=gen-z"),
                    first?.traits.map { SegmentFilter("unit=\($0.unit.uppercased())") } ?? nil,
                    first?.traits.map { SegmentFilter("level=\($0.level)") } ?? nil, SegmentFilter("unit=nowhere"),
                ]
                for policy in [DisclosurePolicy(viewer: .coordinator), perturbed] {
                    for segment in segments {
                        let figures = StatsQuery.figures(
                            model, programmes: scope, label: "x", segment: segment, policy: policy
                        ).0
                        let expected = Self.reference(model, scope, segment: segment, policy: policy)
                        for (name, value) in expected {
                            #expect(
                                figures.stats[name] == value,
                                "seed \(seed), \(scope), \(segment?.description ?? "-"), \(name)")
                        }
                        checked += 1
                    }
                }
            }
            ended = ended || model.tandems.values.contains { $0.status != .active }
        }
        #expect(checked >= 60)
        #expect(ended, "seed \(seed) ends some tandems")
    }

    @Test("a segment is matched without regard to case, and a level by its number or its label", arguments: 0..<3)
    func segmentValues(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 5350)
        history.run(steps: 200)
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        let scope = Set(model.programmeOrder)
        let people = model.people.values.filter { scope.contains($0.programme) }
        func participants(_ segment: String) -> JSONValue? {
            StatsQuery.figures(model, programmes: scope, label: "x", segment: SegmentFilter(segment)!).0.stats[
                "participants"]
        }
        let levels = Set(people.compactMap { $0.traits?.level })
        let units = Set(people.compactMap { $0.traits?.unit })
        #expect(!levels.isEmpty && !units.isEmpty)
        for level in levels {
            let counted = JSONValue.int(Int64(people.filter { $0.traits?.level == level }.count))
            #expect(participants("level=\(level)") == counted, "seed \(seed), level \(level)")
            #expect(participants("level=level \(level)") == counted, "seed \(seed), level \(level)")
            #expect(participants("level=LEVEL \(level)") == counted, "seed \(seed), level \(level)")
        }
        for unit in units {
            let counted = JSONValue.int(Int64(people.filter { $0.traits?.unit == unit }.count))
            #expect(participants("unit=\(unit.uppercased())") == counted, "seed \(seed), unit \(unit)")
            #expect(participants("unit=\(unit.lowercased())") == counted, "seed \(seed), unit \(unit)")
        }
        #expect(participants("unit=level 1") == .int(0))
    }

    @Test("a tandem's goal count, read along its list, is the number of its goals' views", arguments: 0..<4)
    func goalCountsFromRows(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 5500)
        history.run(steps: 400)
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        let tandems = model.tandems(in: nil)
        for tandem in tandems {
            #expect(model.goals.count(of: tandem.id) == (model.goals[tandem.id]?.count ?? 0), "\(tandem.id)")
        }
        #expect(model.goals.count(of: TandemID("t-never")!) == 0)
        #expect(tandems.contains { model.goals.count(of: $0.id) > 1 }, "seed \(seed): a tandem with several goals")
    }

    @Test("a person's profile ref read from the row is the view's, erased people included", arguments: 0..<4)
    func profileRefsFromRows(seed: Int) throws {
        var history = HistoryGenerator(seed: UInt64(seed) &+ 5400)
        history.run(steps: 300)
        let model = try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
        let views = Array(model.people.values)
        for view in views { #expect(model.people.profileRef(of: view.id) == view.profileRef, "\(view.id)") }
        #expect(model.people.profileRef(of: ParticipantID("p-never")!) == nil)
        #expect(model.people.profileRefs == Set(views.compactMap(\.profileRef)))
        #expect(views.contains { $0.profileRef != nil })
    }
}
