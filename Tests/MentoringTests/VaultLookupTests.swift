import EventLog
import Mentoring
import TestSupport
import Testing

/// Finding vault lines by ref without parsing the others, against parsing every line; and
/// the mapped windows those passes read, against the buffered line stream.
@Suite("Vault lookups: lines found by their leading ref are those a full parse finds")
struct VaultLookupTests {
    @Test("every subset of refs finds what parsing every line finds", arguments: 0..<5)
    func lookupEqualsFullParse(seed: Int) throws {
        let directory = TemporaryDirectory()
        let random = SeededRandomSource(seed: UInt64(seed) &+ 300)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 301)
        var lines: [[UInt8]] = []
        var refs: [String] = []
        for i in 0..<3000 {
            let payload: PersonalPayload =
                i % 3 == 0
                ? .profile(Profile(name: "P\(i)", unit: "IT", level: 2, born: 1990, gender: nil))
                : .notes(String(repeating: "x", count: Int.random(in: 0..<300, using: &generator)))
            let sealed = SealedRecord(payload, random: random)
            lines.append(sealed.line)
            refs.append(sealed.reference.ref)
        }
        // Lines of other shapes: keys in another order, a ref of another form, not JSON.
        lines.insert(
            Array(#"{"nonce":"00","ref":"r-00000000000000aa","payload":{"kind":"notes","text":"odd"}}"#.utf8), at: 7)
        lines.insert(Array(#"{"ref":"legacy-1","nonce":"00","payload":{"kind":"notes","text":"old"}}"#.utf8), at: 11)
        lines.insert(Array("not json".utf8), at: 13)
        refs += ["r-00000000000000aa", "legacy-1"]
        var bytes: [UInt8] = lines.flatMap { $0 + [UInt8(0x0A)] }
        bytes += Array(#"{"ref":"r-00000000000000bb","nonce":"#.utf8)  // an append cut short
        let vault = Vault(path: directory.appending("vault.jsonl"))
        try FileSystem.replaceAtomically(vault.path, with: bytes)
        let everything = try vault.lines()

        for round in 0..<6 {
            var asked = Set(refs.filter { _ in Int.random(in: 0..<10, using: &generator) == 0 })
            if round % 2 == 0 { asked.insert("legacy-1") }
            asked.insert("r-00000000000000aa")
            asked.insert("r-0123456789abcdef")  // not in the vault
            asked.insert("r-00000000000000bb")  // only in the cut-short line
            var found: [String: VaultLine] = [:]
            try vault.forEachLine(withRefIn: asked) { found[$0.ref] = $0 }
            let expected = everything.filter { asked.contains($0.key) }
            #expect(Set(found.keys) == Set(expected.keys), "seed \(seed), round \(round)")
            for (ref, line) in expected {
                #expect(found[ref]?.digest == line.digest && found[ref]?.payload == line.payload, "\(ref)")
            }
        }
    }

    @Test("a vault of many pieces is parsed on every core and handed on in file order")
    func manyPiecesInFileOrder() throws {
        let directory = TemporaryDirectory()
        let random = SeededRandomSource(seed: 340)
        var generator = SeededGenerator(seed: 341)
        var bytes: [UInt8] = []
        var refs: [String] = []
        var names: [String: String] = [:]
        // About 14 MB: several pieces of 4 MB (pieces are cut at newlines).
        for i in 0..<5000 {
            let payload: PersonalPayload =
                i % 2 == 0
                ? .profile(Profile(name: "Person \(i)", unit: "IT", level: 2, born: 1990, gender: nil))
                : .notes(String(repeating: "n", count: Int.random(in: 4000...6000, using: &generator)))
            let sealed = SealedRecord(payload, random: random)
            bytes += sealed.line + [0x0A]
            refs.append(sealed.reference.ref)
            if i % 2 == 0 { names[sealed.reference.ref] = "Person \(i)" }
        }
        let vault = Vault(path: directory.appending("vault.jsonl"))
        try FileSystem.replaceAtomically(vault.path, with: bytes)
        #expect(bytes.count > 3 << 22)
        let asked = Set(refs.filter { _ in Int.random(in: 0..<3, using: &generator) > 0 })
        var order: [String] = []
        try vault.forEachLine(withRefIn: asked) { order.append($0.ref) }
        #expect(order == refs.filter(asked.contains))
        var numbered = NumberedRefs()
        for (i, ref) in refs.enumerated() where asked.contains(ref) { numbered.insert(ref, number: Int32(i)) }
        #expect(
            try vault.names(of: numbered, count: refs.count)
                == refs.map { asked.contains($0) ? names[$0] : nil })
        // Profiles, shaped on the worker that parsed them.
        var shaped: [(ref: String, profile: Profile)] = []
        try vault.forEachProfile(
            of: numbered,
            shape: { profile in
                var short = profile
                short.unit = "shaped"
                return short
            }
        ) { shaped.append((refs[Int($0)], $1)) }
        #expect(shaped.map(\.ref) == refs.filter { asked.contains($0) && names[$0] != nil })
        #expect(
            Dictionary(uniqueKeysWithValues: shaped.map { ($0.ref, $0.profile.name) })
                == names.filter { asked.contains($0.key) })
        #expect(shaped.allSatisfy { $0.profile.unit == "shaped" })
    }

    @Test("names read from the lines' bytes are those of the parsed profiles", arguments: 0..<3)
    func namesEqualParsedProfiles(seed: Int) throws {
        let directory = TemporaryDirectory()
        let random = SeededRandomSource(seed: UInt64(seed) &+ 320)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 321)
        let odd = ["Zoë \"Zo\" Ünal", "back\\slash", "tab\tname", "🙂 Smile", "Ann-Marie O'Neil", ""]
        var lines: [[UInt8]] = []
        for i in 0..<800 {
            let payload: PersonalPayload =
                i % 4 == 3
                ? .notes("not a profile")
                : .profile(
                    Profile(
                        name: i % 7 == 0 ? odd[i % odd.count] : "Person \(i)", unit: "IT", level: 2, born: 1990,
                        gender: nil, offers: ["x"], wants: ["y"]))
            lines.append(SealedRecord(payload, random: random).line)
        }
        // Other shapes: keys in another order, a ref of another form, a line cut short.
        lines.insert(
            Array(
                #"{"nonce":"00","ref":"r-00000000000000aa","payload":{"kind":"profile","name":"Odd Order","unit":"IT","level":2,"born":1990}}"#
                    .utf8), at: 5)
        lines.insert(
            Array(
                #"{"ref":"legacy-1","nonce":"00","payload":{"kind":"profile","name":"Legacy","unit":"IT","level":2,"born":1990}}"#
                    .utf8), at: 9)
        lines.insert(
            Array(#"{"ref":"r-00000000000000bb","nonce":"00","payload":{"kind":"profile","name":"Cut"#.utf8), at: 12)
        let vault = Vault(path: directory.appending("vault.jsonl"))
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        let everything = try vault.lines()
        var asked = Set(everything.keys.filter { _ in Bool.random(using: &generator) })
        asked.formUnion(["r-00000000000000aa", "legacy-1", "r-00000000000000bb", "r-0123456789abcdef"])
        let expected = everything.filter { asked.contains($0.key) }.compactMapValues { $0.payload?.profile?.name }
        // Numbered refs (a person's row): the names at their numbers, with no ref as text.
        var numbered = NumberedRefs()
        let order = asked.sorted()
        for (i, ref) in order.enumerated() { numbered.insert(ref, number: Int32(i)) }
        #expect(numbered.other["legacy-1"] != nil && numbered.packed.count + numbered.other.count == order.count)
        let found = try vault.names(of: numbered, count: order.count + 2)
        #expect(found == order.map { expected[$0] } + [nil, nil], "seed \(seed)")
        let names = Dictionary(uniqueKeysWithValues: zip(order, found))
        #expect(names["r-00000000000000aa"] == "Odd Order" && names["legacy-1"] == "Legacy")
        #expect(names["r-00000000000000bb"] == .some(nil))
    }

    /// 2,000 random lines, some longer than a page, and a last line without a newline.
    private func randomLines(in directory: TemporaryDirectory, seed: UInt64) throws -> String {
        var generator = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        for i in 0..<2000 {
            // Some lines longer than a window (a page here), so that windows must grow.
            let length =
                i % 97 == 0
                ? Int.random(in: 5000..<20000, using: &generator) : Int.random(in: 0..<200, using: &generator)
            bytes += (0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) } + [0x0A]
        }
        bytes += Array("no newline".utf8)
        let path = directory.appending("lines")
        try FileSystem.replaceAtomically(path, with: bytes)
        return path
    }

    @Test("mapped windows hold the lines the buffered stream reads, long lines and a cut-short end included")
    func mappedWindowsEqualTheStream() throws {
        let directory = TemporaryDirectory()
        let path = try randomLines(in: directory, seed: 310)
        var streamed: [(Int, [UInt8])] = []
        try LineStream.forEach(path) { line, offset in streamed.append((offset, Array(line))) }
        var mapped: [(Int, [UInt8])] = []
        try LineStream.forEachMappedWindow(path, window: 4096) { window, base in
            #expect(window.last == 0x0A)
            var start = 0
            for (i, byte) in window.enumerated() where byte == 0x0A {
                mapped.append((base + start, Array(window[start..<i])))
                start = i + 1
            }
        }
        #expect(mapped.count == 2000)
        #expect(mapped.map(\.0) == streamed.map(\.0))
        #expect(mapped.map(\.1) == streamed.map(\.1))
    }

    @Test("profiles' traits come in file order whatever the windows and pieces", arguments: [4096, 65536, 1 << 22])
    func profilesInFileOrder(window: Int) throws {
        let directory = TemporaryDirectory()
        let random = SeededRandomSource(seed: 350)
        var generator = SeededGenerator(seed: 351)
        var bytes: [UInt8] = []
        var expected: [(String, Traits)] = []
        var starts: [Int] = []  // each expected profile's line offset
        for i in 0..<4000 {
            if Int.random(in: 0..<3, using: &generator) == 0 {
                // Notes, some longer than the smallest window: a line across windows.
                let length = Int.random(in: 0..<(i % 97 == 0 ? 9000 : 300), using: &generator)
                bytes += SealedRecord(.notes(String(repeating: "n", count: length)), random: random).line + [0x0A]
                continue
            }
            let profile = Profile(
                name: "Person \(i)", unit: ["IT", "Sales", "HR"][i % 3], level: i % 9, born: 1960 + i % 40,
                gender: i % 4 == 0 ? nil : "f")
            let sealed = SealedRecord(.profile(profile), random: random)
            starts.append(bytes.count)
            bytes += sealed.line + [0x0A]
            expected.append((sealed.reference.ref, Traits(profile)))
            if i == 1234 {
                // A profile written with its keys in another order, and a line that is not JSON.
                starts.append(bytes.count)
                bytes +=
                    Array(
                        #"{"nonce":"00","payload":{"born":1970,"level":4,"unit":"Legal","kind":"profile","name":"X"},"ref":"legacy-7"}"#
                            .utf8) + [0x0A]
                expected.append(("legacy-7", Traits(unit: "Legal", level: 4, born: 1970)))
                bytes += Array(#"not json "kind":"profile""#.utf8) + [0x0A]
            }
        }
        // An append cut short: not passed on.
        bytes += Array(#"{"ref":"r-00000000000000bb","nonce":"00","payload":{"kind":"profile","#.utf8)
        let vault = Vault(path: directory.appending("vault.jsonl"))
        try FileSystem.replaceAtomically(vault.path, with: bytes)
        #expect(bytes.count > 10 * window || window == 1 << 22)

        var seen: [(String, Traits)] = []
        try TraitsDirectory.forEachProfile(in: vault, window: window) { seen.append(($0, $1)) }
        let sameOrder = seen.count == expected.count && zip(seen, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        #expect(sameOrder, "\(seen.count) profiles against \(expected.count)")

        // From an offset: the profiles of the lines from there on.
        let middle = bytes.count / 2
        let offset = bytes[middle...].firstIndex(of: 0x0A)! + 1
        var tail: [String] = []
        try TraitsDirectory.forEachProfile(in: vault, from: offset, window: window) { ref, _ in tail.append(ref) }
        #expect(tail == zip(expected, starts).filter { $0.1 >= offset }.map(\.0.0))
    }

    /// A verdict that shows what the judge was given.
    private struct Seen: Sendable, Equatable {
        var length: Int
        var previous: Int?
        var digest: SHA256Digest
    }

    @Test("judged lines come in file order with their offsets, digests and the piece's previous verdict")
    func judgedLinesEqualTheStream() throws {
        let directory = TemporaryDirectory()
        let path = try randomLines(in: directory, seed: 311)
        var streamed: [(Int, [UInt8])] = []
        try LineStream.forEach(path) { line, offset in streamed.append((offset, Array(line))) }
        for window in [4096, 1 << 16, 1 << 25] {
            var judged: [(Int, [UInt8], SHA256Digest, Seen)] = []
            try Vault(path: path).forEachJudgedLine(window: window) { line, digest, previous in
                Seen(length: line.count, previous: previous?.length, digest: digest)
            } _: { line, offset, digest, verdict in
                judged.append((offset, Array(line), digest, verdict))
            }
            #expect(judged.map(\.0) == streamed.map(\.0), "window \(window)")
            #expect(judged.map(\.1) == streamed.map(\.1), "window \(window)")
            #expect(judged.allSatisfy { $0.2 == SHA256.hash($0.1) && $0.3.digest == $0.2 }, "window \(window)")
            // A previous verdict, where given, is the line before's; pieces start without one.
            var starts = 0
            for (i, line) in judged.enumerated() {
                #expect(line.3.length == line.1.count)
                if let previous = line.3.previous {
                    #expect(i > 0 && previous == judged[i - 1].1.count, "line \(i), window \(window)")
                } else {
                    starts += 1
                }
            }
            #expect(starts >= 1 && starts < judged.count / 4, "window \(window): \(starts) pieces")
        }
    }
}

/// A profile line of the shape the vault writes is read member by member; anything else is
/// parsed whole. Either way the line reads as the whole parse reads it.
@Suite("Vault profiles read member by member: what the whole parse reads")
struct WrittenProfileTests {
    /// Seeded variations of written lines: keys moved, repeated, escaped or unknown, values
    /// of other types, numbers that are not plain integers, bytes after the object.
    static func variations(_ line: String, generator: inout SeededGenerator) -> [String] {
        let edits: [(String, String)] = [
            (#""kind":"profile","#, #""kind":"notes","#),
            (#""name":"#, #""name":"X","name":"#),
            (#""level":"#, #""level":1.0,"lvl":"#),
            (#""level":"#, #""level":"3","x":"#),
            (#""born":"#, #""born":1e3,"b":"#),
            (#""unit":"#, #""un\u0069t":"#),
            (#""offers":["#, #""offers":[1,"#),
            (#""offers":["#, #""offers":[null,"#),
            (#""payload":{"#, #""payload":{"email":null,"#),
            (#""payload":{"#, #""payload":{"kind":"profile","#),
            (#""email":"#, #""email":7,"e":"#),
            (#""gender":"#, #""gender":"d","gender":"#),
            (#""ref":"#, #""extra":true,"ref":"#),
            (#""interests":["#, #""interests":{"#),
        ]
        var out = [line, line + " ", line + "x", "  " + line, line.replacingOccurrences(of: ",", with: " , ")]
        for (from, to) in edits where line.contains(from) {
            out.append(line.replacingOccurrences(of: from, with: to))
        }
        // The nonce an object (with a repeated key, which the whole parse refuses) or a number.
        if let start = line.range(of: #""nonce":""#),
            let end = line[start.upperBound...].firstIndex(of: "\"")
        {
            for value in [#"{"a":1,"a":2}"#, "7"] {
                out.append(
                    String(line[..<start.upperBound].dropLast()) + value + String(line[line.index(after: end)...]))
            }
        }
        // The kind last instead of first.
        if line.contains(#""kind":"profile","#), line.hasSuffix("}}") {
            out.append(
                String(line.replacingOccurrences(of: #""kind":"profile","#, with: "").dropLast(2))
                    + #","kind":"profile"}}"#)
        }
        return out
    }

    @Test("the member-by-member read answers as the whole parse, or leaves the line to it", arguments: 0..<4)
    func sameAsWholeParse(seed: Int) throws {
        let random = SeededRandomSource(seed: UInt64(seed) &+ 900)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 901)
        var fast = 0, whole = 0
        for i in 0..<300 {
            let profile = Profile(
                name: ["Jürgen Müller", "Ana \"Ani\" Lo", "Zoë\\Line\nTwo", "P\(i)"][i % 4],
                email: i % 3 == 0 ? nil : "p\(i)@example.com", unit: ["IT", "Sales", "Ünit"][i % 3],
                level: Int.random(in: -2...12, using: &generator), born: Int.random(in: 1950...2005, using: &generator),
                gender: i % 2 == 0 ? nil : "f", offers: i % 5 == 0 ? [] : ["excel", "tiktok"],
                wants: ["ai"], interests: i % 4 == 0 ? [] : ["running", "café"])
            let written = String(decoding: SealedRecord(.profile(profile), random: random).line, as: UTF8.self)
            for line in Self.variations(written, generator: &generator) {
                let bytes = Array(line.utf8)
                let (reference, read, member) = bytes.withUnsafeBytes { raw in
                    (Vault.parsedContent(raw), Vault.content(raw), Vault.writtenProfile(raw))
                }
                #expect(read?.ref == reference?.ref && read?.payload == reference?.payload, "\(line)")
                // Without lists: the same answer with the lists emptied, or none where there is none.
                let short = bytes.withUnsafeBytes { Vault.content($0, lists: false) }
                var expected = reference?.payload
                if case .profile(var profile) = expected {
                    (profile.offers, profile.wants, profile.interests) = ([], [], [])
                    expected = .profile(profile)
                }
                #expect(short?.ref == reference?.ref && short?.payload == expected, "\(line)")
                if member != nil { fast += 1 } else { whole += 1 }
                if line == written { #expect(member?.profile == profile, "\(line)") }
            }
        }
        #expect(fast >= 300 && whole > 300, "\(fast) read member by member, \(whole) whole")
    }
}
