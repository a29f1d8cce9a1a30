import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// `activity` for an exact view of a whole programme, summed from the model's daily session
/// counts (warm, from the snapshot or a checkpoint), against the same query over every
/// session kept one by one (a replay); and a participant's own activity from a slice against
/// a replay. Seeded histories, by month and by quarter, in several windows.
@Suite("Activity from daily counts: the figures of every session, without keeping them")
struct ActivityFromCountsTests {
    static let today = BusinessDate("2030-01-01")!

    static func activity(
        _ service: QueryService, viewer: Viewer, window: ReplayWindow, keeping: SessionKeeping,
        confinement: Confinement? = nil, period: ActivityQuery.Period
    ) -> String {
        do {
            let input = try service.input(
                QueryService.Request(
                    viewer: viewer, window: window, knownAt: window.knownAt.map { "seq:\($0)" }, keepsSessions: keeping,
                    confinedTo: confinement, today: today))
            let result = try ActivityQuery.run(input, .init(period: period))
            return "\(result.payload) \(result.notes)"
        } catch {
            return "error: \(error)"
        }
    }

    @Test("coordinators' and auditors' figures from daily counts equal those of every session", arguments: 0..<5)
    func countsEqualSessions(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9100, steps: 220, backdating: seed % 2 == 0, in: directory)
        let head = try store.events.readHead().seq
        var windows: [ReplayWindow] = [.everything, ReplayWindow(knownAt: head / 2), ReplayWindow(knownAt: head - 3)]
        for month in ["2027-02-10", "2027-03-31", "2027-05-01", "2027-07-15"] {
            windows.append(ReplayWindow(asOf: BusinessDate(month)!))
        }
        for window in windows {
            for viewer in [Viewer.coordinator, .auditor] where window.knownAt == nil || viewer == .auditor {
                for period in ActivityQuery.Period.allCases {
                    let counted = Self.activity(service, viewer: viewer, window: window, keeping: .none, period: period)
                    let kept = Self.activity(service, viewer: viewer, window: window, keeping: .all, period: period)
                    #expect(counted == kept, "seed \(seed), \(viewer), \(window), \(period)")
                }
            }
        }
        #expect(
            !Self.activity(service, viewer: .coordinator, window: .everything, keeping: .none, period: .month)
                .contains("error"))
    }

    @Test(
        "an analyst's figures from the session listing, narrowed to a window, equal those of every session",
        arguments: 0..<3)
    func listedEqualsKept(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, _, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9150, steps: 220, backdating: true, in: directory)
        var windows: [ReplayWindow] = [.everything]
        for month in ["2027-02-10", "2027-03-31", "2027-05-01", "2027-07-15"] {
            windows.append(ReplayWindow(asOf: BusinessDate(month)!))
        }
        var sessions = 0
        for window in windows {
            for period in ActivityQuery.Period.allCases {
                let listed = Self.activity(service, viewer: .analyst, window: window, keeping: .listed, period: period)
                let kept = Self.activity(service, viewer: .analyst, window: window, keeping: .all, period: period)
                #expect(listed == kept, "seed \(seed), \(window), \(period)")
                #expect(!listed.contains("error"), "seed \(seed), \(window): \(listed)")
            }
            // The listing answered, narrowed to the window (else the test would compare the
            // plain path with itself).
            let input = try service.input(
                QueryService.Request(viewer: .analyst, window: window, keepsSessions: .listed, today: Self.today))
            let listing = try #require(input.sessionListing, "seed \(seed), \(window): no listing")
            #expect((listing.narrowing != nil) == (window.asOf != nil), "seed \(seed), \(window)")
            if window.asOf == nil { sessions = try listing.count(programme: nil) }
        }
        #expect(sessions > 0, "seed \(seed): no session to sum")
    }

    /// A programme's people (a segment's, if given) and their tandems as the views give
    /// them, the way the scope was made before it was read from the rows: each person's dates,
    /// each tandem's id, row and days, and the populations.
    static func reference(
        _ programme: Programme, segment: SegmentFilter?, _ input: QueryInput
    ) -> (people: [String], tandems: [String], populations: [Population]) {
        let model = input.model, policy = input.disclosure
        let everyone = model.people.values.filter { $0.programme == programme.id }
        let people = segment.map { segment in everyone.filter(segment.admits) } ?? everyone
        let ids = Set(people.map(\.id))
        let tandems = model.tandems.values.filter {
            $0.programme == programme.id && (segment == nil || ids.contains($0.mentor) || ids.contains($0.mentee))
        }
        return (
            people.map { "\($0.signedUpOn) \($0.withdrawnOn.map(\.description) ?? "-")" }.sorted(),
            tandems.map {
                "\($0.id) \(model.tandemRows.row(of: $0.id) ?? -1) \($0.since) \($0.until.map(\.description) ?? "-")"
            }.sorted(),
            [
                policy.population(people.map(\.id)), policy.population(everyone.map(\.id)),
                policy.protects ? policy.population(everyoneIn: model.people) : Population(),
                policy.population(tandems: tandems.map(\.id)),
            ]
        )
    }

    @Test("a programme's people and tandems read from the rows are those of the views", arguments: 0..<4)
    func rowsEqualViews(seed: Int) throws {
        // Two programmes: everyone in the model is more than a programme's people.
        let model = try StatsGroupsTests.model(seed: UInt64(seed) &+ 9300)
        #expect(model.programmeOrder.count == 2)
        let perturbed = DisclosurePolicy.cellKey(RecordKeys(secret: Array("activity \(seed)".utf8)), erased: 0)
        var compared = 0, reached = 0, segmented = 0
        for policy in [DisclosurePolicy(viewer: .coordinator), perturbed] {
            let basis = Basis(head: .empty, asOf: Self.today, asOfGiven: false, knownAt: nil, role: policy.viewer)
            let input = QueryInput(model: model, basis: basis, disclosure: policy)
            for programme in model.programmeOrder.compactMap({ model.programmes[$0] }) {
                // Whole programmes, segments holding some of their people, and one holding none.
                let first = model.people.values.first { $0.programme == programme.id }
                let segments: [SegmentFilter?] = [
                    nil, SegmentFilter("role=mentor"), SegmentFilter("generation=gen-z"),
                    first?.traits.map { SegmentFilter("unit=\($0.unit.lowercased())") } ?? nil,
                    SegmentFilter("gender=nobody"),
                ]
                for segment in segments {
                    let rows = ActivityQuery.Scope(rowsOf: programme, segment: segment, input)
                    let views = Self.reference(programme, segment: segment, input)
                    let context = "seed \(seed), \(policy.viewer), \(programme.id), \(segment?.description ?? "-")"
                    let dates = rows.people.map {
                        "\($0.signedUpOnDate) \($0.withdrawnOnDate.map(\.description) ?? "-")"
                    }.sorted()
                    let tandems = rows.tandems.map {
                        "\(model.tandemRows.id(ofRow: $0.row)) \($0.row) \($0.sinceDate) "
                            + ($0.untilDate.map(\.description) ?? "-")
                    }.sorted()
                    #expect(dates == views.people, "\(context): people")
                    #expect(tandems == views.tandems, "\(context): tandems")
                    #expect(
                        [rows.population, rows.everyone, rows.parent, rows.pairs] == views.populations, "\(context)")
                    if segment != nil, !dates.isEmpty, rows.population.size < rows.everyone.size { segmented += 1 }
                    if policy.protects { #expect(rows.parent.size == model.people.count, "\(context): everyone") }
                    // Each tandem's reached goals, read along its goal rows, are its views'.
                    for tandem in rows.tandems {
                        var days: [BusinessDate] = []
                        model.tandemRows.forEachReachedGoal(of: tandem.row) { days.append($0) }
                        let id = model.tandemRows.id(ofRow: tandem.row)
                        #expect(days == (model.goals[id] ?? []).compactMap(\.reached), "\(context), \(id)")
                        reached += days.count
                    }
                    compared += rows.people.count + rows.tandems.count
                }
            }
        }
        #expect(compared > 0 && reached > 0, "seed \(seed): nothing was compared")
        #expect(segmented > 0, "seed \(seed): no segment held anyone")
    }

    @Test("a participant's own activity from a slice equals a replay's", arguments: 0..<3)
    func participantsOwn(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, store, service) = try TimeTravelTests.generated(seed: UInt64(seed) &+ 9200, steps: 200, in: directory)
        _ = try service.input(QueryService.Request(viewer: .coordinator, today: Self.today))
        let model = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store)).fold
        for person in model.people.values.map(\.id) {
            let sliced = Self.activity(
                service, viewer: .participant(person), window: .everything, keeping: .all, confinement: Confinement(),
                period: .month)
            let replayed = Self.activity(
                service, viewer: .participant(person), window: ReplayWindow(asOf: Self.today), keeping: .all,
                period: .month)
            #expect(sliced == replayed, "seed \(seed), \(person)")
        }
    }
}
