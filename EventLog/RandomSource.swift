import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where randomness comes from: log ids, vault nonces, generated participant ids.
/// Injected, so that tests and the demo can be byte-for-byte deterministic.
public protocol RandomSource: Sendable {
    /// 64 random bits.
    func next() -> UInt64

    /// A source for another thread to draw from, so that two threads never interleave
    /// their draws on one sequence: the system's source hands out itself (its draws are
    /// unpredictable anyway), a seeded one a new sequence seeded from its own next draw,
    /// so that a seeded run stays reproducible.
    func split() -> any RandomSource
}

extension RandomSource {
    /// A uniformly random integer in `0..<bound` (bound > 0), without modulo bias.
    public func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let v = next()
            if v < limit { return v % bound }
        }
    }

    /// `count` random bytes as lowercase hex.
    public func hex(bytes count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        var word: UInt64 = 0
        for i in 0..<count {
            if i % 8 == 0 { word = next() }
            let byte = UInt8(word & 0xff)
            word >>= 8
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The operating system's cryptographic random source, read 4 KiB at a time: a batch of
/// a hundred thousand vault nonces makes a few hundred reads, not a million system calls.
public final class SystemRandomSource: RandomSource {
    private let buffer = Mutex<(words: [UInt64], next: Int)>(([], 0))

    public init() {}

    public func split() -> any RandomSource { self }

    public func next() -> UInt64 {
        buffer.withLock { state in
            if state.next == state.words.count {
                state.words = [UInt64](repeating: 0, count: 512)
                state.words.withUnsafeMutableBytes { fillRandom($0) }
                state.next = 0
            }
            defer { state.next += 1 }
            return state.words[state.next]
        }
    }
}

/// Fills a buffer from the kernel's random source (/dev/urandom), falling back to the
/// standard library's generator (getrandom) if it cannot be read.
func fillRandom(_ bytes: UnsafeMutableRawBufferPointer) {
    var offset = 0
    if let fd = try? FileDescriptor(path: "/dev/urandom", flags: O_RDONLY) {
        while offset < bytes.count {
            guard let n = try? fd.readSome(into: bytes.baseAddress! + offset, count: bytes.count - offset), n > 0
            else { break }
            offset += n
        }
    }
    var generator = SystemRandomNumberGenerator()
    while offset < bytes.count {
        var word = generator.next()
        let k = min(8, bytes.count - offset)
        withUnsafeBytes(of: &word) {
            bytes.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: k)
        }
        offset += k
    }
}

/// A deterministic source (SplitMix64) for tests and the demo. Not for secrets.
public final class SeededRandomSource: RandomSource {
    private let state: Mutex<UInt64>

    /// A source that always yields the same sequence for the same seed.
    public init(seed: UInt64) { state = Mutex(seed) }

    public func split() -> any RandomSource { SeededRandomSource(seed: next()) }

    public func next() -> UInt64 {
        state.withLock { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// SplitMix64 as a value-type generator, for seeded property tests and simulations.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
