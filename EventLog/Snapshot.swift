#if canImport(Glibc)
    import Glibc
#endif

/// Why a snapshot cannot be used. Every case means the same thing to a caller: ignore the
/// snapshot and rebuild it from the log. A snapshot is a cache and never trusted over the log.
public enum SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    /// There is none.
    case missing
    /// The file is not a snapshot, or is cut short or damaged.
    case malformed(String)
    /// It was written by a build with another layout.
    case otherSchema(kind: String, found: Int, expected: Int)
    /// The log does not hold the line the snapshot says it covers.
    case doesNotMatchLog(seq: Int)
    /// The vault shrank since (an erasure rewrote it).
    case vaultRewritten

    public var description: String {
        switch self {
        case .missing: "there is no snapshot"
        case .malformed(let reason): "the snapshot is damaged: \(reason)"
        case .otherSchema(let kind, let found, let expected):
            "the \(kind) snapshot has layout \(found), this build writes \(expected)"
        case .doesNotMatchLog(let seq): "the log's line \(seq) is not the one the snapshot covers"
        case .vaultRewritten: "the vault was rewritten after the snapshot was taken"
        }
    }
}

/// Appends values in the snapshot's binary encoding: LEB128 varints (zigzag for signed),
/// strings as a length and UTF-8 bytes.
public struct SnapshotWriter: Sendable {
    /// The bytes written and not yet handed to a streamed section's file.
    public private(set) var bytes: [UInt8] = []
    /// How many bytes were handed to a streamed section's file before `bytes`
    /// (`SnapshotSections.StreamedSection.spill`).
    public private(set) var handedOff = 0

    /// Where the next byte goes, counted from the first byte written.
    public var position: Int { handedOff + bytes.count }

    /// Drops the first `count` bytes, which went to the file.
    mutating func handOff(_ count: Int) {
        bytes.removeFirst(count)
        handedOff += count
    }

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func write(_ value: UInt64) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        // Made in a register pair and appended at once: a byte at a time, each append
        // checked the buffer's uniqueness and capacity, a third of writing a checkpoint.
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count = 0
        var v = value
        while v >= 0x80 {
            let byte = UInt64(UInt8(truncatingIfNeeded: v) | 0x80)
            if count < 8 { low |= byte << (8 * UInt64(count)) } else { high |= byte << (8 * UInt64(count - 8)) }
            count += 1
            v >>= 7
        }
        if count < 8 { low |= v << (8 * UInt64(count)) } else { high |= v << (8 * UInt64(count - 8)) }
        count += 1
        withUnsafeBytes(of: (low.littleEndian, high.littleEndian)) { raw in
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<count]))
        }
    }

    @inline(__always) public mutating func write(_ value: Int) {
        let v = Int64(value)
        write(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    @inline(__always) public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// An optional: a presence byte, then the value.
    public mutating func write(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ value: Int?) {
        write(value != nil)
        if let value { write(value) }
    }

    /// A digest, as its 64 hex digits.
    public mutating func write(_ digest: SHA256Digest) {
        digest.writeHex(into: &bytes)
    }

    /// Raw bytes (for a fixed-width table).
    public mutating func writeRaw(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Raw bytes from memory, copied whole.
    public mutating func writeRaw(_ raw: UnsafeRawBufferPointer) {
        raw.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0) }
    }

    /// A 64-bit word as 8 bytes, little-endian: for values that use all their bits (packed
    /// traits, packed refs), which as a varint take 9–10 bytes and a loop to read.
    @inline(__always) public mutating func writeWord(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt32(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    /// Overwrites the four bytes at `offset` (written before) with `value`, little-endian.
    public mutating func setUInt32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}

/// Reads what `SnapshotWriter` wrote, checking every bound: a damaged snapshot throws
/// `SnapshotError.malformed`, never reads out of bounds.
public struct SnapshotReader {
    public let bytes: UnsafeRawBufferPointer
    public var position: Int

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var isAtEnd: Bool { position >= bytes.count }

    @inlinable @inline(__always) public mutating func readUInt64() throws(SnapshotError) -> UInt64 {
        // On a local copy of the position: through `self` the loop stored it on every byte.
        var at = position
        guard at < bytes.count else { throw .malformed("a number runs past the end") }
        let first = bytes[at]
        at += 1
        if first < 0x80 {
            position = at
            return UInt64(first)
        }
        var value = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            guard at < bytes.count, shift < 64 else { throw .malformed("a number runs past the end") }
            let byte = bytes[at]
            at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                position = at
                return value
            }
            shift += 7
        }
    }

    /// A word `SnapshotWriter.writeWord` wrote.
    @inlinable @inline(__always) public mutating func readWord() throws(SnapshotError) -> UInt64 {
        guard bytes.count - position >= 8 else { throw .malformed("a word runs past the end") }
        let value = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    @inlinable @inline(__always) public mutating func readInt() throws(SnapshotError) -> Int {
        let v = try readUInt64()
        return Int(Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))))
    }

    /// A signed number that must fit 32 bits (a day number, a row).
    @inlinable @inline(__always) public mutating func readInt32() throws(SnapshotError) -> Int32 {
        guard let value = Int32(exactly: try readInt()) else { throw .malformed("a number out of 32-bit range") }
        return value
    }

    /// A count, checked against what is left (each item takes at least one byte).
    @inlinable public mutating func readCount() throws(SnapshotError) -> Int {
        let v = try readUInt64()
        guard v <= UInt64(bytes.count - position) else { throw .malformed("a count of \(v) exceeds the data") }
        return Int(v)
    }

    @inlinable @inline(__always) public mutating func readBool() throws(SnapshotError) -> Bool {
        guard position < bytes.count else { throw .malformed("a flag runs past the end") }
        let b = bytes[position]
        position += 1
        guard b <= 1 else { throw .malformed("a flag is \(b)") }
        return b == 1
    }

    @inlinable public mutating func readString() throws(SnapshotError) -> String {
        let count = try readCount()
        let start = position
        position += count
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]), as: UTF8.self)
    }

    /// The bytes of a string, without building it (for comparing keys).
    @inlinable public mutating func readStringBytes() throws(SnapshotError) -> UnsafeRawBufferPointer {
        let count = try readCount()
        let start = position
        position += count
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)])
    }

    @inlinable public mutating func readOptionalString() throws(SnapshotError) -> String? {
        try readBool() ? try readString() : nil
    }

    @inlinable public mutating func readOptionalInt() throws(SnapshotError) -> Int? {
        try readBool() ? try readInt() : nil
    }

    public mutating func readDigest() throws(SnapshotError) -> SHA256Digest {
        guard position + 64 <= bytes.count,
            let digest = SHA256Digest(hexBytes: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + 64)]))
        else {
            throw .malformed("a digest is cut short or not hex")
        }
        position += 64
        return digest
    }

    public func readUInt32(at offset: Int) throws(SnapshotError) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { throw .malformed("a table entry runs past the end") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }
}

