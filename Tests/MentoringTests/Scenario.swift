import EventLog
import Mentoring
import Testing

/// Given/when/then for the decider: a history of events, a command, and the events it must
/// become or the rule it must break.
struct Scenario {
    var state = ProgrammeState()
    var seq = 1
    var today = BusinessDate("2027-03-15")!

    /// A history of events (signups with the profile the vault would hold).
    static func given(_ events: [(ProgrammeEvent, Profile?)]) -> Scenario {
        var scenario = Scenario()
        for (event, profile) in events { scenario.record(event, profile: profile) }
        return scenario
    }

    /// Folds an event in, as the log would.
    mutating func record(_ event: ProgrammeEvent, profile: Profile? = nil) {
        seq += 1
        state = evolve(
            state, RecordedEvent(seq: seq, at: Timestamp(secondsSinceEpoch: 0), actor: "anna", event: event),
            profile: profile)
    }

    /// Decides a command against the history.
    func when(_ command: ProgrammeCommand) -> Result<Decision, DomainError> {
        Result { () throws(DomainError) in try decide(command, state, today: today) }
    }
}

extension Result<Decision, DomainError> {
    /// Then: exactly these events.
    func then(_ expected: [ProgrammeEvent], sourceLocation: SourceLocation = #_sourceLocation) {
        switch self {
        case .success(let decision): #expect(decision.events == expected, sourceLocation: sourceLocation)
        case .failure(let error): Issue.record("refused: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Then: accepted (whatever the events).
    func thenAccepted(sourceLocation: SourceLocation = #_sourceLocation) {
        if case .failure(let error) = self { Issue.record("refused: \(error)", sourceLocation: sourceLocation) }
    }

    /// Then: refused with exactly this error.
    func thenRefused(_ expected: DomainError, sourceLocation: SourceLocation = #_sourceLocation) {
        switch self {
        case .success(let decision): Issue.record("accepted: \(decision.events)", sourceLocation: sourceLocation)
        case .failure(let error): #expect(error == expected, sourceLocation: sourceLocation)
        }
    }
}

/// Building blocks for histories.
enum Fixture {
    static let random = SeededRandomSource(seed: 11)
    static let programme = ProgrammeID("pilot")!
    static let other = ProgrammeID("other")!
    static func d(_ text: String) -> BusinessDate { BusinessDate(text)! }
    static func p(_ text: String) -> ParticipantID { ParticipantID(text)! }
    static func t(_ text: String) -> TandemID { TandemID(text)! }
    static func g(_ text: String) -> GoalID { GoalID(text)! }

    static func launch(
        _ id: ProgrammeID = programme, starts: String = "2027-01-01", ends: String = "2027-12-31"
    ) -> (ProgrammeEvent, Profile?) {
        (
            .programmeLaunched(
                ProgrammeLaunched(
                    programme: id, name: "Pilot", starts: d(starts), ends: d(ends), cadenceDays: 30, minGroupSize: 5)),
            nil
        )
    }

    static func profile(unit: String, level: Int = 2, born: Int = 1998) -> Profile {
        Profile(name: "Someone", unit: unit, level: level, born: born)
    }

    static func sealed(_ payload: PersonalPayload) -> SealedRecord { SealedRecord(payload, random: random) }

    static func signUp(
        _ id: String, _ role: Role, unit: String, programme: ProgrammeID = programme, on: String = "2027-01-05"
    ) -> (ProgrammeEvent, Profile?) {
        let profile = profile(unit: unit)
        return (
            .participantSignedUp(
                ParticipantSignedUp(
                    participant: p(id), programme: programme, role: role, on: d(on),
                    personal: sealed(.profile(profile)).reference)), profile
        )
    }

    static func match(
        _ tandem: String, _ mentor: String, _ mentee: String, on: String = "2027-01-10"
    ) -> (ProgrammeEvent, Profile?) {
        (
            .tandemMatched(
                TandemMatched(tandem: t(tandem), programme: programme, mentor: p(mentor), mentee: p(mentee), on: d(on))),
            nil
        )
    }

    /// A programme with mentors m1, m2 (units IT, Sales) and mentees e1, e2 (Legal, Finance),
    /// and tandem t1 = m1 × e1 since 2027-01-10.
    static let standard: [(ProgrammeEvent, Profile?)] = [
        launch(), signUp("m1", .mentor, unit: "IT"), signUp("m2", .mentor, unit: "Sales"),
        signUp("e1", .mentee, unit: "Legal"), signUp("e2", .mentee, unit: "Finance"), match("t1", "m1", "e1"),
    ]
}
