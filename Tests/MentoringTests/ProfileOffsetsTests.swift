import EventLog
import Foundation
import TestSupport
import Testing

@testable import Mentoring

/// Names read where the profile index says each profile's line is, against a pass over
/// the whole vault: as the vault grows past the index (with a line being written when it
/// was built), after an erasure's rewrite, with offsets that no longer fit, a damaged
/// index, and a vault this code did not write.
@Suite("Profile index: names read by offset are those a pass over the vault finds")
struct ProfileOffsetsTests {
    /// `count` sealed lines, a third of them profiles (some with names that need escapes),
    /// the others notes; and every ref, in order.
    static func lines(_ count: Int, seed: UInt64, from first: Int = 0) -> (lines: [[UInt8]], refs: [String]) {
        let random = SeededRandomSource(seed: seed)
        var generator = SeededGenerator(seed: seed &+ 1)
        let odd = ["Zoë \"Zo\" Ünal", "back\\slash", "tab\tname", "🙂 Smile", ""]
        var out: [[UInt8]] = [], refs: [String] = []
        for i in first..<(first + count) {
            let payload: PersonalPayload =
                i % 3 == 0
                ? .profile(
                    Profile(
                        name: i % 11 == 0 ? odd[i % odd.count] : "Person \(i)", unit: "IT", level: 2, born: 1990,
                        gender: i % 2 == 0 ? "f" : nil, offers: i % 4 == 0 ? ["excel", "tiktok \"live\""] : [],
                        wants: i % 5 == 0 ? ["ai"] : []))
                : .notes(String(repeating: "n", count: Int.random(in: 0..<400, using: &generator)))
            let sealed = SealedRecord(payload, random: random)
            out.append(sealed.line)
            refs.append(sealed.reference.ref)
        }
        return (out, refs)
    }

