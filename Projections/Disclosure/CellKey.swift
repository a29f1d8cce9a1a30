import EventLog
import Mentoring

/// A cell's key: the sum of its contributors' record keys modulo 2³². The same set of
/// people (or tandems, or goals) always has the same key, whichever query, filter, date,
/// format or role produced the cell; a different set has an unrelated one.
public struct CellKey: Sendable, Hashable {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// The key of the empty cell.
    public static let empty = CellKey(0)

    /// Adds a contributor.
    public static func + (a: CellKey, b: CellKey) -> CellKey { CellKey(a.value &+ b.value) }
    public static func += (a: inout CellKey, b: CellKey) { a = a + b }
    /// The key of a cell without some of its contributors (its complement within a parent).
    public static func - (a: CellKey, b: CellKey) -> CellKey { CellKey(a.value &- b.value) }

    /// A second, independent-looking uniform number from the same key, for the noise of a
    /// magnitude (`salt` tells the magnitudes of one cell apart): SplitMix64's finaliser.
    public func mixed(_ salt: UInt64) -> CellKey {
        var z = UInt64(value) &* 0x9E37_79B9_7F4A_7C15 &+ salt &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return CellKey(UInt32(truncatingIfNeeded: z >> 32))
    }
}

/// Every contributor's secret record key: the first 32 bits of HMAC-SHA256 under the store's
/// secret (made at `init`, 0600, never printed) of the contributor's kind and id.
///
/// Derived, not stored: an id survives `forget`, so an erased person keeps their key and
/// still counts the same way. Without the secret the keys cannot be told, so the noise
/// cannot be predicted or removed.
public final class RecordKeys: Sendable {
    /// The secret, with HMAC's padded blocks absorbed once. No cache of keys: two
    /// compressions cost less than looking a key up by its name (a cache of a million names
    /// was a third of an analyst's `stats` on the 10M store).
    private let secret: HMAC.PreparedKey

    /// Fingerprints of ids for the record-key file, keyed by the secret (its own HMAC).
    let fingerprint: SipHash

    /// - Parameter secret: the store's secret (32 bytes).
    public init(secret: [UInt8]) {
        self.secret = HMAC.PreparedKey(secret)
        fingerprint = SipHash(key: Self.mac(self.secret, "record-key fingerprints").bytes)
    }

    /// The tag of `kind`'s record-key file under this secret (`RecordKeyFile`).
    func fileTag(_ kind: Kind) -> SHA256Digest { Self.mac(secret, "record-key file \(kind.prefix)") }

    private static func mac(_ secret: HMAC.PreparedKey, _ text: String) -> SHA256Digest {
        var text = text
        return text.withUTF8 { secret.mac(UnsafeRawBufferPointer($0)) }
    }

    /// The kinds of contributor, each keyed under its own prefix.
    enum Kind: Sendable {
        case participant, tandem

        var prefix: StaticString {
            switch self {
            case .participant: "participant:"
            case .tandem: "tandem:"
            }
        }
    }

    /// A participant's key.
    public func key(_ participant: ParticipantID) -> CellKey { key(.participant, participant.rawValue) }
    /// A tandem's key.
    public func key(_ tandem: TandemID) -> CellKey { key(.tandem, tandem.rawValue) }

    /// The first 32 bits of HMAC-SHA256(secret, kind + id), on the stack.
    func key(_ kind: Kind, _ id: String) -> CellKey {
        withName(kind, id) { CellKey(secret.mac($0).words.0) }
    }

    /// The keys of the ids at `range` of `ids`, each written to `out` at its position: two
    /// HMACs side by side, each name built in one of two buffers made once for the range.
    /// - Complexity: O(total length of the ids in `range`).
    func fill<IDs: ContributorIDs>(
        _ kind: Kind, _ ids: IDs, _ range: Range<Int>, into out: UnsafeMutableBufferPointer<CellKey>
    ) {
        let prefix = kind.prefix
        let prefixCount = prefix.utf8CodeUnitCount
        // Longer ids (none that `Identifier` accepts today) take `key(_:_:)`'s way.
        let capacity = prefixCount + 128
        withUnsafeTemporaryAllocation(byteCount: 2 * capacity, alignment: 16) { names in
            let nameA = names.baseAddress!, nameB = names.baseAddress! + capacity
            nameA.copyMemory(from: prefix.utf8Start, byteCount: prefixCount)
            nameB.copyMemory(from: prefix.utf8Start, byteCount: prefixCount)
            /// Writes `id` after the prefix at `name`; its whole length, or nil when it is too long.
            func write(_ id: String, at name: UnsafeMutableRawPointer) -> Int? {
                var id = id
                return id.withUTF8 { bytes in
                    guard prefixCount + bytes.count <= capacity else { return nil }
                    if !bytes.isEmpty {
                        (name + prefixCount).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                    }
                    return prefixCount + bytes.count
                }
            }
            var position = range.lowerBound
            while position + 1 < range.upperBound {
                let a = ids.id(at: position), b = ids.id(at: position + 1)
                if let countA = write(a, at: nameA), let countB = write(b, at: nameB) {
                    let (x, y) = secret.mac(
                        UnsafeRawBufferPointer(start: nameA, count: countA),
                        UnsafeRawBufferPointer(start: nameB, count: countB))
                    (out[position], out[position + 1]) = (CellKey(x.words.0), CellKey(y.words.0))
                } else {
                    (out[position], out[position + 1]) = (key(kind, a), key(kind, b))
                }
                position += 2
            }
            if position < range.upperBound { out[position] = key(kind, ids.id(at: position)) }
        }
    }

    /// Calls `body` with the bytes of kind + id, on the stack.
    private func withName<R>(_ kind: Kind, _ id: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var id = id
        let prefix = kind.prefix
        return id.withUTF8 { idBytes in
            let count = prefix.utf8CodeUnitCount + idBytes.count
            return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { name in
                name.baseAddress!.copyMemory(from: prefix.utf8Start, byteCount: prefix.utf8CodeUnitCount)
                if !idBytes.isEmpty {
                    (name.baseAddress! + prefix.utf8CodeUnitCount).copyMemory(
                        from: idBytes.baseAddress!, byteCount: idBytes.count)
                }
                return body(UnsafeRawBufferPointer(name))
            }
        }
    }
}
