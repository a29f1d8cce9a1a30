import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: which operation on which path, and the errno.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done, e.g. "open", "write", "fsync".
    public var operation: String
    /// The file or directory concerned.
    public var path: String
    /// The errno value.
    public var code: Int32

    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The C library's text for `code`.
    public var systemMessage: String { String(cString: strerror(code)) }

    public var description: String {
        let advice: String
        switch code {
        case EACCES, EPERM: advice = "; check the owner and mode of the store (it should be yours, mode 0700)"
        case EROFS: advice = "; the file system is read-only, so nothing can be recorded there"
        case ENOSPC, EDQUOT: advice = "; free some disk space and try again (nothing was recorded)"
        case ENOENT: advice = ""
        default: advice = ""
        }
        return "cannot \(operation) \(path): \(systemMessage)\(advice)"
    }
}

/// Bytes that can be read at any offset: a file, or memory.
package protocol RandomAccessBytes: ~Copyable {
    /// The number of bytes.
    func size() throws(SystemError) -> Int
    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many were read.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(SystemError) -> Int
}

extension RandomAccessBytes where Self: ~Copyable {
    /// Reads `count` bytes at `offset` (fewer at the end), into an array with room for at
    /// least `capacity` bytes: a caller that appends to it (a cached timeline extended by
    /// the log's newest lines) does not copy it whole on the first append. The array is not
    /// zeroed first, so each page is touched once, by the read itself (47 MB: 0.03 s).
    package func read(count: Int, at offset: Int, capacity: Int = 0) throws(SystemError) -> [UInt8] {
        var failure: SystemError?
        let bytes = [UInt8](unsafeUninitializedCapacity: max(count, capacity)) { buffer, initialized in
            do throws(SystemError) {
                initialized = count == 0 ? 0 : try read(into: buffer.baseAddress!, count: count, at: offset)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}

/// An open file descriptor that is closed exactly once, when it goes out of scope.
///
/// Every method states its failure mode: each throws `SystemError` with the errno.
public struct FileDescriptor: ~Copyable, RandomAccessBytes {
    /// The raw descriptor.
    public let rawValue: Int32
    /// The path it was opened with, for messages.
    public let path: String

    /// Opens `path` with `flags` (`O_CREAT` files get `mode`, then an explicit fchmod so the
    /// umask cannot loosen or tighten it).
    public init(path: String, flags: Int32, mode: mode_t = 0o600) throws(SystemError) {
        rawValue = try Syscall.open(path, flags: flags, mode: mode)
        self.path = path
        owned = true
    }

    /// A view of a descriptor someone else owns and will close.
    public init(borrowing rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
        owned = false
    }

    /// Whether this value closes the descriptor when it goes out of scope.
    private let owned: Bool

    deinit { if owned { Syscall.close(rawValue, path: path) } }

    /// The file's size in bytes.
    public func size() throws(SystemError) -> Int {
        var st = stat()
        guard fstat(rawValue, &st) == 0 else { throw SystemError("stat", path: path) }
        return Int(st.st_size)
    }

    /// The file's device and inode: its identity, whatever its path.
    public func identity() throws(SystemError) -> (device: UInt64, inode: UInt64) {
        var st = stat()
        guard fstat(rawValue, &st) == 0 else { throw SystemError("stat", path: path) }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Sets the permission bits.
    public func setMode(_ mode: mode_t) throws(SystemError) {
        guard fchmod(rawValue, mode) == 0 else { throw SystemError("chmod", path: path) }
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many were read
    /// (fewer only at the end of the file).
    package func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(SystemError) -> Int {
        var done = 0
        while done < count {
            let n = pread(rawValue, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at the current offset, retrying short writes and EINTR.
    /// - Throws: on the first failure; some bytes may have been written by then.
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = write(rawValue, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: path)
            }
            done += n
        }
    }

    /// Writes all of `bytes`; see `writeAll(_:)`.
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try writeAll(raw) } }.get()
    }

    /// Writes all of `bytes` at `offset` (pwrite), retrying short writes and EINTR.
    /// - Throws: on the first failure; some bytes may have been written by then.
    package func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(rawValue, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: path)
            }
            done += n
        }
    }

    /// Flushes the file's data, and the metadata needed to read it back, to the device
    /// (fdatasync): enough for a file rewritten in place at a fixed size.
    public func dataSync() throws(SystemError) {
        while fdatasync(rawValue) != 0 {
            if errno == EINTR { continue }
            throw SystemError("fdatasync", path: path)
        }
    }

    /// Flushes the file's data and metadata to the device (fsync).
    public func sync() throws(SystemError) {
        while fsync(rawValue) != 0 {
            if errno == EINTR { continue }
            throw SystemError("fsync", path: path)
        }
    }

    /// Cuts the file to `length` bytes.
    public func truncate(to length: Int) throws(SystemError) {
        guard ftruncate(rawValue, off_t(length)) == 0 else { throw SystemError("truncate", path: path) }
    }

    /// Releases the advisory lock this descriptor holds.
    /// - Throws: `SystemError` if flock refuses.
    public func unlock() throws(SystemError) { try Syscall.unlock(rawValue, path: path) }

    /// Reads up to `count` bytes from the descriptor's position (for files that cannot seek,
    /// such as /dev/urandom and /proc); 0 at the end.
    package func readSome(into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemError) -> Int {
        try Syscall.read(rawValue, into: buffer, count: count, path: path)
    }

    /// Tries to take an exclusive advisory lock (flock) without waiting.
    /// - Returns: false if another open file description holds it.
    public func tryLockExclusive() throws(SystemError) -> Bool {
        while true {
            if flock(rawValue, LOCK_EX | LOCK_NB) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SystemError("lock", path: path)
        }
    }
}