/// A snapshot file: a small header saying what it is and which log line it covers, then
/// named sections, each with its SHA-256 (a chunked one's: the SHA-256 of its chunks' checks).
///
/// Layout: `TANDEM-SNAPSHOT2\n`, a 32-bit little-endian header length, the header (binary,
/// see `Header`), then the sections back to back. Written to a temporary file, fsync'ed and
/// renamed, so a reader sees a whole snapshot or the previous one. The `2`: chunked sections
/// are checked by XXH64 (`SnapshotChunks`); a file of the first format (SHA-256 chunk
/// digests) is not one of these, and is rebuilt like any other that is not.
public struct SnapshotFile: Sendable {
    static let magic = Array("TANDEM-SNAPSHOT2\n".utf8)

    /// What a snapshot covers.
    public struct Header: Sendable, Equatable {
        /// What it holds ("decider", "projections").
        public var kind: String
        /// The layout version of the build that wrote it.
        public var schema: Int
        /// The last log line folded in.
        public var head: LogHead
        /// The byte offset just after that line: any line added or removed before it moves it.
        public var logEnd: Int
        /// The vault's size then: profiles after it belong to the tail.
        public var vaultSize: Int
        /// Sections by name: byte range in the file, and digest.
        public var sections: [String: (range: Range<Int>, digest: SHA256Digest)]

        public init(
            kind: String, schema: Int, head: LogHead, logEnd: Int, vaultSize: Int,
            sections: [String: (range: Range<Int>, digest: SHA256Digest)]
        ) {
            self.kind = kind
            self.schema = schema
            self.head = head
            self.logEnd = logEnd
            self.vaultSize = vaultSize
            self.sections = sections
        }

        public static func == (a: Header, b: Header) -> Bool {
            a.kind == b.kind && a.schema == b.schema && a.head == b.head && a.logEnd == b.logEnd
                && a.vaultSize == b.vaultSize
                && a.sections.mapValues(\.range) == b.sections.mapValues(\.range)
        }
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// Writes a snapshot atomically (temporary file, fsync, rename).
    ///
    /// The sections named in `chunked` get a digest per chunk (see `SnapshotChunks`), in a
    /// companion section written after them; their digest in the header is that of their
    /// chunk digests.
    /// - Throws: `SystemError`.
    public func write(
        kind: String, schema: Int, head: LogHead, logEnd: Int, vaultSize: Int,
        sections plain: [(name: String, bytes: [UInt8])], chunked: Set<String> = []
    ) throws {
        var sections = plain
        var chunkDigests: [String: [UInt8]] = [:]
        for section in plain where chunked.contains(section.name) {
            let digests = section.bytes.withUnsafeBytes { SnapshotChunks.digests(of: $0) }
            chunkDigests[section.name] = digests
            sections.append((SnapshotChunks.companion(of: section.name), digests))
        }
        var offset = 0
        var entries: [Entry] = []
        for section in sections {
            let digest = SHA256.hash(chunkDigests[section.name] ?? section.bytes)
            entries.append(Entry(name: section.name, start: offset, count: section.bytes.count, digest: digest))
            offset += section.bytes.count
        }
        let front = Self.front(
            kind: kind, schema: schema, head: head, logEnd: logEnd, vaultSize: vaultSize, entries: entries)
        try FileSystem.makeDirectory(FileSystem.parentDirectory(of: path))
        // Streamed section by section: the sections are not copied into one file image
        // (on a large state that copy was the peak of a whole batch append).
        try FileSystem.replaceAtomically(path) { write in
            try front.withUnsafeBytes { try write($0) }
            for section in sections { try section.bytes.withUnsafeBytes { try write($0) } }
        }
    }

    /// A section's place in the body (after the header) and its digest.
    struct Entry {
        var name: String
        var start: Int
        var count: Int
        var digest: SHA256Digest
    }

