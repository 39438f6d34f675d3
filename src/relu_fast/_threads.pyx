"""How many threads a call gets: the thread budget shared by concurrent calls, the
user's settings (set_num_threads, limit_threads, OpenMP's and threadpoolctl's limits),
fork safety, and the policy on shared cores.  Knows nothing of arrays or kernels but
the region report the kernels hand over (use_team_report).
"""
import numbers
import os
from contextlib import contextmanager

from relu_fast._openmp cimport RELU_FAST_OPENMP, omp_get_max_threads, omp_get_thread_limit
from relu_fast._table cimport DT_F64, team_report_fn
from relu_fast._team cimport now_ns

cdef team_report_fn _team_report = NULL


cdef void use_team_report(team_report_fn report) noexcept:
    """The kernels whose regions give_threads judges (the level _api uses)."""
    global _team_report
    _team_report = report


cdef Py_ssize_t grain() noexcept:
    return GRAIN


cdef Py_ssize_t elu_cost(int dt) noexcept:
    return ELU_COST_F64 if dt == DT_F64 else ELU_COST_F32     # 16-bit: float32 arithmetic


# Below this many elements one thread is faster than waking a team (docs: threads).
cdef Py_ssize_t GRAIN = 32768
# ELU's exp costs about this many relu elements (FMA levels), so its grain is
# GRAIN / ELU_COST (docs: threads).
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
# virtual machine an idle vCPU can take milliseconds to wake): the next rule's business.
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

# The policy on an idle machine.  An OpenMP team left idle for a while sleeps, and a
# region that wakes it waits for the worker to be scheduled again: tens of µs on bare
# metal, milliseconds on a virtual machine whose idle vCPU the host has halted.  A call
# that finds the team asleep (no region ended within WARM_NS) and whose threaded gain
# would not pay for that wake runs on one thread.  The wake's cost is measured on every
# region that found the team asleep (its wall time minus its share of the work); a call
# that finds the team asleep goes threaded once in every PROBE_NS, to measure it again.
# Calls that follow each other closely (a burst) add up the gain they gave up, and the
# first call whose gain brings the sum to the wake's cost goes threaded (ski rental: a
# burst pays at most twice the better of the two choices), waking the team for the rest.
cdef long long PROBE_NS = 1000000000
cdef double _wake_ns = 0.0                # a cold region's cost of waking (0: not measured)
cdef double _unit_ns = 0.0                # ns per unit of work on one thread (regions' mean)
cdef double _burst_credit = 0.0           # gain given up by this burst's serial calls, ns
cdef long long _last_call_end = 0         # of any call above the grain
cdef long long _next_probe = 0
cdef Py_ssize_t _region_units = 0         # work units of the last call above the grain (0: none open)
cdef long long _cold_serial = 0           # counter (tests, bench)


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


cdef void learn_costs(long long region, long long work, int team, bint warm) noexcept:
    """The one-thread cost per unit of work, and (the team found asleep) the wake's cost."""
    global _unit_ns, _wake_ns, _next_probe
    cdef double seen, per_unit = <double>work / <double>_region_units
    if _unit_ns == 0.0:
        _unit_ns = per_unit
    else:                                 # a mean that one odd region moves little
        per_unit = min(max(per_unit, 0.25 * _unit_ns), 4.0 * _unit_ns)
        _unit_ns = 0.75 * _unit_ns + 0.25 * per_unit
    if not warm:
        seen = <double>region - <double>work / team
        if seen < 0.0:
            seen = 0.0
        _wake_ns = seen if _wake_ns == 0.0 else 0.5 * (_wake_ns + seen)
        _next_probe = now_ns() + PROBE_NS


cdef bint wake_not_worth(Py_ssize_t work, int n) noexcept:
    """Does a call of `work` units on `n` threads find the team asleep, with a gain
    (with the rest of its burst's) below the wake's cost?  Then it runs on one thread."""
    global _burst_credit, _cold_serial
    cdef long long t = now_ns()
    cdef double gain
    if t - _last_region_end <= WARM_NS:
        return False                      # the team is awake
    if t - _last_call_end > WARM_NS:
        _burst_credit = 0.0               # a new burst
    if t >= _next_probe:
        return False                      # this one measures the wake again (learn_costs)
    gain = <double>work * _unit_ns * (1.0 - 1.0 / n)
    if _burst_credit + gain >= _wake_ns:
        return False
    _burst_credit += gain
    _cold_serial += 1
    return True


