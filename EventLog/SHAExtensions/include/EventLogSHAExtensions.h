// SHA-256 block compression with the x86 SHA extensions (SHA-NI).
//
// Written in C for one reason: C can compile a single function for extra CPU features with
// `__attribute__((target(...)))`. Swift has no such attribute, so the Swift version needed
// the whole module built with `-msha`, an unsafe flag, and SwiftPM refuses unsafe flags in
// a package used as a dependency. With this, EventLog is an ordinary library product.

#ifndef TANDEM_SHA256_ROUNDS_H
#define TANDEM_SHA256_ROUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Whether this build contains the SHA-NI code path at all (x86-64 only).
bool tandem_sha256_extensions_compiled(void);

/// Whether this CPU reports SHA, SSSE3 and SSE4.1 (CPUID leaves 1 and 7), the features the
/// functions below need. False where the path is not compiled.
bool tandem_sha256_extensions_supported(void);

/// Compresses `count` 64-byte blocks into `state` (eight words, H0…H7).
///
/// `round_constants` are the 64 SHA-256 constants K0…K63. The caller must have checked
/// that the CPU supports SHA, SSSE3 and SSE4.1; otherwise this traps (SIGILL). Where the
/// path is not compiled, it does nothing.
void tandem_sha256_compress_extensions(
    uint32_t *_Nonnull state, const void *_Nonnull blocks, size_t count, const uint32_t *_Nonnull round_constants);

/// Compresses `count` blocks into `state_a` and as many into `state_b`, two independent
/// messages side by side: the same states as two calls of the function above, in about
/// 0.6 times their time. The same requirements apply.
void tandem_sha256_compress_extensions_x2(
    uint32_t *_Nonnull state_a, const void *_Nonnull blocks_a, uint32_t *_Nonnull state_b,
    const void *_Nonnull blocks_b, size_t count, const uint32_t *_Nonnull round_constants);

/// Asks the CPU to bring the cache line at `address` in for reading, and returns at once: a
/// hint that never faults, whatever the address. In C for the same reason as the above:
/// Swift has no prefetch. A fold of millions of events looks up a row for most of them, two
/// cache misses each (the index slot, then the row), unless it asks for them a few events
/// ahead.
static inline void tandem_prefetch(const void *_Nullable address) { __builtin_prefetch(address, 0, 3); }

#endif
