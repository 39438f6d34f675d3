/* Streaming (non-temporal) stores for the kernels; x86 only, plain stores elsewhere. */
#ifndef RELU_FAST_STREAM_H
#define RELU_FAST_STREAM_H

/* Copy with non-temporal (streaming) stores: the destination lines are written
   without first being read, and do not evict the working set.  x86 only; a
   plain memcpy elsewhere. */
#if defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>
static inline void relu_fast_stream_copy(void* dst, const void* src, size_t nbytes) {
    char* d = (char*)dst;
    const char* s = (const char*)src;
#if defined(__AVX512F__)
    const size_t W = 64;
#elif defined(__AVX__)
    const size_t W = 32;
#elif defined(__SSE2__) || defined(_M_X64)
    const size_t W = 16;
#else
    const size_t W = 0;
#endif
    if (W) {
        size_t head = (W - ((uintptr_t)d & (W - 1))) & (W - 1);
        if (head > nbytes) head = nbytes;
        memcpy(d, s, head);
        d += head; s += head; nbytes -= head;
        for (; nbytes >= W; nbytes -= W, d += W, s += W) {
#if defined(__AVX512F__)
            _mm512_stream_si512((__m512i*)d, _mm512_loadu_si512((const void*)s));
#elif defined(__AVX__)
            _mm256_stream_si256((__m256i*)d, _mm256_loadu_si256((const __m256i*)s));
#elif defined(__SSE2__) || defined(_M_X64)
            _mm_stream_si128((__m128i*)d, _mm_loadu_si128((const __m128i*)s));
#endif
        }
    }
    memcpy(d, s, nbytes);
}
static inline void relu_fast_store_fence(void) {
#if defined(__SSE2__) || defined(_M_X64)
    _mm_sfence();
#endif
}

/* relu, leaky_relu, relu_backward and leaky_relu_backward with streaming stores
   straight from the registers.  (Through an L1 buffer their loads could stall
   behind the buffer's stores whenever an input and the buffer sat at nearly the
   same offset in a 4 KiB page -- 4K aliasing -- depending on where the stack and the
   arrays happened to lie.)  Each vector expression is the
   scalar one of the span: max(0, x) in this operand order keeps NaN and -0 as
   relu_span does; GT is x > 0 (false for NaN), NLE is !(x <= 0) (true for NaN).
   Each returns 0 (nothing done) where there is no such instruction or y is not
   element-aligned; the caller then streams through its buffer. */
#define RELU_FAST_STREAM_OPS(SUF, T, W, VT, LOAD, STREAM, SET1, MUL, MAX, ZERO, SEL_GT, SEL_NLE) \
static inline int relu_fast_relu_stream_##SUF(const T* x, T* y, size_t n) {              \
    size_t i = 0;                                                                        \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] < 0 ? 0 : x[i];                                                      \
    for (; i + W <= n; i += W)                                                           \
        STREAM(y + i, MAX(ZERO(), LOAD(x + i)));                                         \
    for (; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];                                       \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_leaky_stream_##SUF(const T* x, T* y, size_t n, T s) {        \
    size_t i = 0;                                                                        \
    VT sv = SET1(s);                                                                     \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] > 0 ? x[i] : s * x[i];                                               \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i);                                                             \
        STREAM(y + i, SEL_GT(xv, xv, MUL(sv, xv)));                                      \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] > 0 ? x[i] : s * x[i];                                \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_relu_bwd_stream_##SUF(const T* g, const T* x, T* y, size_t n) { \
    size_t i = 0;                                                                        \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] <= 0 ? 0 : g[i];                                                     \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i), gv = LOAD(g + i);                                           \
        STREAM(y + i, SEL_NLE(xv, gv, ZERO()));                                          \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] <= 0 ? 0 : g[i];                                      \
    return 1;                                                                            \
}                                                                                        \
static inline int relu_fast_leaky_bwd_stream_##SUF(const T* g, const T* x, T* y, size_t n, T s) { \
    size_t i = 0;                                                                        \
    VT sv = SET1(s);                                                                     \
    if ((uintptr_t)y % sizeof(T)) return 0;                                              \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++)                         \
        y[i] = x[i] > 0 ? g[i] : s * g[i];                                               \
    for (; i + W <= n; i += W) {                                                         \
        VT xv = LOAD(x + i), gv = LOAD(g + i);                                           \
        STREAM(y + i, SEL_GT(xv, gv, MUL(sv, gv)));                                      \
    }                                                                                    \
    for (; i < n; i++) y[i] = x[i] > 0 ? g[i] : s * g[i];                                \
    return 1;                                                                            \
}

