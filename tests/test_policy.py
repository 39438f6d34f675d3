"""The thread policy on shared cores (issue 13): a threaded call whose team arrives late
sends the next calls to one thread for a while, then tries threads again.

Not timed tests: a test hook makes every thread but the calling one start each piece
of a region late (as a busy core would), and the tests check what the policy decides
and that results never change, whichever threads did the work.
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _dispatch, _threads
from relu_fast import _reference as ref
from conftest import GRAIN, assert_same, fork_and_wait

pytestmark = pytest.mark.skipif(not _api.HAVE_OPENMP or (os.cpu_count() or 1) < 2,
                                reason="serial build or 1 CPU")
N = 16 * GRAIN


def kernels():
    return _dispatch.load(rf.kernel_level())


@pytest.fixture(autouse=True)
def policy():
    """Each test starts with the policy's state forgotten and no delay, and leaves so;
    other processes are taken to hold the other cores (the late worker's cause)."""
    _threads._policy(reset=True, others=os.cpu_count())
    yield
    kernels()._delay_workers(0)
    _threads._policy(reset=True)


def data(dtype=np.float32, n=N, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal(n).astype(dtype), r.standard_normal(n).astype(dtype)


def late_delay(x, out):
    """A worker delay (µs) far longer than a one-thread relu over x takes on this machine
    (an emulator can make the call itself take milliseconds): every threaded region is
    then a loss, whatever the schedule."""
    with rf.limit_threads(1):
        best = min(_timed(lambda: rf.relu(x, out=out)) for _ in range(3))
    return max(3000.0, 3e6 * best)


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def calls(x, g):
    x2, g2 = x.reshape(-1, 64), g.reshape(-1, 64)
    w = np.linspace(-0.5, 1.5, 64).astype(x.dtype)
    return [
        (lambda: rf.relu(x), ref.relu(x)),
        (lambda: rf.relu_backward(g, x), ref.relu_backward(g, x)),
        (lambda: rf.leaky_relu(x, 0.1), ref.leaky_relu(x, 0.1)),
        (lambda: rf.leaky_relu_backward(g, x, 0.1), ref.leaky_relu_backward(g, x, 0.1)),
        (lambda: rf.prelu(x2, w), ref.prelu(x2, w)),
        (lambda: rf.prelu_backward(g2, x2, w)[0], ref.prelu_backward(g2, x2, w)[0]),
        (lambda: rf.relu_mask(x)[0], ref.relu(x)),
        (lambda: rf.relu_stats(x2)[0], ref.relu(x2)),
    ]


def test_default_policy_uses_threads_when_quiet():
    assert rf.get_num_threads() == 2
    assert _threads._policy()["fallbacks"] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_late_workers_do_not_change_results(dtype):
    x, g = data(dtype)
    with rf.limit_threads(1):
        want_gw = rf.prelu_backward(g.reshape(-1, 64), x.reshape(-1, 64),
                                    np.linspace(-0.5, 1.5, 64).astype(dtype))[1]
    kernels()._delay_workers(300)
    for f, want in calls(x, g):
        for _ in range(3):                   # threaded, then (likely) after a fallback
            assert_same(f(), want)
    gw = rf.prelu_backward(g.reshape(-1, 64), x.reshape(-1, 64),
                           np.linspace(-0.5, 1.5, 64).astype(dtype))[1]
    assert_same(gw, want_gw)                 # the same sums whichever threads showed up
    with rf.limit_threads(2):                # forced threads, late workers: still the same
        for f, want in calls(x, g):
            assert_same(f(), want)


def test_fallback_engages_and_recovers():
    x, _ = data()
    out = np.empty_like(x)
    delay = late_delay(x, out)
    rf.relu(x, out=out)                      # the team is awake
    kernels()._delay_workers(delay)          # late by far longer than the call takes
    for _ in range(5):
        rf.relu(x, out=out)
        if _threads._policy()["fallbacks"]:
            break
    state = _threads._policy()
    assert state["fallbacks"] >= 1
    assert state["fallback_calls_left"] > 0
    assert rf.get_num_threads() == 1         # the calls of the fallback run on one thread
    before = _threads._policy()
    rf.relu(x, out=out)
    after = _threads._policy()
    assert after["serialised_calls"] == before["serialised_calls"] + 1
    assert after["fallback_calls_left"] == before["fallback_calls_left"] - 1
    assert_same(out, ref.relu(x))
    kernels()._delay_workers(0)              # the cores are free again
    _threads._policy(others=0)
    recovered = False
    for _ in range(50):                      # a noisy machine may cost a few more tries
        _threads._policy(expire=True)            # as if the fallback's time had passed
        for _ in range(3):
            rf.relu(x, out=out)
        state = _threads._policy()
        if state["fallback_calls_left"] == 0 and rf.get_num_threads() == 2:
            recovered = True
            break
        time.sleep(0.01)
    assert recovered


def test_fallback_length_grows_while_the_losses_go_on():
    x, _ = data()
    out = np.empty_like(x)
    delay = late_delay(x, out)
    rf.relu(x, out=out)
    kernels()._delay_workers(delay)
    backoffs = []
    for _ in range(4):
        for _ in range(5):
            rf.relu(x, out=out)
            if _threads._policy()["fallback_calls_left"] > 0:
                break
        backoffs.append(_threads._policy()["fallback_length"])
        _threads._policy(expire=True)
        rf.relu(x, out=out)                  # keeps the team awake: the next loss counts
    assert backoffs == sorted(backoffs) and backoffs[-1] > backoffs[0]


def test_an_explicit_thread_count_is_used_as_given():
    x, _ = data()
    kernels()._delay_workers(1000)
    for setting in ("limit", "set"):
        if setting == "limit":
            with rf.limit_threads(2):
                for _ in range(4):
                    rf.relu(x)
                assert rf.get_num_threads() == 2
        else:
            rf.set_num_threads(2)
            for _ in range(4):
                rf.relu(x)
            assert rf.get_num_threads() == 2
    assert _threads._policy()["fallbacks"] == 0


def test_several_python_threads_with_late_workers():
    x, g = data()
    kernels()._delay_workers(500)
    jobs = calls(x, g) * 3
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: job[0](), jobs, timeout=120))
    for (f, want), got in zip(jobs, results):
        assert_same(got, want)
    assert _threads._threads_busy() == 0


