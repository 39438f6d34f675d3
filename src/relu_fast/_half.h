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
#include "_stream.h"
#if defined(__F16C__) || defined(__AVX2__) || defined(__AVX512F__) || defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#endif

static inline uint32_t rf_bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float rf_float32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ---- portable float16 (Giesen's branch-free conversions, NaN quieted) ----
   Selections are masks over signed 32-bit integers (no value here reaches 2^31), which
   SSE2 vectorises: it has signed compares only. */
static inline float rf_f16_to_f32_sw(uint16_t h) {
    int32_t em = h & 0x7fff;
    int32_t sign = (int32_t)(h & 0x8000) << 16;
    int32_t is_sub = -(int32_t)(em < 0x0400), is_special = -(int32_t)(em >= 0x7c00);
    int32_t is_nan = -(int32_t)(em > 0x7c00);
    /* normal numbers: exponent rebiased 15 -> 127; inf/NaN: exponent 31 -> 255 */
    int32_t normal = (em << 13) + ((127 - 15) << 23);
    int32_t special = (normal + ((128 - 16) << 23)) | (is_nan & 0x400000);
    /* subnormals (and zero): em * 2^-24, exact in float32 */
    int32_t sub = (int32_t)rf_bits32((float)em * 5.9604644775390625e-08f);
    int32_t r = (sub & is_sub) | (special & is_special) | (normal & ~(is_sub | is_special));
    return rf_float32((uint32_t)(r | sign));
}

static inline uint16_t rf_f32_to_f16_sw(float f) {
    int32_t x = (int32_t)rf_bits32(f);
    int32_t sign = (x >> 16) & 0x8000;
    int32_t a = x & 0x7fffffff;
    int32_t is_sub = -(int32_t)(a < 0x38800000), is_big = -(int32_t)(a >= 0x47800000);
    int32_t is_nan = -(int32_t)(a > 0x7f800000);
    /* |f| < 2^-14: the float16 subnormal range; adding 0.5 puts the float16 subnormal's
       bits at the bottom of the mantissa, the addition rounding to nearest even */
    int32_t sub = (int32_t)rf_bits32(rf_float32((uint32_t)a) + 0.5f) - 0x3f000000;
    /* normal: rebias and round to nearest even (a carry into the exponent overflows to inf
       from 65520 on, as it should) */
    int32_t norm = ((a - ((127 - 15) << 23)) + 0xfff + ((a >> 13) & 1)) >> 13;
    /* inf, or NaN made quiet with its top payload bits */
    int32_t big = 0x7c00 | (is_nan & (0x200 | ((a >> 13) & 0x3ff)));
    int32_t r = (sub & is_sub) | (big & is_big) | (norm & ~(is_sub | is_big));
    return (uint16_t)(r | sign);
}

/* The same float16 conversions in SSE2 vectors, 8 elements at a time, for the baseline
   (gcc's vectorisation of the scalar code narrows 32 to 16 bits slowly: the store took
   twice as long in a C harness).  Subnormal float16: exponent 113 added, then 2^-14
   subtracted in float32 (exact, and no subnormal operand, which Intel cores microcode). */
#if defined(__SSE2__) && !defined(__F16C__) && !defined(__AVX512F__)
#define RF_F16_SSE2 1
static inline __m128 rf_f16x4_to_f32(__m128i h) {       /* 4 halves in the low 16 bits */
    const __m128i expm = _mm_set1_epi32(0x0f800000);
    __m128i em = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
    __m128i sign = _mm_slli_epi32(_mm_xor_si128(h, em), 16);
    __m128i o = _mm_slli_epi32(em, 13);
    __m128i e = _mm_and_si128(o, expm);
    __m128i inf = _mm_cmpeq_epi32(e, expm), nan = _mm_cmpgt_epi32(em, _mm_set1_epi32(0x7c00));
    __m128i sub = _mm_cmpeq_epi32(e, _mm_setzero_si128());
    __m128 s;
    o = _mm_add_epi32(o, _mm_set1_epi32((127 - 15) << 23));
    o = _mm_add_epi32(o, _mm_and_si128(inf, _mm_set1_epi32((128 - 16) << 23)));
    o = _mm_or_si128(o, _mm_and_si128(nan, _mm_set1_epi32(0x400000)));
    s = _mm_sub_ps(_mm_castsi128_ps(_mm_add_epi32(o, _mm_set1_epi32(1 << 23))),
                   _mm_castsi128_ps(_mm_set1_epi32(113 << 23)));
    o = _mm_or_si128(_mm_and_si128(sub, _mm_castps_si128(s)), _mm_andnot_si128(sub, o));
    return _mm_castsi128_ps(_mm_or_si128(o, sign));
}
static inline __m128i rf_f32x4_to_f16(__m128 f) {       /* rf_f32_to_f16_sw's steps */
    __m128i x = _mm_castps_si128(f);
    __m128i sign = _mm_and_si128(_mm_srai_epi32(x, 16), _mm_set1_epi32(0x8000));
    __m128i a = _mm_and_si128(x, _mm_set1_epi32(0x7fffffff));
    __m128i is_sub = _mm_cmplt_epi32(a, _mm_set1_epi32(0x38800000));
    __m128i is_big = _mm_cmpgt_epi32(a, _mm_set1_epi32(0x477fffff));
    __m128i is_nan = _mm_cmpgt_epi32(a, _mm_set1_epi32(0x7f800000));
    __m128i m13 = _mm_srli_epi32(a, 13);
    __m128i sub = _mm_sub_epi32(_mm_castps_si128(_mm_add_ps(_mm_castsi128_ps(a), _mm_set1_ps(0.5f))),
                                _mm_set1_epi32(0x3f000000));
    __m128i norm = _mm_srli_epi32(_mm_add_epi32(_mm_add_epi32(a, _mm_set1_epi32(0xfff - ((127 - 15) << 23))),
                                                _mm_and_si128(m13, _mm_set1_epi32(1))), 13);
    __m128i big = _mm_or_si128(_mm_set1_epi32(0x7c00),
                               _mm_and_si128(is_nan, _mm_or_si128(_mm_set1_epi32(0x200),
                                                                  _mm_and_si128(m13, _mm_set1_epi32(0x3ff)))));
    __m128i r = _mm_or_si128(_mm_or_si128(_mm_and_si128(sub, is_sub), _mm_and_si128(big, is_big)),
                             _mm_andnot_si128(_mm_or_si128(is_sub, is_big), norm));
    r = _mm_or_si128(r, sign);
    return _mm_srai_epi32(_mm_slli_epi32(r, 16), 16);  /* sign-extended: packs_epi32 keeps it */
}
static inline void rf_f16x8_load(const uint16_t* s, float* d) {
    __m128i h = _mm_loadu_si128((const __m128i*)s), z = _mm_setzero_si128();
    _mm_storeu_ps(d, rf_f16x4_to_f32(_mm_unpacklo_epi16(h, z)));
    _mm_storeu_ps(d + 4, rf_f16x4_to_f32(_mm_unpackhi_epi16(h, z)));
}
static inline void rf_f16x8_store(const float* s, uint16_t* d) {
    _mm_storeu_si128((__m128i*)d, _mm_packs_epi32(rf_f32x4_to_f16(_mm_loadu_ps(s)),
                                                  rf_f32x4_to_f16(_mm_loadu_ps(s + 4))));
}
#else
#define RF_F16_SSE2 0
#endif

/* ---- bfloat16 ---- */
static inline float rf_bf16_to_f32(uint16_t h) {
    int32_t u = (int32_t)h << 16;
    int32_t is_nan = -(int32_t)((h & 0x7fff) > 0x7f80);
    return rf_float32((uint32_t)(u | (is_nan & 0x400000)));
}

static inline uint16_t rf_f32_to_bf16(float f) {
    uint32_t x = rf_bits32(f);
    int32_t is_nan = -(int32_t)((int32_t)(x & 0x7fffffffu) > 0x7f800000);
    int32_t rounded = (int32_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
    int32_t quiet = (int32_t)(x >> 16) | 0x40;
    return (uint16_t)((quiet & is_nan) | (rounded & ~is_nan));
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
#elif RF_F16_SSE2
    for (; i + 8 <= n; i += 8) rf_f16x8_load(src + i, dst + i);
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
#elif RF_F16_SSE2
    for (; i + 8 <= n; i += 8) rf_f16x8_store(src + i, dst + i);
#endif
#if defined(__aarch64__)
    { __fp16* d = (__fp16*)dst; for (; i < n; i++) d[i] = (__fp16)src[i]; }
#else
    for (; i < n; i++) dst[i] = rf_f32_to_f16_sw(src[i]);
#endif
}

/* bfloat16 in AVX2 integer vectors where there are (the same steps as the scalar code:
   gcc's own vectorisation of the scalar loops widens and narrows slowly) */
static inline void relu_fast_bf16_load(const uint16_t* src, float* dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
#if defined(__AVX2__)
    const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i quiet = _mm256_set1_epi32(0x400000);
    for (; i + 8 <= n; i += 8) {
        __m256i u = _mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(src + i))), 16);
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs), inf);
        _mm256_storeu_si256((__m256i*)(dst + i),
                            _mm256_or_si256(u, _mm256_and_si256(nan, quiet)));
    }