/* The same four with a bias added first: z = x + b, rounded to T as the span's
   x + b is, then the span's expression at z.  C 0: b[0] for all n (a run of one
   channel); else rows of C channels, element i of channel (c0 + i) % C, with b holding
   C + W values (b[k] = bias[k % C]) so that a vector at any channel reads b whole, and
   C >= W.  Reading x and writing y straight from the registers, no buffer between
   them: through one, the loads of x stalled behind its stores (4K aliasing) and the
   call's speed depended on where the arrays lay; rows as one stream, not a piece
   per row: every row's edges cost scalar stores into half-streamed lines.  KIND
   stream: streaming stores; store: ordinary ones (outputs that stay in cache). */
/* inner > 0: runs of `inner` elements per channel instead (channels first; inner >= W),
   element i in channel (c0 + (pos0 + i) / inner) % C, b the C values: as one stream,
   a vector across two runs taking its lanes from k on from the next channel (HI), so
   that only the stream's own ends cost scalar stores, not every run's. */
#define RF_NEXT_CHANNEL if (inner) { if (++pos == inner) { pos = 0; if (++c == C) c = 0; } } \
                        else if (C && ++c == C) c = 0;
#define RF_RUN_BIAS(T, W, VT, SET1, HI)                                                  \
    VT bi;                                                                               \
    if (pos + W <= inner) {                                                              \
        bi = SET1(b[c]); pos += W;                                                       \
        if (pos == inner) { pos = 0; if (++c == C) c = 0; }                              \
    } else {                                                                             \
        size_t kk = inner - pos, cn = c + 1 == C ? 0 : c + 1;                            \
        bi = HI(SET1(b[c]), SET1(b[cn]), kk); c = cn; pos = W - kk;                      \
    }
#define RF_BIAS_LOOP(T, W, VT, LOAD, SET1, HI, SCALAR, VECTOR)                          \
    size_t i = 0, c = C ? c0 : 0, pos = pos0;                                            \
    VT bv = SET1(b[0]);                                                                  \
    if ((uintptr_t)y % sizeof(T) || (inner && inner < W)) return 0;                      \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++) {                       \
        T bs = b[c]; SCALAR RF_NEXT_CHANNEL }                                            \
    if (inner) { for (; i + W <= n; i += W) { RF_RUN_BIAS(T, W, VT, SET1, HI) VECTOR } } \
    else if (C) { for (; i + W <= n; i += W) {                                           \
        VT bi = LOAD(b + c); VECTOR c += W; if (c >= C) c -= C; } }                      \
    else { for (; i + W <= n; i += W) { VT bi = bv; VECTOR } }                           \
    for (; i < n; i++) { T bs = b[c]; SCALAR RF_NEXT_CHANNEL }                           \
    return 1;
