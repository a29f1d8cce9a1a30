import EventLog

/// What the rules and the reports need of a profile: the unit (the cross-unit rule,
/// segments), level, birth year and gender. Never the name, the email or the free text.
///
/// Folds keep traits, not profiles: a name is read from the vault only for a row that shows
/// it, to a viewer who may see it.
public struct Traits: Sendable, Hashable {
    public var unit: String
    public var level: Int
    public var born: Int
    public var gender: String?

    public init(unit: String, level: Int, born: Int, gender: String? = nil) {
        self.unit = unit
        self.level = level
        self.born = born
        self.gender = gender
    }

    /// A profile's traits.
    public init(_ profile: Profile) {
        self.init(unit: profile.unit, level: profile.level, born: profile.born, gender: profile.gender)
    }

    /// The generation their birth year falls in.
    public var generation: Generation { Generation(bornIn: born) }
}

/// Signed-up participants' traits from the vault, by ref.
///
/// Memory matters here: a store of ten million events holds a million profiles. Our own refs
/// (`r-` and 16 hex digits) become a 64-bit key and the traits a 64-bit word, with units and
/// genders interned; anything else is kept as it is.
///
/// - Complexity: 16 bytes per profile (plus the table's slack) for refs and traits that fit.
public struct TraitsDirectory: Sendable {
    private var packed: [UInt64: UInt64] = [:]
    private var other: [String: Traits] = [:]
    private var codec = TraitsCodec()
    /// Set when only the end of the vault was loaded: a profile written before that point
    /// (a concurrent writer's, whose event came later) is looked up there.
    private var olderLines: Vault?

    public init() {}

    /// How many profiles it holds.
    public var count: Int { packed.count + other.count }

    /// Reads every profile line of the vault from byte `offset` on, streaming: other
    /// payloads and lines that do not parse are skipped.
    /// - Throws: `SystemError` if the vault cannot be read.
    public mutating func load(_ vault: Vault, from offset: Int = 0) throws {
        if offset > 0 { olderLines = vault }
        try Self.forEachProfileRef(in: vault, from: offset) { ref, traits in insert(traits, ref: ref) }
    }

    /// Calls `body` with the ref and traits of every profile line of the vault from byte
    /// `offset` on, in file order; other payloads and lines that do not parse are skipped.
    /// The lines are parsed on every core, `window` bytes of the file at a time (that
    /// window's pages and profiles are held meanwhile: with 64 MB, a replay's peak memory
    /// grew by 75 MB; 1 MB holds no more than the buffered read did).
    /// - Throws: `SystemError` if the vault cannot be read; what `body` throws.
    public static func forEachProfile(
        in vault: Vault, from offset: Int = 0, window: Int = 1 << 20, _ body: (String, Traits) throws -> Void
    ) throws {
        try forEachProfileRef(in: vault, from: offset, window: window) { ref, traits in try body(ref.text, traits) }
    }

    /// `forEachProfile` with each ref as it was found: packed where it has our shape, so
    /// that callers keying by the packed ref make no string for it.
    public static func forEachProfileRef(
        in vault: Vault, from offset: Int = 0, window: Int = 1 << 20, _ body: (VaultRef, Traits) throws -> Void
    ) throws {
        // At the end of a replay one core did this alone while the other waited (0.3 of
        // 1.5 s on the 1M store).
        try vault.forEachCandidate(.every, from: offset, window: window, parse: { line, _ in profile(in: line) }) {
            ref, traits in try body(ref, traits)
        }
    }

    /// Whether a vault line holds `"kind":"profile"` anywhere: what makes it a candidate
    /// profile, here and for the profile index (`ProfileOffsets`).
    ///
    /// Searched by its `k` from the line's start: a vault line's first `k` is in its
    /// payload's `"kind"` (ref and nonce are hex), where a general search went through the
    /// ref and the nonce byte by byte first (3 % of a cold replay).
    static func holdsProfileMarker(_ line: UnsafeRawBufferPointer) -> Bool {
        ProfileOffsets.profileMarker.withUnsafeBytes { ByteSearch.firstIndex(anchoredOf: $0, in: line) != nil }
    }

