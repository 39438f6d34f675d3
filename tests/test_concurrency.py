"""Python threads calling relu_fast at once.

- Several threads calling every function at the same time on shared read-only
  inputs and private outputs get the same bits as a single-threaded run.
- threadpoolctl.threadpool_limits(1) makes relu_fast run on one thread.
- Concurrent callers share one thread budget (the library's policy): a call gets
  min(budget, budget - threads held by calls running now), at least 1, so a thread
  pool of P callers holds at most budget + P - 1 threads, never P * budget.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import relu_fast
from relu_fast import _threads

threadpoolctl = pytest.importorskip("threadpoolctl")

GRAIN = _threads._grain()
WORKERS = 4


def _inputs():
    rng = np.random.default_rng(7)
    arrays = {}
    for dt in (np.float32, np.float64):
        for n in (1000, 4 * GRAIN + 123):      # one below the grain, one well above it
            x = rng.standard_normal((n // 100, 100)).astype(dt)
            x[::17, 3] = np.nan
            g = rng.standard_normal(x.shape).astype(dt)
            w = rng.standard_normal(100).astype(dt)
            for a in (x, g, w):
                a.flags.writeable = False
            arrays[(dt, n)] = (x, g, w)
    return arrays


def _jobs(arrays):
    """(label, call(out) -> tuple of result arrays, whether the call takes out=)."""
    F = relu_fast
    jobs = []
    for key, (x, g, w) in arrays.items():
        jobs += [
            (key, "relu", lambda o, x=x: (F.relu(x, out=o),)),
            (key, "relu_backward", lambda o, x=x, g=g: (F.relu_backward(g, x, out=o),)),
            (key, "leaky_relu", lambda o, x=x: (F.leaky_relu(x, 0.1, out=o),)),
            (key, "leaky_relu_backward", lambda o, x=x, g=g: (F.leaky_relu_backward(g, x, 0.1, out=o),)),
            (key, "elu", lambda o, x=x: (F.elu(x, 1.3, out=o),)),
            (key, "elu_backward", lambda o, x=x, g=g: (F.elu_backward(g, x, 1.3, out=o),)),
            (key, "elu_backward_result", lambda o, x=x, g=g: (F.elu_backward(g, x, 1.3, is_result=True, out=o),)),
            (key, "prelu", lambda o, x=x, w=w: (F.prelu(x, w, axis=-1, out=o),)),
            (key, "prelu_backward", lambda o, x=x, g=g, w=w: F.prelu_backward(g, x, w, axis=-1)),
        ]
    return jobs


def _bytes(results):
    return [r.tobytes() for r in results]


@pytest.fixture(scope="module")
def setup():
    arrays = _inputs()
    jobs = _jobs(arrays)
    with relu_fast.limit_threads(1):
        expected = [_bytes(call(np.empty_like(arrays[key][0]))) for key, _, call in jobs]
    return arrays, jobs, expected


def test_threads_calling_at_once_agree_bit_for_bit(setup):
    arrays, jobs, expected = setup
    rounds = 6
    barrier = threading.Barrier(WORKERS)
    failures = []

    def worker(seed):
        order = np.random.default_rng(seed).permutation(len(jobs))
        outs = {key: np.empty_like(arrays[key][0]) for key in arrays}   # private outputs
        barrier.wait()
        for _ in range(rounds):
            for i in order:
                key, name, call = jobs[i]
                got = _bytes(call(outs[key]))
                if got != expected[i]:
                    failures.append((key, name))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a thread hung"
    assert not failures, f"results differ from the single-threaded run: {sorted(set(failures))}"
    assert _threads._threads_busy() == 0


def test_threadpool_limits_one_runs_serially(setup):
    arrays, jobs, expected = setup
    openmp = [m for m in threadpoolctl.threadpool_info() if m["user_api"] == "openmp"]
    if relu_fast._api.HAVE_OPENMP:
        assert openmp, "threadpoolctl does not see relu_fast's OpenMP runtime"
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert relu_fast.get_num_threads() == 1
        for i, (key, name, call) in enumerate(jobs):
            assert _bytes(call(np.empty_like(arrays[key][0]))) == expected[i], name
        assert relu_fast.get_num_threads() == 1


def test_threadpool_limits_in_a_worker_thread():
    def inside():
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            return relu_fast.get_num_threads()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(inside).result(timeout=60) == 1


def test_busy_threads_shrink_the_next_call():
    budget = relu_fast.get_num_threads()
    assert budget >= 1
    _threads._hold_threads(budget)
    try:
        assert relu_fast.get_num_threads() == 1              # nothing left: the caller's own thread
        with ThreadPoolExecutor(1) as pool:                    # also seen from another thread
            assert pool.submit(relu_fast.get_num_threads).result(timeout=60) == 1
    finally:
        _threads._hold_threads(-budget)
    assert relu_fast.get_num_threads() == budget
    if budget > 2:
        _threads._hold_threads(1)
        try:
            assert relu_fast.get_num_threads() == budget - 1
        finally:
            _threads._hold_threads(-1)


def test_thread_pool_does_not_oversubscribe(setup):
    arrays, jobs, expected = setup
    budget = relu_fast.get_num_threads()
    big = [i for i, (key, _, _) in enumerate(jobs) if key[1] > GRAIN]

    def work(seed):
        outs = {key: np.empty_like(arrays[key][0]) for key in arrays}
        bad = []
        for i in np.random.default_rng(seed).permutation(big):
            key, name, call = jobs[i]
            if _bytes(call(outs[key])) != expected[i]:
                bad.append(name)
        return bad

    _threads._peak_threads(reset=True)
    with ThreadPoolExecutor(WORKERS) as pool:
        bad = sum(pool.map(work, range(3 * WORKERS)), [])
    peak = _threads._peak_threads(reset=True)
    assert not bad
    assert _threads._threads_busy() == 0
    assert 1 <= peak <= budget + WORKERS - 1, f"{peak} threads held at once with a budget of {budget}"


def test_set_num_threads_caps_every_thread():
    with relu_fast.limit_threads(1):
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(lambda _: relu_fast.get_num_threads(), range(4))) == [1] * 4


def test_limit_threads_restores_the_count_and_leaves_openmp_alone():
    before = relu_fast.get_num_threads()
    omp_before = [m["num_threads"] for m in threadpoolctl.threadpool_info() if m["user_api"] == "openmp"]
    with relu_fast.limit_threads(1):
        assert relu_fast.get_num_threads() == 1
        omp_inside = [m["num_threads"] for m in threadpoolctl.threadpool_info() if m["user_api"] == "openmp"]
        assert omp_inside == omp_before          # other libraries on the same OpenMP runtime unaffected
    assert relu_fast.get_num_threads() == before
