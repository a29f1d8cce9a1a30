import EventLog
import Glibc
import Mentoring

/// Every person's (or every tandem's) record key, kept in `cache/` so that an analyst's
/// query does not make them all again: `cache/record-keys-participants` and
/// `cache/record-keys-tandems`.
///
/// A key is two SHA-256 compressions (an HMAC); an analyst's `activity` or `dropouts` on the
/// 10M store made 2 to 2.6 million of them, a quarter of the query's work on both cores.
///
/// Layout (little-endian): the magic `TANDEMRK`, the format (1) and the kind (0 people,
/// 1 tandems) as 32-bit words, the count `n` as a 64-bit word, a 32-byte tag (HMAC under
/// the store's secret of the kind's name: a file made under another secret, or for the
/// other kind, is not used), `n` entries of a 64-bit fingerprint of the id (SipHash-2-4
/// keyed by the secret) and its 32-bit key, and the SHA-256 of the checks of the 256 KiB
/// chunks of everything before it (`SnapshotChunks`).
///
/// The keys are as secret as the store's `secret`: the file is 0600 like it, and is
/// removed with the rest of `cache/` (by an erasure, or by hand; it is made again).
/// Entries are in the row order of the model that wrote them; a model whose rows differ
/// (a window leaves some people out) finds each id by its fingerprint near where it was
/// (`RecordKeys.everyKey`), and makes the key of any id it does not find.
///
/// Read through a map, a window at a time, each window's pages handed back once passed:
/// held whole, the file and the fingerprints were 26 MB more at the peak of `activity`.
final class RecordKeyFile {
    static let magic = Array("TANDEMRK".utf8)
    static let format: UInt32 = 1
    static let headerSize = 8 + 4 + 4 + 8 + 32
    static let entrySize = 12
    static let trailerSize = 32
    /// How much is checked, or written, at a time: a whole number of `SnapshotChunks`.
    static let window = 16 * SnapshotChunks.size

    private let map: MappedFile
    /// How many entries it holds.
    let count: Int
    /// Entries before this one were handed back (`release(before:)`).
    private var released = 0

    private init(map: MappedFile, count: Int) {
        self.map = map
        self.count = count
    }

    /// The file's name in `cache/` for `kind`.
    static func name(_ kind: RecordKeys.Kind) -> String {
        switch kind {
        case .participant: "record-keys-participants"
        case .tandem: "record-keys-tandems"
        }
    }

    static func kindNumber(_ kind: RecordKeys.Kind) -> UInt32 {
        switch kind {
        case .participant: 0
        case .tandem: 1
        }
    }

    /// The file at `path` if it is whole, of this format and kind, made under these keys'
    /// secret, and matches its digest; nil otherwise (no file, or one to make again).
    static func open(_ path: String, kind: RecordKeys.Kind, keys: RecordKeys) -> RecordKeyFile? {
        guard let map = try? MappedFile(path: path) else { return nil }
        let raw = map.bytes
        guard raw.count >= headerSize + trailerSize, memcmp(raw.baseAddress!, magic, magic.count) == 0,
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == format,
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) == kindNumber(kind)
        else { return nil }
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard stored <= UInt64(raw.count / entrySize) else { return nil }
        let count = Int(stored)
        guard raw.count == headerSize + entrySize * count + trailerSize,
            raw[24..<56].elementsEqual(keys.fileTag(kind).bytes)
        else { return nil }
        let bodySize = raw.count - trailerSize
        var digests: [UInt8] = []
        var start = 0
        while start < bodySize {
            let end = min(bodySize, start + window)
            digests += SnapshotChunks.digests(of: UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            map.release(start..<end)
            start = end
        }
        guard raw[bodySize...].elementsEqual(SHA256.hash(digests).bytes) else { return nil }
        return RecordKeyFile(map: map, count: count)
    }

    /// The fingerprint and the key of entry `index` (`0..<count`).
    @inline(__always)
    func entry(_ index: Int) -> (fingerprint: UInt64, key: UInt32) {
        let offset = Self.headerSize + Self.entrySize * index
        return (
            UInt64(littleEndian: map.bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
            UInt32(littleEndian: map.bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        )
    }

    /// Hands back the pages of the entries before `index` (they are read again if needed).
    func release(before index: Int) {
        let end = Self.headerSize + Self.entrySize * min(index, count)
        guard end - released >= Self.window else { return }
        map.release(released..<end)
        released = end
    }

    /// Writes the file for `kind` at `path` (atomically, 0600): `count` entries, those of
    /// rows `range` given by `entries` in order, a window at a time.
    /// - Throws: `SystemError` if it cannot be written (the caller goes on without it).
    static func write(
        _ path: String, kind: RecordKeys.Kind, keys: RecordKeys, count: Int,
        entries: (_ rows: Range<Int>) -> [(fingerprint: UInt64, key: UInt32)]
    ) throws {
        try FileSystem.replaceAtomically(path, mode: 0o600) { write in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(window)
            var digests: [UInt8] = []
            func flush() throws {
                buffer.withUnsafeBytes { digests += SnapshotChunks.digests(of: $0) }
                try buffer.withUnsafeBytes { try write($0) }
                buffer.removeAll(keepingCapacity: true)
            }
            /// Appends bytes, flushing each whole window (so chunks fall where `open` cuts them).
            func put(_ bytes: UnsafeRawBufferPointer) throws {
                var bytes = bytes
                while !bytes.isEmpty {
                    let room = window - buffer.count
                    buffer += bytes.prefix(room)
                    bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst(room))
                    if buffer.count == window { try flush() }
                }
            }
            try magic.withUnsafeBytes { try put($0) }
            try withUnsafeBytes(of: format.littleEndian) { try put($0) }
            try withUnsafeBytes(of: kindNumber(kind).littleEndian) { try put($0) }
            try withUnsafeBytes(of: UInt64(count).littleEndian) { try put($0) }
            try keys.fileTag(kind).bytes.withUnsafeBytes { try put($0) }
            var start = 0
            let rowsAtOnce = window / entrySize
            while start < count {
                let rows = start..<min(count, start + rowsAtOnce)
                let made = entries(rows)
                precondition(made.count == rows.count, "an entry for each row")
                var packed: [UInt8] = []
                packed.reserveCapacity(rows.count * entrySize)
                for (fingerprint, key) in made {
                    withUnsafeBytes(of: fingerprint.littleEndian) { packed += $0 }
                    withUnsafeBytes(of: key.littleEndian) { packed += $0 }
                }
                try packed.withUnsafeBytes { try put($0) }
                start = rows.upperBound
            }
            if !buffer.isEmpty { try flush() }
            try SHA256.hash(digests).bytes.withUnsafeBytes { try write($0) }
        }
    }
}
