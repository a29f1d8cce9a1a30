#if canImport(Glibc)
    import Glibc
#endif

/// Why a path cannot be used as a store.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing is there.
    case missing(path: String)
    /// A regular file is there.
    case isFile(path: String)
    /// A directory with other content is there.
    case notAStore(path: String, contents: [String])
    /// The store, or one of its files, may not be read or written by this user.
    case permissionDenied(path: String)
    /// A store file is a symbolic link: a write through it would land outside the store, and
    /// a read would vouch for a file the store does not hold.
    case symlinked(path: String, target: String)
    /// A system call failed.
    case system(SystemError)

    /// The store files that must be regular files inside the store directory.
    public static let storeFiles = [
        "events.jsonl", "events.head", "access.jsonl", "access.head", "vault.jsonl", "damage.json", "secret",
    ]

    /// Whether this is damage to the store (exit code 65 on the command line).
    public var isDamage: Bool { if case .symlinked = self { true } else { false } }

    public var description: String {
        switch self {
        case .missing(let path):
            return "no store at \(path)"
        case .isFile(let path):
            return "\(path) is a file, not a store directory"
        case .notAStore(let path, let contents):
            let listed = contents.prefix(3).joined(separator: ", ") + (contents.count > 3 ? ", …" : "")
            return
                "\(path) is not a store: it is a non-empty directory without events.jsonl (it holds \(listed))"
        case .permissionDenied(let path):
            return
                "permission denied: \(path) may not be read or written by this user; run tandem as the store's owner, or fix its permissions (the store is 0700, its files 0600)"
        case .symlinked(let path, let target):
            return
                "\(path) is a symbolic link (to \(target)), not a file of the store; nothing was read or written. Replace it with the real file (restore the store from a backup)"
        case .system(let error):
            return error.description
        }
    }
}

/// A store directory: the programme log, the access ledger, and their neighbours.
///
/// ```
/// STORE/            mode 0700
///   events.jsonl    the programme's hash-chained log (0600)
///   events.head     its last acknowledged head, fsync'ed with every append (0600)
///   access.jsonl    the access ledger, same format (0600)
///   access.head     its last acknowledged head (0600)
///   damage.json     damage found earlier, while the store is not restored or recovered
///   vault.jsonl     personal data, written by Mentoring (0600)
///   cache/          projection snapshots, disposable
///   quarantine/     torn tails, byte for byte
/// ```
public struct Store: Sendable {
    /// The directory.
    public let root: String
    /// The programme log.
    public let events: FileLog
    /// The access ledger.
    public let access: FileLog
    /// Damage found earlier, which makes every reader and writer refuse.
    public let damageMarker: DamageMarker