#endif
    for (; i < n; i++) dst[i] = rf_bf16_to_f32(src[i]);
}

static inline void relu_fast_bf16_store(const float* src, uint16_t* dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
#if defined(__AVX2__)
    const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i half = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    const __m256i qbit = _mm256_set1_epi32(0x40);
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_loadu_si256((const __m256i*)(src + i));
        __m256i hi = _mm256_srli_epi32(x, 16);
        __m256i rounded = _mm256_srli_epi32(
            _mm256_add_epi32(_mm256_add_epi32(x, half), _mm256_and_si256(hi, one)), 16);
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs), inf);
        __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(hi, qbit), nan);
        /* 8 x 32 -> 8 x 16 bits: pack within the 128-bit lanes, then the lanes together */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i*)(dst + i), _mm256_castsi256_si128(p));
    }
#endif
    for (; i < n; i++) dst[i] = rf_f32_to_bf16(src[i]);
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

/* ---- in registers: a function of float32 lanes between 16-bit loads and stores ----
   The piecewise-linear functions are memory-bound, so a 16-bit call must not pay three
   passes over an L1 buffer (convert, compute, convert back): these drivers convert W
   lanes, apply the element function f (the kernels' own, passed as a constant pointer:
   after inlining, gcc computes it in the same registers) and store, in one pass.  `bf`
   picks bfloat16 (else float16); both are constants where the kernels call these, so
   each call site compiles to one loop.  The head up to the output's next 64-byte line,
   and the tail, go through a zero-padded W-lane block: the same lanes, the same bits. */
