import EventLogSHAExtensions

#if canImport(Glibc)
    import Glibc
#endif

/// A SHA-256 digest (FIPS 180-4): 32 bytes, printed as 64 lowercase hex digits.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    /// The eight big-endian words H0…H7.
    public var words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The digest of nothing in particular: 64 zeros, used as `prev` of the first line.
    public static let zero = SHA256Digest(words: (0, 0, 0, 0, 0, 0, 0, 0))

    /// Creates a digest from its eight words.
    public init(words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)) {
        self.words = words
    }

    /// Parses 64 lowercase hex digits; returns nil for anything else (upper case included,
    /// because the log format fixes lower case and a verifier compares bytes).
    public init?(hex: some StringProtocol) {
        var utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        guard let parsed = utf8.withUnsafeMutableBytes({ SHA256Digest(hexBytes: UnsafeRawBufferPointer($0)) })
        else { return nil }
        self = parsed
    }

    /// Parses 64 lowercase hex digits from raw bytes.
    package init?(hexBytes: UnsafeRawBufferPointer) {
        guard hexBytes.count == 64, let base = hexBytes.baseAddress else { return nil }
        // Eight digits at a time in one 64-bit word (SWAR): a replay parses a digest for
        // every vault reference it decodes, and digit by digit that was a twentieth of it.
        // Straight-line: through a nested function the words were not inlined (44
        // instructions each, a fifth more than the reading itself).
        let w0 = Self.hexWord(base.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let w1 = Self.hexWord(base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let w2 = Self.hexWord(base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let w3 = Self.hexWord(base.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let w4 = Self.hexWord(base.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let w5 = Self.hexWord(base.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
        let w6 = Self.hexWord(base.loadUnaligned(fromByteOffset: 48, as: UInt64.self))
        let w7 = Self.hexWord(base.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
        let notHex = w0.notHex | w1.notHex | w2.notHex | w3.notHex | w4.notHex | w5.notHex | w6.notHex | w7.notHex
        guard notHex == 0 else { return nil }
        words = (w0.value, w1.value, w2.value, w3.value, w4.value, w5.value, w6.value, w7.value)
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        withUnsafeBytes(of: words) { raw in
            for i in 0..<8 {
                let w = raw.load(fromByteOffset: i * 4, as: UInt32.self)
                out.append(UInt8(w >> 24))
                out.append(UInt8((w >> 16) & 0xff))
                out.append(UInt8((w >> 8) & 0xff))
                out.append(UInt8(w & 0xff))
            }
        }
        return out
    }

    /// Writes the 64 hex digits to `destination`, which must have room for them.
    package func writeHex(to destination: UnsafeMutableRawPointer) {
        withUnsafeBytes(of: words) { raw in
            for i in 0..<8 {
                let digits = Self.hexDigits(raw.load(fromByteOffset: i * 4, as: UInt32.self))
                destination.storeBytes(of: digits.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        }
    }

    /// The value of eight lowercase hex digits loaded as one word from memory (the first
    /// digit, the most significant, in the lowest byte), and `nonHexBytes` of them: any bit
    /// set there means they were not eight such digits, and the value means nothing.
    @inlinable @inline(__always)
    package static func hexWord(_ loaded: UInt64) -> (value: UInt32, notHex: UInt64) {
        let v = UInt64(littleEndian: loaded)
        // A digit's value is its low four bits, plus 9 for a letter (bit 6 set).
        let nibbles = (v & 0x0F0F_0F0F_0F0F_0F0F) &+ ((v >> 6) & 0x0101_0101_0101_0101) &* 9
        // The first digit is the lowest byte and becomes the highest nibble.
        let u = nibbles.byteSwapped
        let pairs = (u | u >> 4) & 0x00FF_00FF_00FF_00FF
        let quads = (pairs | pairs >> 8) & 0x0000_FFFF_0000_FFFF
        return (UInt32(truncatingIfNeeded: quads | quads >> 16), nonHexBytes(v))
    }

    /// A word's eight hex digits, the first (most significant nibble) in the lowest byte:
    /// the nibbles spread one to a byte, then each made a digit or a letter at once.
    @inlinable @inline(__always)
    package static func hexDigits(_ word: UInt32) -> UInt64 {
        var x = UInt64(word)
        x = (x & 0xFFFF_0000) << 16 | (x & 0xFFFF)
        x = (x & 0x0000_FF00_0000_FF00) << 8 | (x & 0x0000_00FF_0000_00FF)
        x = (x & 0x00F0_00F0_00F0_00F0) << 4 | (x & 0x000F_000F_000F_000F)
        // Now the most significant nibble is in the top byte; the first digit goes first.
        x = x.byteSwapped
        let letters = (x &+ 0x0606_0606_0606_0606) >> 4 & 0x0101_0101_0101_0101
        return x &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// Appends the 64 hex digits to `bytes`: made in place, appended as one run.
    public func writeHex(into bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            writeHex(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            bytes.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// The digest's 64 lowercase hex digits.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { buffer in
            writeHex(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            return 64
        }
    }

    /// Whether raw bytes are 64 lowercase hex digits: the check alone, cheaper than decoding
    /// them (which line parsing did for every prev and hash).
    package static func isHex(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 64, let base = bytes.baseAddress else { return false }
        var bad: UInt64 = 0
        for start in stride(from: 0, to: 64, by: 8) {
            bad |= nonHexBytes(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: start, as: UInt64.self)))
        }
        return bad == 0
    }

    /// Bit 7 of each byte of `v` that is not a lowercase hex digit (SWAR: eight at once).
    @usableFromInline @inline(__always)
    static func nonHexBytes(_ v: UInt64) -> UInt64 {
        // Per byte, bit 7 of `b + (0x80 - low)` is set iff b >= low, for b below 0x80
        // (no carry leaves a byte); a byte with bit 7 set is never a digit.
        let low7 = v & 0x7F7F_7F7F_7F7F_7F7F
        let isDigit = (low7 &+ 0x5050_5050_5050_5050) & ~(low7 &+ 0x4646_4646_4646_4646)  // 0x30...0x39
        let isLetter = (low7 &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(low7 &+ 0x1919_1919_1919_1919)  // 0x61...0x66
        return (~(isDigit | isLetter) | v) & 0x8080_8080_8080_8080
    }

    /// Compares with 64 hex digits held as raw bytes, without allocating.
    package func matches(hexBytes: UnsafeRawBufferPointer) -> Bool {
        guard hexBytes.count == 64 else { return false }
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { scratch in
            writeHex(to: scratch.baseAddress!)
            return memcmp(scratch.baseAddress!, hexBytes.baseAddress!, 64) == 0
        }
    }

    public var description: String { hex }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
            && a.words.4 == b.words.4 && a.words.5 == b.words.5 && a.words.6 == b.words.6 && a.words.7 == b.words.7
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// Which compression function `SHA256` uses.
public enum SHA256Backend: String, Sendable, CaseIterable {
    /// Portable Swift, on every CPU.
    case portable
    /// The x86 SHA extensions, when the CPU has them: about five times faster.
    case extensions

    /// The backend chosen for this process: the extensions when the CPU reports `sha_ni`,
    /// `ssse3` and `sse4_1`, unless `TANDEM_SHA256=portable` asks otherwise.
    public static let active: SHA256Backend = {
        if let forced = getenv("TANDEM_SHA256").map({ String(cString: $0) }), forced == "portable" {
            return .portable
        }
        return SHA256Backend.extensionsAvailable ? .extensions : .portable
    }()

    /// Whether this CPU and build can run `.extensions`.
    public static let extensionsAvailable: Bool =
        tandem_sha256_extensions_compiled() && tandem_sha256_extensions_supported()
}

/// SHA-256 (FIPS 180-4), written for Tandem so that the log needs no dependency.
///
/// Use `SHA256.hash(_:)` for a message in memory, or `update`/`finalize` for a stream.
public struct SHA256: Sendable {
    fileprivate var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    fileprivate var pending: [UInt8] = []
    fileprivate var totalBytes: UInt64 = 0
    private let backend: SHA256Backend

    /// Starts a new hash with the process's backend (see `SHA256Backend.active`).
    public init() { backend = .active }

    /// Starts a new hash with a chosen backend; `.extensions` must be available.
    public init(backend: SHA256Backend) {
        precondition(backend == .portable || SHA256Backend.extensionsAvailable, "SHA extensions unavailable")
        self.backend = backend
    }

    /// Feeds bytes into the hash.
    /// - Complexity: O(n).
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        totalBytes &+= UInt64(bytes.count)
        var input = bytes[...]
        if !pending.isEmpty {
            let take = min(64 - pending.count, input.count)
            pending.append(contentsOf: input.prefix(take))
            input = input.dropFirst(take)
            if pending.count == 64 {
                let block = pending
                block.withUnsafeBytes { absorb($0.baseAddress!, blocks: 1) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        let whole = input.count / 64
        if whole > 0 {
            absorb(UnsafeRawBufferPointer(rebasing: input).baseAddress!, blocks: whole)
            input = input.dropFirst(whole * 64)
        }
        pending.append(contentsOf: input)
    }

    private mutating func absorb(_ blocks: UnsafeRawPointer, blocks count: Int) {
        let backend = self.backend
        var words = state
        withUnsafeMutableBytes(of: &words) { s in
            SHA256.compress(s.baseAddress!.assumingMemoryBound(to: UInt32.self), blocks, count, backend)
        }
        state = words
    }

    /// Feeds a byte collection into the hash.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// Finishes the hash: appends the padding and the length, and returns the digest.
    public mutating func finalize() -> SHA256Digest {
        let bitLength = totalBytes &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xff)) }
        tail.withUnsafeBytes { absorb($0.baseAddress!, blocks: tail.count / 64) }
        pending.removeAll()
        return SHA256Digest(words: state)
    }

    /// The digest of a message in memory, without allocating.
    /// - Complexity: O(n).
    package static func hash(_ bytes: UnsafeRawBufferPointer, backend: SHA256Backend = .active) -> SHA256Digest {
        hash(bytes, after: .initial, backend: backend)
    }

    /// The digest of the blocks `midstate` absorbed followed by `bytes`, without allocating.
    /// - Complexity: O(n).
    package static func hash(
        _ bytes: UnsafeRawBufferPointer, after midstate: SHA256Midstate, backend: SHA256Backend = .active
    ) -> SHA256Digest {
        var state = midstate.words
        let count = bytes.count
        let whole = count / 64
        withUnsafeMutableBytes(of: &state) { s in
            let words = s.baseAddress!.assumingMemoryBound(to: UInt32.self)
            if whole > 0 { compress(words, bytes.baseAddress!, whole, backend) }
            // The last 0…63 bytes, the 0x80 marker and the length fill one or two blocks.
            withUnsafeTemporaryAllocation(byteCount: 128, alignment: 16) { tail in
                let blocks = fillTail(tail, from: bytes, whole: whole, length: midstate.length)
                compress(words, UnsafeRawPointer(tail.baseAddress!), blocks, backend)
            }
        }
        return SHA256Digest(words: state)
    }

    /// The digests of two messages in memory, hashed side by side where the SHA extensions
    /// allow it: the same digests as two calls of `hash(_:after:)`, in about 0.6 times the
    /// time when the messages have about as many blocks (a record key, two lines of a log,
    /// two chunks of a snapshot). Without allocating.
    /// - Complexity: O(n + m).
    package static func hash(
        _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, after midstate: SHA256Midstate = .initial,
        backend: SHA256Backend = .active
    ) -> (SHA256Digest, SHA256Digest) {
        guard backend == .extensions else {
            return (hash(a, after: midstate, backend: backend), hash(b, after: midstate, backend: backend))
        }
        var stateA = midstate.words
        var stateB = midstate.words
        let wholeA = a.count / 64
        let wholeB = b.count / 64
        withUnsafeMutableBytes(of: &stateA) { sa in
            withUnsafeMutableBytes(of: &stateB) { sb in
                let wordsA = sa.baseAddress!.assumingMemoryBound(to: UInt32.self)
                let wordsB = sb.baseAddress!.assumingMemoryBound(to: UInt32.self)
                // The blocks both have, side by side; then the longer one's own.
                let common = min(wholeA, wholeB)
                if common > 0 { compressPair(wordsA, a.baseAddress!, wordsB, b.baseAddress!, common) }
                if wholeA > common { compress(wordsA, a.baseAddress! + common * 64, wholeA - common, backend) }
                if wholeB > common { compress(wordsB, b.baseAddress! + common * 64, wholeB - common, backend) }
                // Each message's last bytes, marker and length fill one or two blocks.
                withUnsafeTemporaryAllocation(byteCount: 256, alignment: 16) { tails in
                    let tailA = UnsafeMutableRawBufferPointer(rebasing: tails[0..<128])
                    let tailB = UnsafeMutableRawBufferPointer(rebasing: tails[128..<256])
                    let blocksA = fillTail(tailA, from: a, whole: wholeA, length: midstate.length)
                    let blocksB = fillTail(tailB, from: b, whole: wholeB, length: midstate.length)
                    if blocksA == blocksB {
                        compressPair(
                            wordsA, UnsafeRawPointer(tailA.baseAddress!), wordsB, UnsafeRawPointer(tailB.baseAddress!),
                            blocksA)
                    } else {
                        compress(wordsA, UnsafeRawPointer(tailA.baseAddress!), blocksA, backend)
                        compress(wordsB, UnsafeRawPointer(tailB.baseAddress!), blocksB, backend)
                    }
                }
            }
        }
        return (SHA256Digest(words: stateA), SHA256Digest(words: stateB))
    }

    /// Writes the padded end of `message` (the bytes after its `whole` blocks, the 0x80
    /// marker, zeros, and the bit length of `length` bytes before it plus the message) into
    /// `tail` (128 bytes); returns how many blocks it fills, 1 or 2.
    private static func fillTail(
        _ tail: UnsafeMutableRawBufferPointer, from message: UnsafeRawBufferPointer, whole: Int, length: Int
    ) -> Int {
        let rest = message.count - whole * 64
        memset(tail.baseAddress!, 0, 128)
        if rest > 0 {
            tail.baseAddress!.copyMemory(from: message.baseAddress!.advanced(by: whole * 64), byteCount: rest)
        }
        tail[rest] = 0x80
        let blocks = rest < 56 ? 1 : 2
        let bits = UInt64(length + message.count) &* 8
        tail.baseAddress!.storeBytes(of: bits.bigEndian, toByteOffset: blocks * 64 - 8, as: UInt64.self)
        return blocks
    }

    /// The digest of a byte collection.
    public static func hash(_ bytes: some Collection<UInt8>) -> SHA256Digest {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// The digest of a string's UTF-8 bytes.
    public static func hash(_ string: String) -> SHA256Digest {
        var copy = string
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private static func compress(
        _ state: UnsafeMutablePointer<UInt32>, _ blocks: UnsafeRawPointer, _ count: Int, _ backend: SHA256Backend
    ) {
        roundConstants.withUnsafeBufferPointer { k in
            switch backend {
            case .extensions:
                tandem_sha256_compress_extensions(state, blocks, count, k.baseAddress!)
            case .portable:
                compressPortable(state, blocks, count, k.baseAddress!)
            }
        }
    }

    /// Two messages' blocks with the extensions, side by side (`count` blocks each).
    @inline(__always)
    private static func compressPair(
        _ stateA: UnsafeMutablePointer<UInt32>, _ blocksA: UnsafeRawPointer, _ stateB: UnsafeMutablePointer<UInt32>,
        _ blocksB: UnsafeRawPointer, _ count: Int
    ) {
        roundConstants.withUnsafeBufferPointer { k in
            tandem_sha256_compress_extensions_x2(stateA, blocksA, stateB, blocksB, count, k.baseAddress!)
        }
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 &- n)) }

    private static func compressPortable(
        _ h: UnsafeMutablePointer<UInt32>, _ blocks: UnsafeRawPointer, _ count: Int, _ k: UnsafePointer<UInt32>
    ) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            var data = blocks
            for _ in 0..<count {
                for i in 0..<16 {
                    w[i] = UInt32(bigEndian: data.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
                }
                for i in 16..<64 {
                    let a = w[i &- 15], b = w[i &- 2]
                    let s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >> 3)
                    let s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >> 10)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let choose = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ choose &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    hh = g
                    g = f
                    f = e
                    e = d &+ t1
                    d = c
                    c = b
                    b = a
                    a = t1 &+ s0 &+ majority
                }
                h[0] &+= a
                h[1] &+= b
                h[2] &+= c
                h[3] &+= d
                h[4] &+= e
                h[5] &+= f
                h[6] &+= g
                h[7] &+= hh
                data = data.advanced(by: 64)
            }
        }
    }

    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
}

/// SHA-256's state after some whole 64-byte blocks: where the hashes of many messages with
/// a common first block start, each without absorbing that block again (HMAC's padded key).
package struct SHA256Midstate: Sendable {
    /// The chaining words.
    var words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    /// How many bytes were absorbed: a multiple of 64.
    var length: Int

    /// The state before any byte.
    static let initial = SHA256Midstate(
        words: (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19),
        length: 0)

    private init(words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32), length: Int) {
        self.words = words
        self.length = length
    }

    /// The state after `blocks`, whose length must be a multiple of 64.
    package init(absorbing blocks: [UInt8]) {
        precondition(blocks.count % 64 == 0, "a midstate absorbs whole 64-byte blocks")
        var state = SHA256()
        state.update(blocks)
        self = state.midstate
    }
}

extension SHA256 {
    /// The state after the whole blocks fed so far (nothing pending).
    fileprivate var midstate: SHA256Midstate {
        precondition(pending.isEmpty, "a midstate holds whole blocks only")
        var m = SHA256Midstate.initial
        m.words = state
        m.length = Int(totalBytes)
        return m
    }
}
