import Dispatch
import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// One line of the vault as read back.
public struct VaultLine: Sendable {
    public var ref: String
    public var payload: PersonalPayload?
    /// SHA-256 of the line's bytes: what the introducing event committed to.
    public var digest: SHA256Digest
}

/// The personal-data vault: `vault.jsonl`, one `{"ref":…,"nonce":…,"payload":{…}}` per line.
///
/// It is the only file of a store that is ever rewritten, and only by an erasure (temporary
/// file, fsync, rename). Lines are appended, and fsync'ed, before the events that point to
/// them, so an event never points at a line that is not on disk.
public struct Vault: Sendable {
    /// The vault file.
    public let path: String
    /// Where the index of its profile lines is kept (`ProfileOffsets`); nil: names are
    /// read by a pass over the whole vault.
    public let profileIndexPath: String?

    /// A vault file, with its profile index kept at `profileIndexPath` (none if nil).
    public init(path: String, profileIndexPath: String? = nil) {
        self.path = path
        self.profileIndexPath = profileIndexPath
    }

    /// The vault of a store.
    public init(store: Store) {
        path = store.path("vault.jsonl")
        profileIndexPath = store.cacheDirectory + "/" + ProfileOffsets.fileName
    }

    /// The file's size (0 if it does not exist yet).
    public var size: Int { FileSystem.size(of: path) ?? 0 }

    /// Appends lines and fsyncs them (unless `sync` is false: a batch that writes its lines
    /// in pieces syncs once, with its last piece). On failure the file is cut back, so
    /// nothing of this call remains.
    /// - Returns: the size before the append, to roll back to if the events cannot follow.
    @discardableResult
    public func append(_ records: [SealedRecord], sync: Bool = true) throws -> Int {
        guard !records.isEmpty || sync else { return size }
        let fd = try FileDescriptor(path: path, flags: O_WRONLY | O_APPEND | O_CREAT)
        let before = try fd.size()
        if before == 0 { try fd.setMode(0o600) }
        var bytes: [UInt8] = []
        for record in records {
            bytes += record.line
            bytes.append(0x0A)
        }
        do {
            try fd.writeAll(bytes)
            if sync { try fd.sync() }
        } catch {
            try? fd.truncate(to: before)
            try? fd.sync()
            throw error
        }
        return before
    }

    /// Cuts the vault back to `size` (undoing an append whose events could not be written).
    public func truncate(to size: Int) throws {
        let fd = try FileDescriptor(path: path, flags: O_WRONLY)
        try fd.truncate(to: size)
        try fd.sync()
    }

    /// Streams every line from byte `offset` on. A last line without a newline (an append
    /// cut short) is ignored: no event can point at it.
    public func forEachLine(from offset: Int = 0, _ body: (VaultLine) throws -> Void) throws {
        guard FileSystem.kind(of: path).exists else { return }
        try LineStream.forEach(path, from: offset) { line, at in try body(Self.parse(line, offset: at)) }
    }

    /// Streams the lines whose ref is in `refs`, parsed. The others are passed over by their
    /// first bytes (every line this code writes begins `{"ref":"r-…"`), so a pass over a
    /// vault of millions costs little more than reading it; a line of another shape is
    /// parsed to find its ref.
    /// - Throws: `SystemError` if the vault cannot be read.
    public func forEachLine(withRefIn refs: Set<String>, _ body: (VaultLine) throws -> Void) throws {
        try forEachCandidate(
            withRefIn: refs,
            parse: { line, offset in
                let parsed = try Self.parse(line, offset: offset)
                return refs.contains(parsed.ref) ? parsed : nil
            }, body)
    }

    /// Calls `body` with each profile of `refs` (and the number `refs` gives its ref), in
    /// file order, each passed through `shape` on the core that parsed it: a listing of a
    /// million people keeps only the fields it shows (their lists of offers, wants and
    /// interests were most of the memory of `people`), and no ref is made a key. Each line
    /// is read where the store's profile index says it is (`ProfileOffsets`, built on
    /// first need), or else found by a pass over the whole vault.
    /// - Parameter lists: whether the profiles' lists are read (else they are checked and
    ///   left empty: a listing that never shows them made three arrays of strings per
    ///   person).
    /// - Throws: `SystemError` if the vault cannot be read; what `body` throws.
    public func forEachProfile(
        of refs: NumberedRefs, lists: Bool = true, shape: @escaping @Sendable (Profile) -> Profile = { $0 },
        _ body: (_ number: Int32, Profile) throws -> Void
    ) throws {
        guard !refs.isEmpty else { return }
        guard refs.other.isEmpty, let profileIndexPath,
            let index = try ProfileOffsets.load(for: self, at: profileIndexPath)
        else { return try scannedProfiles(of: refs, from: 0, lists: lists, shape: shape, body) }
        try forEachProfile(of: refs, lists: lists, shape: shape, through: index, body)
    }

