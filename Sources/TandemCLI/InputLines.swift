import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// The lines of a batch input (`tandem append`), handed out one at a time: from a file in
/// 1 MiB reads, so that a million commands are never held as text, or from bytes already
/// read (standard input, a pipe, a FIFO: they cannot be read twice).
final class InputLines {
    private var fd: Int32 = -1
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    let name: String

    /// Reads `path` lazily.
    /// - Throws: `CommandFailure` if it cannot be opened.
    init(path: String, name: String) throws {
        do { fd = try Syscall.open(path, flags: O_RDONLY) } catch {
            throw CommandFailure("cannot read \(name): \(error.systemMessage)")
        }
        buffer = [UInt8](repeating: 0, count: 1 << 20)
        self.name = name
    }

    /// Hands out lines of bytes already read.
    init(bytes: [UInt8], name: String) {
        buffer = bytes
        end = bytes.count
        atEnd = true
        self.name = name
    }

    deinit { if fd >= 0 { Syscall.close(fd, path: name) } }

    /// Whether the input is a regular file that can be read a second time.
    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    /// Calls `body` with the next line (without its newline); nil at the end of the input.
    func next<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        while true {
            if let newline = buffer.withUnsafeBytes({ raw in
                memchr(raw.baseAddress! + start, 0x0A, end - start).map {
                    raw.baseAddress!.distance(to: UnsafeRawPointer($0))
                }
            }) {
                defer { start = newline + 1 }
                return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<newline])) }
            }
            if atEnd {
                guard start < end else { return nil }
                defer { start = end }
                return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            }
            try refill()
        }
    }

    private func refill() throws {
        // Keep the unfinished line, at the front; grow for a line longer than the buffer.
        let rest = end - start
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: rest)
            }
            (start, end) = (0, rest)
        }
        if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let n: Int
        do {
            n = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in
                try Syscall.read(fd, into: raw.baseAddress! + end, count: raw.count - end, path: name)
            }
        } catch { throw CommandFailure("cannot read \(name): \((error as? SystemError)?.systemMessage ?? "\(error)")") }
        if n == 0 { atEnd = true } else { end += n }
    }

    /// Counts lines and looks for `needle` (which holds no newline) in a file, in reads of
    /// `chunk` bytes: the lines `next` hands out, and whether one of them holds `needle`.
    ///
    /// Whole reads, not line by line: a search and a newline search per line cost a tenth
    /// of a second for a million commands, before the first was decided.
    static func survey(
        path: String, name: String, for needle: [UInt8], chunk: Int = 1 << 20
    ) throws -> (lines: Int, found: Bool) {
        precondition(!needle.contains(0x0A) && chunk > 0)
        let reader = try InputLines(path: path, name: name)
        // The needle's length less one is kept from the read before, for a needle that
        // straddles two reads.
        let kept = max(0, needle.count - 1)
        var buffer = [UInt8](repeating: 0, count: kept + chunk)
        var carried = 0
        var newlines = 0
        var found = false
        var last: UInt8 = 0x0A
        while true {
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in
                    try Syscall.read(reader.fd, into: raw.baseAddress! + carried, count: chunk, path: name)
                }
            } catch {
                throw CommandFailure("cannot read \(name): \((error as? SystemError)?.systemMessage ?? "\(error)")")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { raw in
                newlines += ByteSearch.count(0x0A, in: UnsafeRawBufferPointer(rebasing: raw[carried..<(carried + n)]))
                if !found {
                    found = ByteSearch.contains(needle, in: UnsafeRawBufferPointer(rebasing: raw[..<(carried + n)]))
                }
                last = raw[carried + n - 1]
            }
            let keep = min(kept, carried + n)
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + carried + n - keep, byteCount: keep)
            }
            carried = keep
        }
        // A last line without a newline is a line too.
        return (newlines + (last == 0x0A ? 0 : 1), found)
    }
}
