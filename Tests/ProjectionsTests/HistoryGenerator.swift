import EventLog
import Mentoring
import Projections

/// Builds random valid programme histories from a seed: random commands, decided against
/// the real rules (refusals are simply skipped), appended to an in-memory log. Voids of
/// sessions and reached goals are sprinkled in; they never break later events.
struct HistoryGenerator {
    var generator: SeededGenerator
    let log = InMemoryLog()
    var state = ProgrammeState()
    var profiles = TraitsDirectory()
    var day = BusinessDate("2027-01-05")!
    let programme = ProgrammeID("pilot")!
    let random: SeededRandomSource
    var voidable: [Int] = []
    var counter = 0
    /// Every command tried, accepted or refused, in order.
    var attempted: [ProgrammeCommand] = []
    /// Whether voids are generated (a caller that needs a history without them turns them off).
    var voids = true
    /// The vault lines the accepted commands wrote, in order.
    var vaultLines: [[UInt8]] = []
    /// Whether commands are sometimes dated up to three weeks back (recorded late), so that
    /// the timeline rules are exercised; and whether erasures are generated.
    var backdating = false
    /// Whether some sessions have notes and topics (off: the histories other tests were
    /// written against stay as they were).
    var sessionNotes = false
    var erasures = true
    /// Whether match runs are recorded, and some matches made "as proposed by" one: a known
    /// run, a run recorded twice, a run nobody recorded (off: the histories other tests were
    /// written against stay as they were).
    var matchRuns = false
    /// The runs recorded so far, in order.
    var runs: [MatchRunID] = []
    /// How many commands the rules refused.
    var refused = 0

