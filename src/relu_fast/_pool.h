/* The memory of the large outputs relu_fast allocates: a NumPy memory handler
 * (NEP 49) that keeps freed blocks, up to a limit in bytes, and hands them out again.
 *
 * Why: fresh memory from the OS costs a page fault per page and the kernel zeroes
 * every page before the process sees it.  For an allocating call on a large array
 * that is most of the time (docs/memory.rst has the measurements).  A block freed
 * by one call and taken by the next has its pages mapped.
 *
 * Rules:
 *  - Only arrays relu_fast allocates use this handler, and only from RF_POOL_MIN
 *    bytes (the API sets it around its own allocation); the arrays own their data as
 *    usual (OWNDATA, resize) and numpy frees them through the handler.
 *  - A block has a header holding its capacity, so the handler never trusts the size
 *    numpy passes to free.  A freed block is kept while the blocks kept stay within
 *    rf_pool_limit bytes and RF_POOL_SLOTS blocks (the oldest go first); a request
 *    takes the smallest kept block with capacity in [n, n + n/8].
 *  - Every entry point runs with the GIL held (allocation from the API, free and
 *    realloc from ndarray deallocation and resize), which serialises them.
 *  - NumPy reports the blocks to tracemalloc while an array uses them, as for its own.
 */
#ifndef RELU_FAST_POOL_H
#define RELU_FAST_POOL_H

#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
#endif

#define RF_POOL_SLOTS 16
#define RF_POOL_HEADER 64            /* keeps the data 64-byte aligned */
#define RF_POOL_MIN (1u << 20)       /* smaller outputs use NumPy's own allocator */

typedef struct { char* base; size_t capacity; } rf_pool_block;

static rf_pool_block rf_pool_kept[RF_POOL_SLOTS];
static int rf_pool_count = 0;
static size_t rf_pool_bytes = 0;
static size_t rf_pool_limit = 0;
static unsigned long long rf_pool_hits = 0, rf_pool_misses = 0;

static char* rf_pool_os_alloc(size_t bytes) {
#if defined(_WIN32)
    return (char*)_aligned_malloc(bytes, 64);
#else
    void* p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= (4u << 20)) {           /* as NumPy does: fewer faults, fewer TLB misses */
        uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
        if (hi > lo)
            madvise((void*)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return (char*)p;
#endif
}

static void rf_pool_os_free(char* base) {
#if defined(_WIN32)
    _aligned_free(base);
#else
    free(base);
#endif
}

static size_t rf_pool_capacity(void* ptr) {
    return *(size_t*)((char*)ptr - RF_POOL_HEADER);
}

static void rf_pool_drop(int i) {
    rf_pool_os_free(rf_pool_kept[i].base);
    rf_pool_bytes -= rf_pool_kept[i].capacity;
    memmove(rf_pool_kept + i, rf_pool_kept + i + 1, (size_t)(rf_pool_count - i - 1) * sizeof(rf_pool_block));
    rf_pool_count--;
}

/* Free kept blocks, oldest first, until at most `limit` bytes are kept. */
static void rf_pool_trim(size_t limit) {
    while (rf_pool_count > 0 && rf_pool_bytes > limit)
        rf_pool_drop(0);
}

static void* rf_pool_malloc(void* ctx, size_t n) {
    int i, best = -1;
    char* base;
    (void)ctx;
    if (n == 0)
        n = 1;
    for (i = rf_pool_count - 1; i >= 0; i--) {
        size_t c = rf_pool_kept[i].capacity;
        if (c >= n && c - n <= n / 8 && (best < 0 || c < rf_pool_kept[best].capacity))
            best = i;
    }
    if (best >= 0) {
        base = rf_pool_kept[best].base;
        rf_pool_bytes -= rf_pool_kept[best].capacity;
        memmove(rf_pool_kept + best, rf_pool_kept + best + 1,
                (size_t)(rf_pool_count - best - 1) * sizeof(rf_pool_block));
        rf_pool_count--;
        rf_pool_hits++;
    } else {
        if (n > SIZE_MAX - RF_POOL_HEADER)
            return NULL;
        base = rf_pool_os_alloc(n + RF_POOL_HEADER);
        if (base == NULL)
            return NULL;
        *(size_t*)base = n;
        rf_pool_misses++;
    }
    return base + RF_POOL_HEADER;
}

static void rf_pool_free(void* ctx, void* ptr, size_t size) {
    char* base;
    size_t c;
    (void)ctx;
    (void)size;                           /* the header knows the capacity */
    if (ptr == NULL)
        return;
    base = (char*)ptr - RF_POOL_HEADER;
    c = rf_pool_capacity(ptr);
    if (c < RF_POOL_MIN || c > rf_pool_limit) {
        rf_pool_os_free(base);
        return;
    }
    if (rf_pool_count == RF_POOL_SLOTS)
        rf_pool_drop(0);
    rf_pool_trim(rf_pool_limit - c);
    rf_pool_kept[rf_pool_count].base = base;
    rf_pool_kept[rf_pool_count].capacity = c;
    rf_pool_count++;
    rf_pool_bytes += c;
}

static void* rf_pool_calloc(void* ctx, size_t nelem, size_t elsize) {
    void* p;
    if (elsize != 0 && nelem > SIZE_MAX / elsize)
        return NULL;
    p = rf_pool_malloc(ctx, nelem * elsize);
    if (p != NULL)
        memset(p, 0, nelem * elsize);
    return p;
}

static void* rf_pool_realloc(void* ctx, void* ptr, size_t n) {
    void* q;
    size_t c;
    if (ptr == NULL)
        return rf_pool_malloc(ctx, n);
    c = rf_pool_capacity(ptr);
    q = rf_pool_malloc(ctx, n);
    if (q == NULL)
        return NULL;
    memcpy(q, ptr, c < n ? c : n);
    rf_pool_free(ctx, ptr, c);
    return q;
}

static PyDataMem_Handler rf_pool_handler = {
    "relu_fast_output_pool",
    1,
    {NULL, rf_pool_malloc, rf_pool_calloc, rf_pool_realloc, rf_pool_free}
};

/* The handler as the capsule NumPy's PyDataMem_SetHandler takes. */
static PyObject* rf_pool_capsule(void) {
    return PyCapsule_New(&rf_pool_handler, "mem_handler", NULL);
}

/* Set the limit; kept blocks beyond it are freed.  Returns the previous limit. */
static size_t rf_pool_set_limit(size_t limit) {
    size_t old = rf_pool_limit;
    rf_pool_limit = limit;
    rf_pool_trim(limit);
    return old;
}

#endif