    /// Some of `refs` and a ref the vault does not have, numbered in a shuffled order.
    static func asked(_ refs: [String], generator: inout SeededGenerator) -> (NumberedRefs, count: Int) {
        var chosen = refs.filter { _ in Int.random(in: 0..<3, using: &generator) == 0 }
        chosen.append("r-0123456789abcdef")
        chosen.shuffle(using: &generator)
        var numbered = NumberedRefs()
        for (i, ref) in chosen.enumerated() { numbered.insert(ref, number: Int32(i)) }
        return (numbered, chosen.count + 1)
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    static func expectSameNames(
        _ vault: Vault, _ refs: [String], generator: inout SeededGenerator, _ context: String
    ) throws {
        for round in 0..<4 {
            let (numbered, count) = Self.asked(refs, generator: &generator)
            let indexed = try vault.names(of: numbered, count: count)
            let passed = try vault.scannedNames(of: numbered, count: count)
            #expect(indexed == passed, "\(context), round \(round)")
            #expect(passed.contains { $0 != nil }, "\(context): no name was found at all")
            try expectSameProfiles(numbered, count: count, context: "\(context), round \(round)") { lists, body in
                try vault.forEachProfile(of: numbered, lists: lists, body)
            } passed: { lists, body in
                try vault.scannedProfiles(of: numbered, from: 0, lists: lists, shape: { $0 }, body)
            }
        }
    }

    /// The profiles `read` hands on, with their lists and without, are those a pass hands
    /// on, the later of a ref's lines winning (a listing keeps the last it is given; lines
    /// found away from where the index says come after the rest); without lists, each is
    /// the profile with its lists emptied.
    static func expectSameProfiles(
        _ refs: NumberedRefs, count: Int, context: String,
        read: (_ lists: Bool, _ body: (Int32, Profile) throws -> Void) throws -> Void,
        passed: (_ lists: Bool, _ body: (Int32, Profile) throws -> Void) throws -> Void
    ) throws {
        var whole: [Int32: Profile] = [:]
        try passed(true) { whole[$0] = $1 }
        for lists in [true, false] {
            var found: [Int32: Profile] = [:]
            try read(lists) { found[$0] = $1 }
            let expected = whole.mapValues { profile in
                var short = profile
                if !lists { (short.offers, short.wants, short.interests) = ([], [], []) }
                return short
            }
            #expect(found.count == expected.count, "\(context), lists \(lists)")
            let wrong = expected.first { found[$0.key] != $0.value }
            #expect(wrong == nil, "\(context), lists \(lists): \(wrong.map { "\($0.key)" } ?? "")")
        }
        #expect(whole.values.contains { !$0.offers.isEmpty }, "\(context): some profile has lists")
    }

    @Test("names by offset equal a pass's, as the vault grows past the index", arguments: 0..<3)
    func namesAsTheVaultGrows(seed: Int) throws {
        let directory = TemporaryDirectory()
        let index = directory.appending("profiles.snapshot")
        let vault = Vault(path: directory.appending("vault.jsonl"), profileIndexPath: index)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 900)
        // 3,001 lines: the last is a profile.
        var (lines, refs) = Self.lines(3001, seed: UInt64(seed) &+ 901)
        // The last profile is being written when the index is built: half of it is there.
        let last = lines.removeLast(), lastRef = refs.removeLast()
        try FileSystem.replaceAtomically(
            vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] } + Array(last[0..<(last.count / 2)]))
        try Self.expectSameNames(vault, refs, generator: &generator, "seed \(seed), built")
        let built = try SnapshotFile(path: index).header(kind: ProfileOffsets.kind, schema: ProfileOffsets.schema)
        #expect(built.vaultSize == vault.size)

        // The line completed, and more written after it (the same file, appended to).
        let (more, moreRefs) = Self.lines(900, seed: UInt64(seed) &+ 902, from: 3001)
        try Self.append(Array(last[(last.count / 2)...]) + [0x0A] + more.flatMap { $0 + [UInt8(0x0A)] }, to: vault.path)
        let all = refs + [lastRef] + moreRefs
        try Self.expectSameNames(vault, all, generator: &generator, "seed \(seed), grown")
        // Read from the index and the tail: it was not built again.
        let after = try SnapshotFile(path: index).header(kind: ProfileOffsets.kind, schema: ProfileOffsets.schema)
        #expect(after.vaultSize == built.vaultSize)
        var completed = NumberedRefs()
        completed.insert(lastRef, number: 0)
        let lastName = try vault.names(of: completed, count: 1)[0]
        let passedName = try vault.scannedNames(of: completed, count: 1)[0]
        #expect(lastName != nil && lastName == passedName)
    }

    @Test("an erasure's rewrite (a new file) is indexed again, and a damaged index is built again")
    func rewrittenOrDamaged() throws {
        let directory = TemporaryDirectory()
        let index = directory.appending("profiles.snapshot")
        let vault = Vault(path: directory.appending("vault.jsonl"), profileIndexPath: index)
        var generator = SeededGenerator(seed: 910)
        var (lines, refs) = Self.lines(2000, seed: 911)
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        try Self.expectSameNames(vault, refs, generator: &generator, "first")
        // Rewritten under another inode, a little shorter at the front and longer overall:
        // every offset moved, and the size alone would not tell.
        lines.removeFirst(3)
        refs.removeFirst(3)
        let (more, moreRefs) = Self.lines(40, seed: 912, from: 2000)
        try FileSystem.replaceAtomically(vault.path, with: (lines + more).flatMap { $0 + [UInt8(0x0A)] })
        try Self.expectSameNames(vault, refs + moreRefs, generator: &generator, "rewritten")
        let rebuilt = try SnapshotFile(path: index).header(kind: ProfileOffsets.kind, schema: ProfileOffsets.schema)
        #expect(rebuilt.vaultSize == vault.size)
        // A byte flipped in the index's offsets: it is refused by its digest, and built again.
        var bytes = try FileSystem.readFile(index)
        bytes[bytes.count - 5] ^= 0x40
        try FileSystem.replaceAtomically(index, with: bytes)
        try Self.expectSameNames(vault, refs + moreRefs, generator: &generator, "damaged")
        #expect(try FileSystem.readFile(index) != bytes)
    }

    @Test("a line not where the index says, or past the vault's end, is found by a pass")
    func misplacedOffsets() throws {
        let directory = TemporaryDirectory()
        let vault = Vault(path: directory.appending("vault.jsonl"))
        var generator = SeededGenerator(seed: 920)
        let (lines, refs) = Self.lines(1500, seed: 921)
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        // The index a pass builds, then every fifth offset moved by one byte or past the end.
        let built = try #require(
            try ProfileOffsets.load(for: vault, at: directory.appending("profiles.snapshot")))
        #expect(built.count == lines.count / 3)
        var pairs: [UInt8] = []
        for i in 0..<built.count {
            let (key, offset) = built.entry(i)
            let moved = i % 5 == 0 ? offset + 1 : i % 5 == 1 ? vault.size + 10 : offset
            ProfileOffsets.append(key, moved, to: &pairs)
        }
        let shifted = ProfileOffsets(pairs: pairs, builtAt: built.builtAt)
        for round in 0..<4 {
            let (numbered, count) = Self.asked(refs, generator: &generator)
            let passed = try vault.scannedNames(of: numbered, count: count)
            // Mapped a page or a few at a time too: hits at the windows' edges.
            for window in [ProfileOffsets.window, 4096, 3 * 4096] {
                #expect(
                    try built.names(of: numbered, count: count, in: vault, window: window) == passed,
                    "round \(round), window \(window)")
                #expect(
                    try shifted.names(of: numbered, count: count, in: vault, window: window) == passed,
                    "round \(round), window \(window), offsets moved")
                for index in [built, shifted] {
                    try Self.expectSameProfiles(numbered, count: count, context: "round \(round), window \(window)") {
                        lists, body in
                        try vault.forEachProfile(
                            of: numbered, lists: lists, shape: { $0 }, through: index, window: window, body)
                    } passed: { lists, body in
                        try vault.scannedProfiles(of: numbered, from: 0, lists: lists, shape: { $0 }, body)
                    }
                }
            }
        }
    }

    /// A ref whose profile line appears twice (a copy written later, renamed): the later
    /// line's name wins, as in a pass, whether both lines fall in one mapped window or not.
    @Test("a ref written twice is named by its later line, within a window and across windows")
    func laterLineWins() throws {
        let directory = TemporaryDirectory()
        let vault = Vault(path: directory.appending("vault.jsonl"))
        let (original, refs) = Self.lines(300, seed: 940)
        // Every sixth profile's line copied with another name: right after it, or at the end.
        var withCopies: [[UInt8]] = [], atEnd: [[UInt8]] = []
        for (i, line) in original.enumerated() {
            withCopies.append(line)
            guard i % 18 == 0, let text = String(bytes: line, encoding: .utf8), text.contains("\"Person ") else {
                continue
            }
            let copy = Array(text.replacingOccurrences(of: "\"Person ", with: "\"Renamed ").utf8)
            if i % 36 == 0 { withCopies.append(copy) } else { atEnd.append(copy) }
        }
        let lines = withCopies + atEnd
        #expect(lines.count > 310, "copies were made")
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        let built = try #require(
            try ProfileOffsets.load(for: vault, at: directory.appending("profiles.snapshot")))
        var numbered = NumberedRefs()
        for (i, ref) in refs.enumerated() { numbered.insert(ref, number: Int32(i)) }
        let passed = try vault.scannedNames(of: numbered, count: refs.count)
        #expect(passed.contains { $0?.hasPrefix("Renamed ") ?? false }, "the later names are the pass's")
        for window in [ProfileOffsets.window, 4096, 3 * 4096] {
            #expect(try built.names(of: numbered, count: refs.count, in: vault, window: window) == passed, "\(window)")
            try Self.expectSameProfiles(numbered, count: refs.count, context: "window \(window)") { lists, body in
                try vault.forEachProfile(
                    of: numbered, lists: lists, shape: { $0 }, through: built, window: window, body)
            } passed: { lists, body in
                try vault.scannedProfiles(of: numbered, from: 0, lists: lists, shape: { $0 }, body)
            }
        }
    }

    @Test("a vault with a line of another shape is not indexed: a pass reads its names")
    func otherShapesAreNotIndexed() throws {
        let directory = TemporaryDirectory()
        let index = directory.appending("profiles.snapshot")
        let vault = Vault(path: directory.appending("vault.jsonl"), profileIndexPath: index)
        var generator = SeededGenerator(seed: 930)
        var (lines, refs) = Self.lines(600, seed: 931)
        lines.insert(
            Array(
                #"{"nonce":"00","ref":"r-00000000000000aa","payload":{"kind":"profile","name":"Odd Order","unit":"IT","level":2,"born":1990}}"#
                    .utf8), at: 50)
        refs.append("r-00000000000000aa")
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        #expect(try ProfileOffsets.load(for: vault, at: index) == nil)
        #expect(!FileSystem.kind(of: index).exists)
        try Self.expectSameNames(vault, refs, generator: &generator, "other shapes")
        var odd = NumberedRefs()
        odd.insert("r-00000000000000aa", number: 0)
        #expect(try vault.names(of: odd, count: 1) == ["Odd Order"])
    }
}
