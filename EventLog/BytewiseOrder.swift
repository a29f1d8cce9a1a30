#if canImport(Glibc)
    import Glibc
#endif

/// The order `KeyedSection` keeps its keys in: by their UTF-8 bytes, a shorter key before a
/// longer one it begins.
public enum BytewiseOrder {
    /// The positions of `keys`, ordered bytewise by the keys (equal keys by position).
    ///
    /// Sorted on each key's first eight bytes held as one number, so that most comparisons
    /// are one integer comparison; only keys whose first eight bytes agree are compared
    /// whole. (Comparing the strings' UTF-8 views element by element was most of writing a
    /// decider snapshot of 400,000 people.)
    /// - Complexity: O(n log n).
    public static func positions(of keys: [String]) -> [Int] {
        positions(count: keys.count) { keys[$0] }
    }

    /// The positions `0..<count`, ordered bytewise by `key(position)` (equal keys by
    /// position); see `positions(of:)`. The keys are asked for, not held.
    public static func positions(count: Int, key: (Int) -> String) -> [Int] {
        var entries: [(prefix: UInt64, position: Int32)] = []
        entries.reserveCapacity(count)
        precondition(count <= Int(Int32.max), "at most \(Int32.max) keys")
        for position in 0..<count { entries.append((prefix(key(position)), Int32(position))) }
        entries.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            let x = key(Int(a.position)), y = key(Int(b.position))
            if less(x, y) { return true }
            return !less(y, x) && a.position < b.position
        }
        return entries.map { Int($0.position) }
    }

    /// The first eight bytes of `key`, the first in the top byte, zeros after a shorter key:
    /// if `prefix(a) < prefix(b)`, then `a` sorts before `b`.
    static func prefix(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { utf8 in
            var word: UInt64 = 0
            for i in 0..<8 { word = word << 8 | (i < utf8.count ? UInt64(utf8[i]) : 0) }
            return word
        }
    }

    /// Whether `a`'s UTF-8 bytes sort before `b`'s.
    public static func less(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }
}
