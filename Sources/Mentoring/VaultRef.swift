/// A vault ref (`PersonalReference.ref`, a profile line's ref): packed into a number where it
/// has our own shape (`r-` and 16 lowercase hex digits), so that no string is made for it.
///
/// `VaultRef(_:)` makes a ref of our shape `.packed`, never `.other`, and `PersonalReference`
/// keeps its refs so: two such refs are equal exactly when their texts are.
public enum VaultRef: Sendable, Hashable {
    /// Our own shape, as `PackedRef` packs it.
    case packed(UInt64)
    /// Any other shape, as written.
    case other(String)

    /// The ref of this text: packed where it can be.
    public init(_ ref: String) {
        if let key = PackedRef.pack(ref) { self = .packed(key) } else { self = .other(ref) }
    }

    /// The ref of raw bytes (a JSON string's content without escapes): packed without a
    /// string made where it can be, else `text()`'s string.
    @inline(__always)
    init(bytes: UnsafeRawBufferPointer, text: () -> String) {
        if let key = PackedRef.pack(bytes: bytes) { self = .packed(key) } else { self = .other(text()) }
    }

    /// The ref as text (a packed one unpacks to the very text it was packed from: `PackedRef`
    /// takes lowercase hex only, and writes it back so).
    /// - Complexity: one allocation for a packed ref (its string is 18 bytes).
    public var text: String {
        switch self {
        case .packed(let key): PackedRef.unpack(key)
        case .other(let ref): ref
        }
    }

    /// The packed number, or nil for a ref of another shape.
    public var packed: UInt64? {
        if case .packed(let key) = self { key } else { nil }
    }
}