#define RELU_FAST_BIAS_OPS(KIND, SUF, T, W, VT, LOAD, STREAM, SET1, ADD, MUL, MAX, ZERO, SEL_GT, SEL_NLE, HI) \
static inline int relu_fast_relu_bias_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n) { \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1, HI,                                                   \
        T z = x[i] + bs; y[i] = z < 0 ? 0 : z;,                              \
        STREAM(y + i, MAX(ZERO(), ADD(LOAD(x + i), bi)));)                               \
}                                                                                        \
static inline int relu_fast_leaky_bias_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n, \
                                                   T s) {                                \
    VT sv = SET1(s);                                                                     \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1, HI,                                                   \
        T z = x[i] + bs; y[i] = z > 0 ? z : s * z;,                          \
        VT zv = ADD(LOAD(x + i), bi); STREAM(y + i, SEL_GT(zv, zv, MUL(sv, zv)));)       \
}                                                                                        \
static inline int relu_fast_relu_bwd_bias_##KIND##_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, \
                                                      T* y, size_t n) {                  \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1, HI,                                                   \
        T z = x[i] + bs; y[i] = z <= 0 ? 0 : g[i];,                                       \
        VT zv = ADD(LOAD(x + i), bi); STREAM(y + i, SEL_NLE(zv, LOAD(g + i), ZERO()));)  \
}                                                                                        \
static inline int relu_fast_leaky_bwd_bias_##KIND##_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, \
                                                       T* y, size_t n, T s) {            \
    VT sv = SET1(s);                                                                     \
    RF_BIAS_LOOP(T, W, VT, LOAD, SET1, HI,                                                   \
        T z = x[i] + bs; y[i] = z > 0 ? g[i] : s * g[i];,                                 \
        VT zv = ADD(LOAD(x + i), bi); VT gv = LOAD(g + i);                               \
        STREAM(y + i, SEL_GT(zv, gv, MUL(sv, gv)));)                                     \
}
/* relu (or leaky_relu) and its 1-bit mask in one pass: y = max(0, z) and bit =
   !(z <= 0) (relu_backward passes the gradient there, NaN included); leaky: y = z > 0 ?
   z : s z and bit = z > 0 (the caller keeps slope 1, whose bits are all 1, on the
   generic path); z = x + b (b NULL: z = x, no add, so -0 stays -0), b as in the bias
   ops above.  The bits go out through rf_bits, which carries a partial byte from one
   call to the next (a run of one channel may end mid-byte): bit i of the stream is bit
   i % 8 of byte i / 8; rf_bits_flush writes the last partial byte, its unused bits 0.
   VB(zv) is the vector's test as an integer, lane j in bit j. */
typedef struct { uint8_t* m; uint32_t acc; int nb; } rf_bits;
static inline void rf_bits_put(rf_bits* st, uint32_t bits, int w) {
    st->acc |= bits << st->nb;
    st->nb += w;
    while (st->nb >= 8) { *st->m++ = (uint8_t)st->acc; st->acc >>= 8; st->nb -= 8; }
}
static inline void relu_fast_bits_flush(rf_bits* st) {
    if (st->nb > 0) *st->m++ = (uint8_t)st->acc;
    st->acc = 0; st->nb = 0;
}
#define RF_MASK_LOOP(T, W, VT, LOAD, STREAM, SET1, ADD, ZERO, HI, SY, SB, VY, VB)           \
    size_t i = 0, c = C ? c0 : 0, pos = pos0;                                              \
    VT bv = b ? SET1(b[0]) : ZERO();                                                       \
    if ((uintptr_t)y % sizeof(T) || (inner && inner < W)) return 0;                        \
    for (; i < n && ((uintptr_t)(y + i) % (W * sizeof(T))); i++) {                         \
        T z = b ? x[i] + b[c] : x[i]; y[i] = SY; rf_bits_put(st, SB, 1);                   \
        RF_NEXT_CHANNEL }                                                                  \
    if (!b) { for (; i + W <= n; i += W) {                                                 \
        VT zv = LOAD(x + i); STREAM(y + i, VY); rf_bits_put(st, VB, W); } }                \
    else if (inner) { for (; i + W <= n; i += W) {                                         \
        RF_RUN_BIAS(T, W, VT, SET1, HI)                                                    \
        VT zv = ADD(LOAD(x + i), bi); STREAM(y + i, VY); rf_bits_put(st, VB, W); } }       \
    else if (C) { for (; i + W <= n; i += W) {                                             \
        VT zv = ADD(LOAD(x + i), LOAD(b + c)); STREAM(y + i, VY);                          \
        rf_bits_put(st, VB, W); c += W; if (c >= C) c -= C; } }                            \
    else { for (; i + W <= n; i += W) {                                                    \
        VT zv = ADD(LOAD(x + i), bv); STREAM(y + i, VY); rf_bits_put(st, VB, W); } }       \
    for (; i < n; i++) {                                                                   \
        T z = b ? x[i] + b[c] : x[i]; y[i] = SY; rf_bits_put(st, SB, 1);                   \
        RF_NEXT_CHANNEL }                                                                  \
    return 1;
