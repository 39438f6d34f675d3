"""Choose the kernel module for this CPU.

Kernels are compiled once per instruction-set level (declared in _levels.py); the best
level the CPU and OS support is used, unless RELU_FAST_MAX_LEVEL names a lower one
(``baseline``, ``avx2``, ``avx512``; ``native`` exists only in a RELU_FAST_NATIVE build).
"""
import importlib
import os
import warnings

from . import _cpu, _levels

LEVELS = _levels.NAMES
ENV_VAR = "RELU_FAST_MAX_LEVEL"


def load(level):
    """Import the kernel module for `level` (ImportError if it was not built)."""
    if level not in LEVELS + ("native",):
        raise ValueError(f"unknown kernel level {level!r}; known: {', '.join(LEVELS)}")
    return importlib.import_module(f"relu_fast._kernels_{level}")


def _built(level):
    try:
        load(level)
    except ImportError:
        return False
    return True


def available_levels():
    """Levels that were built and that this CPU can run, lowest first."""
    return [lv for lv in _cpu.supported_levels() if _built(lv)]


def choose_level(env=None):
    """The level to use: the best available, capped by RELU_FAST_MAX_LEVEL if set."""
    env = os.environ if env is None else env
    levels = available_levels()
    cap = env.get(ENV_VAR, "").strip().lower()
    if not cap:
        return levels[-1]
    if cap == "native":
        if _built("native"):
            return "native"
        warnings.warn(f"{ENV_VAR}=native but this build has no native kernels "
                      "(build with RELU_FAST_NATIVE=1); using the best portable level",
                      RuntimeWarning, stacklevel=2)
        return levels[-1]
    if cap not in LEVELS:
        warnings.warn(f"{ENV_VAR}={cap!r} is not one of {', '.join(LEVELS)}; ignoring it",
                      RuntimeWarning, stacklevel=2)
        return levels[-1]
    allowed = LEVELS[: LEVELS.index(cap) + 1]
    return [lv for lv in levels if lv in allowed][-1]
