"""python -m relu_fast bench: time relu_fast against NumPy and PyTorch (if installed).

Every contender runs in this one process on the same arrays (timing.py says how); the
median sample of each is its time per call, and a cell that stayed unsteady through its
retries is flagged "!".  Ratios are peer_time / relu_fast_time: above 1 means relu_fast
is faster.  With --levels, relu_fast's own kernel levels are compared instead (baseline,
avx2, avx512 and, in a RELU_FAST_NATIVE=1 build, native).

PyTorch is imported only here, and only when it is compared.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import relu_fast as rf
from .. import _api, _dispatch
from .contenders import DEFAULT_DTYPES, DTYPES, FUNCTIONS
from .runner import MAX_SETS, VARY_ELEMENTS, run
from .tables import from_json, report
from .timing import RETRIES


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
    p.add_argument("--dtypes", type=_names(tuple(DTYPES)), default=list(DEFAULT_DTYPES),
                   help="float32,float64 (the default), " + ",".join(
                       d for d in DTYPES if d not in DEFAULT_DTYPES))
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
    p.add_argument("--roofline", action="store_true",
                   help="time each function against the memory floor of its bytes instead "
                        "(see its --help)")
    p.add_argument("--fused", action="store_true",
                   help="time a bias fused into the activation against the add and the "
                        "activation apart instead (see its --help)")
    p.add_argument("--levels", action="store_true",
                   help="compare relu_fast's kernel levels (and 'native' if built) instead of peers")
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes, short budget")
    p.add_argument("--json", metavar="PATH", help="save raw results (every sample) as JSON")
    p.add_argument("--plot", metavar="PATH", help="save a PNG of throughput against n")
    p.add_argument("--from-json", metavar="PATH",
                   help="measure nothing: print the tables (and --plot) of a saved --json file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p



def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--contention" in argv:
        # imported only here: the peer process runs contention.py with -m, which must not
        # find it imported already
        from . import contention
        return contention.main(argv)
    if "--roofline" in argv:
        from . import roofline
        return roofline.main(argv)
    if "--fused" in argv:
        from . import fused
        return fused.main(argv)
    args = _parser().parse_args(argv)
    if args.from_json:
        from_json(args.from_json, args.plot)
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
            torch_state = (T.get_num_threads(), T.is_grad_enabled())   # given back after
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
    try:
        results = run(args.functions, args.dtypes, sizes, args.modes, budget, min_rounds,
                      max_rounds, T=T, levels=levels, quiet=args.quiet,
                      vary_inputs=args.vary_inputs)
    finally:
        if T is not None:           # bench may run inside a program (or the tests)
            T.set_num_threads(torch_state[0])
            T.set_grad_enabled(torch_state[1])
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
