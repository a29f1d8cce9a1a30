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
        try forEachChunk(path, from: offset, to: end) { chunk, base in
            var start = 0
            while start < chunk.count, let p = memchr(chunk.baseAddress! + start, 0x0A, chunk.count - start) {
                let newline = chunk.baseAddress!.distance(to: p)
                try body(UnsafeRawBufferPointer(rebasing: chunk[start..<newline]), base + start)
                start = newline + 1
            }
        }
    }

    /// Calls `body` with the file from byte `offset` to `end` in chunks of whole lines
    /// (newlines included; about a megabyte each, more for a longer line) and each chunk's
    /// byte offset: for callers that work on many lines at once. A last line without a newline
    /// is not passed on.
    /// - Throws: `SystemError` if the file cannot be read; whatever `body` throws.
    public static func forEachChunk(
        _ path: String, from offset: Int = 0, to end: Int? = nil,
        _ body: (_ chunk: UnsafeRawBufferPointer, _ offset: Int) throws -> Void
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
            // Whole lines only: up to the last newline.
            var whole = filled
            while whole > 0 && buffer[whole - 1] != 0x0A { whole -= 1 }
            guard whole > 0 else { continue }
            try body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<whole]), bufferOffset)
            // Keep the incomplete last line for the next read.
            if filled > whole { memmove(buffer.baseAddress!, buffer.baseAddress! + whole, filled - whole) }
            filled -= whole
            bufferOffset += whole
        }
    }

    /// Calls `body` with the file in windows of whole lines mapped into memory (newlines
    /// included; about `window` bytes each, more for a longer line) and each window's byte
    /// offset: nothing is copied, and at most one window is mapped at a time, so the pages
    /// a pass touches are let go as it moves on. A last line without a newline is not passed
    /// on.
    ///
    /// The bytes are valid only during the call. The file must not shrink meanwhile (our
    /// writers only append, and replace by renaming).
    /// - Throws: `SystemError` if the file cannot be opened or mapped; whatever `body` throws.
    ///
    /// With `offset`, the pass starts there (which must be the start of a line).
    public static func forEachMappedWindow(
        _ path: String, from offset: Int = 0, window: Int = 1 << 26,
        _ body: (_ window: UnsafeRawBufferPointer, _ offset: Int) throws -> Void
    ) throws {
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        let size = try fd.size()
        var lineStart = offset
        var span = max(window, Syscall.pageSize)
        while lineStart < size {
            let mapStart = lineStart - lineStart % Syscall.pageSize
            let count = min(span, size - mapStart)
            let map = try Syscall.mapForSequentialReading(fd.rawValue, offset: mapStart, count: count, path: path)
            defer { Syscall.unmap(map) }
            let local = lineStart - mapStart
            guard let last = UnsafeRawBufferPointer(rebasing: map[local...]).lastIndex(of: 0x0A) else {
                if mapStart + count == size { return }  // only a line without a newline is left
                span *= 2
                continue
            }
            let whole = local + last + 1
            try body(UnsafeRawBufferPointer(rebasing: map[local..<whole]), lineStart)
            lineStart = mapStart + whole
        }
    }
}
