import EventLog
import Mentoring
import Projections

/// A realistic programme, simulated day by day and recorded through the same path as the
/// real commands (decide, vault, append), so every rule is enforced. The same seed gives the
/// same log.
struct ProgrammeSimulation {
    struct Settings {
        var participants = 40
        var seed: UInt64 = 2027
        var until: BusinessDate?
        /// The day the demo runs: the programme ends two weeks before it.
        var today = BusinessDate("2027-12-29")!
    }

    struct Summary {
        var events = 0
        var refusedLateEntries = 0
        var matchRuns = 0
    }

    let settings: Settings
    /// An eleven-month programme that ended two weeks before today, so that every report
    /// about it, as of today, is about the past.
    let ends: BusinessDate
    let starts: BusinessDate
    let programme: ProgrammeID
    let name: String
    let cadence = 30
    var rng: SeededGenerator
    var summary = Summary()

    /// What the simulation plans: actions by the day they are recorded.
    var queue: [Int: [(order: Int, command: ProgrammeCommand, context: RecordingContext)]] = [:]
    var profiles: [ParticipantID: Profile] = [:]
    var roles: [ParticipantID: Role] = [:]
    var goalCounter: [TandemID: Int] = [:]
    /// The tandems due a session, and those due a partner swap, by day number: each day
    /// looks only at its own, never at the whole programme.
    var sessionsDue: [Int: [TandemID]] = [:]
    var swapsDue: [Int: [TandemID]] = [:]
    var firstMatched: [ParticipantID: BusinessDate] = [:]
    /// Everyone who signed up, in id order, for the daily withdrawal draw.
    var everyone: [ParticipantID] = []
    /// Who is free for a swap today, by role, in id order; computed once a day.
    var freeToday: (day: Int, mentors: [ParticipantID], mentees: [ParticipantID])?
    var runCounter = 0
    var swapCounter = 0

    init(settings: Settings) {
        self.settings = settings
        rng = SeededGenerator(seed: settings.seed)
        ends = settings.today.adding(days: -14)
        starts = ends.adding(days: -334)
        programme = ProgrammeID("demo-\(starts.year)")!
        name = "Reverse Mentoring Pilot \(starts.year)"
    }

    var until: BusinessDate { min(settings.until ?? ends, ends) }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func sample<T>(_ items: [T], _ count: Int) -> [T] { Array(items.shuffled(using: &rng).prefix(count)) }

    static let coordinator = RecordingContext(actor: "coordinator-anna")

    /// Plans an action for the day it is recorded (`delay` days after it happened).
    mutating func plan(
        _ command: ProgrammeCommand, on day: BusinessDate, order: Int, delay: Int = 0, onBehalfOf: String? = nil
    ) {
        var context = Self.coordinator
        context.onBehalfOf = onBehalfOf
        queue[day.dayNumber + delay, default: []].append((order, command, context))
    }

    // MARK: People

    mutating func makeProfile(role: Role) -> Profile {
        let gender = chance(0.04) ? "d" : (chance(0.5) ? "f" : "m")
        let first =
            gender == "d"
            ? pick(DemoVocabulary.diverseNames)
            : (gender == "f" ? pick(DemoVocabulary.femaleNames) : pick(DemoVocabulary.maleNames))
        let last = pick(DemoVocabulary.surnames)
        let unit = pick(DemoVocabulary.units)
        let email = "\(DemoVocabulary.ascii(first)).\(DemoVocabulary.ascii(last))@example.com"
        switch role {
        case .mentor:
            return Profile(
                name: "\(first) \(last)", email: email, unit: unit, level: int(1...3), born: int(1994...2004),
                gender: gender,
                offers: sample(DemoVocabulary.digitalSkills, int(3...5)),
                wants: sample(DemoVocabulary.businessSkills, int(1...2)),
                interests: sample(DemoVocabulary.interests, int(2...4)))
        case .mentee:
            return Profile(
                name: "\(first) \(last)", email: email,
                unit: unit == "Board" && chance(0.5) ? pick(DemoVocabulary.units) : unit,
                level: int(6...12), born: int(1958...1982), gender: gender,
                offers: sample(DemoVocabulary.businessSkills, int(1...3)),
                wants: sample(DemoVocabulary.digitalSkills, int(2...4)),
                interests: sample(DemoVocabulary.interests, int(2...4)))
        }
    }

    // MARK: Running

