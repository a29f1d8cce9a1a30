import EventLog
import Foundation
import TestSupport
import Testing

@testable import Mentoring

/// A vault ref is held packed where it has our own shape: packing reads eight digits at a
/// time, and a `PersonalReference` keeps its ref so. Whatever the ref, what users see (its
/// text, equality, JSON) is what the text alone gives.
@Suite("Vault refs: packed eight digits at a time, and held packed in references")
struct VaultRefTests {
    /// The reading digit by digit, as `PackedRef` read before: the definition.
    static func plainPack(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 18, bytes[0] == UInt8(ascii: "r"), bytes[1] == UInt8(ascii: "-") else { return nil }
        var value: UInt64 = 0
        for c in bytes[2...] {
            let digit: UInt8
            switch c {
            case 48...57: digit = c - 48
            case 97...102: digit = c - 87
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    static func pack(_ bytes: [UInt8]) -> UInt64? { bytes.withUnsafeBytes { PackedRef.pack(bytes: $0) } }

    @Test("every byte at every digit of a ref, and the prefix's bytes, pack as digit by digit")
    func everySingleByteChange() {
        let valid = Array("r-0123456789abcdef".utf8)
        #expect(Self.pack(valid) == 0x0123_4567_89ab_cdef)
        var changed = 0
        forEverySingleByteChange(of: valid, at: 0..<18) { bytes in
            let expected = Self.plainPack(bytes)
            #expect(Self.pack(bytes) == expected, "\(bytes)")
            if expected == nil { changed += 1 }
        }
        // 16 lowercase digits are fine at each of 16 places; only "r" and "-" at the first two.
        #expect(changed == 16 * (256 - 16) + 2 * 255)
    }

    @Test("seeded bytes near the digits pack as digit by digit; a packed ref unpacks to its text")
    func seededBytes() {
        var generator = SeededGenerator(seed: 41)
        let near = Array("0123456789abcdefABCDEF/:`g@Gx-r ".utf8) + [0x80, 0xB0, 0xE6, 0xFF, 0x00, 0x0A]
        var packed = 0
        for _ in 0..<20_000 {
            var bytes = Array("r-".utf8) + (0..<16).map { _ in near.randomElement(using: &generator)! }
            if Int.random(in: 0..<4, using: &generator) == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0...19, using: &generator)))
            }
            if Int.random(in: 0..<2, using: &generator) == 0 {
                // Mostly digits, so that many pack.
                for i in min(2, bytes.count)..<bytes.count where Int.random(in: 0..<8, using: &generator) != 0 {
                    bytes[i] = Array("0123456789abcdef".utf8).randomElement(using: &generator)!
                }
            }
            let expected = Self.plainPack(bytes)
            #expect(Self.pack(bytes) == expected, "\(bytes)")
            if let key = expected {
                packed += 1
                #expect(Array(PackedRef.unpack(key).utf8) == bytes)
                var written: [UInt8] = []
                PackedRef.writeQuoted(key, into: &written)
                #expect(written == [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")])
            }
        }
        #expect(packed > 2_000)
    }

    @Test("a reference holds its ref packed where it can be, and equals by the text")
    func referencesEqualByText() {
        let commit = SHA256.hash(Array("line".utf8))
        let ours = PersonalReference(ref: "r-00000000000000ab", commit: commit)
        #expect(ours.vaultRef == .packed(0xab))
        #expect(ours.ref == "r-00000000000000ab")
        let upper = PersonalReference(ref: "r-00000000000000AB", commit: commit)
        #expect(upper.vaultRef == .other("r-00000000000000AB"))
        #expect(upper != ours)
        let legacy = PersonalReference(ref: "legacy-7", commit: commit)
        #expect(legacy.vaultRef == .other("legacy-7"))
        var changed = legacy
        changed.ref = "r-00000000000000ab"
        #expect(changed == ours && changed.hashValue == ours.hashValue)
        changed.ref = "legacy-7"
        #expect(changed == legacy && changed.vaultRef == .other("legacy-7"))
        #expect(PersonalReference(vaultRef: .packed(0xab), commit: commit) == ours)
        // Our shape given as text is packed all the same.
        let given = PersonalReference(vaultRef: .other("r-00000000000000ab"), commit: commit)
        #expect(given == ours && given.vaultRef == .packed(0xab) && given.hashValue == ours.hashValue)
        #expect(Set([ours, changed, legacy, upper]).count == 3)
    }

    /// The JSON a reference writes, read back: the same reference, whichever way the ref
    /// is spelled (an escaped spelling of our shape is still packed).
    @Test("a reference's JSON reads back as the same reference, escaped or not")
    func jsonRoundTrip() throws {
        let commit = SHA256.hash(Array("line".utf8))
        for ref in ["r-0123456789abcdef", "r-0123456789ABCDEF", "legacy-7", "r-0123", "é-ref", "r-0123456789abcdef0"] {
            let reference = PersonalReference(ref: ref, commit: commit)
            var writer = JSONWriter(capacity: 0)
            reference.write(to: &writer)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"ref":"\#(ref)","commit":"\#(commit.hex)"}"#)
            let read = try writer.bytes.withUnsafeBytes { raw in
                var s = JSONScanner(raw)
                return try PersonalReference.read(&s)
            }
            #expect(read == reference && read.vaultRef == reference.vaultRef)
            let decoded = try JSONDecoder().decode(PersonalReference.self, from: try JSONEncoder().encode(reference))
            #expect(decoded == reference)
        }
        let escaped = Array(#"{"ref":"r-\u00301\u00323456789abcdef","commit":"\#(commit.hex)"}"#.utf8)
        let read = try escaped.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            return try PersonalReference.read(&s)
        }
        #expect(read.vaultRef == .packed(0x0123_4567_89ab_cdef))
    }

    @Test("traits are found by a packed reference, also where only their text holds them")
    func traitsByReference() {
        let commit = SHA256.hash(Array("line".utf8))
        var directory = TraitsDirectory()
        let fits = Traits(unit: "IT", level: 2, born: 1999, gender: nil)
        // A birth year past the codec's 16 bits: kept under the ref's text.
        let unusual = Traits(unit: "IT", level: 2, born: 70_000, gender: nil)
        directory.insert(fits, ref: "r-0000000000000001")
        directory.insert(unusual, ref: "r-0000000000000002")
        directory.insert(fits, ref: "legacy-3")
        #expect(directory[PersonalReference(ref: "r-0000000000000001", commit: commit)] == fits)
        #expect(directory[PersonalReference(ref: "r-0000000000000002", commit: commit)] == unusual)
        #expect(directory[PersonalReference(ref: "legacy-3", commit: commit)] == fits)
        #expect(directory[PersonalReference(ref: "r-0000000000000004", commit: commit)] == nil)
        #expect(TraitsDirectory()[PersonalReference(ref: "r-0000000000000001", commit: commit)] == nil)
    }

    @Test("refs appended or inserted as held are the refs appended as text")
    func listsAndSets() {
        var generator = SeededGenerator(seed: 43)
        for _ in 0..<200 {
            var asText = RefList(), asHeld = RefList()
            var set = RefSet()
            var refs: [String] = []
            for _ in 0..<Int.random(in: 0..<12, using: &generator) {
                let ref =
                    Int.random(in: 0..<5, using: &generator) == 0
                    ? "legacy-\(Int.random(in: 0..<100, using: &generator))"
                    : PackedRef.unpack(UInt64.random(in: 0...UInt64.max, using: &generator))
                refs.append(ref)
                asText.append(ref)
                asHeld.append(VaultRef(ref))
                set.insert(VaultRef(ref))
            }
            #expect(asHeld == asText && Array(asHeld) == refs)
            #expect(refs.allSatisfy(set.contains))
            #expect(!set.contains("r-ffffffffffffffff") || refs.contains("r-ffffffffffffffff"))
            if let first = refs.first { #expect(Array(RefList(VaultRef(first))) == [first]) }
        }
    }
}