    /// The ref and traits of a vault line holding a profile; nil for anything else.
    static func parseProfileLine(_ line: UnsafeRawBufferPointer) -> (String, Traits)? {
        var s = JSONScanner(line)
        var ref: String?, traits: Traits?
        do throws(JSONSyntaxError) {
            try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
                if s.keyEquals(key, "ref") {
                    ref = try s.parseString()
                } else if s.keyEquals(key, "payload") {
                    traits = try Self.parseTraits(&s)
                } else {
                    try s.skipValue()
                }
            }
        } catch { return nil }
        guard let ref, let traits else { return nil }
        return (ref, traits)
    }

    private static func parseTraits(_ s: inout JSONScanner) throws(JSONSyntaxError) -> Traits? {
        var isProfile = false, unit: String?, level: Int?, born: Int?, gender: String?
        try s.forEachMember { (s: inout JSONScanner, key: Range<Int>, _: Bool) throws(JSONSyntaxError) in
            if s.keyEquals(key, "kind") {
                isProfile = try s.parseString() == "profile"
            } else if s.keyEquals(key, "unit") {
                unit = try s.parseString()
            } else if s.keyEquals(key, "level") {
                level = Int(try s.parseInt())
            } else if s.keyEquals(key, "born") {
                born = Int(try s.parseInt())
            } else if s.keyEquals(key, "gender") {
                gender = s.consume("null") ? nil : try s.parseString()
            } else {
                try s.skipValue()
            }
        }
        guard isProfile, let unit, let level, let born else { return nil }
        return Traits(unit: unit, level: level, born: born, gender: gender)
    }

    /// Adds a profile's traits (a signup decided in this process).
    public mutating func insert(_ traits: Traits, ref: String) { insert(traits, ref: VaultRef(ref)) }

    /// Adds a profile's traits under a ref as a pass over the vault found it.
    mutating func insert(_ traits: Traits, ref: VaultRef) {
        if case .packed(let key) = ref, let word = codec.pack(traits) {
            packed[key] = word
        } else {
            other[ref.text] = traits
        }
    }

    /// Forgets profiles (a signup undone, or erased).
    public mutating func remove(_ refs: some Sequence<String>) {
        for ref in refs {
            if let key = PackedRef.pack(ref) { packed[key] = nil }
            other[ref] = nil
        }
    }

    /// The traits a signup points to, if the vault still has its profile.
    public subscript(_ reference: PersonalReference) -> Traits? {
        // A packed ref is looked up as it is held; any other answer is the text's.
        if let key = reference.vaultRef.packed {
            if let word = packed[key] { return codec.unpack(word) }
            // Elsewhere only as traits the codec cannot pack, or in the vault's older lines: a
            // replay folds every signup before the traits are filled in, and each had made
            // its ref's text to find nothing.
            if other.isEmpty && olderLines == nil { return nil }
        }
        return self[reference.ref]
    }

    /// The traits of the profile with this ref.
    ///
    /// If only the end of the vault was loaded and the ref is not there, the rest of the
    /// vault is searched (rare: a profile erased, or written just before the snapshot).
    public subscript(_ ref: String) -> Traits? {
        if let key = PackedRef.pack(ref), let word = packed[key] { return codec.unpack(word) }
        if let traits = other[ref] { return traits }
        guard let olderLines else { return nil }
        var found: Traits?
        let marker = Array("\"\(ref)\"".utf8)
        try? LineStream.forEach(olderLines.path) { line, _ in
            guard found == nil, ByteSearch.contains(marker, in: line),
                let (lineRef, traits) = Self.parseProfileLine(line), lineRef == ref
            else { return }
            found = traits
        }
        return found
    }
}

