import Dispatch
import EventLog
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A vault that does not match the log: a line that is not what its event committed to,
/// personal data missing without an erasure, or erased data still present. Reported like
/// log damage (exit 65).
public struct VaultDamage: Error, Equatable, Sendable, CustomStringConvertible {
    /// What does not match.
    public var problem: String
    public init(_ problem: String) { self.problem = problem }
    /// Whether the mismatch is what an interrupted erasure leaves (data missing that an
    /// erasure in progress was removing): running the erasure again completes it.
    public var mayBeInterruptedErasure = false
    public var description: String { "vault.jsonl does not match the log: \(problem)" }
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
    /// Events an older version wrote with free text in the log itself (an override or void
    /// reason, an on-behalf-of name), which no erasure can remove.
    public var freeTextInLog: [Int] = []

    public init(records: Int = 0, erased: Int = 0, orphans: Int = 0, freeTextInLog: [Int] = []) {
        self.records = records
        self.erased = erased
        self.orphans = orphans
        self.freeTextInLog = freeTextInLog
    }
}

/// Checks the vault against the commitments in the log.
public enum VaultVerifier {
    /// Reads the log once (decoded on a second thread) and the vault once.
    ///
    /// Memory is about 45 bytes per personal reference (a 10M-event log with 4M references
    /// needs some 200 MB): refs of the usual `r-` + 16 hex shape are kept as numbers, the
    /// commitments in one array, and the seq that introduced a ref is looked up again only
    /// to name it in an error.
    /// - Throws: `VaultDamage` naming the first problem; `LogError`/`EventDecodingError` if
    ///   the log itself cannot be read.
    public static func verify(log: any LineSource, vault: Vault) throws -> VaultReport {
        let commitments = LogCommitments()
        let scan = commitments.pieces(0..<1)[0]
        try log.forEachLine(from: 1, after: nil) { scan($0) }
        return try verify(commitments, log: log, vault: vault)
    }

    /// Checks the vault against commitments read from the log while it was verified
    /// (`LogCommitments.pieces` as the verifier's scanner): the log is not read again.
    /// - Throws: as `verify(log:vault:)`.
    public static func verify(_ scanned: LogCommitments, log: any LineSource, vault: Vault) throws -> VaultReport {
        let (commitments, erased, freeText) = try scanned.finish()
        var report = VaultReport(freeTextInLog: freeText)
        // Erasures by slot, so that a line found by its ref needs no string to be checked.
        var erasedSlot = [Bool](repeating: false, count: commitments.commits.count)
        for ref in erased { if let slot = commitments.index(of: ref) { erasedSlot[slot] = true } }
        var present = [Bool](repeating: false, count: commitments.commits.count)
        // Our own lines begin with their ref: one whose digest matches its commitment is
        // byte for byte what was written, so needs no parse. The workers find each line's
        // slot that way; here, in file order (the first problem named is the first in the
        // file), only what needs the order is done. Anything else is parsed in full, to tell
        // an orphan record from garbage.
        try vault.forEachJudgedLine(judge: { line, digest, previous -> Int32 in
            guard let ref = CommitmentScan.leadingRef(line),
                let slot = commitments.index(ofRef: ref, hint: previous.map { Int($0) + 1 } ?? -1),
                digest == commitments.commits[slot]
            else { return -1 }
            return Int32(slot)
        }) { line, offset, digest, verdict in
            let slot: Int
            if verdict >= 0 {
                slot = Int(verdict)
            } else {
                guard let ref = Vault.ref(of: line) else {
                    throw VaultDamage("the line at byte \(offset) is not a vault record (no JSON object with a ref)")
                }
                guard let found = commitments.index(of: ref) else {
                    report.orphans += 1
                    return
                }
                slot = found
            }
            if present[slot] {
                throw VaultDamage(
                    "ref \(commitments[ref: slot]) has a second line at byte \(offset); each record is written once")
            }
            present[slot] = true
            if erasedSlot[slot] {
                let ref = commitments[ref: slot]
                throw VaultDamage(
                    "ref \(ref) (seq \(try seq(introducing: ref, in: log))) was erased, yet its line is still in the vault"
                )
            }
            guard digest == commitments.commits[slot] else {
                let ref = commitments[ref: slot]
                throw VaultDamage(
                    "the line for ref \(ref) does not match the commitment of seq \(try seq(introducing: ref, in: log))"
                )
            }
            report.records += 1
        }
        // In log order, so that the first missing line is the one named.
        for (slot, isPresent) in present.enumerated() where !isPresent {
            guard erasedSlot[slot] else {
                let ref = commitments[ref: slot]
                var damage = VaultDamage(
                    "the personal data of seq \(try seq(introducing: ref, in: log)) (ref \(ref)) is missing and no PersonalDataErased covers it"
                )
                damage.mayBeInterruptedErasure = true
                throw damage
            }
            report.erased += 1
        }
        return report
    }