#if defined(__GNUC__) || defined(__clang__)
#define RF_H_INLINE static inline __attribute__((always_inline))
/* the W lanes' loop kept a loop: unrolled first, gcc 12 would not vectorise the
   if-converted lanes (its straight-line SLP judges them unprofitable) */
#define RF_H_LANES _Pragma("GCC unroll 1")
#elif defined(_MSC_VER)
#define RF_H_INLINE static __forceinline
#else
#define RF_H_INLINE static inline
#endif
#ifndef RF_H_LANES
#define RF_H_LANES
#endif

typedef float (*relu_fast_h16_un)(float v, float a, float b);
typedef float (*relu_fast_h16_bin)(float g, float v, float a, float b);

#if defined(__AVX512F__)
#define RF_HW 16
/* bfloat16 NaNs are made quiet by the store alone (the same bits: arithmetic on a
   signalling NaN gives it quiet, with the same payload, and selects pass it on); quieted
   on the load too, the streamed loop ran 2x slower on the Intel Xeon (a C harness). */
RF_H_INLINE void rf_h_load_w(int bf, const uint16_t* s, float* a) {
    __m256i h = _mm256_loadu_si256((const __m256i*)s);
    if (bf)
        _mm512_storeu_ps(a, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
    else
        _mm512_storeu_ps(a, _mm512_cvtph_ps(h));
}
RF_H_INLINE void rf_h_store_w(int bf, const float* a, uint16_t* d, int nt) {
    __m256i h;
    if (bf) {
        __m512i x = _mm512_castps_si512(_mm512_loadu_ps(a));
        __m512i hi = _mm512_srli_epi32(x, 16);
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)),
                                                       _mm512_and_si512(hi, _mm512_set1_epi32(1))), 16);
        __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
        r = _mm512_mask_or_epi32(r, nan, hi, _mm512_set1_epi32(0x40));
        h = _mm512_cvtepi32_epi16(r);
    } else {
        h = _mm512_cvtps_ph(_mm512_loadu_ps(a), _MM_FROUND_TO_NEAREST_INT);
    }
    if (nt) _mm256_stream_si256((__m256i*)d, h); else _mm256_storeu_si256((__m256i*)d, h);
}
#define RF_H_STREAM_ALIGN 32
#elif defined(__AVX2__) && defined(__F16C__)
#define RF_HW 8
RF_H_INLINE void rf_h_load_w(int bf, const uint16_t* s, float* a) {
    __m128i h = _mm_loadu_si128((const __m128i*)s);
    if (bf)     /* NaNs made quiet by the store alone, as the AVX-512 path */
        _mm256_storeu_ps(a, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
    else
        _mm256_storeu_ps(a, _mm256_cvtph_ps(h));
}
RF_H_INLINE void rf_h_store_w(int bf, const float* a, uint16_t* d, int nt) {
    __m128i h;
    if (bf) {
        uint16_t t[8];
        relu_fast_bf16_store(a, t, 8);
        h = _mm_loadu_si128((const __m128i*)t);
    } else {
        h = _mm256_cvtps_ph(_mm256_loadu_ps(a), _MM_FROUND_TO_NEAREST_INT);
    }
    if (nt) _mm_stream_si128((__m128i*)d, h); else _mm_storeu_si128((__m128i*)d, h);
}
#define RF_H_STREAM_ALIGN 16
#else
/* portable: the scalar conversions over 16 lanes, in loops the compiler vectorises */
#define RF_HW 16
RF_H_INLINE void rf_h_load_w(int bf, const uint16_t* s, float* a) {
    int j;
    if (bf) {
        RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = rf_float32((uint32_t)s[j] << 16);
    } else {
#if defined(__aarch64__)
        const __fp16* h = (const __fp16*)s;
        RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = (float)h[j];
#elif RF_F16_SSE2
        for (j = 0; j < RF_HW; j += 8) rf_f16x8_load(s + j, a + j);
#else
        RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = rf_f16_to_f32_sw(s[j]);
#endif
    }
}
RF_H_INLINE void rf_h_store_w(int bf, const float* a, uint16_t* d, int nt) {
    int j;
    (void)nt;
    if (bf) {
#if defined(__SSE2__)
        if (nt) {       /* streamed: through a block, as two 16-byte streaming stores */
            uint16_t t[RF_HW];
            RF_H_LANES for (j = 0; j < RF_HW; j++) t[j] = rf_f32_to_bf16(a[j]);
            _mm_stream_si128((__m128i*)d, _mm_loadu_si128((const __m128i*)t));
            _mm_stream_si128((__m128i*)(d + 8), _mm_loadu_si128((const __m128i*)(t + 8)));
            return;
        }
#endif
        RF_H_LANES for (j = 0; j < RF_HW; j++) d[j] = rf_f32_to_bf16(a[j]);
    } else {
#if defined(__aarch64__)
        __fp16* h = (__fp16*)d;
        RF_H_LANES for (j = 0; j < RF_HW; j++) h[j] = (__fp16)a[j];
#elif RF_F16_SSE2
        for (j = 0; j < RF_HW; j += 8) rf_f16x8_store(a + j, d + j);
#else
        RF_H_LANES for (j = 0; j < RF_HW; j++) d[j] = rf_f32_to_f16_sw(a[j]);
#endif
    }
}
#if defined(__SSE2__)
#define RF_H_STREAM_ALIGN 16   /* bfloat16 only: float16 takes the L1 blocks here */
#else
#define RF_H_STREAM_ALIGN 0
#endif
#endif

/* Streamed, a line of output (RF_HL elements) at a time, its inputs' lines fetched
   RF_H_AHEAD elements ahead by software: with streaming stores the hardware prefetcher
   fell behind whenever the loop had more than a few instructions per vector (on the
   Intel Xeon bfloat16's hardtanh streamed ran 3x slower than with ordinary stores,
   and prefetched 3.6x faster, in a C harness). */
#define RF_HL 32
#define RF_H_AHEAD 1024
#if defined(__GNUC__) || defined(__clang__)
#define RF_H_PREFETCH(p) __builtin_prefetch((const void*)(p))
#else
#define RF_H_PREFETCH(p) ((void)0)
#endif

/* elements before y + head starts a 64-byte line (all of n if fewer) */
RF_H_INLINE ptrdiff_t rf_h_head(const uint16_t* y, ptrdiff_t n) {
    ptrdiff_t h = (ptrdiff_t)(((0 - (uintptr_t)y) & 63) / 2);
    return h < n ? h : n;
}

/* w: NULL (the parameter pa for every element), or a parameter per element (PReLU's
   row of channel weights, w[i] for x[i]; a constant NULL or not where inlined) */
RF_H_INLINE void rf_h16_unary_t(relu_fast_h16_un f, int bf, const uint16_t* x, const float* w,
                                uint16_t* y, ptrdiff_t n, float pa, float pb, int stream) {
    float a[RF_HW], l[RF_HL], wt[RF_HW];
    uint16_t t[RF_HW];
    ptrdiff_t i = 0, k, j, end = rf_h_head(y, n);
    int nt = stream && (RF_H_STREAM_ALIGN != 0) && ((uintptr_t)y & 1) == 0;
    for (;;) {
        for (; i < end; i += k) {               /* head, then tail: through a padded block */
            k = end - i < RF_HW ? end - i : RF_HW;
            memset(t, 0, sizeof t);
            memcpy(t, x + i, (size_t)k * 2);
            rf_h_load_w(bf, t, a);
            if (w) {
                memset(wt, 0, sizeof wt);
                memcpy(wt, w + i, (size_t)k * 4);
                RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], wt[j], pb);
            } else {
                RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], pa, pb);
            }
            rf_h_store_w(bf, a, t, 0);
            memcpy(y + i, t, (size_t)k * 2);
        }
        if (end == n) break;
        if (nt) {
            for (; i + RF_HL <= n; i += RF_HL) {
                RF_H_PREFETCH(x + i + RF_H_AHEAD);
                for (j = 0; j < RF_HL; j += RF_HW) rf_h_load_w(bf, x + i + j, l + j);
                if (w) {
                    RF_H_LANES for (j = 0; j < RF_HL; j++) l[j] = f(l[j], w[i + j], pb);
                } else {
                    RF_H_LANES for (j = 0; j < RF_HL; j++) l[j] = f(l[j], pa, pb);
                }
                for (j = 0; j < RF_HL; j += RF_HW) rf_h_store_w(bf, l + j, y + i + j, 1);
            }
        } else {
            for (; i + RF_HW <= n; i += RF_HW) {
                rf_h_load_w(bf, x + i, a);
                if (w) {
                    RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], w[i + j], pb);
                } else {
                    RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], pa, pb);
                }
                rf_h_store_w(bf, a, y + i, 0);
            }
        }
        end = n;
    }
