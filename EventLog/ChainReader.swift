import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Streams lines from a log file in bounded memory, checking the chain's cheap invariants:
/// contiguous seqs and `prev` equal to the previous line's `hash`.
enum ChainReader {
    static let bufferSize = 1 << 20
    static let maximumLineLength = 64 << 20

    /// Reads `{"seq":N,` at the start of a line.
    static func leadingSeq(_ line: UnsafeRawBufferPointer) -> Int? {
        let open: StaticString = "{\"seq\":"
        guard line.count > 8 else { return nil }
        let p = line.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard JSONScanner.equalBytes(p, open.utf8Start, 7) else { return nil }
        // At most 18 digits: no seq has more, and none can overflow.
        let limit = min(line.count, 7 + 18)
        var value = 0
        var i = 7
        while i < limit, p[i] &- 48 < 10 {
            value = value &* 10 &+ Int(p[i] &- 48)
            i &+= 1
        }
        guard i > 7, i < line.count, p[i] == UInt8(ascii: ","), p[7] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// Checks the fixed-position suffix `,"prev":"…","hash":"…"}` and returns nil if it is
    /// malformed.
    static func suffixIsWellFormed(_ line: UnsafeRawBufferPointer) -> Bool {
        let n = line.count
        guard n >= LineLayout.shortestLine else { return false }
        let end = line.baseAddress!.assumingMemoryBound(to: UInt8.self) + n
        let prev = LineLayout.prevMarker, hash = LineLayout.hashMarker
        return JSONScanner.equalBytes(end - LineLayout.prevMarkerFromEnd, prev.utf8Start, prev.utf8CodeUnitCount)
            && JSONScanner.equalBytes(end - LineLayout.hashMarkerFromEnd, hash.utf8Start, hash.utf8CodeUnitCount)
            && end[-2] == UInt8(ascii: "\"") && end[-1] == UInt8(ascii: "}")
    }

    /// The line starting at `offset`, newline included, however long; nil if no complete
    /// line starts there before `end`.
    static func line<Source: RandomAccessBytes & ~Copyable>(
        at offset: Int, in fd: borrowing Source, path: String, end: Int
    ) throws(LogError) -> [UInt8]? {
        guard offset < end else { return nil }
        var length = min(4096, end - offset)
        while true {
            let bytes: [UInt8]
            do { bytes = try fd.read(count: length, at: offset) } catch { throw .system(error) }
            if let newline = bytes.firstIndex(of: 0x0A) { return Array(bytes[...newline]) }
            if offset + length >= end || length >= maximumLineLength { return nil }
            length = min(end - offset, length * 4)
        }
    }

    /// Whether line `seq` starts at `offset`: the byte before it is a newline (raw newlines
    /// only end lines; JSON escapes them in strings) and the line opens with `{"seq":seq,`.
    /// One small read, where a search by seq takes some twenty.
    static func lineStarts<Source: RandomAccessBytes & ~Copyable>(
        _ seq: Int, at offset: Int, in fd: borrowing Source, end: Int
    ) throws(LogError) -> Bool {
        guard offset >= 1, offset < end else { return offset == 0 && seq == 1 }
        let bytes: [UInt8]
        do { bytes = try fd.read(count: min(33, end - offset + 1), at: offset - 1) } catch { throw .system(error) }
        guard bytes.first == 0x0A else { return false }
        return bytes.withUnsafeBytes { leadingSeq(UnsafeRawBufferPointer(rebasing: $0[1...])) } == seq
    }

    /// Checks the `LogCreated` line and returns the log id.
    @discardableResult
    static func checkFirstLine<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String
    ) throws(LogError) -> String {
        let bytes: [UInt8]
        do { bytes = try fd.read(count: 4096, at: 0) } catch { throw .system(error) }
        guard let newline = bytes.firstIndex(of: 0x0A) else {
            throw .damaged(
                LogDamage(seq: 1, offset: 0, reason: "the first line is longer than 4 KiB or has no newline"),
                path: path)
        }
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(LogError) -> String in
                let line = LogLine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<newline]), offset: 0, seq: 1)
                try LogCreation.checkFirstLine(line, path: path)
                return (try? line.entry())?.data["log"]?.stringValue ?? ""
            }
        }.get()
    }

    /// The byte offset of line `seq`, found by binary search over byte offsets: seqs rise
    /// with offsets, so O(log n) small reads and no index.
    static func offset<Source: RandomAccessBytes & ~Copyable>(
        ofSeq seq: Int, in fd: borrowing Source, path: String, end: Int
    ) throws(LogError) -> Int {
        if seq <= 1 { return 0 }
        func notFound(_ at: Int) -> LogError {
            .damaged(LogDamage(seq: seq, offset: at, reason: "no line holds seq \(seq)"), path: path)
        }
        // Invariant: `low` is a line start, and line `seq` starts in low..<high.
        var low = 0, high = end
        while true {
            if high - low <= 1 << 16 {
                let bytes: [UInt8]
                do { bytes = try fd.read(count: min(end, high + 64) - low, at: low) } catch { throw .system(error) }
                var start = 0
                while start < high - low {
                    let found = bytes.withUnsafeBytes { raw in
                        leadingSeq(UnsafeRawBufferPointer(rebasing: raw[start..<min(raw.count, start + 32)]))
                    }
                    if found == seq { return low + start }
                    guard let newline = bytes[start...].firstIndex(of: 0x0A) else { break }
                    start = newline + 1
                }
                throw notFound(low)
            }
            let mid = low + (high - low) / 2
            // The first line start at or after `mid`.
            var probe = mid - 1
            var lineStart: Int? = nil
            while lineStart == nil && probe < high {
                let chunk: [UInt8]
                do { chunk = try fd.read(count: min(4096, end - probe), at: probe) } catch { throw .system(error) }
                if chunk.isEmpty { break }
                if let i = chunk.firstIndex(of: 0x0A) { lineStart = probe + i + 1 } else { probe += chunk.count }
            }
            guard let start = lineStart, start < high else {
                high = mid
                continue
            }
            let head: [UInt8]
            do { head = try fd.read(count: min(32, end - start), at: start) } catch { throw .system(error) }
            guard let found = head.withUnsafeBytes({ leadingSeq($0) }) else {
                throw .damaged(
                    LogDamage(seq: seq, offset: start, reason: "a line does not start with {\"seq\":N,"), path: path)
            }
            if found == seq { return start }
            if found < seq { low = start } else { high = start }
        }
    }

    /// Streams lines `seq…tail.head.seq` to `body`.
    /// The lines of `runs` (ascending, not overlapping) only.
    ///
    /// Runs less than `gapToStream` lines apart are read as one stream, the lines between
    /// them passed over: reading a few hundred lines on is cheaper than searching for the
    /// next run (which reads as much, in a score of small reads). A far run is found by
    /// binary search and read with a small first read. Lines read are linked by their prev.
    /// - Complexity: O(r log n) reads to find r far-apart runs in a log of n lines, plus the
    ///   bytes streamed.
    static func read<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String, runs: [ClosedRange<Int>], tail: TailInspection,
        _ body: (LogLine) throws -> Void
    ) throws {
        var i = 0
        while i < runs.count {
            // The runs streamed together.
            var last = i
            while last + 1 < runs.count && runs[last + 1].lowerBound - runs[last].upperBound <= gapToStream {
                last += 1
            }
            let end = runs[last].upperBound
            // Lines are some hundreds of bytes: ask for about what is wanted at first.
            let hint = min(end - runs[i].lowerBound + 1, 1 << 12) * 512 + 1024
            var run = i
            do {
                try read(fd, path: path, from: runs[i].lowerBound, after: nil, tail: tail, firstRead: hint) { line in
                    while line.seq > runs[run].upperBound { run += 1 }
                    if line.seq >= runs[run].lowerBound { try body(line) }
                    if line.seq >= end { throw StopReading() }
                }
            } catch is StopReading {}
            i = last + 1
        }
    }

    /// How many lines apart two runs may be and still be read as one stream.
    static let gapToStream = 1024

    static func read<Source: RandomAccessBytes & ~Copyable>(
        _ fd: borrowing Source, path: String, from seq: Int, after: LogHead?, tail: TailInspection,
        firstRead: Int = bufferSize, near hint: Int? = nil, _ body: (LogLine) throws -> Void
    ) throws {
        let head = tail.head.seq
        guard seq >= 1, seq <= head + 1 else { throw LogError.seqOutOfRange(requested: seq, head: head) }
        if seq == head + 1 { return }
        var offset: Int
        if let hint, try lineStarts(seq, at: hint, in: fd, end: tail.intactEnd) {
            offset = hint
        } else {
            offset = try self.offset(ofSeq: seq, in: fd, path: path, end: tail.intactEnd)
        }
        var expected = seq
        var previousHash = [UInt8](repeating: 0, count: 64)
        var checkPrev = false
        if let after {
            precondition(after.seq == seq - 1, "`after` must be the line before `seq`")
            previousHash = Array(after.hash.hex.utf8)
            checkPrev = true
        } else if seq == 1 {
            previousHash = Array(SHA256Digest.zero.hex.utf8)
            checkPrev = true
        }
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0  // bytes in buffer
        var consumed = 0  // bytes of buffer already handed out
        var bufferOffset = offset  // file offset of buffer[0]
        let end = tail.intactEnd
        while offset < end {
            // Find the next newline in the buffer, refilling as needed.
            var newline: Int? = nil
            while true {
                if consumed < filled,
                    let p = memchr(buffer.baseAddress! + consumed, 0x0A, filled - consumed)
                {
                    newline = buffer.baseAddress!.distance(to: p)
                    break
                }
                // Move the unconsumed rest to the front and read more.
                let rest = filled - consumed
                if rest > 0 && consumed > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + consumed, rest) }
                bufferOffset += consumed
                consumed = 0
                filled = rest
                if filled == buffer.count {
                    guard buffer.count < maximumLineLength else {
                        throw LogError.damaged(
                            LogDamage(seq: expected, offset: offset, reason: "a line is longer than 64 MiB"), path: path
                        )
                    }
                    let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                    bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                    buffer.deallocate()
                    buffer = bigger
                }
                // A reader that wants a few lines asks for less at first (`firstRead`);
                // once it reads on, whole buffers.
                var want = min(buffer.count - filled, end - (bufferOffset + filled))
                if expected == seq && filled == 0 { want = min(want, max(firstRead, 4096)) }
                guard want > 0 else { break }
                let n: Int
                do { n = try fd.read(into: buffer.baseAddress! + filled, count: want, at: bufferOffset + filled) } catch
                { throw LogError.system(error) }
                if n == 0 { break }
                filled += n
            }
            guard let newlineIndex = newline else {
                throw LogError.damaged(
                    LogDamage(seq: expected, offset: offset, reason: "the log ends inside a line"), path: path)
            }
            let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[consumed..<newlineIndex])
            guard let found = leadingSeq(line), suffixIsWellFormed(line) else {
                throw LogError.damaged(
                    LogDamage(seq: expected, offset: offset, reason: "the line is not a well-formed log line"),
                    path: path)
            }
            guard found == expected else {
                throw LogError.damaged(
                    LogDamage(seq: expected, offset: offset, reason: "seq is \(found), expected \(expected)"),
                    path: path)
            }
            let count = line.count
            // Whoever takes a line may parse its hash digits as a digest (a replay's head):
            // a damaged line whose next prev was changed to match must stop here, named.
            let digits = count - LineLayout.hashFromEnd
            guard
                SHA256Digest.isHex(UnsafeRawBufferPointer(rebasing: line[digits..<(digits + LineLayout.digestDigits)]))
            else {
                throw LogError.damaged(
                    LogDamage(seq: expected, offset: offset, reason: "hash is not 64 lowercase hex digits"), path: path)
            }
            if checkPrev
                && memcmp(line.baseAddress! + (count - LineLayout.prevFromEnd), previousHash, LineLayout.digestDigits)
                    != 0
            {
                throw LogError.damaged(
                    LogDamage(
                        seq: expected, offset: offset, reason: "prev does not match the hash of seq \(expected - 1)"),
                    path: path)
            }
            previousHash.withUnsafeMutableBytes {
                $0.baseAddress!.copyMemory(
                    from: line.baseAddress! + (count - LineLayout.hashFromEnd), byteCount: LineLayout.digestDigits)
            }
            checkPrev = true
            try body(LogLine(bytes: line, offset: offset, seq: expected))
            expected += 1
            let advance = newlineIndex + 1 - consumed
            consumed = newlineIndex + 1
            offset += advance
        }
    }
}
