import EventLog
import Mentoring
import Projections

/// Benchmarks of the domain layers, run inside a child process so that the peak RSS is
/// theirs alone.
enum DomainCases {
    /// A full replay of all projections from the first line, as a cold query does: every
    /// event decoded and folded into the read model every report uses, then the vault's
    /// traits.
    /// - Returns: events, seconds, bytes of log read.
    static func replay(store path: String) throws -> (events: Int, seconds: Double, bytes: Int) {
        let store = try Store(root: path)
        let started = Harness.now()
        let result = try ProgrammeReadModel.replay(store.events, vault: Vault(store: store))
        let seconds = Harness.now() - started
        // Keep the model alive until measured, and check it is not empty.
        guard !result.fold.people.isEmpty else { throw BenchFailure("the replay folded no participant") }
        return (result.head.seq, seconds, FileSystem.size(of: store.path("events.jsonl")) ?? 0)
    }

    /// Decoding alone, on one core: every line of the log read and decoded, nothing folded.
    /// It splits a replay's time between decoding and folding.
    static func decode(store path: String) throws -> (events: Int, seconds: Double, bytes: Int) {
        let store = try Store(root: path)
        let started = Harness.now()
        var decoder = EventDecoder()
        var events = 0, sessions = 0
        try store.events.forEachLine { line in
            let recorded = try decoder.decode(line)
            events += 1
            if case .sessionHeld = recorded.event { sessions += 1 }
        }
        let seconds = Harness.now() - started
        guard sessions > 0 else { throw BenchFailure("the log held no session") }
        return (events, seconds, FileSystem.size(of: store.path("events.jsonl")) ?? 0)
    }
}