    /// The magic, the header's length and the header with its table of sections, padded with
    /// zeros to `padded` bytes when given (a reader reads the header's fields and ignores
    /// what follows them up to the length).
    static func front(
        kind: String, schema: Int, head: LogHead, logEnd: Int, vaultSize: Int, entries: [Entry], padded: Int? = nil
    ) -> [UInt8] {
        var header = SnapshotWriter(capacity: 512)
        header.write(kind)
        header.write(schema)
        header.write(UInt64(head.seq))
        header.write(head.hash)
        header.write(logEnd)
        header.write(vaultSize)
        header.write(UInt64(entries.count))
        // Section offsets depend on the header's length, which depends on the offsets'
        // varint widths: the offsets count from the header's end instead.
        for entry in entries {
            header.write(entry.name)
            header.write(UInt64(entry.start))
            header.write(UInt64(entry.count))
            header.write(entry.digest)
        }
        let prefix = magic.count + 4
        var front: [UInt8] = []
        front.reserveCapacity(max(padded ?? 0, prefix + header.bytes.count))
        front += magic
        let length = max((padded ?? 0) - prefix, header.bytes.count)
        for i in 0..<4 { front.append(UInt8(truncatingIfNeeded: UInt32(length) >> (8 * UInt32(i)))) }
        front += header.bytes
        front += [UInt8](repeating: 0, count: prefix + length - front.count)
        return front
    }

    /// The header, if the file holds `kind` in the layout `schema`.
    /// - Throws: `SnapshotError.otherSchema` for another kind or layout; as `header()`.
    public func header(kind: String, schema: Int) throws(SnapshotError) -> Header {
        let header = try header()
        guard header.kind == kind, header.schema == schema else {
            throw .otherSchema(kind: header.kind, found: header.schema, expected: schema)
        }
        return header
    }

