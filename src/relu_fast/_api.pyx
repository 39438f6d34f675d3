"""The public functions: argument checks, layout handling and thread choice around
the kernels.  This layer knows nothing of instruction sets: it calls whatever
kernel table _dispatch chose.
"""
import numbers
import os

import numpy as np

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport isfinite, isinf

from cython.parallel cimport parallel

from relu_fast._fpenv cimport fpstate, fp_enter, fp_leave, fp_flush_bits, fp_set_flush
from relu_fast._team cimport now_ns
from relu_fast._openmp cimport RELU_FAST_OPENMP, omp_get_max_threads, omp_get_thread_limit
from relu_fast._table cimport *

from relu_fast import _dispatch, _memory

cnp.import_array()

# ---------------------------------------------------------------------------
# Kernel table
# ---------------------------------------------------------------------------

cdef const KernelTable* K = NULL
cdef object _kernel_module = None


def _use_level(level):
    """Switch every function to the kernels of `level` (tests use it to cover each level)."""
    global K, _kernel_module
    mod = _dispatch.load(level)
    cdef const KernelTable* table = <const KernelTable*>PyCapsule_GetPointer(
        mod.TABLE, b"relu_fast.KernelTable")
    if table.abi != TABLE_ABI:
        raise ImportError(f"relu_fast._kernels_{level} was built for another version of relu_fast")
    K = table
    _kernel_module = mod


cdef const KernelTable* kernel_table() noexcept nogil:
    return K


def kernel_level():
    """Name of the instruction-set level in use ('baseline', 'avx2', 'avx512')."""
    return _kernel_module.LEVEL


_use_level(_dispatch.choose_level())

# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------

# Below this many elements one thread is faster than waking a team (measured:
# see README, "Threads").
cdef Py_ssize_t GRAIN = 32768
# ELU's exp costs about this many relu elements (FMA levels; measured: two threads
# win from 8192 float32 / 4096 float64 elements): its grain is GRAIN / ELU_COST.
cdef Py_ssize_t ELU_COST_F32 = 4
cdef Py_ssize_t ELU_COST_F64 = 8
cdef int _user_threads = 0      # 0: not set, follow OpenMP (OMP_NUM_THREADS, threadpoolctl)
cdef bint _in_forked_child = False


# Threads held by calls running now, process-wide (read and changed only with the
# GIL held).  Concurrent callers share one budget, so a thread pool calling
# relu_fast does not oversubscribe the cores: a call gets what the budget has left,
# and at least its own thread.
cdef int _busy = 0
cdef int _peak = 0


# OpenMP's thread count when relu_fast was imported (OMP_NUM_THREADS, else the
# cores), and when set_num_threads was last called: a lower count later means
# threadpoolctl (or omp_set_num_threads) lowered it since.
cdef int _omp_initial = omp_get_max_threads()
cdef int _omp_at_user = _omp_initial
# The limit_threads blocks open now, in the order they were entered ([n, OpenMP's
# count then]); the last one's values in C for threads_for (0: no block open).
cdef list _blocks = []
cdef int _block_threads = 0
cdef int _block_omp = 0
# set_num_threads' ceiling: the cores, or OMP_NUM_THREADS if that asks for more.
cdef int _max_threads = max(os.cpu_count() or 1, _omp_initial)
# The runtime never starts more than OMP_THREAD_LIMIT threads (fixed at start-up).
cdef int _thread_limit = max(1, omp_get_thread_limit())
cdef int _cores = os.cpu_count() or 1


# The policy on shared cores.  A threaded call waits at its region's end for every
# thread of the team; when another process holds the other core, a thread can start
# a scheduler slice late (milliseconds) and the call ends up far slower than on one
# thread.  The kernels report each region's wall time and an estimate of its
# one-thread time.  A region that took LOSS_NS longer than that is a loss.  If other
# processes are running on the cores the team needs (Linux: /proc, read only after a
# loss), the next `_fallback_len` calls run on one thread (for at most FALLBACK_MAX_NS,
# so that a process that calls rarely comes back to threads too); after a quiet spell
# it takes two such losses in a row, as one can be a hiccup.  The length doubles while
# the losses go on and shrinks by a quarter after a region that won (a lucky region
# under load is no reason to try threads at once), so it settles at what the load
# calls for.  A loss with the other cores idle is a team waking from sleep (on a
# virtual machine an idle vCPU can take milliseconds to wake): a one-off, not judged.
# Where /proc is missing, a loss counts when the team was awake (a region within
# WARM_NS before).  An explicit thread count (set_num_threads, limit_threads) is used
# as given.
cdef long long WARM_NS = 1000000
cdef long long LOSS_NS = 20000
cdef long long FALLBACK_MIN = 16          # calls
cdef long long FALLBACK_MAX = 4096
cdef long long FALLBACK_MAX_NS = 10000000000
cdef long long _fallback_left = 0         # calls left in the fallback now (0: none)
cdef long long _fallback_end = 0          # and its time limit
cdef long long _fallback_len = FALLBACK_MIN
cdef int _strikes = 0                     # contended losses since the last win
cdef long long _last_region_end = 0
cdef long long _fallbacks = 0             # counters (tests, bench)
cdef long long _serialised = 0
cdef long long _last_region = 0, _last_work = 0