#define RELU_FAST_MASK_OPS(KIND, SUF, T, W, VT, LOAD, STREAM, SET1, ADD, MUL, MAX, ZERO, SEL_GT, BITS_NLE, BITS_GT, HI) \
static inline int relu_fast_relu_mask_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, \
                                                    T* y, rf_bits* st, size_t n) {         \
    RF_MASK_LOOP(T, W, VT, LOAD, STREAM, SET1, ADD, ZERO, HI, z < 0 ? 0 : z, !(z <= 0),        \
                 MAX(ZERO(), zv), BITS_NLE(zv))                                            \
}                                                                                          \
static inline int relu_fast_leaky_mask_##KIND##_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, \
                                                     T* y, rf_bits* st, size_t n, T s) {   \
    VT sv = SET1(s);                                                                       \
    RF_MASK_LOOP(T, W, VT, LOAD, STREAM, SET1, ADD, ZERO, HI, z > 0 ? z : s * z, z > 0,        \
                 SEL_GT(zv, zv, MUL(sv, zv)), BITS_GT(zv))                                 \
}
/* The gradients from the mask: relu o[j] = bit j ? g[j] : 0, leaky bit j ? g[j] : s g[j]
   for j < k, bit j of the stream at m (bit j % 8 of byte j / 8), ordinary stores (o is
   the L1 buffer the bias gradient is summed from, or the output).  SELZ(bits, gv): gv
   where the lane's bit is 1, +0 elsewhere; SEL(bits, a, b): a there, b elsewhere; lane j
   on bit j.  hardtanh's, relu6's and threshold's are relu's (g inside, +0 outside). */
#define RF_BITS_LOOP(T, W, VT, LOAD, STOREU, VO, SO)                                       \
    size_t j = 0;                                                                          \
    for (; j + W <= k; j += W) {                                                           \
        uint32_t word = m[j >> 3];                                                         \
        if (W > 8) word |= (uint32_t)m[(j >> 3) + 1] << 8;                                 \
        uint32_t bits = (word >> (j & 7)) & (uint32_t)((1u << W) - 1);                     \
        VT gv = LOAD(g + j);                                                               \
        STOREU(o + j, VO);                                                                 \
    }                                                                                      \
    for (; j < k; j++) o[j] = (m[j >> 3] >> (j & 7)) & 1 ? g[j] : SO;                      \
    return 1;
#define RELU_FAST_BITS_OPS(SUF, T, W, VT, LOAD, STOREU, SET1, MUL, SELZ, SEL)               \
static inline int relu_fast_relu_bwd_bits_##SUF(const T* g, const uint8_t* m, T* o, size_t k) { \
    RF_BITS_LOOP(T, W, VT, LOAD, STOREU, SELZ(bits, gv), 0)                                \
}                                                                                          \
static inline int relu_fast_leaky_bwd_bits_##SUF(const T* g, const uint8_t* m, T* o, size_t k, T s) { \
    VT sv = SET1(s);                                                                       \
    RF_BITS_LOOP(T, W, VT, LOAD, STOREU, SEL(bits, gv, MUL(sv, gv)), s * g[j])             \
}
/* Where there are no such instructions: every kernel above returns 0 (nothing done), and
   the callers take the L1-buffer paths. */
