import EventLog
import Mentoring

/// The fields a listing of people shows of each profile (name, email, unit, level, birth
/// year, gender), many profiles in one buffer, each at its listed position.
///
/// A `Profile` value per person with its strings on the heap was 200 bytes each: 260 MB of
/// the 10M store's `people`, for 1.3 million people. Packed, the same fields take about 70,
/// and 4 bytes say where.
/// Each profile is unpacked when it is asked for, and let go after.
public struct ListedProfiles: Sendable {
    /// The packed profiles, in chunks of `chunkSize` bytes (a record never straddles two):
    /// one buffer grown by doubling held up to twice the 90 MB of a listing of everyone on
    /// the 10M store while it grew, and a third more than it used after.
    private var chunks: [[UInt8]] = []
    /// Where each position's profile begins: its chunk's number times `chunkSize` plus its
    /// offset there; `UInt32.max` for none.
    private var starts: [UInt32]

    /// A chunk's size: a power of two, so that a start is a shift and a mask.
    static let chunkSize = 1 << 20

    /// Room for `count` positions, none with a profile yet.
    init(count: Int) { starts = [UInt32](repeating: .max, count: count) }

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
        let record = w.bytes
        if chunks.isEmpty || chunks[chunks.count - 1].count + record.count > Self.chunkSize {
            // A record longer than a chunk (a name of a megabyte) gets a chunk of its own.
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.chunkSize, record.count))
            chunks.append(chunk)
        }
        let chunk = chunks.count - 1
        let start = UInt64(chunk) * UInt64(Self.chunkSize) + UInt64(chunks[chunk].count)
        precondition(start < UInt64(UInt32.max), "listed profiles past 4 GB")
        starts[position] = UInt32(start)
        chunks[chunk].append(contentsOf: record)
    }

    /// The listed fields of the profile at `position` (its lists empty), or nil.
    public subscript(position: Int) -> Profile? {
        let start = starts[position]
        guard start != .max else { return nil }
        let chunk = Int(start) / Self.chunkSize, offset = Int(start) % Self.chunkSize
        return chunks[chunk].withUnsafeBytes { raw in
            var r = SnapshotReader(raw, position: offset)
            // Written just above by `set`: it reads back.
            return try? Profile(
                name: r.readString(), email: r.readOptionalString(), unit: r.readString(), level: r.readInt(),
                born: r.readInt(), gender: r.readOptionalString())
        }
    }
}
