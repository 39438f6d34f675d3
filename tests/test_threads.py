"""Thread control: set_num_threads / get_num_threads / limit_threads, OMP_NUM_THREADS,
threadpoolctl, and the same results for 1 and 2 threads."""
import os

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _api, _threads
from conftest import GRAIN, assert_same, python_lines


def test_get_num_threads_at_least_one():
    n = rf.get_num_threads()
    assert isinstance(n, int) and n >= 1
    if not _api.HAVE_OPENMP:
        assert n == 1


def test_set_num_threads_one():
    rf.set_num_threads(1)
    assert rf.get_num_threads() == 1


def test_set_num_threads_caps_and_accepts_numpy_ints():
    rf.set_num_threads(np.int64(1))
    assert rf.get_num_threads() == 1
    rf.set_num_threads(2)
    assert rf.get_num_threads() == (2 if _api.HAVE_OPENMP else 1)
    rf.set_num_threads(10 ** 9)            # huge is fine (capped)
    assert rf.get_num_threads() >= 1


def test_limit_threads_restores_previous_setting():
    before = rf.get_num_threads()
    with rf.limit_threads(1):
        assert rf.get_num_threads() == 1
        with rf.limit_threads(2):
            assert rf.get_num_threads() <= 2
        assert rf.get_num_threads() == 1
    assert rf.get_num_threads() == before


def test_limit_threads_restores_after_set_num_threads():
    rf.set_num_threads(1)
    with rf.limit_threads(2):
        pass
    assert rf.get_num_threads() == 1


def test_limit_threads_restores_on_exception():
    before = rf.get_num_threads()
    with pytest.raises(KeyError):
        with rf.limit_threads(1):
            assert rf.get_num_threads() == 1
            raise KeyError("boom")
    assert rf.get_num_threads() == before


@pytest.mark.skipif(not _api.HAVE_OPENMP, reason="serial build")
def test_two_threads_available_on_this_machine():
    if (os.cpu_count() or 1) < 2:
        pytest.skip("fewer than 2 CPUs")
    with rf.limit_threads(2):
        assert rf.get_num_threads() == 2


def test_threadpoolctl_sees_and_limits_relu_fast():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _api.HAVE_OPENMP:
        pytest.skip("serial build: no OpenMP runtime to see")
    info = threadpoolctl.threadpool_info()
    assert any(d["user_api"] == "openmp" for d in info), info
    before = rf.get_num_threads()
    with threadpoolctl.threadpool_limits(1):
        assert rf.get_num_threads() == 1
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            assert rf.get_num_threads() == 1
    assert rf.get_num_threads() == before


def test_threadpoolctl_limit_applies_after_set_num_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _api.HAVE_OPENMP:
        pytest.skip("serial build")
    rf.set_num_threads(2)
    with threadpoolctl.threadpool_limits(1):
        assert rf.get_num_threads() == 1


@pytest.mark.skipif(not _api.HAVE_OPENMP, reason="serial build")
@pytest.mark.parametrize("omp, want", [("1", 1), ("2", 2)])
def test_omp_num_threads_is_followed(omp, want):
    if want > (os.cpu_count() or 1):
        pytest.skip("not enough CPUs")
    code = ("import relu_fast as rf; print(rf.get_num_threads()); rf.set_num_threads(1); "
            "print(rf.get_num_threads())")
    words = python_lines(code, set_env={"OMP_NUM_THREADS": omp})
    assert words == [str(want), "1"]


@pytest.mark.skipif(not _api.HAVE_OPENMP, reason="serial build")
def test_set_num_threads_overrides_omp_num_threads():
    code = "import relu_fast as rf; print(rf.get_num_threads()); rf.set_num_threads(2); print(rf.get_num_threads())"
    words = python_lines(code, set_env={"OMP_NUM_THREADS": "1"})
    assert words == ["1", "2"]


@pytest.mark.skipif(not _api.HAVE_OPENMP, reason="serial build")
def test_set_num_threads_is_capped_at_the_cores():
    rf.set_num_threads(1 << 16)
    assert rf.get_num_threads() == max(os.cpu_count() or 1, _threads._omp_max_threads_at_import())
    x = np.linspace(-1, 1, 4 * GRAIN, dtype=np.float32)
    assert np.array_equal(rf.relu(x), np.maximum(x, 0))


@pytest.mark.skipif(not _api.HAVE_OPENMP or (os.cpu_count() or 1) < 2, reason="serial build or 1 CPU")
def test_threadpoolctl_limits_even_after_set_num_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    code = ("import relu_fast as rf, threadpoolctl; rf.set_num_threads(2); print(rf.get_num_threads())\n"
            "with threadpoolctl.threadpool_limits(1):\n    print(rf.get_num_threads())\n"
            "print(rf.get_num_threads())")
    words = python_lines(code, unset=("OMP_NUM_THREADS",))
    assert words == ["2", "1", "2"]