#define RF_NO_SIMD_OPS(SUF, T)                                                             \
static inline int relu_fast_relu_bias_stream_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n) { return 0; } \
static inline int relu_fast_relu_bias_store_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n) { return 0; } \
static inline int relu_fast_leaky_bias_stream_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n, T s) { return 0; } \
static inline int relu_fast_leaky_bias_store_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n, T s) { return 0; } \
static inline int relu_fast_relu_bwd_bias_stream_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n) { return 0; } \
static inline int relu_fast_relu_bwd_bias_store_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n) { return 0; } \
static inline int relu_fast_leaky_bwd_bias_stream_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n, T s) { return 0; } \
static inline int relu_fast_leaky_bwd_bias_store_##SUF(const T* g, const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, size_t n, T s) { return 0; } \
static inline int relu_fast_relu_mask_stream_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, rf_bits* st, size_t n) { return 0; } \
static inline int relu_fast_relu_mask_store_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, rf_bits* st, size_t n) { return 0; } \
static inline int relu_fast_leaky_mask_stream_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, rf_bits* st, size_t n, T s) { return 0; } \
static inline int relu_fast_leaky_mask_store_##SUF(const T* x, const T* b, size_t C, size_t c0, size_t inner, size_t pos0, T* y, rf_bits* st, size_t n, T s) { return 0; } \
RF_NO_BITS_OPS(SUF, T)
#define RF_NO_BITS_OPS(SUF, T)                                                             \
static inline int relu_fast_relu_bwd_bits_##SUF(const T* g, const uint8_t* m, T* o, size_t k) { return 0; } \
static inline int relu_fast_leaky_bwd_bits_##SUF(const T* g, const uint8_t* m, T* o, size_t k, T s) { return 0; }
#if defined(__AVX512F__)
#define RF_GT_PS(x, a, b) _mm512_mask_mov_ps((b), _mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_GT_OQ), (a))
#define RF_NLE_PS(x, a, b) _mm512_mask_mov_ps((b), _mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_NLE_UQ), (a))
#define RF_GT_PD(x, a, b) _mm512_mask_mov_pd((b), _mm512_cmp_pd_mask((x), _mm512_setzero_pd(), _CMP_GT_OQ), (a))
#define RF_NLE_PD(x, a, b) _mm512_mask_mov_pd((b), _mm512_cmp_pd_mask((x), _mm512_setzero_pd(), _CMP_NLE_UQ), (a))
#define RF_HI_PS(a, bn, k) _mm512_mask_mov_ps((a), (__mmask16)(0xFFFFu << (k)), (bn))
#define RF_HI_PD(a, bn, k) _mm512_mask_mov_pd((a), (__mmask8)(0xFFu << (k)), (bn))
RELU_FAST_STREAM_OPS(f32, float, 16, __m512, _mm512_loadu_ps, _mm512_stream_ps, _mm512_set1_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_stream_pd, _mm512_set1_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_stream_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_stream_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
#define RF_BITS_PS(z) ((uint32_t)_mm512_cmp_ps_mask((z), _mm512_setzero_ps(), _CMP_NLE_UQ))
#define RF_BITS_PD(z) ((uint32_t)_mm512_cmp_pd_mask((z), _mm512_setzero_pd(), _CMP_NLE_UQ))
#define RF_BITS_GT_PS(z) ((uint32_t)_mm512_cmp_ps_mask((z), _mm512_setzero_ps(), _CMP_GT_OQ))
#define RF_BITS_GT_PD(z) ((uint32_t)_mm512_cmp_pd_mask((z), _mm512_setzero_pd(), _CMP_GT_OQ))
RELU_FAST_MASK_OPS(stream, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_stream_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(store, f32, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_max_ps, _mm512_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(stream, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_stream_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
RELU_FAST_MASK_OPS(store, f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_max_pd, _mm512_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
#define RF_SELZ_PS(bits, v) _mm512_maskz_mov_ps((__mmask16)(bits), (v))
#define RF_SELZ_PD(bits, v) _mm512_maskz_mov_pd((__mmask8)(bits), (v))
#define RF_SEL_PS(bits, a, b) _mm512_mask_mov_ps((b), (__mmask16)(bits), (a))
#define RF_SEL_PD(bits, a, b) _mm512_mask_mov_pd((b), (__mmask8)(bits), (a))
RELU_FAST_BITS_OPS(f32, float, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_mul_ps, RF_SELZ_PS, RF_SEL_PS)
RELU_FAST_BITS_OPS(f64, double, 8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_mul_pd, RF_SELZ_PD, RF_SEL_PD)
#elif defined(__AVX__)
#define RF_GT_PS(x, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_GT_OQ))
#define RF_NLE_PS(x, a, b) _mm256_blendv_ps((b), (a), _mm256_cmp_ps((x), _mm256_setzero_ps(), _CMP_NLE_UQ))
#define RF_GT_PD(x, a, b) _mm256_blendv_pd((b), (a), _mm256_cmp_pd((x), _mm256_setzero_pd(), _CMP_GT_OQ))
#define RF_NLE_PD(x, a, b) _mm256_blendv_pd((b), (a), _mm256_cmp_pd((x), _mm256_setzero_pd(), _CMP_NLE_UQ))
#define RF_HI_PS(a, bn, k) _mm256_blendv_ps((a), (bn), _mm256_cmp_ps(_mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_ps((float)(k)), _CMP_GE_OQ))
#define RF_HI_PD(a, bn, k) _mm256_blendv_pd((a), (bn), _mm256_cmp_pd(_mm256_setr_pd(0, 1, 2, 3), _mm256_set1_pd((double)(k)), _CMP_GE_OQ))
RELU_FAST_STREAM_OPS(f32, float, 8, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_set1_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_set1_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
#define RF_BITS_PS(z) ((uint32_t)_mm256_movemask_ps(_mm256_cmp_ps((z), _mm256_setzero_ps(), _CMP_NLE_UQ)))
#define RF_BITS_PD(z) ((uint32_t)_mm256_movemask_pd(_mm256_cmp_pd((z), _mm256_setzero_pd(), _CMP_NLE_UQ)))
#define RF_BITS_GT_PS(z) ((uint32_t)_mm256_movemask_ps(_mm256_cmp_ps((z), _mm256_setzero_ps(), _CMP_GT_OQ)))
#define RF_BITS_GT_PD(z) ((uint32_t)_mm256_movemask_pd(_mm256_cmp_pd((z), _mm256_setzero_pd(), _CMP_GT_OQ)))
RELU_FAST_MASK_OPS(stream, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(store, f32, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_max_ps, _mm256_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(stream, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
RELU_FAST_MASK_OPS(store, f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd, _mm256_mul_pd, _mm256_max_pd, _mm256_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
#if defined(__AVX2__)   /* integer lanes; AVX alone: the generic path */
static inline __m256 rf_lanes_ps(uint32_t bits) {
    __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lane), lane));
}
static inline __m256d rf_lanes_pd(uint32_t bits) {
    __m256i lane = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x((long long)bits), lane), lane));
}
#define RF_SELZ_PS(bits, v) _mm256_and_ps(rf_lanes_ps(bits), (v))
#define RF_SELZ_PD(bits, v) _mm256_and_pd(rf_lanes_pd(bits), (v))
#define RF_SEL_PS(bits, a, b) _mm256_blendv_ps((b), (a), rf_lanes_ps(bits))
#define RF_SEL_PD(bits, a, b) _mm256_blendv_pd((b), (a), rf_lanes_pd(bits))
RELU_FAST_BITS_OPS(f32, float, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_mul_ps, RF_SELZ_PS, RF_SEL_PS)
RELU_FAST_BITS_OPS(f64, double, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_mul_pd, RF_SELZ_PD, RF_SEL_PD)
#else
RF_NO_BITS_OPS(f32, float)
RF_NO_BITS_OPS(f64, double)
#endif
#elif defined(__SSE2__) || defined(_M_X64)
static inline __m128 rf_sel_ps(__m128 m, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
static inline __m128d rf_sel_pd(__m128d m, __m128d a, __m128d b) { return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b)); }
#define RF_GT_PS(x, a, b) rf_sel_ps(_mm_cmpgt_ps((x), _mm_setzero_ps()), (a), (b))
#define RF_NLE_PS(x, a, b) rf_sel_ps(_mm_cmpnle_ps((x), _mm_setzero_ps()), (a), (b))
#define RF_GT_PD(x, a, b) rf_sel_pd(_mm_cmpgt_pd((x), _mm_setzero_pd()), (a), (b))
#define RF_NLE_PD(x, a, b) rf_sel_pd(_mm_cmpnle_pd((x), _mm_setzero_pd()), (a), (b))
#define RF_HI_PS(a, bn, k) rf_sel_ps(_mm_cmpge_ps(_mm_setr_ps(0, 1, 2, 3), _mm_set1_ps((float)(k))), (bn), (a))
#define RF_HI_PD(a, bn, k) rf_sel_pd(_mm_cmpge_pd(_mm_setr_pd(0, 1), _mm_set1_pd((double)(k))), (bn), (a))
RELU_FAST_STREAM_OPS(f32, float, 4, __m128, _mm_loadu_ps, _mm_stream_ps, _mm_set1_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS)
RELU_FAST_STREAM_OPS(f64, double, 2, __m128d, _mm_loadu_pd, _mm_stream_pd, _mm_set1_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD)
RELU_FAST_BIAS_OPS(stream, f32, float, 4, __m128, _mm_loadu_ps, _mm_stream_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(store, f32, float, 4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_NLE_PS, RF_HI_PS)
RELU_FAST_BIAS_OPS(stream, f64, double, 2, __m128d, _mm_loadu_pd, _mm_stream_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
RELU_FAST_BIAS_OPS(store, f64, double, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_NLE_PD, RF_HI_PD)
#define RF_BITS_PS(z) ((uint32_t)_mm_movemask_ps(_mm_cmpnle_ps((z), _mm_setzero_ps())))
#define RF_BITS_PD(z) ((uint32_t)_mm_movemask_pd(_mm_cmpnle_pd((z), _mm_setzero_pd())))
#define RF_BITS_GT_PS(z) ((uint32_t)_mm_movemask_ps(_mm_cmpgt_ps((z), _mm_setzero_ps())))
#define RF_BITS_GT_PD(z) ((uint32_t)_mm_movemask_pd(_mm_cmpgt_pd((z), _mm_setzero_pd())))
RELU_FAST_MASK_OPS(stream, f32, float, 4, __m128, _mm_loadu_ps, _mm_stream_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(store, f32, float, 4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_max_ps, _mm_setzero_ps, RF_GT_PS, RF_BITS_PS, RF_BITS_GT_PS, RF_HI_PS)
RELU_FAST_MASK_OPS(stream, f64, double, 2, __m128d, _mm_loadu_pd, _mm_stream_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
RELU_FAST_MASK_OPS(store, f64, double, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_add_pd, _mm_mul_pd, _mm_max_pd, _mm_setzero_pd, RF_GT_PD, RF_BITS_PD, RF_BITS_GT_PD, RF_HI_PD)
static inline __m128 rf_lanes_ps(uint32_t bits) {
    __m128i lane = _mm_setr_epi32(1, 2, 4, 8);
    return _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)bits), lane), lane));
}
static inline __m128d rf_lanes_pd(uint32_t bits) {   /* both halves of a lane */
    __m128i lane = _mm_setr_epi32(1, 1, 2, 2);
    return _mm_castsi128_pd(_mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)bits), lane), lane));
}
#define RF_SELZ_PS(bits, v) _mm_and_ps(rf_lanes_ps(bits), (v))
#define RF_SELZ_PD(bits, v) _mm_and_pd(rf_lanes_pd(bits), (v))
#define RF_SEL_PS(bits, a, b) rf_sel_ps(rf_lanes_ps(bits), (a), (b))
#define RF_SEL_PD(bits, a, b) rf_sel_pd(rf_lanes_pd(bits), (a), (b))
RELU_FAST_BITS_OPS(f32, float, 4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_mul_ps, RF_SELZ_PS, RF_SEL_PS)
RELU_FAST_BITS_OPS(f64, double, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, _mm_set1_pd, _mm_mul_pd, RF_SELZ_PD, RF_SEL_PD)
#else
static inline int relu_fast_relu_stream_f32(const float* x, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_stream_f64(const double* x, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_stream_f32(const float* x, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_stream_f64(const double* x, double* y, size_t n, double s) { return 0; }
static inline int relu_fast_relu_bwd_stream_f32(const float* g, const float* x, float* y, size_t n) { return 0; }
static inline int relu_fast_relu_bwd_stream_f64(const double* g, const double* x, double* y, size_t n) { return 0; }
static inline int relu_fast_leaky_bwd_stream_f32(const float* g, const float* x, float* y, size_t n, float s) { return 0; }
static inline int relu_fast_leaky_bwd_stream_f64(const double* g, const double* x, double* y, size_t n, double s) { return 0; }
RF_NO_SIMD_OPS(f32, float)
RF_NO_SIMD_OPS(f64, double)
#endif

/* Any elementwise function streamed from the registers: f is the kernels' element
   function (hardtanh_e, threshold_bwd_e, ...), passed as a constant so that after
   inlining gcc computes it in vector registers; a 64-byte line per iteration, its
   inputs prefetched ahead (with streaming stores the hardware prefetcher fell behind
   loops of more than a few instructions per vector: _half.h's measurements).  Returns
   0 where there are no streaming stores or y is not element-aligned (the caller then
   streams through its buffer). */
#if defined(__GNUC__) || defined(__clang__)
#define RF_E_INLINE static inline __attribute__((always_inline))
#define RF_E_LANES _Pragma("GCC unroll 1")
#define RF_E_PREFETCH(p) __builtin_prefetch((const void*)(p))
#else
#define RF_E_INLINE static inline
#define RF_E_LANES
#define RF_E_PREFETCH(p) ((void)0)
#endif
#define RF_E_AHEAD 2048         /* bytes ahead of the line being computed */
#if defined(__AVX512F__)
#define RF_E_VEC 64
#define RF_E_STREAM(d, s) _mm512_stream_si512((__m512i*)(d), _mm512_loadu_si512((const void*)(s)))
#elif defined(__AVX__)
#define RF_E_VEC 32
#define RF_E_STREAM(d, s) _mm256_stream_si256((__m256i*)(d), _mm256_loadu_si256((const __m256i*)(s)))
#elif defined(__SSE2__) || defined(_M_X64)
#define RF_E_VEC 16
#define RF_E_STREAM(d, s) _mm_stream_si128((__m128i*)(d), _mm_loadu_si128((const __m128i*)(s)))
#else
#define RF_E_VEC 0
#define RF_E_STREAM(d, s) ((void)0)
#endif
#define RELU_FAST_ELEM_STREAM(SUF, T)                                                    \
typedef T (*relu_fast_un_##SUF)(T v, T a, T b);                                          \
typedef T (*relu_fast_bin_##SUF)(T g, T v, T a, T b);                                    \
RF_E_INLINE int relu_fast_unary_stream_##SUF(relu_fast_un_##SUF f, const T* x, T* y,     \
                                             size_t n, T a, T b) {                       \
    enum { L = 64 / sizeof(T) };                                                         \
    T l[L];                                                                              \
    size_t i = 0, j;                                                                     \
    if (!RF_E_VEC || (uintptr_t)y % sizeof(T)) return 0;                                 \
    for (; i < n && ((uintptr_t)(y + i) % 64); i++) y[i] = f(x[i], a, b);                \
    for (; i + L <= n; i += L) {                                                         \
        RF_E_PREFETCH((const char*)(x + i) + RF_E_AHEAD);                                \
        RF_E_LANES for (j = 0; j < L; j++) l[j] = f(x[i + j], a, b);                     \
        for (j = 0; RF_E_VEC && j < 64; j += RF_E_VEC)                                   \
            RF_E_STREAM((char*)(y + i) + j, (const char*)l + j);                         \
    }                                                                                    \
    for (; i < n; i++) y[i] = f(x[i], a, b);                                             \
    return 1;                                                                            \
}                                                                                        \
RF_E_INLINE int relu_fast_binary_stream_##SUF(relu_fast_bin_##SUF f, const T* g,         \
                                              const T* x, T* y, size_t n, T a, T b) {    \
    enum { L = 64 / sizeof(T) };                                                         \
    T l[L];                                                                              \
    size_t i = 0, j;                                                                     \
    if (!RF_E_VEC || (uintptr_t)y % sizeof(T)) return 0;                                 \
    for (; i < n && ((uintptr_t)(y + i) % 64); i++) y[i] = f(g[i], x[i], a, b);          \
    for (; i + L <= n; i += L) {                                                         \
        RF_E_PREFETCH((const char*)(g + i) + RF_E_AHEAD);                                \
        RF_E_PREFETCH((const char*)(x + i) + RF_E_AHEAD);                                \
        RF_E_LANES for (j = 0; j < L; j++) l[j] = f(g[i + j], x[i + j], a, b);           \
        for (j = 0; RF_E_VEC && j < 64; j += RF_E_VEC)                                   \
            RF_E_STREAM((char*)(y + i) + j, (const char*)l + j);                         \
    }                                                                                    \
    for (; i < n; i++) y[i] = f(g[i], x[i], a, b);                                       \
    return 1;                                                                            \
}
RELU_FAST_ELEM_STREAM(f32, float)
RELU_FAST_ELEM_STREAM(f64, double)

#endif /* RELU_FAST_STREAM_H */