#if defined(__SSE2__) || defined(_M_X64)
    if (nt) _mm_sfence();
#endif
}

RF_H_INLINE void rf_h16_binary_t(relu_fast_h16_bin f, int bf, const uint16_t* g, const uint16_t* x,
                                 uint16_t* y, ptrdiff_t n, float pa, float pb, int stream) {
    float a[RF_HW], b[RF_HW], l[RF_HL], m[RF_HL];
    uint16_t t[RF_HW], u[RF_HW];
    ptrdiff_t i = 0, k, j, end = rf_h_head(y, n);
    int nt = stream && (RF_H_STREAM_ALIGN != 0) && ((uintptr_t)y & 1) == 0;
    for (;;) {
        for (; i < end; i += k) {
            k = end - i < RF_HW ? end - i : RF_HW;
            memset(t, 0, sizeof t);
            memset(u, 0, sizeof u);
            memcpy(t, g + i, (size_t)k * 2);
            memcpy(u, x + i, (size_t)k * 2);
            rf_h_load_w(bf, t, a);
            rf_h_load_w(bf, u, b);
            RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], b[j], pa, pb);
            rf_h_store_w(bf, a, t, 0);
            memcpy(y + i, t, (size_t)k * 2);
        }
        if (end == n) break;
        if (nt) {
            for (; i + RF_HL <= n; i += RF_HL) {
                RF_H_PREFETCH(g + i + RF_H_AHEAD);
                RF_H_PREFETCH(x + i + RF_H_AHEAD);
                for (j = 0; j < RF_HL; j += RF_HW) {
                    rf_h_load_w(bf, g + i + j, l + j);
                    rf_h_load_w(bf, x + i + j, m + j);
                }
                RF_H_LANES for (j = 0; j < RF_HL; j++) l[j] = f(l[j], m[j], pa, pb);
                for (j = 0; j < RF_HL; j += RF_HW) rf_h_store_w(bf, l + j, y + i + j, 1);
            }
        } else {
            for (; i + RF_HW <= n; i += RF_HW) {
                rf_h_load_w(bf, g + i, a);
                rf_h_load_w(bf, x + i, b);
                RF_H_LANES for (j = 0; j < RF_HW; j++) a[j] = f(a[j], b[j], pa, pb);
                rf_h_store_w(bf, a, y + i, 0);
            }
        }
        end = n;
    }
