/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3",
 * SC11; the Random123 library's philox4x32 with 10 rounds), and the uniforms rrelu's
 * training mode makes from it.
 *
 * A counter-based generator: the 4 output words are a pure function of a 128-bit counter
 * and a 64-bit key, so any element's random numbers can be computed without the others'.
 * rrelu keys it with the seed (key = {seed low 32 bits, seed high 32 bits}) and takes
 * element i's word from counter {(i >> 2) low 32 bits, (i >> 2) high 32 bits, 0, 0}, word
 * i & 3: four consecutive elements per call, for both dtypes.
 *
 * u = (word >> 8) * 2^-24: the top 24 bits, exact in float32 and in float64, in [0, 1)
 * (1 - 2^-24 at most), one rule for both dtypes so that float32 and float64 draw the same u.
 */
#ifndef RELU_FAST_PHILOX_H
#define RELU_FAST_PHILOX_H

#include <stddef.h>
#include <stdint.h>

#define RELU_FAST_PHILOX_M0 0xD2511F53u
#define RELU_FAST_PHILOX_M1 0xCD9E8D57u
#define RELU_FAST_PHILOX_W0 0x9E3779B9u
#define RELU_FAST_PHILOX_W1 0xBB67AE85u

/* out = Philox4x32-10(ctr, key) */
static inline void relu_fast_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                           uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    int r;
    for (r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)RELU_FAST_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)RELU_FAST_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += RELU_FAST_PHILOX_W0;
        k1 += RELU_FAST_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* u[4j + w] = (word w of Philox4x32-10({c & 0xffffffff, c >> 32, 0, 0}, key) >> 8) * 2^-24
 * for the counters c = first + j, j < nblocks: a loop with no branch and no call (the
 * rounds unrolled), which the compiler may vectorise across j. */
static inline void relu_fast_philox_u24(uint64_t seed, uint64_t first, size_t nblocks, float* u) {
    const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
    size_t j;
    for (j = 0; j < nblocks; j++) {
        uint64_t c = first + j;
        uint32_t c0 = (uint32_t)c, c1 = (uint32_t)(c >> 32), c2 = 0, c3 = 0;
        uint32_t k0 = key0, k1 = key1;
        int r;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 10
#endif
        for (r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)RELU_FAST_PHILOX_M0 * c0;
            uint64_t p1 = (uint64_t)RELU_FAST_PHILOX_M1 * c2;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint32_t)p1;
            c3 = (uint32_t)p0;
            c0 = n0;
            c2 = n2;
            k0 += RELU_FAST_PHILOX_W0;
            k1 += RELU_FAST_PHILOX_W1;
        }
        u[4 * j + 0] = (float)(c0 >> 8) * 0x1p-24f;
        u[4 * j + 1] = (float)(c1 >> 8) * 0x1p-24f;
        u[4 * j + 2] = (float)(c2 >> 8) * 0x1p-24f;
        u[4 * j + 3] = (float)(c3 >> 8) * 0x1p-24f;
    }
}

#endif /* RELU_FAST_PHILOX_H */