cdef inline bint adaptive() noexcept:
    return _block_threads == 0 and _user_threads == 0


def _running_here():
    """The ids of this process's threads that are runnable now."""
    tids = set()
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                if f.read().rpartition(b")")[2].split()[0] == b"R":
                    tids.add(tid)
        except OSError:
            pass                          # a thread that has just ended
    return tids


def _others_running(samples=3):
    """Threads of other processes that are runnable now (Linux), or None if unknown:
    the least of a few readings, this process's threads counted when runnable before
    or after the machine-wide count (its workers go to sleep while it is read)."""
    try:
        least = None
        for _ in range(samples):
            before = _running_here()
            with open("/proc/stat", "rb") as f:
                total = next(int(line.split()[1]) for line in f if line.startswith(b"procs_running"))
            others = max(total - len(before | _running_here()), 0)
            least = others if least is None else min(least, others)
        return least
    except (OSError, ValueError, IndexError, StopIteration):
        return None


cdef object _others_override = None      # tests: what _others_running() answers


cdef bint contended(int team, bint warm):
    """After a loss: were the cores the team needed taken by other processes?"""
    others = _others_running() if _others_override is None else _others_override
    if others is None:
        return warm
    return others > _cores - team


cdef void judge_region(int team) noexcept:
    """After a threaded call of `team` threads (GIL held): learn from its region."""
    global _fallback_left, _fallback_end, _fallback_len, _last_region_end, _fallbacks
    global _last_region, _last_work, _strikes
    cdef long long region, work, end
    cdef bint warm
    K.team_report(&region, &work)
    if region <= 0:
        return
    _last_region, _last_work = region, work
    end = now_ns()
    warm = end - region - _last_region_end <= WARM_NS
    _last_region_end = end
    if not adaptive():
        return
    if region > work + LOSS_NS:
        if contended(team, warm):
            _strikes += 1
            if _strikes >= 2 or _fallback_len > FALLBACK_MIN:
                _fallback_left = _fallback_len
                _fallback_end = end + FALLBACK_MAX_NS
                _fallback_len = min(2 * _fallback_len, FALLBACK_MAX)
                _fallbacks += 1
    elif region < work:
        _strikes = 0
        _fallback_len = max(_fallback_len * 3 // 4, FALLBACK_MIN)


def _policy(reset=False, expire=False, others=False):
    """The shared-core policy's state (tests, bench): reset forgets it all, expire ends
    a fallback now; others (an int, or None for /proc) sets what the policy takes for
    the number of other processes' running threads."""
    global _fallback_left, _fallback_len, _last_region_end, _fallbacks, _serialised
    global _others_override, _strikes
    if reset:
        _fallback_left = _last_region_end = _fallbacks = _serialised = _strikes = 0
        _fallback_len = FALLBACK_MIN
        _others_override = None
    if others is not False:
        _others_override = others
    if expire:
        _fallback_left = 0
    return {"fallback_calls_left": _fallback_left, "fallback_length": _fallback_len,
            "fallbacks": _fallbacks, "serialised_calls": _serialised,
            "last_region_us": _last_region / 1e3, "last_work_us": _last_work / 1e3}


cdef int threads_for(Py_ssize_t work, bint consume=True) noexcept:
    """Threads for a call over `work` elements.

    1 below the grain or in a forked child; else the value of the limit_threads block
    entered last of those still open, else set_num_threads' value if set, else OpenMP's
    (OMP_NUM_THREADS, the cores, torch.set_num_threads); lowered by a limit put on
    OpenMP after that setting was made (threadpoolctl); at most OMP_THREAD_LIMIT;
    minus the threads held by calls running now in other Python threads; at least 1."""
    global _fallback_left, _serialised
    cdef int n, omp_now, ref
    if work < GRAIN or _in_forked_child:
        return 1
    omp_now = omp_get_max_threads()
    n = _block_threads
    if n > 0:
        ref = _block_omp
    elif _user_threads > 0:
        n = _user_threads
        ref = _omp_at_user
    else:
        n = omp_now
        ref = omp_now
    if omp_now < ref and omp_now < n:
        n = omp_now
    if n > _thread_limit:
        n = _thread_limit
    n -= _busy
    if n <= 1:
        return 1
    if _fallback_left > 0 and adaptive():
        if now_ns() < _fallback_end:
            if consume:
                _fallback_left -= 1
                _serialised += 1
            return 1
        _fallback_left = 0                # its time is up: try threads again
    return n


cdef void take_threads(int n) noexcept:
    """Mark `n` threads busy until give_threads(n); call both with the GIL held."""
    global _busy, _peak
    _busy += n
    if _busy > _peak:
        _peak = _busy


cdef void give_threads(int n) noexcept:
    """Give back what take_threads(n) took, after the kernel (GIL held); a threaded
    call's region is judged here."""
    global _busy
    _busy -= n
    if n > 1:
        judge_region(n)


def _threads_busy():
    """Threads held by relu_fast calls running now (tests)."""
    return _busy


def _hold_threads(int n):
    """Hold `n` threads of the budget as a running call would; n < 0 gives them back (tests)."""
    if n >= 0:
        take_threads(n)
    else:
        give_threads(-n)


def _peak_threads(reset=False):
    """Most threads held at once by concurrent calls since the last reset (tests)."""
    global _peak
    p = _peak
    if reset:
        _peak = _busy
    return p


cdef int _thread_count(object n, str who) except -1:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{who} takes an int >= 1, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{who} takes an int >= 1, got {n}")
    # more threads than the cores (or OMP_NUM_THREADS, if larger) never helps these
    # memory-bound loops, and tens of thousands would exhaust the process
    return min(int(n), _max_threads)


def set_num_threads(n):
    """Use `n` threads (an int >= 1; at most the cores, or OMP_NUM_THREADS if larger) for
    arrays above the grain size, whatever OMP_NUM_THREADS or torch.set_num_threads said
    before; threadpoolctl can still lower it.  Process-wide."""
    global _user_threads, _omp_at_user
    # relu_fast's own setting: OpenMP's (shared with every other library on the
    # same runtime) is left as it is, so limit_threads can undo this exactly.
    _user_threads = _thread_count(n, "set_num_threads")
    _omp_at_user = omp_get_max_threads()


def _omp_max_threads_at_import():
    """OpenMP's thread count when relu_fast was imported (tests)."""
    return _omp_initial


def get_num_threads():
    """Threads a large call would use now."""
    return threads_for(GRAIN, False)


def _get_user_threads():
    """set_num_threads' state: (its value, 0 if not set; OpenMP's count then)."""
    return (_user_threads, _omp_at_user)


def _restore_user_threads(state):
    """Put back a state from _get_user_threads()."""
    global _user_threads, _omp_at_user
    _user_threads, _omp_at_user = state


def _thread_limit_enter(n):
    """Open a limit_threads(n) block; returns the token that closes it."""
    global _block_threads, _block_omp
    cdef list token = [_thread_count(n, "limit_threads"), omp_get_max_threads()]
    _blocks.append(token)
    _block_threads = token[0]
    _block_omp = token[1]
    return token


def _thread_limit_exit(token):
    """Close the block `token` opened, wherever it stands among those open (blocks of
    several Python threads need not close in the order they opened)."""
    global _block_threads, _block_omp
    cdef Py_ssize_t k
    cdef list last
    for k in range(len(_blocks) - 1, -1, -1):
        if _blocks[k] is token:
            del _blocks[k]
            break
    if _blocks:
        last = _blocks[len(_blocks) - 1]
        _block_threads = last[0]
        _block_omp = last[1]
    else:
        _block_threads = _block_omp = 0


def _maps_line(path, size_t address):
    """(range, file) of the mapping in a /proc/<pid>/maps file that holds `address`."""
    with open(path) as f:
        for line in f:
            fields = line.split(None, 5)
            lo, _, hi = fields[0].partition("-")
            if int(lo, 16) <= address < int(hi, 16):
                return fields[0], fields[5].strip() if len(fields) > 5 else ""
    return None


def _openmp_mapping():
    """(address range, file) of the OpenMP runtime code relu_fast calls, from
    /proc/self/maps; None without OpenMP or /proc."""
    cdef size_t address = <size_t><void*>&omp_get_max_threads
    if not RELU_FAST_OPENMP or not os.path.exists("/proc/self/maps"):
        return None
    return _maps_line("/proc/self/maps", address)


def _inherited_openmp():
    """Is this process a fork of one that had relu_fast's OpenMP runtime loaded?

    A forked child inherits its parent's mappings at the same addresses; a program
    started afresh gets its own (address-space randomisation).  So the runtime's code
    mapped at the same range in the parent means this process is such a fork: if the
    parent (PyTorch, say) had started the runtime's thread pool, the pool's threads
    do not exist here and a parallel region would wait for them forever.  Linux only
    (/proc); elsewhere, and when it cannot tell, False."""
    ppid = os.getppid()
    if ppid <= 1:
        return False
    try:
        mine = _openmp_mapping()
        if mine is None or not mine[1]:
            return False
        with open(f"/proc/{ppid}/maps") as f:
            for line in f:
                fields = line.split(None, 5)
                if fields[0] == mine[0] and len(fields) > 5 and fields[5].strip() == mine[1]:
                    return True
    except (OSError, ValueError, IndexError):
        return False
    return False


def _after_fork_in_child():
    # GNU libgomp's thread pool does not survive fork(): a child that enters a
    # parallel region hangs.  Children run every call serially.
    global _in_forked_child, _busy, _peak
    _in_forked_child = True
    _busy = _peak = 0    # calls of other parent threads do not exist here


def _forked_child(flag=None):
    """Is this process marked as a forked child (serial)?  flag sets it (tests)."""
    global _in_forked_child
    if flag is not None:
        _in_forked_child = bool(flag)
    return _in_forked_child


def _grain(n=None):
    """The grain in elements; `n` sets it (for measuring it) and the old value is returned."""
    global GRAIN
    previous = GRAIN
    if n is not None:
        GRAIN = max(1, int(n))
    return previous


def _flush_denormals(flag=None, int nthreads=1):
    """The flush-to-zero / denormals-are-zero bits of this thread (MXCSR on x86-64, FPCR
    on ARM64) as an int, 0 when clear.  flag sets (True) or clears (False) them first,
    as torch.set_flush_denormal does, on this thread and, with nthreads > 1, on every
    thread of an OpenMP team of that size (tests: the kernels must not depend on them)."""
    cdef int on
    if flag is not None:
        on = 1 if flag else 0
        if nthreads > 1:
            with nogil, parallel(num_threads=nthreads):
                fp_set_flush(on)
        fp_set_flush(on)
    return int(fp_flush_bits())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
# relu_fast imported for the first time in a forked child: as if it had been
# imported before the fork (serial), when the parent had the runtime loaded.
_in_forked_child = _inherited_openmp()

HAVE_OPENMP = bool(RELU_FAST_OPENMP)

# ---------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------

cdef inline Py_ssize_t elu_cost(int dt) noexcept:
    return ELU_COST_F32 if dt == DT_F32 else ELU_COST_F64


cdef int dtype_code(cnp.ndarray a) noexcept:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return DT_F32
    if t == cnp.NPY_FLOAT64:
        return DT_F64
    return -1


cdef inline object _native(int dt):
    return np.float32 if dt == DT_F32 else np.float64


cdef cnp.ndarray as_array(object x, str name):
    """x as an ndarray of float32/float64, else TypeError naming the dtype."""
    cdef cnp.ndarray a
    if cnp.PyArray_Check(x):
        a = <cnp.ndarray>x
    else:
        if hasattr(x, "__dask_graph__"):
            raise _DaskInput()
        a = np.asarray(x)
    if dtype_code(a) < 0:
        raise TypeError(f"{name} has dtype {a.dtype}; relu_fast supports float32 and float64 "
                        f"(convert with .astype(numpy.float32) or numpy.float64)")
    return a


class _DaskInput(Exception):
    """Raised inside the API to hand a dask array over to relu_fast._dask."""


cdef inline bint is_direct(cnp.ndarray a, int order) noexcept:
    """Can a kernel read/write `a` as one flat block in memory order `order`?"""
    if not (cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_ISALIGNED(a)):
        return False
    if order == C_ORDER:
        return cnp.PyArray_IS_C_CONTIGUOUS(a)
    return cnp.PyArray_IS_F_CONTIGUOUS(a)


cdef int order_of(cnp.ndarray a) noexcept:
    if cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_IS_F_CONTIGUOUS(a):
        return C_ORDER
    return F_ORDER


cdef cnp.ndarray direct(cnp.ndarray a, int order, int dt):
    """`a` itself if a kernel can use it in `order`, else a fresh native copy in that order."""
    if is_direct(a, order):
        return a
    return np.array(a, dtype=_native(dt), order="F" if order == F_ORDER else "C", copy=True)


cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)

