import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// What participants may record themselves, and the profiles updates build on.
extension ProgrammeService {
    /// A participant may record a session, a goal or their own check-in of their own active
    /// tandem, nothing else.
    static func checkSelfService(
        _ command: ProgrammeCommand, by me: ParticipantID, in state: ProgrammeState
    ) throws(DomainError) {
        let tandem: TandemID
        switch command {
        case .recordSession(let c): tandem = c.tandem
        case .setGoal(let c): tandem = c.tandem
        case .reachGoal(let c): tandem = c.tandem
        case .checkIn(let c):
            // Their own rating only: a check-in speaks for the one who gives it.
            guard c.participant == me else { throw .notYourTandem(me, c.tandem) }
            tandem = c.tandem
        default: throw .notYourTandem(me, nil)
        }
        guard let record = state.tandems[tandem], record.includes(me), record.status == .active else {
            throw .notYourTandem(me, tandem)
        }
    }

    /// A participant's profile in force: the last of their vault lines that holds a profile
    /// (their signup's, or a later update's), read from the vault or from lines of this batch
    /// not yet written.
    /// - Throws: `DomainError` if they are unknown or erased.
    func currentProfile(of id: ParticipantID, in state: ProgrammeState, pending: [SealedRecord]) throws -> Profile {
        guard let record = state.participants[id] else { throw DomainError.unknownParticipant(id) }
        guard !record.erased else { throw DomainError.participantErased(id) }
        let refs = Set(record.refs)
        var found: [String: Profile] = [:]
        for line in pending where refs.contains(line.reference.ref) {
            if case .profile(let p) = line.payload { found[line.reference.ref] = p }
        }
        let marker = Array("\"kind\":\"profile\"".utf8)
        try LineStream.forEach(vault.path) { line, _ in
            guard ByteSearch.contains(marker, in: line), let parsed = Vault.content(line) else { return }
            if refs.contains(parsed.ref), let profile = parsed.payload?.profile { found[parsed.ref] = profile }
        }
        guard let ref = record.refs.last(where: { found[$0] != nil }), let profile = found[ref] else {
            throw DomainError.participantErased(id)
        }
        return profile
    }
}
