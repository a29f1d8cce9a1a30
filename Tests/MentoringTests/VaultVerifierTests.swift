import EventLog
import Foundation
import TestSupport
import Testing

@testable import Mentoring

/// The vault check as it was first written: every commitment in a dictionary of strings.
/// Slow and large, but plainly right; the compact verifier must agree with it.
private func referenceVerify(log: any LineSource, vault: Vault) throws -> VaultReport {
    var committed: [String: (seq: Int, commit: SHA256Digest)] = [:]
    var erased = Set<String>()
    try log.forEachLine(from: 1, after: nil) { line in
        let recorded = try EventDecoder.decode(line)
        let event = recorded.event
        for reference in recorded.personalReferences { committed[reference.ref] = (line.seq, reference.commit) }
        if case .personalDataErased(let e) = event { erased.formUnion(e.refs) }
    }
    var report = VaultReport()
    var present = Set<String>()
    try vault.forEachLine { line in
        if line.ref.hasPrefix("@") {
            throw VaultDamage(
                "the line at byte \(line.ref.dropFirst()) is not a vault record (no JSON object with a ref)")
        }
        guard let expected = committed[line.ref] else {
            report.orphans += 1
            return
        }
        guard present.insert(line.ref).inserted else {
            throw VaultDamage(
                "ref \(line.ref) has a second line at byte \(try lineOffset(of: line, in: vault)); each record is written once"
            )
        }
        if erased.contains(line.ref) {
            throw VaultDamage("ref \(line.ref) (seq \(expected.seq)) was erased, yet its line is still in the vault")
        }
        guard line.digest == expected.commit else {
            throw VaultDamage("the line for ref \(line.ref) does not match the commitment of seq \(expected.seq)")
        }
        report.records += 1
    }
    for (ref, origin) in committed.sorted(by: { $0.value.seq < $1.value.seq }) where !present.contains(ref) {
        guard erased.contains(ref) else {
            var damage = VaultDamage(
                "the personal data of seq \(origin.seq) (ref \(ref)) is missing and no PersonalDataErased covers it")
            damage.mayBeInterruptedErasure = true
            throw damage
        }
        report.erased += 1
    }
    return report
}

/// Where the second line with `line`'s ref starts (found the slow, obvious way).
private func lineOffset(of line: VaultLine, in vault: Vault) throws -> Int {
    var starts: [Int] = []
    try LineStream.forEach(vault.path) { bytes, at in
        if (try? Vault.parse(bytes, offset: at))?.ref == line.ref { starts.append(at) }
    }
    return starts[1]
}

/// The outcome of a check, comparable: the report, or the damage's text.
private func outcome(_ check: () throws -> VaultReport) -> String {
    do { return "\(try check())" } catch { return "\(error)" }
}

private func vaultLines(_ f: ServiceFixture) -> [[UInt8]] {
    Files.read(f.store.path("vault.jsonl")).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(
        Array.init)
}

private func writeVault(_ f: ServiceFixture, _ lines: [[UInt8]]) {
    Files.write(f.store.path("vault.jsonl"), lines.flatMap { $0 + [0x0A] })
}

/// Seven signups (seqs 3…9), the third of them (m3, seq 5) erased at seq 10; and the vault
/// as a backup taken before the erasure would hold it.
private func programmeWithAnErasure() throws -> (ServiceFixture, backup: [[UInt8]]) {
    let f = try ServiceFixture()
    _ = try f.record(
        [f.launch]
            + (1...7).map { f.signUp("m\($0)", $0 % 2 == 0 ? .mentee : .mentor, unit: "U\($0)", name: "Person \($0)") })
    let backup = vaultLines(f)
    _ = try f.service.forget(Fixture.p("m3"), context: f.context)
    return (f, backup)
}

