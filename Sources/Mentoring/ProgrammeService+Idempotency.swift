import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Idempotency: a retry with the same key appends nothing and reports the original.
extension ProgrammeService {
    /// Whether a retried command carries the same personal data as the original. After an
    /// erasure there is nothing to compare, and the retry counts as the same.
    func samePersonalData(_ refs: [String], _ sealed: [SealedRecord]) throws -> Bool {
        guard refs.count == sealed.count else { return false }
        guard !refs.isEmpty else { return true }
        var stored: [String: PersonalPayload] = [:]
        let wanted = Set(refs)
        try vault.forEachLine { line in
            if wanted.contains(line.ref), let payload = line.payload { stored[line.ref] = payload }
        }
        for (ref, record) in zip(refs, sealed) {
            if let payload = stored[ref], payload != record.payload { return false }
        }
        return true
    }

    func outcomeOfRetry(_ seq: Int, session: any LogSession) throws -> RecordedOutcome {
        var outcome = RecordedOutcome(seq: seq, type: "?", id: "", duplicate: true)
        do {
            try session.forEachLine(from: seq, after: nil) { line in
                let event = try EventDecoder.decode(line).event
                outcome.type = event.type
                outcome.id = event.identity
                throw Replay.StopReading()
            }
        } catch is Replay.StopReading {}
        return outcome
    }
}
