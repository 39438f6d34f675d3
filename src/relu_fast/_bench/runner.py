"""Every cell of a bench run: its data, its contenders, its timing, its result records."""
import gc
import math

import numpy as np

from .. import _api
from .contenders import CHANNELS, DTYPES, MODES, contenders, prelu_shape
from .progress import Progress
from .timing import time_cell_steadiest

VARY_ELEMENTS = 1 << 15 # small cells cycle through this many input elements in all ...
MAX_SETS = 256          # ... split into at most this many different inputs


def level_contenders(func, mode, x, g, levels):
    """relu_fast's own call, once per kernel level: [(level, label, fn, setup)]."""
    label, fn = [(lab, f) for fam, lab, f in contenders(func, mode, x, g, None)
                 if fam == "relu_fast"][0]
    return [(lv, label, fn, (lambda lv=lv: _api._use_level(lv))) for lv in levels]


def _data(n, dtype, seed):
    """x (standard normal: random signs) and g, n elements of dtype."""
    rng = np.random.default_rng(seed)
    wide = np.float64 if dtype == np.float64 else np.float32      # (no 16-bit generator)
    return (rng.standard_normal(n, dtype=wide).astype(dtype),
            rng.standard_normal(n, dtype=wide).astype(dtype))


def _input_sets(n, vary):
    """How many different inputs of n elements a cell cycles through: enough that the
    branch predictor cannot learn the signs of a repeated input (which would hide a
    branchy kernel at small n), few enough to stay in a core's L2 cache."""
    return max(1, min(MAX_SETS, VARY_ELEMENTS // n)) if vary else 1


def run(functions, dtypes, sizes, modes, budget, min_rounds, max_rounds, T=None, levels=None,
        quiet=False, vary_inputs=False):
    """Time every cell; returns a list of result dicts (one per contender and cell)."""
    cells = [(dt, n, f, m) for dt in dtypes for n in sizes for f in functions
             for m in MODES[f] if m in modes]
    progress = Progress(len(cells), quiet)
    results = []
    data_key, xs, gs = None, None, None
    level_before = _api.kernel_level()
    try:
        for dt, n, func, mode in cells:
            k = _input_sets(n, vary_inputs)
            m = max(n, CHANNELS)               # prelu needs one element per channel at least
            if data_key != (dt, n):
                xs = gs = None                 # free the previous size's arrays first
                gc.collect()
                xs, gs = _data(m * k, DTYPES[dt], seed=n)
                data_key = (dt, n)
            progress.step(f"{func} {dt} n={n:.0e} {mode}")
            size = n if func != "prelu" else math.prod(prelu_shape(n))
            sets = []
            for j in range(k):
                x, g = xs[j * m: j * m + size], gs[j * m: j * m + size]
                sets.append(level_contenders(func, mode, x, g, levels) if levels
                            else contenders(func, mode, x, g, T))
            cont = sets[0]
            fns = [[s[i][2] for s in sets] for i in range(len(cont))]
            setups = [c[3] for c in cont] if levels else None
            timed = time_cell_steadiest(fns, budget, min_rounds, max_rounds, setups)
            for c, (med, samples, nb) in zip(cont, timed):
                results.append({"function": func, "dtype": dt, "n": size, "mode": mode,
                                "contender": c[0], "call": c[1], "median_s": med,
                                "number": nb, "inputs": k, "samples_s": samples})
            del sets, cont, fns, timed, x, g
    finally:
        if levels:
            _api._use_level(level_before)
        progress.close()
    return results
