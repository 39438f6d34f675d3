"""python -m relu_fast bench --contention: relu_fast's threads when the cores are shared.

Times relu_fast on one thread, relu_fast's default thread policy, PyTorch and NumPy on
the same arrays in four scenarios: quiet; a busy-loop process on every other core;
a second process calling relu_fast (relu(x, out=o), float32, 1e6, default policy) in
a loop; and spaced: quiet, but the process sleeps 10 ms before each call (a program that
calls now and then, whose threads' cores fall idle in between).  Calls of the in-process contenders alternate (the order rotates every round);
each cell reports the median and the 90th percentile of its calls.  Before a scenario
is timed, its load runs for a second with relu_fast calls, so the policy has met it.

PyTorch is timed in a process of its own, on the same arrays, right after the other
contenders of each cell and under the same load: its OpenMP pool's threads spin after
every torch call, and in relu_fast's process they would take the very core that the
scenario leaves relu_fast, loading both relu_fast columns with PyTorch's idle threads.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

import relu_fast as rf
from .. import _threads
from .cli import _cpu_name, _names, _sizes
from .contenders import contenders as bench_contenders

SCENARIOS = ("quiet", "busy", "second", "spaced")
FUNCTIONS = ("relu", "relu_backward", "elu", "prelu")
FLOOR_FUNCTIONS = ("relu", "prelu")   # the quiet cells the memory floor is timed beside
SIZES = (10 ** 5, 10 ** 6, 10 ** 7)
SETTLE_SECONDS = 1.0
SPACED_PAUSE = 0.01           # seconds asleep before each call of the spaced scenario

_HOG = "import os\nppid = os.getppid()\nwhile os.getppid() == ppid:\n    for _ in range(10 ** 6): pass\n"
_SECOND = """
import os, sys
import numpy as np
import relu_fast as rf
x = np.random.default_rng(0).standard_normal(10 ** 6).astype(np.float32)
o = np.empty_like(x)
ppid = os.getppid()
print("ready", flush=True)
while os.getppid() == ppid:
    for _ in range(100):
        rf.relu(x, out=o)
"""


def _start_load(scenario):
    """The processes that make `scenario` (none for quiet)."""
    procs = []
    if scenario == "busy":
        for _ in range(max((os.cpu_count() or 1) - 1, 1)):
            procs.append(subprocess.Popen([sys.executable, "-c", _HOG]))
    elif scenario == "second":
        p = subprocess.Popen([sys.executable, "-c", _SECOND], stdout=subprocess.PIPE, text=True)
        p.stdout.readline()               # it has imported relu_fast and made its arrays
        procs.append(p)
    return procs


def _stop_load(procs):
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def _settle(seconds):
    """Default-policy calls under the scenario's load, untimed."""
    x = np.ones(10 ** 6, np.float32)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        rf.relu(x, out=x)


class _PeerProcess:
    """PyTorch in a child process: `cell(func, dtype, n, ...)` times its contenders there."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relu_fast._bench.contention", "--peer-worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.proc.stdout.readline() or "null")
        if not hello:
            self.close()
            raise ImportError("PyTorch could not be imported in the peer process")
        self.version, self.threads = hello["version"], hello["threads"]

    def cell(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


def _cell_arrays(n, dtype):
    rng = np.random.default_rng(n)
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


def _peer_worker():
    """The child's loop: a JSON request per line in, {name: [seconds per call]} out."""
    try:
        import torch as T
    except ImportError:
        print("null", flush=True)
        return 0
    T.set_num_threads(os.cpu_count() or 1)
    T.set_grad_enabled(False)
    print(json.dumps({"version": T.__version__, "threads": T.get_num_threads()}), flush=True)
    for line in sys.stdin:
        r = json.loads(line)
        x, g = _cell_arrays(r["n"], np.dtype(r["dtype"]).type)
        mode = "alloc" if r["func"] == "prelu" else "out"
        contenders = [("PyTorch", fn)
                      for family, _, fn in bench_contenders(r["func"], mode, x, g, T)
                      if family == "torch"]
        print(json.dumps(_time_cell(contenders, r["budget"], r["min_calls"], r.get("pause", 0.0))
                         if contenders else {}), flush=True)
    return 0


def _one_thread(fn):
    def run():
        with rf.limit_threads(1):
            return fn()
    return run