    mutating func run(recorder: ProgrammeService.Recorder, random: some RandomSource) throws {
        let signupStart = starts.adding(days: -31)
        var signupDay: [ParticipantID] = []
        // Launch, then signups spread over the month before the kick-off.
        plan(
            .launch(
                LaunchProgramme(
                    id: programme, name: name, starts: starts, ends: ends, cadenceDays: cadence, minGroupSize: 5)),
            on: starts.adding(days: -45), order: 0)
        let mentors = (settings.participants * 52 + 99) / 100
        for n in 0..<settings.participants {
            let role: Role = n < mentors ? .mentor : .mentee
            let profile = makeProfile(role: role)
            let id = ParticipantID(String(format6(n)))!
            profiles[id] = profile
            roles[id] = role
            signupDay.append(id)
            let day = signupStart.adding(days: int(0...30))
            plan(
                .signUp(
                    SignUp(
                        programme: programme, role: role, profile: SealedRecord(.profile(profile), random: random),
                        id: id, on: day)),
                on: day, order: 1)
        }
        everyone = signupDay.sorted()
        var day = starts.adding(days: -45)
        while day <= until {
            try step(day, recorder: recorder, random: random)
            try flush(day, recorder: recorder)
            day = day.adding(days: 1)
        }
        // Late entries planned after the last day are recorded on it.
        let leftover = queue.keys.filter { $0 > until.dayNumber }.sorted()
        for key in leftover { queue[until.dayNumber, default: []] += queue.removeValue(forKey: key) ?? [] }
        try flush(until, recorder: recorder)
    }

    /// `p-` and six base-36 digits: opaque, and the same for the same n.
    func format6(_ n: Int) -> String {
        let alphabet = Array("0123456789abcdefghijkmnpqrstuvwxyz")
        var x = UInt64(truncatingIfNeeded: n) &* 2_654_435_761 &+ settings.seed &* 40_503
        var text = ""
        for _ in 0..<6 {
            text.append(alphabet[Int(x % 34)])
            x /= 34
        }
        return "p-" + text + (n >= 34 * 34 * 34 * 34 * 34 * 34 ? String(n) : "")
    }

    /// Plans what happens on `day`, from the state recorded so far.
    ///
    /// - Complexity: O(p) cheap random draws for p people, plus work proportional to the
    ///   tandems due something today; no sort or scan of the whole state.
    mutating func step(_ day: BusinessDate, recorder: ProgrammeService.Recorder, random: some RandomSource) throws {
        let state = recorder.state
        guard state.programmes[programme] != nil || day < starts else { return }
        if day == starts || (day > starts && day < ends.adding(days: -60) && starts.days(to: day) % 14 == 0) {
            try matchPool(day, state: state, recorder: recorder)
        }
        guard day >= starts else { return }
        if day == ends {
            for tandem in state.tandems.values.filter({ $0.status == .active }).sorted(by: { $0.id < $1.id }) {
                plan(.complete(CompleteTandem(tandem: tandem.id, on: day)), on: day, order: 9)
            }
            return
        }
        let swaps = Set(swapsDue.removeValue(forKey: day.dayNumber) ?? [])
        let sessions = sessionsDue.removeValue(forKey: day.dayNumber) ?? []
        for id in Set(sessions).union(swaps).sorted() {
            // A tandem that ended since it was scheduled is simply skipped.
            guard let tandem = state.tandems[id], tandem.status == .active else { continue }
            if swaps.contains(id) {
                planSwap(tandem, day: day, state: state, random: random)
            } else {
                planSession(tandem, day: day, random: random)
            }
        }
        // Withdrawals: a higher hazard in the first two months, as programmes see. One draw
        // per person and day; the person is looked at only when the draw could be a dropout.
        let highest = 0.0011
        for id in everyone {
            let roll = Double.random(in: 0..<1, using: &rng)
            guard roll < highest, let participant = state.participants[id], participant.withdrawnOn == nil else {
                continue
            }
            let hazard: Double
            if let first = firstMatched[id] {
                hazard = first.days(to: day) < 60 ? 0.0011 : 0.0004
            } else {
                hazard = 0.0006
            }
            guard roll < hazard else { continue }
            let reasons: [(ReasonCode, Double)] = [
                (.time, 0.38), (.roleChange, 0.15), (.leftOrganisation, 0.16), (.mismatch, 0.1),
                (.health, 0.08), (.goalsMet, 0.05), (.other, 0.08),
            ]
            var pick = Double.random(in: 0..<1, using: &rng), reason = ReasonCode.other
            for (code, p) in reasons {
                if pick < p {
                    reason = code
                    break
                }
                pick -= p
            }
            let notes =
                chance(0.3) ? SealedRecord(.reason(self.pick(DemoVocabulary.withdrawalNotes)), random: random) : nil
            plan(.withdraw(Withdraw(participant: id, on: day, reason: reason, notes: notes)), on: day, order: 8)
        }
    }

    /// Schedules a tandem's next session, `days` from `day`.
    mutating func scheduleSession(_ tandem: TandemID, after day: BusinessDate, days: Int) {
        sessionsDue[day.adding(days: days).dayNumber, default: []].append(tandem)
    }

