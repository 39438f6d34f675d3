"""The README's roofline table, generated from a saved roofline run.

    python tools/roofline_table.py docs/roofline.json            # print the markdown
    python tools/roofline_table.py docs/roofline.json --write README.md

prints (or, with --write, puts between the README's ``<!-- roofline-table:begin -->``
and ``<!-- roofline-table:end -->`` markers) the run's machine and date, its summary
(bench_tables.roofline_summary) and floor / relu_fast for a few functions at the large
sizes.  tests/test_doc_blocks.py checks that the README holds exactly this output for
the committed docs/roofline.json.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_tables as bt  # noqa: E402
import readme_speed_table as speed  # noqa: E402

BEGIN, END = "<!-- roofline-table:begin -->", "<!-- roofline-table:end -->"


def table(path):
    data = bt.load_roofline(path)
    m = data["meta"]
    header, rows = bt.roofline_fractions(data)
    lines = [f"floor time / relu_fast time (1.00: at the floor), out= given (prelu: its forward + backward cell); machine {m['machine']}, "
             f"kernels {m['kernel_level']}, {m['threads']} threads, recorded {m['date']}:", ""]
    lines += ["- " + line for line in bt.roofline_summary(data, detail=False)]
    lines += ["", bt.markdown(header, rows)]
    return "\n".join(lines)


def main(argv):
    return speed.main(argv, table, BEGIN, END, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
