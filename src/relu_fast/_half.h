/* 16-bit storage: float16 (IEEE binary16) and bfloat16 to and from float32, which is
   what the kernels compute in.  Loads are exact; stores round to nearest, ties to
   even, once.  NaN stays NaN and comes out quiet (its top payload bits kept), +-inf,
   +-0 and subnormals are kept (never flushed), so every level gives the same bits:
   F16C and AVX-512 convert float16 in hardware on x86-64-v3 and v4, aarch64 in its
   own instructions, and the portable code below does it elsewhere (the SSE2
   baseline), written branch-free so that the compiler vectorises it.  bfloat16 is
   the top half of a float32, so its conversions are integer code on every level
   (AVX-512 BF16's vcvtneps2bf16 flushes subnormals; not used). */
#ifndef RELU_FAST_HALF_H
#define RELU_FAST_HALF_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>
#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

static inline uint32_t rf_bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float rf_float32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ---- portable float16 (Giesen's branch-free conversions, NaN quieted) ---- */
static inline float rf_f16_to_f32_sw(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;
    /* normal numbers: exponent rebiased 15 -> 127; inf/NaN: exponent 31 -> 255 */
    uint32_t normal = (em << 13) + ((127u - 15u) << 23);
    uint32_t special = (normal + ((128u - 16u) << 23)) | (em > 0x7c00u ? 0x400000u : 0u);
    /* subnormals (and zero): em * 2^-24, exact in float32 */
    uint32_t sub = rf_bits32((float)(int32_t)em * 5.9604644775390625e-08f);
    uint32_t r = em < 0x0400u ? sub : (em >= 0x7c00u ? special : normal);
    return rf_float32(r | sign);
}

static inline uint16_t rf_f32_to_f16_sw(float f) {
    uint32_t x = rf_bits32(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t a = x & 0x7fffffffu;
    /* |f| < 2^-14: the float16 subnormal range; adding 0.5 puts the float16 subnormal's
       bits at the bottom of the mantissa, the addition rounding to nearest even */
    uint32_t sub = rf_bits32(rf_float32(a) + 0.5f) - 0x3f000000u;
    /* normal: rebias and round to nearest even (a carry into the exponent overflows to inf
       from 65520 on, as it should) */
    uint32_t norm = (a + ((uint32_t)(15 - 127) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    uint32_t big = a > 0x7f800000u ? (0x7e00u | ((a >> 13) & 0x3ffu)) : 0x7c00u;
    uint32_t r = a < 0x38800000u ? sub : (a >= 0x47800000u ? big : norm);
    return (uint16_t)(r | sign);
}

/* ---- bfloat16 ---- */
static inline float rf_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    return rf_float32((h & 0x7fffu) > 0x7f80u ? (u | 0x400000u) : u);
}

static inline uint16_t rf_f32_to_bf16(float f) {
    uint32_t x = rf_bits32(f);
    uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? ((x >> 16) | 0x40u) : rounded);
}

/* ---- blocks (the kernels convert a block into an L1 buffer and back) ---- */
static inline void relu_fast_f16_load(const uint16_t* src, float* dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + i))));
#elif defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + i))));
#endif
#if defined(__aarch64__)
    { const __fp16* s = (const __fp16*)src; for (; i < n; i++) dst[i] = (float)s[i]; }
#else
    for (; i < n; i++) dst[i] = rf_f16_to_f32_sw(src[i]);
#endif
}

static inline void relu_fast_f16_store(const float* src, uint16_t* dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i*)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#elif defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i*)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
#if defined(__aarch64__)
    { __fp16* d = (__fp16*)dst; for (; i < n; i++) d[i] = (__fp16)src[i]; }
#else
    for (; i < n; i++) dst[i] = rf_f32_to_f16_sw(src[i]);
#endif
}

static inline void relu_fast_bf16_load(const uint16_t* src, float* dst, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) dst[i] = rf_bf16_to_f32(src[i]);
}

static inline void relu_fast_bf16_store(const float* src, uint16_t* dst, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) dst[i] = rf_f32_to_bf16(src[i]);
}

/* float64 -> 16 bits rounded once (PReLU's weight gradient): to float32 rounding to
   odd (inexact results get their last bit set), then to nearest even: correct, as
   float32 has more than two bits beyond either 16-bit type's precision. */
static inline float rf_f64_to_f32_odd(double d) {
    float f = (float)d;
    if ((double)f != d && d == d) {
        uint32_t u = rf_bits32(f);
        if ((f < 0 ? -(double)f : (double)f) > (d < 0 ? -d : d)) u -= 1;   /* toward zero */
        f = rf_float32(u | 1u);
    }
    return f;
}
static inline uint16_t relu_fast_f64_to_f16(double d) { return rf_f32_to_f16_sw(rf_f64_to_f32_odd(d)); }
static inline uint16_t relu_fast_f64_to_bf16(double d) { return rf_f32_to_bf16(rf_f64_to_f32_odd(d)); }

/* The type number ml_dtypes registered for bfloat16 with NumPy, once seen (each module
   that includes this keeps its own; -1: not yet). */
static int relu_fast_bf16_num = -1;
static inline int relu_fast_bf16_typenum(void) { return relu_fast_bf16_num; }
static inline void relu_fast_bf16_set_typenum(int t) { relu_fast_bf16_num = t; }

/* Which float16 conversion this translation unit uses (python -m relu_fast says). */
#if defined(__AVX512F__)
#define RELU_FAST_F16_PATH "AVX-512F"
#elif defined(__F16C__)
#define RELU_FAST_F16_PATH "F16C"
#elif defined(__aarch64__)
#define RELU_FAST_F16_PATH "NEON"
#else
#define RELU_FAST_F16_PATH "software"
#endif

#endif /* RELU_FAST_HALF_H */