    mutating func planSession(_ tandem: TandemRecord, day: BusinessDate, random: some RandomSource) {
        let wants = profiles[tandem.mentee]?.wants ?? []
        let topics = wants.isEmpty ? [] : sample(wants, int(1...min(2, wants.count)))
        let notes =
            chance(0.4) && !topics.isEmpty
            ? SealedRecord(.notes(pick(DemoVocabulary.notes).replacingPlaceholder(with: topics[0])), random: random)
            : nil
        let late = chance(0.08) ? int(2...14) : 0
        plan(
            .recordSession(
                RecordSession(
                    tandem: tandem.id, on: day, minutes: pick([45, 60, 60, 60, 75, 90]),
                    mode: chance(0.35) ? .online : .inPerson,
                    topics: topics, notes: notes)), on: day, order: 3, delay: late,
            onBehalfOf: chance(0.2) ? tandem.mentor.rawValue : nil)
        scheduleSession(tandem.id, after: day, days: cadence + int(-7...7))
        // Now and then a member checks in after the session: mostly content, sometimes not.
        if chance(0.25) {
            let member = chance(0.5) ? tandem.mentor : tandem.mentee
            let rating = chance(0.12) ? int(1...2) : int(3...5)
            let notes =
                chance(0.3)
                ? SealedRecord(.notes(pick(DemoVocabulary.checkInNotes[rating <= 2 ? 0 : 1])), random: random) : nil
            plan(
                .checkIn(RecordCheckIn(tandem: tandem.id, participant: member, rating: rating, notes: notes, on: day)),
                on: day, order: 6)
        }
        // Goals are set at the first session, and some are reached later.
        if goalCounter[tandem.id] == nil {
            goalCounter[tandem.id] = 0
            for skill in sample(wants, min(wants.count, int(1...3))) {
                goalCounter[tandem.id]! += 1
                let goal = GoalID("g\(goalCounter[tandem.id]!)")!
                let due = min(ends, day.adding(days: int(45...120)))
                let text = pick(DemoVocabulary.goals[skill] ?? ["Learn something about \(skill)"])
                plan(
                    .setGoal(
                        SetGoal(
                            tandem: tandem.id, goal: goal, text: SealedRecord(.goalText(text), random: random),
                            due: due, category: skill, on: day)),
                    on: day, order: 4)
                if chance(0.65) {
                    let reached = min(
                        ends.adding(days: -1), day.adding(days: int(14...max(15, day.days(to: due) + 20))))
                    plan(
                        .reachGoal(ReachGoal(tandem: tandem.id, goal: goal, on: reached)), on: reached, order: 5,
                        delay: chance(0.05) ? int(1...7) : 0)
                }
            }
        }
    }

    /// Plans a partner swap: the coordinator looks through up to 120 free people of the
    /// leaving partner's role, from a random place in the list, and takes the best fit.
    mutating func planSwap(_ tandem: TandemRecord, day: BusinessDate, state: ProgrammeState, random: some RandomSource)
    {
        let leaving = chance(0.5) ? tandem.mentor : tandem.mentee
        let staying = tandem.partner(of: leaving)
        guard let role = roles[leaving], let stayingProfile = profiles[staying] else { return }
        if freeToday?.day != day.dayNumber {
            var mentors: [ParticipantID] = [], mentees: [ParticipantID] = []
            for (id, p) in state.participants where p.activeTandem == nil && p.withdrawnOn == nil && !p.erased {
                if p.role == .mentor { mentors.append(id) } else { mentees.append(id) }
            }
            freeToday = (day.dayNumber, mentors.sorted(), mentees.sorted())
        }
        let pool = role == .mentor ? freeToday!.mentors : freeToday!.mentees
        guard !pool.isEmpty else { return }
        let stayingCandidate = Matching.Candidate(
            id: staying, profile: stayingProfile, formerPartners: formerPartners(staying, state))
        var best: (index: Int, id: ParticipantID, score: Double)?
        let start = int(0...pool.count - 1)
        for k in 0..<min(pool.count, 120) {
            let index = (start + k) % pool.count, id = pool[index]
            guard id != leaving, let profile = profiles[id] else { continue }
            let other = Matching.Candidate(id: id, profile: profile, formerPartners: formerPartners(id, state))
            let (mentor, mentee) = role == .mentor ? (other, stayingCandidate) : (stayingCandidate, other)
            guard Matching.eligible(mentor, mentee, allowSameUnit: false) else { continue }
            let score = Matching.score(mentor, mentee).0
            if best == nil || score > best!.score { best = (index, id, score) }
        }
        guard let joining = best else { return }
        // Taken today: nobody else swaps in the same person.
        if role == .mentor {
            freeToday!.mentors.remove(at: joining.index)
        } else {
            freeToday!.mentees.remove(at: joining.index)
        }
        swapCounter += 1
        let newTandem = TandemID("t-s\(swapCounter)")!
        let notes =
            chance(0.5) ? SealedRecord(.notes("The pair did not fit; a new partner was found."), random: random) : nil
        plan(
            .swap(
                SwapPartner(
                    tandem: tandem.id, leaving: leaving, joining: joining.id, on: day,
                    reason: chance(0.75) ? .mismatch : .other,
                    newTandem: newTandem, notes: notes)),
            on: day, order: 7)
        // The new pair meets soon, and its goals are set afresh at its first session.
        scheduleSession(newTandem, after: day, days: int(5...15))
        if firstMatched[joining.id] == nil { firstMatched[joining.id] = day }
    }

