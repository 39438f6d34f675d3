"""Tables of saved benchmark results, for the docs site and the README.

Reads the JSON that ``python -m relu_fast bench --json PATH`` writes
({"meta": {...}, "results": [{function, dtype, n, mode, contender, call,
median_s, samples_s, ...}, ...]}) and the JSON of
``python -m relu_fast bench --contention --json PATH`` ({"machine", "results":
[{scenario, function, dtype, n, us: {contender: [median, p90]}}], "policy"}).
It reads the files itself (no import of relu_fast's private modules), so it
works on any saved run.  The medians are the bench's own (``median_s``); p90
is computed here from each contender's samples (linear interpolation, as
``numpy.percentile``'s default).  Used by docs/_ext/benchtables.py (the
performance page) and tools/readme_speed_table.py (the README's table).
"""
import json
import os
import statistics

UNSTEADY = 1.5   # as the bench: a median over 1.5x the fastest sample is flagged "!"
PEERS = ("numpy", "torch")
PEER_NAMES = {"relu_fast": "relu_fast", "numpy": "NumPy", "torch": "PyTorch"}
MODE_NAMES = {"out": "out= given", "inplace": "in place", "alloc": "allocating"}
MODE_ORDER = ("out", "inplace", "alloc")

# The cells the summary tables show (function, mode, sizes): the README's choice.
SUMMARY = (
    ("relu", "out", (100, 10_000, 1_000_000, 10_000_000, 100_000_000)),
    ("relu", "alloc", (10_000_000, 100_000_000)),
    ("relu_backward", "alloc", (10_000, 1_000_000, 10_000_000, 100_000_000)),
    ("relu_backward", "out", (10_000_000, 100_000_000)),
    ("elu", "alloc", (10_000, 1_000_000, 100_000_000)),
    ("elu", "out", (10_000, 1_000_000, 100_000_000)),
    ("elu_backward", "alloc", (10_000, 1_000_000, 100_000_000)),
    ("elu_backward", "out", (10_000, 1_000_000, 10_000_000, 100_000_000)),
    ("prelu", "alloc", (10_000, 1_000_000, 100_000_000)),
    ("hardtanh", "out", (100, 1_000_000, 100_000_000)),
    ("hardtanh_backward", "out", (1_000_000, 100_000_000)),
    ("hardswish", "alloc", (10_000, 1_000_000, 100_000_000)),
)
# The README's shorter table: float32, one line per call and size.
README_CELLS = (
    ("relu", "out", (100, 10_000, 1_000_000, 100_000_000)),
    ("relu", "alloc", (10_000_000,)),
    ("relu_backward", "alloc", (1_000_000,)),
    ("elu", "alloc", (10_000, 1_000_000)),
    ("elu_backward", "alloc", (1_000_000,)),
    ("prelu", "alloc", (10_000, 1_000_000)),
)


class BenchDataError(Exception):
    """A benchmark JSON file is missing or not in the expected format."""


def load_bench(path):
    if not os.path.exists(path):
        raise BenchDataError(
            f"{path} is missing: the performance tables are generated from it.  Make it with "
            f"`python -m relu_fast bench --json {path} --plot {os.path.splitext(path)[0]}.png` "
            "(a full run takes minutes; run it on a quiet machine).")
    with open(path) as f:
        data = json.load(f)
    try:
        meta, results = data["meta"], data["results"]
        for r in results:
            r["function"], r["dtype"], r["n"], r["mode"], r["contender"], r["call"]
            r["median_s"], r["samples_s"]
        meta["machine"], meta["date_utc"], meta["threads"]
    except (KeyError, TypeError) as e:
        raise BenchDataError(f"{path} is not the output of `python -m relu_fast bench --json` "
                             f"(missing {e})") from None
    if meta.get("levels"):
        raise BenchDataError(f"{path} holds a --levels run; these tables compare with peers")
    return meta, results


def _load_run(path, option, check):
    """The JSON a `bench <option> --json` run saved; check(data) reads the keys the
    tables need (a KeyError or TypeError: not such a file)."""
    if not os.path.exists(path):
        raise BenchDataError(f"{path} is missing: make it with "
                             f"`python -m relu_fast bench {option} --json {path}`")
    with open(path) as f:
        data = json.load(f)
    try:
        check(data)
    except (KeyError, TypeError) as e:
        raise BenchDataError(f"{path} is not the output of `python -m relu_fast bench "
                             f"{option} --json` (missing {e})") from None
    return data


def _contention_keys(data):
    for r in data["results"]:
        r["scenario"], r["function"], r["dtype"], r["n"], r["us"]["1 thread"], r["us"]["default"]


def load_contention(path):
    return _load_run(path, "--contention", _contention_keys)