#if defined(__SSE2__) || defined(_M_X64)
    if (nt) _mm_sfence();
#endif
}

/* the kernels' entry points: one loop per type (bf a constant inside) */
RF_H_INLINE void relu_fast_h16_unary(relu_fast_h16_un f, int bf, const uint16_t* x, uint16_t* y,
                                     ptrdiff_t n, float pa, float pb, int stream) {
    if (bf) rf_h16_unary_t(f, 1, x, NULL, y, n, pa, pb, stream);
    else rf_h16_unary_t(f, 0, x, NULL, y, n, pa, pb, stream);
}
RF_H_INLINE void relu_fast_h16_binary(relu_fast_h16_bin f, int bf, const uint16_t* g, const uint16_t* x,
                                      uint16_t* y, ptrdiff_t n, float pa, float pb, int stream) {
    if (bf) rf_h16_binary_t(f, 1, g, x, y, n, pa, pb, stream);
    else rf_h16_binary_t(f, 0, g, x, y, n, pa, pb, stream);
}

/* One element function in registers, by the call's dtype code (the kernels' DT_*: 0
   float32, 1 float64, 2 float16, 3 bfloat16): 16-bit converted (streamed or not), float32
   and float64 streamed (0: no streaming stores here; the caller streams through its
   buffer).  Always inlined, so that ff and fd stay constants down to the loops: called
   through a pointer, a 16-bit gradient ran 5x slower. */
