import EventLog
import TestSupport
import Testing

@Suite("HMAC-SHA256")
struct HMACTests {
    /// RFC 4231, test cases 1, 2, 3, 6 and 7 (short key, text key, 0xdd data, and keys
    /// longer than a block, which are hashed first).
    @Test(
        "RFC 4231 vectors",
        arguments: [
            (
                [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                [UInt8](repeating: 0xaa, count: 131),
                Array(
                    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                        .utf8),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ])
    func vectors(key: [UInt8], message: [UInt8], expected: String) {
        #expect(HMAC.sha256(key: key, message: message).hex == expected)
        #expect(message.withUnsafeBytes { HMAC.PreparedKey(key).mac($0) }.hex == expected)
    }

    @Test("two messages under one key, hashed side by side, give each one's own code")
    func pairs() {
        var generator = SeededGenerator(seed: 2104)
        for _ in 0..<300 {
            let key = (0..<Int.random(in: 0...100, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            // Mostly short messages, as record keys are; some of several blocks.
            let lengths = (0..<2).map { _ in
                Bool.random(using: &generator)
                    ? Int.random(in: 0...60, using: &generator) : Int.random(in: 0...300, using: &generator)
            }
            let a = (0..<lengths[0]).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let b = (0..<lengths[1]).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let prepared = HMAC.PreparedKey(key)
            let (x, y) = a.withUnsafeBytes { a in b.withUnsafeBytes { b in prepared.mac(a, b) } }
            #expect(x == HMAC.sha256(key: key, message: a), "lengths \(a.count) and \(b.count)")
            #expect(y == HMAC.sha256(key: key, message: b), "lengths \(a.count) and \(b.count)")
        }
    }

    @Test("random keys and messages agree with Python's hmac module")
    func python() throws {
        try #require(ReferenceTools.python != nil, "python3 is not installed")
        var generator = SeededGenerator(seed: 4231)
        var cases: [(key: [UInt8], message: [UInt8])] = []
        for _ in 0..<200 {
            let key = (0..<Int.random(in: 0...150, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let message = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            cases.append((key, message))
        }
        let hex = { (bytes: [UInt8]) in
            bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
                .joined()
        }
        let input = cases.map { hex($0.key) + " " + hex($0.message) }.joined(separator: "\n")
        let script = """
            import hmac, hashlib, sys
            for line in sys.stdin.read().split("\\n"):
                k, m = line.split(" ")
                print(hmac.new(bytes.fromhex(k), bytes.fromhex(m), hashlib.sha256).hexdigest())
            """
        let outcome = try ReferenceTools.runPython(script, [], stdin: input)
        let expected = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(expected.count == cases.count)
        for (i, c) in cases.enumerated() where i < expected.count {
            #expect(HMAC.sha256(key: c.key, message: c.message).hex == expected[i], "case \(i)")
            // A prepared key, reused for every message of its length class, says the same.
            #expect(c.message.withUnsafeBytes { HMAC.PreparedKey(c.key).mac($0) }.hex == expected[i], "case \(i)")
        }
    }

    @Test("one prepared key gives every message the digest of a fresh HMAC, at every length around a block")
    func preparedKeyReused() {
        var generator = SeededGenerator(seed: 4232)
        for keyLength in [0, 32, 64, 65, 150] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let prepared = HMAC.PreparedKey(key)
            for length in 0...200 {
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                #expect(
                    message.withUnsafeBytes { prepared.mac($0) } == HMAC.sha256(key: key, message: message),
                    "key \(keyLength) bytes, message \(length) bytes")
            }
        }
    }
}
