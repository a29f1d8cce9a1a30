import EventLog
import Mentoring

/// Read-model checkpoints for time travel: `cache/checkpoint-<seq>.snapshot`, each the
/// projections snapshot of the log's first `seq` lines (the same layout, checked against
/// the log the same way).
///
/// A checkpoint is a state of the log's prefix, so it serves every window that admits that
/// whole prefix: an `--as-of` day no earlier than any business day in it, a `--known-at`
/// no earlier than its last line, and no void in the window after it that removes an event
/// inside it. The `Timeline` says which windows those are without reading the log.
enum Checkpoints {
    static let prefix = "checkpoint-"
    static let suffix = ".snapshot"

    /// The checkpoint file of the prefix up to `seq`.
    static func file(_ store: Store, seq: Int) -> SnapshotFile {
        SnapshotFile(path: store.cacheDirectory + "/" + prefix + String(seq) + suffix)
    }

    /// The seqs of the checkpoints on disk, ascending.
    static func seqs(in store: Store) -> [Int] {
        let names = (try? FileSystem.contents(of: store.cacheDirectory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            return Int(name.dropFirst(prefix.count).dropLast(suffix.count))
        }.sorted()
    }

    /// At most this many checkpoints are kept: a grid point each (`spacing` puts at most
    /// about 64 along the log).
    static let most = 64

    /// At least this many are kept, whatever their size.
    static let least = 8

    /// How many bytes of checkpoints are kept beyond `least`: twice as many as the log has.
    /// Each is a whole read model (about 20 MB on the 1M store, 185 MB on the 10M one, whose
    /// log is 5.2 GB), so every grid point fits (45 of them, 8.3 GB, on the 10M store) and a
    /// question about any date folds at most one spacing after its checkpoint. With a fixed 8,
    /// an auditor going through the months saved a checkpoint on nearly every question, each
    /// evicting one the next question needed (3–14 s instead of about 1 s on the 10M store).
    static func budget(_ store: Store) -> Int {
        2 * (FileSystem.size(of: store.events.path) ?? 0)
    }

    /// Removes checkpoints beyond `most`, and beyond `least` while together they are larger
    /// than `budget` bytes, thinning where they are densest: each time the one nearest its
    /// predecessor goes, so that those left stay spread along the log. `keep` is never
    /// removed (the one just saved).
    static func thin(_ store: Store, keep: Int, budget: Int) {
        var seqs = self.seqs(in: store)
        var sizes = seqs.map { FileSystem.size(of: file(store, seq: $0).path) ?? 0 }
        var total = sizes.reduce(0, +)
        while seqs.count > most || (seqs.count > least && total > budget) {
            var nearest: (index: Int, gap: Int)?
            for i in 1..<seqs.count where seqs[i] != keep {
                let gap = seqs[i] - seqs[i - 1]
                if nearest == nil || gap < nearest!.gap { nearest = (i, gap) }
            }
            guard let (index, _) = nearest else { return }
            try? FileSystem.remove(file(store, seq: seqs[index]).path)
            seqs.remove(at: index)
            total -= sizes.remove(at: index)
        }
    }

    /// Up to how many grid points a question saves on its way: the last ones of the stretch
    /// it folds. With one, a fold across a month saved only the grid point nearest its date
    /// (the 10M store has about four a month), and the next questions about that month
    /// folded from a quarter of a million lines further back: 1.1–1.4 s, not under 1 s.
    /// More than four would make one question pay for many: asked first about a late date,
    /// a fold from the log's start would write dozens of 185 MB models.
    static let savedPerQuestion = 4

    /// Where checkpoints are saved: every multiple of this seq. At least 65,536 lines apart
    /// and 32 to 64 along the log, so that a query folds at most a thirty-second of the log
    /// after its checkpoint (plus what was recorded late), and the cache holds a bounded
    /// number of models. On the 10M store a sixty-fourth (262,144 lines) keeps the slowest
    /// date under a second: with twice that, the day before a grid point folded half a
    /// million lines (0.3 s more, 1.1 s in all).
    static func spacing(head: Int) -> Int {
        var spacing = 1 << 16
        while spacing * 64 < head { spacing <<= 1 }
        return spacing
    }
}

extension QueryService {
    /// Answers a window (`--as-of`, `--known-at`) from the nearest checkpoint the window
    /// admits, folding only the lines after it that the window may admit, and saves a
    /// checkpoint on the way when the window admits the prefix up to a grid point not
    /// saved yet. Nil when the timeline cannot serve (none yet, an empty log, a `--known-at`
    /// beyond the head): the caller replays, building the timeline on the way.
    ///
    /// Bitemporal care: an event recorded late about an early day sits after the checkpoint
    /// in the log but inside the window; the timeline lists every line after the checkpoint
    /// that the window may admit, so it is read and folded like any other. A checkpoint is
    /// only used when every line before it is admitted, so nothing in it is outside the
    /// window; a void in the window that removes an event inside a checkpoint rules that
    /// checkpoint out.
    ///
    /// A query `confinedTo` some tandems or people (`sessions --tandem T`, a participant's
    /// own view) reads only their slice of the checkpoint and folds the lines after it into
    /// the slice; a line that reaches outside the slice makes the whole model answer.
    /// - Throws: `LogError` and `EventDecodingError` from reading the log; `SystemError`
    ///   from reading the vault.
    func timeTravel(
        _ window: ReplayWindow, confinedTo confinement: Confinement? = nil, basis: (LogHead) -> Basis
    ) throws -> QueryInput? {
        let head = try store.events.readHead()
        if let limit = window.knownAt, limit > head.seq { return nil }
        let limit = window.knownAt ?? head.seq
        guard limit >= 1 else { return nil }
        let vault = Vault(store: store)
        let vaultSize = vault.size
        // Everything the timeline tells is taken from it first, and it is let go before the
        // checkpoint's model is read (4 bytes a line: 47 MB on the 10M store).
        guard let plan = try plan(window, head: head, limit: limit, vaultSize: vaultSize) else { return nil }
        let voided = plan.voided, runs = plan.runs
        var saves = plan.saves[...]

        // Traits by ref from the index (built on first need, for this query and the next);
        // without one (a read-only cache), from the vault.
        var index: TraitsIndex?
        var indexTried = false
        func fillTraits(_ model: inout ProgrammeReadModel) throws {
            let missing = model.peopleRows.withoutTraits
            guard missing > 0 else { return }
            if !indexTried {
                indexTried = true
                index = try? TraitsIndex.load(store, vault: vault)
            }
            // A lookup is a binary search; for many people one pass over the vault is cheaper.
            if index != nil, missing <= max(Self.lookupsBeforeVaultPass, vaultSize / 2048) {
                do {
                    try model.peopleRows.fillTraits { try index!.traits($0) }
                    return
                } catch is SnapshotError {
                    // A damaged record: the vault answers (for the rest), and the index is
                    // built again next time.
                    index = nil
                    try? FileSystem.remove(TraitsIndex.file(store).path)
                }
            }
            try model.peopleRows.fillTraits(from: vault)
        }
        let from = plan.checkpoint?.header.head.seq ?? 0
        if let confinement, let checkpoint = plan.checkpoint,
            let slice = try? ProjectionSnapshot.slice(
                checkpoint.file, header: checkpoint.header, confinement: confinement)
        {
            // No checkpoint is saved from a slice: the next whole fold of this stretch saves it.
            let fold = try Replay.fold(
                store.events, resumingFrom: SliceFold(slice: slice), runs: runs, window: window, voided: voided)
            if !fold.outgrown {
                var model = fold.slice.model
                try fillTraits(&model)
                var input = QueryInput(model: model, basis: basis(plan.basisHead), vault: vault)
                input.resumedFrom = from
                input.sliced = true
                return input
            }
        }
        var base = ProgrammeReadModel()
        if let checkpoint = plan.checkpoint {
            guard let (model, _) = try? ProjectionSnapshot.model(checkpoint.file, header: checkpoint.header) else {
                // Damaged: it never fits again, and the next one (or none) answers.
                try? FileSystem.remove(checkpoint.file.path)
                return try timeTravel(window, confinedTo: confinement, basis: basis)
            }
            base = consume model
        }
        var model = try Replay.fold(
            store.events, resumingFrom: consume base, runs: runs, window: window,
            voided: voided
        ) { seq, fold in
            // Every grid point up to the admitted prefix is among the lines read.
            guard let point = saves.first, seq == point.seq else { return }
            saves.removeFirst()
            try fillTraits(&fold)
            _ = try? ProjectionSnapshot.write(
                fold, voided: voided.filter { $0.value <= point.seq }, head: point.head, logEnd: point.end,
                vaultSize: vaultSize, to: Checkpoints.file(store, seq: point.seq), withFigures: false)
            Checkpoints.thin(store, keep: point.seq, budget: checkpointBudget ?? Checkpoints.budget(store))
        }
        try fillTraits(&model)
        var input = QueryInput(model: model, basis: basis(plan.basisHead), vault: vault)
        input.resumedFrom = from
        return input
    }