    /// Reads the header.
    /// - Throws: `SnapshotError.missing` or `.malformed`.
    public func header() throws(SnapshotError) -> Header {
        guard FileSystem.kind(of: path).exists else { throw .missing }
        let fd: FileDescriptor
        do { fd = try FileDescriptor(path: path, flags: O_RDONLY) } catch { throw .missing }
        let first: [UInt8]
        do { first = try fd.read(count: 4096, at: 0) } catch { throw .malformed("cannot be read") }
        guard first.count >= Self.magic.count + 4, Array(first[0..<Self.magic.count]) == Self.magic else {
            throw .malformed("not a Tandem snapshot")
        }
        var length = 0
        for i in 0..<4 { length |= Int(first[Self.magic.count + i]) << (8 * i) }
        let start = Self.magic.count + 4
        var bytes = first
        if start + length > bytes.count {
            do { bytes = try fd.read(count: start + length, at: 0) } catch { throw .malformed("cannot be read") }
            guard bytes.count == start + length else { throw .malformed("the header is cut short") }
        }
        let size: Int
        do { size = try fd.size() } catch { throw .malformed("cannot be read") }
        guard start + length <= bytes.count else { throw .malformed("the header is cut short") }
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) -> Header in
                var r = SnapshotReader(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
                let kind = try r.readString()
                let schema = try r.readInt()
                let seq = try r.readUInt64()
                let hash = try r.readDigest()
                let logEnd = try r.readInt()
                let vaultSize = try r.readInt()
                let count = try r.readCount()
                var sections: [String: (range: Range<Int>, digest: SHA256Digest)] = [:]
                let body = start + length
                for _ in 0..<count {
                    let name = try r.readString()
                    let offset = try r.readUInt64(), length = try r.readUInt64()
                    let digest = try r.readDigest()
                    guard offset <= UInt64(size), length <= UInt64(size), body + Int(offset) + Int(length) <= size
                    else {
                        throw .malformed("section \(name) lies beyond the end of the file")
                    }
                    sections[name] = (body + Int(offset)..<body + Int(offset) + Int(length), digest)
                }
                return Header(
                    kind: kind, schema: schema, head: LogHead(seq: Int(seq), hash: hash), logEnd: logEnd,
                    vaultSize: vaultSize,
                    sections: sections)
            }
        }.get()
    }

    /// Reads a whole section and checks its digest (a chunked section's chunks are
    /// checked on every core).
    /// - Throws: `SnapshotError.malformed` if it is missing, cannot be read or does not match.
    ///
    /// `capacity` leaves room in the array for a caller that appends to it.
    public func section(_ name: String, of header: Header, capacity: Int = 0) throws(SnapshotError) -> [UInt8] {
        guard let (range, digest) = header.sections[name] else { throw .malformed("it has no \(name) section") }
        let bytes: [UInt8]
        do {
            let fd = try FileDescriptor(path: path, flags: O_RDONLY)
            bytes = try fd.read(count: range.count, at: range.lowerBound, capacity: capacity)
        } catch { throw .malformed("cannot be read") }
        guard bytes.count == range.count else { throw .malformed("section \(name) is cut short") }
        try bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) in try verify(name, raw, digest: digest, header: header) }
        }.get()
        return bytes
    }

    /// A section's bytes in memory of their own, checked as `section(_:of:)` checks them,
    /// whose pages a reader hands back as it moves past them (`SectionBuffer`).
    /// - Throws: as `section(_:of:)`.
    public func sectionBuffer(
        _ name: String, of header: Header, releaseStep: Int = SectionBuffer.defaultReleaseStep
    ) throws(SnapshotError) -> SectionBuffer {
        guard let (range, digest) = header.sections[name] else { throw .malformed("it has no \(name) section") }
        let buffer = try SectionBuffer(count: range.count, releaseStep: releaseStep)
        do {
            let fd = try FileDescriptor(path: path, flags: O_RDONLY)
            var done = 0
            while done < range.count {
                let n = try fd.read(
                    into: buffer.base! + done, count: range.count - done, at: range.lowerBound + done)
                guard n > 0 else { throw SnapshotError.malformed("section \(name) is cut short") }
                done += n
            }
        } catch let error as SnapshotError {
            throw error
        } catch { throw .malformed("cannot be read") }
        try verify(name, buffer.bytes, digest: digest, header: header)
        return buffer
    }

    /// A section's bytes in memory of their own as `sectionBuffer` reads them, but read and
    /// checked chunk by chunk as a reader asks for them (`SectionBuffer.ensure`): the section
    /// is never resident whole, and its hashing goes with the reading. A section without
    /// chunk digests is read and checked whole at once.
    /// - Throws: as `section(_:of:)`, for the digests; `ensure` throws for the bytes.
    ///
    /// With `from` above zero, the reading begins at the chunk that holds that offset (for a
    /// second reader of another part of the section): nothing below that chunk is read, and
    /// a reader must not read below `from`.
    public func streamedSectionBuffer(
        _ name: String, of header: Header, from: Int = 0, releaseStep: Int = SectionBuffer.defaultReleaseStep,
        readAhead: Int = SectionBuffer.defaultReadAhead
    ) throws(SnapshotError) -> SectionBuffer {
        guard let (range, digest) = header.sections[name] else { throw .malformed("it has no \(name) section") }
        guard header.sections[SnapshotChunks.companion(of: name)] != nil else {
            return try sectionBuffer(name, of: header, releaseStep: releaseStep)
        }
        guard from >= 0, from <= range.count else { throw .malformed("section \(name) is read from beyond its end") }
        let digests = try section(SnapshotChunks.companion(of: name), of: header)
        guard SHA256.hash(digests) == digest,
            digests.count == 32 * ((range.count + SnapshotChunks.size - 1) / SnapshotChunks.size)
        else { throw .malformed("section \(name) does not match its chunk digests") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .malformed("cannot be read") }
        let buffer: SectionBuffer
        do { buffer = try SectionBuffer(count: range.count, releaseStep: releaseStep) } catch {
            close(fd)
            throw error
        }
        buffer.streamed = (fd, range.lowerBound, digests)
        buffer.filled = from / SnapshotChunks.size * SnapshotChunks.size
        buffer.startRelease(at: buffer.filled)
        buffer.readAhead = max(1, readAhead)
        return buffer
    }

    /// Checks a section's bytes against its digest, or its chunks' digests.
    func verify(
        _ name: String, _ bytes: UnsafeRawBufferPointer, digest: SHA256Digest, header: Header
    ) throws(SnapshotError) {
        if header.sections[SnapshotChunks.companion(of: name)] != nil {
            let stored = try section(SnapshotChunks.companion(of: name), of: header)
            guard SHA256.hash(stored) == digest, SnapshotChunks.digests(of: bytes) == stored else {
                throw .malformed("section \(name) does not match its chunk digests")
            }
        } else {
            guard SHA256.hash(bytes) == digest else { throw .malformed("section \(name) does not match its digest") }
        }
    }

    /// A section's bytes inside a mapping of the file, unchecked against its digest (keyed
    /// sections check each record as it is read).
    public func section(
        _ name: String, of header: Header, in map: MappedFile
    ) throws(SnapshotError) -> UnsafeRawBufferPointer {
        guard let (range, _) = header.sections[name], range.upperBound <= map.bytes.count else {
            throw .malformed("it has no \(name) section")
        }
        return UnsafeRawBufferPointer(rebasing: map.bytes[range])
    }

    /// Checks that a header fits the log and the vault: the log's line `head.seq` has the
    /// hash the snapshot recorded (so, by the chain, the prefix is the one folded) and ends at
    /// the same byte (so no line was added or removed before it), and the vault has not
    /// shrunk. An edit that keeps every length and breaks the chain is `tandem verify`'s to
    /// find.
    /// - Throws: `SnapshotError.doesNotMatchLog`, `.vaultRewritten`; `LogError` if the log
    ///   cannot be read.
    public static func check(_ header: Header, against log: any LineSource, head: LogHead, vaultSize: Int) throws {
        try checkBounds(header, head: head, vaultSize: vaultSize)
        guard let (hashMatches, end) = try line(header.head.seq, in: log),
            hashMatches(header.head.hash), end == header.logEnd
        else {
            throw SnapshotError.doesNotMatchLog(seq: header.head.seq)
        }
    }

    /// The part of `check` that reads nothing: the snapshot's head is within the log's, and
    /// the vault has not shrunk since.
    /// - Throws: `SnapshotError.doesNotMatchLog`, `SnapshotError.vaultRewritten`.
    public static func checkBounds(_ header: Header, head: LogHead, vaultSize: Int) throws(SnapshotError) {
        guard header.head.seq >= 1, header.head.seq <= head.seq else { throw .doesNotMatchLog(seq: header.head.seq) }
        guard vaultSize >= header.vaultSize else { throw .vaultRewritten }
    }

    /// Whether `line` is the one right after the snapshot's head in the log it was made from:
    /// it starts at `logEnd` and links to the head's hash. With `checkBounds`, this is
    /// `check` for a reader that goes on to read the tail anyway (and a log whose head is the
    /// snapshot's matches when the heads are equal).
    public static func follows(_ header: Header, _ line: LogLine) -> Bool {
        line.seq == header.head.seq + 1 && line.offset == header.logEnd
            && header.head.hash.matches(hexBytes: line.prevHex)
    }

    /// The byte offset just after line `seq`.
    /// - Throws: `LogError`.
    public static func logEnd(of seq: Int, in log: any LineSource) throws -> Int {
        guard seq >= 1, let (_, end) = try line(seq, in: log) else { return 0 }
        return end
    }

    private static func line(_ seq: Int, in log: any LineSource) throws -> ((SHA256Digest) -> Bool, Int)? {
        var found: (hex: [UInt8], end: Int)?
        do {
            try log.forEachLine(from: seq, after: nil) { line in
                found = (Array(line.hashHex), line.offset + line.bytes.count + 1)
                throw Stop()
            }
        } catch is Stop {}
        guard let found else { return nil }
        return ({ digest in found.hex.withUnsafeBytes { digest.matches(hexBytes: $0) } }, found.end)
    }

    private struct Stop: Error {}
}

