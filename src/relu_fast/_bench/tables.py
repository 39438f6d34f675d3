"""The printed tables of a bench run, fresh or saved (--from-json), and the report around them."""
import json

from .contenders import FAMILIES, FUNCTIONS, MODE_TITLE
from .plot import plot
from .timing import RETRIES, UNSTEADY, _steady_samples


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


def from_json(path, plot_path=None):
    """Print the tables (and save the plot) of a file that --json wrote."""
    with open(path) as f:
        saved = json.load(f)
    print(f"results of {saved['meta']['date_utc']} on {saved['meta']['machine']}, "
          f"{saved['meta']['threads']} threads (from {path})")
    report(saved["results"], saved["meta"], plot_path)
