import TestSupport
import Testing

@testable import EventLog

/// The record checksum catches what a damaged cache file shows: a flipped bit, a changed
/// byte, a record cut short or run on, at every position of records of every length.
@Suite("Keyed section checksum")
struct KeyedSectionChecksumTests {
    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { KeyedSection.checksum($0) } }

    @Test("every single-bit flip of records up to 80 bytes changes the checksum")
    func everyBitFlip() {
        var generator = SeededGenerator(seed: 31)
        for length in 0...80 {
            for _ in 0..<4 {
                let record = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let original = Self.checksum(record)
                for position in 0..<length {
                    for bit in 0..<8 {
                        var flipped = record
                        flipped[position] ^= 1 << bit
                        #expect(Self.checksum(flipped) != original, "length \(length), byte \(position), bit \(bit)")
                    }
                }
            }
        }
    }

    @Test("a changed byte, a record cut short or one with zeros after it changes the checksum")
    func changesAndLengths() {
        var generator = SeededGenerator(seed: 32)
        var seen: Set<UInt32> = []
        for _ in 0..<3000 {
            let length = Int.random(in: 1...600, using: &generator)
            let record = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let original = Self.checksum(record)
            seen.insert(original)
            var changed = record
            let at = Int.random(in: 0..<length, using: &generator)
            changed[at] = changed[at] &+ UInt8.random(in: 1...255, using: &generator)
            #expect(Self.checksum(changed) != original)
            #expect(Self.checksum(Array(record.dropLast())) != original, "cut short")
            #expect(Self.checksum(record + [0]) != original, "a zero byte more")
            #expect(Self.checksum(record + [0, 0, 0, 0, 0, 0, 0, 0]) != original, "a zero word more")
        }
        #expect(seen.count == 3000, "3,000 random records, 3,000 checksums")
    }

    @Test("a keyed section's damaged record is refused where it is read")
    func damagedRecordRefused() throws {
        let records = (0..<50).map { (key: Array("key-\($0)".utf8), payload: Array("payload \($0) …".utf8)) }
        var section = KeyedSection.build(records)
        let (_, payload) = try section.withUnsafeBytes { raw in
            let (k, p) = try KeyedSection.record(17, in: raw)
            return (Array(k), raw.baseAddress!.distance(to: p.baseAddress!))
        }
        section[payload + 3] ^= 0x20
        #expect(throws: SnapshotError.malformed("a record does not match its checksum")) {
            try section.withUnsafeBytes { _ = try KeyedSection.record(17, in: $0) }
        }
        try section.withUnsafeBytes { _ = try KeyedSection.record(16, in: $0) }
    }
}
