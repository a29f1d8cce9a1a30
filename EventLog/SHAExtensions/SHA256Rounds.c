// SHA-256 with the SHA-NI instructions, following Intel's reference sequence. Only this
// function is compiled for the extensions; EventLog calls it after checking the CPU.

#include "EventLogSHAExtensions.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// The instructions keep the state as ABEF and CDGH, lane 0 being the last letter.
__attribute__((target("sha,ssse3,sse4.1"))) static inline void load_state(
    const uint32_t *state, __m128i *abef, __m128i *cdgh) {
    *abef = _mm_set_epi32((int)state[0], (int)state[1], (int)state[4], (int)state[5]);
    *cdgh = _mm_set_epi32((int)state[2], (int)state[3], (int)state[6], (int)state[7]);
}

__attribute__((target("sha,ssse3,sse4.1"))) static inline void store_state(
    uint32_t *state, __m128i abef, __m128i cdgh) {
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

bool tandem_sha256_extensions_compiled(void) { return true; }

// CPUID rather than /proc/cpuinfo: the same feature bits without opening and parsing a file,
// which took a quarter of a millisecond of every short-lived command.
bool tandem_sha256_extensions_supported(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool ssse3 = (ecx & bit_SSSE3) != 0, sse41 = (ecx & bit_SSE4_1) != 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool sha = (ebx & bit_SHA) != 0;
    return ssse3 && sse41 && sha;
}

__attribute__((target("sha,ssse3,sse4.1")))
void tandem_sha256_compress_extensions(
    uint32_t *state, const void *blocks, size_t count, const uint32_t *round_constants) {
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i *k = (const __m128i *)round_constants;
    __m128i abef, cdgh;
    load_state(state, &abef, &cdgh);
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
    store_state(state, abef, cdgh);
}

// Two messages side by side. One message's rounds form a single chain of dependent
// instructions, each waiting for the last; the other's fill the gaps (1.6 times the
// throughput of one message at a time on the machine this was written on).
__attribute__((target("sha,ssse3,sse4.1")))
void tandem_sha256_compress_extensions_x2(
    uint32_t *state_a, const void *blocks_a, uint32_t *state_b, const void *blocks_b, size_t count,
    const uint32_t *round_constants) {
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i *k = (const __m128i *)round_constants;
    __m128i abef_a, cdgh_a, abef_b, cdgh_b;
    load_state(state_a, &abef_a, &cdgh_a);
    load_state(state_b, &abef_b, &cdgh_b);
    const unsigned char *data_a = (const unsigned char *)blocks_a;
    const unsigned char *data_b = (const unsigned char *)blocks_b;

    for (size_t block = 0; block < count; block++, data_a += 64, data_b += 64) {
        const __m128i saved_abef_a = abef_a, saved_cdgh_a = cdgh_a;
        const __m128i saved_abef_b = abef_b, saved_cdgh_b = cdgh_b;
        __m128i m[4], n[4];
        for (int i = 0; i < 4; i++) {
            m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data_a + 16 * i)), byte_swap);
            n[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data_b + 16 * i)), byte_swap);
        }
        // The single-message schedule above, once for `m` (message a) and once for `n` (b).
        for (int g = 0; g < 16; g++) {
            __m128i *cur_m = &m[g & 3], *cur_n = &n[g & 3];
            const __m128i constants = _mm_loadu_si128(k + g);
            const __m128i message_a = _mm_add_epi32(*cur_m, constants);
            const __m128i message_b = _mm_add_epi32(*cur_n, constants);
            cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, message_a);
            cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, message_b);
            if (g >= 3 && g < 15) {
                __m128i *next_m = &m[(g + 1) & 3], *next_n = &n[(g + 1) & 3];
                *next_m = _mm_add_epi32(*next_m, _mm_alignr_epi8(*cur_m, m[(g + 3) & 3], 4));
                *next_n = _mm_add_epi32(*next_n, _mm_alignr_epi8(*cur_n, n[(g + 3) & 3], 4));
                *next_m = _mm_sha256msg2_epu32(*next_m, *cur_m);
                *next_n = _mm_sha256msg2_epu32(*next_n, *cur_n);
            }
            abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, _mm_shuffle_epi32(message_a, 0x0E));
            abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(message_b, 0x0E));
            if (g >= 1 && g < 13) {
                m[(g - 1) & 3] = _mm_sha256msg1_epu32(m[(g - 1) & 3], *cur_m);
                n[(g - 1) & 3] = _mm_sha256msg1_epu32(n[(g - 1) & 3], *cur_n);
            }
        }
        abef_a = _mm_add_epi32(abef_a, saved_abef_a);
        cdgh_a = _mm_add_epi32(cdgh_a, saved_cdgh_a);
        abef_b = _mm_add_epi32(abef_b, saved_abef_b);
        cdgh_b = _mm_add_epi32(cdgh_b, saved_cdgh_b);
    }
    store_state(state_a, abef_a, cdgh_a);
    store_state(state_b, abef_b, cdgh_b);
}

#else

bool tandem_sha256_extensions_compiled(void) { return false; }

bool tandem_sha256_extensions_supported(void) { return false; }

void tandem_sha256_compress_extensions(
    uint32_t *state, const void *blocks, size_t count, const uint32_t *round_constants) {
    (void)state;
    (void)blocks;
    (void)count;
    (void)round_constants;
}

void tandem_sha256_compress_extensions_x2(
    uint32_t *state_a, const void *blocks_a, uint32_t *state_b, const void *blocks_b, size_t count,
    const uint32_t *round_constants) {
    (void)state_a;
    (void)blocks_a;
    (void)state_b;
    (void)blocks_b;
    (void)count;
    (void)round_constants;
}

#endif
