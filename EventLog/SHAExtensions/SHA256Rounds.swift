// SHA-256 block compression with the x86 SHA extensions (SHA-NI).
//
// This module is compiled with `-msha -msse4.1` so that the intrinsics lower to
// instructions. Callers must check that the CPU supports them first; EventLog's
// `SHA256` does, and falls back to its portable implementation otherwise.

#if arch(x86_64)
    import _Builtin_intrinsics.intel

    private typealias Lanes = SIMD4<UInt32>

    @inline(__always) private func lanes(_ x: __m128i) -> Lanes { unsafeBitCast(x, to: Lanes.self) }
    @inline(__always) private func vector(_ x: Lanes) -> __m128i { unsafeBitCast(x, to: __m128i.self) }

    // `_mm_alignr_epi8(a, b, 4)`: C exposes it as a macro, which Swift cannot import.
    @inline(__always) private func alignRight4(_ a: __m128i, _ b: __m128i) -> __m128i {
        let a = lanes(a), b = lanes(b)
        return vector(Lanes(b[1], b[2], b[3], a[0]))
    }

    // `_mm_shuffle_epi32(x, 0x0E)`: the upper two words moved down, which is all that
    // `sha256rnds2` reads of its message operand.
    @inline(__always) private func upperHalf(_ a: __m128i) -> __m128i { _mm_unpackhi_epi64(a, a) }

    @inline(__always) private func load(_ p: UnsafeRawPointer, _ offset: Int) -> __m128i {
        _mm_loadu_si128(p.advanced(by: offset).assumingMemoryBound(to: __m128i.self))
    }

    /// Whether this build contains the SHA-NI code path at all.
    public let shaExtensionsCompiled = true

    /// Compresses `count` 64-byte blocks into `state` (eight words, H0…H7).
    ///
    /// - Parameters:
    ///   - state: the eight chaining words, updated in place.
    ///   - blocks: `64 × count` bytes of message.
    ///   - roundConstants: the 64 SHA-256 constants K0…K63, 16-byte readable.
    /// - Precondition: the CPU supports SHA, SSSE3 and SSE4.1; otherwise this traps (SIGILL).
    /// - Complexity: O(count).
    public func sha256CompressWithExtensions(
        state: UnsafeMutablePointer<UInt32>,
        blocks: UnsafeRawPointer,
        count: Int,
        roundConstants: UnsafePointer<UInt32>
    ) {
        let byteSwap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203)
        // The instructions keep the state as ABEF and CDGH, lane 0 being the last letter.
        var abef = vector(Lanes(state[5], state[4], state[1], state[0]))
        var cdgh = vector(Lanes(state[7], state[6], state[3], state[2]))
        let k = UnsafeRawPointer(roundConstants)
        var data = blocks
        for _ in 0..<count {
            let savedABEF = abef, savedCDGH = cdgh
            var m0 = _mm_shuffle_epi8(load(data, 0), byteSwap)
            var m1 = _mm_shuffle_epi8(load(data, 16), byteSwap)
            var m2 = _mm_shuffle_epi8(load(data, 32), byteSwap)
            var m3 = _mm_shuffle_epi8(load(data, 48), byteSwap)
            var message: __m128i

            message = _mm_add_epi32(m0, load(k, 0))
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
            abef = _mm_sha256rnds2_epu32(abef, cdgh, upperHalf(message))

            message = _mm_add_epi32(m1, load(k, 16))
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
            abef = _mm_sha256rnds2_epu32(abef, cdgh, upperHalf(message))
            m0 = _mm_sha256msg1_epu32(m0, m1)

            message = _mm_add_epi32(m2, load(k, 32))
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
            abef = _mm_sha256rnds2_epu32(abef, cdgh, upperHalf(message))
            m1 = _mm_sha256msg1_epu32(m1, m2)

            message = _mm_add_epi32(m3, load(k, 48))
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
            m0 = _mm_add_epi32(m0, alignRight4(m3, m2))
            m0 = _mm_sha256msg2_epu32(m0, m3)
            abef = _mm_sha256rnds2_epu32(abef, cdgh, upperHalf(message))
            m2 = _mm_sha256msg1_epu32(m2, m3)

            // Rounds 16…63, four at a time; the schedule words rotate m0 → m3.
            // The last groups compute schedule words nobody reads; that is cheaper than
            // unrolling the tail by hand.
            var group = 4
            while group < 16 {
                message = _mm_add_epi32(m0, load(k, group &* 16))
                cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
                m1 = _mm_add_epi32(m1, alignRight4(m0, m3))
                m1 = _mm_sha256msg2_epu32(m1, m0)
                abef = _mm_sha256rnds2_epu32(abef, cdgh, upperHalf(message))
                m3 = _mm_sha256msg1_epu32(m3, m0)
                let oldest = m0
                m0 = m1
                m1 = m2
                m2 = m3
                m3 = oldest
                group &+= 1
            }
            abef = _mm_add_epi32(abef, savedABEF)
            cdgh = _mm_add_epi32(cdgh, savedCDGH)
            data = data.advanced(by: 64)
        }
        let s0 = lanes(abef), s1 = lanes(cdgh)
        state[0] = s0[3]
        state[1] = s0[2]
        state[4] = s0[1]
        state[5] = s0[0]
        state[2] = s1[3]
        state[3] = s1[2]
        state[6] = s1[1]
        state[7] = s1[0]
    }
#else
    /// Whether this build contains the SHA-NI code path at all.
    public let shaExtensionsCompiled = false

    /// Unavailable on this architecture; never called because `shaExtensionsCompiled` is false.
    public func sha256CompressWithExtensions(
        state: UnsafeMutablePointer<UInt32>,
        blocks: UnsafeRawPointer,
        count: Int,
        roundConstants: UnsafePointer<UInt32>
    ) {
        fatalError("SHA extensions are not available on this architecture")
    }
#endif