    /// The business date of the next command: today, or with `backdating` sometimes earlier.
    mutating func date() -> BusinessDate {
        guard backdating, Int.random(in: 0..<3, using: &generator) == 0 else { return day }
        return day.adding(days: -Int.random(in: 1...21, using: &generator))
    }

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
        random = SeededRandomSource(seed: seed &+ 99)
        try! log.initialize(actor: "gen", logID: "gen-\(seed)", at: Timestamp(secondsSinceEpoch: 1_800_000_000))
        state.apply(
            RecordedEvent(
                seq: 1, at: Timestamp(secondsSinceEpoch: 1_800_000_000), actor: "gen",
                event: .logCreated(logID: "gen-\(seed)")))
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int.random(in: 0..<items.count, using: &generator)]
    }

    /// Decides and appends; returns false if the rules refused.
    @discardableResult
    mutating func record(_ command: ProgrammeCommand, today: BusinessDate? = nil) -> Bool {
        attempted.append(command)
        guard let decision = try? decide(command, state, today: today ?? day) else {
            refused += 1
            return false
        }
        let seq = state.head + 1
        let event = decision.events[0]
        let at = Timestamp(secondsSinceEpoch: Int64(day.dayNumber) * 86400 + Int64(counter))
        counter += 1
        _ = try! log.append([LogRecord(type: event.type, actor: "gen", at: at, data: event.json)])
        vaultLines += decision.vault.map(\.line)
        var profile: Profile? = nil
        if case .participantSignedUp(let e) = event, case .profile(let p) = decision.vault[0].payload {
            profile = p
            profiles.insert(Traits(p), ref: e.personal.ref)
        }
        state.apply(RecordedEvent(seq: seq, at: at, actor: "gen", event: event), profile: profile)
        switch event {
        case .sessionHeld, .goalReached: voidable.append(seq)
        default: break
        }
        return true
    }

    /// A match run over some free people (now and then under an id already taken), or a
    /// match of a pair a run proposed (now and then naming a run nobody recorded).
    mutating func recordRunOrMatchByRun(free everyone: [ParticipantRecord]) {
        let free = everyone.filter { !$0.erased }
        // Mostly pairs whose mentee is still free too: the others are refused for that.
        let freeMentees = Set(free.filter { $0.role == .mentee }.map(\.id))
        let anyMentee = Int.random(in: 0..<4, using: &generator) == 0
        let proposed = free.filter { $0.role == .mentor }.flatMap { mentor in
            mentor.proposals.map { (mentor: mentor.id, run: $0.key, mentee: $0.value) }
        }.filter { anyMentee || freeMentees.contains($0.mentee) }.sorted { ($0.mentor, $0.run) < ($1.mentor, $1.run) }
        if Bool.random(using: &generator), let pair = pick(proposed) {
            let unknown = Int.random(in: 0..<6, using: &generator) == 0
            record(
                .match(
                    Match(
                        programme: programme, mentor: pair.mentor, mentee: pair.mentee,
                        id: TandemID("t\(state.tandems.count)")!,
                        override: Bool.random(using: &generator) ? SealedRecord(.reason("pilot"), random: random) : nil,
                        run: unknown ? MatchRunID("r-nobody")! : pair.run, on: date())))
            return
        }
        let mentors = free.filter { $0.role == .mentor }.shuffled(using: &generator).prefix(3).map(\.id)
        let mentees = free.filter { $0.role == .mentee }.shuffled(using: &generator).prefix(3).map(\.id)
        let again = Int.random(in: 0..<5, using: &generator) == 0 ? pick(runs) : nil
        let run = again ?? MatchRunID("r\(runs.count)-\(counter)")!
        let event = MatchRunRecorded(
            run: run, programme: programme, on: day, weights: ["unit": 1], mentors: mentors, mentees: mentees,
            pairs: zip(mentors, mentees).map { MatchRunRecorded.ProposedPair(mentor: $0, mentee: $1) })
        if record(.recordMatchRun(RecordMatchRun(event: event))) { runs.append(run) }
    }

    /// Generates about `steps` events.
    mutating func run(steps: Int) {
        record(
            .launch(
                LaunchProgramme(
                    id: programme, name: "Pilot", starts: BusinessDate("2027-01-01")!,
                    ends: BusinessDate("2027-12-31")!, minGroupSize: 3)))
        let units = ["IT", "Sales", "Legal", "Finance", "HR", "Ops"]
        for _ in 0..<steps {
            if Int.random(in: 0..<4, using: &generator) == 0 {
                day = day.adding(days: Int.random(in: 1...6, using: &generator))
            }
            let active = state.tandems.values.filter { $0.status == .active }.sorted { $0.id < $1.id }
            let free = state.participants.values.filter { $0.activeTandem == nil && $0.withdrawnOn == nil }.sorted {
                $0.id < $1.id
            }
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<18:
                let role: Role = Bool.random(using: &generator) ? .mentor : .mentee
                let profile = Profile(
                    name: "P\(state.participants.count)", unit: pick(units)!, level: role == .mentor ? 2 : 8,
                    born: role == .mentor ? 1998 : 1962, gender: pick(["f", "m", "d"]))
                record(
                    .signUp(
                        SignUp(
                            programme: programme, role: role, profile: SealedRecord(.profile(profile), random: random),
                            id: ParticipantID("p\(state.participants.count)")!, on: date())))
            case 18..<32 where matchRuns && Int.random(in: 0..<2, using: &generator) == 0:
                recordRunOrMatchByRun(free: free)
            case 18..<32:
                if let mentor = pick(free.filter { $0.role == .mentor }),
                    let mentee = pick(free.filter { $0.role == .mentee })
                {
                    record(
                        .match(
                            Match(
                                programme: programme, mentor: mentor.id, mentee: mentee.id,
                                id: TandemID("t\(state.tandems.count)")!,
                                override: Bool.random(using: &generator)
                                    ? SealedRecord(.reason("pilot"), random: random) : nil, on: date())))
                }
            case 32..<60:
                if let tandem = pick(active) {
                    var session = RecordSession(
                        tandem: tandem.id, on: date(), minutes: Int.random(in: 20...90, using: &generator),
                        mode: Bool.random(using: &generator) ? .online : nil)
                    if sessionNotes, Bool.random(using: &generator) {
                        session.notes = SealedRecord(.notes("notes \(counter)"), random: random)
                        session.topics = [["ai", "tiktok", "excel"].randomElement(using: &generator)!]
                    }
                    record(.recordSession(session))
                }
            case 60..<63:
                // A member's check-in: how well the tandem fits (2 or less marks it at risk).
                if let tandem = pick(active) {
                    record(
                        .checkIn(
                            RecordCheckIn(
                                tandem: tandem.id,
                                participant: Bool.random(using: &generator) ? tandem.mentor : tandem.mentee,
                                rating: Int.random(in: 1...5, using: &generator), on: date())))
                }
            case 63..<68:
                if let tandem = pick(active) {
                    record(
                        .setGoal(
                            SetGoal(
                                tandem: tandem.id, goal: GoalID("g\(tandem.goals.count)")!,
                                text: SealedRecord(.goalText("x"), random: random),
                                due: Bool.random(using: &generator) ? day.adding(days: 30) : nil, on: date())))
                }
            case 68..<74:
                if let tandem = pick(active),
                    let goal = tandem.goals.filter({ $0.value.reachedOn == nil }).keys.sorted().first
                {
                    record(.reachGoal(ReachGoal(tandem: tandem.id, goal: goal, on: date())))
                }
            case 74..<79:
                if let tandem = pick(active) {
                    let leaving = Bool.random(using: &generator) ? tandem.mentor : tandem.mentee
                    let role = state.participants[leaving]!.role
                    if let joining = pick(free.filter { $0.role == role }) {
                        record(
                            .swap(
                                SwapPartner(
                                    tandem: tandem.id, leaving: leaving, joining: joining.id, on: date(),
                                    reason: pick(ReasonCode.allCases)!,
                                    newTandem: TandemID("t\(state.tandems.count)")!,
                                    override: SealedRecord(.reason("ok"), random: random))))
                    }
                }
            case 79..<84:
                if let person = pick(
                    state.participants.values.filter { $0.withdrawnOn == nil }.sorted { $0.id < $1.id })
                {
                    record(.withdraw(Withdraw(participant: person.id, on: date(), reason: pick(ReasonCode.allCases)!)))
                }
            case 84..<88:
                if let tandem = pick(active) { record(.complete(CompleteTandem(tandem: tandem.id, on: date()))) }
            case 88..<93:
                if voids, let seq = pick(voidable.filter { state.voided[$0] == nil }) {
                    // Voiding a session or a reached goal never breaks a later event.
                    record(.void(VoidEvent(seq: seq, reason: SealedRecord(.reason("correction"), random: random))))
                }
            default:
                if erasures,
                    let person = pick(state.participants.values.filter { !$0.erased }.sorted { $0.id < $1.id }),
                    Int.random(in: 0..<3, using: &generator) == 0
                {
                    record(.forget(Forget(participant: person.id)))
                }
            }
        }
    }
}
