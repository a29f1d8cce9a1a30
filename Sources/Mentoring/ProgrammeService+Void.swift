import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// The void re-check: the history without the voided event must still hold.
extension ProgrammeService {
    /// A void is allowed only if every later event still follows the rules without the
    /// voided one: replay the history without it and re-check each later event. `pending`
    /// are the events decided earlier in the same batch (seqs from `pendingStart` on).
    /// - Returns: the state of the history without the voided event.
    @discardableResult
    func checkVoid(
        _ target: Int, state: ProgrammeState, session: any LogSession, profiles: TraitsDirectory,
        pending: [LogRecord], pendingStart: Int
    ) throws -> ProgrammeState {
        let last = pendingStart + pending.count - 1
        guard target >= 1, target <= last else { throw DomainError.seqNotFound(target, head: last) }
        if let by = state.voided[target] { throw DomainError.alreadyVoided(target, by: by) }
        var replayed = ProgrammeState()
        var voided = state.voided
        voided[target] = last + 1
        var failure: DomainError?
        // One step of the replay: the target is checked and skipped, later events re-checked.
        func step(_ recorded: RecordedEvent, traits: Traits?) throws {
            if recorded.seq == target {
                switch recorded.event {
                case .logCreated, .eventVoided, .personalDataErased, .unknown:
                    throw DomainError.notVoidable(target, type: recorded.event.type)
                default:
                    // Skipped, but it exists: a later void of it must still find its seq.
                    replayed.head = max(replayed.head, recorded.seq)
                    return
                }
            }
            if voided[recorded.seq] != nil {
                replayed.head = max(replayed.head, recorded.seq)
                return
            }
            if recorded.seq > target {
                do throws(DomainError) { try replayed.validate(recorded.event) } catch {
                    failure = .voidWouldBreak(
                        seq: target, later: recorded.seq, laterType: recorded.event.type, because: error)
                    throw Replay.StopReading()
                }
            }
            replayed.apply(recorded, traits: traits)
        }
        do {
            try session.forEachLine(from: 1, after: nil) { line in
                let recorded = try EventDecoder.decode(line)
                var traits: Traits? = nil
                if let ref = recorded.event.profileReference { traits = profiles[ref] }
                try step(recorded, traits: traits)
            }
            for (offset, record) in pending.enumerated() {
                let seq = pendingStart + offset
                let line = Self.encodedLine(record, seq: seq)
                let recorded = try line.withUnsafeBytes { raw in
                    try Result { () throws(EventDecodingError) in try EventDecoder.decode(raw, seq: seq) }.get()
                }
                var traits: Traits? = nil
                if let ref = recorded.event.profileReference { traits = profiles[ref] }
                try step(recorded, traits: traits)
            }
        } catch is Replay.StopReading {}
        if let failure { throw failure }
        return replayed
    }
}
