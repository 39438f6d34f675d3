"""python -m relu_fast bench: relu_fast timed against NumPy and PyTorch, one job per module.

    contenders  what is timed: a table of relu_fast's call, the NumPy baseline and the PyTorch
                peer per (function, mode), with their printed labels (asv times it too)
    timing      the engine: contenders alternated round by round, medians, retries
    runner      every cell of a run: its data, its contenders, its result records
    tables      the printed tables, of a fresh run or of a --json file (--from-json)
    plot        the PNG (matplotlib, imported only to draw it)
    cli         the options and main()
    contention  --contention: relu_fast's threads when the cores are shared
    roofline    --roofline: each function against the memory floor of its bytes
    progress    the progress line (bench and demo)

The names below are those the tests and `python -m relu_fast` reach.
"""
from .cli import _sizes, main
from .contenders import FUNCTIONS, MODES
from .plot import plot
from .runner import VARY_ELEMENTS, run
from .tables import _us, format_levels, format_peers, report
from . import timing
from .timing import RETRIES, time_cell, time_cell_steadiest

# _sizes and _us too: tests check the parsing of --sizes and the "!" of an unsteady cell
__all__ = ["FUNCTIONS", "MODES", "RETRIES", "VARY_ELEMENTS", "_sizes", "_us", "format_levels",
           "format_peers", "main", "plot", "report", "run", "time_cell", "time_cell_steadiest",
           "timing"]
