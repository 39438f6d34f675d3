"""The README's table of threads on shared cores, generated from a saved contention run.

    python tools/contention_table.py docs/contention.json            # print the markdown
    python tools/contention_table.py docs/contention.json --write README.md

prints (or, with --write, puts between the README's ``<!-- contention-table:begin -->``
and ``<!-- contention-table:end -->`` markers) the run's machine and date, its ratios
against one thread and the memory floor (bench_tables.contention_summary) and a float32
table of relu and prelu.  tests/test_doc_blocks.py checks that the README holds exactly
this output for the committed docs/contention.json.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_tables as bt  # noqa: E402
import readme_speed_table as speed  # noqa: E402

BEGIN, END = "<!-- contention-table:begin -->", "<!-- contention-table:end -->"


def table(path, dtype="float32"):
    data = bt.load_contention(path)
    date = bt.text_header_date(os.path.splitext(path)[0] + ".txt")
    rows = bt.contention_rows(data, (dtype,), ("relu", "prelu"))
    header = ["scenario", "call", "n", "1 thread", "default", "PyTorch", "default / 1 thread (median, p90)"]
    rows = [[r[0], r[1], r[3], r[4], r[5], r[6], f"{r[8]}, {r[9]}"] for r in rows]
    lines = [f"{dtype}, µs per call (median / p90); machine {data.get('machine', '?')}, "
             f"recorded {date or '?'}:", ""]
    lines += ["- " + line for line in bt.contention_summary(data)]
    lines += ["", bt.markdown(header, rows)]
    return "\n".join(lines)


def main(argv):
    return speed.main(argv, table, BEGIN, END, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
