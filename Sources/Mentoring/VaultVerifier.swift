import EventLog

/// A vault that does not match the log: a line that is not what its event committed to,
/// personal data missing without an erasure, or erased data still present. Reported like
/// log damage (exit 65).
public struct VaultDamage: Error, Equatable, Sendable, CustomStringConvertible {
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    public var description: String { "vault.jsonl does not match the log: \(problem). Run `tandem verify` after restoring the store from a backup" }
}

/// What the vault check found.
public struct VaultReport: Equatable, Sendable {
    /// Vault lines that match the commitment of the event that introduced them.
    public var records = 0
    /// References whose lines were erased, as `PersonalDataErased` events record.
    public var erased = 0
    /// Lines no event points to: left by a write that was interrupted before its events
    /// were appended. Harmless, and removed by the next `tandem forget`.
    public var orphans = 0

    public init(records: Int = 0, erased: Int = 0, orphans: Int = 0) {
        self.records = records
        self.erased = erased
        self.orphans = orphans
    }
}

/// Checks the vault against the commitments in the log.
public enum VaultVerifier {
    /// - Throws: `VaultDamage` naming the first problem; `LogError`/`EventDecodingError` if
    ///   the log itself cannot be read.
    public static func verify(log: any LineSource, vault: Vault) throws -> VaultReport {
        var committed: [String: (seq: Int, commit: SHA256Digest)] = [:]
        var erased = Set<String>()
        try log.forEachLine(from: 1, after: nil) { line in
            let event = try EventDecoder.decode(line).event
            for reference in event.personalReferences { committed[reference.ref] = (line.seq, reference.commit) }
            if case .personalDataErased(let e) = event { erased.formUnion(e.refs) }
        }
        var report = VaultReport()
        var present = Set<String>()
        try vault.forEachLine { line in
            present.insert(line.ref)
            guard let expected = committed[line.ref] else { report.orphans += 1; return }
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
                throw VaultDamage("the personal data of seq \(origin.seq) (ref \(ref)) is missing and no PersonalDataErased covers it (if a `tandem forget` was interrupted, run it again)")
            }
            report.erased += 1
        }
        return report
    }
}
