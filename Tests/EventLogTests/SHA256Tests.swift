import Foundation
import TestSupport
import Testing

@testable import EventLog

/// Both backends that can run on this machine.
let backends: [SHA256Backend] = SHA256Backend.extensionsAvailable ? [.portable, .extensions] : [.portable]

@Suite("SHA-256")
struct SHA256Tests {
    // FIPS 180-4 / NIST CSRC example vectors.
    static let vectors: [(message: [UInt8], digest: String)] = [
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            Array(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
                    .utf8),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
        (
            Array(repeating: UInt8(ascii: "a"), count: 1_000_000),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        ),
    ]

    @Test("FIPS 180-4 vectors, one shot", arguments: backends)
    func fipsVectors(backend: SHA256Backend) {
        for (message, digest) in Self.vectors {
            let computed = message.withUnsafeBytes { SHA256.hash($0, backend: backend) }
            #expect(computed.hex == digest, "length \(message.count)")
        }
    }

    @Test("FIPS 180-4 vectors, streamed in random pieces", arguments: backends)
    func streamed(backend: SHA256Backend) {
        var generator = SeededGenerator(seed: 7)
        for (message, digest) in Self.vectors {
            var hasher = SHA256(backend: backend)
            var i = 0
            while i < message.count {
                let n = min(message.count - i, Int.random(in: 0...200, using: &generator))
                message[i..<(i + n)].withUnsafeBytes { hasher.update($0) }
                i += n
            }
            #expect(hasher.finalize().hex == digest)
        }
    }