    /// Opens an existing store. Nothing is created.
    /// - Throws: `StoreError` if `root` is no store.
    public init(
        root: String, lockTimeout: Double = 10, clock: any Clock = SystemClock(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(StoreError) {
        let kind = FileSystem.kind(of: root)
        guard kind.exists else {
            if errno == EACCES { throw .permissionDenied(path: root) }
            throw .missing(path: root)
        }
        guard kind.isDirectory else { throw .isFile(path: root) }
        guard Syscall.canEnter(root) else { throw .permissionDenied(path: root) }
        for name in StoreError.storeFiles {
            let path = root + "/" + name
            if let target = Syscall.linkTarget(path) { throw .symlinked(path: path, target: target) }
        }
        guard FileSystem.kind(of: root + "/events.jsonl").exists else {
            let contents = (try? FileSystem.contents(of: root)) ?? []
            if contents.isEmpty { throw .missing(path: root) }
            throw .notAStore(path: root, contents: contents)
        }
        self.root = root
        let quarantine = root + "/quarantine"
        damageMarker = DamageMarker(path: root + "/damage.json")
        events = FileLog(
            path: root + "/events.jsonl", quarantineDirectory: quarantine, headRecordPath: root + "/events.head",
            damageMarker: damageMarker, lockTimeout: lockTimeout, clock: clock, warn: warn)
        access = FileLog(
            path: root + "/access.jsonl", quarantineDirectory: quarantine, headRecordPath: root + "/access.head",
            damageMarker: damageMarker, lockTimeout: lockTimeout, clock: clock, warn: warn)
    }

    /// Creates a store, or opens it if `root` already is one (idempotent).
    ///
    /// - Throws: `StoreError.isFile` or `.notAStore` for a path that is a file or a
    ///   non-empty directory without `events.jsonl`; `LogError` if an existing log is damaged.
    /// - Returns: the store, and whether it was created now.
    public static func create(
        root: String, actor: String, clock: any Clock, random: some RandomSource, lockTimeout: Double = 10,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> (store: Store, created: Bool) {
        let kind = FileSystem.kind(of: root)
        if kind.exists && !kind.isDirectory { throw StoreError.isFile(path: root) }
        if kind.exists {
            let contents = try wrap { () throws(SystemError) in try FileSystem.contents(of: root) }
            if !contents.isEmpty && !contents.contains("events.jsonl") {
                throw StoreError.notAStore(path: root, contents: contents)
            }
        }
        try wrap { () throws(SystemError) in
            try FileSystem.makeDirectories(root, mode: 0o700)
            guard chmod(root, 0o700) == 0 else { throw SystemError("chmod", path: root) }
        }
        let logPath = root + "/events.jsonl"
        let log = FileLog(
            path: logPath, quarantineDirectory: root + "/quarantine", headRecordPath: root + "/events.head",
            lockTimeout: lockTimeout, clock: clock, warn: warn)
        let (created, _) = try log.initialize(actor: actor, logID: LogCreation.randomLogID(using: random))
        let store = try Store(root: root, lockTimeout: lockTimeout, clock: clock, warn: warn)
        try store.ensureAccessLedger(actor: actor, random: random)
        // The secret the analysts' record keys derive from: made now, so that it exists before
        // anyone is counted, and never again.
        _ = try store.secret(random: random)
        return (store, created)
    }

    /// Creates the access ledger's first line if the ledger does not exist yet.
    public func ensureAccessLedger(actor: String, random: some RandomSource) throws {
        if let size = FileSystem.size(of: access.path), size > 0 { return }
        _ = try access.initialize(actor: actor, logID: LogCreation.randomLogID(using: random))
    }

    /// The store's secret: 32 random bytes in `secret` (0600), made on first use and never
    /// printed. Keyed hashes made with it (HMAC-SHA256) let the store compare values it must
    /// not keep as they are.
    /// - Throws: `SystemError` if it cannot be read or created; `StoreError` if it is not 64
    ///   hex digits.
    public func secret(random: some RandomSource) throws -> [UInt8] {
        let path = self.path("secret")
        if let bytes = try? FileSystem.readFile(path) {
            guard bytes.count >= 64, let digest = SHA256Digest(hex: String(decoding: bytes.prefix(64), as: UTF8.self))
            else {
                throw StoreError.system(SystemError("read", path: path, code: EINVAL))
            }
            return digest.bytes
        }
        let hex = random.hex(bytes: 32)
        do {
            let fd = try FileDescriptor(path: path, flags: O_WRONLY | O_CREAT | O_EXCL)
            try fd.setMode(0o600)
            try fd.writeAll(Array((hex + "\n").utf8))
            try fd.sync()
            try FileSystem.syncDirectory(root)
        } catch {
            if error.code == EEXIST { return try secret(random: random) }  // another process made it first
            throw error
        }
        return SHA256Digest(hex: hex)!.bytes
    }

    /// A path inside the store.
    public func path(_ name: String) -> String { root + "/" + name }

    /// The cache directory (created on demand, mode 0700).
    public var cacheDirectory: String { root + "/cache" }
    /// The quarantine directory.
    public var quarantineDirectory: String { root + "/quarantine" }

    /// Files and directories whose modes let anyone but the owner in, as sentences.
    /// The store is 0700 and its files 0600; `verify` reports anything looser.
    public func permissionProblems() -> [String] {
        var problems: [String] = []
        func check(_ path: String, expected: mode_t) {
            guard let mode = FileSystem.mode(of: path), mode & 0o077 != 0 else { return }
            problems.append(
                "\(path) has mode \(String(mode, radix: 8)), expected \(String(expected, radix: 8)) (fix with chmod \(String(expected, radix: 8)) \(path))"
            )
        }
        check(root, expected: 0o700)
        for name in (try? FileSystem.contents(of: root)) ?? [] {
            let path = root + "/" + name
            if FileSystem.kind(of: path).isDirectory {
                check(path, expected: 0o700)
                for inner in (try? FileSystem.contents(of: path)) ?? [] { check(path + "/" + inner, expected: 0o600) }
            } else {
                check(path, expected: 0o600)
            }
        }
        return problems
    }

    private static func wrap<R>(_ body: () throws(SystemError) -> R) throws(StoreError) -> R {
        do { return try body() } catch { throw .system(error) }
    }
}
