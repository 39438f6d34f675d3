"""limit_threads: a block in which relu_fast uses n threads."""
from contextlib import contextmanager

from . import _api


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
    token = _api._thread_limit_enter(n)
    try:
        yield
    finally:
        _api._thread_limit_exit(token)