    func formerPartners(_ id: ParticipantID, _ state: ProgrammeState) -> Set<ParticipantID> {
        Set((state.participants[id]?.tandems ?? []).compactMap { state.tandems[$0]?.partner(of: id) })
    }

    /// The kick-off, and a rematch every two weeks: the optimal proposal for the free pool,
    /// recorded as a match run, then each pair matched with the run's id. A large pool is
    /// matched in cohorts, as a large organisation would.
    mutating func matchPool(_ day: BusinessDate, state: ProgrammeState, recorder: ProgrammeService.Recorder) throws {
        let free = state.participants.values.filter {
            $0.programme == programme && $0.activeTandem == nil && $0.withdrawnOn == nil && !$0.erased
        }
        .filter { person in
            // Someone whose tandem completed is done, not waiting.
            guard let last = person.tandems.last else { return true }
            return state.tandems[last]?.status != .completed
        }
        .sorted { $0.id < $1.id }
        let candidates = free.compactMap { p in
            profiles[p.id].map {
                Matching.Candidate(id: p.id, profile: $0, formerPartners: formerPartners(p.id, state))
            }
        }
        let cohortSize = 160
        var offset = 0
        while offset < candidates.count {
            let cohort = Array(candidates[offset..<min(candidates.count, offset + cohortSize)])
            offset += cohortSize
            let mentors = cohort.filter { roles[$0.id] == .mentor }, mentees = cohort.filter { roles[$0.id] == .mentee }
            guard !mentors.isEmpty, !mentees.isEmpty else { continue }
            let proposal = Matching.propose(mentors: mentors, mentees: mentees, listCandidates: false)
            guard !proposal.pairs.isEmpty else { continue }
            runCounter += 1
            let run = MatchRunID("run-\(day.description)-\(runCounter)")!
            plan(
                .recordMatchRun(
                    RecordMatchRun(
                        event: MatchRunRecorded(
                            run: run, programme: programme, on: day, weights: Matching.Weights().json,
                            mentors: mentors.map(\.id), mentees: mentees.map(\.id),
                            pairs: proposal.pairs.map { .init(mentor: $0.mentor, mentee: $0.mentee) }))),
                on: day, order: 2)
            summary.matchRuns += 1
            for (n, pair) in proposal.pairs.enumerated() {
                let tandem = TandemID("t-\(runCounter)-\(n)")!
                plan(
                    .match(
                        Match(
                            programme: programme, mentor: pair.mentor, mentee: pair.mentee, id: tandem, run: run,
                            on: day)), on: day, order: 2)
                scheduleSession(tandem, after: day, days: int(5...20))
                for member in [pair.mentor, pair.mentee] where firstMatched[member] == nil {
                    firstMatched[member] = day
                }
                if chance(0.07) { swapsDue[day.adding(days: int(20...45)).dayNumber, default: []].append(tandem) }
            }
        }
    }

    /// Records the actions planned for `day`, in order, as one batch. A late entry that the
    /// rules now refuse (its tandem ended in the meantime) is dropped, as a coordinator would:
    /// what came before it is recorded as a batch of its own, and the rest goes on.
    mutating func flush(_ day: BusinessDate, recorder: ProgrammeService.Recorder) throws {
        guard var actions = queue.removeValue(forKey: day.dayNumber), !actions.isEmpty else { return }
        actions.sort { $0.order < $1.order }
        var batch = actions.map { ($0.command, $0.context) }[...]
        let at = Timestamp(secondsSinceEpoch: Int64(day.dayNumber) * 86400 + 17 * 3600)
        while !batch.isEmpty {
            do {
                summary.events += try recorder.record(Array(batch), at: at).count
                return
            } catch let failure as BatchFailure where failure.error is DomainError {
                let refused = batch.startIndex + failure.index
                if refused > batch.startIndex {
                    summary.events += try recorder.record(Array(batch[..<refused]), at: at).count
                }
                batch = batch[(refused + 1)...]
                summary.refusedLateEntries += 1
            }
        }
    }
}

extension String {
    /// The text with its first `%@` replaced by `value`.
    func replacingPlaceholder(with value: String) -> String {
        let parts = split(separator: "%@", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? parts[0] + value + parts[1] : self
    }

}