RF_H_INLINE int relu_fast_run_un(relu_fast_h16_un ff, relu_fast_un_f64 fd, int dt, const void* x, void* y,
                                 ptrdiff_t n, double a, double b, int stream) {
    if (dt == 2 || dt == 3) {
        relu_fast_h16_unary(ff, dt == 3, (const uint16_t*)x, (uint16_t*)y, n, (float)a, (float)b, stream);
        return 1;
    }
    if (dt == 0) return relu_fast_unary_stream_f32(ff, (const float*)x, (float*)y, (size_t)n, (float)a, (float)b);
    return relu_fast_unary_stream_f64(fd, (const double*)x, (double*)y, (size_t)n, a, b);
}
RF_H_INLINE int relu_fast_run_bin(relu_fast_h16_bin ff, relu_fast_bin_f64 fd, int dt, const void* g,
                                  const void* x, void* y, ptrdiff_t n, double a, double b, int stream) {
    if (dt == 2 || dt == 3) {
        relu_fast_h16_binary(ff, dt == 3, (const uint16_t*)g, (const uint16_t*)x, (uint16_t*)y, n,
                             (float)a, (float)b, stream);
        return 1;
    }
    if (dt == 0)
        return relu_fast_binary_stream_f32(ff, (const float*)g, (const float*)x, (float*)y, (size_t)n,
                                           (float)a, (float)b);
    return relu_fast_binary_stream_f64(fd, (const double*)g, (const double*)x, (double*)y, (size_t)n, a, b);
}

