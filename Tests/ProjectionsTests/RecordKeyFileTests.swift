import EventLog
import Glibc
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// The record-key file (`cache/record-keys-*`): every key read from it is the contributor's
/// own HMAC, whatever the file holds (nothing, another model's rows, another secret's keys,
/// damage), and the file is made again when it cannot serve.
@Suite("Record-key file: every row's key read back or made")
struct RecordKeyFileTests {
    let secret = (0..<32).map { UInt8(($0 * 7 + 3) % 256) }

    /// Ids given as a list of strings.
    struct Listed: ContributorIDs {
        let ids: [String]
        var count: Int { ids.count }
        func id(at position: Int) -> String { ids[position] }
    }

    func direct(_ keys: RecordKeys, _ kind: RecordKeys.Kind, _ ids: [String]) -> [CellKey] {
        ids.map { keys.key(kind, $0) }
    }

    /// How many positions differ (an array of keys is too long to print when one does).
    func differences(_ a: [CellKey], _ b: [CellKey]) -> Int {
        a.count == b.count ? zip(a, b).filter { $0 != $1 }.count : max(a.count, b.count)
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
    }

    /// The reference implementation's vectors: key 00 01 … 0f, messages 00 01 … of each
    /// length, the output's bytes read as a big-endian word.
    @Test("SipHash-2-4 against the reference vectors")
    func sipHashVectors() {
        let expected: [UInt64] = [
            0x310e_0edd_47db_6f72, 0xfd67_dc93_c539_f874, 0x5a4f_a9d9_0980_6c0d, 0x2d7e_fbd7_9666_6785,
            0xb787_7127_e094_27cf, 0x8da6_99cd_6455_7618, 0xcee3_fe58_6e46_c9cb, 0x37d1_018b_f500_02ab,
            0x6224_939a_79f5_f593, 0xb0e4_a90b_df82_009e, 0xf3b9_dd94_c5bb_5d7a, 0xa7ad_6b22_462f_b3f4,
            0xfbe5_0e86_bc8f_1e75, 0x903d_84c0_2756_ea14, 0xeef2_7a8e_90ca_23f7, 0xe545_be49_61ca_29a1,
            0xdb9b_c257_7fcc_2a3f, 0x9447_be2c_f5e9_9a69, 0x9cd3_8d96_f0b3_c14b, 0xbd61_79a7_1dc9_6dbb,
            0x98ee_a21a_f25c_d6be, 0xc767_3b2e_b0cb_f2d0, 0x883e_a3e3_9567_5393, 0xc8ce_5ccd_8c03_0ca8,
            0x94af_49f6_c650_adb8, 0xeab8_858a_de92_e1bc, 0xf315_bb5b_b835_d817, 0xadcf_6b07_6361_2e2f,
        ]
        let hash = SipHash(key: (0..<16).map(UInt8.init))
        for (length, vector) in expected.enumerated() {
            let message = (0..<length).map(UInt8.init)
            let value = message.withUnsafeBytes { hash.hash($0) }
            #expect(value.byteSwapped == vector, "length \(length)")
        }
        // A string hashes as its UTF-8 bytes.
        #expect(hash.hash("Grüße") == Array("Grüße".utf8).withUnsafeBytes { hash.hash($0) })
    }

    @Test("no file: every key made and the file written (0600); then every key read", arguments: [1, 5_000, 70_000])
    func writtenThenRead(count: Int) throws {
        let directory = TemporaryDirectory()
        let keys = RecordKeys(secret: secret)
        let ids = (0..<count).map { "p-\($0 * 37 % 100_003)" }
        let first = keys.everyKey(.participant, Listed(ids: ids), cacheDirectory: directory.path)
        #expect(differences(first.keys, direct(keys, .participant, ids)) == 0)
        #expect(first.made == count)
        let path = directory.appending(RecordKeyFile.name(.participant))
        #expect(mode(path) == 0o600)
        #expect(FileSystem.size(of: path) == RecordKeyFile.headerSize + 12 * count + RecordKeyFile.trailerSize)
        let again = keys.everyKey(.participant, Listed(ids: ids), cacheDirectory: directory.path)
        #expect(differences(again.keys, first.keys) == 0)
        #expect(again.made == 0)
        // The tandems' file is another file: the participants' one is not read for them.
        let tandems = keys.everyKey(.tandem, Listed(ids: ids), cacheDirectory: directory.path)
        #expect(differences(tandems.keys, direct(keys, .tandem, ids)) == 0)
        #expect(tandems.made == count)
        // Without a directory, every key is made.
        let none = keys.everyKey(.participant, Listed(ids: ids), cacheDirectory: nil)
        #expect(differences(none.keys, first.keys) == 0 && none.made == count)
    }

