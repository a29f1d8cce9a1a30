import EventLog
import Foundation
import TestSupport
import Testing

/// XXH64, the check of a snapshot's chunks, against the reference implementation (Python's
/// `xxhash` package, which wraps it).
@Suite("XXH64: the reference implementation's values")
struct XXH64Tests {
    /// Bytes `(i * 7 + 3) mod 256`.
    static let data = (0..<1_100).map { UInt8(($0 * 7 + 3) % 256) }

    static func hash(_ count: Int, seed: UInt64 = 0) -> UInt64 {
        data.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<count]), seed: seed) }
    }

    /// Values printed by `xxhash.xxh64_intdigest` (xxhash 3.x) for prefixes of `data`: every
    /// path (under 32 bytes, whole stripes, 8-, 4- and 1-byte tails).
    @Test("prefixes of every kind of length, and a seed, give the reference values")
    func knownValues() {
        let expected: [(Int, UInt64)] = [
            (0, 0xef46_db37_51d8_e999), (1, 0x1f25_c8d0_bc1f_4bb6), (3, 0x31d2_363f_52e5_64c9),
            (4, 0x9bb6_4b7d_66ee_9fda), (7, 0x9a7b_1499_59ce_60d8), (8, 0xdab9_9d95_c6f9_0092),
            (9, 0x170b_b6bf_975b_4c02), (15, 0x1b47_cb82_43cc_8e32), (16, 0x4348_5023_2b78_7be2),
            (17, 0x1efa_7025_f1b9_7a7a), (31, 0xa2aa_5f33_cc4a_6119), (32, 0x23c3_c17e_f790_fd97),
            (33, 0x50a7_cfc7_ba58_8784), (63, 0x5e3e_54b4_31c7_493c), (64, 0x0eb6_4b3e_f6ee_b01f),
            (65, 0xa383_b724_b2bd_12f1), (100, 0xa61f_8d4c_170f_e531), (255, 0x39ae_55a2_9989_206f),
            (256, 0x00cf_c520_7dd8_e201), (300, 0x2400_04db_ee0b_a6dc),
        ]
        for (count, value) in expected { #expect(Self.hash(count) == value, "\(count) bytes") }
        let seeded: [(Int, UInt64)] = [
            (0, 0xc434_9fc9_3c01_0000), (5, 0xa677_b535_c22b_67a5), (32, 0xbf62_4b93_2c09_0428),
            (100, 0xf6d8_f65c_625a_bb4f),
        ]
        for (count, value) in seeded {
            #expect(Self.hash(count, seed: 0x9E37_79B9_7F4A_7C15) == value, "\(count) bytes, seeded")
        }
        #expect(Array("abc".utf8).withUnsafeBytes { XXH64.hash($0) } == 0x44bc_2cf5_ad77_0999)
    }

    /// Every length from 0 to 1,100 against the package itself, when it is installed (CI
    /// installs it; the values above stand without it).
    @Test("every length 0…1100 agrees with Python's xxhash")
    func everyLength() throws {
        guard ReferenceTools.pythonHas("xxhash") else { return }
        let directory = TemporaryDirectory()
        Files.write(directory.appending("data"), Self.data)
        let outcome = try ReferenceTools.runPython(
            """
            import xxhash, sys
            data = open(sys.argv[1], 'rb').read()
            print("\\n".join(str(xxhash.xxh64_intdigest(data[:n])) for n in range(len(data) + 1)))
            """, [directory.appending("data")])
        let values = outcome.stdout.split(separator: "\n").compactMap { UInt64($0) }
        #expect(values.count == Self.data.count + 1, "\(outcome.stderr)")
        for (count, value) in values.enumerated() where Self.hash(count) != value {
            Issue.record("\(count) bytes: \(String(Self.hash(count), radix: 16)) against \(String(value, radix: 16))")
        }
    }
}
