#if canImport(Glibc)
    import Glibc
#endif

/// The system calls EventLog makes outside `FileDescriptor`'s methods, each with its result
/// checked, `EINTR` retried, and failures turned into `SystemError` naming the call and path.
///
/// Calls whose failure cannot be acted on (closing, unmapping, removing a scratch file in a
/// deinit) still look at the result: a bad descriptor or address is a bug in this code, so
/// debug builds stop there; anything else is reported to the caller, which says why it may
/// drop it.
package enum Syscall {
    /// Opens `path`, close-on-exec, retrying when interrupted.
    /// - Throws: `SystemError("open")` with errno.
    package static func open(_ path: String, flags: Int32, mode: mode_t = 0o600) throws(SystemError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError("open", path: path) }
        }
    }

    /// Closes `fd`. On Linux the descriptor is released even when close reports an error
    /// (and must not be closed again), so the only use of the result is to catch a
    /// descriptor closed twice; durability never depends on it, since every acknowledged
    /// write was fsynced before.
    /// - Returns: the error close reported, if any.
    @discardableResult
    package static func close(_ fd: Int32, path: String = "") -> SystemError? {
        guard Glibc.close(fd) != 0 else { return nil }
        assert(errno != EBADF, "closed a descriptor that was not open: \(fd) \(path)")
        return errno == EINTR ? nil : SystemError("close", path: path)
    }

    /// Reads up to `count` bytes from the descriptor's position; 0 at the end.
    /// - Throws: `SystemError("read")` with errno.
    package static func read(
        _ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String
    ) throws(SystemError)
        -> Int
    {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw SystemError("read", path: path) }
        }
    }

    /// Releases an advisory lock taken with flock.
    /// - Throws: `SystemError("unlock")` with errno.
    package static func unlock(_ fd: Int32, path: String) throws(SystemError) {
        while flock(fd, LOCK_UN) != 0 {
            if errno != EINTR { throw SystemError("unlock", path: path) }
        }
    }

    /// Removes a file.
    /// - Throws: `SystemError("remove")` with errno (ENOENT included).
    package static func unlink(_ path: String) throws(SystemError) {
        guard Glibc.unlink(path) == 0 else { throw SystemError("remove", path: path) }
    }

    /// Maps `size` bytes of `fd` read-only.
    /// - Throws: `SystemError("mmap")` with errno.
    package static func mapReadOnly(_ fd: Int32, size: Int, path: String) throws(SystemError) -> UnsafeRawBufferPointer
    {
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SystemError("mmap", path: path)
        }
        return UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Maps `count` bytes of the file from `offset` (a multiple of the page size) for
    /// reading in order: the kernel reads ahead and maps pages in runs.
    /// - Throws: `SystemError` if the mapping fails.
    package static func mapForSequentialReading(
        _ fd: Int32, offset: Int, count: Int, path: String
    ) throws(SystemError) -> UnsafeRawBufferPointer {
        guard let base = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, off_t(offset)), base != MAP_FAILED else {
            throw SystemError("mmap", path: path)
        }
        _ = madvise(base, count, MADV_SEQUENTIAL)  // advice only: ignoring a refusal is safe
        return UnsafeRawBufferPointer(start: base, count: count)
    }

    /// The size of a memory page.
    package static let pageSize: Int = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Unmaps what `mapReadOnly` mapped. Only a wrong address or length can make munmap
    /// fail, which is a bug here.
    package static func unmap(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let result = munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        assert(result == 0, "munmap of a mapping this code did not make")
    }

    /// The wall clock, in whole seconds since 1970. `CLOCK_REALTIME` always exists, so
    /// clock_gettime cannot fail with a valid pointer.
    package static func realtimeSeconds() -> Int64 {
        var spec = timespec()
        let result = clock_gettime(CLOCK_REALTIME, &spec)
        precondition(result == 0, "clock_gettime(CLOCK_REALTIME) failed")
        return Int64(spec.tv_sec)
    }

    /// Where a symbolic link points, or nil if `path` is not one (or cannot be read).
    package static func linkTarget(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, Int(PATH_MAX))
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` with every symlink resolved, if all of it exists.
    package static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// Whether the process may read and enter the directory `path`.
    package static func canEnter(_ path: String) -> Bool { access(path, R_OK | X_OK) == 0 }

    /// Whether the process may create files in the directory `path`.
    package static func canWrite(inDirectory path: String) -> Bool { access(path, W_OK | X_OK) == 0 }
}

extension Syscall {
    /// Asks the C allocator to give the memory freed so far back to the system
    /// (`malloc_trim`): after a large model is dropped, glibc keeps its pages for the next
    /// allocation, and the process's resident size stays where it peaked. Looked up at run
    /// time (Swift's Glibc module does not declare it); nothing happens where it is missing.
    package static func returnFreedMemory() {
        #if canImport(Glibc)
            typealias Trim = @convention(c) (Int) -> Int32
            // RTLD_DEFAULT: the symbol wherever it is loaded.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }
}
