import EventLog
import Testing

/// A snapshot's numbers are LEB128 varints (signed ones zig-zag encoded first); the writer
/// makes a number's bytes at once, and these hold it to the byte-at-a-time encoding and to
/// the reader.
@Suite("Snapshot varints: written at once, the bytes of the plain encoding, read back")
struct SnapshotVarintTests {
    /// Seven bits at a time, low first, the high bit set on all but the last byte.
    static func plain(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    /// Every length's bounds (1 to 10 bytes), and a seeded spread of values between them.
    static var values: [UInt64] {
        var values: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1, 1 << 63]
        for bits in stride(from: 7, through: 63, by: 7) {
            values += [(1 << UInt64(bits)) - 1, 1 << UInt64(bits), (1 << UInt64(bits)) + 1]
        }
        let random = SeededRandomSource(seed: 71)
        for _ in 0..<5000 { values.append(random.next() >> (random.next() % 64)) }
        return values
    }

    @Test("unsigned and signed values, after other bytes, read back in order")
    func sameBytesAndReadBack() throws {
        var writer = SnapshotWriter(capacity: 0)
        var expected: [UInt8] = []
        let signed = Self.values.map { Int(bitPattern: UInt($0)) } + [Int.min, Int.max, -1, -64, 63, 64, -65]
        for value in Self.values {
            writer.write(true)
            expected.append(1)
            writer.write(value)
            expected += Self.plain(value)
        }
        for value in signed {
            writer.write(value)
            let v = Int64(value)
            expected += Self.plain(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
        }
        #expect(writer.bytes == expected)
        // Read back: every flag, unsigned value and signed value, in order, to the end.
        let read: (flags: [Bool], unsigned: [UInt64], signed: [Int], atEnd: Bool)? = writer.bytes.withUnsafeBytes {
            raw in
            var reader = SnapshotReader(raw)
            do throws(SnapshotError) {
                var flags: [Bool] = [], unsigned: [UInt64] = [], signedRead: [Int] = []
                for _ in Self.values {
                    flags.append(try reader.readBool())
                    unsigned.append(try reader.readUInt64())
                }
                for _ in signed { signedRead.append(try reader.readInt()) }
                return (flags, unsigned, signedRead, reader.isAtEnd)
            } catch {
                return nil
            }
        }
        let back = try #require(read)
        #expect(back.flags.allSatisfy { $0 })
        #expect(back.unsigned == Self.values)
        #expect(back.signed == signed)
        #expect(back.atEnd)
    }

    /// Reads one varint from `bytes`: the value, or nil if the reader refused them.
    static func readOne(_ bytes: [UInt8]) -> (value: UInt64, position: Int)? {
        bytes.withUnsafeBytes { raw in
            var reader = SnapshotReader(raw)
            do throws(SnapshotError) {
                let value = try reader.readUInt64()
                return (value, reader.position)
            } catch {
                return nil
            }
        }
    }

    @Test("a varint cut short anywhere, or longer than ten bytes, is refused")
    func cutShortAndOverlong() {
        for value in Self.values where value >= 0x80 {
            let bytes = Self.plain(value)
            for cut in 1..<bytes.count { #expect(Self.readOne(Array(bytes[..<cut])) == nil, "\(value) cut at \(cut)") }
            #expect(Self.readOne(bytes)?.value == value)
        }
        #expect(Self.readOne([]) == nil)
        // Ten bytes carry 64 bits; an eleventh would shift past them.
        #expect(Self.readOne([UInt8](repeating: 0x80, count: 10) + [0x01]) == nil)
        #expect(Self.readOne([UInt8](repeating: 0xFF, count: 9) + [0x01])?.value == UInt64.max)
        // A single byte is read whole, and nothing after it.
        #expect(Self.readOne([0x7F, 0x80])! == (0x7F, 1))
    }

    @Test("words are 8 bytes little-endian, read back between varints; a word cut short is refused")
    func words() throws {
        var writer = SnapshotWriter(capacity: 0)
        var expected: [UInt8] = []
        for value in Self.values {
            writer.writeWord(value)
            withUnsafeBytes(of: value.littleEndian) { expected += $0 }
            writer.write(value)
            expected += Self.plain(value)
        }
        #expect(writer.bytes == expected)
        let back: [UInt64]? = writer.bytes.withUnsafeBytes { raw in
            var reader = SnapshotReader(raw)
            do throws(SnapshotError) {
                var out: [UInt64] = []
                for _ in Self.values {
                    let word = try reader.readWord()
                    guard try reader.readUInt64() == word else { return nil }
                    out.append(word)
                }
                return reader.isAtEnd ? out : nil
            } catch {
                return nil
            }
        }
        #expect(try #require(back) == Self.values)
        for cut in 0..<8 {
            let refused: Bool = [UInt8](repeating: 0xAB, count: cut).withUnsafeBytes { raw in
                var reader = SnapshotReader(raw)
                do throws(SnapshotError) {
                    _ = try reader.readWord()
                    return false
                } catch {
                    return reader.position == 0
                }
            }
            #expect(refused, "a word of \(cut) bytes")
        }
    }
}
