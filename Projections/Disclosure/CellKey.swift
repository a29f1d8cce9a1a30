import EventLog
import Mentoring
import Synchronization

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
    private let inner: [UInt8]
    private let outer: [UInt8]
    /// Keys computed before, for the rest of the query.
    private let cache = Mutex<[String: CellKey]>([:])

    /// - Parameter secret: the store's secret (32 bytes).
    public init(secret: [UInt8]) {
        var block = secret.count > 64 ? SHA256.hash(secret).bytes : secret
        block += [UInt8](repeating: 0, count: 64 - block.count)
        inner = block.map { $0 ^ 0x36 }
        outer = block.map { $0 ^ 0x5c }
    }

    /// A participant's key.
    public func key(_ participant: ParticipantID) -> CellKey { key("participant:", participant.rawValue) }
    /// A tandem's key.
    public func key(_ tandem: TandemID) -> CellKey { key("tandem:", tandem.rawValue) }

    private func key(_ kind: String, _ id: String) -> CellKey {
        let name = kind + id
        if let known = cache.withLock({ $0[name] }) { return known }
        let digest = SHA256.hash(outer + SHA256.hash(inner + Array(name.utf8)).bytes)
        let key = CellKey(digest.words.0)
        cache.withLock { $0[name] = key }
        return key
    }
}