cdef object _pool_handler = _memory.HANDLER
cdef Py_ssize_t _pool_min = _memory.MIN_BYTES


cdef cnp.ndarray empty_like(cnp.ndarray a, int dt, int order):
    """A new array shaped like `a`; from _memory's cache of freed blocks when large."""
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef int typenum = cnp.NPY_FLOAT32 if dt == DT_F32 else cnp.NPY_FLOAT64
    if cnp.PyArray_SIZE(a) * (4 if dt == DT_F32 else 8) < _pool_min:
        return cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), typenum, order == F_ORDER)
    previous = PyDataMem_SetHandler(_pool_handler)
    try:
        return cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), typenum, order == F_ORDER)
    finally:
        PyDataMem_SetHandler(previous)


cdef inline bint same_block(cnp.ndarray a, cnp.ndarray b) noexcept:
    return cnp.PyArray_DATA(a) == cnp.PyArray_DATA(b) and cnp.PyArray_NBYTES(a) == cnp.PyArray_NBYTES(b)


cdef inline bint partly_overlaps(cnp.ndarray out, cnp.ndarray a) noexcept:
    """Do two flat blocks share memory without being the same block?"""
    cdef char* o0 = <char*>cnp.PyArray_DATA(out)
    cdef char* o1 = o0 + cnp.PyArray_NBYTES(out)
    cdef char* a0 = <char*>cnp.PyArray_DATA(a)
    cdef char* a1 = a0 + cnp.PyArray_NBYTES(a)
    if o0 >= a1 or a0 >= o1:
        return False
    return not same_block(out, a)