def text_header_date(path):
    """The date in the first line of a bench text output ("... 2026-12-01 11:35 UTC"), or None."""
    try:
        with open(path) as f:
            first = f.readline().split()
    except OSError:
        return None
    return " ".join(first[-3:]) if len(first) >= 3 and first[-1] == "UTC" else None


def p90(samples):
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def steady(r):
    return r["median_s"] <= UNSTEADY * min(r["samples_s"])


def us(seconds):
    v = seconds * 1e6
    return f"{v:.3f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def ratio(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def size(n):
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else f"{n:.0e}"


def index(results):
    """{(function, dtype, mode): {n: {contender: result}}}"""
    out = {}
    for r in results:
        out.setdefault((r["function"], r["dtype"], r["mode"]), {}).setdefault(r["n"], {})[
            r["contender"]] = r
    return out


def date_text(meta):
    d = meta["date_utc"]            # 2026-12-01T13:27:27Z
    return d[:10] + " " + d[11:16] + " UTC"


def meta_text(meta):
    torch = meta.get("torch")
    return (f"relu_fast {meta.get('relu_fast', '?')} (kernels {meta.get('kernel_level', '?')}, "
            f"{meta['threads']} threads), NumPy {meta.get('numpy', '?')} (one thread)"
            + (f", PyTorch {torch} ({meta['threads']} threads)" if torch else ", no PyTorch")
            + f", Python {meta.get('python', '?')}; machine: {meta['machine']}; "
            f"recorded {date_text(meta)}")


def _call_label(func, mode, row, peers=True):
    rf = row.get("relu_fast", {}).get("call", func)
    calls = [row[p]["call"] for p in PEERS if p in row] if peers else []
    return f"``{rf}``" + (" vs " + ", ".join(f"``{c}``" for c in calls) if calls else "")


def peer_calls(results, dtype, cells=SUMMARY):
    """[(relu_fast's call, {peer name: its call})] for the cells' (function, mode) groups."""
    idx = index(results)
    out = []
    for func, mode, sizes in cells:
        rows = [idx.get((func, dtype, mode), {}).get(n) for n in sizes]
        rows = [r for r in rows if r and "relu_fast" in r]
        if rows:
            calls = {PEER_NAMES[p]: rows[0][p]["call"] for p in PEERS if p in rows[0]}
            out.append((rows[0]["relu_fast"]["call"], calls))
    return out


def summary_rows(results, dtype, cells=SUMMARY, with_p90=True, peers_in_label=True):
    """Rows for a table of the chosen cells: call, n, per contender median (/ p90), ratios.

    A contender's time is ``median`` or ``median / p90`` in µs, with ``!`` when the
    cell stayed unsteady; ratios are peer median / relu_fast median; "–" where a
    peer has no such call.  Cells absent from the results are skipped."""
    idx = index(results)
    rows = []
    for func, mode, sizes in cells:
        by_n = idx.get((func, dtype, mode), {})
        first = True
        for n in sizes:
            row = by_n.get(n)
            if not row or "relu_fast" not in row:
                continue
            rf_t = row["relu_fast"]["median_s"]
            times, ratios = [], []
            for c in ("relu_fast",) + PEERS:
                r = row.get(c)
                if r is None:
                    times.append("–")
                    continue
                t = us(r["median_s"]) + (f" / {us(p90(r['samples_s']))}" if with_p90 else "")
                times.append(t + ("" if steady(r) else " !"))
            for c in PEERS:
                r = row.get(c)
                ratios.append(ratio(r["median_s"] / rf_t) if r else "–")
            label = _call_label(func, mode, row, peers_in_label) if first else ""
            first = False
            rows.append([label, size(n)] + times + ratios)
    return rows


def summary_header(with_p90=True):
    what = " µs (median / p90)" if with_p90 else " µs"
    return (["call", "n"] + [PEER_NAMES[c] + what for c in ("relu_fast",) + PEERS]
            + ["NumPy / rf", "PyTorch / rf"])


def groups(results, dtype):
    """Every (function, mode) of a dtype in the bench's order: [(function, mode, {n: row})]."""
    idx = index(results)
    # the functions in the order the run timed them (the bench's own order)
    order = list(dict.fromkeys(r["function"] for r in results))
    keys = sorted((k for k in idx if k[1] == dtype),
                  key=lambda k: (order.index(k[0]), MODE_ORDER.index(k[2]) if k[2] in MODE_ORDER else 9))
    return [(f, m, idx[(f, d, m)]) for f, d, m in keys]


def unsteady_cells(results):
    cells = set()
    for r in results:
        if not steady(r):
            cells.add((r["function"], r["dtype"], r["mode"], r["n"]))
    return len(cells), len({(r["function"], r["dtype"], r["mode"], r["n"]) for r in results})


# -- contention ----------------------------------------------------------------

