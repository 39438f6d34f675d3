"""python -m relu_fast bench: time relu_fast against NumPy and PyTorch (if installed).

Every contender runs in this one process on the same arrays.  For each cell
(function, dtype, size, mode) every contender is warmed up, then timed round by
round -- one sample of each contender per round, the order rotated every round and
reversed every other round, so no contender always follows the same one -- and the
median sample is reported.  A sample is `number` back-to-back calls
(enough to last ~50 us, so the timer's resolution does not matter); the number of
rounds fits a time budget per cell, between a minimum and a maximum, and cells of
huge arrays are cut to ~10 s (at least 3 rounds).  The median of each contender's
samples is its time per call.  A cell where some contender's median is over 1.5x
its fastest sample (the machine was busy) is timed again, up to twice, and the
steadiest attempt is kept whichever contender it favours; if none was steady the
cell is flagged "!".

Ratios are peer_time / relu_fast_time: above 1 means relu_fast is faster.
With --levels, relu_fast's own kernel levels are compared instead (baseline,
avx2, avx512 and, in a RELU_FAST_NATIVE=1 build, native).

PyTorch and matplotlib are optional and imported only here.
"""
import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

import relu_fast as rf
from . import _api, _dispatch

FUNCTIONS = ("relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
             "prelu")
# Modes each function is timed in: out= a preallocated array, in place (out=x),
# or allocating its result.  leaky_relu in place would drive x into subnormals
# (x * 0.01**k), which would time the FPU's slow path, so it is left out.
MODES = {
    "relu": ("out", "inplace", "alloc"),
    "relu_backward": ("out", "alloc"),
    "leaky_relu": ("out", "alloc"),
    "leaky_relu_backward": ("out", "alloc"),
    "elu": ("out", "inplace", "alloc"),
    "elu_backward": ("out", "alloc"),
    "prelu": ("alloc",),
}
MODE_TITLE = {"out": "out= given", "inplace": "in place", "alloc": "allocating"}
DTYPES = {"float32": np.float32, "float64": np.float64}
FAMILIES = ("relu_fast", "numpy", "torch")
SLOPE = 0.01            # leaky_relu's negative_slope
ALPHA = 1.0             # elu's alpha
CHANNELS = 100          # prelu's channels, x shaped (batch, CHANNELS, inner)
SAMPLE_SECONDS = 50e-6  # one sample lasts at least this long
VARY_ELEMENTS = 1 << 15 # small cells cycle through this many input elements in all ...
MAX_SETS = 256          # ... split into at most this many different inputs
SLOW_CALL = 1.0         # a first call this slow is warm-up enough
MAX_CELL_SECONDS = 10.0 # rounds are cut to fit this (but at least 3 are run)


# ---------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------