cdef cnp.ndarray check_out(object out, cnp.ndarray like, int dt, str what):
    """Validate `out` against the result's shape and dtype; raise before anything is written."""
    cdef cnp.ndarray o
    if not cnp.PyArray_Check(out):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    o = <cnp.ndarray>out
    if dtype_code(o) != dt:
        raise TypeError(f"out has dtype {o.dtype} but {what} is {np.dtype(_native(dt))}")
    if not cnp.PyArray_SAMESHAPE(o, like):
        raise ValueError(f"out has shape {(<object>o).shape} but {what} has shape {(<object>like).shape}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError("out is read-only")
    return o


cdef cnp.ndarray destination(object out, cnp.ndarray like, int dt, int order, cnp.ndarray a,
                             cnp.ndarray b):
    """Where a kernel writes a result shaped like `like`: a new array when out is None;
    else, after checking out, out itself when it is a flat block in `order` that is
    disjoint from the inputs a, b (b may be None) or exactly one of them; else a
    temporary that deliver() copies into out."""
    cdef cnp.ndarray o
    if out is None:
        return empty_like(like, dt, order)
    o = check_out(out, like, dt, "the result")
    if (is_direct(o, order) and not partly_overlaps(o, a)
            and (b is None or not partly_overlaps(o, b))):
        return o
    return empty_like(o, dt, order)


cdef cnp.ndarray deliver(object out, cnp.ndarray dst):
    """The call's result: dst, copied into out first if it was a temporary."""
    if out is None:
        return dst
    if dst is not out:
        np.copyto(out, dst)
    return <cnp.ndarray>out


cdef double real(object v, str name) except? -1.0:
    """A finite real parameter (slope, alpha) as a C double."""
    cdef double d
    if type(v) is float:
        d = <double>v
    elif isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    else:
        try:
            d = float(v)
        except OverflowError:
            raise ValueError(f"{name} must be finite, got {v!r}") from None
    if not isfinite(d):
        raise ValueError(f"{name} must be finite, got {d}")
    return d


cdef int fits(double v, int dt, str name) except -1:
    """A finite parameter must stay finite in x's dtype (1e300 is no float32 slope: as
    inf it would turn 0 * slope into NaN)."""
    if dt == DT_F32 and isinf(<float>v):
        raise ValueError(f"{name} = {v!r} overflows float32, x's dtype")
    return 0


# ---------------------------------------------------------------------------
# Elementwise drivers
# ---------------------------------------------------------------------------

cdef object _unary(int op, object x, object out, double param, str pname=None):
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    cdef int order = order_of(xa)
    cdef cnp.ndarray dst
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, None)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = n * elu_cost(dt) if op == OP_ELU else n
    cdef int nt = threads_for(work)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* py = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()            # this thread's FTZ/DAZ cleared for the call
    if work >= GRAIN:
        take_threads(nt)
        with nogil:
            K.unary(op, dt, px, py, n, param, nt)
        give_threads(nt)
    else:
        K.unary(op, dt, px, py, n, param, nt)
    fp_leave(fps)
    return deliver(out, dst)