    /// A window's model: the file's rows with some left out (every seventh, and a block
    /// longer than any fixed look-ahead), and rows the file lacks among them and after.
    @Test("rows left out, in a block or scattered, and rows the file lacks: each key its own", arguments: 0..<4)
    func subsequence(seed: Int) throws {
        let directory = TemporaryDirectory()
        let keys = RecordKeys(secret: secret)
        var random = SeededGenerator(seed: UInt64(seed) &+ 900)
        let whole = (0..<30_000).map { "p-\($0)" }
        _ = keys.everyKey(.participant, Listed(ids: whole), cacheDirectory: directory.path)
        let blockStart = Int.random(in: 1_000..<20_000, using: &random)
        let block = blockStart..<(blockStart + 6_000)
        var model: [String] = []
        var lacked = 0
        for (i, id) in whole.enumerated() where !block.contains(i) && (i % 7 != seed) {
            model.append(id)
            if Int.random(in: 0..<4_000, using: &random) == 0 {
                model.append("new-\(i)")
                lacked += 1
            }
        }
        model += (0..<25).map { "late-\($0)" }
        lacked += 25
        let read = keys.everyKey(.participant, Listed(ids: model), cacheDirectory: directory.path)
        #expect(differences(read.keys, direct(keys, .participant, model)) == 0, "seed \(seed)")
        #expect(read.made == lacked, "seed \(seed): only the rows the file lacks are made")
        // Shuffled rows: most keys are not where expected; every key is still its own.
        let shuffled = whole.shuffled(using: &random)
        let mixed = keys.everyKey(.participant, Listed(ids: shuffled), cacheDirectory: directory.path)
        #expect(differences(mixed.keys, direct(keys, .participant, shuffled)) == 0, "seed \(seed)")
    }

    @Test("a file of another secret, damaged, cut short, or of the other kind is not used, and is made again")
    func unusableFiles() throws {
        let directory = TemporaryDirectory()
        let keys = RecordKeys(secret: secret)
        let ids = (0..<9_000).map { "t-\($0)" }
        let path = directory.appending(RecordKeyFile.name(.tandem))
        let expected = direct(keys, .tandem, ids)

        // Another secret's file.
        let other = RecordKeys(secret: secret.map { $0 ^ 1 })
        _ = other.everyKey(.tandem, Listed(ids: ids), cacheDirectory: directory.path)
        var read = keys.everyKey(.tandem, Listed(ids: ids), cacheDirectory: directory.path)
        #expect(differences(read.keys, expected) == 0 && read.made == ids.count)
        read = keys.everyKey(.tandem, Listed(ids: ids), cacheDirectory: directory.path)
        #expect(differences(read.keys, expected) == 0 && read.made == 0, "made again under this secret")

        let good = try FileSystem.readFile(path)
        func damaged(_ bytes: [UInt8], _ label: String) throws {
            try FileSystem.replaceAtomically(path, with: bytes)
            let read = keys.everyKey(.tandem, Listed(ids: ids), cacheDirectory: directory.path)
            #expect(differences(read.keys, expected) == 0, "\(label)")
            #expect(read.made == ids.count, "\(label): nothing read from it")
            #expect(try FileSystem.readFile(path) == good, "\(label): made again")
        }
        // The last key, a fingerprint, the count and the tag, each with a bit flipped.
        for offset in [good.count - 36, RecordKeyFile.headerSize + 12 * 4_000 + 3, 17, 30] {
            var bytes = good
            bytes[offset] ^= 0x10
            try damaged(bytes, "byte \(offset) flipped")
        }
        try damaged(Array(good.dropLast(12)), "cut by an entry")
        try damaged(Array(good.prefix(20)), "cut in the header")
        try damaged([], "empty")
        // The people's file put where the tandems' belongs.
        _ = keys.everyKey(.participant, Listed(ids: ids), cacheDirectory: directory.path)
        try damaged(try FileSystem.readFile(directory.appending(RecordKeyFile.name(.participant))), "the other kind")
    }

