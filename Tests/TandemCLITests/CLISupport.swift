import EventLog
import Foundation
import Projections
import TestSupport
import Testing

/// Runs the real `tandem` binary against a store in a temporary directory.
struct CLI {
    let directory = TemporaryDirectory("tandem-cli")
    var store: String { directory.appending("store") }
    /// A fixed clock, so transcripts are reproducible.
    var now = "2027-03-01T09:00:00Z"
    var environment: [String: String] = [:]

    /// Runs `tandem ARGS` with this store, the fixed clock and actor "coordinator-anna".
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, extra: [String: String] = [:]) throws -> ProcessOutcome {
        var env = ["TANDEM_STORE": store, "TANDEM_NOW": now, "TANDEM_ACTOR": "anna"]
        for (k, v) in environment { env[k] = v }
        for (k, v) in extra { env[k] = v }
        return try Executables.run(
            Executables.path("tandem"), arguments, environment: env, stdin: stdin,
            currentDirectory: directory.path)
    }

    /// Runs and splits a command line on spaces (no quoting; use `run` for values with spaces).
    @discardableResult
    func callAsFunction(_ line: String, stdin: String? = nil) throws -> ProcessOutcome {
        try run(line.split(separator: " ").map(String.init), stdin: stdin)
    }

    /// The analyst's disclosure policy of this store, from its secret: what a test computes
    /// expected perturbed figures with.
    func analystPolicy() throws -> DisclosurePolicy {
        let hex = try String(contentsOfFile: store + "/secret", encoding: .utf8).prefix(64)
        let digest = try #require(SHA256Digest(hex: hex))
        return .cellKey(RecordKeys(secret: digest.bytes))
    }

    /// The head of this store's log.
    func head() throws -> LogHead { try Store(root: store).events.readHead() }

    /// Parses a JSON document from stdout.
    static func json(_ outcome: ProcessOutcome) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))) as? [String: Any]
    }
}
