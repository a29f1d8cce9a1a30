import EventLog
import Mentoring
import Testing

@Suite("Decider: every rule, accepted and refused")
struct DeciderTests {
    typealias F = Fixture

    // MARK: Ids are unique within their kind

    @Test func programmeIDsAreUnique() {
        let launch = LaunchProgramme(id: F.programme, name: "Again", starts: F.d("2027-02-01"), ends: F.d("2027-08-01"))
        Scenario.given([]).when(.launch(launch)).then([
            .programmeLaunched(
                ProgrammeLaunched(
                    programme: F.programme, name: "Again", starts: F.d("2027-02-01"), ends: F.d("2027-08-01"),
                    cadenceDays: 30, minGroupSize: 5))
        ])
        Scenario.given([F.launch()]).when(.launch(launch)).thenRefused(.duplicateProgramme(F.programme))
    }

    @Test func participantIDsAreUnique() {
        let again = SignUp(
            programme: F.programme, role: .mentor, profile: F.sealed(.profile(F.profile(unit: "HR"))), id: F.p("m1"))
        Scenario.given(F.standard).when(.signUp(again)).thenRefused(.duplicateParticipant(F.p("m1")))
        var fresh = again
        fresh.id = F.p("m9")
        Scenario.given(F.standard).when(.signUp(fresh)).thenAccepted()
    }

    /// Ids stay in the log after an erasure, so a given id may not carry the person's name.
    @Test func givenIDsNameNobody() {
        let klaus = Profile(name: "Klaus Dittrich-Müller", unit: "Board", level: 9, born: 1961)
        for (id, word) in [
            ("klaus", "klaus"), ("k-dittrich", "dittrich"), ("KLAUS1", "klaus"), ("mueller-x", nil),
            ("muller", "muller"),
        ] {
            let signUp = SignUp(
                programme: F.programme, role: .mentee, profile: F.sealed(.profile(klaus)), id: F.p(id),
                on: F.d("2027-01-05"))
            if let word {
                Scenario.given(F.standard).when(.signUp(signUp)).thenRefused(.idNamesPerson(id: id, word: word))
            } else {
                Scenario.given(F.standard).when(.signUp(signUp)).thenAccepted()
            }
        }
    }

    /// The fold's ASCII shortcut agrees with lower-casing character by character.
    @Test func foldOfASCIIIsLowerCase() {
        let random = SeededRandomSource(seed: 5)
        for _ in 0..<2_000 {
            let length = Int(random.next(below: 20))
            let text = String(
                decoding: (0..<length).map { _ in UInt8(32 + random.next(below: 95)) }, as: UTF8.self)
            #expect(Field.fold(text) == text.lowercased(), "\(text)")
        }
        #expect(Field.fold("Jörg ÜNAL-Straße") == "jorg unal-strasse")
    }

    /// Topics and goal categories stay in the log for good: codes, not text.
    @Test func topicsAndCategoriesAreSlugs() {
        let expected =
            "a code of lower-case letters, digits and hyphens, at most 40 characters, e.g. linkedin or data-visualisation"
        for topic in [
            "Klaus", "data visualisation", "zürich", "-ai", "ai-", "a--b", String(repeating: "a", count: 41), "",
        ] {
            Scenario.given(F.standard).when(
                .recordSession(RecordSession(tandem: F.t("t1"), on: F.d("2027-02-01"), minutes: 30, topics: [topic]))
            )
            .thenRefused(.invalidValue(field: "topics", value: topic, expected: expected))
        }
        Scenario.given(F.standard).when(
            .recordSession(
                RecordSession(
                    tandem: F.t("t1"), on: F.d("2027-02-01"), minutes: 30,
                    topics: ["linkedin", "data-visualisation", "web3"]))
        ).thenAccepted()
        let goal = SetGoal(
            tandem: F.t("t1"), goal: F.g("g1"), text: F.sealed(.goalText("x")), category: "Social Media",
            on: F.d("2027-02-01"))
        Scenario.given(F.standard).when(.setGoal(goal)).thenRefused(
            .invalidValue(field: "category", value: "Social Media", expected: expected))
    }