    /// The seq of the last event that committed to `ref` (an error message's detail: the log
    /// is read again).
    private static func seq(introducing ref: String, in log: any LineSource) throws -> Int {
        var found = 0
        let marker = Array("\"\(ref)\"".utf8)
        try log.forEachLine(from: 1, after: nil) { line in
            guard ByteSearch.contains(marker, in: line.bytes) else { return }
            if try EventDecoder.decode(line).personalReferences.contains(where: { $0.ref == ref }) { found = line.seq }
        }
        return found
    }
}

extension RecordedEvent {
    /// Whether the line itself holds free text (written before such text went to the vault).
    var holdsFreeText: Bool {
        if onBehalfOf != nil { return true }
        switch event {
        case .tandemMatched(let e): return e.override.map { $0 != waivedMarker } ?? false
        case .partnerSwapped(let e): return e.override.map { $0 != waivedMarker } ?? false
        case .eventVoided(let e): return e.reason != nil
        default: return false
        }
    }
}

/// The commitments, erasures and older free text of a log, read from its lines as the log
/// is verified: in pieces on the verifier's workers (`LogVerifier.PieceScanner`), folded in
/// log order, window by window. One pass over the log serves the chain and the vault.
public final class LogCommitments: @unchecked Sendable {
    /// What one piece of the log holds; written by one worker, read once it is done.
    final class Piece: @unchecked Sendable {
        var refs: [(packed: UInt64, other: String?, commit: SHA256Digest)] = []
        var erased: [String] = []
        var freeText: [Int] = []
        var failure: (any Error)?

        func scan(_ line: LogLine) {
            guard failure == nil else { return }
            do {
                // A reference always stands in the line as `{"ref":"…","commit":"…"}` (text in a
                // line is JSON-escaped, so those quotes cannot come from a value); only erasures
                // and lines that may hold older free text are decoded.
                // A verified line says where its parts stand: references are looked for in
                // `data` and the optional keys only, an on-behalf-of name in the latter, and
                // the type is read in place.
                let bytes = line.bytes
                let parts = line.parts
                let body = parts.map {
                    UnsafeRawBufferPointer(rebasing: bytes[$0.data.lowerBound..<$0.extras.upperBound])
                }
                let extras = parts.map { UnsafeRawBufferPointer(rebasing: bytes[$0.extras]) }
                try CommitmentScan.references(in: body ?? bytes) { ref, commit in
                    if let key = PackedRef.pack(bytes: ref) {
                        refs.append((key, nil, commit))
                    } else {
                        refs.append((0, String(decoding: ref, as: UTF8.self), commit))
                    }
                }
                // A plain-text on-behalf-of name is free text whatever the event.
                if ByteSearch.contains(CommitmentScan.plainBehalf, in: extras ?? bytes) {
                    freeText.append(line.seq)
                    return
                }
                let needsDecoding =
                    parts.map {
                        CommitmentScan.needsDecoding(
                            type: UnsafeRawBufferPointer(rebasing: bytes[$0.type]),
                            data: UnsafeRawBufferPointer(rebasing: bytes[$0.data]))
                    } ?? CommitmentScan.needsDecoding(bytes)
                guard needsDecoding else { return }
                let recorded = try EventDecoder.decode(line)
                if case .personalDataErased(let e) = recorded.event { erased += e.refs }
                if recorded.holdsFreeText { freeText.append(recorded.seq) }
            } catch {
                failure = error
            }
        }
    }

    private struct Folded {
        var next = 0
        var index = CommitmentIndex()
        var erased = Set<String>()
        var freeText: [Int] = []
        var failure: (any Error)?
    }

    /// Pieces handed out and not yet folded, by number.
    private let pending = Mutex<[Int: Piece]>([:])
    /// Touched only on `folding`.
    private var folded = Folded()
    /// Folds finished pieces while the workers verify the next window: on two cores the
    /// fold no longer leaves one of them idle between windows.
    private let folding = DispatchQueue(label: "tandem.verify.commitments")

    public init() {}

    /// The scanners of pieces `numbers` (a `LogVerifier.PieceScanner`); the pieces before
    /// them, all finished by then, are folded in meanwhile, in order.
    public func pieces(_ numbers: Range<Int>) -> [@Sendable (LogLine) -> Void] {
        let pieces = numbers.map { _ in Piece() }
        pending.withLock { pending in
            for (number, piece) in zip(numbers, pieces) { pending[number] = piece }
        }
        let limit = numbers.lowerBound
        folding.async { self.fold(below: limit) }
        return pieces.map { piece in { piece.scan($0) } }
    }