    /// `forEachProfile` through `index`, mapping `window` bytes at a time (tests make it
    /// small).
    func forEachProfile(
        of refs: NumberedRefs, lists: Bool, shape: @escaping @Sendable (Profile) -> Profile,
        through index: ProfileOffsets, window: Int = ProfileOffsets.window,
        _ body: (_ number: Int32, Profile) throws -> Void
    ) throws {
        try index.forEach(
            of: refs, in: self, window: window,
            read: { line, key in
                guard let parsed = Self.content(line, lists: lists), PackedRef.pack(parsed.ref) == key else {
                    return .elsewhere
                }
                return .found(parsed.payload?.profile.map(shape))
            },
            scan: { refs, offset in
                var found: [(Int32, Profile)] = []
                try scannedProfiles(of: refs, from: offset, lists: lists, shape: shape) { found.append(($0, $1)) }
                return found
            }, body)
    }

    /// `forEachProfile` by a pass over the vault from byte `offset` on.
    func scannedProfiles(
        of refs: NumberedRefs, from offset: Int, lists: Bool, shape: @escaping @Sendable (Profile) -> Profile,
        _ body: (_ number: Int32, Profile) throws -> Void
    ) throws {
        // Mapped as names read by offset map the vault: a window's touched pages stay
        // resident until it is let go (64 MB windows were 64 MB of the peak of `people` on
        // the 10M store).
        try forEachCandidate(
            WantedRefs(packed: Set(refs.packed.keys)), from: offset, window: ProfileOffsets.window,
            parse: { line, _ -> (number: Int32, profile: Profile)? in
                guard let parsed = Self.content(line, lists: lists), let number = refs.number(of: parsed.ref),
                    let profile = parsed.payload?.profile
                else { return nil }
                return (number, shape(profile))
            }
        ) { found in try body(found.number, found.profile) }
    }

    /// The packed ref and the name of a profile line of the shape this code writes
    /// (`{"ref":"r-…",…,"payload":{"kind":"profile","name":"…"`), read there after checking
    /// the whole line is JSON, without building it; nil for a line of any other shape, which
    /// the caller parses whole.
    static func writtenName(_ line: UnsafeRawBufferPointer) -> (key: UInt64, refEnd: Int, name: String)? {
        let prefix = refPrefix, marker = profileNameMarker
        let refEnd = prefix.count + 18
        guard line.count > refEnd, line[refEnd] == UInt8(ascii: "\""),
            memcmp(line.baseAddress!, prefix, prefix.count) == 0,
            let key = PackedRef.pack(bytes: UnsafeRawBufferPointer(rebasing: line[prefix.count..<refEnd])),
            let at = ByteSearch.firstIndex(of: marker, in: line, from: refEnd)
        else { return nil }
        var whole = JSONScanner(line)
        var name = JSONScanner(line, position: at + marker.count)
        guard (try? whole.skipValue()) != nil, whole.position == line.count, let text = try? name.parseString() else {
            return nil
        }
        return (key, refEnd, text)
    }

    /// The names in the profiles of `refs`, each at the number `refs` gives its ref, by a
    /// pass over the whole vault on every core (what `names(of:count:)` does without an
    /// index). The name is read where a line has the shape this code writes (`writtenName`); a line of another shape is parsed whole. No ref is made
    /// into text or kept as a key (a listing of a million people held them all before).
    /// - Returns: `count` names, nil where no profile was found.
    /// - Throws: `SystemError` if the vault cannot be read.
    func scannedNames(of refs: NumberedRefs, count: Int) throws -> [String?] {
        var names = [String?](repeating: nil, count: count)
        guard !refs.isEmpty else { return names }
        for (number, name) in try scannedNames(of: refs, from: 0) where number >= 0 && number < count {
            names[Int(number)] = name
        }
        return names
    }

