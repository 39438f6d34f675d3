"""limit_threads: a block that uses fewer threads."""
from contextlib import contextmanager

from . import _api


@contextmanager
def limit_threads(n):
    """Within the block, relu_fast uses at most `n` threads (an int >= 1).

    Process-wide, like set_num_threads: the previous setting comes back on exit.
    """
    previous = _api._thread_state()
    _api.set_num_threads(n)
    try:
        yield
    finally:
        _api._restore_thread_state(previous)
