/* What a threaded kernel call tells the thread policy (relu_fast._api): the wall time
 * of its parallel region and the time its pieces of work took in all, which is about
 * what one thread would have taken.  A region much longer than its work means a
 * thread of the team arrived late (its core was busy), and the policy runs the next
 * calls on one thread for a while.
 */
#ifndef RELU_FAST_TEAM_H
#define RELU_FAST_TEAM_H

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_WIN32)
#include <windows.h>
static inline long long rf_now_ns(void) {
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (long long)((double)c.QuadPart * (1e9 / (double)f.QuadPart));
}
#define RF_THREAD_LOCAL __declspec(thread)
#else
#include <time.h>
static inline long long rf_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}
#define RF_THREAD_LOCAL __thread
#endif

/* The calling thread's last threaded region and its one-thread estimate (0: none
 * since the last read). */
static RF_THREAD_LOCAL long long rf_team_region_ns = 0;
static RF_THREAD_LOCAL long long rf_team_work_ns = 0;

/* Tests: every thread but the calling one starts each piece this late. */
static long long rf_team_worker_delay_ns = 0;

/* The start of a piece of work on this thread. */
static inline long long rf_piece_begin(void) {
#ifdef _OPENMP
    if (rf_team_worker_delay_ns > 0 && omp_get_thread_num() != 0) {
        long long until = rf_now_ns() + rf_team_worker_delay_ns;
        while (rf_now_ns() < until) {
        }
    }
#endif
    return rf_now_ns();
}

/* What a region's pieces took: their count and the shortest.  The shortest times the
 * count is the one-thread estimate: a piece whose thread was descheduled for a while
 * took longer, and counting that would make a late team look like a fast one. */
typedef struct {
    long long pieces;
    long long shortest;
} rf_team_work;

static inline void rf_work_init(rf_team_work* w) {
    w->pieces = 0;
    w->shortest = 0x7fffffffffffffffLL;
}

/* The end of a piece begun at `begin` (any thread of the team). */
static inline void rf_piece_end(rf_team_work* w, long long begin) {
    long long d = rf_now_ns() - begin;
#if defined(_MSC_VER)
    long long seen = w->shortest;
    InterlockedIncrement64(&w->pieces);
    while (d < seen) {
        long long was = InterlockedCompareExchange64(&w->shortest, d, seen);
        if (was == seen)
            break;
        seen = was;
    }
#else
    long long seen = __atomic_load_n(&w->shortest, __ATOMIC_RELAXED);
    __atomic_fetch_add(&w->pieces, 1, __ATOMIC_RELAXED);
    while (d < seen && !__atomic_compare_exchange_n(&w->shortest, &seen, d, 1, __ATOMIC_RELAXED,
                                                    __ATOMIC_RELAXED)) {
    }
#endif
}

/* After a region begun at `t0` (calling thread). */
static inline void rf_team_done(long long t0, const rf_team_work* w) {
    rf_team_region_ns = rf_now_ns() - t0;
    rf_team_work_ns = w->pieces > 0 ? w->pieces * w->shortest : 0;
}

/* The calling thread's last region, then forgotten. */
static inline void rf_team_report(long long* region_ns, long long* work_ns) {
    *region_ns = rf_team_region_ns;
    *work_ns = rf_team_work_ns;
    rf_team_region_ns = rf_team_work_ns = 0;
}

static inline void rf_team_set_worker_delay(long long ns) { rf_team_worker_delay_ns = ns; }

#endif
