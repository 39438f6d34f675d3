"""The README's table of threads on shared cores, from `bench --contention --json` output.

    python tools/contention_table.py docs/contention.json
"""
import json
import sys

NAMES = {"quiet": "quiet", "busy": "busy-loop process on the other core",
         "second": "second process calling relu_fast"}
CALLS = {"relu": "relu out=", "relu_backward": "relu_backward out=", "elu": "elu out=",
         "prelu": "prelu + prelu_backward"}


def main(path, dtype="float32"):
    with open(path) as f:
        results = json.load(f)["results"]
    print("| scenario | call | n | 1 thread | default | PyTorch | default / 1 thread (median, p90) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if r["dtype"] != dtype or r["function"] not in ("relu", "prelu"):
            continue
        us = r["us"]
        one, dflt = us["1 thread"], us["default"]
        torch = f"{us['PyTorch'][0]:.0f} / {us['PyTorch'][1]:.0f}" if "PyTorch" in us else "–"
        print(f"| {NAMES[r['scenario']]} | {CALLS[r['function']]} | {r['n']:.0e} | "
              f"{one[0]:.0f} / {one[1]:.0f} | {dflt[0]:.0f} / {dflt[1]:.0f} | {torch} | "
              f"{dflt[0] / one[0]:.2f}, {dflt[1] / one[1]:.2f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
