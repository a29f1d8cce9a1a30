import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// A snapshot section checked chunk by chunk: the check of every 256 KiB chunk is kept in a
/// companion section (`NAME#chunks`), and the section's own digest in the header is the
/// SHA-256 of those checks.
///
/// A reader that needs a few records of a large section (one tandem of a 225 MB read
/// model) checks only the chunks it reads; a reader of the whole section checks its chunks
/// on every core. Either way no byte is used before the check it belongs to was made.
///
/// A chunk's check is its XXH64 (little-endian, in a 32-byte slot whose other bytes are
/// zero; the slot is the size of the SHA-256 digest it replaced). A cache file can be
/// rewritten by anyone who can write the store, so a keyless SHA-256 guarded against
/// nothing a checksum does not: it is there for damage (a torn or cut write, a flipped
/// bit), which a 64-bit check of 256 KiB finds but for one chance in 2^64. SHA-256 was a
/// fifth of loading a read model (0.24 s of CPU on the 10M store); XXH64 runs at several
/// gigabytes a second on one core.
public enum SnapshotChunks {
    /// The chunk length: small enough that one record costs a fraction of a millisecond to
    /// check, large enough that the checks are 1/8192 of the section.
    public static let size = 1 << 18

    /// The name of the companion section that holds `section`'s chunk checks.
    public static func companion(of section: String) -> String { section + "#chunks" }

    /// The checks of every chunk of `bytes`, back to back (32 bytes each), made on every
    /// core.
    /// - Complexity: O(n).
    public static func digests(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let count = (bytes.count + size - 1) / size
        var out = [UInt8](repeating: 0, count: count * 32)
        out.withUnsafeMutableBytes { target in
            let shared = Shared(input: bytes, output: target)
            // A few chunks per task: fewer hand-offs.
            let stride = max(1, (count + 63) / 64)
            DispatchQueue.concurrentPerform(iterations: (count + stride - 1) / stride) { task in
                for chunk in (task * stride)..<min(count, (task + 1) * stride) {
                    let start = chunk * size
                    let bytes = UnsafeRawBufferPointer(
                        rebasing: shared.input[start..<min(shared.input.count, start + size)])
                    store(check(bytes), into: shared.output, at: chunk * 32)
                }
            }
        }
        return out
    }

    /// A chunk's check: its XXH64.
    public static func check(_ chunk: UnsafeRawBufferPointer) -> UInt64 { XXH64.hash(chunk) }

    /// A check's 32-byte slot at `offset`: the check little-endian, then 24 zero bytes.
    static func store(_ check: UInt64, into output: UnsafeMutableRawBufferPointer, at offset: Int) {
        output.storeBytes(of: check.littleEndian, toByteOffset: offset, as: UInt64.self)
        for i in 8..<32 { output[offset + i] = 0 }
    }

    /// Each task reads its own chunks and writes its own checks.
    private struct Shared: @unchecked Sendable {
        let input: UnsafeRawBufferPointer
        let output: UnsafeMutableRawBufferPointer
    }
}

/// A chunked section of a mapped snapshot, whose chunks are checked as they are first read.
///
/// Not thread-safe: one reader at a time.
public final class VerifiedSection {
    /// The section's bytes, in the mapping (unchecked until `check` covers them).
    public let bytes: UnsafeRawBufferPointer
    private let digests: [UInt8]
    private var checked: [Bool]
    private let map: MappedFile

    /// Opens `name` of a mapped snapshot: reads its chunk checks (checked against the
    /// header) but none of its bytes yet.
    /// - Throws: `SnapshotError.malformed` if the section or its digests are missing or do
    ///   not match.
    public init(
        _ name: String, of header: SnapshotFile.Header, in file: SnapshotFile, map: MappedFile
    )
        throws(SnapshotError)
    {
        guard let (range, digest) = header.sections[name], range.upperBound <= map.bytes.count else {
            throw .malformed("it has no \(name) section")
        }
        let digests = try file.section(SnapshotChunks.companion(of: name), of: header)
        guard SHA256.hash(digests) == digest,
            digests.count == 32 * ((range.count + SnapshotChunks.size - 1) / SnapshotChunks.size)
        else {
            throw .malformed("section \(name) does not match its chunk checks")
        }
        self.map = map
        self.bytes = UnsafeRawBufferPointer(rebasing: map.bytes[range])
        self.digests = digests
        self.checked = [Bool](repeating: false, count: digests.count / 32)
    }

    /// Checks the chunks that hold `range` (offsets in the section), once each.
    /// - Throws: `SnapshotError.malformed` if the range lies outside the section or a chunk
    ///   does not match its digest.
    public func check(_ range: Range<Int>) throws(SnapshotError) {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw .malformed("a record lies outside its section")
        }
        guard !range.isEmpty else { return }
        for chunk in (range.lowerBound / SnapshotChunks.size)...((range.upperBound - 1) / SnapshotChunks.size)
        where !checked[chunk] {
            let start = chunk * SnapshotChunks.size
            let check = SnapshotChunks.check(
                UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + SnapshotChunks.size)]))
            var computed = [UInt8](repeating: 0, count: 32)
            computed.withUnsafeMutableBytes { SnapshotChunks.store(check, into: $0, at: 0) }
            let matches = computed.elementsEqual(digests[(chunk * 32)..<(chunk * 32 + 32)])
            guard matches else { throw .malformed("a chunk of the section does not match its digest") }
            checked[chunk] = true
        }
    }

    /// The little-endian 32-bit word at `offset`, checked.
    public func uint32(at offset: Int) throws(SnapshotError) -> UInt32 {
        try check(offset..<(offset + 4))
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The little-endian 64-bit word at `offset`, checked.
    public func uint64(at offset: Int) throws(SnapshotError) -> UInt64 {
        try check(offset..<(offset + 8))
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Reads with `body` from `offset`, then checks every byte it read: a damaged chunk
    /// makes the read throw even if the damage happened to parse.
    /// - Throws: what `body` throws; `SnapshotError.malformed` for a damaged chunk.
    public func read<T>(
        from offset: Int, _ body: (inout SnapshotReader) throws(SnapshotError) -> T
    )
        throws(SnapshotError) -> T
    {
        guard offset >= 0, offset < bytes.count else { throw .malformed("a record lies outside its section") }
        var reader = SnapshotReader(bytes, position: offset)
        let value = try body(&reader)
        try check(offset..<max(offset + 1, reader.position))
        return value
    }
}
