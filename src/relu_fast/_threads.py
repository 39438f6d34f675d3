"""limit_threads: a block in which relu_fast uses n threads."""
from contextlib import contextmanager

from . import _api


@contextmanager
def limit_threads(n):
    """Within the block, relu_fast uses `n` threads (an int >= 1), as set_num_threads
    would; threadpoolctl can still lower it.  Process-wide: the block entered last of
    those open decides, and when a block closes only its own setting goes, so blocks
    in several Python threads may open and close in any order."""
    token = _api._thread_limit_enter(n)
    try:
        yield
    finally:
        _api._thread_limit_exit(token)