    static let profileNameMarker = Array(",\"payload\":{\"kind\":\"profile\",\"name\":".utf8)

    /// Calls `body` with what `parse` makes of every line that may hold one of `refs` (and
    /// its offset), in file order, leaving out the lines it makes nothing of.
    ///
    /// `parse` runs on every core: the vault is mapped window by window, nothing is copied,
    /// and each window is cut at newlines into pieces whose lines are found and parsed at
    /// once; `body` is then called here, in order. Parsing a million profiles one after the
    /// other was most of `people` on a large store.
    /// - Throws: `SystemError` if the vault cannot be read; the first error `parse` throws
    ///   (in file order); what `body` throws.
    private func forEachCandidate<Parsed: Sendable>(
        withRefIn refs: Set<String>,
        parse: @escaping @Sendable (UnsafeRawBufferPointer, _ offset: Int) throws -> Parsed?,
        _ body: (Parsed) throws -> Void
    ) throws {
        guard !refs.isEmpty else { return }
        try forEachCandidate(WantedRefs(refs), parse: parse, body)
    }

    /// With `offset`, from there on (the start of a line). `window` bytes are mapped at a
    /// time, cut into pieces of `window / 16`: a window's mapped pages and parsed values are
    /// the pass's memory.
    func forEachCandidate<Parsed: Sendable>(
        _ wanted: WantedRefs, from offset: Int = 0, window windowSize: Int = 1 << 26,
        parse: @escaping @Sendable (UnsafeRawBufferPointer, _ offset: Int) throws -> Parsed?,
        _ body: (Parsed) throws -> Void
    ) throws {
        guard FileSystem.kind(of: path).exists else { return }
        try LineStream.forEachMappedWindow(path, from: offset, window: windowSize) { window, base in
            let pieceSize = max(windowSize / 16, 1 << 16)
            var cuts = [0]
            while cuts.last! + pieceSize < window.count {
                var cut = cuts.last! + pieceSize
                while window[cut - 1] != 0x0A { cut += 1 }  // the window ends with a newline
                cuts.append(cut)
            }
            cuts.append(window.count)
            let ranges = (0..<(cuts.count - 1)).map { cuts[$0]..<cuts[$0 + 1] }
            var parsed = [Result<[Parsed], any Error>](repeating: .success([]), count: ranges.count)
            parsed.withUnsafeMutableBufferPointer { out in
                let shared = SharedPieces(chunk: window, out: out)
                DispatchQueue.concurrentPerform(iterations: ranges.count) { piece in
                    shared.out[piece] = Result {
                        try wanted.lines(in: shared.chunk, ranges[piece]).compactMap { range in
                            try parse(UnsafeRawBufferPointer(rebasing: shared.chunk[range]), base + range.lowerBound)
                        }
                    }
                }
            }
            for piece in parsed {
                for item in try piece.get() { try body(item) }
            }
        }
    }

    /// Each task judges its own piece and writes its own slot.
    private struct SharedPieces<Parsed>: @unchecked Sendable {
        let chunk: UnsafeRawBufferPointer
        let out: UnsafeMutableBufferPointer<Result<[Parsed], any Error>>
    }

    /// The refs a pass looks for, packed where they have our shape (a ref of another shape
    /// is found by parsing the lines of another shape, which are all parsed).
    struct WantedRefs: Sendable {
        /// Nil: every line.
        let packed: Set<UInt64>?

        init(_ refs: Set<String>) { packed = Set(refs.compactMap(PackedRef.pack)) }

        init(packed: Set<UInt64>?) { self.packed = packed }

        /// Every line is a candidate.
        static let every = WantedRefs(packed: nil)

