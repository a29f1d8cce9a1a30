import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the end of a log file holds: the intact head, and a torn tail if any.
struct TailInspection {
    struct Torn {
        var range: Range<Int>
        var reason: String
    }

    /// The last acknowledged line.
    var head: LogHead
    /// Byte offset just after the head's newline.
    var intactEnd: Int
    /// Bytes after the intact end: a partial line, a line whose hash fails, or an
    /// unfinished batch.
    var torn: Torn?
    /// Where the head line starts, when the inspection saw it (-1 otherwise).
    var headOffset: Int = -1

    /// Reads the end of the file, O(1) in the log's length (except when walking back over
    /// an unfinished batch, which is bounded by the batch).
    static func inspect<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String
    ) throws(LogError) -> TailInspection {
        let size: Int
        do { size = try fd.size() } catch { throw .system(error) }
        if size == 0 { return TailInspection(head: .empty, intactEnd: 0, torn: nil) }
        var window = min(size, 1 << 12)
        var bytes: [UInt8]
        // Grow the window until it holds the last two complete lines (or the whole file).
        while true {
            do { bytes = try fd.read(count: window, at: size - window) } catch { throw .system(error) }
            if countNewlines(bytes, atLeast: 3) || window == size { break }
            window = min(size, window * 4)
        }
        let base = size - window
        var cut = size
        var reason = ""
        // 1. A last line without its newline.
        if bytes.last != 0x0A {
            let lastNewline = bytes.lastIndex(of: 0x0A)
            cut = lastNewline.map { base + $0 + 1 } ?? 0
            reason = "the last line has no newline"
        }
        // 2. A last complete line whose hash does not verify (or that does not parse).
        var lines = completeLines(bytes, base: base, end: cut)
        if let last = lines.last, lineStatus(bytes, base: base, range: last) == nil {
            cut = last.lowerBound
            reason = reason.isEmpty ? "the last line's hash does not verify" : reason
            lines.removeLast()
            if let previous = lines.last, lineStatus(bytes, base: base, range: previous) == nil {
                // Two bad lines in a row is not a torn write.
                throw .damaged(
                    LogDamage(
                        seq: max(1, envelopeSeq(bytes, base: base, range: previous) ?? 1),
                        offset: previous.lowerBound, reason: "hash does not verify"), path: path)
            }
        }
        guard let lastRange = lines.last, let last = lineStatus(bytes, base: base, range: lastRange) else {
            if cut == 0 {
                // Nothing intact would remain. Only an interrupted first write (a prefix of
                // a first line, without a newline) may go; anything else is not a log at all.
                let firstLine = Array("{\"seq\":1,\"at\":\"".utf8)
                let prefix = Array(bytes.prefix(firstLine.count))
                guard base == 0, !bytes.contains(0x0A), prefix == Array(firstLine.prefix(prefix.count)) else {
                    throw .damaged(
                        LogDamage(
                            seq: 1, offset: 0,
                            reason: "this is not a Tandem log: the first line is not a valid LogCreated line"),
                        path: path)
                }
                return TailInspection(head: .empty, intactEnd: 0, torn: Torn(range: 0..<size, reason: reason))
            }
            // The window held one line only and it was torn: find the line before it.
            return try inspectBefore(fd, path: path, end: cut, size: size, reason: reason)
        }
        // 3. An unfinished batch: lines of a batch whose last line never arrived.
        if let batch = last.batch, last.seq < batch.upperBound {
            let start = try ChainReader.offset(
                ofSeq: batch.lowerBound, in: fd, path: path, end: lastRange.upperBound + 1)
            let before = try headBefore(offset: start, fd: fd, path: path)
            return TailInspection(
                head: before, intactEnd: start,
                torn: Torn(
                    range: start..<size,
                    reason: "batch \(batch.lowerBound)…\(batch.upperBound) is unfinished (its last line is missing)"))
        }
        return TailInspection(
            head: LogHead(seq: last.seq, hash: last.hash), intactEnd: lastRange.upperBound + 1,
            torn: cut < size ? Torn(range: cut..<size, reason: reason) : nil, headOffset: lastRange.lowerBound)
    }

    private static func inspectBefore<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String, end: Int, size: Int, reason: String
    ) throws(LogError) -> TailInspection {
        let head = try headBefore(offset: end, fd: fd, path: path)
        return TailInspection(head: head, intactEnd: end, torn: Torn(range: end..<size, reason: reason))
    }

    /// The head of the prefix `0..<offset`, which must end with a newline.
    static func headBefore<Source: RandomAccessBytes & ~Copyable>(
        offset: Int, fd: borrowing Source, path: String
    ) throws(LogError) -> LogHead {
        if offset == 0 { return .empty }
        var window = min(offset, 1 << 16)
        while true {
            let bytes: [UInt8]
            do { bytes = try fd.read(count: window, at: offset - window) } catch { throw .system(error) }
            let base = offset - window
            let lines = completeLines(bytes, base: base, end: offset)
            if let last = lines.last, lines.count >= 2 || window == offset {
                guard let status = lineStatus(bytes, base: base, range: last) else {
                    throw .damaged(
                        LogDamage(
                            seq: envelopeSeq(bytes, base: base, range: last) ?? 1, offset: last.lowerBound,
                            reason: "hash does not verify"), path: path)
                }
                return LogHead(seq: status.seq, hash: status.hash)
            }
            window = min(offset, window * 4)
        }
    }

    /// Whether `bytes` holds at least `count` newlines (counted from the end).
    private static func countNewlines(_ bytes: [UInt8], atLeast count: Int) -> Bool {
        bytes.withUnsafeBytes { raw in
            var found = 0
            var i = raw.count - 1
            while i >= 0 {
                if raw[i] == 0x0A {
                    found += 1
                    if found >= count { return true }
                }
                i -= 1
            }
            return false
        }
    }

    /// The last three complete lines (newline excluded) in `bytes[..<end-base]`, as absolute
    /// ranges; the window's first partial line is skipped unless it starts at offset 0.
    private static func completeLines(_ bytes: [UInt8], base: Int, end: Int) -> [Range<Int>] {
        bytes.withUnsafeBytes { raw in
            var newlines: [Int] = []
            var i = end - base - 1
            while i >= 0 && newlines.count < 4 {
                if raw[i] == 0x0A { newlines.append(i) }
                i -= 1
            }
            newlines.reverse()
            var result: [Range<Int>] = []
            var start: Int? = (newlines.count < 4 && base == 0) ? 0 : nil
            for n in newlines {
                if let s = start { result.append((base + s)..<(base + n)) }
                start = n + 1
            }
            return result
        }
    }

    private struct LineStatus {
        var seq: Int
        var hash: SHA256Digest
        var batch: ClosedRange<Int>?
    }

    /// The line's seq and hash if it parses and its hash verifies; else nil.
    static func verifiedHead(_ line: UnsafeRawBufferPointer) -> LogHead? {
        guard let envelope = try? LineParser.parse(line) else { return nil }
        let computed = SHA256.hash(UnsafeRawBufferPointer(rebasing: line[0..<envelope.hashedLength]))
        guard computed.matches(hexBytes: UnsafeRawBufferPointer(rebasing: line[envelope.hash])) else { return nil }
        return LogHead(seq: envelope.seq, hash: computed)
    }

    /// The line's seq, hash and batch if it parses and its hash verifies; else nil.
    private static func lineStatus(_ bytes: [UInt8], base: Int, range: Range<Int>) -> LineStatus? {
        bytes.withUnsafeBytes { raw in
            let line = UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)])
            guard let envelope = try? LineParser.parse(line) else { return nil }
            let computed = SHA256.hash(UnsafeRawBufferPointer(rebasing: line[0..<envelope.hashedLength]))
            guard computed.matches(hexBytes: UnsafeRawBufferPointer(rebasing: line[envelope.hash])) else { return nil }
            return LineStatus(seq: envelope.seq, hash: computed, batch: envelope.batch)
        }
    }

    private static func envelopeSeq(_ bytes: [UInt8], base: Int, range: Range<Int>) -> Int? {
        bytes.withUnsafeBytes { raw in
            ChainReader.leadingSeq(
                UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)]))
        }
    }
}
