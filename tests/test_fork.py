"""Child processes: multiprocessing with fork (after the parent ran threaded calls),
forkserver and spawn, and a plain os.fork child, each computing correct results
within a timeout.

GNU libgomp's thread pool does not survive fork(): a child that enters a parallel
region after its parent used one waits forever for threads that do not exist.
relu_fast marks forked children serial (os.register_at_fork), so their calls
never enter a parallel region; spawn and forkserver children are fresh processes
and keep their threads.  The control test shows the hang the mark avoids.
"""
import multiprocessing as mp
import os
import sys

import numpy as np
import pytest

import relu_fast
from relu_fast import _api, _threads
from relu_fast import _reference as ref
from conftest import fork_and_wait

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
TIMEOUT = 60
N = 4 * _threads._grain() + 7          # above the grain: threaded in a normal process


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N // 8, 8)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    w = np.linspace(-0.5, 0.5, 8).astype(np.float32)
    return x, g, w


def _calls(x, g, w):
    """(function, args, kwargs, reference result) for every function."""
    with np.errstate(all="ignore"):
        return [
            (relu_fast.relu, (x,), {}, ref.relu(x)),
            (relu_fast.relu_backward, (g, x), {}, ref.relu_backward(g, x)),
            (relu_fast.leaky_relu, (x, 0.1), {}, ref.leaky_relu(x, 0.1)),
            (relu_fast.leaky_relu_backward, (g, x, 0.1), {}, ref.leaky_relu_backward(g, x, 0.1)),
            (relu_fast.elu, (x, 1.0), {}, ref.elu(x, 1.0)),
            (relu_fast.elu_backward, (g, x, 1.0), {}, ref.elu_backward(g, x, 1.0)),
            (relu_fast.prelu, (x, w), {"axis": -1}, ref.prelu(x, w, axis=-1)),
            (relu_fast.prelu_backward, (g, x, w), {"axis": -1}, ref.prelu_backward(g, x, w, axis=-1)[0]),
        ]


def _check(got, want):
    got = got[0] if isinstance(got, tuple) else got
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_max_ulp(got, want, maxulp=2)


@pytest.fixture(scope="module")
def data():
    x, g, w = _data()
    return x, g, w, _calls(x, g, w)


def _parent_ran_threads(x):
    _threads._policy(others=0)   # a busy machine must not send these calls to one thread
    relu_fast.relu(x)        # the parent's OpenMP team now exists
    relu_fast.prelu_backward(x, x, np.ones(8, np.float32), axis=-1)
    return relu_fast.get_num_threads()


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_multiprocessing_children_compute_correctly(method, data):
    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    x, g, w, calls = data
    parent_threads = _parent_ran_threads(x)
    ctx = mp.get_context(method)
    pool = ctx.Pool(1)
    try:
        child_threads = pool.apply_async(relu_fast.get_num_threads).get(TIMEOUT)
        pending = [pool.apply_async(f, args, kw) for f, args, kw, _ in calls]
        results = [p.get(TIMEOUT) for p in pending]
    finally:
        pool.terminate()
        pool.join()
    for (f, _, _, want), got in zip(calls, results):
        _check(got, want)
    if method == "fork":
        assert child_threads == 1            # marked serial
    else:
        assert child_threads >= 1
        if os.environ.get("OMP_NUM_THREADS") is None and parent_threads > 1:
            assert child_threads > 1         # a fresh process keeps its threads


def test_plain_os_fork_child_after_threaded_calls(data):
    x, g, w, calls = data
    if _parent_ran_threads(x) < 2:
        pytest.skip("one thread here: the parent has no OpenMP team to lose")

    def child():
        if not _threads._forked_child() or relu_fast.get_num_threads() != 1:
            return 3
        if _threads._threads_busy() != 0:        # the parent's running calls are not ours
            return 4
        for f, args, kw, want in calls:
            try:
                _check(f(*args, **kw), want)
            except AssertionError:
                return 2
        return 0

    _threads._hold_threads(1)                    # as if another parent thread were inside a call
    try:
        code = fork_and_wait(child, TIMEOUT)
    finally:
        _threads._hold_threads(-1)
    assert code == 0
    assert not _threads._forked_child()          # the parent is not marked


def test_control_threaded_call_in_forked_child_hangs(data):
    """Without the serial mark, a threaded call in the forked child hangs in libgomp
    (this is what the mark prevents); skipped where the OpenMP runtime survives fork."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, g, w, calls = data
    libs = [m for m in threadpoolctl.threadpool_info() if m["user_api"] == "openmp"]
    if not libs or not all(m["prefix"] == "libgomp" for m in libs):
        pytest.skip("not GNU libgomp")
    if _parent_ran_threads(x) < 2:
        pytest.skip("one thread here")

    def child():
        _threads._forked_child(False)            # undo the mark: the child may use threads
        relu_fast.relu(x)
        return 0

    code = fork_and_wait(child, 3)
    if code == 0:
        pytest.skip("this libgomp survived fork")
    assert code is None, f"the child died instead of hanging (exit code {code})"


_FIRST_IMPORT_IN_CHILD = r"""
import ctypes, ctypes.util, os, sys, time
# the parent runs an OpenMP region through the runtime relu_fast will use, without
# importing relu_fast (as PyTorch would), then forks
gomp = ctypes.CDLL(sys.argv[1])
CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
cb = CB(lambda p: None)
gomp.GOMP_parallel.argtypes = [CB, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
gomp.GOMP_parallel(cb, None, 2, 0)
pid = os.fork()
if pid == 0:
    code = 1
    try:
        import numpy as np
        import relu_fast as rf
        rf.set_num_threads(2)
        x = np.linspace(-1, 1, 1 << 20, dtype=np.float32)
        y = rf.relu(x)
        gx, gw = rf.prelu_backward(x.reshape(-1, 8), x.reshape(-1, 8), np.ones(8, np.float32), axis=-1)
        ok = np.array_equal(y, np.maximum(x, 0)) and rf.get_num_threads() == 1
        code = 0 if ok else 3
    finally:
        os._exit(code)
deadline = time.monotonic() + 60
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        sys.exit(os.waitstatus_to_exitcode(status))
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("the child hung")
        sys.exit(2)
    time.sleep(0.02)
"""


@pytest.mark.skipif(not _api.HAVE_OPENMP or not os.path.exists("/proc/self/maps"),
                    reason="serial build, or no /proc")
def test_first_import_in_a_forked_child_of_an_openmp_parent():
    """issue 12 item 2: relu_fast imported for the first time in a forked child whose
    parent had run an OpenMP region (through another library, on the same runtime)
    hung on its first threaded call; it now sees that it lives in such a child and
    runs serially."""
    import subprocess
    found = _threads._openmp_mapping()
    runtime = found[1] if found else None
    if not runtime or "gomp" not in os.path.basename(runtime):
        pytest.skip("not GNU libgomp")
    out = subprocess.run([sys.executable, "-c", _FIRST_IMPORT_IN_CHILD, runtime],
                         capture_output=True, text=True, timeout=180, cwd=os.path.expanduser("~"))
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)


def test_a_fresh_process_is_not_taken_for_a_forked_child():
    """A process started afresh (its own address space) keeps its threads."""
    import subprocess
    code = "from relu_fast import _threads; print(_threads._inherited_openmp(), _threads._forked_child())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.expanduser("~"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