    /// Folds the pieces below `limit` in log order; on `folding` only.
    private func fold(below limit: Int) {
        while folded.next < limit {
            defer { folded.next += 1 }
            let number = folded.next
            guard let piece = pending.withLock({ $0.removeValue(forKey: number) }), folded.failure == nil else {
                continue
            }
            for (packed, other, commit) in piece.refs {
                if let other {
                    folded.index.insert(other: other, commit)
                } else {
                    folded.index.insert(packed: packed, commit)
                }
            }
            folded.erased.formUnion(piece.erased)
            folded.freeText += piece.freeText
            folded.failure = piece.failure
        }
    }

    /// Everything read, in log order.
    /// - Throws: the first failure a piece met (a commitment that is not hex, an event that
    ///   cannot be decoded), as a sequential read would have.
    fileprivate func finish() throws -> (CommitmentIndex, erased: Set<String>, freeText: [Int]) {
        let last = pending.withLock { $0.keys.max() ?? -1 }
        return try folding.sync {
            fold(below: last + 1)
            if let failure = folded.failure { throw failure }
            return (folded.index, folded.erased, folded.freeText)
        }
    }
}

/// Every commitment of a log, by ref, compactly.
///
/// Refs of our own shape are found through an open-addressing table of slot numbers hashed
/// by their packed value, read straight from the line's bytes: no string and no hashing of
/// one per reference (a dictionary lookup and a string per ref were an eighth of `verify`).
private struct CommitmentIndex {
    /// One table entry: a packed ref and its slot + 1 (0: empty). Key and slot side by side,
    /// so that a probe touches one cache line: the lookups are memory-bound.
    private struct Entry {
        var key: UInt64 = 0
        var slot: Int32 = 0
    }

    /// The table's size is a power of two, `1 << bits`.
    private var table = [Entry](repeating: Entry(), count: 1 << 10)
    private var bits = 10
    private var other: [String: Int32] = [:]
    private(set) var commits: [SHA256Digest] = []
    /// The ref of each slot as its number (refs of another shape are in `otherRefs`).
    private var packedRefs: [UInt64] = []
    private var otherRefs: [Int32: String] = [:]

    /// Fibonacci hashing: the product's top bits index the table.
    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
    }

    /// Records a commitment; a ref committed to again keeps its first slot and takes the
    /// later commitment.
    mutating func insert(packed key: UInt64, _ commit: SHA256Digest) {
        if (commits.count + 1) * 10 > table.count * 7 { grow() }
        // One probe sequence finds the ref or the empty entry it goes in: the table is
        // larger than the caches, and each probe is a miss.
        let mask = table.count - 1
        var i = home(key)
        while table[i].slot != 0 {
            if table[i].key == key {
                commits[Int(table[i].slot) - 1] = commit
                return
            }
            i = (i + 1) & mask
        }
        table[i] = Entry(key: key, slot: Int32(commits.count) + 1)
        packedRefs.append(key)
        commits.append(commit)
    }

    /// Records a commitment to a ref of another shape than ours.
    mutating func insert(other ref: String, _ commit: SHA256Digest) {
        if let index = other[ref] {
            commits[Int(index)] = commit
            return
        }
        let index = Int32(commits.count)
        other[ref] = index
        otherRefs[index] = ref
        packedRefs.append(0)
        commits.append(commit)
    }

    private mutating func place(_ key: UInt64, slot: Int32) {
        let mask = table.count - 1
        var i = home(key)
        while table[i].slot != 0 { i = (i + 1) & mask }
        table[i] = Entry(key: key, slot: slot + 1)
    }

    private mutating func grow() {
        bits += 1
        table = [Entry](repeating: Entry(), count: 1 << bits)
        for (slot, key) in packedRefs.enumerated() where otherRefs[Int32(slot)] == nil {
            place(key, slot: Int32(slot))
        }
    }

    private func find(_ key: UInt64) -> Int? {
        let mask = table.count - 1
        var i = home(key)
        while true {
            let entry = table[i]
            if entry.slot == 0 { return nil }
            if entry.key == key { return Int(entry.slot) - 1 }
            i = (i + 1) & mask
        }
    }

    /// The slot of a ref given as raw bytes.
    /// `hint` is the slot to try first: the vault's lines mostly come in the order their
    /// events committed to them, so the slot after the last one found is usually it, and
    /// reading it costs no random access into the table.
    func index(ofRef ref: UnsafeRawBufferPointer, hint: Int = -1) -> Int? {
        if let key = PackedRef.pack(bytes: ref) {
            if hint >= 0, hint < packedRefs.count, packedRefs[hint] == key,
                otherRefs.isEmpty || otherRefs[Int32(hint)] == nil
            {
                return hint
            }
            return find(key)
        }
        return other[String(decoding: ref, as: UTF8.self)].map(Int.init)
    }

    func index(of ref: String) -> Int? {
        if let key = PackedRef.pack(ref) { return find(key) }
        return other[ref].map(Int.init)
    }

    /// The ref of a slot.
    subscript(ref index: Int) -> String { otherRefs[Int32(index)] ?? PackedRef.unpack(packedRefs[index]) }
}