        /// The lines of `chunk[range]` (without their newlines) that may hold a wanted ref:
        /// those whose leading ref is wanted, and every line of another shape.
        func lines(in chunk: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Range<Int>] {
            var found: [Range<Int>] = []
            let prefix = Vault.refPrefix
            var start = range.lowerBound
            while start < range.upperBound,
                let p = memchr(chunk.baseAddress! + start, 0x0A, range.upperBound - start)
            {
                let end = chunk.baseAddress!.distance(to: p)
                guard let packed else {
                    // Every line is wanted: no ref need be read.
                    found.append(start..<end)
                    start = end + 1
                    continue
                }
                let line = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
                let refEnd = prefix.count + 18
                if line.count > refEnd, line[refEnd] == UInt8(ascii: "\""),
                    memcmp(line.baseAddress!, prefix, prefix.count) == 0,
                    let key = PackedRef.pack(bytes: UnsafeRawBufferPointer(rebasing: line[prefix.count..<refEnd]))
                {
                    if packed.contains(key) { found.append(start..<end) }
                } else {
                    found.append(start..<end)  // another shape (none this code writes): parsed
                }
                start = end + 1
            }
            return found
        }
    }

    static let refPrefix = Array("{\"ref\":\"".utf8)

    /// Every line's bytes, byte offset, SHA-256 and `judge`'s verdict on it, in file order.
    /// `judge` is also given its verdict on the line before in the same piece, if any: lines
    /// are mostly in the order of the events that wrote them, which makes a good hint.
    ///
    /// The vault is mapped a window at a time; each window is cut at newlines into pieces
    /// that the cores hash and judge at once (`judge` runs on the workers and must only
    /// read), and then `body` is called for each line on this thread. What `body` does per
    /// line should be little: the costly per-line work belongs in `judge`. Nothing is called
    /// if the vault does not exist; a last line without a newline is not passed on.
    /// - Throws: `SystemError` if the vault cannot be read; whatever `body` throws.
    package func forEachJudgedLine<Verdict: Sendable>(
        window: Int = 1 << 25,
        judge: @Sendable (UnsafeRawBufferPointer, SHA256Digest, _ previous: Verdict?) -> Verdict,
        _ body: (UnsafeRawBufferPointer, _ offset: Int, SHA256Digest, Verdict) throws -> Void
    ) throws {
        guard FileSystem.kind(of: path).exists else { return }
        try LineStream.forEachMappedWindow(path, window: window) { window, base in
            let pieces = JudgedPiece<Verdict>.cut(window, into: LogVerifier.processorCount * 8)
            let shared = JudgedPiece<Verdict>.Shared(window: window, pieces: pieces)
            DispatchQueue.concurrentPerform(iterations: pieces.count) { i in
                shared.pieces[i].judge(shared.window, judge)
            }
            for piece in pieces {
                for (i, line) in piece.lines.enumerated() {
                    try body(
                        UnsafeRawBufferPointer(rebasing: window[line]), base + line.lowerBound, piece.digests[i],
                        piece.verdicts[i])
                }
            }
        }
    }

    /// Streams every line's ref and digest from byte `offset` on, without parsing the
    /// payload (what `tandem verify` needs). The ref is nil for a line that does not parse.
    public func forEachDigest(
        from offset: Int = 0, _ body: (String?, SHA256Digest, _ offset: Int) throws -> Void
    ) throws {
        guard FileSystem.kind(of: path).exists else { return }
        try LineStream.forEach(path, from: offset) { line, at in try body(Self.ref(of: line), SHA256.hash(line), at) }
    }

    /// The bytes after the vault's last newline: an append cut short by a crash, which no
    /// event can point to (events follow their vault lines' fsync). Nil if the vault ends
    /// in a newline.
    public func tornTail() throws -> Range<Int>? {
        guard FileSystem.kind(of: path).exists else { return nil }
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        let size = try fd.size()
        guard size > 0 else { return nil }
        var window = min(size, 4096)
        while true {
            let bytes = try fd.read(count: window, at: size - window)
            if bytes.last == 0x0A { return nil }
            if let newline = bytes.lastIndex(of: 0x0A) { return (size - window + newline + 1)..<size }
            if window == size { return 0..<size }
            window = min(size, window * 4)
        }
    }

    /// Moves a torn tail (see `tornTail()`) to `quarantineDirectory` byte for byte and cuts
    /// the vault before it, as the log does with its own torn tail. Call it under the
    /// store's writer lock, before appending: otherwise the next line would be written onto
    /// the half line, and the person's data in it could never be erased.
    /// - Returns: the quarantined range, or nil if there was no torn tail.
    @discardableResult
    public func quarantineTornTail(into quarantineDirectory: String, stamp: String) throws -> Range<Int>? {
        guard let torn = try tornTail() else { return nil }
        let fd = try FileDescriptor(path: path, flags: O_RDWR)
        let bytes = try fd.read(count: torn.count, at: torn.lowerBound)
        _ = try FileSystem.keepInNewFile(
            bytes, in: quarantineDirectory, base: "vault.jsonl.torn-at-\(torn.lowerBound).\(stamp)")
        try fd.truncate(to: torn.lowerBound)
        try fd.sync()
        return torn
    }