    /// What a window needs from the timeline: the voids it sees, the checkpoint to start
    /// from (its header checked against the log, its model not read yet), the lines after
    /// it the window may admit, the grid points to save on the way (ascending), and the head
    /// of the basis.
    struct WindowPlan {
        var voided: [Int: Int]
        var checkpoint: (file: SnapshotFile, header: SnapshotFile.Header)?
        var runs: [ClosedRange<Int>]
        var saves: [(seq: Int, head: LogHead, end: Int)]
        var basisHead: LogHead
    }

    /// The plan of a window; nil when the timeline cannot serve (none yet, or shorter than
    /// `limit`).
    func plan(_ window: ReplayWindow, head: LogHead, limit: Int, vaultSize: Int) throws -> WindowPlan? {
        guard let timeline = try timelines.timeline(store, head: head), timeline.count >= limit else { return nil }

        // The voids the window sees, known before folding.
        var voided: [Int: Int] = [:]
        for void in timeline.voids where void.seq <= limit {
            if let cutoff = window.recordedBy, let at = void.at, at > cutoff { continue }
            voided[void.target] = void.seq
        }
        /// Whether the fold of the first `seq` lines with the window's voids is the prefix's
        /// own state: no void after `seq` removes an event up to it.
        func isPrefixState(_ seq: Int) -> Bool {
            !voided.contains { target, by in by > seq && target <= seq }
        }
        // The window admits the log line by line up to `admitted`.
        let admitted = timeline.firstNotAdmitted(from: 1, through: limit, window) - 1

        var checkpoint: (file: SnapshotFile, header: SnapshotFile.Header)?
        for seq in Checkpoints.seqs(in: store).reversed() where seq <= admitted && isPrefixState(seq) {
            let file = Checkpoints.file(store, seq: seq)
            if let header = try? ProjectionSnapshot.header(file), header.head.seq == seq,
                (try? SnapshotFile.check(header, against: store.events, head: head, vaultSize: vaultSize)) != nil
            {
                checkpoint = (file, header)
                break
            }
            try? FileSystem.remove(file.path)  // it does not fit the log: it never will
        }
        let from = checkpoint?.header.head.seq ?? 0

        // Checkpoints to save on the way: the last grid points of the admitted prefix after
        // the one folded from (any saved one there would have been chosen, unless a void
        // rules it out, and then it rules out saving it too).
        let spacing = checkpointSpacing ?? Checkpoints.spacing(head: head.seq)
        var saves: [(seq: Int, head: LogHead, end: Int)] = []
        var grid = admitted / spacing * spacing
        while grid > from, saves.count < Checkpoints.savedPerQuestion {
            if isPrefixState(grid), let found = try? Self.line(grid, in: store.events) {
                saves.append((grid, found.head, found.end))
            }
            grid -= spacing
        }
        saves.reverse()

        // The lines after the checkpoint the window may admit.
        let runs = timeline.runsNotLeftOut(from: from + 1, through: limit, window)
        return WindowPlan(
            voided: voided, checkpoint: checkpoint, runs: runs, saves: saves,
            basisHead: try basisHead(timeline, limit: limit, window: window))
    }

