"""python -m relu_fast bench --roofline: each function against the memory floor of its bytes.

For large arrays these functions are bound by memory traffic, so the yardstick is the
fastest loop this machine runs over the same bytes.  The floor (_floor.h, compiled into
every kernel level's module; the level in use runs it) reads what the call reads and
writes what it writes -- read x, write y; in place; read g and x, write y; for PReLU's
cell (forward, then backward with its per-channel sum) both in turn -- with ordinary and
with streaming stores.  Each cell times relu_fast's call and both floors alternately,
round by round, on the same arrays and threads (timing.py), and reports floor time /
relu_fast time for the faster floor (1.00: at the floor) and both as GB/s.  The header
gives the machine's bandwidth: the best floor seen over the largest arrays read once and
written once.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

import relu_fast as rf
from .. import _api, _dispatch
from .._functions import FUNCTIONS as DECLARED
from .cli import _cpu_name, _default_threads, _names, _sizes
from .contenders import DEFAULT_DTYPES, DTYPES, FUNCTIONS, MODES, TABLE, _operands, build
from .progress import Progress
from .timing import time_cell_steadiest

ROOFLINE_MODES = ("out", "inplace")
TARGET = 0.90            # issue 15: every function at n >= 1e7 within this of its floor
TARGET_N = 10 ** 7
FLOORS = ("floor", "floor, streaming")


def _kind(func):
    """"unary", "binary" or "prelu" (bench's prelu cell: forward + backward)."""
    if func == "prelu":
        return "prelu"
    return DECLARED["rrelu" if func == "rrelu_eval" else func].kind


def _cell_modes(func, modes):
    """The modes a function's cell is timed in here: out= (and in place, if asked and
    the bench times it so); PReLU's cell allocates, as in bench."""
    if func == "prelu":
        return ["alloc"]
    return [m for m in modes if m in MODES[func]]


ITEMSIZE = {name: np.dtype(t).itemsize for name, t in DTYPES.items()}


def _bytes_of(func, mode, n, itemsize):
    """Bytes one call reads and writes (PReLU's weight and sums are negligible)."""
    kind = _kind(func)
    if kind == "prelu":
        return 5 * n * itemsize          # forward: x in, y out; backward: g, x in, gx out
    if kind == "binary" and mode != "inplace":
        return 3 * n * itemsize
    return 2 * n * itemsize


def _floor_calls(func, mode, ops, floor, threads):
    """The two floors (ordinary, streaming stores) of a cell, over its own operands."""
    b = lambda a: a.reshape(-1).view(np.uint8)     # noqa: E731  (contiguous: a view)
    kind = _kind(func)
    if kind == "prelu":
        x, g = b(ops["x"]), b(ops["g"])
        y, gx = np.empty_like(x), np.empty_like(x)
        y.fill(0), gx.fill(0)

        def make(stream):
            def call():
                floor(x, None, y, stream, False, threads)
                floor(x, g, gx, stream, True, threads)
            return call
    else:
        o = b(ops["o"])
        if mode == "inplace":
            src = (o, None)
        elif kind == "binary":
            src = (b(ops["g"]), b(ops["x"]))
        else:
            src = (b(ops["x"]), None)

        def make(stream):
            return lambda: floor(src[0], src[1], o, stream, False, threads)
    return [make(False), make(True)]


def run(functions, dtypes, sizes, modes, budget, min_rounds, max_rounds, threads, quiet=False):
    """Time every cell; a list of result dicts (one per contender and cell)."""
    floor = _dispatch.load(_api.kernel_level())._floor
    cells = [(dt, n, f, m) for dt in dtypes for n in sizes for f in functions
             for m in _cell_modes(f, modes)]
    progress = Progress(len(cells), quiet)
    results = []
    key, x0, g0 = None, None, None
    try:
        for dt, n, func, mode in cells:
            progress.step(f"{func} {dt} n={n:.0e} {mode} (roofline)")
            if key != (dt, n):
                x0 = g0 = None
                rng = np.random.default_rng(n)
                x0 = rng.standard_normal(n).astype(DTYPES[dt])
                g0 = rng.standard_normal(n).astype(DTYPES[dt])
                key = (dt, n)
            ops = _operands(func, mode, x0, g0, None)
            size = ops["x"].size
            fns = [build(TABLE[func, mode].relu_fast, ops)]
            fns += _floor_calls(func, mode, ops, floor, threads)
            timed = time_cell_steadiest(fns, budget, min_rounds, max_rounds)
            nbytes = _bytes_of(func, mode, size, ops["x"].itemsize)
            for name, (med, samples, nb) in zip(("relu_fast",) + FLOORS, timed):
                results.append({"function": func, "dtype": dt, "n": size, "mode": mode,
                                "contender": name, "median_s": med, "number": nb,
                                "bytes": nbytes, "samples_s": samples})
            del ops, fns, timed
    finally:
        progress.close()
    return results


def p90(samples):
    return statistics.quantiles(samples, n=10, method="inclusive")[-1] if len(samples) > 1 \
        else samples[0]


def cells(results):
    """One dict per cell: relu_fast's median and p90, the faster floor, its stores, the
    fraction floor / relu_fast, and GB/s of both; in run order."""
    by = {}
    for r in results:
        by.setdefault((r["function"], r["dtype"], r["n"], r["mode"]), {})[r["contender"]] = r
    out = []
    for (func, dt, n, mode), row in by.items():
        rf_r = row["relu_fast"]
        best = min(FLOORS, key=lambda f: row[f]["median_s"])
        fl = row[best]["median_s"]
        t = rf_r["median_s"]
        out.append({"function": func, "dtype": dt, "n": n, "mode": mode,
                    "us": t * 1e6, "p90_us": p90(rf_r["samples_s"]) * 1e6,
                    "floor_us": fl * 1e6, "floor_p90_us": p90(row[best]["samples_s"]) * 1e6,
                    "stores": "streaming" if best == FLOORS[1] else "ordinary",
                    "fraction": fl / t, "gbs": rf_r["bytes"] / t / 1e9,
                    "floor_gbs": rf_r["bytes"] / fl / 1e9})
    return out


def bandwidth(results):
    """The machine's bandwidth as seen here: the best floor GB/s over the largest arrays
    of cells that read one array and write another (None if there are none)."""
    cs = [c for c in cells(results) if c["mode"] == "out" and _kind(c["function"]) == "unary"]
    if not cs:
        return None
    top = max(c["n"] * ITEMSIZE[c["dtype"]] for c in cs)
    return max(c["floor_gbs"] for c in cs if c["n"] * ITEMSIZE[c["dtype"]] == top)


def below_target(results):
    """Cells at n >= TARGET_N under TARGET of their floor: ["func dtype n mode: 0.83", ...]."""
    return [f"{c['function']} {c['dtype']} n={c['n']:.0e} {c['mode']}: {c['fraction']:.2f}"
            for c in cells(results) if c["n"] >= TARGET_N and c["fraction"] < TARGET]


def format_cells(results):
    text = []
    header = ["function", "mode", "n", "relu_fast us (p90)", "floor us", "stores",
              "floor/rf", "rf GB/s", "floor GB/s"]
    for dt in dict.fromkeys(c["dtype"] for c in cells(results)):
        rows = [[c["function"], c["mode"], f"{c['n']:.0e}", f"{c['us']:.0f} ({c['p90_us']:.0f})",
                 f"{c['floor_us']:.0f}", c["stores"], f"{c['fraction']:.2f}", f"{c['gbs']:.1f}",
                 f"{c['floor_gbs']:.1f}"] for c in cells(results) if c["dtype"] == dt]
        widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
        text.append(f"\n{dt}  (floor/rf: 1.00 = at the memory floor; medians, p90 in brackets)")
        text.append("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths)))
        text += ["  " + "  ".join(str(v).rjust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(text)


def report(results, meta):
    bw = bandwidth(results)
    print(f"  bandwidth : {bw:.1f} GB/s (the best floor over the largest read-one, write-one "
          "arrays)" if bw else "  bandwidth : (no read-one, write-one cell)")
    print(format_cells(results))
    low = below_target(results)
    print(f"\nbelow {TARGET:.2f} of the floor at n >= {TARGET_N:.0e}: "
          + ("none" if not low else str(len(low))))
    for line in low:
        print(f"  {line}")


def _parser():
    p = argparse.ArgumentParser(prog="python -m relu_fast bench --roofline",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--roofline", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--functions", type=_names(FUNCTIONS), default=list(FUNCTIONS))
    p.add_argument("--dtypes", type=_names(tuple(DTYPES)), default=list(DEFAULT_DTYPES),
                   help="default float32,float64; also " + ",".join(
                       d for d in DTYPES if d not in DEFAULT_DTYPES))
    p.add_argument("--modes", type=_names(ROOFLINE_MODES), default=["out"],
                   help="out, inplace (default: out; PReLU's cell allocates)")
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="default 1e6,1e7,1e8 (1e5,1e6 with --quick)")
    p.add_argument("--threads", type=int, default=_default_threads())
    p.add_argument("--budget", type=float, default=None, help="seconds per cell (default 0.4)")
    p.add_argument("--min-rounds", type=int, default=None, help="(default 7, 3 with --quick)")
    p.add_argument("--max-rounds", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes, short budget")
    p.add_argument("--json", metavar="PATH", help="save raw results (every sample) as JSON")
    p.add_argument("--from-json", metavar="PATH", help="measure nothing: print a saved run")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def load(path):
    with open(path) as f:
        data = json.load(f)
    if "meta" not in data or "results" not in data:
        raise SystemExit(f"{path} is not a file saved by `bench --roofline --json`")
    return data


def _header(meta):
    print(f"relu_fast {meta['relu_fast']} bench --roofline   {meta['date']}")
    print(f"  machine   : {meta['machine']}")
    print(f"  relu_fast : kernels {meta['kernel_level']} (the floor runs at the same level), "
          f"{meta['threads']} threads (as set), output cache {meta['cache_mib']} MiB")
    print("  timing    : relu_fast's call and the floor with ordinary and with streaming stores "
          f"alternated round by round on the same arrays; median of >= {meta['min_rounds']} "
          "rounds; the faster floor counts")


def main(argv=None):
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        data = load(args.from_json)
        _header(data["meta"])
        report(data["results"], data["meta"])
        return 0
    if args.threads < 1:
        raise SystemExit("--threads must be >= 1")
    sizes = args.sizes or ([10 ** 5, 10 ** 6] if args.quick else [10 ** 6, 10 ** 7, 10 ** 8])
    budget = args.budget if args.budget is not None else (0.05 if args.quick else 0.4)
    min_rounds = args.min_rounds if args.min_rounds is not None else (3 if args.quick else 7)
    rf.set_num_threads(args.threads)
    meta = {"relu_fast": rf.__version__, "kernel_level": _api.kernel_level(),
            "machine": f"{_cpu_name()}, {os.cpu_count()} logical CPUs",
            "threads": args.threads, "cache_mib": rf.cache_info()["limit"] >> 20,
            "min_rounds": min_rounds, "budget_s": budget, "target": TARGET, "target_n": TARGET_N,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "argv": list(sys.argv[1:] if argv is None else argv)}
    _header(meta)
    sys.stdout.flush()
    t0 = time.perf_counter()
    results = run(args.functions, args.dtypes, sizes, args.modes, budget, min_rounds,
                  max(args.max_rounds, min_rounds), args.threads, quiet=args.quiet)
    meta["bandwidth_gbs"] = bandwidth(results)
    report(results, meta)
    print(f"\n({time.perf_counter() - t0:.0f} s of measuring)")
    if args.json:
        # the cells as computed here, so that the docs' tables (tools/bench_tables.py,
        # which imports nothing of relu_fast) only format them
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "cells": cells(results), "results": results}, f)
        print(f"raw results saved to {args.json}")
    return 0