cdef object _binary(int op, object grad_output, object x, object out, double param,
                    str pname=None):
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if pname is not None:
        fits(param, dt, pname)
    cdef int order
    cdef cnp.ndarray dst
    if dtype_code(ga) != dt:
        raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
    if not cnp.PyArray_SAMESHAPE(ga, xa):
        raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    dst = destination(out, xa, dt, order, xa, ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t work = n * elu_cost(dt) if op == OP_ELU_BWD else n
    cdef int nt = threads_for(work)
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef fpstate fps = fp_enter()
    if work >= GRAIN:
        take_threads(nt)
        with nogil:
            K.binary(op, dt, pg, px, pd, n, param, nt)
        give_threads(nt)
    else:
        K.binary(op, dt, pg, px, pd, n, param, nt)
    fp_leave(fps)
    return deliver(out, dst)


def _dask_call(name, *args, **kwargs):
    from relu_fast import _dask
    return getattr(_dask, name)(*args, **kwargs)


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def relu(x, *, out=None):
    """relu(x) = x if x > 0 else 0.  NaN stays NaN, -inf -> 0.

    x: array-like of float32/float64.  out: optional ndarray of the same shape and
    dtype to write into (out=x works in place).  Returns an ndarray.
    """
    try:
        return _unary(OP_RELU, x, out, 0.0)
    except _DaskInput:
        return _dask_call("relu", x, out=out)


def relu_backward(grad_output, x, *, out=None):
    """d relu: grad_input = 0 where x <= 0, else grad_output (a NaN x passes it).

    x may be relu's input or its output: both give the same answer.
    """
    try:
        return _binary(OP_RELU_BWD, grad_output, x, out, 0.0)
    except _DaskInput:
        return _dask_call("relu_backward", grad_output, x, out=out)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    """leaky_relu(x) = x if x > 0 else negative_slope * x (slope rounded to x's dtype)."""
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _unary(OP_LEAKY, x, out, s, "negative_slope")
    except _DaskInput:
        return _dask_call("leaky_relu", x, negative_slope, out=out)


def leaky_relu_backward(grad_output, x, negative_slope=0.01, *, out=None):
    """d leaky_relu: grad_input = grad_output if x > 0 else negative_slope * grad_output."""
    cdef double s = real(negative_slope, "negative_slope")
    try:
        return _binary(OP_LEAKY_BWD, grad_output, x, out, s, "negative_slope")
    except _DaskInput:
        return _dask_call("leaky_relu_backward", grad_output, x, negative_slope, out=out)


def elu(x, alpha=1.0, *, out=None):
    """elu(x) = x if x > 0 else alpha * expm1(x), evaluated in float64."""
    cdef double a = real(alpha, "alpha")
    try:
        return _unary(OP_ELU, x, out, a, "alpha")
    except _DaskInput:
        return _dask_call("elu", x, alpha, out=out)


def elu_backward(grad_output, x, alpha=1.0, *, is_result=False, out=None):
    """d elu: grad_input = grad_output if x > 0 else grad_output * alpha * exp(x).

    With is_result=True, x is elu's output y and grad_input = grad_output * (y + alpha)
    where y <= 0 (needs alpha >= 0, since otherwise y does not tell the sign of x).
    """
    cdef double a = real(alpha, "alpha")
    if not isinstance(is_result, (bool, np.bool_)):
        raise TypeError(f"is_result must be a bool, got {type(is_result).__name__}")
    if is_result and not a >= 0:
        raise ValueError(f"elu_backward with is_result=True needs alpha >= 0, got {a}")
    try:
        return _binary(OP_ELU_BWD_RESULT if is_result else OP_ELU_BWD, grad_output, x, out, a, "alpha")
    except _DaskInput:
        return _dask_call("elu_backward", grad_output, x, alpha, is_result=is_result, out=out)


# ---------------------------------------------------------------------------
# PReLU
# ---------------------------------------------------------------------------

cdef cnp.ndarray _real_array(object weight):
    """weight (not an ndarray) as an array of real numbers: Python and NumPy numbers,
    Fractions and other numbers.Real, or sequences of them; bools refused."""
    cdef cnp.ndarray w
    if isinstance(weight, numbers.Real) and not isinstance(weight, (bool, np.bool_)):
        try:
            return np.asarray(float(weight))
        except OverflowError:
            raise ValueError(f"weight must be finite, got {weight!r}") from None
    w = np.asarray(weight)
    if w.dtype == object:
        flat = w.reshape(-1)
        if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in flat):
            try:
                return np.array([float(v) for v in flat], dtype=np.float64).reshape((<object>w).shape)
            except OverflowError:
                raise ValueError("weight must hold finite values") from None
    if w.dtype.kind not in "fiu" or w.dtype == np.bool_:
        raise TypeError(f"weight must be real numbers, got dtype {w.dtype}")
    return w


