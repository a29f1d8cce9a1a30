import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Where each line of the vault that holds no profile (a session's notes, a goal's text)
/// begins, by packed ref (`cache/texts.snapshot`). A member's own sessions and goals show
/// their texts: a handful of lines, which a pass found by reading the whole vault (1.4 GB
/// on the 10M store, most of it such texts).
///
/// Layout: a snapshot file of kind `texts` whose `vaultSize` is the vault's size when it
/// was built, with two sections: `identity`, the vault file's device and inode; and
/// `byRef`, per text line its packed ref and its byte offset (two little-endian `UInt64`s),
/// sorted by ref and then offset, in one chunked section: a lookup is a binary search
/// in the mapping that checks only the chunks it reads. It holds refs and offsets, nothing
/// personal, and goes with the rest of `cache/`.
///
/// Trust, as `ProfileOffsets`: it serves only the vault file it was built from and no
/// smaller than it was; lines written since are read from the vault's tail. Every line it
/// points to must begin there and carry the ref it was found by, and a ref it does not
/// list is looked for by a pass, so that a damaged index can cost time, never a text.
struct TextOffsets {
    static let kind = "texts"
    static let schema = 1
    /// The index file's name in `cache/`.
    static let fileName = "texts.snapshot"
    /// How far the vault may have grown past the index, as a share of the index's vault,
    /// before a lookup builds the index again (the tail is read by a pass on every lookup).
    static let longestTailShare = 8

    let pairs: VerifiedSection
    let count: Int
    /// The vault's size when the index was built: the lines from there on are not in it.
    let builtAt: Int

    /// The index of `vault` kept at `path`, built and written when it is missing, damaged,
    /// does not fit the vault or lags far behind it; nil when it cannot be written there,
    /// when the vault cannot be indexed (it does not exist, has lines of another shape, or
    /// was replaced during the pass), or when the index cannot be read back.
    /// - Throws: `SystemError` if the vault cannot be read.
    static func load(for vault: Vault, at path: String) throws -> TextOffsets? {
        guard let identity = FileSystem.identity(of: vault.path) else { return nil }
        let size = vault.size
        let file = SnapshotFile(path: path)
        if let header = try? file.header(kind: kind, schema: schema), header.vaultSize <= size,
            size - header.vaultSize <= max(1 << 20, header.vaultSize / longestTailShare),
            let written = try? file.section("identity", of: header), written == ProfileOffsets.bytes(of: identity),
            let index = try? TextOffsets(file, header: header)
        {
            return index
        }
        // Built only where it can be kept: built for one lookup, it costs more than the pass
        // it spares (a read-only store passes over the vault, as without an index).
        guard let slash = path.lastIndex(of: "/"), Syscall.canWrite(inDirectory: String(path[..<slash])) else {
            return nil
        }
        var entries: [(key: UInt64, offset: UInt64)] = []
        var otherShapes = false
        try vault.forEachCandidate(
            .every,
            parse: { line, offset -> (key: UInt64?, offset: Int)? in
                switch ProfileOffsets.profileKey(line) {
                case .some(.some): return nil  // a profile
                case .some(.none): return (nil, offset)  // another shape
                case .none: return (Self.key(of: line), offset)
                }
            }
        ) { found in
            guard let key = found.key else {
                otherShapes = true
                return
            }
            entries.append((key, UInt64(found.offset)))
        }
        guard !otherShapes, FileSystem.identity(of: vault.path).map({ $0 == identity }) ?? false else { return nil }
        entries.sort { ($0.key, $0.offset) < ($1.key, $1.offset) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 16)
        for entry in entries { ProfileOffsets.append(entry.key, Int(entry.offset), to: &bytes) }
        entries = []
        try? file.write(
            kind: kind, schema: schema, head: .empty, logEnd: 0, vaultSize: size,
            sections: [("identity", ProfileOffsets.bytes(of: identity)), ("byRef", bytes)], chunked: ["byRef"])
        guard let header = try? file.header(kind: kind, schema: schema) else { return nil }
        return try? TextOffsets(file, header: header)
    }

    /// The packed ref of a line of our shape (its leading ref was packed by `profileKey`
    /// already, so this does not fail).
    static func key(of line: UnsafeRawBufferPointer) -> UInt64? {
        let prefix = Vault.refPrefix
        return PackedRef.pack(bytes: UnsafeRawBufferPointer(rebasing: line[prefix.count..<(prefix.count + 18)]))
    }

    private init(_ file: SnapshotFile, header: SnapshotFile.Header) throws(SnapshotError) {
        let map: MappedFile
        do { map = try MappedFile(path: file.path) } catch { throw .malformed("cannot be read") }
        pairs = try VerifiedSection("byRef", of: header, in: file, map: map)
        guard pairs.bytes.count % 16 == 0 else { throw .malformed("a byRef section of the wrong size") }
        count = pairs.bytes.count / 16
        builtAt = header.vaultSize
    }

