/* The memory floor of the roofline benchmark (python -m relu_fast bench --roofline):
 * the least a loop can do over the bytes a function reads and writes, y = a | b | k
 * byte by byte, in the widest vectors of the level it is compiled for, with ordinary
 * or streaming stores, the output split in contiguous parts over the threads as the
 * kernels split theirs.  A function reading one array passes it as both a and b (the
 * second load of a line just loaded costs no memory traffic); in place, a = b = y.
 * With `sum`, the words of b are also added up, the cheapest stand-in for a reduction
 * in the same pass (prelu_backward's weight gradient).  k is a run-time 0, so the
 * compiler cannot drop the loop.
 */
#ifndef RELU_FAST_FLOOR_H
#define RELU_FAST_FLOOR_H

#include <stddef.h>
#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define RF_VW 64
typedef __m512i rf_fvec;
#define RF_FLOAD(p) _mm512_loadu_si512((const void*)(p))
#define RF_FOR(a, b) _mm512_or_si512(a, b)
#define RF_FADD(a, b) _mm512_add_epi64(a, b)
#define RF_FZERO() _mm512_setzero_si512()
#define RF_FSTORE(p, v) _mm512_store_si512((void*)(p), v)
#define RF_FSTREAM(p, v) _mm512_stream_si512((void*)(p), v)
#define RF_FSTOREU(p, v) _mm512_storeu_si512((void*)(p), v)
#elif defined(__AVX2__)
#define RF_VW 32
typedef __m256i rf_fvec;
#define RF_FLOAD(p) _mm256_loadu_si256((const __m256i*)(p))
#define RF_FOR(a, b) _mm256_or_si256(a, b)
#define RF_FADD(a, b) _mm256_add_epi64(a, b)
#define RF_FZERO() _mm256_setzero_si256()
#define RF_FSTORE(p, v) _mm256_store_si256((__m256i*)(p), v)
#define RF_FSTREAM(p, v) _mm256_stream_si256((__m256i*)(p), v)
#define RF_FSTOREU(p, v) _mm256_storeu_si256((__m256i*)(p), v)
#elif defined(__SSE2__) || defined(_M_X64)
#define RF_VW 16
typedef __m128i rf_fvec;
#define RF_FLOAD(p) _mm_loadu_si128((const __m128i*)(p))
#define RF_FOR(a, b) _mm_or_si128(a, b)
#define RF_FADD(a, b) _mm_add_epi64(a, b)
#define RF_FZERO() _mm_setzero_si128()
#define RF_FSTORE(p, v) _mm_store_si128((__m128i*)(p), v)
#define RF_FSTREAM(p, v) _mm_stream_si128((__m128i*)(p), v)
#define RF_FSTOREU(p, v) _mm_storeu_si128((__m128i*)(p), v)
#endif

/* One thread's part of `nbytes` bytes; with `sum`, returns a checksum of b (its bytes
 * outside the vector loop, its 64-bit words inside: a stand-in, its value means nothing). */
static uint64_t rf_floor_part(const unsigned char* a, const unsigned char* b, unsigned char* y,
                              size_t nbytes, int stream, int sum, unsigned char k) {
    uint64_t total = 0;
    size_t i = 0;
#ifdef RF_VW
    /* the vector loop stores to aligned lines: the head up to them byte by byte */
    size_t head = (RF_VW - ((uintptr_t)y & (RF_VW - 1))) & (RF_VW - 1);
    rf_fvec vk = RF_FZERO(), acc = RF_FZERO();
    uint64_t lanes[RF_VW / 8];
    size_t j;
    if (head > nbytes)
        head = nbytes;
    for (; i < head; i++) {
        y[i] = (unsigned char)(a[i] | b[i] | k);
        total += b[i];
    }
    for (j = 0; j < RF_VW; j++)
        ((unsigned char*)lanes)[j] = k;
    vk = RF_FLOAD(lanes);
    if (stream && sum) {
        for (; i + RF_VW <= nbytes; i += RF_VW) {
            rf_fvec vb = RF_FLOAD(b + i);
            acc = RF_FADD(acc, vb);
            RF_FSTREAM(y + i, RF_FOR(RF_FOR(RF_FLOAD(a + i), vb), vk));
        }
    } else if (stream) {
        for (; i + RF_VW <= nbytes; i += RF_VW)
            RF_FSTREAM(y + i, RF_FOR(RF_FOR(RF_FLOAD(a + i), RF_FLOAD(b + i)), vk));
    } else if (sum) {
        for (; i + RF_VW <= nbytes; i += RF_VW) {
            rf_fvec vb = RF_FLOAD(b + i);
            acc = RF_FADD(acc, vb);
            RF_FSTORE(y + i, RF_FOR(RF_FOR(RF_FLOAD(a + i), vb), vk));
        }
    } else {
        for (; i + RF_VW <= nbytes; i += RF_VW)
            RF_FSTORE(y + i, RF_FOR(RF_FOR(RF_FLOAD(a + i), RF_FLOAD(b + i)), vk));
    }
    if (stream)
        _mm_sfence();
    RF_FSTOREU(lanes, acc);
    for (j = 0; j < RF_VW / 8; j++)
        total += lanes[j];
#else
    (void)stream;
#endif
    for (; i < nbytes; i++) {   /* the tail (everything, without vectors) */
        y[i] = (unsigned char)(a[i] | b[i] | k);
        total += b[i];
    }
    return sum ? total : 0;
}

/* The floor over x (and g: NULL reads x twice) into y (y == x: in place), on nthreads
 * threads, each writing a contiguous part that starts on a 64-byte boundary of y's. */
static uint64_t rf_floor(const void* x, const void* g, void* y, size_t nbytes, int stream,
                         int sum, int nthreads, unsigned char k) {
    const unsigned char* a = (const unsigned char*)x;
    const unsigned char* b = g ? (const unsigned char*)g : a;
    unsigned char* d = (unsigned char*)y;
    uint64_t total = 0;
#ifdef _OPENMP
    if (nthreads > 1) {
#pragma omp parallel num_threads(nthreads) reduction(+ : total)
        {
            size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
            size_t per = ((nbytes + nt - 1) / nt + 63) & ~(size_t)63;
            size_t lo = t * per < nbytes ? t * per : nbytes;
            size_t hi = lo + per < nbytes ? lo + per : nbytes;
            total += rf_floor_part(a + lo, b + lo, d + lo, hi - lo, stream, sum, k);
        }
        return total;
    }
#else
    (void)nthreads;
#endif
    return rf_floor_part(a, b, d, nbytes, stream, sum, k);
}

#endif