    @Test("a model with more rows than a window's file rewrites it; a window's model does not replace the whole")
    func whichModelWrites() throws {
        let directory = TemporaryDirectory()
        let keys = RecordKeys(secret: secret)
        let whole = (0..<200_000).map { "p-\($0)" }
        let early = Array(whole.prefix(60_000))
        _ = keys.everyKey(.participant, Listed(ids: early), cacheDirectory: directory.path)
        let path = directory.appending(RecordKeyFile.name(.participant))
        let size = { FileSystem.size(of: path) ?? 0 }
        #expect(size() == RecordKeyFile.headerSize + 12 * early.count + RecordKeyFile.trailerSize)
        // The whole model misses 140,000 rows of the window's file: it writes its own.
        var read = keys.everyKey(.participant, Listed(ids: whole), cacheDirectory: directory.path)
        #expect(differences(read.keys, direct(keys, .participant, whole)) == 0 && read.made == 140_000)
        #expect(size() == RecordKeyFile.headerSize + 12 * whole.count + RecordKeyFile.trailerSize)
        // A window's model reads it, and leaves it.
        read = keys.everyKey(.participant, Listed(ids: early), cacheDirectory: directory.path)
        #expect(read.made == 0)
        #expect(size() == RecordKeyFile.headerSize + 12 * whole.count + RecordKeyFile.trailerSize)
    }

    /// The policy a query service makes for analysts reads every row's key through the file:
    /// the same keys as one made per figure, first (writing) and after (reading).
    @Test("an analyst's policy: keys by rows through the file equal the keys made one by one", arguments: 0..<2)
    func policyThroughFiles(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, _, service) = try TimeTravelTests.generated(seed: UInt64(seed) &+ 5100, steps: 300, in: directory)
        let model = try service.input(.init(viewer: .coordinator, today: BusinessDate("2030-01-01")!)).model
        let keys = RecordKeys(secret: secret)
        var filed = DisclosurePolicy.cellKey(keys)
        let cache = TemporaryDirectory()
        filed.rowKeys = RecordKeyFiles(directory: cache.path)
        let plain = DisclosurePolicy.cellKey(keys)
        let people = model.peopleRows, tandems = model.tandemRows
        var random = SeededGenerator(seed: UInt64(seed))
        for round in 0..<2 {
            #expect(filed.keys(ofPeopleRows: nil, in: people) == plain.keys(ofPeopleRows: nil, in: people))
            let some = Array((0..<Int32(people.count)).shuffled(using: &random).prefix(people.count / 2))
            #expect(filed.keys(ofPeopleRows: some, in: people) == plain.keys(ofPeopleRows: some, in: people))
            let pairs = Array((0..<Int32(tandems.count)).reversed())
            #expect(filed.keys(ofTandemRows: pairs, in: tandems) == plain.keys(ofTandemRows: pairs, in: tandems))
            #expect(
                filed.population(tandemRows: pairs, in: tandems) == plain.population(tandems: pairs.map(tandems.id)),
                "round \(round)")
            #expect(filed.population(everyoneIn: model.people) == plain.population(everyoneIn: model.people))
        }
        #expect(FileSystem.kind(of: cache.appending(RecordKeyFile.name(.participant))).exists)
        #expect(FileSystem.kind(of: cache.appending(RecordKeyFile.name(.tandem))).exists)
    }
}