    @Test func tandemIDsAreUnique() {
        let match = Match(programme: F.programme, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t1"))
        Scenario.given(F.standard).when(.match(match)).thenRefused(.duplicateTandem(F.t("t1")))
    }

    @Test func goalIDsAreUniqueWithinTheirTandem() {
        var scenario = Scenario.given(F.standard)
        let goal = SetGoal(
            tandem: F.t("t1"), goal: F.g("linkedin"), text: F.sealed(.goalText("a profile")), on: F.d("2027-02-01"))
        scenario.when(.setGoal(goal)).thenAccepted()
        scenario.record(
            .goalSet(
                GoalSet(tandem: F.t("t1"), goal: F.g("linkedin"), on: F.d("2027-02-01"), personal: goal.text.reference))
        )
        scenario.when(.setGoal(goal)).thenRefused(.duplicateGoal(F.t("t1"), F.g("linkedin")))
    }

    // MARK: References point to things that exist, in the right programme

    @Test func referencesMustExist() {
        let s = Scenario.given(F.standard)
        s.when(.match(Match(programme: F.other, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t2")))).thenRefused(
            .unknownProgramme(F.other))
        s.when(.match(Match(programme: F.programme, mentor: F.p("m7"), mentee: F.p("e2"), id: F.t("t2")))).thenRefused(
            .unknownParticipant(F.p("m7")))
        s.when(.recordSession(RecordSession(tandem: F.t("t9"), on: F.d("2027-02-01"), minutes: 60))).thenRefused(
            .unknownTandem(F.t("t9")))
        s.when(.reachGoal(ReachGoal(tandem: F.t("t1"), goal: F.g("none"), on: F.d("2027-02-01")))).thenRefused(
            .unknownGoal(F.t("t1"), F.g("none")))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t2"),
                    run: MatchRunID("run-x")!))
        )
        .thenRefused(.unknownMatchRun(MatchRunID("run-x")!))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t2"), on: F.d("2027-02-01")))
        ).thenAccepted()
    }

    @Test func participantsBelongToTheMatchedProgramme() {
        let s = Scenario.given(
            F.standard + [F.launch(F.other), F.signUp("x1", .mentee, unit: "Ops", programme: F.other)])
        s.when(.match(Match(programme: F.programme, mentor: F.p("m2"), mentee: F.p("x1"), id: F.t("t2"))))
            .thenRefused(.wrongProgramme(F.p("x1"), belongsTo: F.other, asked: F.programme))
    }

    // MARK: At most one active tandem

    @Test func aParticipantIsInAtMostOneActiveTandem() {
        let s = Scenario.given(F.standard)
        s.when(.match(Match(programme: F.programme, mentor: F.p("m1"), mentee: F.p("e2"), id: F.t("t2"))))
            .thenRefused(.alreadyInTandem(F.p("m1"), F.t("t1")))
        s.when(.match(Match(programme: F.programme, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t2"))))
            .thenAccepted()
    }

    // MARK: Roles

    @Test func theMentorSignedUpAsMentorAndTheMenteeAsMentee() {
        let s = Scenario.given(F.standard)
        s.when(.match(Match(programme: F.programme, mentor: F.p("e2"), mentee: F.p("m2"), id: F.t("t2"))))
            .thenRefused(.wrongRole(F.p("e2"), signedUpAs: .mentee, neededAs: .mentor))
    }

    // MARK: Cross-mentoring

    @Test func theTwoComeFromDifferentUnitsUnlessOverridden() {
        let s = Scenario.given(F.standard + [F.signUp("e3", .mentee, unit: "it ")])
        let same = Match(programme: F.programme, mentor: F.p("m2"), mentee: F.p("e3"), id: F.t("t2"))
        s.when(.match(same)).thenAccepted()  // Sales × IT
        let s2 = Scenario.given(
            F.standard + [F.signUp("m3", .mentor, unit: "Legal"), F.signUp("e3", .mentee, unit: "legal")])
        let sameUnit = Match(
            programme: F.programme, mentor: F.p("m3"), mentee: F.p("e3"), id: F.t("t3"), on: F.d("2027-02-01"))
        s2.when(.match(sameUnit)).thenRefused(.sameUnit(F.p("m3"), F.p("e3"), unit: "Legal"))
        var waived = sameUnit
        let reason = F.sealed(.reason("only two lawyers volunteered"))
        waived.override = reason
        // The reason goes to the vault; the log says only that the rule was waived.
        s2.when(.match(waived)).then([
            .tandemMatched(
                TandemMatched(
                    tandem: F.t("t3"), programme: F.programme, mentor: F.p("m3"),
                    mentee: F.p("e3"), on: F.d("2027-02-01"), override: waivedMarker,
                    overrideReason: reason.reference))
        ])
    }

    // MARK: Former partners

    @Test func formerPartnersAreNeverMatchedAgain() {
        var s = Scenario.given(F.standard)
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-02-20"))))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m1"), mentee: F.p("e1"), id: F.t("t2"),
                    override: F.sealed(.reason("they asked"))))
        )
        .thenRefused(.formerPartners(F.p("m1"), F.p("e1")))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m1"), mentee: F.p("e2"), id: F.t("t2"), on: F.d("2027-03-01")))
        ).thenAccepted()
    }

    // MARK: Sessions, goals, swaps and completions: active tandems, dates inside

    @Test func sessionsHappenOnActiveTandemsInsideTheProgramme() {
        var s = Scenario.given(F.standard + [F.launch(F.other)])
        let session = RecordSession(
            tandem: F.t("t1"), on: F.d("2027-02-03"), minutes: 60, mode: .online, topics: ["linkedin"])
        s.when(.recordSession(session)).then([
            .sessionHeld(
                SessionHeld(tandem: F.t("t1"), on: F.d("2027-02-03"), minutes: 60, mode: .online, topics: ["linkedin"]))
        ])
        var early = session
        early.on = F.d("2027-01-09")
        s.when(.recordSession(early)).thenRefused(
            .dateBeforeTandem(F.d("2027-01-09"), F.t("t1"), since: F.d("2027-01-10")))
        var future = session
        future.on = F.d("2027-03-16")
        s.when(.recordSession(future)).thenRefused(.dateInFuture(F.d("2027-03-16"), today: F.d("2027-03-15")))
        for minutes in [0, -5, 601] {
            var bad = session
            bad.minutes = minutes
            s.when(.recordSession(bad)).thenRefused(
                .invalidValue(
                    field: "minutes", value: "\(minutes)", expected: "a session lasts from 1 to 600 minutes"))
        }
        s.today = F.d("2028-02-01")
        var after = session
        after.on = F.d("2028-01-10")
        s.when(.recordSession(after)).thenRefused(
            .dateOutsideProgramme(F.d("2028-01-10"), F.programme, starts: F.d("2027-01-01"), ends: F.d("2027-12-31")))
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-03-01"))))
        s.when(.recordSession(session)).thenRefused(.tandemNotActive(F.t("t1"), .completed))
    }

    @Test func goalsAreSetAndReachedInOrder() {
        var s = Scenario.given(F.standard)
        let text = F.sealed(.goalText("create a LinkedIn profile"))
        s.when(
            .setGoal(
                SetGoal(tandem: F.t("t1"), goal: F.g("li"), text: text, due: F.d("2027-01-20"), on: F.d("2027-02-01")))
        )
        .thenRefused(.dueBeforeSet(due: F.d("2027-01-20"), set: F.d("2027-02-01")))
        s.when(
            .setGoal(
                SetGoal(tandem: F.t("t1"), goal: F.g("li"), text: text, due: F.d("2028-01-20"), on: F.d("2027-02-01")))
        )
        .thenRefused(.dueAfterProgramme(due: F.d("2028-01-20"), F.programme, ends: F.d("2027-12-31")))
        s.record(
            .goalSet(
                GoalSet(
                    tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-02-01"), due: F.d("2027-04-01"),
                    personal: text.reference)))
        s.when(.reachGoal(ReachGoal(tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-01-31"))))
            .thenRefused(.dateBeforeGoalSet(F.d("2027-01-31"), F.t("t1"), F.g("li"), set: F.d("2027-02-01")))
        s.when(.reachGoal(ReachGoal(tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-03-01"))))
            .then([.goalReached(GoalReached(tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-03-01")))])
        s.record(.goalReached(GoalReached(tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-03-01"))))
        s.when(.reachGoal(ReachGoal(tandem: F.t("t1"), goal: F.g("li"), on: F.d("2027-03-02"))))
            .thenRefused(.goalAlreadyReached(F.t("t1"), F.g("li"), on: F.d("2027-03-01")))
    }

    @Test func completionsFollowTheLastSession() {
        var s = Scenario.given(F.standard)
        s.record(.sessionHeld(SessionHeld(tandem: F.t("t1"), on: F.d("2027-03-01"), minutes: 60, mode: .inPerson)))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-02-28"))))
            .thenRefused(.dateBeforeLastSession(F.d("2027-02-28"), F.t("t1"), lastSession: F.d("2027-03-01")))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-03-10")))).then([
            .tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-03-10")))
        ])
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-03-10"))))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-03-11")))).thenRefused(
            .tandemNotActive(F.t("t1"), .completed))
    }

    // MARK: Swaps

    @Test func aSwapEndsTheTandemAndFormsANewOne() {
        var s = Scenario.given(F.standard)
        let swap = SwapPartner(
            tandem: F.t("t1"), leaving: F.p("e1"), joining: F.p("e2"), on: F.d("2027-02-10"), reason: .mismatch,
            newTandem: F.t("t2"))
        s.when(.swap(swap)).then([
            .partnerSwapped(
                PartnerSwapped(
                    tandem: F.t("t1"), newTandem: F.t("t2"), leaving: F.p("e1"), joining: F.p("e2"),
                    on: F.d("2027-02-10"), reason: .mismatch))
        ])
        var wrongRole = swap
        wrongRole.joining = F.p("m2")
        s.when(.swap(wrongRole)).thenRefused(.wrongRole(F.p("m2"), signedUpAs: .mentor, neededAs: .mentee))
        var stranger = swap
        stranger.leaving = F.p("m2")
        s.when(.swap(stranger)).thenRefused(.notAMember(F.p("m2"), F.t("t1")))
        s.record(
            .partnerSwapped(
                PartnerSwapped(
                    tandem: F.t("t1"), newTandem: F.t("t2"), leaving: F.p("e1"), joining: F.p("e2"),
                    on: F.d("2027-02-10"), reason: .mismatch)))
        #expect(s.state.tandems[F.t("t1")]?.status == .dissolved)
        #expect(s.state.tandems[F.t("t2")]?.mentor == F.p("m1") && s.state.tandems[F.t("t2")]?.mentee == F.p("e2"))
        #expect(s.state.participants[F.p("e1")]?.activeTandem == nil)
        // The one who left is back in the pool, but never with m1 again.
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m2"), mentee: F.p("e1"), id: F.t("t3"), on: F.d("2027-02-11")))
        ).thenAccepted()
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t2"), on: F.d("2027-03-01"))))
        s.when(.match(Match(programme: F.programme, mentor: F.p("m1"), mentee: F.p("e1"), id: F.t("t3"))))
            .thenRefused(.formerPartners(F.p("m1"), F.p("e1")))
    }

    // MARK: The business-date timeline

    /// Entries recorded late may be backdated, but never so that the timeline contradicts
    /// itself; each refusal names the entry it would contradict.
    @Test func aBackdatedWithdrawalMayNotComeBeforeTheMatch() {
        // t1 (m1 × e1) was matched on 2027-01-10 at seq 7.
        Scenario.given(F.standard).when(
            .withdraw(Withdraw(participant: F.p("e1"), on: F.d("2027-01-08"), reason: .time))
        )
        .thenRefused(
            .timelineConflict(
                fact: "e1 was matched in t1 on 2027-01-10", factDate: F.d("2027-01-10"), seq: 7,
                entry: "withdrawal", date: F.d("2027-01-08")))
    }

    @Test func aBackdatedMatchMayNotOverlapAnEndedTandem() {
        var s = Scenario.given(F.standard)
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-03-01"))))  // seq 8
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m1"), mentee: F.p("e2"), id: F.t("t5"), on: F.d("2027-01-20")))
        )
        .thenRefused(
            .timelineConflict(
                fact: "m1 was in t1 until 2027-03-01", factDate: F.d("2027-03-01"), seq: 8, entry: "match",
                date: F.d("2027-01-20")))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m1"), mentee: F.p("e2"), id: F.t("t5"), on: F.d("2027-03-01")))
        ).thenAccepted()
    }

    @Test func aBackdatedWithdrawalMayNotComeBeforeACompletion() {
        var s = Scenario.given(F.standard)
        s.record(.tandemCompleted(TandemCompleted(tandem: F.t("t1"), on: F.d("2027-03-10"))))  // seq 8
        s.when(.withdraw(Withdraw(participant: F.p("e1"), on: F.d("2027-03-05"), reason: .time)))
            .thenRefused(
                .timelineConflict(
                    fact: "t1 was completed on 2027-03-10", factDate: F.d("2027-03-10"), seq: 8, entry: "withdrawal",
                    date: F.d("2027-03-05")))
        s.when(.withdraw(Withdraw(participant: F.p("e1"), on: F.d("2027-03-12"), reason: .time))).thenAccepted()
    }

    @Test func anEndMayNotComeBeforeTheTandemsLastEntry() {
        var s = Scenario.given(F.standard)
        // seq 8
        s.record(.sessionHeld(SessionHeld(tandem: F.t("t1"), on: F.d("2027-02-10"), minutes: 60, mode: .online)))
        s.record(
            .goalSet(
                GoalSet(
                    tandem: F.t("t1"), goal: F.g("g1"), on: F.d("2027-02-20"),
                    personal: F.sealed(.goalText("x")).reference)))  // seq 9
        let conflict = { (entry: String) in
            DomainError.timelineConflict(
                fact: "t1 has an entry dated 2027-02-20", factDate: F.d("2027-02-20"), seq: 9, entry: entry,
                date: F.d("2027-02-15"))
        }
        s.when(.withdraw(Withdraw(participant: F.p("m1"), on: F.d("2027-02-15"), reason: .time))).thenRefused(
            conflict("withdrawal"))
        s.when(
            .swap(
                SwapPartner(
                    tandem: F.t("t1"), leaving: F.p("e1"), joining: F.p("e2"), on: F.d("2027-02-15"), reason: .mismatch,
                    newTandem: F.t("t9")))
        ).thenRefused(conflict("swap"))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-02-15")))).thenRefused(conflict("completion"))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-02-20")))).thenAccepted()
    }

    @Test func anEndMayNotComeBeforeTheTandemsLastCheckIn() {
        var s = Scenario.given(F.standard)
        s.record(
            .checkInRecorded(
                CheckInRecorded(tandem: F.t("t1"), participant: F.p("e1"), rating: 2, on: F.d("2027-02-20"))))  // seq 8
        s.when(.withdraw(Withdraw(participant: F.p("m1"), on: F.d("2027-02-15"), reason: .time))).thenRefused(
            .timelineConflict(
                fact: "t1 has an entry dated 2027-02-20", factDate: F.d("2027-02-20"), seq: 8, entry: "withdrawal",
                date: F.d("2027-02-15")))
        s.when(.complete(CompleteTandem(tandem: F.t("t1"), on: F.d("2027-02-20")))).thenAccepted()
    }

    // MARK: Withdrawals

    @Test func aWithdrawalEndsTheTandemAndFreesThePartner() {
        var s = Scenario.given(F.standard)
        let withdraw = Withdraw(participant: F.p("e1"), on: F.d("2027-02-01"), reason: .time)
        s.when(.withdraw(withdraw)).then([
            .participantWithdrew(ParticipantWithdrew(participant: F.p("e1"), on: F.d("2027-02-01"), reason: .time))
        ])
        s.when(.withdraw(Withdraw(participant: F.p("e1"), on: F.d("2027-01-09"), reason: .time)))
            .thenRefused(
                .timelineConflict(
                    fact: "e1 was matched in t1 on 2027-01-10", factDate: F.d("2027-01-10"), seq: 7,
                    entry: "withdrawal",
                    date: F.d("2027-01-09")))
        s.record(
            .participantWithdrew(ParticipantWithdrew(participant: F.p("e1"), on: F.d("2027-02-01"), reason: .time)))
        #expect(
            s.state.tandems[F.t("t1")]?.status == .dissolved && s.state.tandems[F.t("t1")]?.until == F.d("2027-02-01"))
        #expect(s.state.participants[F.p("m1")]?.activeTandem == nil)
        s.when(.withdraw(withdraw)).thenRefused(.participantWithdrawn(F.p("e1"), on: F.d("2027-02-01")))
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m1"), mentee: F.p("e2"), id: F.t("t2"), on: F.d("2027-02-02")))
        ).thenAccepted()
        s.when(
            .match(
                Match(
                    programme: F.programme, mentor: F.p("m2"), mentee: F.p("e1"), id: F.t("t2"), on: F.d("2027-02-02")))
        )
        .thenRefused(.participantWithdrawn(F.p("e1"), on: F.d("2027-02-01")))
    }

    // MARK: Voiding

    @Test func onlyAnExistingNotYetVoidedEventCanBeVoided() {
        var s = Scenario.given(F.standard)
        let twice = F.sealed(.reason("entered twice"))
        s.when(.void(VoidEvent(seq: 6, reason: twice))).then([
            .eventVoided(EventVoided(seq: 6, personal: twice.reference))
        ])
        s.when(.void(VoidEvent(seq: 99, reason: F.sealed(.reason("x"))))).thenRefused(.seqNotFound(99, head: 7))
        s.record(.eventVoided(EventVoided(seq: 6, personal: twice.reference)))
        s.when(.void(VoidEvent(seq: 6, reason: F.sealed(.reason("again"))))).thenRefused(.alreadyVoided(6, by: 8))
        s.when(.void(VoidEvent(seq: 5, reason: F.sealed(.reason(""))))).thenRefused(
            .invalidValue(field: "reason", value: "", expected: "it must not be empty"))
    }

    // MARK: Programme settings and erasure

    @Test func programmeSettingsAreChecked() {
        let s = Scenario.given([])
        s.when(.launch(LaunchProgramme(id: F.programme, name: "P", starts: F.d("2027-06-01"), ends: F.d("2027-01-01"))))
            .thenRefused(.programmeDates(starts: F.d("2027-06-01"), ends: F.d("2027-01-01")))
        s.when(
            .launch(
                LaunchProgramme(
                    id: F.programme, name: "P", starts: F.d("2027-01-01"), ends: F.d("2027-06-01"), minGroupSize: 2))
        )
        .thenRefused(
            .invalidValue(
                field: "min-group-size", value: "2", expected: "at least 3: smaller groups could name people"))
        s.when(
            .launch(LaunchProgramme(id: F.programme, name: "  ", starts: F.d("2027-01-01"), ends: F.d("2027-06-01")))
        )
        .thenRefused(.invalidValue(field: "name", value: "", expected: "it must not be empty"))
    }

    @Test func anErasedParticipantCannotBeMatchedOrErasedAgain() {
        var s = Scenario.given(F.standard)
        s.when(.forget(Forget(participant: F.p("e2")))).thenAccepted()
        s.record(.personalDataErased(PersonalDataErased(participant: F.p("e2"), refs: [])))
        s.when(.forget(Forget(participant: F.p("e2")))).thenRefused(.alreadyErased(F.p("e2")))
        s.when(.match(Match(programme: F.programme, mentor: F.p("m2"), mentee: F.p("e2"), id: F.t("t2")))).thenRefused(
            .participantErased(F.p("e2")))
    }

    @Test func erasureCoversThePersonAndTheirTandems() {
        var s = Scenario.given(F.standard)
        let notes = F.sealed(.notes("talked about TikTok"))
        s.record(
            .sessionHeld(
                SessionHeld(
                    tandem: F.t("t1"), on: F.d("2027-02-01"), minutes: 60, mode: .inPerson, personal: notes.reference)))
        guard case .success(let decision) = s.when(.forget(Forget(participant: F.p("e1")))),
            case .personalDataErased(let erased) = decision.events[0]
        else {
            Issue.record("not erased")
            return
        }
        #expect(erased.refs.contains(notes.reference.ref))
        #expect(erased.refs.count == 2)  // the profile and the tandem's notes
    }
}