def _cell_contenders(func, x, g):
    """[(name, fn)]: relu_fast on 1 thread, relu_fast's default policy, NumPy."""
    mode = "alloc" if func == "prelu" else "out"
    by_family = {}
    for family, label, fn in bench_contenders(func, mode, x, g, None):
        by_family[family] = fn
    if "numpy" not in by_family and func != "prelu":
        for family, label, fn in bench_contenders(func, "alloc", x, g, None):
            if family == "numpy":
                by_family["numpy"] = fn
    out = [("1 thread", _one_thread(by_family["relu_fast"])), ("default", by_family["relu_fast"])]
    if "numpy" in by_family:
        out.append(("NumPy", by_family["numpy"]))
    return out


def _floor_contenders(x, T=None, g=None):
    """Loops over the bytes of the cell's call, timed in the same rotation as relu_fast:
    a copy of x (relu out=: read one, write one), and with g (prelu + prelu_backward)
    also g + x into a third array (read two, write one).  NumPy on one thread, and
    PyTorch (copy_, add) on all cores when PyTorch is here: loops that thread well and
    are none of relu_fast's code (only the quiet scenario uses them, so its pool idles,
    asleep, under the loads).  Without PyTorch, the same NumPy loops in two halves on
    two Python threads (their hand-over costs tens of µs, so that floor is loose below
    1e7).  The ratio is the most threads can gain over these bytes here and now."""
    o = np.empty_like(x)
    o2 = None if g is None else np.empty_like(x)

    def numpy_loops(lo, hi):             # returns what it wrote (tests)
        np.copyto(o[lo:hi], x[lo:hi])
        if g is not None:
            np.add(g[lo:hi], x[lo:hi], out=o2[lo:hi])
        return o, o2

    flat = [a.reshape(-1) for a in (x, o) + (() if g is None else (g, o2))]
    x, o = flat[0], flat[1]
    if g is not None:
        g, o2 = flat[2], flat[3]
    out = [("floor, 1 thread", lambda: numpy_loops(0, x.size))]
    if T is not None:
        tx, to = T.from_numpy(x), T.from_numpy(o)
        if g is None:
            out.append(("floor, threads", lambda: (to.copy_(tx), (o, None))[1]))
        else:
            tg, to2 = T.from_numpy(g), T.from_numpy(o2)

            def torch_loops():
                to.copy_(tx)
                T.add(tg, tx, out=to2)
                return o, o2
            out.append(("floor, threads", torch_loops))
        return out
    import threading
    half = x.size // 2
    go, done = threading.Semaphore(0), threading.Semaphore(0)

    def helper():
        while True:
            go.acquire()
            numpy_loops(half, x.size)
            done.release()

    threading.Thread(target=helper, daemon=True).start()

    def two_threads():
        go.release()
        numpy_loops(0, half)
        done.acquire()
        return o, o2

    out.append(("floor, threads", two_threads))
    return out


def _time_cell(contenders, budget, min_calls, pause=0.0):
    """{name: [seconds per call]}: contenders called in turn, the order rotated each round;
    with `pause`, that many seconds asleep before each call (not timed)."""
    samples = {name: [] for name, _ in contenders}
    for _, fn in contenders:
        fn()                              # first calls: allocation, page faults
    start = time.perf_counter()
    k = 0
    while True:
        order = contenders[k % len(contenders):] + contenders[:k % len(contenders)]
        for name, fn in order:
            if pause:
                time.sleep(pause)
            t = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t)
        k += 1
        spent = time.perf_counter() - start
        if k >= min_calls and spent >= budget or spent > 20 * budget and k >= 5:
            return samples


def _stats(ts):
    a = np.sort(np.asarray(ts)) * 1e6
    return float(np.median(a)), float(a[min(int(np.ceil(0.9 * a.size)) - 1, a.size - 1)])


