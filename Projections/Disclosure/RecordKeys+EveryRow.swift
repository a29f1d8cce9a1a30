import EventLog
import Mentoring

extension RecordKeys {
    /// How many entries a pass may look at, per row, beyond the one where each id is
    /// expected (past them, a key not where expected is made).
    static let searchBudgetPerRow = 16

    /// The record key of every id in `ids` (all the rows of a model's people or tandems, in
    /// row order), read from the record-key file in `cacheDirectory` where its fingerprint
    /// finds the id, made (an HMAC, on every core) where not. The file is written again when
    /// it is missing, damaged, made under another secret, or when a model with at least as
    /// many rows missed many of its entries; failing to write it only costs the next query
    /// the same work.
    ///
    /// A model's rows are the file's, or a subsequence of them (a window leaves out who
    /// joined after it, at the end or, for an import dated later, in a block), with rows the
    /// file lacks among them: each id is looked for where the previous one was found, then
    /// further on. A gap costs one search as long as it; an id the file lacks, a search to
    /// its end; all searches together at most `searchBudgetPerRow` looks a row.
    /// Fingerprints are made a block of rows at a time, and the file read a window at a
    /// time: held whole, they were 26 MB more at the peak of an analyst's `activity` on the
    /// 10M store.
    /// - Returns: the keys, and how many were made rather than read.
    /// - Complexity: O(n) fingerprints and look-ups with a file that fits, plus an HMAC per
    ///   id not found.
    func everyKey(_ kind: Kind, _ ids: some ContributorIDs, cacheDirectory: String?) -> (keys: [CellKey], made: Int) {
        let n = ids.count
        var out = [CellKey](repeating: .empty, count: n)
        guard n > 0 else { return (out, 0) }
        let path = cacheDirectory.map { $0 + "/" + RecordKeyFile.name(kind) }
        guard let path, let file = RecordKeyFile.open(path, kind: kind, keys: self) else {
            // `try!`: the fill cannot throw.
            try! fillInParts(&out, parts: LogVerifier.processorCount * 4) { range, buffer in
                fill(kind, ids, range, into: buffer)
            }
            if let path { writeFile(path, kind, ids, out) }
            return (out, n)
        }
        var missing: [Int32] = []
        var next = 0
        var budget = Self.searchBudgetPerRow * n
        var start = 0
        while start < n {
            // The fingerprints of a block of rows on every core, then looked for in order.
            let rows = start..<min(n, start + Self.rowsAtOnce)
            let wanted = fingerprints(ids, rows)
            for (offset, fingerprint) in wanted.enumerated() {
                let row = rows.lowerBound + offset
                if next < file.count, case let entry = file.entry(next), entry.fingerprint == fingerprint {
                    out[row] = CellKey(entry.key)
                    next += 1
                    continue
                }
                var found = false
                if budget > 0, next < file.count {
                    let limit = min(file.count, next + 1 + budget)
                    var at = next + 1
                    while at < limit {
                        let entry = file.entry(at)
                        if entry.fingerprint == fingerprint {
                            out[row] = CellKey(entry.key)
                            found = true
                            break
                        }
                        at += 1
                    }
                    budget -= at - next
                    if found { next = at + 1 }
                }
                if !found { missing.append(Int32(row)) }
            }
            file.release(before: next)
            start = rows.upperBound
        }
        if !missing.isEmpty {
            var made = [CellKey](repeating: .empty, count: missing.count)
            let wanted = MissingIDs(ids: ids, rows: missing)
            try! fillInParts(&made, parts: LogVerifier.processorCount * 4) { range, buffer in
                fill(kind, wanted, range, into: buffer)
            }
            for (position, row) in missing.enumerated() { out[Int(row)] = made[position] }
        }
        if missing.count >= max(Self.rowsAtOnce, n / 32), n >= file.count { writeFile(path, kind, ids, out) }
        return (out, missing.count)
    }

    /// How many rows' fingerprints are made at a time.
    static let rowsAtOnce = 1 << 16

    /// The fingerprints of the ids at `rows`, made on every core.
    private func fingerprints(_ ids: some ContributorIDs, _ rows: Range<Int>) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: rows.count)
        // `try!`: the fill cannot throw.
        try! fillInParts(&out, parts: LogVerifier.processorCount) { range, buffer in
            for position in range { buffer[position] = fingerprint.hash(ids.id(at: rows.lowerBound + position)) }
        }
        return out
    }

    /// Writes the record-key file of `ids` and their `keys`, if `cache/` is there; a failure
    /// only costs the next query the same work.
    private func writeFile(_ path: String, _ kind: Kind, _ ids: some ContributorIDs, _ keys: [CellKey]) {
        guard FileSystem.kind(of: FileSystem.parentDirectory(of: path)).isDirectory else { return }
        try? RecordKeyFile.write(path, kind: kind, keys: self, count: keys.count) { rows in
            zip(fingerprints(ids, rows), keys[rows]).map { ($0, $1.value) }
        }
    }
}

/// The ids of some rows of another source, by position.
private struct MissingIDs<Source: ContributorIDs>: ContributorIDs {
    let ids: Source
    let rows: [Int32]
    var count: Int { rows.count }
    func id(at position: Int) -> String { ids.id(at: Int(rows[position])) }
}

/// Where an analyst's queries keep every row's record key (`RecordKeyFile`, in `cache/`):
/// the keys of many rows of the model are read from there (`RecordKeys.everyKey`).
///
/// Not kept in memory between figures: a second pass over the file (an analyst's `dropouts`
/// takes everyone's keys twice) costs less than holding every key for the whole query.
package struct RecordKeyFiles: Sendable {
    /// The store's `cache/` directory.
    let directory: String

    /// The files' names in `cache/`: every person's key, and every tandem's.
    package static let participants = RecordKeyFile.name(.participant)
    package static let tandems = RecordKeyFile.name(.tandem)

    package init(directory: String) { self.directory = directory }

    /// The keys of every row in `every`, in row order.
    func every(_ kind: RecordKeys.Kind, _ every: some ContributorIDs, keys: RecordKeys) -> [CellKey] {
        keys.everyKey(kind, every, cacheDirectory: directory).keys
    }
}
