"""limit_threads: a block that uses fewer threads."""
from contextlib import contextmanager

from . import _api


@contextmanager
def limit_threads(n):
    """Within the block, relu_fast uses `n` threads (an int >= 1), as set_num_threads.

    Process-wide, like set_num_threads: the previous setting comes back on exit.
    """
    previous = _api._get_user_threads()
    _api.set_num_threads(n)
    try:
        yield
    finally:
        _api._restore_user_threads(previous)
