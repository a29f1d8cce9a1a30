import EventLog
import Mentoring

/// `tandem init` and `tandem verify`.
enum StoreCommands {
    static let initialize = CommandSpec(
        name: "init",
        abstract: "Create a store (idempotent on an existing store).",
        discussion: """
        Creates the store directory with mode 0700, its log with a LogCreated line, and
        the access ledger. On an existing store it changes nothing and says so. A path
        that is a file, or a non-empty directory that is not a store, is refused.
        """,
        options: [.value("format", "format", "Output format.", allowed: ["table", "json"])],
        globals: GlobalOptions.base
    ) { command, context in
        let root = GlobalOptions.storePath(command, context)
        let actor = try GlobalOptions.actor(command, context)
        let (store, created) = try Store.create(root: root, actor: actor, clock: context.clock, random: context.random,
                                                lockTimeout: GlobalOptions.lockTimeout(context), warn: context.warn)
        let head = try store.events.readHead()
        let logID = try store.events.withExclusiveAccess { session -> String in
            var id = ""
            try session.forEachLine(from: 1, after: nil) { line in
                if line.seq == 1 { id = (try? line.entry().data["log"]?.stringValue) ?? "" }
            }
            return id
        }
        if GlobalOptions.format(command) == "json" {
            context.print(JSONValue.object(["created": .bool(created), "store": .string(root), "log": .string(logID),
                                            "seq": .int(Int64(head.seq)), "head": .string(head.hash.hex)]).description)
        } else if created {
            context.print("created store \(root) (log \(logID))")
        } else {
            context.print("store \(root) already exists (log \(logID), head seq \(head.seq)); nothing changed")
        }
        return ExitCode.ok
    }

    static let verify = CommandSpec(
        name: "verify",
        abstract: "Check every line of the store's logs, and published anchors.",
        discussion: """
        Recomputes every hash of events.jsonl and checks that seqs are contiguous and every
        prev links to the line before. It names the first bad line's seq and byte offset
        (exit 65). Each --anchor SEQ:HASH, a head printed by an earlier verify, must still
        be in the chain: this catches a rewritten or truncated log.
        """,
        options: [
            .value("anchor", "seq:hash", "A head published earlier that must still be in the chain.", repeatable: true),
            .value("format", "format", "Output format.", allowed: ["table", "json"]),
        ],
        globals: GlobalOptions.base
    ) { command, context in
        var anchors: [LogHead] = []
        for text in command.values("anchor") {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let seq = Int(parts[0]), seq >= 1, let hash = SHA256Digest(hex: parts[1]) else {
                throw UsageError("The value '\(text)' is invalid for '--anchor <seq:hash>': expected SEQ:HASH, e.g. 42:\(String(repeating: "0", count: 8))… with 64 lowercase hex digits", path: ["verify"])
            }
            anchors.append(LogHead(seq: seq, hash: hash))
        }
        let store = try Store(root: GlobalOptions.storePath(command, context), warn: context.warn)
        let recordedEarlier = store.damageMarker.read()
        let report = try store.events.verify(anchors: anchors)
        if let torn = report.tornTail { context.warn("\(store.events.path): \(torn)") }
        let vaultFile = Vault(store: store)
        let vault: VaultReport
        do { vault = try VaultVerifier.verify(log: store.events.verifyingReader, vault: vaultFile) } catch let damage as VaultDamage {
            store.damageMarker.record(LogDamage(seq: 0, offset: 0, reason: damage.problem), file: vaultFile.path)
            throw damage
        }
        if let torn = try vaultFile.tornTail() {
            context.warn("\(vaultFile.path): a torn tail of \(torn.count) bytes (byte offset \(torn.lowerBound)), a personal-data line cut short by a crash; no event points to it, and the next write moves it to quarantine/")
        }
        if vault.orphans > 0 {
            context.warn("\(vault.orphans) vault line(s) are referenced by no event (left by an interrupted write); the next `tandem forget` removes them")
        }
        var access: VerificationReport? = nil
        if FileSystem.kind(of: store.access.path).exists {
            access = try store.access.verify()
            if let torn = access?.tornTail { context.warn("\(store.access.path): \(torn)") }
        }
        // Everything verified: damage recorded earlier was mended by a restore.
        if let recordedEarlier {
            try store.damageMarker.clear()
            context.warn("the damage recorded earlier (\(recordedEarlier)) is no longer there: the store verifies again, so reads and writes are allowed")
        }
        let problems = store.permissionProblems()
        if !problems.isEmpty {
            throw CommandFailure("the chain is intact (\(report.events) events, head seq \(report.head.seq)), but the store is readable by others: " + problems.joined(separator: "; "))
        }
        if GlobalOptions.format(command) == "json" {
            context.print(JSONValue.object([
                "ok": .bool(true), "events": .int(Int64(report.events)), "seq": .int(Int64(report.head.seq)),
                "head": .string(report.head.hash.hex), "log": .string(report.logID),
                "anchors": .int(Int64(anchors.count)),
                "tornTail": report.tornTail.map { .object(["offset": .int(Int64($0.offset)), "length": .int(Int64($0.length))]) } ?? .null,
                "vault": .object(["records": .int(Int64(vault.records)), "erased": .int(Int64(vault.erased)), "orphans": .int(Int64(vault.orphans))]),
                "access": access.map { .object(["events": .int(Int64($0.events)), "head": .string($0.head.hash.hex)]) } ?? .null,
            ]).description)
        } else {
            context.print("ok: \(report.events) events, head seq \(report.head.seq) hash \(report.head.hash.hex)")
            if !anchors.isEmpty { context.print("anchors: \(anchors.count) still in the chain") }
            context.print("vault: \(vault.records) records match their commitments, \(vault.erased) erased")
            if let access { context.print("access ledger: \(access.events) entries, head seq \(access.head.seq) hash \(access.head.hash.hex)") }
        }
        return ExitCode.ok
    }
}
