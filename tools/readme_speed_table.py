"""The README's speed table, generated from a saved bench run.

    python tools/readme_speed_table.py docs/bench.json            # print the markdown
    python tools/readme_speed_table.py docs/bench.json --write README.md

prints (or, with --write, puts between the README's ``<!-- speed-table:begin -->``
and ``<!-- speed-table:end -->`` markers) a short float32 table: median µs per call
of relu_fast, NumPy and PyTorch and the ratios, with the machine and date that
the JSON records.  tests/test_doc_blocks.py checks that the README holds exactly
this output for the committed docs/bench.json.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_tables as bt  # noqa: E402

BEGIN, END = "<!-- speed-table:begin -->", "<!-- speed-table:end -->"


def table(path):
    meta, results = bt.load_bench(path)
    rows = bt.summary_rows(results, "float32", bt.README_CELLS, with_p90=False)
    n_unsteady, n_cells = bt.unsteady_cells(results)
    lines = [f"float32, µs per call (median), ratios peer / relu_fast (above 1: relu_fast is faster); "
             f"{bt.meta_text(meta)}; `!`: a contender stayed unsteady in that cell "
             f"({n_unsteady} of the run's {n_cells} cells).",
             "",
             bt.markdown(bt.summary_header(with_p90=False), rows)]
    return "\n".join(lines)


def replace(readme_text, generated, begin=BEGIN, end=END):
    head, sep, rest = readme_text.partition(begin)
    _old, sep2, tail = rest.partition(end)
    if not sep or not sep2:
        raise SystemExit(f"the README has no {begin} ... {end} markers")
    return head + begin + "\n" + generated + "\n" + end + tail


def embedded(readme_text, begin=BEGIN, end=END):
    """The text between the markers (without the newlines next to them)."""
    _head, _sep, rest = readme_text.partition(begin)
    inner, _sep2, _tail = rest.partition(end)
    return inner.strip("\n")


def main(argv, make=table, begin=BEGIN, end=END, usage=__doc__):
    """The command line of this tool, and of tools/contention_table.py (its own table
    maker, markers and usage)."""
    if not argv or argv[0].startswith("-"):
        raise SystemExit(usage)
    try:
        generated = make(argv[0])
    except bt.BenchDataError as e:
        raise SystemExit(str(e))
    if len(argv) >= 3 and argv[1] == "--write":
        with open(argv[2], encoding="utf-8") as f:
            text = f.read()
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(replace(text, generated, begin, end))
    else:
        print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