@Suite("Vault verification: every line against its commitment, erasures, orphans")
struct VaultVerifierTests {
    @Test("an intact vault: every line matches, the erased one is counted")
    func intact() throws {
        let (f, _) = try programmeWithAnErasure()
        #expect(
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
                == VaultReport(records: 6, erased: 1, orphans: 0))
    }

    @Test("a changed byte in a line names the ref and the seq that committed to it")
    func changedLine() throws {
        let (f, _) = try programmeWithAnErasure()
        var lines = vaultLines(f)
        // m4's profile (seq 6): the vault now holds m1, m2, m4, …
        let ref = try #require(Vault.ref(of: lines[2].withUnsafeBytes { $0 }))
        let at = try #require(lines[2].lastIndex(of: UInt8(ascii: "4")))
        lines[2][at] = UInt8(ascii: "5")
        writeVault(f, lines)
        #expect(throws: VaultDamage("the line for ref \(ref) does not match the commitment of seq 6")) {
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
        }
    }

    @Test("a line deleted without an erasure is missing; an erased line put back is found")
    func missingAndRestored() throws {
        let (f, backup) = try programmeWithAnErasure()
        let original = vaultLines(f)
        let ref = try #require(Vault.ref(of: original[0].withUnsafeBytes { $0 }))
        writeVault(f, Array(original.dropFirst()))
        var missing = VaultDamage(
            "the personal data of seq 3 (ref \(ref)) is missing and no PersonalDataErased covers it")
        missing.mayBeInterruptedErasure = true
        #expect(throws: missing) {
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
        }
        // The erased profile of m3 (seq 5), restored from a backup taken before `forget`.
        let erasedRef = try #require(Vault.ref(of: backup[2].withUnsafeBytes { $0 }))
        writeVault(f, original + [backup[2]])
        #expect(throws: VaultDamage("ref \(erasedRef) (seq 5) was erased, yet its line is still in the vault")) {
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
        }
    }

    @Test("records no event points to are orphans; a line that is no record, or a record twice, is damage")
    func orphans() throws {
        let (f, _) = try programmeWithAnErasure()
        let original = vaultLines(f)
        let orphan = Array(#"{"ref":"r-00000000000000aa","nonce":"00","payload":{"kind":"note","text":"x"}}"#.utf8)
        writeVault(f, original + [orphan])
        #expect(
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
                == VaultReport(records: 6, erased: 1, orphans: 1))
        let end = original.reduce(0) { $0 + $1.count + 1 }
        for garbage in [#"{"ref":"r-1","nonce":"00"} trailing"#, "not json", "{}"] {
            writeVault(f, original + [Array(garbage.utf8)])
            #expect(throws: VaultDamage("the line at byte \(end) is not a vault record (no JSON object with a ref)")) {
                try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
            }
        }
        writeVault(f, original + [original[1]])
        #expect(
            throws: VaultDamage(
                "ref \(String(decoding: original[1][8..<26], as: UTF8.self)) has a second line at byte \(end); each record is written once"
            )
        ) {
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
        }
    }

    @Test("refs of another shape than r- and 16 hex digits are checked as strings")
    func otherRefShapes() throws {
        let f = try ServiceFixture()
        _ = try f.record([f.launch])
        let line = Array(
            #"{"ref":"legacy-ref-Ä1","nonce":"00","payload":{"kind":"profile","name":"X","unit":"IT","level":2,"born":1999}}"#
                .utf8)
        writeVault(f, [line])
        let commit = line.withUnsafeBytes { SHA256.hash($0) }
        let data: JSONObject = [
            "participant": .string("legacy"), "programme": .string(Fixture.programme.rawValue),
            "role": .string("mentor"),
            "on": .string("2027-01-05"),
            "personal": .object(["ref": .string("legacy-ref-Ä1"), "commit": .string(commit.hex)]),
        ]
        _ = try f.store.events.append([
            LogRecord(
                type: "ParticipantSignedUp", actor: "anna", at: Timestamp(rfc3339: "2027-03-01T09:00:00Z")!, data: data)
        ])
        #expect(
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
                == VaultReport(records: 1, erased: 0, orphans: 0))
        var changed = line
        changed[changed.count - 3] = UInt8(ascii: "8")
        writeVault(f, [changed])
        #expect(throws: VaultDamage("the line for ref legacy-ref-Ä1 does not match the commitment of seq 3")) {
            try VaultVerifier.verify(log: f.store.events, vault: Vault(store: f.store))
        }
    }

    @Test("packed refs read back as the refs they were made from")
    func packedRefsRoundTrip() {
        var random = SeededGenerator(seed: 17)
        for _ in 0..<2000 {
            let key = UInt64.random(in: .min ... .max, using: &random)
            let ref = PackedRef.unpack(key)
            #expect(ref.utf8.count == 18 && PackedRef.pack(ref) == key)
        }
        #expect(PackedRef.unpack(0) == "r-0000000000000000")
        #expect(PackedRef.unpack(0x0123_4567_89ab_cdef) == "r-0123456789abcdef")
        #expect(PackedRef.pack("r-00000000000000AB") == nil)
    }

    @Test("a vault of 2,400 records (the ref table grows several times) agrees with the reference under damage")
    func manyRecordsAgree() throws {
        let f = try ServiceFixture()
        let signups = (0..<2400).map { n -> ProgrammeCommand in
            let role: Role = n % 2 == 0 ? .mentor : .mentee
            return .signUp(
                SignUp(
                    programme: Fixture.programme, role: role,
                    profile: SealedRecord(
                        .profile(
                            Profile(
                                name: "Person \(n)", unit: "U\(n % 9)", level: role == .mentor ? 2 : 8,
                                born: role == .mentor ? 1999 : 1962)),
                        random: SeededRandomSource(seed: 50_000 + UInt64(n))),
                    id: Fixture.p("m\(n)"), on: Fixture.d("2027-01-05")))
        }
        _ = try f.record([f.launch] + signups)
        let intact = vaultLines(f)
        let vault = Vault(store: f.store)
        #expect(try VaultVerifier.verify(log: f.store.events, vault: vault).records == 2400)
        var random = SeededGenerator(seed: 2400)
        for round in 0..<12 {
            var lines = intact
            let i = Int.random(in: 0..<lines.count, using: &random)
            switch round % 4 {
            case 0: lines.remove(at: i)
            case 1: lines[i][Int.random(in: 30..<lines[i].count, using: &random)] ^= 0x04
            case 2: lines.append(lines[i])
            default: lines.insert(Array("not a record".utf8), at: i)
            }
            writeVault(f, lines)
            let expected = outcome { try referenceVerify(log: f.store.events, vault: vault) }
            #expect(!expected.hasPrefix("VaultReport"), "round \(round): the damage is found")
            #expect(
                outcome { try VaultVerifier.verify(log: f.store.events, vault: vault) } == expected, "round \(round)")
            // Read in pieces on four workers while the chain is verified: the same answer.
            let commitments = LogCommitments()
            _ = try LogVerifier.verify(path: f.store.events.path, threads: 4, scan: { commitments.pieces($0) })
            #expect(
                outcome { try VaultVerifier.verify(commitments, log: f.store.events, vault: vault) } == expected,
                "round \(round), in pieces")
        }
        #expect(FileSystem.size(of: f.store.events.path)! > 1 << 20, "the log spans several pieces")
    }

    @Test("on seeded random damage, the compact verifier says what the plain reference says", arguments: 0..<40)
    func agreesWithReference(seed: UInt64) throws {
        var random = SeededGenerator(seed: 1000 + seed)
        let (f, backup) = try programmeWithAnErasure()
        var lines = vaultLines(f)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            guard !lines.isEmpty else { break }
            let i = Int.random(in: 0..<lines.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: lines.remove(at: i)
            case 1:
                lines[i][Int.random(in: 0..<lines[i].count, using: &random)] ^=
                    1 << UInt8.random(in: 0..<7, using: &random)
            case 2: lines.swapAt(i, Int.random(in: 0..<lines.count, using: &random))
            case 3: lines.append(lines[i])
            case 4: lines.insert(Array("garbage \(seed)".utf8), at: i)
            default: lines.insert(backup[2], at: i)  // m3's erased profile comes back
            }
        }
        writeVault(f, lines)
        let vault = Vault(store: f.store)
        let expected = outcome { try referenceVerify(log: f.store.events, vault: vault) }
        #expect(outcome { try VaultVerifier.verify(log: f.store.events, vault: vault) } == expected, "seed \(seed)")
    }

    /// Matches, swaps and voids with and without older free text, and on-behalf-of names in
    /// both forms, appended as an older version wrote them: the pieces read while the chain
    /// is verified (which know where `data` stands, and decode a match only when it has an
    /// `override` string) name the same seqs as the plain scan and as decoding every line.
    @Test("older free text is found in pieces, by where a line's parts stand, as it is by decoding every line")
    func freeTextByParts() throws {
        let f = try ServiceFixture()
        _ = try f.record([f.launch, f.signUp("m1", .mentor, unit: "A"), f.signUp("e1", .mentee, unit: "B")])
        let t = Fixture.t("t1"), m = Fixture.p("m1"), e = Fixture.p("e1"), on = Fixture.d("2027-01-03")
        func matched(_ override: String?) -> ProgrammeEvent {
            .tandemMatched(
                TandemMatched(tandem: t, programme: Fixture.programme, mentor: m, mentee: e, on: on, override: override)
            )
        }
        func swapped(_ override: String?) -> ProgrammeEvent {
            .partnerSwapped(
                PartnerSwapped(
                    tandem: t, newTandem: Fixture.t("t2"), leaving: e, joining: m, on: on, reason: .mismatch,
                    override: override))
        }
        let events: [(ProgrammeEvent, extras: JSONObject)] = [
            (matched(nil), [:]), (matched(waivedMarker), [:]), (matched("an \"old\" reason"), [:]),
            (matched(nil), ["onBehalfOf": .string("Old Name")]), (swapped(nil), [:]), (swapped(waivedMarker), [:]),
            (swapped("old swap reason"), ["key": .string("k-1")]), (.eventVoided(EventVoided(seq: 4)), [:]),
            (.eventVoided(EventVoided(seq: 4, reason: "old void reason")), [:]),
            (.sessionHeld(SessionHeld(tandem: t, on: on, minutes: 30, mode: .online)), ["onBehalfOf": .null]),
            (.sessionHeld(SessionHeld(tandem: t, on: on, minutes: 30, mode: .online)), ["onBehalfOf": .string("X")]),
            (.goalReached(GoalReached(tandem: t, goal: Fixture.g("g1"), on: on)), [:]),
        ]
        let at = Timestamp(rfc3339: "2027-01-03T09:00:00Z")!
        try f.store.events.append(
            events.map { LogRecord(type: $0.0.type, actor: "anna", at: at, data: $0.0.json, extras: $0.extras) })
        var expected: [Int] = []
        try f.store.events.forEachLine(from: 1, after: nil) { line in
            if try EventDecoder.decode(line).holdsFreeText { expected.append(line.seq) }
        }
        #expect(expected == [7, 8, 11, 13, 15], "the reference itself")
        let vault = Vault(store: f.store)
        #expect(try VaultVerifier.verify(log: f.store.events, vault: vault).freeTextInLog == expected)
        for threads in [1, 4] {
            let commitments = LogCommitments()
            _ = try LogVerifier.verify(path: f.store.events.path, threads: threads, scan: { commitments.pieces($0) })
            let report = try VaultVerifier.verify(commitments, log: f.store.events, vault: vault)
            #expect(report.freeTextInLog == expected, "\(threads) threads")
            #expect(report.records == 2)
        }
    }
}