    /// The `ref` member of a line that is one well-formed JSON object; nil otherwise.
    static func ref(of line: UnsafeRawBufferPointer) -> String? {
        var s = JSONScanner(line)
        var ref: String?
        do throws(JSONSyntaxError) {
            try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                if s.keyEquals(key, "ref"), ref == nil, !s.consume("null") {
                    ref = try s.parseString()
                } else {
                    try s.skipValue()
                }
            }
            s.skipWhitespace()
            guard s.isAtEnd else { return nil }
        } catch { return nil }
        return ref
    }

    /// Parses one line; a line that does not parse yields a payload of nil (and still a digest,
    /// which will not match any commitment).
    package static func parse(_ line: UnsafeRawBufferPointer, offset: Int) throws -> VaultLine {
        let digest = SHA256.hash(line)
        guard let (ref, payload) = content(line) else {
            return VaultLine(ref: "@\(offset)", payload: nil, digest: digest)
        }
        return VaultLine(ref: ref, payload: payload, digest: digest)
    }

    /// A line's ref and payload, without its digest (which only a check of the commitments
    /// needs: hashing every profile was a tenth of a listing of a million people); nil for a
    /// line that is not an object with a ref.
    /// - Parameter lists: whether a profile's lists are read (else they are checked and
    ///   left empty).
    package static func content(
        _ line: UnsafeRawBufferPointer, lists: Bool = true
    ) -> (ref: String, payload: PersonalPayload?)? {
        if let (ref, profile) = writtenProfile(line, lists: lists) { return (ref, .profile(profile)) }
        guard let parsed = parsedContent(line) else { return nil }
        guard !lists, case .profile(var profile) = parsed.payload else { return parsed }
        (profile.offers, profile.wants, profile.interests) = ([], [], [])
        return (parsed.ref, .profile(profile))
    }

    /// `content` by a parse of the whole line into JSON values: any line's.
    package static func parsedContent(_ line: UnsafeRawBufferPointer) -> (ref: String, payload: PersonalPayload?)? {
        guard let object = (try? JSONScanner.parse(line))?.objectValue, let ref = object["ref"]?.stringValue else {
            return nil
        }
        return (ref, object["payload"]?.objectValue.flatMap(PersonalPayload.init(json:)))
    }

    /// A profile line of the shape this code writes, read member by member without building
    /// its dictionaries (a listing of a million people spent most of its time on them); nil
    /// for anything else (another payload, an unknown or repeated key, a value of another
    /// type, an escaped key, bytes after the object), which `content` then parses whole.
    /// Where it answers, it answers as the whole parse does.
    /// - Parameter lists: whether the lists of offers, wants and interests are read (else
    ///   each is checked to be a list of strings, as the whole parse checks it, and left
    ///   empty).
    package static func writtenProfile(
        _ line: UnsafeRawBufferPointer, lists: Bool = true
    ) -> (ref: String, profile: Profile)? {
        var scanner = JSONScanner(line)
        var ref: String?
        var profile: Profile?
        var seen = 0  // one bit per key, top level and payload alike
        func mark(_ bit: Int) throws(JSONSyntaxError) {
            guard seen & (1 << bit) == 0 else { throw JSONSyntaxError(offset: 0, reason: "repeated") }
            seen |= 1 << bit
        }
        func strings(_ s: inout JSONScanner) throws(JSONSyntaxError) -> [String] {
            var out: [String] = []
            try s.forEachElement { e throws(JSONSyntaxError) in
                guard e.peek() == UInt8(ascii: "\"") else { throw JSONSyntaxError(offset: 0, reason: "not a string") }
                if lists { out.append(try e.parseString()) } else { _ = try e.scanString() }
            }
            return out
        }
        func payload(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Profile {
            var name: String?, email: String?, unit: String?, gender: String?
            var level: Int64?, born: Int64?
            var offers: [String] = [], wants: [String] = [], interests: [String] = []
            var first = true
            try s.forEachMember { m, key, escaped throws(JSONSyntaxError) in
                guard !escaped else { throw JSONSyntaxError(offset: 0, reason: "escaped key") }
                func text() throws(JSONSyntaxError) -> String {
                    guard m.peek() == UInt8(ascii: "\"") else {
                        throw JSONSyntaxError(offset: 0, reason: "not a string")
                    }
                    return try m.parseString()
                }
                if first {
                    // The kind first, as written: anything but a profile is read whole.
                    guard m.keyEquals(key, "kind"), try text() == "profile" else {
                        throw JSONSyntaxError(offset: 0, reason: "not a profile")
                    }
                    try mark(3)
                    first = false
                } else if m.keyEquals(key, "name") {
                    try mark(4)
                    name = try text()
                } else if m.keyEquals(key, "email") {
                    try mark(5)
                    email = try text()
                } else if m.keyEquals(key, "unit") {
                    try mark(6)
                    unit = try text()
                } else if m.keyEquals(key, "level") {
                    try mark(7)
                    level = try m.parseInt()
                } else if m.keyEquals(key, "born") {
                    try mark(8)
                    born = try m.parseInt()
                } else if m.keyEquals(key, "gender") {
                    try mark(9)
                    gender = try text()
                } else if m.keyEquals(key, "offers") {
                    try mark(10)
                    offers = try strings(&m)
                } else if m.keyEquals(key, "wants") {
                    try mark(11)
                    wants = try strings(&m)
                } else if m.keyEquals(key, "interests") {
                    try mark(12)
                    interests = try strings(&m)
                } else {
                    throw JSONSyntaxError(offset: 0, reason: "unknown key")
                }
            }
            guard let name, let unit, let level, let born, let l = Int(exactly: level), let b = Int(exactly: born)
            else {
                throw JSONSyntaxError(offset: 0, reason: "incomplete")
            }
            return Profile(
                name: name, email: email, unit: unit, level: l, born: b, gender: gender, offers: offers, wants: wants,
                interests: interests)
        }
        do {
            try scanner.forEachMember { m, key, escaped throws(JSONSyntaxError) in
                guard !escaped else { throw JSONSyntaxError(offset: 0, reason: "escaped key") }
                if m.keyEquals(key, "ref") {
                    try mark(0)
                    guard m.peek() == UInt8(ascii: "\"") else {
                        throw JSONSyntaxError(offset: 0, reason: "not a string")
                    }
                    ref = try m.parseString()
                } else if m.keyEquals(key, "nonce") {
                    try mark(1)
                    // A string, as written (an object skipped here could hide a repeated key,
                    // which the whole parse refuses).
                    guard m.peek() == UInt8(ascii: "\"") else {
                        throw JSONSyntaxError(offset: 0, reason: "not a string")
                    }
                    _ = try m.scanString()
                } else if m.keyEquals(key, "payload") {
                    try mark(2)
                    guard m.peek() == UInt8(ascii: "{") else {
                        throw JSONSyntaxError(offset: 0, reason: "not an object")
                    }
                    profile = try payload(&m)
                } else {
                    throw JSONSyntaxError(offset: 0, reason: "unknown key")
                }
            }
            scanner.skipWhitespace()
            guard scanner.position == line.count, let ref, let profile else { return nil }
            return (ref, profile)
        } catch {
            return nil
        }
    }

    /// Every line, by ref (for tests and small stores).
    public func lines() throws -> [String: VaultLine] {
        var out: [String: VaultLine] = [:]
        try forEachLine { out[$0.ref] = $0 }
        return out
    }

    /// Rewrites the vault without the lines whose ref is in `refs`: temporary file, fsync,
    /// rename, directory fsync. A crash leaves the old or the new vault, never a mix.
    /// - Returns: the refs that were actually removed.
    @discardableResult
    public func rewrite(removing refs: Set<String>) throws -> Set<String> {
        guard FileSystem.kind(of: path).exists else { return [] }
        var removed = Set<String>()
        let newline: [UInt8] = [0x0A]
        // Streamed: a large vault is never held in memory. A last line without a newline
        // (an append cut short, pointed to by no event) is dropped, as readers ignore it.
        try FileSystem.replaceAtomically(path) { write in
            try LineStream.forEach(path) { line, offset in
                let ref = Self.content(line)?.ref ?? "@\(offset)"
                if refs.contains(ref) {
                    removed.insert(ref)
                } else {
                    try write(line)
                    try newline.withUnsafeBytes { try write($0) }
                }
            }
        }
        return removed
    }
}

