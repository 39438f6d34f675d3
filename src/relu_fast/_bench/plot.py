"""The PNG of a bench run: throughput against n, log-log.  matplotlib is imported only here,
and only when a plot is asked for."""
import sys

from .contenders import DTYPES, FUNCTIONS, MODE_TITLE


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
