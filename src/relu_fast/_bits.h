/* Bit tricks of the kernels: 2^k from the bits of a float, and the 1-bit mask packing constant. */
#ifndef RELU_FAST_BITS_H
#define RELU_FAST_BITS_H

#include <stdint.h>
#include <string.h>
/* 2^k for m = k + 1.5*2^52 (k an integer in [-1022, 1023]): (bits(m) + 1023) << 52 */
static inline double relu_fast_pow2_from_magic(double m) {
    uint64_t b; double d;
    memcpy(&b, &m, sizeof b);
    b = (b + 1023u) << 52;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* 2^k for m = k + 1.5*2^23 (k an integer in [-126, 127]): (bits(m) + 127) << 23 */
static inline float relu_fast_pow2f_from_magic(float m) {
    uint32_t b; float f;
    memcpy(&b, &m, sizeof b);
    b = (b + 127u) << 23;
    memcpy(&f, &b, sizeof f);
    return f;
}

#define RELU_FAST_TR_PACK 0x0102040810204080ULL

#endif /* RELU_FAST_BITS_H */
