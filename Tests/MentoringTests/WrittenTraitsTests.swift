import EventLog
import Testing

@testable import Mentoring

/// A profile line as the vault writes it is read where its fields stand; every other line
/// is read member by member. Whatever the line, the two give the same ref and traits, or
/// both none.
@Suite("Vault profiles: the written shape read straight on as the member reader reads it")
struct WrittenTraitsTests {
    /// The member-by-member reading: what a profile line means.
    static func plain(_ line: [UInt8]) -> (VaultRef, Traits)? {
        line.withUnsafeBytes { raw in
            guard TraitsDirectory.holdsProfileMarker(raw), let (ref, traits) = TraitsDirectory.parseProfileLine(raw)
            else { return nil }
            return (VaultRef(ref), traits)
        }
    }

    static func read(_ line: [UInt8]) -> (VaultRef, Traits)? {
        line.withUnsafeBytes { TraitsDirectory.profile(in: $0) }
    }

    static func straight(_ line: [UInt8]) -> (key: UInt64, traits: Traits)? {
        line.withUnsafeBytes { TraitsDirectory.writtenTraits($0) }
    }

    static func same(_ a: (VaultRef, Traits)?, _ b: (VaultRef, Traits)?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): x.0 == y.0 && x.1 == y.1
        default: false
        }
    }

    /// Profiles with and without email and gender, with escapes, non-ASCII and empty lists.
    static func profiles(_ random: SeededRandomSource, count: Int) -> [Profile] {
        let units = ["Product", "IT", "Finance & Controlling", "Vertrieb Süd", "R\"&\"D", "a\\b", "Tab\there"]
        let words = ["sql", "new-work", "tiktok", "führung", "quote\"d", ""]
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func list() -> [String] { (0..<Int(random.next() % 4)).map { _ in pick(words) } }
        return (0..<count).map { n in
            Profile(
                name: pick(["Anna Müller", "Jörg \"JJ\" Schmidt", "Lea", "Émile\nZola"]),
                email: random.next() % 3 == 0 ? nil : "p\(n)@example.org", unit: pick(units),
                level: Int(random.next() % 9) - 1, born: 1950 + Int(random.next() % 60),
                gender: pick([nil, "f", "m", "d", "\u{1F600}"]), offers: list(), wants: list(), interests: list())
        }
    }

    @Test("every line the vault writes is read straight on, as the member reader reads it")
    func writtenLines() {
        let random = SeededRandomSource(seed: 2_028)
        for profile in Self.profiles(random, count: 2_000) {
            let line = SealedRecord(.profile(profile), random: random).line
            let straight = Self.straight(line)
            #expect(straight != nil, "\(String(decoding: line, as: UTF8.self))")
            #expect(Self.same(straight.map { (.packed($0.key), $0.traits) }, Self.plain(line)))
            #expect(straight?.traits == Traits(profile))
        }
        // Other payloads are no profiles, either way.
        for payload in [PersonalPayload.notes("n"), .goalText("kind\":\"profile"), .reason("r")] {
            let line = SealedRecord(payload, random: random).line
            #expect(Self.straight(line) == nil)
            #expect(Self.read(line) == nil && Self.plain(line) == nil)
        }
    }

    @Test("shapes it leaves to the member reader: repeated keys, reordering, spaces, other refs")
    func otherShapes() {
        let nonce = String(repeating: "ab", count: 32)
        let head = #"{"ref":"r-00112233445566ff","nonce":"\#(nonce)","payload":{"kind":"profile","name":"N""#
        let tail = #","offers":[],"wants":[],"interests":[]}}"#
        let cases: [(String, expectStraight: Bool)] = [
            (head + #","unit":"U","level":2,"born":1990"# + tail, true),
            (head + #","unit":"U","level":2,"born":1990,"gender":null"# + tail, true),
            (head + #","unit":"U","level":2,"born":1990"# + tail + "trailing", true),
            // The last of a repeated key wins in the member reader.
            (head + #","unit":"U","level":2,"born":1990,"offers":[],"wants":[],"interests":[],"unit":"V"}}"#, false),
            (head + #","unit":"U","level":2,"born":1990"# + tail.dropLast() + #","ref":"r-ffffffffffffffff"}"#, false),
            (head + #","unit":"U","level":2,"born":1990,"kind":"notes""# + tail, false),
            (head + #","level":2,"unit":"U","born":1990"# + tail, false),
            (head + #", "unit":"U","level":2,"born":1990"# + tail, false),
            (head + #","unit":"U","level":2.0,"born":1990"# + tail, false),
            (head + #","unit":"U","level":2,"born":1990,"gender":7"# + tail, false),
            (head + #","unit":"U","level":2,"born":1990"# + tail.dropLast(), false),
            (
                head.replacingOccurrences(of: "r-00112233445566ff", with: "r-00112233445566FF")
                    + #","unit":"U","level":2,"born":1990"# + tail, false
            ),
            (
                head.replacingOccurrences(of: "r-00112233445566ff", with: "legacy-7")
                    + #","unit":"U","level":2,"born":1990"# + tail, false
            ),
            (
                head.replacingOccurrences(of: nonce, with: nonce.uppercased())
                    + #","unit":"U","level":2,"born":1990"# + tail, false
            ),
            (head + #","unit":"U","level":2,"born":1990,"offers":[1,],"wants":[],"interests":[]}}"#, false),
        ]
        for (text, expectStraight) in cases {
            let line = Array(text.utf8)
            #expect((Self.straight(line) != nil) == expectStraight, "\(text)")
            #expect(Self.same(Self.read(line), Self.plain(line)), "\(text)")
        }
        let last = Array(
            (head + #","unit":"U","level":2,"born":1990,"offers":[],"wants":[],"interests":[],"unit":"V"}}"#).utf8)
        #expect(Self.read(last)?.1.unit == "V")
        let legacy = Array(
            (head.replacingOccurrences(of: "r-00112233445566ff", with: "legacy-7")
                + #","unit":"U","level":2,"born":1990"#
                + tail).utf8)
        #expect(Self.read(legacy)?.0 == .other("legacy-7"))
    }

    @Test("a member added at every boundary of a written line: repeated keys, unknown keys")
    func membersAtEveryBoundary() {
        let random = SeededRandomSource(seed: 5)
        let extras = [
            #","unit":"V""#, #","level":9"#, #","born":1901"#, #","gender":"x""#, #","gender":null"#,
            #","kind":"notes""#, #","kind":"profile""#, #","ref":"r-ffffffffffffffff""#, #","payload":{}"#,
            #","other":[1]"#, #","un\u0069t":"W""#,
        ]
        for profile in Self.profiles(random, count: 40) {
            let line = SealedRecord(.profile(profile), random: random).line
            // Every `,"` outside a string: a member boundary, in the payload or around it.
            var inString = false, escaped = false
            var boundaries: [Int] = []
            for (i, c) in line.enumerated() {
                if inString {
                    if escaped {
                        escaped = false
                    } else if c == UInt8(ascii: "\\") {
                        escaped = true
                    } else if c == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if c == UInt8(ascii: "\"") {
                    inString = true
                } else if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") {
                    boundaries.append(i)
                }
            }
            for at in boundaries {
                for extra in extras {
                    var changed = line
                    changed.insert(contentsOf: Array(extra.utf8), at: at)
                    #expect(
                        Self.same(Self.read(changed), Self.plain(changed)),
                        "\(String(decoding: changed, as: UTF8.self))")
                }
            }
        }
    }

    @Test("seeded damage: a byte changed, dropped, doubled or a space put in, anywhere")
    func mangledLines() {
        let random = SeededRandomSource(seed: 77)
        let interesting: [UInt8] = Array(#"{}[]":,\ 0a9-nulltrfe"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xFF]
        var straightAnswers = 0, total = 0
        for profile in Self.profiles(random, count: 300) {
            let line = SealedRecord(.profile(profile), random: random).line
            for _ in 0..<40 {
                var mangled = line
                let at = Int(random.next() % UInt64(mangled.count))
                switch random.next() % 4 {
                case 0: mangled[at] = interesting[Int(random.next() % UInt64(interesting.count))]
                case 1: mangled.remove(at: at)
                case 2: mangled.insert(mangled[at], at: at)
                default: mangled.insert(UInt8(ascii: " "), at: at)
                }
                let read = Self.read(mangled), plain = Self.plain(mangled)
                #expect(Self.same(read, plain), "\(String(decoding: mangled, as: UTF8.self))")
                if let straight = Self.straight(mangled) {
                    #expect(Self.same((.packed(straight.key), straight.traits), plain))
                    straightAnswers += 1
                }
                total += 1
            }
        }
        // Damage in a name, a list or past the end still reads straight on; it is not all
        // left to the member reader.
        #expect(straightAnswers > 0 && straightAnswers < total)
    }

    @Test("a ref packs and unpacks to the same text; another shape is kept as it is")
    func refs() {
        #expect(VaultRef("r-0123456789abcdef") == .packed(0x0123_4567_89ab_cdef))
        #expect(VaultRef("r-0123456789abcdef").text == "r-0123456789abcdef")
        #expect(VaultRef("r-0123456789ABCDEF") == .other("r-0123456789ABCDEF"))
        #expect(VaultRef("r-0123456789ABCDEF").text == "r-0123456789ABCDEF")
        #expect(VaultRef("x").text == "x")
    }
}