/// File system helpers with the failure modes spelt out.
public enum FileSystem {
    /// Whether something exists at `path`, and whether it is a directory.
    public static func kind(of path: String) -> (exists: Bool, isDirectory: Bool) {
        var st = stat()
        guard stat(path, &st) == 0 else { return (false, false) }
        return (true, (st.st_mode & S_IFMT) == S_IFDIR)
    }

    /// Where the symbolic link at `path` points, or nil if it is not one.
    public static func linkTarget(of path: String) -> String? { Syscall.linkTarget(path) }

    /// `path` with every symbolic link resolved, or nil if some part of it does not exist.
    public static func realPath(_ path: String) -> String? { Syscall.realPath(path) }

    /// The permission bits of `path`, or nil if it cannot be stat'ed.
    public static func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// The size of the file at `path`, or nil.
    public static func size(of path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    /// The names in a directory, without `.` and `..`.
    public static func contents(of path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("list", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Creates a directory with exactly `mode` (chmod after mkdir, so the umask does not
    /// matter). Succeeds if it already exists as a directory.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(SystemError) {
        if mkdir(path, mode) != 0 {
            guard errno == EEXIST, kind(of: path).isDirectory else { throw SystemError("create directory", path: path) }
            return
        }
        guard chmod(path, mode) == 0 else { throw SystemError("chmod", path: path) }
    }

    /// Creates a directory and any missing parents; only the last gets `mode`, parents
    /// get the usual 0755 minus umask.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        let parts = path.split(separator: "/")
        for (i, part) in parts.enumerated() {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if i == parts.count - 1 {
                try makeDirectory(prefix, mode: mode)
            } else if !kind(of: prefix).exists {
                guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                    throw SystemError("create directory", path: prefix)
                }
            }
        }
    }

    /// Flushes a directory's entries (after creating, renaming or removing files in it).
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", path: path) }
    }

    /// Replaces `path` atomically: writes a temporary file beside it (mode 0600), fsyncs it,
    /// renames it over `path`, and fsyncs the directory. A crash leaves either the old or
    /// the new content, never a mix.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError)
    {
        do {
            try replaceAtomically(path, mode: mode) { write in try bytes.withUnsafeBytes { try write($0) } }
        } catch let error as SystemError {
            throw error
        } catch {
            // The only other errors would come from `produce`, and this one throws none.
            preconditionFailure("replaceAtomically failed with \(error)")
        }
    }

