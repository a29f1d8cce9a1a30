import EventLog
import Mentoring

/// The access ledger: `access.jsonl`, a second hash-chained log in the same format, with one
/// line per query attempt, refused and failed ones included: who ran which report, in which
/// role, with which filters (ids and dimension names; a value that describes people only as
/// its keyed hash), on which basis, with which outcome, how many cells were suppressed, and
/// whether confidential content was read. A participant is named by their participant id,
/// never by a login.
public struct AccessLedger: Sendable {
    public let log: FileLog

    public init(store: Store) { log = store.access }

    /// One query run.
    public struct Run: Sendable, Equatable {
        public var command: String
        public var role: Viewer
        public var actor: String
        public var filters: JSONObject
        public var basisSeq: Int
        public var suppressed: Int
        public var confidentialRead: Bool
        /// `ok`, `refused:<code>` or `failed`.
        public var outcome: String

        public init(
            command: String, role: Viewer, actor: String, filters: JSONObject, basisSeq: Int, suppressed: Int,
            confidentialRead: Bool,
            outcome: String = "ok"
        ) {
            self.command = command
            self.role = role
            self.outcome = outcome
            // A participant acts as their participant id: a login next to a pseudonymous id
            // would join the two for anyone who reads the ledger.
            if case .participant = role { self.actor = role.description } else { self.actor = actor }
            self.filters = filters
            self.basisSeq = basisSeq
            self.suppressed = suppressed
            self.confidentialRead = confidentialRead
        }
    }

    /// Appends a run (one write, one fsync, under the ledger's own lock, so queries never
    /// wait for a programme writer).
    public func record(_ run: Run, at: Timestamp, random: some RandomSource) throws {
        if (FileSystem.size(of: log.path) ?? 0) == 0 {
            _ = try log.initialize(actor: run.actor, logID: LogCreation.randomLogID(using: random))
        }
        let data: JSONObject = [
            "command": .string(run.command), "role": .string(run.role.description), "filters": .object(run.filters),
            "basisSeq": run.basisSeq < 0 ? .null : .int(Int64(run.basisSeq)), "suppressed": .int(Int64(run.suppressed)),
            "confidentialRead": .bool(run.confidentialRead), "outcome": .string(run.outcome),
        ]
        try log.append([
            LogRecord(
                type: run.confidentialRead ? "ConfidentialRead" : "QueryRun", actor: run.actor, at: at, data: data)
        ])
    }

    /// `tandem access`: the ledger's entries (for coordinators and auditors).
    public static func list(_ log: FileLog, basis: Basis, since: BusinessDate?) throws -> QueryResult {
        try basis.role.permit(.access)
        var rows: [JSONValue] = []
        var table: [[String]] = []
        if FileSystem.kind(of: log.path).exists {
            try log.forEachLine { line in
                let entry = try line.entry()
                guard entry.type != "LogCreated" else { return }
                if let since, BusinessDate(entry.at) < since { return }
                let filters = entry.data["filters"]?.objectValue ?? JSONObject()
                rows.append(
                    .object([
                        "seq": .int(Int64(entry.seq)), "at": .string(entry.at.rfc3339), "actor": .string(entry.actor),
                        "role": entry.data["role"] ?? .null, "command": entry.data["command"] ?? .null,
                        "filters": .object(filters), "basisSeq": entry.data["basisSeq"] ?? .null,
                        "suppressed": entry.data["suppressed"] ?? .null,
                        "confidentialRead": entry.data["confidentialRead"] ?? .bool(false),
                        "outcome": entry.data["outcome"] ?? .string("ok"),
                    ]))
                table.append([
                    String(entry.seq), entry.at.rfc3339.replacingT(), entry.actor,
                    entry.data["role"]?.stringValue ?? "",
                    entry.data["command"]?.stringValue ?? "", entry.data["outcome"]?.stringValue ?? "ok",
                    filters.members.map { "\($0.key)=\($0.value.stringValue ?? $0.value.description)" }.joined(
                        separator: " "),
                    (entry.data["confidentialRead"]?.boolValue ?? false) ? "confidential read" : "",
                ])
            }
        }
        var result = QueryResult(
            basis: basis, payloadKey: "access", payload: .array(rows),
            table: TextTable(
                headers: ["seq", "at", "actor", "role", "command", "outcome", "filters", ""], rows: table, numeric: [0])
        )
        result.csvColumns = [
            "seq", "at", "actor", "role", "command", "outcome", "filters", "basisSeq", "suppressed", "confidentialRead",
        ]
        return result
    }
}
