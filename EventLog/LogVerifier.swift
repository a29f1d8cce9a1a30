import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// An unacknowledged tail found at the end of a log: it is not part of the chain.
public struct TornTail: Equatable, Sendable, CustomStringConvertible {
    /// Byte offset where it starts.
    public var offset: Int
    /// Its length in bytes.
    public var length: Int
    /// The seq of the last intact line before it.
    public var afterSeq: Int
    /// Why it counts as torn.
    public var reason: String

    public init(offset: Int, length: Int, afterSeq: Int, reason: String) {
        self.offset = offset
        self.length = length
        self.afterSeq = afterSeq
        self.reason = reason
    }

    public var description: String {
        "a torn tail of \(length) bytes after seq \(afterSeq) (byte offset \(offset)): \(reason); it was never acknowledged, and the next write moves it to quarantine/"
    }
}

/// What `LogVerifier` found on an intact log.
public struct VerificationReport: Equatable, Sendable {
    /// Lines in the intact chain (equal to the head seq).
    public var events: Int
    /// The last intact line.
    public var head: LogHead
    /// Bytes in the intact chain.
    public var bytes: Int
    /// The log id from `LogCreated`.
    public var logID: String
    /// A torn tail after the chain, if any.
    public var tornTail: TornTail?
}

/// Checks every line of a log: well-formed UTF-8 JSON in the contract's envelope,
/// contiguous seqs, `prev` links, and every hash recomputed.
///
/// Line hashes are independent, so windows of the file are split at line boundaries and
/// hashed on every core; the pieces are then linked in order. Memory stays bounded by
/// the window size, whatever the log's length.
public enum LogVerifier {
    /// Bytes read per window.
    public static let windowSize = 16 << 20

    /// Verifies the log file at `path` and checks that every anchor is still in the chain.
    ///
    /// - Throws: `LogError.damaged` naming the first bad line's seq and byte offset;
    ///   `LogError.anchorMismatch` for a rewritten or truncated log;
    ///   `LogError.unsupportedFormat`; `LogError.notInitialized` for an empty file.
    /// - Complexity: O(n) time, O(window) memory.
    ///
    /// `scan`, when given, reads what its caller needs from every line while it is checked,
    /// on the workers (see `PieceScanner`): one pass over the log for two jobs.
    public static func verify(
        path: String, anchors: [LogHead] = [], threads: Int? = nil, scan: PieceScanner? = nil
    ) throws -> VerificationReport {
        let fd: FileDescriptor
        do { fd = try FileDescriptor(path: path, flags: O_RDONLY) } catch {
            if error.code == ENOENT { throw LogError.notInitialized(path: path) }
            throw LogError.system(error)
        }
        return try verify(
            fd, path: path, anchors: anchors, threads: threads ?? processorCount, mapping: fd.rawValue, scan: scan)
    }

    /// Makes, for the pieces of one window of the log (numbered from 0 in log order across
    /// windows), one function per piece that sees that piece's lines, each once it has passed
    /// its own checks, in order, on the worker checking the piece. It is called on the
    /// verifying thread, once per window, after every earlier window was checked: a caller can
    /// fold the finished pieces then, and keep memory to one window's worth. A piece of a log
    /// that turns out damaged may have seen some lines.
    public typealias PieceScanner = @Sendable (_ pieces: Range<Int>) -> [@Sendable (LogLine) -> Void]

    /// Verifies a log held in memory; see `verify(path:anchors:threads:)`.
    public static func verify(
        bytes: [UInt8], name: String = "memory", anchors: [LogHead] = [], threads: Int = 1
    ) throws -> VerificationReport {
        try verify(MemoryBytes(bytes), path: name, anchors: anchors, threads: threads)
    }