def run(scenarios, functions, dtypes, sizes, budget, min_calls, peer, quiet=False, T=None):
    results, policy = [], {}
    for scenario in scenarios:
        procs = _start_load(scenario)
        try:
            _settle(SETTLE_SECONDS)
            before = _threads._policy()
            for func in functions:
                for dtype in dtypes:
                    for n in sizes:
                        x, g = _cell_arrays(n, dtype)
                        pause = SPACED_PAUSE if scenario == "spaced" else 0.0
                        contenders = _cell_contenders(func, x, g)
                        if scenario == "quiet" and func in FLOOR_FUNCTIONS:
                            contenders += _floor_contenders(x, T, g if func == "prelu" else None)
                        cell = _time_cell(contenders, budget, min_calls, pause)
                        if peer is not None:
                            cell.update(peer.cell(func=func, dtype=np.dtype(dtype).name, n=n,
                                                  budget=budget, min_calls=min_calls, pause=pause))
                        row = {"scenario": scenario, "function": func, "dtype": np.dtype(dtype).name,
                               "n": n, "calls": {k: len(v) for k, v in cell.items()},
                               "us": {k: _stats(v) for k, v in cell.items()}}
                        results.append(row)
                        if not quiet:
                            print(f"  {scenario} {func} {row['dtype']} {n:.0e} done", file=sys.stderr)
            after = _threads._policy()
            policy[scenario] = {k: after[k] - before[k]
                                for k in ("fallbacks", "serialised_calls", "cold_serial_calls")}
        finally:
            _stop_load(procs)
    return results, policy