/* ---- PReLU's leaves in registers (w: float32 weights) ---- */
/* a row of channels: y[c] = f(x[c], w[c]) */
RF_H_INLINE void relu_fast_h16_prelu_row(relu_fast_h16_un f, int bf, const uint16_t* x, const float* w,
                                         uint16_t* y, ptrdiff_t n) {
    if (bf) rf_h16_unary_t(f, 1, x, w, y, n, 0, 0, 0);
    else rf_h16_unary_t(f, 0, x, w, y, n, 0, 0, 0);
}

/* the gradient's terms, x > 0 ? 0 : x g in float64, and gx = x > 0 ? g : a g, over RF_HS
   lanes (one constant width on every level: the sums' order must not follow it) */
#define RF_HS 16
RF_H_INLINE void rf_h_prelu_bwd_lanes(int bf, const uint16_t* g, const uint16_t* x, int pw,
                                      const float* w, float a, uint16_t* gx, double* p) {
    float gf[RF_HS], xf[RF_HS];
    int j;
    for (j = 0; j < RF_HS; j += RF_HW) {
        rf_h_load_w(bf, g + j, gf + j);
        rf_h_load_w(bf, x + j, xf + j);
    }
    RF_H_LANES for (j = 0; j < RF_HS; j++) {
        float v = xf[j], gv = gf[j];
        double q = (double)v * (double)gv;
        p[j] = v > 0 ? 0.0 : q;
        gf[j] = v > 0 ? gv : (pw ? w[j] : a) * gv;
    }
    for (j = 0; j < RF_HS; j += RF_HW) rf_h_store_w(bf, gf + j, gx + j, 0);
}