cdef cnp.ndarray _weight(object weight, int dt):
    """weight as a contiguous native 1-D array of x's dtype."""
    cdef cnp.ndarray w
    if cnp.PyArray_Check(weight):
        w = <cnp.ndarray>weight
        if dtype_code(w) != dt:
            raise TypeError(f"weight has dtype {w.dtype} but x is {np.dtype(_native(dt))}; they must match")
        if cnp.PyArray_NDIM(w) == 1 and cnp.PyArray_SIZE(w) > 0 and is_direct(w, C_ORDER):
            return w                     # the common case, checked in C
    else:
        w = _real_array(weight)
        wide = w.astype(np.float64)
        with np.errstate(over="ignore"):
            w = wide.astype(_native(dt))
        if np.any(np.isinf(w) & np.isfinite(wide)):
            raise ValueError(f"weight holds values that overflow {np.dtype(_native(dt))}, x's dtype")
    if w.ndim > 1:
        raise ValueError(f"weight must be a scalar or 1-D, got shape {(<object>w).shape}")
    if w.size == 0:
        raise ValueError("weight is empty; it needs one alpha, or one per channel")
    return np.ascontiguousarray(w.reshape(-1), dtype=_native(dt))


cdef int _prelu_geometry(cnp.ndarray xa, cnp.ndarray w, object axis, int order,
                         Py_ssize_t* outer, Py_ssize_t* channels, Py_ssize_t* inner) except -1:
    """(outer, channels, inner) of x's memory block, in memory order."""
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef Py_ssize_t nw = cnp.PyArray_SIZE(w), n = cnp.PyArray_SIZE(xa)
    cdef Py_ssize_t ax, k, before = 1, after = 1, C
    if type(axis) is not int and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    outer[0], channels[0], inner[0] = 1, 1, n
    if nd < 2:
        if nw != 1:
            raise ValueError(f"x is {nd}-D: it has no channel axis, so weight must hold one alpha, "
                             f"got {nw}")
        return 0
    if axis < -nd or axis >= nd:
        raise ValueError(f"axis {axis} is out of range for x with {nd} dimensions")
    ax = axis
    if ax < 0:
        ax += nd
    C = cnp.PyArray_DIM(xa, ax)
    if nw != 1 and nw != C:
        raise ValueError(f"weight has {nw} values but x has {C} channels along axis {axis}")
    if nw == 1:
        return 0
    for k in range(ax):
        before *= cnp.PyArray_DIM(xa, k)
    for k in range(ax + 1, nd):
        after *= cnp.PyArray_DIM(xa, k)
    # memory order: C order has the leading axes outermost, F order the trailing ones
    outer[0], channels[0], inner[0] = (before, C, after) if order == C_ORDER else (after, C, before)
    return 0


