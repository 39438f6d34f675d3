"""Where relu_fast's large outputs live: a NumPy memory handler that keeps freed
blocks, up to a limit, for the next call (C code and rules in _pool.h).

An allocating call on a large array otherwise pays for fresh pages every time: a
page fault per page and the kernel zeroing it, most of the call's time (the docs'
memory page has the measurements).  Only outputs of at least MIN_BYTES use it; the
arrays own their data as usual.
"""
import os
import warnings

cimport numpy as cnp

cnp.import_array()

cdef extern from "_pool.h":
    size_t RF_POOL_MIN
    int RF_POOL_SLOTS
    int rf_pool_count
    size_t rf_pool_bytes
    size_t rf_pool_limit
    unsigned long long rf_pool_hits, rf_pool_misses
    object rf_pool_capsule()
    size_t rf_pool_set_limit(size_t limit)

MIN_BYTES = RF_POOL_MIN
SIZE_MAX = <object>(<size_t>-1)
DEFAULT_LIMIT_MB = 1024

HANDLER = rf_pool_capsule()
"""The handler (a 'mem_handler' capsule), for numpy's PyDataMem_SetHandler."""


def _physical_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _initial_limit(env=None):
    """The limit at import: RELU_FAST_CACHE_MB if set (MiB, an int >= 0; 0 turns the
    cache off; values past the address space are clamped to it), else DEFAULT_LIMIT_MB
    but at most 1/16 of the physical memory.  A value that is not such an int is
    ignored with a RuntimeWarning."""
    env = os.environ if env is None else env
    text = env.get("RELU_FAST_CACHE_MB", "").strip()
    if text:
        try:
            mb = int(text)
        except ValueError:
            mb = -1
        if mb >= 0:
            return min(mb << 20, SIZE_MAX)    # a huge value means "no limit", as in set_cache_limit
        warnings.warn(f"RELU_FAST_CACHE_MB={text!r} is not an int >= 0 (MiB); ignoring it",
                      RuntimeWarning, stacklevel=2)
    limit = DEFAULT_LIMIT_MB << 20
    phys = _physical_bytes()
    if phys:
        limit = min(limit, phys // 16)
    return limit


def set_cache_limit(nbytes):
    """Set how many bytes of freed output memory relu_fast keeps for reuse.

    Large outputs (at least ``cache_info()["min_bytes"]``) that relu_fast
    allocates come from a cache of freed blocks, which saves the page faults and
    zeroing of fresh memory.  Process-wide; lowering the limit frees kept blocks
    at once, oldest first.

    Parameters
    ----------
    nbytes : int
        The new limit in bytes, at least 0; 0 turns the cache off and frees
        everything it keeps.  Values past the address space are clamped to it.

    Returns
    -------
    int
        The previous limit in bytes.

    Raises
    ------
    TypeError
        If `nbytes` is not an int (a float, a str or a bool).
    ValueError
        If `nbytes` is negative.

    See Also
    --------
    relu_fast.cache_info : The cache's limit and contents now.

    Notes
    -----
    The limit at import is ``RELU_FAST_CACHE_MB`` MiB if that is set, else
    1 GiB or 1/16 of the physical memory, whichever is less.  At most
    ``cache_info()["max_blocks"]`` blocks are kept; a kept block serves a request
    of its size or up to 1/8 smaller.  Kept memory counts in the process's
    resident size until it is reused or freed.

    Examples
    --------
    >>> import relu_fast as rf
    >>> previous = rf.set_cache_limit(0)     # off: free what is kept
    >>> rf.cache_info()["kept_bytes"]
    0
    >>> rf.set_cache_limit(previous)
    0
    """
    if isinstance(nbytes, bool) or not hasattr(nbytes, "__index__"):
        raise TypeError(f"set_cache_limit takes an int >= 0 (bytes), got {type(nbytes).__name__}")
    n = nbytes.__index__()
    if n < 0:
        raise ValueError(f"set_cache_limit takes an int >= 0 (bytes), got {n}")
    return rf_pool_set_limit(min(n, SIZE_MAX))


def cache_info():
    """Return the state of the output cache now.

    Returns
    -------
    dict
        ``limit`` (bytes, as set by `relu_fast.set_cache_limit`), ``kept_bytes``
        and ``kept_blocks`` (kept now), ``max_blocks`` (the most it keeps),
        ``min_bytes`` (the smallest output that uses it), ``hits`` and
        ``misses`` (allocations served from kept blocks or not, since import);
        all ints.

    See Also
    --------
    relu_fast.set_cache_limit : Change the limit.

    Examples
    --------
    >>> import relu_fast as rf
    >>> sorted(rf.cache_info())
    ['hits', 'kept_blocks', 'kept_bytes', 'limit', 'max_blocks', 'min_bytes', 'misses']
    """
    return {"limit": rf_pool_limit, "kept_bytes": rf_pool_bytes, "kept_blocks": rf_pool_count,
            "max_blocks": RF_POOL_SLOTS, "min_bytes": RF_POOL_MIN,
            "hits": rf_pool_hits, "misses": rf_pool_misses}


rf_pool_set_limit(_initial_limit())
