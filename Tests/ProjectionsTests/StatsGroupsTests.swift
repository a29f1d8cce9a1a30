import EventLog
import Mentoring
import Testing

@testable import Projections

/// `stats --by` reads everyone's group from the rows. These check it against the groups made
/// from every person's view, the way they were made before, on seeded histories with
/// withdrawals, erasures and several programmes, exact and perturbed, with and without a
/// segment.
@Suite("stats --by: groups read from the rows as from the views")
struct StatsGroupsTests {
    /// The groups as the views make them: each person's label from `DisclosurePolicy.labels`,
    /// their activity by id.
    static func reference(
        _ model: ProgrammeReadModel, scope: Set<ProgrammeID>, by key: SegmentKey, segment: SegmentFilter?,
        policy: DisclosurePolicy, k: Int
    ) -> [String: StatsQuery.Group] {
        let everyone = model.people.values.filter { scope.contains($0.programme) }
        let counted = segment.map { segment in everyone.filter(segment.admits) } ?? everyone
        let label = policy.labels(of: everyone, by: key, k: k)
        let activity = model.activity()
        let keys = policy.keys(of: counted.map(\.id))
        var groups: [String: StatsQuery.Group] = [:]
        for (person, cellKey) in zip(counted, keys) {
            let done = activity[person.id] ?? (0, 0)
            var g = groups[label(person)] ?? StatsQuery.Group()
            g.population.add(cellKey)
            if person.withdrawnOn != nil { g.withdrawn += 1 }
            if done.goalsReached > 0 { g.reachedAGoal += 1 }
            g.sessions.add(done.sessions)
            g.goalsReached.add(done.goalsReached)
            groups[label(person)] = g
        }
        return groups
    }

    /// A seeded history of the pilot, then a second programme whose people have the traits
    /// of the pilot's (so that a group's name must come from the programme too).
    static func model(seed: UInt64) throws -> ProgrammeReadModel {
        var history = HistoryGenerator(seed: seed)
        history.run(steps: 400)
        let second = ProgrammeID("second")!
        let launched = history.record(
            .launch(
                LaunchProgramme(
                    id: second, name: "Second", starts: BusinessDate("2027-01-01")!,
                    ends: BusinessDate("2029-12-31")!, minGroupSize: 3)))
        #expect(launched)
        for n in 0..<12 {
            let role: Role = n % 2 == 0 ? .mentor : .mentee
            let profile = Profile(
                name: "Q\(n)", unit: ["IT", "Sales"][n % 2], level: role == .mentor ? 2 : 8,
                born: role == .mentor ? 1998 : 1962, gender: "f")
            let signedUp = history.record(
                .signUp(
                    SignUp(
                        programme: second, role: role, profile: SealedRecord(.profile(profile), random: history.random),
                        id: ParticipantID("q\(n)")!, on: history.day)))
            #expect(signedUp)
        }
        // The same traits in both roles: a group's name must come from the role as well as
        // from the traits.
        for n in 0..<8 {
            let profile = Profile(name: "S\(n)", unit: "IT", level: 5, born: 1990, gender: "f")
            let signedUp = history.record(
                .signUp(
                    SignUp(
                        programme: second, role: n % 2 == 0 ? .mentor : .mentee,
                        profile: SealedRecord(.profile(profile), random: history.random), id: ParticipantID("s\(n)")!,
                        on: history.day)))
            #expect(signedUp)
        }
        return try Replay.fold(history.log, profiles: history.profiles) { ProgrammeReadModel() }.fold
    }

    @Test("each person's group and withdrawal read from the rows are their view's", arguments: 0..<6)
    func segmentsEqualViews(seed: Int) throws {
        let model = try Self.model(seed: UInt64(seed) &+ 5600)
        #expect(model.programmeOrder.count == 2)
        var scopes = model.programmeOrder.map { Set([$0]) }
        scopes.append(Set(model.programmeOrder))
        scopes.append([ProgrammeID("p-never")!])
        for scope in scopes {
            let views = model.people.values.filter { scope.contains($0.programme) }
            for key in SegmentKey.allCases {
                let segments = model.peopleRows.segments(in: scope, by: key)
                #expect(segments.rows.map(model.peopleRows.id(ofRow:)) == views.map(\.id))
                #expect(segments.group.map { segments.names[Int($0)] } == views.map(key.value(of:)), "\(key)")
                #expect(segments.withdrawn == views.map { $0.withdrawnOn != nil })
                #expect(Set(segments.names).count == segments.names.count, "each name once")
            }
        }
        // The histories hold what the rows must get right: erased people and withdrawals.
        #expect(model.people.values.contains { $0.traits == nil })
        #expect(model.people.values.contains { $0.withdrawnOn != nil })
    }

    @Test("the groups of every key equal the views' groups, exact and perturbed", arguments: 0..<6)
    func groupsEqualViews(seed: Int) throws {
        let model = try Self.model(seed: UInt64(seed) &+ 5700)
        let perturbed = DisclosurePolicy.cellKey(RecordKeys(secret: Array("groups \(seed)".utf8)), erased: 0)
        var scopes = model.programmeOrder.map { Set([$0]) }
        scopes.append(Set(model.programmeOrder))
        var others = 0
        for scope in scopes {
            let views = model.people.values.filter { scope.contains($0.programme) }
            // Segments that hold people: a role, a generation, the first person's unit.
            var segments: [SegmentFilter?] = [nil, SegmentFilter("role=mentor"), SegmentFilter("generation=gen-z")]
            if let unit = views.first?.traits?.unit { segments.append(SegmentFilter("unit=\(unit)")) }
            for policy in [DisclosurePolicy(viewer: .coordinator), perturbed] {
                for key in SegmentKey.allCases {
                    for segment in segments {
                        // k = 3 leaves most groups; 40 sends many to "other".
                        for k in [3, 40] {
                            let counted = StatsQuery.count(
                                model, programmes: scope, label: "x", segment: segment, policy: policy, k: k)
                            let everyone =
                                segment == nil || !policy.protects
                                ? counted.keys
                                : policy.keys(ofPeopleRows: model.peopleRows.rows(in: scope), in: model.peopleRows)
                            let groups = StatsQuery.groups(
                                model, scope: scope, by: key,
                                segment: segment == nil ? nil : (counted.segmentRows, counted.keys), keys: everyone,
                                policy: policy, k: k)
                            let expected = Self.reference(
                                model, scope: scope, by: key, segment: segment, policy: policy, k: k)
                            #expect(groups == expected, "seed \(seed), \(key), \(segment?.description ?? "-"), k \(k)")
                            if groups["other"] != nil { others += 1 }
                        }
                    }
                }
            }
        }
        #expect(others > 0, "some groups are shown as other")
    }
}
