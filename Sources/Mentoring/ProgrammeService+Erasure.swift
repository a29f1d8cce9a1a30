import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Erasure: `forget` removes a person's vault lines and every derived copy.
extension ProgrammeService {
    /// Erases a participant's personal data: their vault lines, and those of the tandems
    /// they were in, go (temporary file, fsync, rename); then `PersonalDataErased` is
    /// appended, holding only opaque refs. Vault lines no event points to (left by an
    /// interrupted write) go too. Caches are dropped: they may hold the erased data.
    public func forget(_ participant: ParticipantID, context: RecordingContext) throws -> RecordedOutcome {
        try store.events.withExclusiveAccess { session in
            let loaded = try loadState(session, allProfiles: false)
            let decision = try decide(
                .forget(Forget(participant: participant)), loaded.state, today: BusinessDate(clock.now()))
            guard case .personalDataErased(var erasure) = decision.events[0] else {
                preconditionFailure("forget decides an erasure")
            }
            var referenced = RefSet()
            // Besides the person's and their tandems' records: every free text of an event
            // about them (an override reason, whom an actor acted for), and the reason of
            // every correction of such an event.
            var members: [TandemID: [ParticipantID]] = [:]
            var touching = Set<Int>()
            var extra: [String] = []
            _ = try Replay.pipelined(session, window: .everything) { recorded in
                for reference in recorded.personalReferences { referenced.insert(reference.vaultRef) }
                let subjects = Self.subjects(of: recorded.event, members: &members)
                let touches: Bool
                if case .eventVoided(let e) = recorded.event {
                    touches = touching.contains(e.seq)
                } else {
                    touches = subjects.contains(participant)
                }
                if touches {
                    touching.insert(recorded.seq)
                    extra += recorded.personalReferences.map(\.ref)
                }
            }
            let known = Set(erasure.refs)
            erasure.refs += Array(Set(extra).subtracting(known)).sorted()
            try quarantineTornVaultTail()
            var orphans = Set<String>()
            try vault.forEachDigest { ref, _, _ in if let ref, !referenced.contains(ref) { orphans.insert(ref) } }
            try vault.rewrite(removing: Set(erasure.refs).union(orphans))
            Self.dropCaches(store)
            // Torn vault tails hold personal data that no event points to, so no erasure
            // could ever name them: an erasure removes them all.
            for name in (try? FileSystem.contents(of: store.quarantineDirectory)) ?? []
            where name.hasPrefix("vault.jsonl.") {
                try FileSystem.remove(store.quarantineDirectory + "/" + name)
            }
            var extras = JSONObject()
            if let onBehalfOf = context.onBehalfOf {
                let behalf = seal(.reason(onBehalfOf.trimmed))
                try vault.append([behalf])
                extras["onBehalfOf"] = behalf.reference.json
            }
            let record = LogRecord(
                type: PersonalDataErased.type, actor: context.actor, at: clock.now(), data: erasure.fields,
                extras: extras
            )
            let head = try session.append([record], expectedHead: loaded.head.seq)[0]
            return RecordedOutcome(
                seq: head.seq, type: PersonalDataErased.type, id: participant.rawValue, duplicate: false)
        }
    }

    /// The participants an event is about, keeping track of who is in which tandem.
    static func subjects(of event: ProgrammeEvent, members: inout [TandemID: [ParticipantID]]) -> [ParticipantID] {
        switch event {
        case .tandemMatched(let e):
            members[e.tandem] = [e.mentor, e.mentee]
            return [e.mentor, e.mentee]
        case .partnerSwapped(let e):
            let old = members[e.tandem] ?? []
            let staying = old.filter { $0 != e.leaving }
            members[e.newTandem] = staying + [e.joining]
            return old + [e.joining]
        default:
            // Everyone the event names, and the members of every tandem it names: an event
            // about a tandem (its sessions, goals, check-ins) is about both of its people.
            let subjects = event.subjects
            return subjects.participants + subjects.tandems.flatMap { members[$0] ?? [] }
        }
    }

    /// Removes everything in `cache/`: snapshots, and the temporary files of snapshot writes
    /// that were interrupted. Any of them may hold personal data that was just erased.
    public static func dropCaches(_ store: Store) {
        for name in (try? FileSystem.contents(of: store.cacheDirectory)) ?? [] {
            try? FileSystem.remove(store.cacheDirectory + "/" + name)
        }
    }
}
