import EventLog
import EventOracle
import Foundation
import Mentoring
import TestSupport
import Testing

/// A store and service with a fixed clock (2027-03-01) and seeded randomness.
struct ServiceFixture {
    let directory = TemporaryDirectory("tandem-service")
    let store: Store
    let service: ProgrammeService
    let context = RecordingContext(actor: "anna")

    init() throws {
        let clock = FixedClock(Timestamp(rfc3339: "2027-03-01T09:00:00Z")!)
        let random = SeededRandomSource(seed: 5)
        store = try Store.create(root: directory.appending("store"), actor: "anna", clock: clock, random: random).store
        service = ProgrammeService(store: store, clock: clock, random: random)
    }

    func seal(_ payload: PersonalPayload) -> SealedRecord {
        SealedRecord(payload, random: SeededRandomSource(seed: UInt64(payload.hashValue & 0xffff)))
    }

    func signUp(_ id: String, _ role: Role, unit: String, name: String = "Someone") -> ProgrammeCommand {
        .signUp(
            SignUp(
                programme: Fixture.programme, role: role,
                profile: seal(
                    .profile(
                        Profile(
                            name: name, unit: unit, level: role == .mentor ? 2 : 8, born: role == .mentor ? 1999 : 1962)
                    )),
                id: Fixture.p(id), on: Fixture.d("2027-01-05")))
    }

    var launch: ProgrammeCommand {
        .launch(
            LaunchProgramme(
                id: Fixture.programme, name: "Pilot", starts: Fixture.d("2027-01-01"), ends: Fixture.d("2027-12-31")))
    }

    func record(_ commands: [ProgrammeCommand]) throws -> [RecordedOutcome] {
        try service.record(batch: commands.map { ($0, context) })
    }
}

@Suite("ProgrammeService: batches, voids, replay")
struct ServiceTests {
    @Test("a batch is all or nothing and names the refused command")
    func batchAllOrNothing() throws {
        let f = try ServiceFixture()
        _ = try f.record([f.launch, f.signUp("m1", .mentor, unit: "IT"), f.signUp("e1", .mentee, unit: "HR")])
        let events = Files.read(f.store.events.path), vault = Files.read(f.store.path("vault.jsonl"))
        do {
            _ = try f.record([f.signUp("m2", .mentor, unit: "IT"), f.signUp("m1", .mentor, unit: "IT")])
            Issue.record("a batch with a duplicate id was recorded")
        } catch let failure as BatchFailure {
            #expect(failure.index == 1)
            #expect(failure.error as? DomainError == .duplicateParticipant(Fixture.p("m1")))
        }
        #expect(sameBytes(Files.read(f.store.events.path), events))
        #expect(sameBytes(Files.read(f.store.path("vault.jsonl")), vault))
        #expect(try f.service.currentState().participants.count == 2)
    }

