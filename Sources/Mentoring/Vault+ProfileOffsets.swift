import Dispatch
import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Where each profile line of the vault begins, by packed ref (`cache/profiles.snapshot`).
/// A listing that shows names (`tandems`, `due`, `people`, an at-risk list) reads each
/// profile's line where it is, instead of passing over the whole vault: on the 10M store
/// that is 1.4 GB, most of it session notes and goal texts, for 1.3M profiles.
///
/// Layout: a snapshot file of kind `profiles` whose `vaultSize` is the vault's size when
/// it was built, with two sections: `identity`, the vault file's device and inode; and
/// `byOffset`, per profile line in file order its packed ref and its byte offset (two
/// little-endian `UInt64`s). It holds refs and offsets, nothing personal, and goes with the
/// rest of `cache/`.
///
/// Trust: it serves only the vault file it was built from (an erasure replaces the vault
/// by a rename, under another inode) and no smaller than it was; profiles written since are
/// read from the vault's tail. Every line it points to must begin there and carry the ref
/// it was found by, or that ref is looked for by a pass, as without an index. A vault with
/// lines of another shape than this code writes is not indexed.
struct ProfileOffsets: Sendable {
    static let kind = "profiles"
    static let schema = 1
    /// The index file's name in `cache/`.
    static let fileName = "profiles.snapshot"

    /// Per profile line, its packed ref and offset, as the `byOffset` section holds them.
    let pairs: [UInt8]
    /// The vault's size when the index was built: the lines from there on are not in it.
    let builtAt: Int

    /// How many profile lines the index holds.
    var count: Int { pairs.count / 16 }