    /// Replaces a file by one written through `produce`, in bounded memory: a temporary
    /// file is filled through a 1 MiB buffer, fsync'ed, and renamed over `path`; the
    /// directory is fsync'ed. Readers see the old file or the new one, never a mix.
    /// - Throws: `SystemError` if a write, the fsync or the rename fails, or what `produce`
    ///   throws; either way the temporary file is removed and `path` is untouched.
    public static func replaceAtomically(
        _ path: String, mode: mode_t = 0o600,
        streaming produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try replaceAtomically(path, mode: mode) { (fd: borrowing FileDescriptor) in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            try produce { bytes in
                if buffer.count + bytes.count >= 1 << 20 {
                    try fd.writeAll(buffer)
                    buffer.removeAll(keepingCapacity: true)
                    // A large piece goes straight to the file, not through the buffer.
                    if bytes.count >= 1 << 20 { return try fd.writeAll(bytes) }
                }
                buffer.append(contentsOf: bytes)
            }
            try fd.writeAll(buffer)
        }
    }

    /// Numbers the temporary files of this process's replacements.
    private static let temporaryNumbers = Atomic<Int>(0)

    /// Replaces a file by one that `fill` writes through its descriptor (anywhere in it,
    /// `pwrite` included), then fsync'ed and renamed over `path`; the directory is fsync'ed.
    /// Readers see the old file or the new one, never a mix.
    /// - Throws: `SystemError` if a write, the fsync or the rename fails, or what `fill`
    ///   throws; either way the temporary file is removed and `path` is untouched.
    public static func replaceAtomically(
        _ path: String, mode: mode_t = 0o600, filling fill: (borrowing FileDescriptor) throws -> Void
    ) throws {
        // Unique per call, not only per process: two threads of one process replacing the
        // same cache file (a query service answering two analysts) each write their own.
        let temporary = path + ".tmp-\(getpid())-\(temporaryNumbers.add(1, ordering: .relaxed).oldValue)"
        do {
            let fd = try FileDescriptor(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
            try fd.setMode(mode)
            try fill(fd)
            try fd.sync()
        } catch {
            // Best effort: the write's error is the one to report, and a temporary file left
            // behind holds nothing the target did not (it is removed with cache/ anyway).
            _ = unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = SystemError("rename", path: temporary)
            _ = unlink(temporary)
            throw failure
        }
        try syncDirectory(parentDirectory(of: path))
    }

    /// Removes a file if it exists.
    public static func remove(_ path: String) throws(SystemError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("remove", path: path) }
    }

    /// The directory part of a path (`.` for a bare name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The device and inode `path` names now (following symlinks), or nil if it names nothing.
    public static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Writes `bytes` to a new file `base.jsonl` in `directory` (`base-2.jsonl`, … if taken),
    /// mode 0600, and fsyncs the file and the directory: how torn tails are kept, byte for
    /// byte, before they are cut from the file they were in.
    /// - Returns: the new file's path.
    public static func keepInNewFile(_ bytes: [UInt8], in directory: String, base: String) throws(SystemError) -> String
    {
        try makeDirectory(directory)
        var name = base + ".jsonl"
        var n = 2
        while kind(of: directory + "/" + name).exists {
            name = base + "-\(n).jsonl"
            n += 1
        }
        let target = directory + "/" + name
        let out = try FileDescriptor(path: target, flags: O_WRONLY | O_CREAT | O_EXCL)
        try out.setMode(0o600)
        try out.writeAll(bytes)
        try out.sync()
        try syncDirectory(directory)
        return target
    }

    /// The last component of a path.
    public static func baseName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Reads a whole file.
    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        return try fd.read(count: fd.size(), at: 0)
    }
}