/* the tail (k < RF_HS elements) through zero-padded blocks: padded terms are +0.0 */
RF_H_INLINE void rf_h_prelu_bwd_tail(int bf, const uint16_t* g, const uint16_t* x, int pw,
                                     const float* w, float a, uint16_t* gx, double* p, ptrdiff_t k) {
    uint16_t t[RF_HS], u[RF_HS], o[RF_HS];
    float wt[RF_HS];
    memset(t, 0, sizeof t);
    memset(u, 0, sizeof u);
    memcpy(t, g, (size_t)k * 2);
    memcpy(u, x, (size_t)k * 2);
    memset(wt, 0, sizeof wt);
    if (pw) memcpy(wt, w, (size_t)k * 4);
    rf_h_prelu_bwd_lanes(bf, t, u, pw, wt, a, o, p);
    memcpy(gx, o, (size_t)k * 2);
}

/* One channel's run: gx, and the sum of the terms, element i into lane i % RF_HS, the
   lanes then added in a fixed tree: an order that depends on n only. */
RF_H_INLINE double rf_h16_prelu_bwd_run_t(int bf, const uint16_t* g, const uint16_t* x, uint16_t* gx,
                                          ptrdiff_t n, float a) {
    double s[RF_HS], p[RF_HS];
    ptrdiff_t i = 0;
    int j;
    for (j = 0; j < RF_HS; j++) s[j] = 0.0;
    for (; i + RF_HS <= n; i += RF_HS) {
        rf_h_prelu_bwd_lanes(bf, g + i, x + i, 0, NULL, a, gx + i, p);
        RF_H_LANES for (j = 0; j < RF_HS; j++) s[j] += p[j];
    }
    if (i < n) {
        rf_h_prelu_bwd_tail(bf, g + i, x + i, 0, NULL, a, gx + i, p, n - i);
        RF_H_LANES for (j = 0; j < RF_HS; j++) s[j] += p[j];
    }
    for (j = 0; j < 8; j++) s[j] += s[j + 8];           /* 16 -> 8 -> 4 -> 2 -> 1 */
    for (j = 0; j < 4; j++) s[j] += s[j + 4];
    return (s[0] + s[2]) + (s[1] + s[3]);
}

/* a row of channels: gx, and acc[c] += the term of channel c */
RF_H_INLINE void rf_h16_prelu_bwd_row_t(int bf, const uint16_t* g, const uint16_t* x, const float* w,
                                        uint16_t* gx, double* acc, ptrdiff_t n) {
    double p[RF_HS];
    ptrdiff_t i = 0;
    int j;
    for (; i + RF_HS <= n; i += RF_HS) {
        rf_h_prelu_bwd_lanes(bf, g + i, x + i, 1, w + i, 0, gx + i, p);
        RF_H_LANES for (j = 0; j < RF_HS; j++) acc[i + j] += p[j];
    }
    if (i < n) {
        rf_h_prelu_bwd_tail(bf, g + i, x + i, 1, w + i, 0, gx + i, p, n - i);
        for (j = 0; j < n - i; j++) acc[i + j] += p[j];
    }
}

RF_H_INLINE double relu_fast_h16_prelu_bwd_run(int bf, const uint16_t* g, const uint16_t* x, uint16_t* gx,
                                               ptrdiff_t n, float a) {
    return bf ? rf_h16_prelu_bwd_run_t(1, g, x, gx, n, a) : rf_h16_prelu_bwd_run_t(0, g, x, gx, n, a);
}
RF_H_INLINE void relu_fast_h16_prelu_bwd_row(int bf, const uint16_t* g, const uint16_t* x, const float* w,
                                             uint16_t* gx, double* acc, ptrdiff_t n) {
    if (bf) rf_h16_prelu_bwd_row_t(1, g, x, w, gx, acc, n);
    else rf_h16_prelu_bwd_row_t(0, g, x, w, gx, acc, n);
}

/* Whether float16 takes the register path here: not with the portable conversion, whose
   16-lane loops were slower than its 512-element blocks (SSE2; bfloat16 gains either way) */
#if defined(__F16C__) || defined(__AVX512F__) || defined(__aarch64__)
#define RELU_FAST_F16_REGS 1
#else
#define RELU_FAST_F16_REGS 0
#endif

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