    func entry(_ i: Int) -> (key: UInt64, offset: Int) {
        pairs.withUnsafeBytes { raw in
            (
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)),
                Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self)))
            )
        }
    }

    /// The index of `vault` kept at `path`, built (and written, if the cache can be) when it
    /// is missing, damaged or does not fit the vault; nil when the vault cannot be indexed
    /// (it does not exist, has lines of another shape, or was replaced during the pass).
    /// - Throws: `SystemError` if the vault cannot be read.
    static func load(for vault: Vault, at path: String) throws -> ProfileOffsets? {
        guard let identity = FileSystem.identity(of: vault.path) else { return nil }
        let size = vault.size
        let file = SnapshotFile(path: path)
        if let header = try? file.header(kind: kind, schema: schema), header.vaultSize <= size,
            let written = try? file.section("identity", of: header), written == Self.bytes(of: identity),
            let pairs = try? file.section("byOffset", of: header), pairs.count % 16 == 0
        {
            return ProfileOffsets(pairs: pairs, builtAt: header.vaultSize)
        }
        var pairs: [UInt8] = []
        var otherShapes = false
        try vault.forEachCandidate(
            .every,
            parse: { line, offset -> (key: UInt64?, offset: Int)? in
                guard let key = Self.profileKey(line) else { return nil }
                return (key, offset)
            }
        ) { found in
            guard let key = found.key else {
                otherShapes = true
                return
            }
            Self.append(key, found.offset, to: &pairs)
        }
        guard !otherShapes, FileSystem.identity(of: vault.path).map({ $0 == identity }) ?? false else { return nil }
        try? file.write(
            kind: kind, schema: schema, head: .empty, logEnd: 0, vaultSize: size,
            sections: [("identity", Self.bytes(of: identity)), ("byOffset", pairs)])
        return ProfileOffsets(pairs: pairs, builtAt: size)
    }

    /// The packed ref of a profile line (`.some(key)`), `.some(nil)` for a line of another
    /// shape than this code writes, nil for a line of ours that holds no profile.
    static func profileKey(_ line: UnsafeRawBufferPointer) -> UInt64?? {
        let prefix = Vault.refPrefix
        let refEnd = prefix.count + 18
        guard line.count > refEnd, line[refEnd] == UInt8(ascii: "\""),
            memcmp(line.baseAddress!, prefix, prefix.count) == 0,
            let key = PackedRef.pack(bytes: UnsafeRawBufferPointer(rebasing: line[prefix.count..<refEnd]))
        else { return .some(nil) }
        // As `TraitsDirectory.forEachProfile` finds profiles: a line without the kind is none.
        guard TraitsDirectory.holdsProfileMarker(line) else { return nil }
        return key
    }

    static let profileMarker = Array("\"kind\":\"profile\"".utf8)

    static func append(_ key: UInt64, _ offset: Int, to pairs: inout [UInt8]) {
        withUnsafeBytes(of: key.littleEndian) { pairs.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(offset).littleEndian) { pairs.append(contentsOf: $0) }
    }

    static func bytes(of identity: (device: UInt64, inode: UInt64)) -> [UInt8] {
        var out: [UInt8] = []
        append(identity.device, Int(truncatingIfNeeded: identity.inode), to: &out)
        return out
    }

    /// What reading a profile's line where the index says it is found.
    enum Read<Value: Sendable>: Sendable {
        /// The line is the ref's: what was read of it (nil if it holds no profile any more).
        case found(Value?)
        /// No line of that ref begins there.
        case elsewhere
    }

    /// The names of `refs` (all of our shape), as `Vault.scannedNames` reads them (see
    /// `forEach(of:in:window:read:scan:_:)`).
    /// - Throws: `SystemError` if the vault cannot be read.
    /// - Parameter window: how much of the vault is mapped at a time (tests make it small).
    func names(of refs: NumberedRefs, count: Int, in vault: Vault, window: Int = Self.window) throws -> [String?] {
        var names = [String?](repeating: nil, count: count)
        try forEach(
            of: refs, in: vault, window: window,
            read: { line, key in
                if let fast = Vault.writtenName(line) { return fast.key == key ? .found(fast.name) : .elsewhere }
                guard let parsed = Vault.content(line), PackedRef.pack(parsed.ref) == key else { return .elsewhere }
                return .found(parsed.payload?.profile?.name)
            },
            scan: { refs, offset in
                try vault.scannedNames(of: refs, from: offset).compactMap { number, name in name.map { (number, $0) } }
            }
        ) { number, name in
            if number >= 0 && number < count { names[Int(number)] = name }
        }
        return names
    }

    /// Calls `body` with what `read` makes of the profile line of each of `refs` (all of
    /// our shape), and the number `refs` gives its ref, in file order (a later line of the
    /// same ref after an earlier, as a pass reads them): each indexed line is read where
    /// it is, on every core; refs not indexed are looked for in the lines written since,
    /// and a line not where the index says by a pass (`scan`, from an offset on, in file
    /// order). A line without a profile gives nothing.
    /// - Throws: `SystemError` if the vault cannot be read; what `scan` or `body` throws.
    /// - Parameter window: how much of the vault is mapped at a time (tests make it small).
    func forEach<Value: Sendable>(
        of refs: NumberedRefs, in vault: Vault, window: Int = Self.window,
        read: @escaping @Sendable (_ line: UnsafeRawBufferPointer, _ key: UInt64) -> Read<Value>,
        scan: (_ refs: NumberedRefs, _ from: Int) throws -> [(Int32, Value)],
        _ body: (Int32, Value) throws -> Void
    ) throws {
        // A hit is the number of its index entry (which holds its ref and offset) and the
        // number `refs` gives it: 8 bytes, not 24 with the ref and offset copied (1.3 million
        // hits in a listing of everyone). An index of 2^32 lines or more is passed over.
        guard self.count <= Int(UInt32.max) else {
            for (number, value) in try scan(refs, 0) { try body(number, value) }
            return
        }
        var hits: [(entry: UInt32, number: Int32)] = []
        for i in 0..<self.count {
            if let number = refs.packed[entry(i).key] { hits.append((UInt32(i), number)) }
        }
        func offset(_ hit: Int) -> Int { entry(Int(hits[hit].entry)).offset }
        let fd = try FileDescriptor(path: vault.path, flags: O_RDONLY)
        let size = try fd.size()
        var misplaced = NumberedRefs()
        // The hits are in file order: read a window of the vault at a time, each mapped and
        // let go in turn (a mapping of the whole vault kept every page it touched resident),
        // and each window's values handed on before the next (an outcome per hit, held for
        // all of them, was 31 MB more at the peak of `tandems` on the 10M store).
        var first = 0
        while first < hits.count {
            let mapStart = max(0, offset(first) - 1) / Syscall.pageSize * Syscall.pageSize
            var end = first
            while end < hits.count, offset(end) < mapStart + window { end += 1 }
            // Room for the last line: a longer one is not found here, and a pass finds it.
            let mapEnd = min(size, offset(end - 1) + Self.longestLine)
            guard mapEnd > mapStart else { break }
            let mapped = try Syscall.mapForSequentialReading(
                fd.rawValue, offset: mapStart, count: mapEnd - mapStart, path: vault.path)
            defer { Syscall.unmap(mapped) }
            var outcomes = [Read<Value>](repeating: .elsewhere, count: end - first)
            outcomes.withUnsafeMutableBufferPointer { out in
                let shared = SharedReads(index: self, hits: hits, out: out, window: mapped, read: read)
                let range = first..<end
                let pieces = min(range.count, LogVerifier.processorCount * 4)
                DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                    let from = range.lowerBound + range.count * piece / pieces
                    let to = range.lowerBound + range.count * (piece + 1) / pieces
                    for i in from..<to {
                        let (key, offset) = shared.index.entry(Int(shared.hits[i].entry))
                        shared.out[i - range.lowerBound] =
                            Self.line(
                                at: offset - mapStart, in: shared.window, atStart: offset == 0
                            ).map { shared.read($0, key) } ?? .elsewhere
                    }
                }
            }
            for (hit, outcome) in zip(hits[first..<end], outcomes) {
                switch outcome {
                case .found(let value):
                    if let value { try body(hit.number, value) }
                case .elsewhere:
                    misplaced.insert(packed: entry(Int(hit.entry)).key, number: hit.number)
                }
            }
            first = end
        }
        // Profiles written since the index was built (a later line wins, as in a pass):
        // from the start of the line being written then, if one was (the pass indexed whole
        // lines only).
        if size > builtAt {
            for (number, value) in try scan(refs, try Self.lineStart(at: builtAt, in: fd)) { try body(number, value) }
        }
        if !misplaced.isEmpty {
            for (number, value) in try scan(misplaced, 0) { try body(number, value) }
        }
    }

    /// The start of the line that holds byte `offset` (`offset` itself after a newline):
    /// back to the newline before it, read a block at a time.
    /// - Throws: `SystemError` if the file cannot be read.
    static func lineStart(at offset: Int, in fd: borrowing FileDescriptor) throws -> Int {
        var start = offset
        while start > 0 {
            let from = max(0, start - 65_536)
            let block = try fd.read(count: start - from, at: from)
            if let newline = block.lastIndex(of: 0x0A) { return from + newline + 1 }
            start = from
        }
        return 0
    }

    /// The line that begins at `offset`, if one does (nil: no whole line begins there).
    static func line(at offset: Int, in vault: UnsafeRawBufferPointer, atStart: Bool) -> UnsafeRawBufferPointer? {
        guard offset >= 0, offset < vault.count, atStart || (offset > 0 && vault[offset - 1] == 0x0A),
            let newline = memchr(vault.baseAddress! + offset, 0x0A, vault.count - offset)
        else { return nil }
        return UnsafeRawBufferPointer(rebasing: vault[offset..<vault.baseAddress!.distance(to: newline)])
    }

    /// Each task reads its own hits and writes its own slots.
    private struct SharedReads<Value: Sendable>: @unchecked Sendable {
        let index: ProfileOffsets
        let hits: [(entry: UInt32, number: Int32)]
        let out: UnsafeMutableBufferPointer<Read<Value>>
        let window: UnsafeRawBufferPointer
        let read: @Sendable (_ line: UnsafeRawBufferPointer, _ key: UInt64) -> Read<Value>
    }

    /// How much of the vault is mapped at a time: the pages a window touches stay resident
    /// until it is let go (64 MB windows were 64 MB more at the peak of `tandems` on the
    /// 10M store; 16 MB ones took no longer).
    static let window = 1 << 24
    /// The longest profile line read where the index says it is (longer ones are found by a
    /// pass).
    static let longestLine = 1 << 20
}