# PReLU as rows.  Channel runs shorter than SHORT_RUN (3x3 feature maps, say) and rows
# shorter than ROW_MIN (channels-last with few channels, (batch, 4) say) are too short
# for the kernels' vector loops.  From AS_ROWS_MIN elements (below, the repeated
# weights cost more than they save), x is
# handed over as rows of k source rows of channels * inner values each (k >= 1, enough
# for ROW_MIN values), with each weight repeated inner times and the whole k times;
# the source rows left over (outer % k) as a second call.  Needs two such rows at least
# (rows are what threads share).  The plan depends on the shape only, never on the
# thread count or the kernel level: grad_weight's summation order must not either (on
# SSE2 the rows stay branchy, so the baseline pays for the plan it shares).
cdef Py_ssize_t SHORT_RUN = 16
cdef Py_ssize_t ROW_MIN = 64
cdef Py_ssize_t AS_ROWS_MIN = 8192


cdef Py_ssize_t _rows_of(Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t n) noexcept:
    """k, the source rows per row of the plan above, or 0: leave x as it is."""
    cdef Py_ssize_t k
    if n < AS_ROWS_MIN or inner >= SHORT_RUN:
        return 0
    if inner == 1 and C >= ROW_MIN:           # rows long enough already
        return 0
    k = 1 if C * inner >= ROW_MIN else (ROW_MIN + C * inner - 1) // (C * inner)
    return k if outer // k >= 2 else 0


def prelu(x, weight, *, axis=1, out=None):
    """prelu(x) = x if x > 0 else alpha[c] * x, c the index along `axis`.

    weight: one alpha (scalar or size 1), or one per channel (1-D, x.shape[axis]
    values); axis=1 is PyTorch's NCHW layout, axis=-1 channels-last.
    """
    if not cnp.PyArray_Check(x) and hasattr(x, "__dask_graph__"):
        return _dask_call("prelu", x, weight, axis=axis, out=out)
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    cdef Py_ssize_t outer, C, inner
    cdef cnp.ndarray dst
    _prelu_geometry(xa, w, axis, order, &outer, &C, &inner)
    xa = direct(xa, order, dt)
    dst = destination(out, xa, dt, order, xa, w)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef int nt = threads_for(n)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pw = cnp.PyArray_DATA(w)
    cdef void* pd = cnp.PyArray_DATA(dst)
    cdef Py_ssize_t k = _rows_of(outer, C, inner, n) if C > 1 else 0
    cdef Py_ssize_t L = C * inner, main = outer, rest = 0, skip = 0
    if k:                                    # rows of k * L values, then the rest rows
        w = np.tile(np.repeat(w, inner), k)
        pw = cnp.PyArray_DATA(w)
        main, rest = outer // k, outer % k
        C, inner = k * L, 1
        skip = main * C * cnp.PyArray_ITEMSIZE(xa)
    cdef fpstate fps = fp_enter()
    take_threads(nt)
    if C == 1:
        # one alpha: exactly leaky_relu with that slope
        with nogil:
            K.unary(OP_LEAKY, dt, px, pd, n, (<float*>pw)[0] if dt == DT_F32 else (<double*>pw)[0], nt)
    else:
        with nogil:
            K.prelu_forward(dt, px, pw, pd, main, C, inner, nt)
            if rest:
                K.prelu_forward(dt, <const char*>px + skip, pw, <char*>pd + skip, rest, L, 1, nt)
    give_threads(nt)
    fp_leave(fps)
    return deliver(out, dst)


def prelu_backward(grad_output, x, weight, *, axis=1):
    """Gradients of prelu: (grad_input, grad_weight).

    grad_input = grad_output if x > 0 else alpha[c] * grad_output;
    grad_weight[c] = sum over channel c of (x > 0 ? 0 : x * grad_output), summed in
    float64 inside the kernel, shaped like weight.
    """
    if (not cnp.PyArray_Check(x) and hasattr(x, "__dask_graph__")) or (
            not cnp.PyArray_Check(grad_output) and hasattr(grad_output, "__dask_graph__")):
        return _dask_call("prelu_backward", grad_output, x, weight, axis=axis)
    return _prelu_backward(grad_output, x, weight, axis, False)