def _prelu_shape(n):
    """(batch, CHANNELS, inner) with inner <= 1000, about n elements (at least CHANNELS)."""
    inner = min(max(n // CHANNELS, 1), 1000)
    return (max(n // (CHANNELS * inner), 1), CHANNELS, inner)


def _contenders(func, mode, x, g, T):
    """[(family, label, fn)] for one cell.  Buffers are made here and live as long as
    the closures; `T` is the torch module or None."""
    C = []

    def add(family, label, fn):
        C.append((family, label, fn))

    aten = T.ops.aten if T is not None else None
    if func == "prelu":
        x3, g3 = x.reshape(_prelu_shape(x.size)), g.reshape(_prelu_shape(x.size))
        w = np.linspace(0.05, 0.3, CHANNELS).astype(x.dtype)
        a = w[:, None]

        def rf_prelu():
            rf.prelu(x3, w)
            return rf.prelu_backward(g3, x3, w)

        def np_prelu():
            pos = x3 > 0
            y = np.where(pos, x3, a * x3)
            gx = np.where(pos, g3, a * g3)
            gw = np.where(pos, 0, x3 * g3).sum(axis=(0, 2))
            return y, gx, gw

        add("relu_fast", "prelu(x, w); prelu_backward(g, x, w)", rf_prelu)
        add("numpy", "np.where(x > 0, x, w*x), np.where(.., g, w*g), sums", np_prelu)
        if T is not None:
            F = T.nn.functional
            tx = T.from_numpy(x3).requires_grad_()
            tw = T.from_numpy(w.copy()).requires_grad_()
            tg = T.from_numpy(g3)

            def torch_prelu():
                with T.enable_grad():
                    y = F.prelu(tx, tw)
                    return T.autograd.grad(y, (tx, tw), tg)

            add("torch", "F.prelu(x, w) + autograd.grad(y, (x, w), g)", torch_prelu)
        return C

    tx = T.from_numpy(x) if T is not None else None
    tg = T.from_numpy(g) if T is not None else None
    if mode == "out":
        o = np.empty_like(x)
        o.fill(0)  # touch the pages now, outside the timing
        to = T.from_numpy(o) if T is not None else None
    elif mode == "inplace":
        y = x.copy()
        ty = T.from_numpy(y) if T is not None else None
    s = x.dtype.type(SLOPE)

    if func == "relu":
        if mode == "out":
            add("relu_fast", "relu(x, out=o)", lambda: rf.relu(x, out=o))
            add("numpy", "np.maximum(x, 0, out=o)", lambda: np.maximum(x, 0, out=o))
            if T is not None:
                add("torch", "torch.clamp_min(x, 0, out=o)", lambda: T.clamp_min(tx, 0, out=to))
        elif mode == "inplace":
            add("relu_fast", "relu(x, out=x)", lambda: rf.relu(y, out=y))
            add("numpy", "np.maximum(x, 0, out=x)", lambda: np.maximum(y, 0, out=y))
            if T is not None:
                add("torch", "torch.relu_(x)", lambda: T.relu_(ty))
        else:
            add("relu_fast", "relu(x)", lambda: rf.relu(x))
            add("numpy", "np.maximum(x, 0)", lambda: np.maximum(x, 0))
            if T is not None:
                add("torch", "torch.relu(x)", lambda: T.relu(tx))
    elif func == "relu_backward":
        if mode == "out":
            add("relu_fast", "relu_backward(g, x, out=o)", lambda: rf.relu_backward(g, x, out=o))
            add("numpy", "np.multiply(g, x > 0, out=o)", lambda: np.multiply(g, x > 0, out=o))
            if T is not None:
                op = aten.threshold_backward.grad_input
                add("torch", "aten.threshold_backward(g, x, 0, grad_input=o)",
                    lambda: op(tg, tx, 0, grad_input=to))
        else:
            add("relu_fast", "relu_backward(g, x)", lambda: rf.relu_backward(g, x))
            add("numpy", "g * (x > 0)", lambda: g * (x > 0))
            if T is not None:
                op = aten.threshold_backward.default
                add("torch", "aten.threshold_backward(g, x, 0)", lambda: op(tg, tx, 0))
    elif func == "leaky_relu":
        if mode == "out":
            add("relu_fast", "leaky_relu(x, 0.01, out=o)", lambda: rf.leaky_relu(x, SLOPE, out=o))
            if T is not None:
                op = aten.leaky_relu.out
                add("torch", "aten.leaky_relu(x, 0.01, out=o)", lambda: op(tx, SLOPE, out=to))
        else:
            add("relu_fast", "leaky_relu(x, 0.01)", lambda: rf.leaky_relu(x, SLOPE))
            add("numpy", "np.where(x > 0, x, 0.01 * x)", lambda: np.where(x > 0, x, s * x))
            if T is not None:
                F = T.nn.functional
                add("torch", "F.leaky_relu(x, 0.01)", lambda: F.leaky_relu(tx, SLOPE))
    elif func == "leaky_relu_backward":
        if mode == "out":
            add("relu_fast", "leaky_relu_backward(g, x, 0.01, out=o)",
                lambda: rf.leaky_relu_backward(g, x, SLOPE, out=o))
            if T is not None:
                op = aten.leaky_relu_backward.grad_input
                add("torch", "aten.leaky_relu_backward(g, x, 0.01, False, grad_input=o)",
                    lambda: op(tg, tx, SLOPE, False, grad_input=to))
        else:
            add("relu_fast", "leaky_relu_backward(g, x, 0.01)",
                lambda: rf.leaky_relu_backward(g, x, SLOPE))
            add("numpy", "np.where(x > 0, g, 0.01 * g)", lambda: np.where(x > 0, g, s * g))
            if T is not None:
                op = aten.leaky_relu_backward.default
                add("torch", "aten.leaky_relu_backward(g, x, 0.01, False)",
                    lambda: op(tg, tx, SLOPE, False))
    elif func == "elu":
        if mode == "out":
            add("relu_fast", "elu(x, out=o)", lambda: rf.elu(x, ALPHA, out=o))
            if T is not None:
                op = aten.elu.out
                add("torch", "aten.elu(x, 1, 1, 1, out=o)", lambda: op(tx, ALPHA, 1, 1, out=to))
        elif mode == "inplace":
            add("relu_fast", "elu(x, out=x)", lambda: rf.elu(y, ALPHA, out=y))
            if T is not None:
                F = T.nn.functional
                add("torch", "F.elu_(x)", lambda: F.elu_(ty, ALPHA))
        else:
            add("relu_fast", "elu(x)", lambda: rf.elu(x, ALPHA))
            add("numpy", "np.where(x > 0, x, np.expm1(x))",
                lambda: np.where(x > 0, x, ALPHA * np.expm1(x)))
            if T is not None:
                F = T.nn.functional
                add("torch", "F.elu(x)", lambda: F.elu(tx, ALPHA))
    elif func == "elu_backward":
        if mode == "out":
            add("relu_fast", "elu_backward(g, x, out=o)", lambda: rf.elu_backward(g, x, ALPHA, out=o))
            if T is not None:
                op = aten.elu_backward.grad_input
                add("torch", "aten.elu_backward(g, 1, 1, 1, False, x, grad_input=o)",
                    lambda: op(tg, ALPHA, 1, 1, False, tx, grad_input=to))
        else:
            add("relu_fast", "elu_backward(g, x)", lambda: rf.elu_backward(g, x, ALPHA))
            add("numpy", "np.where(x > 0, g, g * np.exp(x))",
                lambda: np.where(x > 0, g, g * (ALPHA * np.exp(x))))
            if T is not None:
                op = aten.elu_backward.default
                add("torch", "aten.elu_backward(g, 1, 1, 1, False, x)",
                    lambda: op(tg, ALPHA, 1, 1, False, tx))
    else:
        raise ValueError(f"unknown function {func!r}")
    return C


def _level_contenders(func, mode, x, g, levels):
    """relu_fast's own call, once per kernel level: [(level, label, fn, setup)]."""
    label, fn = [(lab, f) for fam, lab, f in _contenders(func, mode, x, g, None)
                 if fam == "relu_fast"][0]
    return [(lv, label, fn, (lambda lv=lv: _api._use_level(lv))) for lv in levels]


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def time_cell(fns, budget, min_rounds, max_rounds, setups=None):
    """Median seconds per call of each contender, timed alternately round by round;
    returns [(median, samples, number)].

    fns[i] is a callable, or a list of callables doing the same work on different
    inputs, called in turn.  setups[i] (optional) runs before each sample of
    contender i, outside the timing.
    """
    variants = [list(f) if isinstance(f, (list, tuple)) else [f] for f in fns]
    k = len(variants)
    setups = setups or [None] * k
    clock = time.perf_counter
    est = []
    for fs, setup in zip(variants, setups):     # warm up, and estimate the time per call
        if setup:
            setup()
        calls, t0 = 0, clock()
        while (calls < max(2, len(fs)) and clock() - t0 < SLOW_CALL) or (
                calls < 10_000 and clock() - t0 < min(0.02, 0.05 * budget)):
            fs[calls % len(fs)]()
            calls += 1
        est.append(max((clock() - t0) / calls, 1e-8))
    number = [max(1, math.ceil(SAMPLE_SECONDS / e)) for e in est]
    sequences = [[fs[j % len(fs)] for j in range(nb)] for fs, nb in zip(variants, number)]
    per_round = sum(nb * e for nb, e in zip(number, est))
    rounds = int(min(max(budget / per_round, min_rounds), max_rounds))
    if rounds * per_round > MAX_CELL_SECONDS:   # huge arrays: fewer rounds, never below 3
        rounds = max(3, int(MAX_CELL_SECONDS / per_round))
    samples = [[] for _ in variants]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            # each contender takes each position in turn, and every other round runs
            # backwards, so no contender always follows the same one (the one before
            # leaves the caches and the memory controller in its own state)
            order = [(r + j) % k for j in range(k)]
            if r % 2:
                order.reverse()
            for i in order:
                seq = sequences[i]
                if setups[i]:
                    setups[i]()
                t0 = clock()
                for f in seq:
                    f()
                samples[i].append((clock() - t0) / len(seq))
    finally:
        if enabled:
            gc.enable()
    return [(statistics.median(s), s, nb) for s, nb in zip(samples, number)]


def time_cell_steadiest(fns, budget, min_rounds, max_rounds, setups=None):
    """time_cell, again (up to RETRIES times) while some contender's samples are
    unsteady; the attempt with the lowest worst median/fastest ratio is returned,
    whichever contender it favours."""
    timed = time_cell(fns, budget, min_rounds, max_rounds, setups)
    for _ in range(RETRIES):
        if all(_steady_samples(med, smp) for med, smp, _nb in timed):
            break
        again = time_cell(fns, budget, min_rounds, max_rounds, setups)
        if _unsteadiness(again) < _unsteadiness(timed):
            timed = again
    return timed


# ---------------------------------------------------------------------------
# Running and printing
# ---------------------------------------------------------------------------

class Progress:
    """One line on stderr, rewritten in place on a terminal."""

    def __init__(self, total, quiet=False):
        self.total, self.done, self.t0, self.quiet = total, 0, time.perf_counter(), quiet
        self.tty = sys.stderr.isatty()

    def step(self, text):
        self.done += 1
        if self.quiet:
            return
        line = f"[{self.done:>3}/{self.total}] {time.perf_counter() - self.t0:6.1f}s  {text}"
        if self.tty:
            sys.stderr.write("\r" + line[:110].ljust(110))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self):
        if self.tty and not self.quiet:
            sys.stderr.write("\r" + " " * 110 + "\r")
            sys.stderr.flush()


def _data(n, dtype, seed):
    """x (standard normal: random signs) and g, n elements of dtype."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n, dtype=dtype), rng.standard_normal(n, dtype=dtype)


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
            size = n if func != "prelu" else math.prod(_prelu_shape(n))
            sets = []
            for j in range(k):
                x, g = xs[j * m: j * m + size], gs[j * m: j * m + size]
                sets.append(_level_contenders(func, mode, x, g, levels) if levels
                            else _contenders(func, mode, x, g, T))
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


UNSTEADY = 1.5   # a median this many times the fastest sample is flagged "!"
RETRIES = 2      # an unsteady cell is timed again up to this many times


def _steady_samples(median, samples):
    return median <= UNSTEADY * min(samples)


def _unsteadiness(timed):
    """The worst median / fastest-sample ratio over a cell's contenders."""
    return max(med / min(smp) for med, smp, _nb in timed)


def _steady(r):
    return _steady_samples(r["median_s"], r["samples_s"])


def _us(r):
    """A result's median in us, with "!" if its samples were unsteady (a busy machine)."""
    us = r["median_s"] * 1e6
    text = f"{us:.3f}" if us < 10 else f"{us:.1f}" if us < 1000 else f"{us:.0f}"
    return text + ("" if _steady(r) else "!")


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    out = ["  " + "  ".join(str(h).rjust(w) for h, w in zip(header, widths))]
    out += ["  " + "  ".join(str(c).rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def _groups(results):
    """{(function, dtype, mode): {n: {contender: result}}} in run order."""
    groups = {}
    for r in results:
        groups.setdefault((r["function"], r["dtype"], r["mode"]), {}).setdefault(r["n"], {})[
            r["contender"]] = r
    order = {f: i for i, f in enumerate(FUNCTIONS)}
    modes = ("out", "inplace", "alloc")
    return dict(sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1],
                                                        modes.index(kv[0][2]))))


NOTE = (f"\n! = unsteady: the median is over {UNSTEADY} x the fastest sample (other work on the "
        f"machine?) in each of {RETRIES + 1} attempts; rerun that cell on a quiet machine.")


def format_peers(results):
    """Tables of median us per call and peer/relu_fast ratios, one per function, dtype and mode."""
    text = []
    for (func, dt, mode), by_n in _groups(results).items():
        names = [f for f in FAMILIES if any(f in row for row in by_n.values())]
        peers = [p for p in names if p != "relu_fast"]
        calls = {}
        for row in by_n.values():
            for name, r in row.items():
                calls.setdefault(name, r["call"])
        title = "prelu forward+backward (C=100)" if func == "prelu" else func
        text.append(f"\n{title}  {dt}  {MODE_TITLE[mode]}   (median us per call; ratio = peer / relu_fast)")
        text += [f"    {name:>9}: {calls[name]}" for name in names]
        header = ["n"] + [f"{name} us" for name in names] + [f"{p}/rf" for p in peers]
        rows = []
        for n, row in sorted(by_n.items()):
            rf_t = row["relu_fast"]["median_s"] if "relu_fast" in row else None
            rows.append([f"{n:.0e}" if n >= 1000 else str(n)]
                        + [_us(row[c]) if c in row else "-" for c in names]
                        + [f"{row[p]['median_s'] / rf_t:.2f}" if p in row and rf_t else "-"
                           for p in peers])
        text.append(_table(rows, header))
    text.append(NOTE)
    return "\n".join(text)


def format_levels(results, portable):
    """Tables of each kernel level's time and t(portable)/t(level), plus the worst native gap."""
    text, worst, judged, skipped = [], None, 0, 0
    for (func, dt, mode), by_n in _groups(results).items():
        levels = list(next(iter(by_n.values())).keys())
        others = [lv for lv in levels if lv != portable]
        title = "prelu forward+backward (C=100)" if func == "prelu" else func
        text.append(f"\n{title}  {dt}  {MODE_TITLE[mode]}   (median us per call; "
                    f"ratio = t({portable}) / t(level): above 1 means that level is faster)")
        header = ["n"] + [f"{lv} us" for lv in levels] + [f"{portable}/{lv}" for lv in others]
        rows = []
        for n, row in sorted(by_n.items()):
            tp = row[portable]["median_s"]
            rows.append([f"{n:.0e}" if n >= 1000 else str(n)]
                        + [_us(row[lv]) for lv in levels]
                        + [f"{tp / row[lv]['median_s']:.3f}" for lv in others])
            if "native" in row:
                gap = tp / row["native"]["median_s"]
                if _steady(row[portable]) and _steady(row["native"]):
                    judged += 1
                    if worst is None or gap > worst[0]:
                        worst = (gap, func, dt, mode, n)
                else:
                    skipped += 1
        text.append(_table(rows, header))
    text.append(NOTE)
    if worst is not None:
        gap, func, dt, mode, n = worst
        verdict = "within" if gap <= 1.05 else "NOT within"
        text.append(f"\nportable ({portable}) vs native, judged on {judged} steady cells"
                    + (f" ({skipped} unsteady left out)" if skipped else "")
                    + f": worst t({portable})/t(native) = {gap:.3f} ({func} {dt} {mode} n={n:.0e}), "
                    f"so the portable build is {verdict} 5% of native")
    return "\n".join(text)


# ---------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------

COLORS = {"relu_fast": "tab:red", "numpy": "tab:blue", "torch": "tab:orange", "baseline": "tab:gray",
          "avx2": "tab:green", "avx512": "tab:red", "native": "tab:purple"}
LINESTYLES = {"out": "-", "inplace": ":", "alloc": "--"}
MARKERS = {"float32": "o", "float64": "s"}


def _few_decades(ax):
    lo, hi = ax.get_ylim()
    return hi / lo < 100


def plot(results, path, title):
    """Save a PNG of throughput (elements/s) against n, log-log: one panel per function
    and dtype (float32 and float64 in alternate rows).  Returns False (having said
    why) when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        print("matplotlib is not installed: no plot written (pip install matplotlib)", file=sys.stderr)
        return False
    funcs = [f for f in FUNCTIONS if any(r["function"] == f for r in results)]
    dtypes = [d for d in DTYPES if any(r["dtype"] == d for r in results)]
    ncols = min(4, len(funcs))
    chunks = [funcs[i:i + ncols] for i in range(0, len(funcs), ncols)]
    grid = [[(f, d) for f in chunk] for chunk in chunks for d in dtypes]
    fig, axes = plt.subplots(len(grid), ncols, figsize=(4.2 * ncols + 1.8, 3.3 * len(grid)),
                             squeeze=False)
    seen = {"contender": [], "mode": []}
    for row, panels in zip(axes, grid):
        for ax in row[len(panels):]:
            ax.axis("off")
        for ax, (func, dt) in zip(row, panels):
            lines = {}
            for r in results:
                if r["function"] == func and r["dtype"] == dt:
                    lines.setdefault((r["contender"], r["mode"]), []).append(
                        (r["n"], r["n"] / r["median_s"] / 1e9))
            for (cont, mode), pts in lines.items():
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=COLORS.get(cont, "black"),
                        linestyle=LINESTYLES[mode], marker=MARKERS[dt], markersize=3.5,
                        linewidth=1.4)
                for key, val in (("contender", cont), ("mode", mode)):
                    if val not in seen[key]:
                        seen[key].append(val)
            name = "prelu fwd+bwd (C=100)" if func == "prelu" else func
            ax.set_title(f"{name}, {dt}", fontsize=10)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(
                lambda v, _, ax=ax: f"{v:g}" if _few_decades(ax) and f"{v:.0e}"[0] in "25" else ""))
            ax.set_xlabel("n (elements)", fontsize=8)
            ax.set_ylabel("G elements / s", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(True, which="major", alpha=0.4)
            ax.grid(True, which="minor", alpha=0.12)
    handles = ([Line2D([], [], color=COLORS.get(c, "black"), lw=2.5, label=c) for c in seen["contender"]]
               + [Line2D([], [], color="black", linestyle=LINESTYLES[m], label=MODE_TITLE[m])
                  for m in seen["mode"]])
    fig.legend(handles=handles, loc="center right", fontsize=9, frameon=False)
    fig.suptitle(title + "\nhigher is faster", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 1.6 / (4.2 * ncols + 1.8), 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _default_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _sizes(text):
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers like 1e2,1e4, got {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _names(allowed):
    def parse(text):
        names = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in names if s not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad) or 'empty list'}; "
                                             f"choose from {', '.join(allowed)}")
        return names
    return parse


def _parser():
    p = argparse.ArgumentParser(prog="python -m relu_fast bench",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--functions", type=_names(FUNCTIONS), default=list(FUNCTIONS),
                   help=f"comma-separated, from {','.join(FUNCTIONS)} (default: all; "
                        "prelu means prelu + prelu_backward with 100 channels)")
    p.add_argument("--dtypes", type=_names(tuple(DTYPES)), default=list(DTYPES),
                   help="float32,float64 (default: both)")
    p.add_argument("--modes", type=_names(("out", "inplace", "alloc")),
                   default=["out", "inplace", "alloc"],
                   help="out (out= given), inplace (out=x), alloc (allocating); default: all "
                        "that each function supports")
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="comma-separated n, e.g. 1e2,1e4,1e6 (default: 1e2,1e3,...,1e8; "
                        "1e2,1e4,1e6 with --quick)")
    p.add_argument("--max-size", type=lambda s: int(float(s)), default=None, help="drop sizes above this")
    p.add_argument("--threads", type=int, default=_default_threads(),
                   help="threads for relu_fast and PyTorch (default: all CPUs of this process, "
                        f"{_default_threads()} here)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timing per cell (default: 0.4, 0.05 with --quick)")
    p.add_argument("--min-rounds", type=int, default=None,
                   help="at least this many samples per contender (default: 7, 3 with --quick; "
                        "cells of huge arrays are cut to ~10 s but keep 3)")
    p.add_argument("--max-rounds", type=int, default=1000, help="(default: 1000)")
    p.add_argument("--no-torch", action="store_true", help="do not compare with PyTorch")
    p.add_argument("--vary-inputs", action="store_true",
                   help="small cells cycle through several random inputs (in L2 cache), so that "
                        "the branch predictor cannot learn the signs of one repeated input")
    p.add_argument("--contention", action="store_true",
                   help="time threads on shared cores instead (see its --help)")
    p.add_argument("--levels", action="store_true",
                   help="compare relu_fast's kernel levels (and 'native' if built) instead of peers")
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes, short budget")
    p.add_argument("--json", metavar="PATH", help="save raw results (every sample) as JSON")
    p.add_argument("--plot", metavar="PATH", help="save a PNG of throughput against n")
    p.add_argument("--from-json", metavar="PATH",
                   help="measure nothing: print the tables (and --plot) of a saved --json file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def report(results, meta, plot_path=None):
    """Print the tables for saved or fresh results, and save the plot if asked."""
    levels = meta.get("levels")
    print(format_levels(results, meta["portable"]) if levels else format_peers(results))
    if plot_path:
        what = ("kernel levels" if levels else
                "relu_fast vs NumPy" + (" vs PyTorch" if meta.get("torch") else ""))
        title = (f"relu_fast {meta['relu_fast']}: {what}; {meta['machine']}; {meta['threads']} threads; "
                 f"{meta['date_utc'][:10]}")
        if plot(results, plot_path, title):
            print(f"plot saved to {plot_path}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--contention" in argv:
        from . import _contention
        return _contention.main(argv)
    args = _parser().parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        print(f"results of {saved['meta']['date_utc']} on {saved['meta']['machine']}, "
              f"{saved['meta']['threads']} threads (from {args.from_json})")
        report(saved["results"], saved["meta"], args.plot)
        return 0
    if args.threads < 1:
        raise SystemExit("--threads must be >= 1")
    sizes = args.sizes or ([100, 10_000, 1_000_000] if args.quick else [10 ** k for k in range(2, 9)])
    if args.max_size is not None:
        sizes = [n for n in sizes if n <= args.max_size]
    if not sizes:
        raise SystemExit("no sizes left to measure")
    budget = args.budget if args.budget is not None else (0.05 if args.quick else 0.4)
    min_rounds = args.min_rounds if args.min_rounds is not None else (3 if args.quick else 7)
    max_rounds = max(args.max_rounds, min_rounds)

    rf.set_num_threads(args.threads)
    T, torch_note = None, "not compared (--no-torch)"
    if args.levels:
        torch_note = "not compared (--levels)"
    elif not args.no_torch:
        try:
            import torch as T
        except ImportError:
            torch_note = "not installed: comparing with NumPy only (pip install torch)"
        else:
            T.set_num_threads(args.threads)
            T.set_grad_enabled(False)   # peers run without autograd; prelu enables it itself
            torch_note = f"{T.__version__}, {T.get_num_threads()} threads"
    levels, portable = None, None
    if args.levels:
        levels = list(_dispatch.available_levels())
        portable = levels[-1]
        try:
            _dispatch.load("native")
            levels.append("native")
        except ImportError:
            print("no native kernels in this build (install with RELU_FAST_NATIVE=1 to add a "
                  "module built for this CPU only, to compare against)", file=sys.stderr)

    machine = f"{_cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}"
    print(f"relu_fast {rf.__version__} bench   {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"  machine   : {machine}")
    print(f"  relu_fast : kernels {_api.kernel_level()}"
          + (f" (timing levels: {', '.join(levels)})" if levels else "")
          + f", {args.threads} threads, OpenMP {'on' if _api.HAVE_OPENMP else 'off'}"
          + f", output cache {rf.cache_info()['limit'] >> 20} MiB")
    print(f"  NumPy     : {np.__version__} (single-threaded)")
    print(f"  PyTorch   : {torch_note}")
    print(f"  timing    : median of >= {min_rounds} rounds, contenders alternated (order rotated, "
          f"reversed every other round); an unsteady cell is timed again up to {RETRIES} times "
          f"and the steadiest attempt kept; "
          f"~{budget:g} s per cell; "
          + (f"small n cycles through {VARY_ELEMENTS} random elements (up to {MAX_SETS} inputs)"
             if args.vary_inputs else "the same input every call"))
    sys.stdout.flush()

    t0 = time.perf_counter()
    results = run(args.functions, args.dtypes, sizes, args.modes, budget, min_rounds, max_rounds,
                  T=T, levels=levels, quiet=args.quiet, vary_inputs=args.vary_inputs)
    meta = {"relu_fast": rf.__version__, "kernel_level": _api.kernel_level(), "levels": levels,
            "cache_limit": rf.cache_info()["limit"],
            "portable": portable, "machine": machine, "threads": args.threads,
            "numpy": np.__version__, "torch": T.__version__ if T is not None else None,
            "python": platform.python_version(),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "budget_s": budget, "min_rounds": min_rounds, "vary_inputs": args.vary_inputs,
            "argv": list(sys.argv[1:] if argv is None else argv)}
    report(results, meta, args.plot)
    print(f"\n({time.perf_counter() - t0:.0f} s of measuring)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f)
        print(f"raw results saved to {args.json}")
    return 0