@Suite("Natural order: every list has a total, repeatable order")
struct NaturalOrderTests {
    @Test("digits compare as numbers, case is folded, bytes break ties")
    func order() {
        let sorted = ["t-1-10", "t-1-2", "level 10", "level 2", "Ost", "ost", "t-1-02", "Level 3", "a", "A", "t-1-1"]
            .sorted(by: NaturalOrder.less)
        #expect(
            sorted
                == ["a", "A", "level 2", "Level 3", "level 10", "Ost", "ost", "t-1-1", "t-1-2", "t-1-02", "t-1-10"]
                .sorted(by: NaturalOrder.less))
        #expect(NaturalOrder.less("t-1-2", "t-1-10") && !NaturalOrder.less("t-1-10", "t-1-2"))
        #expect(NaturalOrder.less("level 2", "level 10"))
        #expect(NaturalOrder.less("Ost", "ost") != NaturalOrder.less("ost", "Ost"))
        #expect(NaturalOrder.less("t-1-2", "t-1-02") != NaturalOrder.less("t-1-02", "t-1-2"))
        // A strict weak order that is total: exactly one of a < b, b < a for distinct strings.
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("aA0 1-9zZ")
        for _ in 0..<2000 {
            let a = String(
                (0..<Int.random(in: 0...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let b = String(
                (0..<Int.random(in: 0...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            if a == b {
                #expect(!NaturalOrder.less(a, b))
            } else {
                #expect(NaturalOrder.less(a, b) != NaturalOrder.less(b, a), "\(a) \(b)")
            }
        }
    }

    @Test("the in-place ASCII comparison agrees with the case-folding reference on seeded strings")
    func asciiAgreesWithFolding() {
        var generator = SeededGenerator(seed: 19)
        let alphabet = Array("aAbBzZ0019-_. ")
        func word() -> String {
            String(
                (0..<Int.random(in: 0...7, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<20_000 {
            let a = word(), b = word()
            #expect(NaturalOrder.less(a, b) == NaturalOrder.foldedLess(a, b), "\(a) \(b)")
        }
        // Text beyond ASCII takes the folding path and still sorts "Ärger" beside "ärger".
        #expect(NaturalOrder.less("Ärger", "ärger") == NaturalOrder.foldedLess("Ärger", "ärger"))
        #expect(NaturalOrder.less("Ost", "Öst") == NaturalOrder.foldedLess("Ost", "Öst"))
    }

    /// The key of ASCII text, or nil.
    static func key(_ text: String) -> (UInt64, UInt64)? {
        var text = text
        return text.withUTF8(NaturalOrder.key)
    }

    @Test("keys that differ order two texts as the texts' order does", arguments: 0..<4)
    func keysAgreeWithOrder(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 31)
        // Digit runs with leading zeros, letters in both cases, the id punctuation; words
        // long enough that many keys stop at 16 bytes and tie.
        let alphabet = Array("aAbZz0000123456789-_.")
        func word() -> String {
            String(
                (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        var decided = 0, tied = 0
        for _ in 0..<20_000 {
            var a = word(), b = word()
            // Often one a prefix of the other, or sharing a long start.
            if Int.random(in: 0..<3, using: &generator) == 0 { b = a + b.prefix(3) }
            if Int.random(in: 0..<4, using: &generator) == 0 { a = b.prefix(10) + a }
            let ka = try #require(Self.key(a)), kb = try #require(Self.key(b))
            if ka == kb {
                tied += 1
                continue
            }
            decided += 1
            let keyLess = ka.0 != kb.0 ? ka.0 < kb.0 : ka.1 < kb.1
            #expect(NaturalOrder.less(a, b) == keyLess, "\(a) \(b)")
            #expect(NaturalOrder.less(b, a) == !keyLess, "\(a) \(b)")
        }
        // Most pairs are decided by their keys, and some tie (both paths are checked).
        #expect(decided > 12_000 && tied > 1_000, "decided \(decided), tied \(tied)")
        // Equal text, equal keys; case is folded; digit runs compare as numbers.
        #expect(Self.key("p-7K2") ?? (0, 0) == Self.key("p-7k2") ?? (1, 1))
        let k2 = try #require(Self.key("t-1-2")), k10 = try #require(Self.key("t-1-10"))
        #expect(k2.0 < k10.0 || (k2.0 == k10.0 && k2.1 < k10.1))
    }

    @Test("text beyond ASCII, or with a run of 256 digits, has no key")
    func keylessText() {
        #expect(Self.key("Ärger") == nil)
        #expect(Self.key("p-" + String(repeating: "x", count: 40) + "é") == nil, "past the key's 16 bytes too")
        #expect(Self.key("p-" + String(repeating: "7", count: 256)) == nil)
        #expect(Self.key("p-" + String(repeating: "7", count: 255)) != nil)
        #expect(Self.key("") ?? (1, 1) == (0, 0))
    }
}