def test_threadpoolctl_limit_with_late_workers():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, _ = data()
    kernels()._delay_workers(1000)
    with threadpoolctl.threadpool_limits(1):
        assert rf.get_num_threads() == 1
        assert_same(rf.relu(x), ref.relu(x))
    assert_same(rf.relu(x), ref.relu(x))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_during_a_fallback():
    x, _ = data()
    kernels()._delay_workers(3000)
    for _ in range(5):
        rf.relu(x)

    def child():
        return 0 if (rf.get_num_threads() == 1 and np.array_equal(rf.relu(x), ref.relu(x))) else 3

    assert fork_and_wait(child, 60) == 0


# The idle-team rule: a call that finds the team asleep and would not gain the wake's
# cost runs on one thread; a burst of calls goes threaded once its gains pay for it.

def asleep():
    time.sleep(0.005)                        # longer than the policy's WARM_NS (1 ms)


def measured_gain(n):
    """What the policy expects a threaded call over n elements (relu) to gain, µs."""
    return n * _threads._policy()["unit_ns"] * 0.5 / 1e3


def test_a_call_that_finds_the_team_asleep_runs_on_one_thread():
    x, g = data()
    _threads._policy(others=0)
    rf.relu(x)                               # measures the cost per element; the probe is spent
    assert _threads._policy()["unit_ns"] > 0
    _threads._policy(wake_us=1e6, probe_every_s=600)   # waking costs more than any call gains
    for f, want in calls(x, g):
        asleep()
        before = _threads._policy()["cold_serial_calls"]
        assert_same(f(), want)
        assert _threads._policy()["cold_serial_calls"] == before + 1, f
    assert rf.get_num_threads() == 2         # the count for a large call is unchanged


def test_a_burst_goes_threaded_once_its_gains_pay_for_the_wake():
    x, _ = data()
    out = np.empty_like(x)
    _threads._policy(others=0, warm_us=200000)   # "back to back": within 200 ms (slow emulators)
    rf.relu(x, out=out)
    _threads._policy(wake_us=2.5 * measured_gain(x.size), probe_every_s=600)
    time.sleep(0.25)
    states = []
    for _ in range(3):                       # back to back: one burst
        rf.relu(x, out=out)
        states.append(_threads._policy()["cold_serial_calls"])
    # the first two give up 2 gains (< 2.5), the third brings the sum past the wake
    assert states == [1, 2, 2]
    assert_same(out, ref.relu(x))
    _threads._policy(wake_us=2.5 * measured_gain(x.size))
    time.sleep(0.25)                         # a new burst starts from nothing
    rf.relu(x, out=out)
    assert _threads._policy()["cold_serial_calls"] == 3


def test_the_wake_is_measured_again_by_a_probe():
    x, _ = data()
    out = np.empty_like(x)
    _threads._policy(others=0)
    rf.relu(x, out=out)
    # the worker starts late by far more than a call gains (an emulator's calls are slow)
    delay = int(max(3000, 8 * measured_gain(x.size)))
    kernels()._delay_workers(delay)
    _threads._policy(wake_us=1.0, probe_now=True)
    asleep()
    rf.relu(x, out=out)                      # the probe: threaded, and it sees the late worker
    state = _threads._policy()
    assert state["cold_serial_calls"] == 0
    assert state["wake_us"] > 0.4 * delay    # half of the 1 µs it had and half of >= the delay
    assert_same(out, ref.relu(x))
    _threads._policy(probe_every_s=600)      # no probe due: the next one runs on one thread
    asleep()
    rf.relu(x, out=out)
    assert _threads._policy()["cold_serial_calls"] == 1
    kernels()._delay_workers(0)              # the worker is on time again
    _threads._policy(wake_us=1e6)
    for limit in (0.6e6, 0.35e6, 0.2e6):     # each probe halves the gap to what it sees
        _threads._policy(probe_now=True)
        asleep()
        rf.relu(x, out=out)
        assert _threads._policy()["wake_us"] < limit
    assert_same(out, ref.relu(x))


def test_an_explicit_thread_count_ignores_the_idle_team_rule():
    x, _ = data()
    _threads._policy(others=0)
    rf.relu(x)
    _threads._policy(wake_us=1e6, probe_every_s=600)
    with rf.limit_threads(2):
        asleep()
        assert_same(rf.relu(x), ref.relu(x))
    rf.set_num_threads(2)
    try:
        asleep()
        assert_same(rf.relu(x), ref.relu(x))
    finally:
        _threads._restore_user_threads((0, _threads._omp_max_threads_at_import()))
    assert _threads._policy()["cold_serial_calls"] == 0
