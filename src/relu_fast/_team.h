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

/* The calling thread's last threaded region (0: none since the last read). */
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

/* The end of a piece begun at `begin`: its time is added to *work (shared by the team). */
static inline void rf_piece_end(long long* work, long long begin) {
    long long d = rf_now_ns() - begin;
#if defined(_MSC_VER)
    InterlockedExchangeAdd64(work, d);
#else
    __atomic_fetch_add(work, d, __ATOMIC_RELAXED);
#endif
}

/* After a region begun at `t0` whose pieces took `work` in all (calling thread). */
static inline void rf_team_done(long long t0, long long work) {
    rf_team_region_ns = rf_now_ns() - t0;
    rf_team_work_ns = work;
}

/* The calling thread's last region, then forgotten. */
static inline void rf_team_report(long long* region_ns, long long* work_ns) {
    *region_ns = rf_team_region_ns;
    *work_ns = rf_team_work_ns;
    rf_team_region_ns = rf_team_work_ns = 0;
}

static inline void rf_team_set_worker_delay(long long ns) { rf_team_worker_delay_ns = ns; }

#endif
