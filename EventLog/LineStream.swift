#if canImport(Glibc)
    import Glibc
#endif

/// Streams the newline-terminated lines of a file through a fixed buffer, so that reading a
/// file of any size takes memory bounded by its longest line, never by the file.
public enum LineStream {
    /// The buffer the lines are read through; it doubles for a longer line.
    static let bufferSize = 1 << 20

    /// Calls `body` with each complete line from byte `offset` to `end` (the file's size if
    /// nil), without its newline, and the line's byte offset. A last line without a newline
    /// (an append cut short) is not passed on.
    ///
    /// The bytes are valid only during the call.
    /// - Throws: `SystemError` if the file cannot be read; whatever `body` throws.
    public static func forEach(
        _ path: String, from offset: Int = 0, to end: Int? = nil,
        _ body: (_ line: UnsafeRawBufferPointer, _ offset: Int) throws -> Void
    ) throws {
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        let limit = try end ?? fd.size()
        guard offset < limit else { return }
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0  // bytes in the buffer
        var bufferOffset = offset  // file offset of buffer[0]
        while bufferOffset + filled < limit {
            if filled == buffer.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = bigger
            }
            let n = try fd.read(
                into: buffer.baseAddress! + filled, count: min(buffer.count - filled, limit - bufferOffset - filled),
                at: bufferOffset + filled)
            if n == 0 { break }
            filled += n
            var start = 0
            while start < filled, let p = memchr(buffer.baseAddress! + start, 0x0A, filled - start) {
                let newline = buffer.baseAddress!.distance(to: p)
                try body(
                    UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<newline]),
                    bufferOffset + start)
                start = newline + 1
            }
            // Keep the incomplete last line for the next read.
            if start > 0 {
                if filled > start { memmove(buffer.baseAddress!, buffer.baseAddress! + start, filled - start) }
                filled -= start
                bufferOffset += start
            }
        }
    }
}