SCENARIOS = {"quiet": "quiet", "busy": "busy-loop process on the other core",
             "second": "second process calling relu_fast",
             "spaced": "quiet, 10 ms asleep before each call"}
CONTENTION_CALLS = {"relu": "relu out=", "relu_backward": "relu_backward out=", "elu": "elu out=",
                    "prelu": "prelu + prelu_backward"}
CONTENDERS = ("1 thread", "default", "PyTorch", "NumPy")


def contention_rows(data, dtypes=("float32", "float64"), functions=None):
    rows = []
    for r in data["results"]:
        if r["dtype"] not in dtypes or (functions and r["function"] not in functions):
            continue
        u = r["us"]
        one, dflt = u["1 thread"], u["default"]
        cells = [f"{u[c][0]:.1f} / {u[c][1]:.1f}" if c in u and u[c][0] < 100 else
                 f"{u[c][0]:.0f} / {u[c][1]:.0f}" if c in u else "–" for c in CONTENDERS]
        rows.append([SCENARIOS.get(r["scenario"], r["scenario"]),
                     CONTENTION_CALLS.get(r["function"], r["function"]), r["dtype"],
                     size(r["n"])] + cells + [f"{dflt[0] / one[0]:.2f}", f"{dflt[1] / one[1]:.2f}"])
    return rows


def contention_summary(data):
    """Sentences on a contention run, computed from it: per loaded scenario the range of
    the default policy's median and its worst p90 against one thread's, and the quiet
    cells at n >= 1e6 (relu, prelu) against the memory floor timed beside them."""
    out = []
    by = {}
    for r in data["results"]:
        by.setdefault(r["scenario"], []).append(r)
    for scenario, rows in by.items():
        if scenario == "quiet":
            continue
        med = [r["us"]["default"][0] / r["us"]["1 thread"][0] for r in rows]
        p90 = [r["us"]["default"][1] / r["us"]["1 thread"][1] for r in rows]
        ok = sum(m <= 1.15 and p <= 1.5 for m, p in zip(med, p90))
        out.append(f"{SCENARIOS.get(scenario, scenario)}: the default policy's median is "
                   f"{min(med):.2f}--{max(med):.2f}x one thread's and its p90 at most "
                   f"{max(p90):.2f}x one thread's p90 ({ok} of {len(rows)} cells within 1.15x and 1.5x).")
    floors = [r for r in by.get("quiet", []) if "floor, threads" in r["us"] and r["n"] >= 10 ** 6]
    if floors:
        parts = []
        for r in floors:
            u = r["us"]
            gain = u["1 thread"][0] / u["default"][0]
            floor = u["floor, 1 thread"][0] / u["floor, threads"][0]
            parts.append(f"{r['function']} {r['dtype']} {size(r['n'])} {gain:.2f}x "
                         f"(floor {floor:.2f}x)")
        out.append("Quiet, two threads over one, and what the memory floor timed beside them "
                   "gains (NumPy on one thread against PyTorch on two, over the same bytes): "
                   + "; ".join(parts) + ".")
    return out


CONTENTION_HEADER = (["scenario", "call", "dtype", "n"] + [f"{c} µs (median / p90)" for c in CONTENDERS]
                     + ["default / 1 thread, median", "p90"])


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("``", "`") for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- roofline ------------------------------------------------------------------
# ``python -m relu_fast bench --roofline --json PATH`` saves {"meta", "cells", "results"};
# the cells (each function's median and p90, its floor's, the fraction floor / relu_fast
# and GB/s) are computed by the bench, so here they are only formatted.

ROOFLINE_README = ("relu", "relu_backward", "leaky_relu", "elu", "elu_backward", "hardtanh",
                   "gelu", "silu", "prelu")
ROOFLINE_HEADER = ["function", "mode", "dtype", "n", "relu_fast µs (median / p90)", "floor µs",
                   "floor's stores", "floor / relu_fast", "relu_fast GB/s"]


def _roofline_keys(data):
    data["meta"]["bandwidth_gbs"], data["meta"]["target"]
    for c in data["cells"]:
        c["function"], c["dtype"], c["n"], c["mode"], c["fraction"], c["us"], c["floor_us"]


def load_roofline(path):
    return _load_run(path, "--roofline", _roofline_keys)


def _mode(c):
    return "forward + backward" if c["function"] == "prelu" else MODE_NAMES[c["mode"]]


def roofline_rows(data, dtypes=("float32", "float64")):
    return [[f"``{c['function']}``", _mode(c), c["dtype"], size(c["n"]),
             f"{c['us']:.0f} / {c['p90_us']:.0f}", f"{c['floor_us']:.0f}", c["stores"],
             f"{c['fraction']:.2f}", f"{c['gbs']:.1f}"]
            for c in data["cells"] if c["dtype"] in dtypes]