/// A file mapped read-only into memory: the pages a reader touches are read, no others.
/// Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    /// The file's bytes.
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path`.
    /// - Throws: `SystemError` if it cannot be opened or mapped.
    public init(path: String) throws {
        let fd = try FileDescriptor(path: path, flags: O_RDONLY)
        let size = try fd.size()
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        bytes = try Syscall.mapReadOnly(fd.rawValue, size: size, path: path)
    }

    /// Hands back the pages wholly inside `range` (offsets in the file): they leave this
    /// process's memory and are read again from the page cache if touched again. A reader
    /// that passes once over a large file keeps only what it is reading resident (a 70 MB
    /// session index read twice by `activity` stayed whole until the answer).
    public func release(_ range: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (max(range.lowerBound, 0) + page - 1) / page * page
        let end = min(range.upperBound, bytes.count) / page * page
        guard end > start, let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)  // advice only
    }

    deinit {
        Syscall.unmap(bytes)
    }
}

/// A snapshot section read into an anonymous mapping of its own, whose pages are handed
/// back to the system as a reader moves past them (`release(below:)`).
///
/// A read model of ten million events is a 290 MB section, and the rows built from it take
/// as much again: held whole until the last record was read, the section was half the
/// peak memory of every query that loads a whole model. Released pages read as zeros, so a
/// reader that went back would find malformed records, never another file's bytes.
public final class SectionBuffer: @unchecked Sendable {
    /// The section's bytes.
    public let bytes: UnsafeRawBufferPointer
    let base: UnsafeMutableRawPointer?
    private let mapped: Int
    /// Below this offset the pages are handed back. Touched by one thread at a time (the
    /// reader, in order).
    private var released = 0

    /// How far a reader moves before pages are handed back, unless a caller says (a test
    /// says a page).
    public static let defaultReleaseStep = 8 << 20
    /// This buffer's step.
    let releaseStep: Int

    /// A zeroed buffer of `count` bytes.
    /// - Throws: `SnapshotError.malformed` if the memory cannot be had.
    init(count: Int, releaseStep: Int) throws(SnapshotError) {
        self.releaseStep = releaseStep
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        mapped = max(page, (count + page - 1) / page * page)
        guard let base = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            base != MAP_FAILED
        else { throw .malformed("no memory for a section of \(count) bytes") }
        self.base = base
        bytes = UnsafeRawBufferPointer(start: base, count: count)
        filled = count
    }

    /// How far `ensure` reads at least unless a caller says (whole chunks, but for the last).
    public static let defaultReadAhead = 16 * SnapshotChunks.size
    /// This buffer's read-ahead.
    var readAhead = SectionBuffer.defaultReadAhead

    /// For a streamed buffer (`SnapshotFile.streamedSectionBuffer`): the file, where the
    /// section begins in it, and its chunk digests. Nil once read whole.
    var streamed: (fd: Int32, offset: Int, digests: [UInt8])?
    /// How many bytes from the start are read and checked (all, unless streamed).
    public internal(set) var filled: Int

    /// Reads and checks the chunks up to `end` (at most the section's end), if not yet: the
    /// bytes below `end` may then be read. Touched by one thread at a time, as `release`.
    /// - Throws: `SnapshotError.malformed` if the file is cut short or a chunk does not
    ///   match its digest.
    public func ensure(_ end: Int) throws(SnapshotError) {
        guard let (fd, offset, digests) = streamed, filled < min(end, bytes.count), let base else { return }
        // A few megabytes at a time, their chunks hashed on every core: one by one on the
        // reading thread, the hashing of a 200 MB section held up the whole load.
        let chunk = SnapshotChunks.size
        let wanted = max(min(end, bytes.count), min(filled + readAhead, bytes.count))
        let target = min(bytes.count, (wanted + chunk - 1) / chunk * chunk)
        let length = target - filled
        var done = 0
        while done < length {
            let n = pread(fd, base + filled + done, length - done, off_t(offset + filled + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .malformed("the section is cut short") }
            done += n
        }
        let section = UnsafeRawBufferPointer(start: base, count: target)
        let first = filled / chunk
        let computed = SnapshotChunks.digests(of: UnsafeRawBufferPointer(rebasing: section[filled..<target]))
        guard computed.elementsEqual(digests[(first * 32)..<(first * 32 + computed.count)]) else {
            throw .malformed("a chunk of the section does not match its digest")
        }
        filled = target
        if filled == bytes.count {
            close(fd)
            streamed = nil
        }
    }

    /// Where pages are handed back from (a buffer read from the middle of its section
    /// has nothing below where it starts).
    func startRelease(at offset: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        released = offset / page * page
    }

    /// Hands back the whole pages below `offset`, once a reader has moved `releaseStep` past
    /// the last ones: nothing below `offset` may be read again.
    public func release(below offset: Int) {
        guard offset - released >= releaseStep, let base else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(offset, bytes.count) / page * page
        guard end > released else { return }
        _ = madvise(base + released, end - released, MADV_DONTNEED)  // advice: a refusal keeps the pages
        released = end
    }

    deinit {
        if let base { munmap(base, mapped) }
        if let (fd, _, _) = streamed { close(fd) }
    }
}

/// A snapshot section holding records sorted by key, with a table of their offsets, so that
/// one record is found by binary search without reading the others.
///
/// Layout: record count (32-bit), then one 32-bit offset per record (from the section's
/// start), then the records. Each record is its key (a string), its payload length and
/// payload, and a 32-bit checksum of key and payload (`checksum(_:)`): a damaged record is caught when
/// it is read, without hashing the whole section.
public enum KeyedSection {
    /// Builds a section from (key, payload) pairs in any order.
    public static func build(_ records: [(key: [UInt8], payload: [UInt8])], sorted isSorted: Bool = false) -> [UInt8] {
        let sorted = isSorted ? records : records.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return build(sortedKeys: Array(sorted.indices), bytes: { sorted[$0].key }, payload: { sorted[$0].payload })
    }

    /// Builds a section from records made one at a time: `keys` in the order `build` sorts
    /// them (bytewise), and `payload(key)` the record of each. No record outlives its
    /// turn (a million records held at once set a batch's peak memory).
    public static func build<Key>(
        sortedKeys keys: [Key], bytes: (Key) -> [UInt8], payload: (Key) -> [UInt8]
    ) -> [UInt8] {
        // The table first, filled in as the records follow it: the section is never copied.
        // Its size is estimated from a sample of the records, so that the buffer is made
        // once (a guess too small doubled it, and for a moment both copies were alive: the
        // peak of a batch of a million commands).
        let tableSize = 4 + 4 * keys.count
        let sampled = stride(from: 0, to: keys.count, by: max(1, keys.count / 512)).map { keys[$0] }
        let sampleBytes = sampled.reduce(0) { $0 + bytes($1).count + payload($1).count }
        let perRecord = sampled.isEmpty ? 0 : 20 + (sampleBytes + sampled.count - 1) / sampled.count
        var out = SnapshotWriter(capacity: tableSize + keys.count * perRecord + keys.count * perRecord / 16)
        out.writeUInt32(UInt32(keys.count))
        out.writeRaw(repeatElement(0, count: 4 * keys.count))
        for (i, key) in keys.enumerated() {
            let start = out.bytes.count
            out.setUInt32(UInt32(start), at: 4 + 4 * i)
            let keyBytes = bytes(key), record = payload(key)
            out.write(UInt64(keyBytes.count))
            out.writeRaw(keyBytes)
            out.write(UInt64(record.count))
            out.writeRaw(record)
            let checksum = out.bytes.withUnsafeBytes {
                KeyedSection.checksum(UnsafeRawBufferPointer(rebasing: $0[start...]))
            }
            out.writeUInt32(checksum)
        }
        return out.bytes
    }

    /// The payload of the record with `key`, or nil if there is none.
    /// - Complexity: O(log n) record reads.
    /// - Throws: `SnapshotError.malformed` for a damaged section or record.
    public static func find(
        _ key: some Collection<UInt8>, in section: UnsafeRawBufferPointer
    ) throws(SnapshotError) -> UnsafeRawBufferPointer? {
        guard let index = try position(of: key, in: section) else { return nil }
        return try record(index, in: section).payload
    }

    /// The number of the record with `key` (its place in key order), or nil if there is none.
    /// - Complexity: O(log n) record reads.
    /// - Throws: `SnapshotError.malformed` for a damaged section or record.
    public static func position(
        of key: some Collection<UInt8>, in section: UnsafeRawBufferPointer
    ) throws(SnapshotError) -> Int? {
        var cursor = Cursor()
        return try cursor.position(of: key, in: section)
    }

    /// Lookups in ascending key order: each one searches forward from where the last one
    /// ended, first in steps that double, so that many lookups walk the section front to
    /// back instead of each starting in its middle. Out of order, a lookup searches the
    /// whole section; the answers are `position(of:in:)`'s either way.
    ///
    /// Asked in ref order, 166,000 traits lookups in the 1.3M profiles of the 10M store took
    /// 0.17 s instead of 0.75 s: each binary search began with the same cold records, and
    /// ended in a page no other lookup had touched.
    /// - Complexity: O(log d) record reads for a key d records after the last one found.
    public struct Cursor: Sendable {
        /// The first record not below the last key looked up.
        private var next = 0

        /// A cursor at the section's start.
        public init() {}

        /// The number of the record with `key`, or nil if there is none.
        /// - Throws: `SnapshotError.malformed` for a damaged section or record.
        public mutating func position(
            of key: some Collection<UInt8>, in section: UnsafeRawBufferPointer
        ) throws(SnapshotError) -> Int? {
            let count = try KeyedSection.count(in: section)
            let key = Array(key)
            // Ascending since the last lookup: gallop from there; else the whole section.
            var low = 0, high = count
            if next > 0, next <= count, try order(of: key, against: next - 1, in: section) > 0 {
                low = next
                var step = 1
                while low + step < count, try order(of: key, against: low + step - 1, in: section) > 0 {
                    low += step
                    step *= 2
                }
                high = min(count, low + step)
            }
            // The first record whose key is not below `key`.
            while low < high {
                let mid = (low + high) / 2
                if try order(of: key, against: mid, in: section) > 0 { low = mid + 1 } else { high = mid }
            }
            next = low
            // The search read keys without their checksums; the two records it ends between
            // are checked, and must bracket the key. Intact and sorted, they prove the
            // answer whatever a damaged record on the way said (that takes two checksums
            // a lookup instead of one per record read).
            if low > 0, try order(of: key, against: low - 1, in: section, checked: true) <= 0 {
                throw .malformed("a keyed section's records are out of order")
            }
            guard low < count else { return nil }
            let found = try order(of: key, against: low, in: section, checked: true)
            if found > 0 { throw .malformed("a keyed section's records are out of order") }
            return found == 0 ? low : nil
        }

        /// How `key` compares with record `index`'s key in the byte order `build` sorts by
        /// (the common prefix by memcmp, then the length): negative, zero or positive. The
        /// record is checked against its checksum when `checked`.
        private func order(
            of key: [UInt8], against index: Int, in section: UnsafeRawBufferPointer, checked: Bool = false
        ) throws(SnapshotError) -> Int {
            let recordKey =
                checked ? try KeyedSection.record(index, in: section).key : try KeyedSection.key(index, in: section)
            let common = min(recordKey.count, key.count)
            let order =
                common == 0 ? 0 : key.withUnsafeBytes { Int(memcmp($0.baseAddress!, recordKey.baseAddress!, common)) }
            return order != 0 ? order : key.count - recordKey.count
        }
    }

    /// Calls `body` with every record's payload, in key order.
    public static func forEach(
        in section: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let count = Int(try SnapshotReader(section).readUInt32(at: 0))
        guard 4 + 4 * count <= section.count else {
            throw SnapshotError.malformed("a keyed section's table is cut short")
        }
        for i in 0..<count { try body(try record(i, in: section).payload) }
    }

    /// Calls `body` with every record's key and payload, in key order, each checked.
    /// - Throws: `SnapshotError.malformed` for a damaged section or record; what `body` throws.
    public static func forEach(
        records section: UnsafeRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        for i in 0..<(try count(in: section)) {
            let (key, payload) = try record(i, in: section)
            try body(key, payload)
        }
    }

    /// How many records a section holds.
    /// - Throws: `SnapshotError.malformed` if its table is cut short.
    public static func count(in section: UnsafeRawBufferPointer) throws(SnapshotError) -> Int {
        let count = Int(try SnapshotReader(section).readUInt32(at: 0))
        guard 4 + 4 * count <= section.count else { throw .malformed("a keyed section's table is cut short") }
        return count
    }

    /// Where the `index`-th record begins in the section (records follow one another in key
    /// order, so a pass in that order reads the section front to back).
    /// - Throws: `SnapshotError.malformed` if the offset table is cut short.
    public static func recordStart(_ index: Int, in section: UnsafeRawBufferPointer) throws(SnapshotError) -> Int {
        Int(try SnapshotReader(section).readUInt32(at: 4 + 4 * index))
    }

    /// The key of the `index`-th record, not checked against the record's checksum (for a
    /// reader that checked every record once already).
    /// - Throws: `SnapshotError.malformed` if the record lies outside the section.
    public static func key(
        _ index: Int, in section: UnsafeRawBufferPointer
    ) throws(SnapshotError)
        -> UnsafeRawBufferPointer
    {
        let start = try recordStart(index, in: section)
        guard start < section.count else { throw .malformed("a record offset lies outside its section") }
        var r = SnapshotReader(section, position: start)
        return try r.readStringBytes()
    }

    /// The `index`-th record in key order, not checked against its checksum: for a reader
    /// that checked every record of the section once already (a session listing, when it is
    /// opened), and reads them again from the same mapping of a file only ever replaced by a
    /// rename. The reading itself stays within the section.
    /// - Throws: `SnapshotError.malformed` if the record lies outside the section.
    public static func recordCheckedBefore(
        _ index: Int, in section: UnsafeRawBufferPointer
    ) throws(SnapshotError) -> (key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        let start = try recordStart(index, in: section)
        guard start < section.count else { throw .malformed("a record offset lies outside its section") }
        var r = SnapshotReader(section, position: start)
        let key = try r.readStringBytes()
        return (key, try r.readStringBytes())
    }

    /// The `index`-th record in key order (below `count(in:)`), checked against its checksum.
    /// - Throws: `SnapshotError.malformed` for a damaged record.
    public static func record(
        _ index: Int, in section: UnsafeRawBufferPointer
    ) throws(SnapshotError) -> (key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        let start = Int(try SnapshotReader(section).readUInt32(at: 4 + 4 * index))
        var r = SnapshotReader(section, position: start)
        guard start < section.count else { throw .malformed("a record offset lies outside its section") }
        let key = try r.readStringBytes()
        let payload = try r.readStringBytes()
        let stored = try r.readUInt32(at: r.position)
        guard checksum(UnsafeRawBufferPointer(rebasing: section[start..<r.position])) == stored else {
            throw .malformed("a record does not match its checksum")
        }
        return (key, payload)
    }

    /// A record's 32-bit checksum: eight bytes a step, each step a bijection of the state
    /// (xor the word, multiply by an odd constant, fold the high half down), so that any
    /// change to one word changes the 64-bit state, of which 32 mixed bits are kept.
    ///
    /// It replaced a byte-at-a-time FNV-1a, whose one multiply per byte made checking the
    /// records of a refreshed decider snapshot a third of every 64th append.
    /// - Complexity: O(n), about one multiply per eight bytes.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let n = bytes.count
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(n)
        var i = 0
        while i + 8 <= n {
            h =
                (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var last: UInt64 = 0
            for (shift, byte) in bytes[i...].enumerated() { last |= UInt64(byte) << (8 * UInt64(shift)) }
            h = (h ^ last) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        h = (h ^ (h >> 32)) &* 0xFF51_AFD7_ED55_8CCD
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}

extension KeyedSection {
    /// A new section: the records of `old`, with those whose key is in `changed` replaced
    /// (or added). Unchanged records are copied as bytes, never decoded. Held whole in
    /// memory: what a listing made in memory needs; a snapshot being written merges straight
    /// into its file instead (`merge(_:changed:into:)`).
    /// - Complexity: O(old section + changed · log changed).
    public static func merge(
        _ old: UnsafeRawBufferPointer, changed: [(key: [UInt8], payload: [UInt8])]
    ) throws -> [UInt8] {
        let replacements = changed.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let count = Int(try SnapshotReader(old).readUInt32(at: 0))
        guard 4 + 4 * count <= old.count else { throw SnapshotError.malformed("a keyed section's table is cut short") }
        var merged: [(key: [UInt8], payload: [UInt8])] = []
        merged.reserveCapacity(count + replacements.count)
        var j = 0
        for i in 0..<count {
            let (key, payload) = try record(i, in: old)
            while j < replacements.count && replacements[j].key.lexicographicallyPrecedes(key) {
                merged.append(replacements[j])
                j += 1
            }
            if j < replacements.count && replacements[j].key.elementsEqual(key) {
                merged.append(replacements[j])
                j += 1
            } else {
                merged.append((Array(key), Array(payload)))
            }
        }
        merged += replacements[j...]
        return build(merged, sorted: true)
    }
}

extension KeyedSection {
    /// Writes into `section` (a section streamed without chunks: its records carry their own
    /// checksums) the section `merge(_:changed:)` returns, a few megabytes at a time: neither
    /// the records nor the new section are ever held whole. Merging the 10M store's decider
    /// snapshot in memory held 940 MB and took 2.7 s of every 64th append.
    ///
    /// Each replacement's place is found by binary search; every old record is checked
    /// against its checksum as it is copied.
    /// - Complexity: O(old section + changed · log old).
    /// - Throws: `SnapshotError.malformed` for a damaged old section or record (the new
    ///   section is then left unfinished: its file is not kept); `SystemError` from writing.
    public static func merge(
        _ old: UnsafeRawBufferPointer, changed: [(key: [UInt8], payload: [UInt8])],
        into section: SnapshotSections.StreamedSection
    ) throws {
        let replacements = changed.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let count = try self.count(in: old)
        let table = SnapshotReader(old)
        /// Where old record `i` begins and ends (its checksum included).
        func bounds(_ i: Int) throws(SnapshotError) -> Range<Int> {
            let start = Int(try table.readUInt32(at: 4 + 4 * i))
            let end = i + 1 < count ? Int(try table.readUInt32(at: 4 + 4 * (i + 1))) : old.count
            guard start >= 4 + 4 * count, start < end, end <= old.count else {
                throw .malformed("a keyed section's offsets are out of order")
            }
            return start..<end
        }
        /// How many old records' keys sort before `key`, and whether the next one is `key`.
        func place(of key: [UInt8]) throws(SnapshotError) -> (index: Int, replaces: Bool) {
            var low = 0, high = count
            while low < high {
                let mid = (low + high) / 2
                if try record(mid, in: old).key.lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
            }
            return (low, low < count ? try record(low, in: old).key.elementsEqual(key) : false)
        }
        // The new section's order: old records by index, with each replacement before the
        // first old record whose key does not sort before it (in place of it when equal).
        let places = try replacements.map { replacement throws(SnapshotError) in try place(of: replacement.key) }
        let replacedCount = places.count { $0.replaces }
        func encodedSize(_ r: (key: [UInt8], payload: [UInt8])) -> Int {
            func varint(_ n: Int) -> Int { n < 0x80 ? 1 : 1 + varint(n >> 7) }
            return varint(r.key.count) + r.key.count + varint(r.payload.count) + r.payload.count + 4
        }
        let newCount = count - replacedCount + replacements.count
        var w = SnapshotWriter(capacity: section.spillAt + (1 << 20))
        w.writeUInt32(UInt32(newCount))
        // The table: every record's offset, worked out from the old offsets and the
        // replacements' sizes, before any record is written.
        var offset = 4 + 4 * newCount
        var next = 0
        func putOffset(size: Int) throws {
            guard offset <= Int(UInt32.max) else { throw SnapshotError.malformed("a keyed section of 4 GiB or more") }
            w.writeUInt32(UInt32(offset))
            offset += size
            try section.spill(&w)
        }
        // Places rise with the keys, and a replacement of record i comes last among those
        // placed at i (its key equals i's; the others sort before it).
        for i in 0...count {
            var replaced = false
            while next < replacements.count && places[next].index == i {
                try putOffset(size: encodedSize(replacements[next]))
                replaced = replaced || places[next].replaces
                next += 1
            }
            if i < count && !replaced { try putOffset(size: try bounds(i).count) }
        }
        // The records, in the same order.
        next = 0
        for i in 0...count {
            var replaced = false
            while next < replacements.count && places[next].index == i {
                replaced = replaced || places[next].replaces
                let start = w.position
                let (key, payload) = replacements[next]
                w.write(UInt64(key.count))
                w.writeRaw(key)
                w.write(UInt64(payload.count))
                w.writeRaw(payload)
                let checksum = w.bytes.withUnsafeBytes {
                    KeyedSection.checksum(UnsafeRawBufferPointer(rebasing: $0[(start - w.handedOff)...]))
                }
                w.writeUInt32(checksum)
                try section.spill(&w)
                next += 1
            }
            guard i < count, !replaced else { continue }
            let range = try bounds(i)
            // Checked as `record` checks it, and ending where the table says.
            let (_, payload) = try record(i, in: old)
            guard payload.baseAddress! + payload.count + 4 - old.baseAddress! == range.upperBound else {
                throw SnapshotError.malformed("a record does not end where the next begins")
            }
            w.writeRaw(UnsafeRawBufferPointer(rebasing: old[range]))
            try section.spill(&w)
        }
        try section.finish(&w)
    }
}