    /// The number of online processors (read once: sysconf reads /sys each time).
    public static let processorCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// `mapping`, the source's file descriptor when it is a file, lets the lines be read
    /// through memory mappings instead of copied into a buffer.
    static func verify<Source: RandomAccessBytes & ~Copyable>(
        _ source: borrowing Source, path: String, anchors: [LogHead], threads: Int, mapping: Int32? = nil,
        scan: PieceScanner? = nil
    ) throws -> VerificationReport {
        let size = try source.size()
        guard size > 0 else { throw LogError.notInitialized(path: path) }
        // The tail first: what lies after the last acknowledged line is not checked as chain.
        var end = size
        var torn: TornTail?
        if let tail = try? TailInspection.inspect(source, path: path) {
            end = tail.intactEnd
            if let t = tail.torn {
                torn = TornTail(
                    offset: t.range.lowerBound, length: t.range.count, afterSeq: tail.head.seq, reason: t.reason)
            }
        }
        guard end > 0 else {
            throw LogError.damaged(
                LogDamage(seq: 1, offset: 0, reason: torn?.reason ?? "the log has no complete line"), path: path)
        }
        try ChainReader.checkFirstLine(source, path: path)
        let head =
            try mapping.flatMap { try verifyMapped($0, path: path, end: end, threads: threads, scan: scan) }
            ?? verifyLines(source, path: path, from: 0, after: .empty, end: end, threads: threads, scan: scan)
        for anchor in anchors {
            guard anchor.seq <= head.seq, anchor.seq >= 1 else {
                throw LogError.anchorMismatch(
                    seq: anchor.seq, expected: anchor.hash, found: nil, head: head.seq, path: path)
            }
            let offset = try ChainReader.offset(ofSeq: anchor.seq, in: source, path: path, end: end)
            let bytes = try source.read(count: min(end - offset, 1 << 20), at: offset)
            guard let newline = bytes.firstIndex(of: 0x0A) else { continue }
            let found = bytes.withUnsafeBytes { raw in
                LogLine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<newline]), offset: offset, seq: anchor.seq).hash
            }
            guard found == anchor.hash else {
                throw LogError.anchorMismatch(
                    seq: anchor.seq, expected: anchor.hash, found: found, head: head.seq, path: path)
            }
        }
        let logID = try firstLineID(source)
        return VerificationReport(events: head.seq, head: head, bytes: end, logID: logID, tornTail: torn)
    }

    /// Verifies the lines in `offset..<end`, which must start right after the line `after`
    /// (`.empty` at offset 0), and returns the head they end at.
    static func verifyLines<Source: RandomAccessBytes & ~Copyable>(
        _ source: borrowing Source, path: String, from offset: Int, after: LogHead, end: Int, threads: Int,
        scan: PieceScanner? = nil
    ) throws -> LogHead {
        var state = ChainState(lines: after.seq, lastHash: after.seq == 0 ? nil : after.hash)
        if offset >= end { return after }
        var buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: min(windowSize, max(4096, end - offset)), alignment: 64)
        defer { buffer.deallocate() }
        var carried = 0  // bytes of a partial line carried to the front of the buffer
        var fileOffset = offset  // file offset of buffer[0]
        while fileOffset + carried < end {
            if carried == buffer.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 64)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = bigger
            }
            let want = min(buffer.count - carried, end - fileOffset - carried)
            let n = try source.read(into: buffer.baseAddress! + carried, count: want, at: fileOffset + carried)
            guard n > 0 else { break }
            let filled = carried + n
            // Only whole lines are verified; the rest waits for the next window.
            var lastNewline = filled - 1
            while lastNewline >= 0 && buffer[lastNewline] != 0x0A { lastNewline -= 1 }
            guard lastNewline >= 0 else {
                carried = filled
                continue
            }
            let usable = lastNewline + 1
            try verifyWindow(
                UnsafeRawBufferPointer(rebasing: buffer[0..<usable]), fileOffset: fileOffset,
                state: &state, path: path, threads: threads, scan: scan)
            carried = filled - usable
            if carried > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + usable, carried) }
            fileOffset += usable
        }
        guard let lastHash = state.lastHash else {
            throw LogError.damaged(LogDamage(seq: 1, offset: 0, reason: "the log has no complete line"), path: path)
        }
        return LogHead(seq: state.lines, hash: lastHash)
    }

    /// Verifies the lines in `0..<end` of a file through a memory mapping of one window at
    /// a time: no copy into a buffer (which was a seventh of `verify`'s cycles), and only
    /// one window's pages mapped at once. Nil if the file cannot be mapped: the caller reads
    /// it instead.
    static func verifyMapped(
        _ fd: Int32, path: String, end: Int, threads: Int, scan: PieceScanner? = nil
    ) throws -> LogHead? {
        var state = ChainState()
        var offset = 0  // the next line's start
        var span = windowSize
        while offset < end {
            let pageStart = offset - offset % Syscall.pageSize
            let count = min(span, end - pageStart)
            let map: UnsafeRawBufferPointer
            do { map = try Syscall.mapForSequentialReading(fd, offset: pageStart, count: count, path: path) } catch {
                if offset == 0 { return nil }
                throw LogError.system(error)
            }
            defer { Syscall.unmap(map) }
            let window = UnsafeRawBufferPointer(rebasing: map[(offset - pageStart)...])
            // Only whole lines are verified; a line that runs past the window waits for the next.
            guard let last = window.lastIndex(of: 0x0A) else {
                // The intact chain ends with a newline, so a window without one is inside
                // a line longer than the window: map more at once.
                guard pageStart + count < end else { break }
                span *= 2
                continue
            }
            let usable = last - window.startIndex + 1
            try verifyWindow(
                UnsafeRawBufferPointer(rebasing: window.prefix(usable)), fileOffset: offset, state: &state, path: path,
                threads: threads, scan: scan)
            offset += usable
            span = windowSize
        }
        guard let lastHash = state.lastHash else {
            throw LogError.damaged(LogDamage(seq: 1, offset: 0, reason: "the log has no complete line"), path: path)
        }
        return LogHead(seq: state.lines, hash: lastHash)
    }

    private static func firstLineID<Source: RandomAccessBytes & ~Copyable>(_ source: borrowing Source) throws -> String
    {
        let bytes = try source.read(count: 4096, at: 0)
        let line = bytes[..<(bytes.firstIndex(of: 0x0A) ?? bytes.count)]
        return (try? LogEntry(line: line))?.data["log"]?.stringValue ?? ""
    }

    /// Links pieces across windows.
    struct ChainState {
        var lines = 0
        var lastHash: SHA256Digest? = nil
        /// Pieces handed out so far (to number the next window's).
        var pieces = 0
    }

    /// The scanning functions of one window's pieces, each called by one worker only.
    struct PieceVisitors: @unchecked Sendable {
        let visit: [(@Sendable (LogLine) -> Void)?]
    }

    /// What a worker found in one piece of a window.
    struct PieceResult {
        var lines = 0
        var firstSeq = 0
        var firstOffset = 0
        var firstPrev: SHA256Digest? = nil
        var lastHash: SHA256Digest? = nil
        /// The first defect: line index within the piece, byte offset, reason.
        var defect: (index: Int, offset: Int, reason: String)? = nil
    }

    final class PieceResults: @unchecked Sendable {
        // Each worker writes only its own slot.
        var slots: [PieceResult]
        init(count: Int) { slots = Array(repeating: PieceResult(), count: count) }
    }

    struct SharedBytes: @unchecked Sendable { let buffer: UnsafeRawBufferPointer }

    private static func verifyWindow(
        _ window: UnsafeRawBufferPointer, fileOffset: Int, state: inout ChainState, path: String, threads: Int,
        scan: PieceScanner?
    ) throws {
        // Split at line boundaries into pieces of at least 256 KiB, a few per thread.
        let pieceCount = max(1, min(threads * 4, window.count / (256 << 10)))
        var bounds = [0]
        for i in 1..<pieceCount {
            let target = window.count * i / pieceCount
            guard target > bounds[bounds.count - 1],
                let p = memchr(window.baseAddress! + target, 0x0A, window.count - target)
            else { continue }
            let next = window.baseAddress!.distance(to: UnsafeRawPointer(p)) + 1
            if next < window.count && next > bounds[bounds.count - 1] { bounds.append(next) }
        }
        bounds.append(window.count)
        let pieces = bounds.count - 1
        let cuts = bounds
        let results = PieceResults(count: pieces)
        let shared = SharedBytes(buffer: window)
        let base = fileOffset
        let first = state.pieces
        let visitors = PieceVisitors(
            visit: scan.map { $0(first..<(first + pieces)) } ?? Array(repeating: nil, count: pieces))
        state.pieces += pieces
        if pieces == 1 || threads == 1 {
            for i in 0..<pieces {
                results.slots[i] = verifyPiece(
                    shared.buffer, cuts[i]..<cuts[i + 1], fileOffset: base, visit: visitors.visit[i])
            }
        } else {
            DispatchQueue.concurrentPerform(iterations: pieces) { i in
                results.slots[i] = verifyPiece(
                    shared.buffer, cuts[i]..<cuts[i + 1], fileOffset: base, visit: visitors.visit[i])
            }
        }
        for piece in results.slots {
            let expected = state.lines + 1
            if let defect = piece.defect, defect.index == 0 {
                throw LogError.damaged(
                    LogDamage(seq: expected, offset: defect.offset, reason: defect.reason), path: path)
            }
            if piece.lines > 0 {
                if piece.firstSeq != expected {
                    throw LogError.damaged(
                        LogDamage(
                            seq: expected, offset: piece.firstOffset,
                            reason: "seq is \(piece.firstSeq), expected \(expected)"), path: path)
                }
                let previous = state.lastHash ?? .zero
                if piece.firstPrev != previous {
                    throw LogError.damaged(
                        LogDamage(
                            seq: expected, offset: piece.firstOffset,
                            reason: expected == 1
                                ? "prev of the first line is not 64 zeros"
                                : "prev does not match the hash of seq \(expected - 1)"), path: path)
                }
            }
            if let defect = piece.defect {
                throw LogError.damaged(
                    LogDamage(seq: expected + defect.index, offset: defect.offset, reason: defect.reason), path: path)
            }
            state.lines += piece.lines
            state.lastHash = piece.lastHash ?? state.lastHash
        }
    }

    /// Verifies the lines of one piece on its own: everything except the links to the
    /// pieces before it. Lines are hashed two at a time, side by side (`SHA256.hash(_:_:)`),
    /// and checked one by one in order: the first defect is the one reported, as before.
    private static func verifyPiece(
        _ window: UnsafeRawBufferPointer, _ range: Range<Int>, fileOffset: Int, visit: (@Sendable (LogLine) -> Void)?
    ) -> PieceResult {
        var piece = PieceCheck()
        var start = range.lowerBound
        /// The line that starts at `start`, without its newline, and where its newline is.
        func line(at start: Int) -> (bytes: UnsafeRawBufferPointer, stop: Int) {
            let p = memchr(window.baseAddress! + start, 0x0A, range.upperBound - start)!
            let stop = window.baseAddress!.distance(to: UnsafeRawPointer(p))
            return (UnsafeRawBufferPointer(rebasing: window[start..<stop]), stop)
        }
        while start < range.upperBound {
            let (first, firstStop) = line(at: start)
            let envelope: LineEnvelope
            do { envelope = try LineParser.parse(first) } catch {
                piece.result.defect = (
                    piece.result.lines, fileOffset + start, "\(error.reason) (byte \(error.offset) of the line)"
                )
                return piece.result
            }
            // The next line is taken too when it parses; one that does not is the next
            // round's first, and its defect is reported there.
            var second: (bytes: UnsafeRawBufferPointer, stop: Int, envelope: LineEnvelope)?
            if firstStop + 1 < range.upperBound {
                let (bytes, stop) = line(at: firstStop + 1)
                if let envelope = try? LineParser.parse(bytes) { second = (bytes, stop, envelope) }
            }
            let hashed = UnsafeRawBufferPointer(rebasing: first[0..<envelope.hashedLength])
            if let second {
                let (firstHash, secondHash) = SHA256.hash(
                    hashed, UnsafeRawBufferPointer(rebasing: second.bytes[0..<second.envelope.hashedLength]))
                guard piece.accept(first, at: fileOffset + start, envelope, hash: firstHash, visit: visit),
                    piece.accept(
                        second.bytes, at: fileOffset + firstStop + 1, second.envelope, hash: secondHash, visit: visit)
                else { return piece.result }
                start = second.stop + 1
            } else {
                guard piece.accept(first, at: fileOffset + start, envelope, hash: SHA256.hash(hashed), visit: visit)
                else { return piece.result }
                start = firstStop + 1
            }
        }
        return piece.result
    }

    /// The state of a piece's check as its lines are accepted one by one (a value, not
    /// variables captured by a closure: those were checked for exclusive access on every line).
    private struct PieceCheck {
        var result = PieceResult()
        var previousSeq = 0
        /// The previous line's hash digits, as checked against its content: the next line's
        /// prev must be the same 64 bytes, compared without parsing either.
        var previousHashHex = UnsafeRawBufferPointer(start: nil, count: 0)

        /// Checks a parsed line whose content hashes to `hash` against the line before it;
        /// false, with the defect noted, when it does not pass.
        mutating func accept(
            _ line: UnsafeRawBufferPointer, at lineOffset: Int, _ envelope: LineEnvelope, hash computed: SHA256Digest,
            visit: (@Sendable (LogLine) -> Void)?
        ) -> Bool {
            let index = result.lines
            let prevHex = UnsafeRawBufferPointer(rebasing: line[envelope.prev])
            let hashHex = UnsafeRawBufferPointer(rebasing: line[envelope.hash])
            if index == 0 {
                result.firstSeq = envelope.seq
                result.firstOffset = lineOffset
                result.firstPrev = SHA256Digest(hexBytes: prevHex)!
            } else {
                if envelope.seq != previousSeq + 1 {
                    result.defect = (index, lineOffset, "seq is \(envelope.seq), expected \(previousSeq + 1)")
                    return false
                }
                if prevHex.count != LineLayout.digestDigits
                    || memcmp(prevHex.baseAddress!, previousHashHex.baseAddress!, LineLayout.digestDigits) != 0
                {
                    result.defect = (index, lineOffset, "prev does not match the hash of seq \(previousSeq)")
                    return false
                }
            }
            guard computed.matches(hexBytes: hashHex) else {
                result.defect = (
                    index, lineOffset, "hash does not match the line's content (recomputed \(computed.hex))"
                )
                return false
            }
            previousSeq = envelope.seq
            previousHashHex = hashHex
            result.lastHash = computed
            result.lines += 1
            visit?(LogLine(bytes: line, offset: lineOffset, seq: envelope.seq, parts: envelope.parts))
            return true
        }
    }
}