/// A run of a window's whole lines, hashed and judged by one worker.
private final class JudgedPiece<Verdict: Sendable>: @unchecked Sendable {
    let bytes: Range<Int>
    private(set) var lines: [Range<Int>] = []
    private(set) var digests: [SHA256Digest] = []
    private(set) var verdicts: [Verdict] = []

    init(bytes: Range<Int>) { self.bytes = bytes }

    /// Cuts a window of whole lines into about `count` pieces, each ending with a newline.
    static func cut(_ window: UnsafeRawBufferPointer, into count: Int) -> [JudgedPiece] {
        var pieces: [JudgedPiece] = []
        var start = 0
        let step = max(1, window.count / max(1, count))
        while start < window.count {
            var end = min(window.count, start + step) - 1
            // Up to the end of the line the cut falls in: the window ends with a newline.
            if let p = memchr(window.baseAddress! + end, 0x0A, window.count - end) {
                end = window.baseAddress!.distance(to: p)
            } else {
                end = window.count - 1
            }
            pieces.append(JudgedPiece(bytes: start..<(end + 1)))
            start = end + 1
        }
        return pieces
    }

    /// Finds, hashes and judges the piece's lines; on a worker, touching only this piece.
    /// Lines are hashed two at a time, side by side (`SHA256.hash(_:_:)`), and judged in order.
    func judge(
        _ window: UnsafeRawBufferPointer, _ verdict: (UnsafeRawBufferPointer, SHA256Digest, Verdict?) -> Verdict
    ) {
        /// The line from `start` to the next newline in the piece, if there is one.
        func line(at start: Int) -> Range<Int>? {
            guard start < bytes.upperBound,
                let p = memchr(window.baseAddress! + start, 0x0A, bytes.upperBound - start)
            else { return nil }
            return start..<window.baseAddress!.distance(to: p)
        }
        func add(_ range: Range<Int>, _ digest: SHA256Digest) {
            lines.append(range)
            digests.append(digest)
            verdicts.append(verdict(UnsafeRawBufferPointer(rebasing: window[range]), digest, verdicts.last))
        }
        var start = bytes.lowerBound
        while let first = line(at: start) {
            guard let second = line(at: first.upperBound + 1) else {
                add(first, SHA256.hash(UnsafeRawBufferPointer(rebasing: window[first])))
                return
            }
            let (firstDigest, secondDigest) = SHA256.hash(
                UnsafeRawBufferPointer(rebasing: window[first]), UnsafeRawBufferPointer(rebasing: window[second]))
            add(first, firstDigest)
            add(second, secondDigest)
            start = second.upperBound + 1
        }
    }