    /// Up to how many people's traits are looked up in the traits index, at least; more are
    /// read in one pass over the vault. A lookup costs about what a pass spends on 500 bytes
    /// of vault, so up to one person per 2 KB of vault is looked up (measured on the 1M
    /// store: 130,000 lookups cost twice the pass over its 137 MB). Asked in ref order they
    /// cost less (166,000 in 0.17 s on the 10M store), so the bound errs towards the pass.
    static let lookupsBeforeVaultPass = 20_000

    /// The head a replay of the window reports: its last line, or for `--known-at DATE` the
    /// last line recorded by then.
    func basisHead(_ timeline: Timeline, limit: Int, window: ReplayWindow) throws -> LogHead {
        var seq = limit
        if let cutoff = window.recordedBy {
            var recordedWindow = ReplayWindow()
            recordedWindow.recordedBy = cutoff
            // Worked out once: the walk back from the head passes millions of lines for a
            // cut-off months ago.
            let judge = Timeline.Judge(recordedWindow)
            while seq >= 1 {
                let admission = timeline.admission(seq, judge)
                if admission == .admitted { break }
                if admission == .unsure {
                    var after = false
                    try store.events.forEachLine(at: [seq]) { after = Replay.recordedAfter($0, cutoff) }
                    if !after { break }
                }
                seq -= 1
            }
        }
        guard seq >= 1 else { return .empty }
        return try Self.line(seq, in: store.events).head
    }

    /// The head a line makes and the byte after it.
    static func line(_ seq: Int, in log: any LineSource) throws -> (head: LogHead, end: Int) {
        var found: (LogHead, Int)?
        try log.forEachLine(at: [seq]) { line in
            found = (LogHead(seq: line.seq, hash: line.hash), line.offset + line.bytes.count + 1)
        }
        guard let found else { throw LogError.seqOutOfRange(requested: seq, head: 0) }
        return found
    }
}
