// SHA-256 with the SHA-NI instructions, following Intel's reference sequence. Only this
// function is compiled for the extensions; EventLog calls it after checking the CPU.

#include "EventLogSHAExtensions.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool tandem_sha256_extensions_compiled(void) { return true; }

__attribute__((target("sha,ssse3,sse4.1")))
void tandem_sha256_compress_extensions(
    uint32_t *state, const void *blocks, size_t count, const uint32_t *round_constants) {
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i *k = (const __m128i *)round_constants;
    // The instructions keep the state as ABEF and CDGH, lane 0 being the last letter.
    __m128i abef = _mm_set_epi32((int)state[0], (int)state[1], (int)state[4], (int)state[5]);
    __m128i cdgh = _mm_set_epi32((int)state[2], (int)state[3], (int)state[6], (int)state[7]);
    const unsigned char *data = (const unsigned char *)blocks;

    for (size_t block = 0; block < count; block++, data += 64) {
        const __m128i saved_abef = abef, saved_cdgh = cdgh;
        __m128i m[4];
        for (int i = 0; i < 4; i++) {
            m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), byte_swap);
        }
        // Sixteen groups of four rounds. Group g uses schedule words m[g % 4]; from group 3 on,
        // the next words are prepared with msg1 and msg2 while the rounds run.
        for (int g = 0; g < 16; g++) {
            __m128i *cur = &m[g & 3];
            const __m128i message = _mm_add_epi32(*cur, _mm_loadu_si128(k + g));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message);
            if (g >= 3 && g < 15) {
                __m128i *next = &m[(g + 1) & 3];
                *next = _mm_add_epi32(*next, _mm_alignr_epi8(*cur, m[(g + 3) & 3], 4));
                *next = _mm_sha256msg2_epu32(*next, *cur);
            }
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(message, 0x0E));
            if (g >= 1 && g < 13) {
                __m128i *prev = &m[(g - 1) & 3];
                *prev = _mm_sha256msg1_epu32(*prev, *cur);
            }
        }
        abef = _mm_add_epi32(abef, saved_abef);
        cdgh = _mm_add_epi32(cdgh, saved_cdgh);
    }
    uint32_t a[4], c[4];
    _mm_storeu_si128((__m128i *)a, abef);
    _mm_storeu_si128((__m128i *)c, cdgh);
    state[0] = a[3];
    state[1] = a[2];
    state[4] = a[1];
    state[5] = a[0];
    state[2] = c[3];
    state[3] = c[2];
    state[6] = c[1];
    state[7] = c[0];
}

#else

bool tandem_sha256_extensions_compiled(void) { return false; }

void tandem_sha256_compress_extensions(
    uint32_t *state, const void *blocks, size_t count, const uint32_t *round_constants) {
    (void)state;
    (void)blocks;
    (void)count;
    (void)round_constants;
}

#endif