    @Test("the digest type parses and prints hex")
    func digestHex() throws {
        let text = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        let digest = try #require(SHA256Digest(hex: text))
        #expect(digest.hex == text)
        #expect(digest.bytes.count == 32 && digest.bytes[0] == 0xba && digest.bytes[31] == 0xad)
        #expect(SHA256Digest(hex: text.uppercased()) == nil)
        #expect(SHA256Digest(hex: String(text.dropLast())) == nil)
        #expect(SHA256Digest.zero.hex == String(repeating: "0", count: 64))
        // The check alone agrees with the parser on seeded near-hex text.
        var generator = SeededGenerator(seed: 64)
        let alphabet = Array("0123456789abcdefABCDEFg/:`@ ".utf8)
        for round in 0..<5000 {
            var bytes = Array(text.utf8)
            for _ in 0..<(round % 3) {
                bytes[Int.random(in: 0..<64, using: &generator)] = alphabet.randomElement(using: &generator)!
            }
            if round % 7 == 0 { bytes.removeLast(round % 2 + 1) }
            let parsed = bytes.withUnsafeBytes { SHA256Digest(hexBytes: $0) != nil }
            #expect(
                bytes.withUnsafeBytes { SHA256Digest.isHex($0) } == parsed, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test("digests print as the hex of their bytes, every nibble value at every place, and read back")
    func hexPrinting() throws {
        var generator = SeededGenerator(seed: 1_616)
        var digests = (0..<16).map { n in
            // Every nibble value at every place, then seeded words.
            let nibble = UInt32(n) * 0x1111_1111
            return SHA256Digest(words: (nibble, nibble, nibble, nibble, nibble, nibble, nibble, nibble))
        }
        for _ in 0..<2_000 {
            func w() -> UInt32 { UInt32.random(in: .min ... .max, using: &generator) }
            digests.append(SHA256Digest(words: (w(), w(), w(), w(), w(), w(), w(), w())))
        }
        for digest in digests {
            let plain = digest.bytes.map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
            }.joined()
            #expect(digest.hex == plain)
            var appended: [UInt8] = [1, 2, 3]
            digest.writeHex(into: &appended)
            #expect(appended == [1, 2, 3] + Array(plain.utf8))
            #expect(SHA256Digest(hex: plain) == digest)
        }
    }

    @Test("a draw is written as sixteen hex digits, low byte first, as a seeded source's hex text says")
    func drawHex() {
        let source = SeededRandomSource(seed: 4_242), twin = SeededRandomSource(seed: 4_242)
        var words: [UInt64] = [0, .max, 0x0123_4567_89AB_CDEF, 0xF0E1_D2C3_B4A5_9687]
        words += (0..<2_000).map { _ in source.next() }
        for (i, word) in words.enumerated() {
            var writer = JSONWriter()
            writer.writeRaw("x")
            writer.writeHex(of: word)
            let plain = (0..<8).map { String(format: "%02x", (word >> (8 * UInt64($0))) & 0xFF) }.joined()
            #expect(writer.bytes == Array(("x" + plain).utf8), "\(word)")
            if i >= 4 { #expect(twin.hex(bytes: 8) == plain) }
        }
    }

    @Test("hex digits parse and check eight at a time as they do one at a time: every byte at every place")
    func hexDigitsEverywhere() throws {
        /// The plain reading: digit by digit.
        func plain(_ bytes: [UInt8]) -> [UInt8]? {
            guard bytes.count == 64 else { return nil }
            var out: [UInt8] = []
            for i in stride(from: 0, to: 64, by: 2) {
                var byte: UInt8 = 0
                for c in bytes[i...(i + 1)] {
                    switch c {
                    case 0x30...0x39: byte = byte << 4 | (c - 0x30)
                    case 0x61...0x66: byte = byte << 4 | (c - 0x61 + 10)
                    default: return nil
                    }
                }
                out.append(byte)
            }
            return out
        }
        var generator = SeededGenerator(seed: 65)
        let digits = Array("0123456789abcdef".utf8)
        var mismatches = 0
        for round in 0..<64 {
            let valid = (0..<64).map { _ in digits.randomElement(using: &generator)! }
            let place = round
            for value in 0...255 {
                var bytes = valid
                bytes[place] = UInt8(value)
                let parsed = bytes.withUnsafeBytes { SHA256Digest(hexBytes: $0) }
                if parsed?.bytes != plain(bytes) { mismatches += 1 }
                if bytes.withUnsafeBytes({ SHA256Digest.isHex($0) }) != (plain(bytes) != nil) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        let text = "0123456789abcdef" + "fedcba9876543210" + "00ff00ff00ff00ff" + "a0b1c2d3e4f5a6b7"
        #expect(SHA256Digest(hex: text)?.hex == text)
    }

    /// Every length from 0 to 1,100 against Python's hashlib: covers each padding case
    /// (0–55, 56–63, and block multiples) many times over.
    @Test("every length 0…1100 agrees with Python hashlib", arguments: backends)
    func everyLength(backend: SHA256Backend) throws {
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: 1100)
        let data = (0..<1100).map { _ in UInt8.random(in: 0...255, using: &generator) }
        Files.write(directory.appending("data"), data)
        let reference: [String]
        if ReferenceTools.python != nil {
            let script = """
                import hashlib, sys
                data = open(sys.argv[1], 'rb').read()
                print("\\n".join(hashlib.sha256(data[:n]).hexdigest() for n in range(len(data) + 1)))
                """
            let outcome = try ReferenceTools.runPython(script, [directory.appending("data")])
            #expect(outcome.status == 0)
            reference = outcome.stdout.split(separator: "\n").map(String.init)
        } else {
            let sum = try #require(ReferenceTools.sha256sum, "neither python3 nor sha256sum is installed")
            reference = try (0...1100).map { n in
                Files.write(directory.appending("p"), Array(data[0..<n]))
                return String(try Executables.run(sum, [directory.appending("p")]).stdout.prefix(64))
            }
        }
        try #require(reference.count == 1101)
        for n in 0...1100 {
            let ours = data[0..<n].withUnsafeBytes { SHA256.hash($0, backend: backend) }
            #expect(ours.hex == reference[n], "length \(n)")
        }
    }

    /// Large random inputs against sha256sum, one shot and streamed.
    @Test("random data up to 10 MB agrees with sha256sum", arguments: backends)
    func largeRandom(backend: SHA256Backend) throws {
        let sum = try #require(ReferenceTools.sha256sum ?? ReferenceTools.python, "no reference tool")
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: 10_000_000)
        for size in [65_537, 1_000_003, 10_000_000] {
            var data = [UInt8](repeating: 0, count: size)
            for i in stride(from: 0, to: size, by: 8) {
                let word = generator.next()
                for j in 0..<min(8, size - i) { data[i + j] = UInt8((word >> (8 * UInt64(j))) & 0xff) }
            }
            let file = directory.appending("random-\(size)")
            Files.write(file, data)
            let expected: String
            if ReferenceTools.sha256sum != nil {
                expected = String(try Executables.run(sum, [file]).stdout.prefix(64))
            } else {
                expected = try ReferenceTools.runPython(
                    "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", [file]
                ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(data.withUnsafeBytes { SHA256.hash($0, backend: backend) }.hex == expected, "size \(size)")
            var hasher = SHA256(backend: backend)
            var i = 0
            while i < size {
                let n = min(size - i, Int.random(in: 1...300_000, using: &generator))
                data[i..<(i + n)].withUnsafeBytes { hasher.update($0) }
                i += n
            }
            #expect(hasher.finalize().hex == expected, "streamed size \(size)")
        }
    }

    @Test("two messages hashed side by side give each one's own digest", arguments: backends)
    func pairs(backend: SHA256Backend) {
        var generator = SeededGenerator(seed: 1802)
        // Lengths around every block boundary, equal and unequal, after no block and after one.
        let lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 440, 1000]
        let prefix = SHA256Midstate(absorbing: (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) })
        var cases = lengths.flatMap { a in lengths.map { b in (a, b) } }
        for _ in 0..<500 {
            cases.append((Int.random(in: 0...700, using: &generator), Int.random(in: 0...700, using: &generator)))
        }
        for (lengthA, lengthB) in cases {
            let a = (0..<lengthA).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let b = (0..<lengthB).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for start in [SHA256Midstate.initial, prefix] {
                let pair = a.withUnsafeBytes { a in
                    b.withUnsafeBytes { b in SHA256.hash(a, b, after: start, backend: backend) }
                }
                let alone = (
                    a.withUnsafeBytes { SHA256.hash($0, after: start, backend: .portable) },
                    b.withUnsafeBytes { SHA256.hash($0, after: start, backend: .portable) }
                )
                #expect(pair == alone, "lengths \(lengthA) and \(lengthB)")
            }
        }
        // The FIPS vectors, each beside every other.
        for (a, digestA) in Self.vectors {
            for (b, digestB) in Self.vectors {
                let (x, y) = a.withUnsafeBytes { a in b.withUnsafeBytes { b in SHA256.hash(a, b, backend: backend) } }
                #expect(x.hex == digestA && y.hex == digestB, "lengths \(a.count) and \(b.count)")
            }
        }
    }

    @Test("CPUID's feature bits agree with the kernel's flags in /proc/cpuinfo")
    func cpuidAgreesWithTheKernel() throws {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: " "))
        #if arch(x86_64)
            let expected = flags.contains("sha_ni") && flags.contains("ssse3") && flags.contains("sse4_1")
        #else
            let expected = false
        #endif
        #expect(SHA256Backend.extensionsAvailable == expected)
    }

    @Test("the backends agree on random messages")
    func backendsAgree() throws {
        try #require(SHA256Backend.extensionsAvailable, "this CPU has no SHA extensions; nothing to compare")
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let n = Int.random(in: 0...3000, using: &generator)
            let data = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let a = data.withUnsafeBytes { SHA256.hash($0, backend: .portable) }
            let b = data.withUnsafeBytes { SHA256.hash($0, backend: .extensions) }
            #expect(a == b, "length \(n)")
        }
    }
}