    @Test("the vault line is written before its event and matches its commitment")
    func vaultCommitments() throws {
        let f = try ServiceFixture()
        _ = try f.record([f.launch, f.signUp("m1", .mentor, unit: "IT", name: "Lena")])
        let entries = try f.store.events.entries()
        guard case .object(let personal)? = entries[2].data["personal"], let ref = personal["ref"]?.stringValue,
            let commit = personal["commit"]?.stringValue
        else {
            Issue.record("no personal reference")
            return
        }
        let line = try #require(try Vault(store: f.store).lines()[ref])
        #expect(line.digest.hex == commit)
        #expect(line.payload?.profile?.name == "Lena")
        #expect(
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
                == VaultReport(records: 1, erased: 0, orphans: 0))
    }

    @Test("a void later in the same batch can target an event earlier in it")
    func voidInBatch() throws {
        let f = try ServiceFixture()
        _ = try f.record([
            f.launch, f.signUp("m1", .mentor, unit: "IT"), f.signUp("e1", .mentee, unit: "HR"),
            .match(
                Match(
                    programme: Fixture.programme, mentor: Fixture.p("m1"), mentee: Fixture.p("e1"), id: Fixture.t("t1"),
                    on: Fixture.d("2027-01-10"))),
        ])
        let outcomes = try f.record([
            .recordSession(RecordSession(tandem: Fixture.t("t1"), on: Fixture.d("2027-02-01"), minutes: 60)),
            .void(VoidEvent(seq: 6, reason: f.seal(.reason("entered by mistake")))),
        ])
        #expect(outcomes.map(\.seq) == [6, 7])
        let state = try f.service.currentState()
        #expect(state.voided == [6: 7])
        #expect(state.tandems[Fixture.t("t1")]?.lastSession == nil)  // the voided session is ignored
    }

    @Test("a replay skips voided events, whether the void comes first or last")
    func replaySkipsVoids() throws {
        let f = try ServiceFixture()
        _ = try f.record([
            f.launch, f.signUp("m1", .mentor, unit: "IT"), f.signUp("e1", .mentee, unit: "HR"),
            f.signUp("e2", .mentee, unit: "Ops"),
            .match(
                Match(
                    programme: Fixture.programme, mentor: Fixture.p("m1"), mentee: Fixture.p("e1"), id: Fixture.t("t1"),
                    on: Fixture.d("2027-01-10"))),
        ])
        _ = try f.record([.void(VoidEvent(seq: 6, reason: f.seal(.reason("wrong mentee"))))])
        _ = try f.record([
            .match(
                Match(
                    programme: Fixture.programme, mentor: Fixture.p("m1"), mentee: Fixture.p("e2"), id: Fixture.t("t2"),
                    on: Fixture.d("2027-01-10")))
        ])
        let state = try f.service.currentState()
        #expect(state.tandems[Fixture.t("t1")] == nil)
        #expect(state.tandems[Fixture.t("t2")]?.mentee == Fixture.p("e2"))
        #expect(state.participants[Fixture.p("e1")]?.activeTandem == nil)
        // m1 and e1 were never partners, as far as the rules are concerned.
        #expect(!state.werePartners(Fixture.p("m1"), Fixture.p("e1")))
    }

    @Test("every event the service writes decodes back, and Foundation's JSONDecoder agrees")
    func decodingAgrees() throws {
        let f = try ServiceFixture()
        _ = try f.record([
            f.launch, f.signUp("m1", .mentor, unit: "IT"), f.signUp("e1", .mentee, unit: "HR"),
            f.signUp("e2", .mentee, unit: "Ops"),
            .match(
                Match(
                    programme: Fixture.programme, mentor: Fixture.p("m1"), mentee: Fixture.p("e1"), id: Fixture.t("t1"),
                    override: f.seal(.reason("pilot \"exception\"")), on: Fixture.d("2027-01-10"))),
            .recordSession(
                RecordSession(
                    tandem: Fixture.t("t1"), on: Fixture.d("2027-02-01"), minutes: 60, mode: .online,
                    topics: ["ai", "data-visualisation"], notes: f.seal(.notes("n")))),
            .setGoal(
                SetGoal(
                    tandem: Fixture.t("t1"), goal: Fixture.g("g1"), text: f.seal(.goalText("x")),
                    due: Fixture.d("2027-05-01"), category: "social", on: Fixture.d("2027-02-01"))),
            .reachGoal(ReachGoal(tandem: Fixture.t("t1"), goal: Fixture.g("g1"), on: Fixture.d("2027-02-10"))),
            .swap(
                SwapPartner(
                    tandem: Fixture.t("t1"), leaving: Fixture.p("e1"), joining: Fixture.p("e2"),
                    on: Fixture.d("2027-02-11"), reason: .mismatch, newTandem: Fixture.t("t2"),
                    notes: f.seal(.notes("s")))),
            .withdraw(
                Withdraw(
                    participant: Fixture.p("e1"), on: Fixture.d("2027-02-12"), reason: .health,
                    notes: f.seal(.reason("r")))),
            .complete(CompleteTandem(tandem: Fixture.t("t2"), on: Fixture.d("2027-02-20"))),
            .void(VoidEvent(seq: 9, reason: f.seal(.reason("dup")))),
        ])
        _ = try f.service.forget(Fixture.p("e1"), context: f.context)
        var seen = Set<String>()
        try f.store.events.forEachLine { line in
            let ours = try EventDecoder.decode(line)
            let theirs = try #require(FoundationLogLine.decode(Array(line.bytes)))
            #expect(theirs.event == ours.event, "seq \(line.seq)")
            #expect(theirs.seq == ours.seq && theirs.actor == ours.actor && theirs.at == ours.at.rfc3339)
            // And re-encoding gives the same data object, byte for byte.
            let entry = try line.entry()
            #expect(JSONValue.object(ours.event.json).description == JSONValue.object(entry.data).description)
            seen.insert(ours.event.type)
        }
        #expect(seen.count == 12)  // every v1 type but MatchRunRecorded, which matching writes
    }
}