/// Our own vault refs (`r-` and 16 lowercase hex digits) as 64-bit numbers: 8 bytes in a
/// table instead of a heap-allocated string.
public enum PackedRef {
    /// The ref as a number; nil for a ref of any other shape (kept as a string by callers).
    public static func pack(_ ref: String) -> UInt64? {
        guard ref.utf8.count == 18 else { return nil }
        var ref = ref
        return ref.withUTF8 { pack(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The ref in raw bytes as a number, without building a string; nil for another shape.
    @inline(__always)
    public static func pack(bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == 18, bytes[0] == UInt8(ascii: "r"), bytes[1] == UInt8(ascii: "-") else { return nil }
        // Eight digits at a time (digit by digit, a replay spent 200 instructions a ref).
        let high = SHA256Digest.hexWord(bytes.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
        let low = SHA256Digest.hexWord(bytes.loadUnaligned(fromByteOffset: 10, as: UInt64.self))
        guard high.notHex | low.notHex == 0 else { return nil }
        return UInt64(high.value) << 32 | UInt64(low.value)
    }

    /// The ref a number was packed from.
    /// - Complexity: one allocation, the string's own (reports unpack a ref per person).
    public static func unpack(_ key: UInt64) -> String {
        String(unsafeUninitializedCapacity: 18) { bytes in
            write(key, to: bytes.baseAddress!)
            return 18
        }
    }

    /// Appends the ref a number was packed from as a JSON string, quotes included, without
    /// a string made for it (an event's reference, written to the log).
    public static func writeQuoted(_ key: UInt64, into bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            buffer[0] = UInt8(ascii: "\"")
            write(key, to: buffer.baseAddress! + 1)
            buffer[19] = UInt8(ascii: "\"")
            bytes.append(contentsOf: buffer)
        }
    }

    /// The ref's 18 bytes, `r-` and 16 lowercase hex digits.
    private static func write(_ key: UInt64, to bytes: UnsafeMutablePointer<UInt8>) {
        bytes[0] = UInt8(ascii: "r")
        bytes[1] = UInt8(ascii: "-")
        let raw = UnsafeMutableRawPointer(bytes)
        raw.storeBytes(
            of: SHA256Digest.hexDigits(UInt32(truncatingIfNeeded: key >> 32)).littleEndian, toByteOffset: 2,
            as: UInt64.self)
        raw.storeBytes(
            of: SHA256Digest.hexDigits(UInt32(truncatingIfNeeded: key)).littleEndian, toByteOffset: 10, as: UInt64.self)
    }
}

/// Values numbered in the order they were first seen: units, genders, programmes, categories.
///
/// Inlinable, as `ChunkedStore` is: the read model interns programmes, runs and categories
/// from another module, where each lookup went through an unspecialised dictionary (about
/// 700 instructions, 2.7 % of a cold replay).
@frozen
public struct Interned<Value: Hashable & Sendable>: Sendable {
    /// The values, by number.
    @inlinable public var values: [Value] { storedValues }
    @usableFromInline var storedValues: [Value] = []
    @usableFromInline var numbers: [Value: Int] = [:]

    @inlinable public init() {}

    /// The values numbered as listed (a table written by a snapshot, read back with the
    /// same numbers); nil if a value is listed twice.
    public init?(values: [Value]) {
        var numbers: [Value: Int] = [:]
        numbers.reserveCapacity(values.count)
        for (n, value) in values.enumerated() {
            guard numbers.updateValue(n, forKey: value) == nil else { return nil }
        }
        self.storedValues = values
        self.numbers = numbers
    }

    /// The value's number, assigned on first sight.
    @inlinable
    public mutating func number(_ value: Value) -> Int {
        if let n = numbers[value] { return n }
        storedValues.append(value)
        numbers[value] = storedValues.count - 1
        return storedValues.count - 1
    }

    /// The value's number, if it has been seen.
    @inlinable public func existingNumber(_ value: Value) -> Int? { numbers[value] }

    /// Which numbers stand for one of `wanted`, by number: a scan of a million rows asks
    /// once per row, and a set of numbers hashed each question (a fifth of an analyst's
    /// `stats` headline on the 10M store).
    public func mask(of wanted: Set<Value>) -> NumberMask {
        var mask = NumberMask(count: values.count)
        for value in wanted { if let n = numbers[value] { mask.insert(n) } }
        return mask
    }
}

/// A set of small numbers (an `Interned` table's), as one flag per number.
public struct NumberMask: Sendable {
    @usableFromInline var flags: [Bool]

    /// No number of `0..<count`.
    public init(count: Int) { flags = [Bool](repeating: false, count: count) }

    /// Adds `number`, which must be in `0..<count`.
    public mutating func insert(_ number: Int) { flags[number] = true }

    /// Whether `number` is in the set (numbers outside `0..<count` never are).
    @inlinable
    public func contains(_ number: UInt32) -> Bool { Int(number) < flags.count && flags[Int(number)] }
}

/// Traits as one 64-bit word, with units and genders interned: unit number (24 bits) ·
/// gender number + 1 (8 bits, 0 = none) · level + 32768 (16 bits) · birth year (16 bits).
public struct TraitsCodec: Sendable {
    private var units = Interned<String>()
    private var genders = Interned<String>()

    public init() {}

    /// A codec numbering units and genders as listed (the tables of one written before);
    /// nil if a value is listed twice.
    public init?(units: [String], genders: [String]) {
        guard let units = Interned(values: units), let genders = Interned(values: genders) else { return nil }
        self.units = units
        self.genders = genders
    }

    /// The units and the genders, by number: what `init(units:genders:)` takes back.
    public var tables: (units: [String], genders: [String]) { (units.values, genders.values) }

    /// Whether `unpack` can read `word`: its unit and gender are numbered here (a word read
    /// from a damaged file may name neither).
    public func admits(_ word: UInt64) -> Bool {
        Int(word >> 40) < units.values.count && Int(word >> 32 & 0xFF) <= genders.values.count
    }

    /// The word for `traits`; nil if they do not fit (a level or a year out of range, or
    /// more than 16 million units): callers keep those as they are.
    public mutating func pack(_ traits: Traits) -> UInt64? {
        guard (-32768..<32768).contains(traits.level), (0..<65536).contains(traits.born) else { return nil }
        let unit = units.number(traits.unit)
        var gender = 0
        if let g = traits.gender { gender = genders.number(g) + 1 }
        guard unit < 1 << 24, gender < 1 << 8 else { return nil }
        return UInt64(unit) << 40 | UInt64(gender) << 32 | UInt64(traits.level + 32768) << 16 | UInt64(traits.born)
    }

    /// The traits a word was packed from (by this codec).
    public func unpack(_ word: UInt64) -> Traits {
        let gender = Int(word >> 32 & 0xFF)
        return Traits(
            unit: units.values[Int(word >> 40)], level: Int(word >> 16 & 0xFFFF) - 32768, born: Int(word & 0xFFFF),
            gender: gender == 0 ? nil : genders.values[gender - 1])
    }
}