    /// The offsets of the lines of `key`, ascending.
    /// - Throws: `SnapshotError.malformed` for damage in what it reads, or entries out of
    ///   order.
    /// - Complexity: O(log n) entries read.
    func offsets(of key: UInt64) throws(SnapshotError) -> [Int] {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if try pairs.uint64(at: mid * 16) < key { low = mid + 1 } else { high = mid }
        }
        // The entry before must sort lower: a damaged key there could hide the ref's lines.
        if low > 0, try pairs.uint64(at: (low - 1) * 16) >= key { throw .malformed("entries out of order") }
        var out: [Int] = []
        var i = low
        while i < count, try pairs.uint64(at: i * 16) == key {
            let offset = Int(try pairs.uint64(at: i * 16 + 8))
            guard offset < builtAt, out.last.map({ $0 < offset }) ?? true else {
                throw .malformed("an offset out of place")
            }
            out.append(offset)
            i += 1
        }
        return out
    }
}

extension Vault {
    /// Where the index of text lines is kept: beside the profile index (none without one).
    var textIndexPath: String? {
        guard let profileIndexPath, let slash = profileIndexPath.lastIndex(of: "/") else { return nil }
        return String(profileIndexPath[...slash]) + TextOffsets.fileName
    }

    /// The texts (a session's notes, a goal's text) of `refs`, by ref, as a pass over the
    /// vault finds them (the last line of a ref that holds a text wins; a ref without one is
    /// left out): each line read where the store's text index says it is
    /// (`TextOffsets`, built on first need), and the lines written since the index by a pass
    /// over them; a ref the index does not place is looked for by a pass over the whole vault.
    /// - Throws: `SystemError` if the vault cannot be read.
    public func texts(of refs: Set<String>) throws -> [String: String] {
        try textsNoting(refs).texts
    }

    /// `texts(of:)`, and the refs looked for by a pass over the whole vault (all of them
    /// without an index; with one, those it does not place and the tail does not hold).
    func textsNoting(_ refs: Set<String>) throws -> (texts: [String: String], passedFor: Set<String>) {
        guard !refs.isEmpty else { return ([:], []) }
        func pass(_ refs: Set<String>, from offset: Int = 0) throws -> [String: String] {
            var out: [String: String] = [:]
            try forEachCandidate(
                WantedRefs(refs), from: offset,
                parse: { line, offset in
                    let parsed = try Self.parse(line, offset: offset)
                    return refs.contains(parsed.ref) ? parsed : nil
                }
            ) { line in if let text = line.payload?.text { out[line.ref] = text } }
            return out
        }
        guard let textIndexPath, refs.allSatisfy({ PackedRef.pack($0) != nil }),
            let index = try TextOffsets.load(for: self, at: textIndexPath)
        else { return (try pass(refs), refs) }
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        var found: [String: String] = [:]
        var unplaced = Set<String>()
        for ref in refs {
            guard let offsets = try? index.offsets(of: PackedRef.pack(ref)!), !offsets.isEmpty else {
                unplaced.insert(ref)
                continue
            }
            for offset in offsets {
                guard let line = try Self.line(of: ref, at: offset, in: fd) else {
                    unplaced.insert(ref)
                    break
                }
                if let text = line.payload?.text { found[ref] = text }
            }
        }
        // Lines written since the index: a later line of a ref wins, as in a pass. From the
        // start of the line being written then, if one was (the pass indexed whole lines only).
        let size = try fd.size()
        if size > index.builtAt {
            // New texts are not in the index: found here, they are placed.
            for (ref, text) in try pass(refs, from: try ProfileOffsets.lineStart(at: index.builtAt, in: fd)) {
                found[ref] = text
                unplaced.remove(ref)
            }
        }
        var out = found
        if !unplaced.isEmpty {
            for (ref, text) in try pass(unplaced) { out[ref] = text }
        }
        return (out, unplaced)
    }

    /// The line at `offset` if one of `ref` begins there; nil otherwise.
    static func line(of ref: String, at offset: Int, in fd: borrowing FileDescriptor) throws -> VaultLine? {
        // The byte before, to see that a line begins here; then the line, a block at a time.
        let start = max(0, offset - 1)
        var bytes = try fd.read(count: 4096, at: start)
        guard offset == 0 || bytes.first == 0x0A else { return nil }
        let skip = offset - start
        var newline = bytes[skip...].firstIndex(of: 0x0A)
        while newline == nil, bytes.count - skip < ProfileOffsets.longestLine {
            let more = try fd.read(count: 65_536, at: start + bytes.count)
            if more.isEmpty { break }
            bytes += more
            newline = bytes[skip...].firstIndex(of: 0x0A)
        }
        guard let end = newline else { return nil }
        let parsed = bytes[skip..<end].withUnsafeBytes { line in
            Self.content(line).map { VaultLine(ref: $0.ref, payload: $0.payload, digest: SHA256.hash(line)) }
        }
        return parsed?.ref == ref ? parsed : nil
    }
}