cdef void judge_region(int team) noexcept:
    """After a threaded call of `team` threads (GIL held): learn from its region."""
    global _fallback_left, _fallback_end, _fallback_len, _last_region_end, _fallbacks
    global _last_region, _last_work, _strikes
    cdef long long region, work, end
    cdef bint warm
    if _team_report == NULL:
        return
    _team_report(&region, &work)
    if region <= 0:
        return
    _last_region, _last_work = region, work
    end = now_ns()
    warm = end - region - _last_region_end <= WARM_NS
    _last_region_end = end
    if _region_units > 0 and work > 0:
        learn_costs(region, work, team, warm)
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


def _policy(reset=False, expire=False, others=False, wake_us=None, probe_now=False,
            warm_us=None, probe_every_s=None):
    """The shared-core policy's state (tests, bench): reset forgets it all, expire ends
    a fallback now; others (an int, or None for /proc) sets what the policy takes for
    the number of other processes' running threads; wake_us sets the measured cost of
    waking the team, probe_now lets the next call that finds it asleep measure it,
    warm_us how soon after a region the team counts as awake (reset: 1000 µs),
    probe_every_s how often the wake is measured again (reset: 1 s; from now)."""
    global _fallback_left, _fallback_len, _last_region_end, _fallbacks, _serialised
    global _others_override, _strikes, _wake_ns, _unit_ns, _burst_credit, _last_call_end
    global _next_probe, _cold_serial, WARM_NS, PROBE_NS
    if reset:
        WARM_NS = 1000000
        PROBE_NS = 1000000000
        _fallback_left = _last_region_end = _fallbacks = _serialised = _strikes = 0
        _fallback_len = FALLBACK_MIN
        _others_override = None
        _wake_ns = _unit_ns = _burst_credit = 0.0
        _last_call_end = _next_probe = _cold_serial = 0
    if wake_us is not None:
        _wake_ns = float(wake_us) * 1e3
    if probe_now:
        _next_probe = 0
    if warm_us is not None:
        WARM_NS = int(warm_us * 1e3)
    if probe_every_s is not None:
        PROBE_NS = int(probe_every_s * 1e9)
        _next_probe = now_ns() + PROBE_NS
    if others is not False:
        _others_override = others
    if expire:
        _fallback_left = 0
    return {"fallback_calls_left": _fallback_left, "fallback_length": _fallback_len,
            "fallbacks": _fallbacks, "serialised_calls": _serialised,
            "last_region_us": _last_region / 1e3, "last_work_us": _last_work / 1e3,
            "wake_us": _wake_ns / 1e3, "unit_ns": _unit_ns, "cold_serial_calls": _cold_serial}


