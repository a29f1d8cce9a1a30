import EventLog
import Foundation
import TestSupport
import Testing

@testable import Mentoring

/// Texts (notes, goal texts) read where the text index says each line is, against a pass
/// over the whole vault: as the vault grows past the index (with a line being written when
/// it was built), with refs written twice, after an erasure's rewrite, with a damaged
/// index, and in a vault this code did not write.
@Suite("Text index: texts read by offset are those a pass over the vault finds")
struct TextOffsetsTests {
    /// The texts a pass over every line finds, as queries read them before the index.
    static func passed(_ vault: Vault, _ refs: Set<String>) throws -> [String: String] {
        var out: [String: String] = [:]
        try vault.forEachLine(withRefIn: refs) { line in
            if let text = line.payload?.text { out[line.ref] = text }
        }
        return out
    }

    /// Some of `refs` (profiles' too, which hold no text) and a ref the vault does not have.
    static func asked(_ refs: [String], generator: inout SeededGenerator) -> Set<String> {
        var chosen = Set(refs.filter { _ in Int.random(in: 0..<4, using: &generator) == 0 }.prefix(40))
        chosen.insert("r-0123456789abcdef")
        return chosen
    }

    /// With `indexed`, the whole vault is passed over only for refs that hold no text.
    static func expectSameTexts(
        _ vault: Vault, _ refs: [String], generator: inout SeededGenerator, _ context: String, indexed: Bool = true
    ) throws {
        for round in 0..<4 {
            let asked = Self.asked(refs, generator: &generator)
            let passed = try Self.passed(vault, asked)
            let (texts, passedFor) = try vault.textsNoting(asked)
            #expect(texts == passed, "\(context), round \(round)")
            #expect(!passed.isEmpty, "\(context): no text was found at all")
            if indexed { #expect(passedFor == asked.subtracting(passed.keys), "\(context), round \(round)") }
        }
    }

    static func vault(in directory: TemporaryDirectory) -> (Vault, index: String) {
        let vault = Vault(
            path: directory.appending("vault.jsonl"), profileIndexPath: directory.appending("profiles.snapshot"))
        return (vault, directory.appending(TextOffsets.fileName))
    }

    static func header(_ index: String) throws -> SnapshotFile.Header {
        try SnapshotFile(path: index).header(kind: TextOffsets.kind, schema: TextOffsets.schema)
    }

    @Test("texts by offset equal a pass's, as the vault grows past the index and far past it", arguments: 0..<3)
    func textsAsTheVaultGrows(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (vault, index) = Self.vault(in: directory)
        var generator = SeededGenerator(seed: UInt64(seed) &+ 1900)
        // 3,001 lines: the last is a note, half written when the index is built.
        var (lines, refs) = ProfileOffsetsTests.lines(3002, seed: UInt64(seed) &+ 1901)
        lines.removeFirst()
        refs.removeFirst()
        let last = lines.removeLast(), lastRef = refs.removeLast()
        try FileSystem.replaceAtomically(
            vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] } + Array(last[0..<(last.count / 2)]))
        try Self.expectSameTexts(vault, refs, generator: &generator, "seed \(seed), built")
        let built = try Self.header(index)
        #expect(built.vaultSize == vault.size)

        // The line completed, and a little more written after it: read from the tail.
        let (more, moreRefs) = ProfileOffsetsTests.lines(300, seed: UInt64(seed) &+ 1902, from: 3002)
        try ProfileOffsetsTests.append(
            Array(last[(last.count / 2)...]) + [0x0A] + more.flatMap { $0 + [UInt8(0x0A)] }, to: vault.path)
        let all = refs + [lastRef] + moreRefs
        try Self.expectSameTexts(vault, all, generator: &generator, "seed \(seed), grown")
        #expect(try Self.header(index).vaultSize == built.vaultSize, "a short tail is read, not indexed again")
        let newest = Set([lastRef] + moreRefs.suffix(5))
        #expect(try vault.texts(of: newest) == Self.passed(vault, newest))