def _fmt(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def format_results(results):
    """Markdown tables: median / p90 µs per call; default's median and p90 against one thread's."""
    names = ["1 thread", "default", "PyTorch", "NumPy"]
    lines = []
    for scenario in SCENARIOS:
        rows = [r for r in results if r["scenario"] == scenario]
        if not rows:
            continue
        title = {"quiet": "quiet", "busy": "a busy-loop process on the other core",
                 "second": "a second process calling relu_fast in a loop",
                 "spaced": f"quiet, {SPACED_PAUSE * 1e3:g} ms asleep before each call"}[scenario]
        lines += ["", f"{title} (median / p90 µs):", "",
                  "| call | dtype | n | " + " | ".join(names) + " | default/1 thread median | p90 |",
                  "|---|---|---|" + "---|" * (len(names) + 2)]
        for r in rows:
            us = r["us"]
            cells = [f"{_fmt(us[k][0])} / {_fmt(us[k][1])}" if k in us else "–" for k in names]
            one, dflt = us["1 thread"], us["default"]
            call = {"relu": "relu out=", "relu_backward": "relu_backward out=", "elu": "elu out=",
                    "prelu": "prelu + prelu_backward"}[r["function"]]
            lines.append(f"| {call} | {r['dtype']} | {r['n']:.0e} | " + " | ".join(cells)
                         + f" | {dflt[0] / one[0]:.2f} | {dflt[1] / one[1]:.2f} |")
    return "\n".join(lines)


def format_floor(results):
    rows = [r for r in results if "floor, threads" in r["us"]]
    if not rows:
        return ""
    lines = ["", "memory floor, quiet (the bytes of the cell's call, in the same rotation as relu_fast: "
             "relu: a copy of x; prelu: a copy of x and g + x into a third array; NumPy on one "
             "thread, PyTorch's copy_/add on all cores, or without PyTorch NumPy in two halves on "
             "two Python threads; median µs):", "",
             "| call | dtype | n | floor, 1 thread | floor, threads | threads can gain | "
             "relu_fast default gains |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        us = r["us"]
        f1, f2 = us["floor, 1 thread"][0], us["floor, threads"][0]
        lines.append(f"| {r['function']} | {r['dtype']} | {r['n']:.0e} | {_fmt(f1)} | {_fmt(f2)} | "
                     f"{f1 / f2:.2f}x | {us['1 thread'][0] / us['default'][0]:.2f}x |")
    return "\n".join(lines)


def _floor_gain(r):
    us = r["us"]
    if "floor, threads" not in us:
        return None
    return us["floor, 1 thread"][0] / us["floor, threads"][0]


QUIET_GAIN = 1.6         # the quiet target: default >= 1.6x one thread at n >= 1e6 ...
AT_FLOOR = 0.95          # ... or, where the memory floor allows less, >= 0.95 of its gain


def check_targets(results):
    """The issue's targets: (lines of those not met, lines of quiet cells where the memory
    floor measured beside them allows less than QUIET_GAIN and relu_fast reaches it)."""
    failed, at_floor = [], []
    for r in results:
        one, dflt = r["us"]["1 thread"], r["us"]["default"]
        what = f"{r['scenario']} {r['function']} {r['dtype']} {r['n']:.0e}"
        if r["scenario"] != "quiet":
            if dflt[0] > 1.15 * one[0]:
                failed.append(f"{what}: default median {dflt[0]:.1f} > 1.15 x {one[0]:.1f}")
            if dflt[1] > 1.5 * one[1]:
                failed.append(f"{what}: default p90 {dflt[1]:.1f} > 1.5 x {one[1]:.1f}")
        elif r["function"] in FLOOR_FUNCTIONS and r["n"] >= 10 ** 6:
            gain, floor = one[0] / dflt[0], _floor_gain(r)
            if gain >= QUIET_GAIN:
                continue
            line = f"{what}: quiet speed-up {gain:.2f}"
            if floor is not None and floor < QUIET_GAIN:
                line += f", the memory floor's {floor:.2f}"
                if gain >= AT_FLOOR * floor:
                    at_floor.append(line)
                    continue
            failed.append(line + f" < {QUIET_GAIN}")
    return failed, at_floor


def _parser():
    p = argparse.ArgumentParser(prog="python -m relu_fast bench --contention",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--contention", action="store_true", help="(this mode)")
    p.add_argument("--scenarios", type=_names(SCENARIOS), default=list(SCENARIOS))
    p.add_argument("--functions", type=_names(FUNCTIONS), default=list(FUNCTIONS))
    p.add_argument("--dtypes", type=_names(("float32", "float64")), default=["float32", "float64"])
    p.add_argument("--sizes", type=_sizes, default=list(SIZES))
    p.add_argument("--budget", type=float, default=0.4, help="seconds per cell (default: 0.4)")
    p.add_argument("--min-calls", type=int, default=30, help="calls per contender and cell (default: 30)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", metavar="PATH", help="save the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.peer_worker:
        return _peer_worker()
    peer = T = None
    if not args.no_torch:
        try:
            peer = _PeerProcess()
        except ImportError:
            peer = None
        else:
            if "quiet" in args.scenarios and set(FLOOR_FUNCTIONS) & set(args.functions):
                import torch as T             # here only for the memory floor's loops
                T.set_num_threads(os.cpu_count() or 1)
    print(f"relu_fast {rf.__version__} bench --contention   {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"  machine   : {_cpu_name()}, {os.cpu_count()} logical CPUs, "
          f"{platform.system()} {platform.machine()}")
    print(f"  relu_fast : kernels {rf.kernel_level()}; '1 thread' = limit_threads(1), 'default' = "
          f"the default policy ({rf.get_num_threads()} threads when quiet)")
    print(f"  PyTorch   : {f'{peer.version}, {peer.threads} threads, in a process of its own' if peer else 'not compared'}"
          f"; NumPy {np.__version__} (one thread)")
    print(f"  timing    : contenders alternated call by call (PyTorch after them), >= {args.min_calls} "
          f"calls each and ~{args.budget:g} s per cell; each scenario's load ran {SETTLE_SECONDS:g} s first")
    sys.stdout.flush()
    dtypes = [np.dtype(d).type for d in args.dtypes]
    t0 = time.perf_counter()
    try:
        results, policy = run(args.scenarios, args.functions, dtypes, args.sizes, args.budget,
                              args.min_calls, peer, quiet=args.quiet, T=T)
    finally:
        if peer is not None:
            peer.close()
    print(format_results(results))
    print(format_floor(results))
    print()
    for scenario, p in policy.items():
        print(f"policy while timing '{scenario}': {p['fallbacks']} fallbacks to one thread, "
              f"{p['serialised_calls']} calls run on one thread by them, "
              f"{p['cold_serial_calls']} on one thread as the team was asleep")
    failed, at_floor = check_targets(results)
    print()
    print("targets (issue 13): " + ("all met" if not failed else f"{len(failed)} not met"))
    for line in failed:
        print(f"  {line}")
    if at_floor:
        print(f"quiet cells where the memory floor allows less than {QUIET_GAIN}x and the default "
              f"policy gains >= {AT_FLOOR} of it:")
        for line in at_floor:
            print(f"  {line}")
    print(f"\n({time.perf_counter() - t0:.0f} s of measuring)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": _cpu_name(), "results": results, "policy": policy}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