def roofline_summary(data, detail=True):
    """Sentences on a roofline run, computed from it: the bandwidth, how many cells of the
    target sizes reach the target fraction of their floor, and (detail) the range of
    floor / relu_fast of each function with a cell below it."""
    m = data["meta"]
    big = [c for c in data["cells"] if c["n"] >= m["target_n"]]
    low = [c for c in big if c["fraction"] < m["target"]]
    out = [f"The machine's bandwidth as the floor sees it: {m['bandwidth_gbs']:.1f} GB/s "
           f"(reading one array and writing another, {m['threads']} threads).",
           f"At n >= {size(m['target_n'])}: {len(big) - len(low)} of {len(big)} cells at "
           f">= {m['target']:.2f} of their floor."]
    if low and detail:
        ranges = {}
        for c in big:
            if any(d["function"] == c["function"] for d in low):
                ranges.setdefault(c["function"], []).append(c["fraction"])
        out.append("Functions with cells below it (floor / relu_fast over their cells at "
                   "these sizes, both dtypes): " + "; ".join(
                       f"{f} {min(v):.2f}–{max(v):.2f}" for f, v in ranges.items()) + ".")
    return out


def roofline_fractions(data, functions=ROOFLINE_README):
    """(header, rows): floor / relu_fast per function (out=, or PReLU's cell) for each
    dtype and size of the run at or above the target size."""
    m = data["meta"]
    cols = sorted({(c["dtype"], c["n"]) for c in data["cells"] if c["n"] >= m["target_n"]})
    got = {(c["function"], c["dtype"], c["n"]): c["fraction"] for c in data["cells"]
           if c["mode"] in ("out", "alloc")}
    rows = [[f"`{f}`"] + [f"{got[f, dt, n]:.2f}" if (f, dt, n) in got else "–" for dt, n in cols]
            for f in functions if any(k[0] == f for k in got)]
    return ["function"] + [f"{dt} {size(n)}" for dt, n in cols], rows


# ---------------------------------------------------------------------------
# 16-bit runs (bench --dtypes float32,float16,bfloat16): per function and size, each
# 16-bit type against float32 in relu_fast, against PyTorch's tensor of that type, and
# against NumPy's float16
# ---------------------------------------------------------------------------

SIXTEEN = ("float16", "bfloat16")


def sixteen_bit_rows(results, mode="out"):
    """[[function, n, dtype, rf us, float32/16-bit, torch/rf, numpy/rf], ...] (ratios of
    medians; "" where a peer is missing)."""
    ix = index(results)
    rows = []
    funcs = list(dict.fromkeys(r["function"] for r in results))
    for func in funcs:
        f32 = ix.get((func, "float32", mode if func != "prelu" else "alloc"), {})
        for dt in SIXTEEN:
            by_n = ix.get((func, dt, mode if func != "prelu" else "alloc"))
            if not by_n:
                continue
            for n in sorted(by_n):
                row = by_n[n]
                t = row["relu_fast"]["median_s"]
                base = f32.get(n, {}).get("relu_fast")
                rows.append([func, size(n), dt, us(t),
                             ratio(base["median_s"] / t) if base else "",
                             ratio(row["torch"]["median_s"] / t) if "torch" in row else "",
                             ratio(row["numpy"]["median_s"] / t) if "numpy" in row else ""])
    return rows


SIXTEEN_HEADER = ["function", "n", "dtype", "relu_fast µs", "float32 / 16-bit", "PyTorch / rf",
                  "NumPy / rf"]


def sixteen_bit_targets(results, mode="out", from_n=10 ** 4):
    """How many cells from `from_n` meet each target: (met, cells) for >= 1.5x PyTorch,
    >= 10x NumPy float16, and, for n >= 1e7, 16-bit >= 1.8x float32."""
    ix = index(results)
    torch_t = numpy_t = speed_t = (0, 0)
    for (func, dt, m), by_n in ix.items():
        if dt not in SIXTEEN or m != (mode if func != "prelu" else "alloc"):
            continue
        for n, row in by_n.items():
            if n < from_n:
                continue
            t = row["relu_fast"]["median_s"]
            if "torch" in row:
                torch_t = (torch_t[0] + (row["torch"]["median_s"] / t >= 1.5), torch_t[1] + 1)
            if "numpy" in row:
                numpy_t = (numpy_t[0] + (row["numpy"]["median_s"] / t >= 10), numpy_t[1] + 1)
            base = ix.get((func, "float32", m), {}).get(n, {}).get("relu_fast")
            if base and n >= 10 ** 7:
                speed_t = (speed_t[0] + (base["median_s"] / t >= 1.8), speed_t[1] + 1)
    return {"torch": torch_t, "numpy": numpy_t, "float32": speed_t}