cdef int threads_for(Py_ssize_t work, bint consume=True) noexcept:
    """Threads for a call over `work` elements.

    1 below the grain or in a forked child; else the value of the limit_threads block
    entered last of those still open, else set_num_threads' value if set, else OpenMP's
    (OMP_NUM_THREADS, the cores, torch.set_num_threads); lowered by a limit put on
    OpenMP after that setting was made (threadpoolctl); at most OMP_THREAD_LIMIT;
    minus the threads held by calls running now in other Python threads; at least 1."""
    global _fallback_left, _serialised, _region_units
    cdef int n, omp_now, ref
    if work < GRAIN or _in_forked_child:
        return 1
    if consume:
        _region_units = work              # a call above the grain (give_threads)
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
    if _wake_ns > 0.0 and consume and adaptive() and wake_not_worth(work, n):
        return 1
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
    global _busy, _last_call_end, _region_units
    _busy -= n
    if _region_units > 0:                 # not for calls below the grain: no clock read
        if n > 1:
            judge_region(n)
        _last_call_end = now_ns()
        _region_units = 0


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
    """Set the number of threads that relu_fast's calls on large arrays use.

    Process-wide, and relu_fast's own setting: the OpenMP runtime's count, which
    other libraries share, is left as it is.  It wins over ``OMP_NUM_THREADS`` and
    over a ``torch.set_num_threads`` made before it.

    Parameters
    ----------
    n : int
        Number of threads, at least 1.  Values above the number of cores (or above
        ``OMP_NUM_THREADS``, if that is larger) are lowered to it.

    Raises
    ------
    TypeError
        If `n` is not an int (a float, a str or a bool).
    ValueError
        If `n` is less than 1.

    See Also
    --------
    relu_fast.get_num_threads : The number a large call would use now.
    relu_fast.limit_threads : The same, for the duration of a ``with`` block.

    Notes
    -----
    A call over fewer elements than the grain size (README, "Threads") runs on the
    calling thread whatever the setting, and so does every call in a forked child.
    An open `relu_fast.limit_threads` block takes precedence; a limit put on OpenMP
    later (``threadpoolctl.threadpool_limits``) lowers the count, and so do
    ``OMP_THREAD_LIMIT`` and the threads held by concurrent calls from other Python
    threads.  A fixed count turns off the shared-core policy that otherwise runs
    calls on one thread while other processes hold the cores.
    ``set_num_threads(1)`` makes the process serial.

    Examples
    --------
    >>> import relu_fast as rf
    >>> rf.set_num_threads(1)
    >>> rf.get_num_threads()
    1
    """
    global _user_threads, _omp_at_user
    # relu_fast's own setting: OpenMP's (shared with every other library on the
    # same runtime) is left as it is, so limit_threads can undo this exactly.
    _user_threads = _thread_count(n, "set_num_threads")
    _omp_at_user = omp_get_max_threads()


def _omp_max_threads_at_import():
    """OpenMP's thread count when relu_fast was imported (tests)."""
    return _omp_initial


def get_num_threads():
    """Return the number of threads a call on a large array would use now.

    Returns
    -------
    int
        At least 1: the value of the `relu_fast.limit_threads` block entered last
        (of those still open), else that of `relu_fast.set_num_threads`, else
        OpenMP's count (``OMP_NUM_THREADS``, else the cores); lowered by a later
        OpenMP limit (threadpoolctl), by ``OMP_THREAD_LIMIT`` and by the threads
        held by calls running now in other Python threads.  1 in a forked child
        and while the shared-core policy runs calls on one thread.

    See Also
    --------
    relu_fast.set_num_threads : Fix the count for the process.
    relu_fast.limit_threads : Fix it within a ``with`` block.

    Examples
    --------
    >>> import relu_fast as rf
    >>> rf.get_num_threads() >= 1
    True
    >>> with rf.limit_threads(1):
    ...     rf.get_num_threads()
    1
    """
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


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
# relu_fast imported for the first time in a forked child: as if it had been
# imported before the fork (serial), when the parent had the runtime loaded.
_in_forked_child = _inherited_openmp()


@contextmanager
def limit_threads(n):
    """Use `n` threads for relu_fast's calls on large arrays within a ``with`` block.

    As `relu_fast.set_num_threads` would, for the block's duration only.
    Process-wide: the block entered last of those open decides, and when a block
    closes only its own setting goes, so blocks in several Python threads may
    open and close in any order.

    Parameters
    ----------
    n : int
        Number of threads, at least 1 (lowered to the number of cores, or to
        ``OMP_NUM_THREADS`` if that is larger).

    Yields
    ------
    None
        The block runs with the limit; on leaving it the setting before it
        (another block's, `relu_fast.set_num_threads`' or OpenMP's) applies again.

    Raises
    ------
    TypeError
        If `n` is not an int (a float, a str or a bool), on entering the block.
    ValueError
        If `n` is less than 1, on entering the block.

    See Also
    --------
    relu_fast.set_num_threads : Fix the count for the process.
    relu_fast.get_num_threads : The number a large call would use now.

    Notes
    -----
    A limit put on OpenMP later (threadpoolctl) still lowers the count, and small
    arrays run on the calling thread anyway.  ``limit_threads(1)`` makes the
    block serial.

    Examples
    --------
    >>> import relu_fast as rf
    >>> with rf.limit_threads(1):
    ...     rf.get_num_threads()
    1
    """
    token = _thread_limit_enter(n)
    try:
        yield
    finally:
        _thread_limit_exit(token)