    /// What the workers share: each writes only its own piece.
    struct Shared: @unchecked Sendable {
        let window: UnsafeRawBufferPointer
        let pieces: [JudgedPiece]
    }
}

/// Vault refs, each with a number the caller chose (a person's row): refs of our shape by
/// their packed 64-bit key, any other as text. A million refs as keys of a dictionary of
/// strings cost a heap allocation each.
public struct NumberedRefs: Sendable {
    /// Refs of our shape (`r-` and 16 hex digits), by packed key.
    public private(set) var packed: [UInt64: Int32] = [:]
    /// Refs of any other shape.
    public private(set) var other: [String: Int32] = [:]

    public init(capacity: Int = 0) { packed.reserveCapacity(capacity) }

    /// Gives `ref` the number `number` (a later number for the same ref wins).
    public mutating func insert(_ ref: String, number: Int32) {
        if let key = PackedRef.pack(ref) { packed[key] = number } else { other[ref] = number }
    }

    /// Gives the ref with this packed key the number `number`.
    public mutating func insert(packed key: UInt64, number: Int32) { packed[key] = number }

    /// The number of `ref`, if it was given one.
    public func number(of ref: String) -> Int32? {
        if let key = PackedRef.pack(ref) { return packed[key] }
        return other[ref]
    }

    public var isEmpty: Bool { packed.isEmpty && other.isEmpty }
    public var count: Int { packed.count + other.count }
}