        // Far more: the index is built again.
        let (lots, lotsRefs) = ProfileOffsetsTests.lines(6000, seed: UInt64(seed) &+ 1903, from: 3302)
        try ProfileOffsetsTests.append(lots.flatMap { $0 + [UInt8(0x0A)] }, to: vault.path)
        try Self.expectSameTexts(vault, all + lotsRefs, generator: &generator, "seed \(seed), far grown")
        #expect(try Self.header(index).vaultSize == vault.size, "a long tail is indexed again")
    }

    /// A ref whose line appears again later with another text, and once more with no text at
    /// all: the last text wins, as in a pass, in the indexed lines and in the tail.
    @Test("a ref written twice reads its later text; a later line without a text takes none away")
    func laterLineWins() throws {
        let directory = TemporaryDirectory()
        let (vault, index) = Self.vault(in: directory)
        var (lines, refs) = ProfileOffsetsTests.lines(900, seed: 1910)
        func copy(_ i: Int, as j: Int) -> [UInt8] {
            // Line i's payload under line j's ref.
            let text = String(decoding: lines[i], as: UTF8.self).replacingOccurrences(of: refs[i], with: refs[j])
            return Array(text.utf8)
        }
        // Refs 1 and 2 hold notes; 3 is a profile (no text). 1 written again with 4's notes,
        // 2 written again with 3's profile.
        #expect(refs.indices.contains(4))
        lines.append(copy(4, as: 1))
        lines.append(copy(3, as: 2))
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        let asked: Set<String> = [refs[1], refs[2], refs[3], refs[4]]
        let passed = try Self.passed(vault, asked)
        #expect(try vault.texts(of: asked) == passed)
        #expect(passed[refs[1]] == passed[refs[4]] && passed[refs[2]] != nil && passed[refs[3]] == nil)
        #expect(FileSystem.kind(of: index).exists)
        // The same in the tail after the index.
        try ProfileOffsetsTests.append(copy(5, as: 1) + [0x0A] + copy(0, as: 5) + [0x0A], to: vault.path)
        let later: Set<String> = [refs[1], refs[5]]
        #expect(try vault.texts(of: later) == Self.passed(vault, later))
        #expect(try vault.texts(of: later)[refs[1]] == Self.passed(vault, [refs[5]])[refs[5]] ?? "?")
    }

    @Test("a rewritten vault is indexed again; a damaged index or a moved line costs a pass, not a text")
    func rewrittenDamagedOrMoved() throws {
        let directory = TemporaryDirectory()
        let (vault, index) = Self.vault(in: directory)
        var generator = SeededGenerator(seed: 1920)
        var (lines, refs) = ProfileOffsetsTests.lines(2400, seed: 1921)
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        try Self.expectSameTexts(vault, refs, generator: &generator, "first")
        // Rewritten under another inode, shorter at the front and longer overall.
        lines.removeFirst(7)
        refs.removeFirst(7)
        let (more, moreRefs) = ProfileOffsetsTests.lines(40, seed: 1922, from: 2400)
        try FileSystem.replaceAtomically(vault.path, with: (lines + more).flatMap { $0 + [UInt8(0x0A)] })
        try Self.expectSameTexts(vault, refs + moreRefs, generator: &generator, "rewritten")
        #expect(try Self.header(index).vaultSize == vault.size)
        // Bytes flipped in the index: each lookup that reads them refuses them and passes.
        let intact = try FileSystem.readFile(index)
        for position in [intact.count / 3, intact.count / 2, intact.count - 40] {
            var bytes = intact
            bytes[position] ^= 0x10
            try FileSystem.replaceAtomically(index, with: bytes)
            try Self.expectSameTexts(
                vault, refs + moreRefs, generator: &generator, "damaged at \(position)", indexed: false)
        }
        // Every line moved by a byte (a vault edited in place, same inode and size): each
        // line read is not its ref's, and a pass finds it.
        try FileSystem.replaceAtomically(index, with: intact)
        let shifted = lines + more
        var moved = [UInt8(0x20)] + shifted.flatMap { $0 + [UInt8(0x0A)] }
        moved.removeLast()
        let handle = try #require(FileHandle(forWritingAtPath: vault.path))
        try handle.write(contentsOf: Data(moved))
        try handle.close()
        #expect(vault.size == moved.count)
        try Self.expectSameTexts(vault, refs + moreRefs, generator: &generator, "moved", indexed: false)
    }

    @Test("a vault with a line of another shape is not indexed: a pass reads its texts")
    func otherShapesAreNotIndexed() throws {
        let directory = TemporaryDirectory()
        let (vault, index) = Self.vault(in: directory)
        var generator = SeededGenerator(seed: 1930)
        var (lines, refs) = ProfileOffsetsTests.lines(600, seed: 1931)
        lines.insert(
            Array(#"{"nonce":"00","ref":"r-00000000000000aa","payload":{"kind":"notes","text":"odd"}}"#.utf8), at: 50)
        refs.append("r-00000000000000aa")
        try FileSystem.replaceAtomically(vault.path, with: lines.flatMap { $0 + [UInt8(0x0A)] })
        #expect(try TextOffsets.load(for: vault, at: index) == nil)
        #expect(!FileSystem.kind(of: index).exists)
        try Self.expectSameTexts(vault, refs, generator: &generator, "other shapes", indexed: false)
        #expect(try vault.texts(of: ["r-00000000000000aa"]) == ["r-00000000000000aa": "odd"])
    }
}
