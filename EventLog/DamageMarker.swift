#if canImport(Glibc)
    import Glibc
#endif

/// Damage that someone found earlier: which file, where, and what.
public struct DamageNotice: Equatable, Sendable, CustomStringConvertible {
    /// The damaged file's path.
    public var file: String
    /// Where it is damaged.
    public var damage: LogDamage

    public init(file: String, damage: LogDamage) {
        self.file = file
        self.damage = damage
    }

    public var description: String { "\(file) at \(damage)" }
}

/// The store's record of damage (`damage.json`): written by whoever finds damage first
/// (`verify`, a reader or a writer), so that every later writer and reader refuses even
/// where its own cheap checks would not see the damage (a flipped byte deep in the log is
/// found only by a full verification).
///
/// It goes away only when the store is whole again: a full `verify` that finds nothing
/// (after a restore from backup) or an explicit recovery clears it.
public struct DamageMarker: Sendable {
    /// The marker file.
    public let path: String

    public init(path: String) { self.path = path }

    /// The damage recorded, or nil. An unreadable marker still counts as damage.
    public func read() -> DamageNotice? {
        guard let bytes = try? FileSystem.readFile(path) else { return nil }
        guard let object = try? JSONScanner.parse(bytes).objectValue, let file = object["file"]?.stringValue,
            let seq = object["seq"]?.intValue, let offset = object["offset"]?.intValue,
            let reason = object["reason"]?.stringValue
        else {
            return DamageNotice(
                file: path, damage: LogDamage(seq: 0, offset: 0, reason: "the damage record is unreadable"))
        }
        return DamageNotice(file: file, damage: LogDamage(seq: Int(seq), offset: Int(offset), reason: reason))
    }

    /// Records damage (best effort, fsync'ed). The first damage recorded stays: it is the
    /// one to look at first.
    public func record(_ damage: LogDamage, file: String) {
        guard read() == nil else { return }
        let object: JSONValue = .object([
            "file": .string(file), "seq": .int(Int64(damage.seq)), "offset": .int(Int64(damage.offset)),
            "reason": .string(damage.reason),
        ])
        try? FileSystem.replaceAtomically(path, with: Array((object.description + "\n").utf8))
    }

    /// Removes the record: the store was found whole, or recovered on purpose.
    public func clear() throws(SystemError) {
        guard FileSystem.kind(of: path).exists else { return }
        try FileSystem.remove(path)
        try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
    }
}
