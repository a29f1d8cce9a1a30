import EventLog

/// Marks what an `Identifier` identifies, so that a tandem id can never be passed where a
/// participant id is expected.
public protocol IdentifierKind: Sendable {
    /// The kind's name in messages: "participant", "tandem", …
    static var noun: String { get }
    /// The prefix of generated ids, e.g. `p-`.
    static var prefix: String { get }
}

/// A typed id: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most
/// 64 characters. Generated ids are opaque (`p-7k2m9x`) and carry no personal data.
public struct Identifier<Kind: IdentifierKind>: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The id as written.
    public let rawValue: String

    /// An id from text, or nil if the text is not a valid id.
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        rawValue = text
    }

    /// An id from trusted text (the log), not checked.
    init(unchecked text: String) { rawValue = text }

    /// An id from raw UTF-8 bytes (a snapshot's record), checked before a string is made;
    /// nil if they are not a valid id.
    @inlinable
    public init?(bytes: UnsafeRawBufferPointer) {
        guard Self.isValid(bytes) else { return nil }
        rawValue = String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` may be used as an id.
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid(UnsafeRawBufferPointer($0)) }
    }

    /// Whether raw bytes (a scanned JSON string without escapes) form a valid id; checked
    /// without building a string first.
    @inlinable @inline(__always)
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, bytes.count <= 64, isAlphanumeric(first) else { return false }
        for c in bytes
        where !(isAlphanumeric(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")) {
            return false
        }
        return true
    }

    @usableFromInline @inline(__always)
    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    /// A random opaque id: the kind's prefix and six base-36 characters.
    public static func random(using random: some RandomSource) -> Identifier {
        let alphabet = Array("0123456789abcdefghijkmnpqrstuvwxyz")  // no l and o: they read as 1 and 0
        var text = Kind.prefix
        for _ in 0..<6 { text.append(alphabet[Int(random.next(below: UInt64(alphabet.count)))]) }
        return Identifier(unchecked: text)
    }

    public var description: String { rawValue }

    /// Natural order: `t-1-2` before `t-1-10` (see `NaturalOrder`).
    public static func < (a: Identifier, b: Identifier) -> Bool { NaturalOrder.less(a.rawValue, b.rawValue) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard Self.isValid(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "invalid \(Kind.noun) id '\(text)'"))
        }
        rawValue = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public enum ProgrammeKind: IdentifierKind {
    public static let noun = "programme"
    public static let prefix = "prog-"
}

public enum ParticipantKind: IdentifierKind {
    public static let noun = "participant"
    public static let prefix = "p-"
}

public enum TandemKind: IdentifierKind {
    public static let noun = "tandem"
    public static let prefix = "t-"
}

public enum GoalKind: IdentifierKind {
    public static let noun = "goal"
    public static let prefix = "g-"
}

public enum MatchRunKind: IdentifierKind {
    public static let noun = "match run"
    public static let prefix = "run-"
}

/// A programme, e.g. `pilot-2027`.
public typealias ProgrammeID = Identifier<ProgrammeKind>
/// A participant: always an opaque id, never a name.
public typealias ParticipantID = Identifier<ParticipantKind>
/// A tandem of one mentor and one mentee.
public typealias TandemID = Identifier<TandemKind>
/// A goal, unique within its tandem.
public typealias GoalID = Identifier<GoalKind>
/// A recorded run of the matching algorithm.
public typealias MatchRunID = Identifier<MatchRunKind>

/// The order every list is sorted in: case-folded, with runs of digits compared as numbers
/// (`level 2` before `level 10`, `t-1-2` before `t-1-10`), and the bytes as the last word, so
/// that the order is total and the same output comes out of the same basis every time
/// ("Ost" and "ost" always in the same order).
public enum NaturalOrder {
    /// Whether `a` sorts before `b`.
    ///
    /// Ids and most labels are ASCII: those are compared in place, byte by byte, with no
    /// copy (sorting a million ids allocated four arrays per comparison before). Other text
    /// goes through Unicode case folding.
    public static func less(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        if let ascii = a.withUTF8({ x in b.withUTF8({ y in asciiLess(x, y) }) }) { return ascii }
        return foldedLess(a, b)
    }

    /// The order on ASCII text, compared in place; nil if either holds other characters.
    static func asciiLess(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        for c in x where c >= 0x80 { return nil }
        for c in y where c >= 0x80 { return nil }
        return natural(x, y) { c in c >= 65 && c <= 90 ? c + 32 : c } ?? x.lexicographicallyPrecedes(y)
    }

    /// The order on any text: Unicode case folding first (the reference for `asciiLess`).
    package static func foldedLess(_ a: String, _ b: String) -> Bool {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        let order = x.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { y in natural(x, y) { $0 } } }
        return order ?? Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    /// Whether `x` sorts before `y`, bytes compared after `fold` and runs of digits as
    /// numbers; nil if they are equal so (the caller breaks the tie).
    @inline(__always)
    private static func natural(
        _ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>, fold: (UInt8) -> UInt8
    ) -> Bool? {
        var i = 0, j = 0
        while i < x.count && j < y.count {
            if isDigit(x[i]) && isDigit(y[j]) {
                var i2 = i, j2 = j
                while i2 < x.count && x[i2] == 48 { i2 += 1 }  // leading zeros do not count
                while j2 < y.count && y[j2] == 48 { j2 += 1 }
                var i3 = i2, j3 = j2
                while i3 < x.count && isDigit(x[i3]) { i3 += 1 }
                while j3 < y.count && isDigit(y[j3]) { j3 += 1 }
                if i3 - i2 != j3 - j2 { return i3 - i2 < j3 - j2 }
                for k in 0..<(i3 - i2) where x[i2 + k] != y[j2 + k] { return x[i2 + k] < y[j2 + k] }
                if i3 - i != j3 - j { return i3 - i < j3 - j }
                (i, j) = (i3, j3)
            } else {
                let p = fold(x[i]), q = fold(y[j])
                if p != q { return p < q }
                i += 1
                j += 1
            }
        }
        if x.count - i != y.count - j { return x.count - i < y.count - j }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// `items` sorted by `first`, then by the natural order of their ids (`less`). Each id's
    /// key (`key(_:)`) is made once and the items sorted by it, two words a comparison; ids
    /// are compared only where keys tie (comparing the ids themselves at every step was
    /// 2.5 s of `people` on the 10M store's 1.3 million people). If any id has no key (text
    /// beyond ASCII, which no id is), every comparison compares the texts.
    /// - Complexity: O(n log n) comparisons of keys, and of ids where keys tie.
    /// Inlinable: unspecialised across modules, the generic sort took twice as long.
    @inlinable
    public static func sorted<Item>(
        _ items: [Item], first: (Item) -> Int32 = { _ in 0 }, id: (Item) -> String
    ) -> [Item] {
        // 24 bytes an item: the words first, then the two 32-bit numbers.
        var keyed: [(high: UInt64, low: UInt64, first: Int32, index: Int32)] = []
        keyed.reserveCapacity(items.count)
        var keyless = false
        for (index, item) in items.enumerated() {
            var text = id(item)
            let key = text.withUTF8(Self.key)
            if key == nil { keyless = true }
            keyed.append((key?.0 ?? 0, key?.1 ?? 0, first(item), Int32(index)))
        }
        if keyless { for i in keyed.indices { (keyed[i].high, keyed[i].low) = (0, 0) } }
        keyed.sort { a, b in
            if a.first != b.first { return a.first < b.first }
            if a.high != b.high { return a.high < b.high }
            if a.low != b.low { return a.low < b.low }
            return less(id(items[Int(a.index)]), id(items[Int(b.index)]))
        }
        return keyed.map { items[Int($0.index)] }
    }

    /// The first 16 bytes of ASCII text's sort key, as two big-endian words, or nil for
    /// other text. Where two texts' keys differ, `less` orders them as the keys do; equal
    /// keys say nothing (the texts are compared). Sorting a million ids by key, comparing
    /// texts only on ties, skips the comparisons of text that made most of a sort.
    ///
    /// The key is the text with letters folded to lower case and each run of digits written
    /// as `0`, the number of its digits after leading zeros, those digits, and the run's
    /// whole length: in bytewise order that is `natural`'s order (a run's `0` stands for
    /// any digit against a letter; the counts compare runs as numbers, leading zeros
    /// last); zero bytes pad a short key, and a text that ends sorts first.
    /// - Complexity: O(16) past the text's first 16 key bytes.
    public static func key(_ text: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        var words: (UInt64, UInt64) = (0, 0)
        var filled = 0
        @inline(__always) func emit(_ byte: UInt8) {
            guard filled < 16 else { return }
            if filled < 8 {
                words.0 |= UInt64(byte) << (56 - 8 * filled)
            } else {
                words.1 |= UInt64(byte) << (56 - 8 * (filled - 8))
            }
            filled += 1
        }
        var i = 0
        while i < text.count {
            if filled == 16 {
                // The rest cannot change the key; it must still be ASCII for the key to hold.
                for k in i..<text.count where text[k] >= 0x80 { return nil }
                return words
            }
            let c = text[i]
            guard c < 0x80 else { return nil }
            guard isDigit(c) else {
                emit(c >= 65 && c <= 90 ? c + 32 : c)
                i += 1
                continue
            }
            var significant = i
            while significant < text.count && text[significant] == 48 { significant += 1 }
            var end = significant
            while end < text.count && isDigit(text[end]) { end += 1 }
            // Ids are at most 64 bytes; a run of 256 digits or more has no key (its
            // lengths would not fit a byte).
            guard end - i < 256 else { return nil }
            emit(48)
            emit(UInt8(end - significant))
            for k in significant..<end { emit(text[k]) }
            emit(UInt8(end - i))
            i = end
        }
        return words
    }
}