def _prelu_backward_sums(grad_output, x, weight, axis=1):
    """prelu_backward with grad_weight left as its float64 sums, 1-D and unrounded
    (dask adds the chunks' sums and rounds once)."""
    return _prelu_backward(grad_output, x, weight, axis, True)


cdef tuple _prelu_backward(object grad_output, object x, object weight, object axis, bint wide):
    cdef cnp.ndarray ga = as_array(grad_output, "grad_output")
    cdef cnp.ndarray xa = as_array(x, "x")
    cdef int dt = dtype_code(xa)
    if dtype_code(ga) != dt:
        raise TypeError(f"grad_output has dtype {ga.dtype} but x has dtype {xa.dtype}; they must match")
    if not cnp.PyArray_SAMESHAPE(ga, xa):
        raise ValueError(f"grad_output has shape {(<object>ga).shape} but x has shape {(<object>xa).shape}; they must match")
    cdef cnp.ndarray w = _weight(weight, dt)
    cdef int order = order_of(xa)
    if order != order_of(ga):
        order = C_ORDER
    cdef Py_ssize_t outer, C, inner, c
    _prelu_geometry(xa, w, axis, order, &outer, &C, &inner)
    xa = direct(xa, order, dt)
    ga = direct(ga, order, dt)
    cdef cnp.ndarray gx = empty_like(xa, dt, order)
    cdef cnp.npy_intp nc = C
    # grad_weight is summed in float64; float32 results are rounded from it below,
    # the float64 sums kept on the stack when there are few channels
    cdef cnp.ndarray gw = cnp.PyArray_EMPTY(
        1, &nc, cnp.NPY_FLOAT64 if dt == DT_F64 or wide else cnp.NPY_FLOAT32, 0)
    cdef cnp.ndarray gw64 = None
    cdef double few_sums[256]
    cdef double* pgw
    if dt == DT_F64 or wide:
        pgw = <double*>cnp.PyArray_DATA(gw)
    elif C <= 256:
        pgw = few_sums
    else:
        gw64 = cnp.PyArray_EMPTY(1, &nc, cnp.NPY_FLOAT64, 0)
        pgw = <double*>cnp.PyArray_DATA(gw64)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef int nt = threads_for(n)
    cdef int status
    cdef const void* pg = cnp.PyArray_DATA(ga)
    cdef const void* px = cnp.PyArray_DATA(xa)
    cdef const void* pw = cnp.PyArray_DATA(w)
    cdef void* pgx = cnp.PyArray_DATA(gx)
    cdef float* pgw32 = <float*>cnp.PyArray_DATA(gw)
    # as rows (see _rows_of): a sum per position of the k * L-value rows, then L for the
    # rest rows; per channel its positions added in order, row copy by row copy
    cdef Py_ssize_t k = _rows_of(outer, C, inner, n)
    cdef Py_ssize_t L = C * inner, main = outer, rest = 0, skip = 0, t, i
    cdef cnp.ndarray row_sums = None
    cdef double* psums = pgw
    if k:
        w = np.tile(np.repeat(w, inner), k)
        pw = cnp.PyArray_DATA(w)
        row_sums = np.zeros((k + 1) * L, np.float64)
        psums = <double*>cnp.PyArray_DATA(row_sums)
        main, rest = outer // k, outer % k
        skip = main * k * L * cnp.PyArray_ITEMSIZE(xa)
    cdef fpstate fps = fp_enter()            # the folds and the float32 rounding too
    take_threads(nt)
    with nogil:
        if k:
            status = K.prelu_backward(dt, pg, px, pw, pgx, psums, main, k * L, 1, nt)
            if status == 0 and rest:
                status = K.prelu_backward(dt, <const char*>pg + skip, <const char*>px + skip, pw,
                                          <char*>pgx + skip, psums + k * L, rest, L, 1, nt)
            if status == 0:
                for c in range(C):
                    pgw[c] = 0.0
                    for t in range(k + 1):   # the rest rows' sums are zeros when there are none
                        for i in range(inner):
                            pgw[c] += psums[t * L + c * inner + i]
        else:
            status = K.prelu_backward(dt, pg, px, pw, pgx, pgw, outer, C, inner, nt)
        if dt == DT_F32 and not wide:
            for c in range(C):
                pgw32[c] = <float>pgw[c]     # a sum past float32's range becomes inf
    give_threads(nt)
    fp_leave(fps)
    if status != 0:
        raise MemoryError("prelu_backward could not allocate its per-part sums")
    if wide or (cnp.PyArray_Check(weight) and cnp.PyArray_NDIM(<cnp.ndarray>weight) == 1):
        return gx, gw
    return gx, gw.reshape(np.shape(weight))
