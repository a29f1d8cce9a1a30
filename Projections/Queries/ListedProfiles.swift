import EventLog
import Mentoring

/// The fields a listing of people shows of each profile (name, email, unit, level, birth
/// year, gender), many profiles in one buffer, each at its listed position.
///
/// A `Profile` value per person with its strings on the heap was 200 bytes each: 260 MB of
/// the 10M store's `people`, for 1.3 million people. Packed, the same fields take about 70.
/// Each profile is unpacked when it is asked for, and let go after.
public struct ListedProfiles: Sendable {
    private var bytes: [UInt8] = []
    /// Where each position's profile begins in `bytes`; −1 for none.
    private var starts: [Int]

    /// Room for `count` positions, none with a profile yet.
    init(count: Int) { starts = [Int](repeating: -1, count: count) }

    /// How many positions there are.
    public var count: Int { starts.count }

    /// Keeps `profile`'s listed fields at `position` (a later one replaces an earlier one:
    /// the earlier's bytes stay unused).
    mutating func set(_ profile: Profile, at position: Int) {
        var w = SnapshotWriter(capacity: 96)
        w.write(profile.name)
        w.write(profile.email)
        w.write(profile.unit)
        w.write(profile.level)
        w.write(profile.born)
        w.write(profile.gender)
        starts[position] = bytes.count
        bytes.append(contentsOf: w.bytes)
    }

    /// The listed fields of the profile at `position` (its lists empty), or nil.
    public subscript(position: Int) -> Profile? {
        let start = starts[position]
        guard start >= 0 else { return nil }
        return bytes.withUnsafeBytes { raw in
            var r = SnapshotReader(raw, position: start)
            // Written just above by `set`: it reads back.
            return try? Profile(
                name: r.readString(), email: r.readOptionalString(), unit: r.readString(), level: r.readInt(),
                born: r.readInt(), gender: r.readOptionalString())
        }
    }
}