def test_results_identical_for_one_and_two_threads(dtype):
    r = np.random.default_rng(0)
    x = (r.standard_normal((3, 7, GRAIN // 7 + 11)) * 2).astype(dtype)
    x.reshape(-1)[::13] = 0.0
    x.reshape(-1)[::101] = np.nan
    g = r.standard_normal(x.shape).astype(dtype)
    w = np.linspace(-1, 1, 7).astype(dtype)
    wl = np.linspace(-1, 1, x.shape[-1]).astype(dtype)

    def everything():
        return [rf.relu(x), rf.relu_backward(g, x), rf.leaky_relu(x, 0.3), rf.leaky_relu_backward(g, x, -0.3),
                rf.elu(x, 0.7), rf.elu_backward(g, x, 0.7), rf.elu_backward(g, rf.elu(x), is_result=True),
                rf.prelu(x, w), *rf.prelu_backward(g, x, w), rf.prelu(x, wl, axis=-1),
                *rf.prelu_backward(g, x, wl, axis=-1), *rf.prelu_backward(g, x, dtype(0.25))]

    with rf.limit_threads(1):
        one = everything()
    with rf.limit_threads(2):
        two = everything()
    for a, b in zip(one, two):
        assert_same(a, b)


def test_interleaved_limit_blocks_of_two_threads_restore_exactly():
    """issue 12 item 10: A enters limit_threads(1), B enters limit_threads(2), A exits,
    B exits: the process was left at 1 thread although set_num_threads was never called.
    Each block now takes back only its own setting."""
    import threading
    before = rf.get_num_threads()
    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def a():
        with rf.limit_threads(1):
            steps[0].set()
            steps[1].wait(30)
        seen["after A"] = rf.get_num_threads()
        steps[2].set()

    def b():
        steps[0].wait(30)
        with rf.limit_threads(2):
            steps[1].set()
            steps[2].wait(30)
            seen["in B"] = rf.get_num_threads()
        steps[3].set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join(60)
    tb.join(60)
    assert steps[3].is_set()
    two = 2 if _api.HAVE_OPENMP and (os.cpu_count() or 1) >= 2 else 1
    assert seen["after A"] == two                   # B's block still holds after A's ends
    assert seen["in B"] == two
    assert rf.get_num_threads() == before           # nothing left behind
    assert _threads._get_user_threads()[0] == 0


@pytest.mark.skipif(not _api.HAVE_OPENMP or (os.cpu_count() or 1) < 2, reason="serial build or 1 CPU")
def test_omp_thread_limit_is_respected():
    """issue 12 item 10: get_num_threads() ignored OMP_THREAD_LIMIT (it said 2 while the
    runtime ran 1) and the thread budget counted threads the runtime would not start."""
    code = ("import numpy as np, relu_fast as rf; from relu_fast import _threads\n"
            "print(rf.get_num_threads()); rf.set_num_threads(2); print(rf.get_num_threads())\n"
            "_threads._peak_threads(reset=True); rf.relu(np.ones(1 << 20, np.float32))\n"
            "print(_threads._peak_threads())")
    words = python_lines(code, set_env={"OMP_THREAD_LIMIT": "1"}, unset=("OMP_NUM_THREADS",))
    assert words == ["1", "1", "1"]


@pytest.mark.skipif(not _api.HAVE_OPENMP or (os.cpu_count() or 1) < 2, reason="serial build or 1 CPU")
def test_explicit_setting_after_another_library_lowered_openmp_wins():
    """issue 12 item 10: torch.set_num_threads(1) (omp_set_num_threads(1) on the shared
    runtime; here through threadpoolctl, left in place as torch leaves it) capped
    relu_fast even after an explicit relu_fast.set_num_threads(2).  An explicit setting
    made after it wins; a threadpoolctl block opened after the setting still lowers it."""
    pytest.importorskip("threadpoolctl")
    code = ("import relu_fast as rf, threadpoolctl\n"
            "keep = threadpoolctl.threadpool_limits(1, user_api='openmp')\n"
            "print(rf.get_num_threads())\n"
            "with rf.limit_threads(2):\n    print(rf.get_num_threads())\n"
            "rf.set_num_threads(2); print(rf.get_num_threads())\n"
            "keep.restore_original_limits(); rf.set_num_threads(2)\n"
            "with threadpoolctl.threadpool_limits(1):\n    print(rf.get_num_threads())\n"
            "print(rf.get_num_threads())")
    words = python_lines(code, unset=("OMP_NUM_THREADS",))
    assert words == ["1", "2", "2", "1", "2"]