extension Vault {
    /// The names in the profiles of `refs`, each at the number `refs` gives its ref (nil
    /// where no profile was found): read where the store's profile index says each line is
    /// (`ProfileOffsets`, built on first need), or else by a pass over the whole vault.
    /// - Throws: `SystemError` if the vault cannot be read.
    public func names(of refs: NumberedRefs, count: Int) throws -> [String?] {
        guard !refs.isEmpty, refs.other.isEmpty, let profileIndexPath,
            let index = try ProfileOffsets.load(for: self, at: profileIndexPath)
        else { return try scannedNames(of: refs, count: count) }
        return try index.names(of: refs, count: count, in: self)
    }

    /// The names found for `refs` by a pass from byte `offset` on, by number, in file order
    /// (a later line of the same ref wins).
    func scannedNames(of refs: NumberedRefs, from offset: Int) throws -> [(Int32, String?)] {
        var out: [(Int32, String?)] = []
        try forEachCandidate(
            WantedRefs(packed: Set(refs.packed.keys)), from: offset,
            parse: { line, _ -> (number: Int32, name: String)? in
                if let fast = Self.writtenName(line) { return refs.packed[fast.key].map { ($0, fast.name) } }
                guard let parsed = Self.content(line), let number = refs.number(of: parsed.ref),
                    let profile = parsed.payload?.profile
                else { return nil }
                return (number, profile.name)
            }
        ) { found in out.append((found.number, found.name)) }
        return out
    }
}
