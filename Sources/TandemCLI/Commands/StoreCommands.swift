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
        let root = try GlobalOptions.storePath(command, context)
        let actor = try GlobalOptions.actor(command, context)
        let (store, created) = try Store.create(
            root: root, actor: actor, clock: context.clock, random: context.random,
            lockTimeout: try GlobalOptions.lockTimeout(context), warn: context.warn)
        let head = try store.events.readHead()
        let logID = try store.events.withExclusiveAccess { session -> String in
            var id = ""
            try session.forEachLine(from: 1, after: nil) { line in
                if line.seq == 1 { id = (try? line.entry().data["log"]?.stringValue) ?? "" }
            }
            return id
        }
        if GlobalOptions.format(command) == "json" {
            context.print(
                JSONValue.object([
                    "created": .bool(created), "store": .string(root), "log": .string(logID),
                    "seq": .int(Int64(head.seq)), "head": .string(head.hash.hex),
                ]).description)
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
                throw UsageError(
                    "The value '\(text)' is invalid for '--anchor <seq:hash>': expected SEQ:HASH, e.g. 42:\(String(repeating: "0", count: 8))… with 64 lowercase hex digits",
                    path: ["verify"])
            }
            anchors.append(LogHead(seq: seq, hash: hash))
        }
        let store = try Store(root: try GlobalOptions.storePath(command, context), warn: context.warn)
        let recordedEarlier = store.damageMarker.read()
        let vaultFile = Vault(store: store)
        // One pass over the log: while the chain is checked on every core, each piece's
        // commitments, erasures and older free text are read from the same lines. The vault is
        // checked against them once the chain is known good: a broken chain is what is reported.
        let commitments = LogCommitments()
        let report = try store.events.verify(anchors: anchors, scan: { commitments.pieces($0) })
        if let torn = report.tornTail { context.warn("\(store.events.path): \(torn)") }
        let vault: VaultReport
        do {
            vault = try VaultVerifier.verify(commitments, log: store.events.verifyingReader, vault: vaultFile)
        } catch let damage as VaultDamage {
            store.damageMarker.record(LogDamage(seq: 0, offset: 0, reason: damage.problem), file: vaultFile.path)
            throw damage
        }
        if let torn = try vaultFile.tornTail() {
            context.warn(
                "\(vaultFile.path): a torn tail of \(torn.count) bytes (byte offset \(torn.lowerBound)), a personal-data line cut short by a crash; no event points to it, and the next write moves it to quarantine/"
            )
        }
        if !vault.freeTextInLog.isEmpty {
            let listed =
                vault.freeTextInLog.prefix(20).map(String.init).joined(separator: ", ")
                + (vault.freeTextInLog.count > 20 ? ", …" : "")
            context.warn(
                "\(vault.freeTextInLog.count) event(s) written by an older version hold free text in the log itself (an override or void reason, an on-behalf-of name), which `tandem forget` cannot remove: seq \(listed)"
            )
        }
        if vault.orphans > 0 {
            context.warn(
                "\(vault.orphans) vault line(s) are referenced by no event (left by an interrupted write); the next `tandem forget` removes them"
            )
        }
        var access: VerificationReport? = nil
        if FileSystem.kind(of: store.access.path).exists {
            access = try store.access.verify()
            if let torn = access?.tornTail { context.warn("\(store.access.path): \(torn)") }
        }
        // Everything verified: damage recorded earlier was mended by a restore.
        if let recordedEarlier {
            try store.damageMarker.clear()
            context.warn(
                "the damage recorded earlier (\(recordedEarlier)) is no longer there: the store verifies again, so reads and writes are allowed"
            )
        }
        let problems = store.permissionProblems()
        if !problems.isEmpty {
            throw CommandFailure(
                "the chain is intact (\(report.events) events, head seq \(report.head.seq)), but the store is readable by others: "
                    + problems.joined(separator: "; "))
        }
        if GlobalOptions.format(command) == "json" {
            context.print(
                JSONValue.object([
                    "ok": .bool(true), "events": .int(Int64(report.events)), "seq": .int(Int64(report.head.seq)),
                    "head": .string(report.head.hash.hex), "log": .string(report.logID),
                    "anchors": .int(Int64(anchors.count)),
                    "tornTail": report.tornTail.map {
                        .object(["offset": .int(Int64($0.offset)), "length": .int(Int64($0.length))])
                    } ?? .null,
                    "vault": .object([
                        "records": .int(Int64(vault.records)), "erased": .int(Int64(vault.erased)),
                        "orphans": .int(Int64(vault.orphans)),
                        "freeTextInLog": .array(vault.freeTextInLog.map { .int(Int64($0)) }),
                    ]),
                    "access": access.map {
                        .object(["events": .int(Int64($0.events)), "head": .string($0.head.hash.hex)])
                    } ?? .null,
                ]).description)
        } else {
            context.print("ok: \(report.events) events, head seq \(report.head.seq) hash \(report.head.hash.hex)")
            if !anchors.isEmpty { context.print("anchors: \(anchors.count) still in the chain") }
            context.print("vault: \(vault.records) records match their commitments, \(vault.erased) erased")
            if let access {
                context.print(
                    "access ledger: \(access.events) entries, head seq \(access.head.seq) hash \(access.head.hash.hex)")
            }
        }
        return ExitCode.ok
    }

    static let recover = CommandSpec(
        name: "recover",
        abstract: "Accept the loss of damaged or missing events, explicitly and on the record.",
        discussion: """
            For a store that `tandem verify` reports damaged and that cannot be restored from a
            backup. Under the writer lock it keeps the longest prefix of the log whose every line
            verifies, moves everything after it to quarantine/ byte for byte, makes that prefix's
            head the acknowledged head (the only way it ever moves backwards), and appends a
            LogRecovered event naming the previous acknowledged head, the first damaged seq and
            the bytes cut. The reason goes to the vault like every free text. `tandem audit`
            shows the recovery. The access ledger is recovered the same way (--log access).
            Prefer a restore: recovery gives up whatever follows the first bad line.
            """,
        options: [
            .flag("accept-loss", "Required: say that events may be given up."),
            .value("reason", "text", "Why the loss is accepted (kept in the vault).", required: true),
            .value("log", "log", "Which log to recover (default events).", allowed: ["events", "access"]),
            .value("format", "format", "Output format.", allowed: ["table", "json"]),
        ],
        globals: GlobalOptions.base
    ) { command, context in
        try Session.requireRecorder(command, context)
        guard command.has("accept-loss") else {
            throw UsageError(
                "recovery gives up every event after the first damaged line; say so with --accept-loss, or restore the store from a backup instead",
                path: command.path)
        }
        let reason = command.value("reason") ?? ""
        do throws(DomainError) { try Field.text("reason", reason, maximum: 2000) } catch {
            throw UsageError(ErrorReport.words(error), path: command.path)
        }
        let actor = try GlobalOptions.actor(command, context)
        let store = try Session.store(command, context)
        let log = command.value("log") == "access" ? store.access : store.events
        // The reason is free text: sealed in the vault, referenced from the log.
        let sealed = SealedRecord(.reason(reason.trimmed), random: context.random)
        let vault = Vault(store: store)
        var vaultSize: Int?
        func recoverLocked() throws -> LogRecovery {
            do {
                return try log.recover(actor: actor, at: context.clock.now()) {
                    try vault.quarantineTornTail(into: store.quarantineDirectory, stamp: "recovery")
                    vaultSize = try vault.append([sealed])
                    return ["personal": sealed.reference.json]
                }
            } catch {
                if let vaultSize { try? vault.truncate(to: vaultSize) }
                throw error
            }
        }
        // Vault lines are written under the programme log's lock, whichever log is recovered.
        let recovery =
            log === store.events ? try recoverLocked() : try store.events.withWriterLock { try recoverLocked() }
        ProgrammeService.dropCaches(store)
        let cut = recovery.cut.count
        if GlobalOptions.format(command) == "json" {
            context.print(
                JSONValue.object([
                    "log": .string(log.path), "keptSeq": .int(Int64(recovery.kept.seq)),
                    "keptHash": .string(recovery.kept.hash.hex),
                    "previousSeq": recovery.previous.map { .int(Int64($0.seq)) } ?? .null,
                    "damagedSeq": recovery.damage.map { .int(Int64($0.seq)) } ?? .null,
                    "cutBytes": .int(Int64(cut)), "quarantined": recovery.quarantined.map { .string($0) } ?? .null,
                    "seq": .int(Int64(recovery.recorded.seq)), "head": .string(recovery.recorded.hash.hex),
                ]).description)
        } else {
            let previous = recovery.previous.map { "seq \($0.seq)" } ?? "none recorded"
            context.print(
                "recovered \(log.path): kept seq 1…\(recovery.kept.seq); the acknowledged head was \(previous)")
            if let damage = recovery.damage { context.print("first damage: \(damage)") }
            if let quarantined = recovery.quarantined {
                context.print("moved \(cut) bytes after seq \(recovery.kept.seq) to \(quarantined)")
            }
            context.print(
                "recorded LogRecovered as seq \(recovery.recorded.seq) (hash \(recovery.recorded.hash.hex)); run `tandem verify` next"
            )
        }
        return ExitCode.ok
    }
}