/// The byte-level reading of a log line that `VaultVerifier` needs.
enum CommitmentScan {
    static let open: StaticString = #"{"ref":""#
    static let middle: StaticString = #"","commit":""#
    static let typeKey: StaticString = #""type":""#
    /// A plain-text `onBehalfOf` (older lines); today's is an object. `B` is rare in a line,
    /// so the search is quick.
    static let plainBehalf: StaticString = #"BehalfOf":""#

    /// Calls `body` with every `{"ref":…,"commit":…}` in the line (the ref as raw bytes).
    /// - Throws: `VaultDamage` if a commitment is not 64 hex digits.
    static func references(
        in line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, SHA256Digest) throws -> Void
    ) throws {
        var from = 0
        while let start = ByteSearch.firstIndex(of: open, in: line, from: from) {
            let refStart = start + open.utf8CodeUnitCount
            guard let refEnd = Self.quote(in: line, from: refStart) else { return }
            let commitStart = refEnd + middle.utf8CodeUnitCount
            guard commitStart + 64 <= line.count, ByteSearch.matches(middle, in: line, at: refEnd) else {
                from = refStart
                continue
            }
            guard
                let commit = SHA256Digest(
                    hexBytes: UnsafeRawBufferPointer(rebasing: line[commitStart..<(commitStart + 64)]))
            else {
                throw VaultDamage("a commitment in the log is not 64 hex digits")
            }
            try body(UnsafeRawBufferPointer(rebasing: line[refStart..<refEnd]), commit)
            from = commitStart + 64
        }
    }

    /// The first `"` at or after `from`.
    @inline(__always)
    static func quote(in line: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from < line.count, let p = memchr(line.baseAddress! + from, 0x22, line.count - from) else { return nil }
        return line.baseAddress!.distance(to: UnsafeRawPointer(p))
    }

    /// The ref a vault line begins with (`{"ref":"…",`), as raw bytes, without parsing the rest.
    static func leadingRef(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard ByteSearch.matches(open, in: line, at: 0),
            let end = quote(in: line, from: open.utf8CodeUnitCount)
        else { return nil }
        return UnsafeRawBufferPointer(rebasing: line[open.utf8CodeUnitCount..<end])
    }

    /// Whether the line may carry what only a decode can tell: erasures (their `refs`), and
    /// the types whose older lines may hold free text (an `override` other than "waived", a
    /// void's `reason`).
    static func needsDecoding(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let key = ByteSearch.firstIndex(of: typeKey, in: line, from: 0) else { return true }
        let start = key + typeKey.utf8CodeUnitCount
        guard let end = quote(in: line, from: start) else { return true }
        return needsDecoding(type: UnsafeRawBufferPointer(rebasing: line[start..<end]))
    }

    /// `needsDecoding(_:)` for a line whose type (its string's content) is known.
    static func needsDecoding(type: UnsafeRawBufferPointer) -> Bool {
        ByteSearch.equals(type, "PersonalDataErased") || ByteSearch.equals(type, "TandemMatched")
            || ByteSearch.equals(type, "PartnerSwapped") || ByteSearch.equals(type, "EventVoided")
    }

    /// `needsDecoding(type:)` narrowed by the line's `data`: a match or a swap holds free text
    /// only in an `override` string, a void only in a `reason` string. The decoder reads a
    /// key by its raw bytes, and a quote inside a string is escaped, so a `data` without
    /// `"override":"` (or `"reason":"`) cannot decode to such text: most matches (a tenth
    /// of a large log) need no decode.
    static func needsDecoding(type: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) -> Bool {
        if ByteSearch.equals(type, "TandemMatched") || ByteSearch.equals(type, "PartnerSwapped") {
            return ByteSearch.contains(overrideText, in: data)
        }
        if ByteSearch.equals(type, "EventVoided") { return ByteSearch.contains(reasonText, in: data) }
        return ByteSearch.equals(type, "PersonalDataErased")
    }

    static let overrideText: StaticString = #""override":""#
    static let reasonText: StaticString = #""reason":""#
}
