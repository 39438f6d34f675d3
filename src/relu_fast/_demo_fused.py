"""python -m relu_fast demo --fused: one MLP's training step three ways, timed.

The same MLP (d_in -> hidden ReLU -> d_out, mean squared error, plain SGD) from the same
weights, trained by

    numpy     z + b, np.maximum, np.where(t > 0, g, 0), g.sum(0): NumPy alone
    unfused   the same passes with relu_fast.relu / relu_backward (the add and the
              bias gradient's sum apart)
    fused     relu_fast.nn.ReLU(bias=hidden): the bias added in relu's pass, its
              gradient summed in the backward's, and the 1-bit mask kept for it

and times a fourth step, ``products``: the same matrix products, loss and small sums
with the activation, its gradient and the bias left out (and no update): what any
activation's step costs at least, so unfused / products bounds every fused way's gain.
Reports each way's median and p90 time per step (steps alternate between the ways,
so that a busy machine slows all alike), what the activation holds between
forward and backward, and how far the loss curves drift apart: the three compute the
same values except the bias gradient's float64 sum, whose order differs, so the
curves agree to a few ulps of the loss per step.
"""
import argparse
import json
import time

import numpy as np

from . import nn
from ._api import relu, relu_backward
from ._threads import limit_threads

WAYS = ("numpy", "unfused", "fused")
FLOOR = "products"      # the step without the activation: timed beside the ways


class _MLP:
    """The weights and the step of one way; every way starts from the same weights."""

    def __init__(self, way, W1, b1, W2, b2):
        self.way = way
        self.W1, self.b1, self.W2, self.b2 = W1.copy(), b1.copy(), W2.copy(), b2.copy()
        self.act = nn.ReLU(bias=b1.size, axis=1, dtype=b1.dtype) if way == "fused" else None
        if self.act is not None:
            self.act.bias[...] = b1
        self.saved = 0

    def step(self, X, Y, lr):
        """One SGD step on (X, Y); returns the loss before it."""
        z = X @ self.W1
        if self.way == FLOOR:
            return self._products(X, z, Y)
        if self.way == "numpy":
            t = z + self.b1
            a = np.maximum(t, 0)
            self.saved = t.nbytes
        elif self.way == "unfused":
            t = z + self.b1
            a = relu(t)
            self.saved = t.nbytes
        else:
            a = self.act(z)
            self.saved = self.act.saved_nbytes()
        out = a @ self.W2 + self.b2
        diff = out - Y
        loss = float(np.mean(diff * diff))
        g = (2.0 / diff.size) * diff
        gW2 = a.T @ g
        gb2 = g.sum(axis=0)
        ga = g @ self.W2.T
        if self.way == "numpy":
            gz = np.where(t > 0, ga, 0)
            gb1 = gz.sum(axis=0)
        elif self.way == "unfused":
            gz = relu_backward(ga, t)
            gb1 = gz.sum(axis=0)
        else:
            gz = self.act.backward(ga)
            gb1 = self.act.grad_bias
        gW1 = X.T @ gz
        self.W1 -= lr * gW1
        self.W2 -= lr * gW2
        self.b2 -= lr * gb2
        if self.way == "fused":
            self.act.bias -= lr * gb1
        else:
            self.b1 -= lr * gb1
        return loss

    def _products(self, X, a, Y):
        """The rest of the step on a = z (no bias, no activation); the weights are kept,
        so every step computes the same values (computed and dropped: only timed)."""
        out = a @ self.W2 + self.b2
        diff = out - Y
        loss = float(np.mean(diff * diff))
        g = (2.0 / diff.size) * diff
        a.T @ g                              # gW2
        g.sum(axis=0)                        # gb2
        X.T @ (g @ self.W2.T)                # gW1 from ga, which is gz here
        return loss


def run(batch, d_in, hidden, d_out, steps, dtype, lr=None, seed=0):
    """Train the three ways side by side; a dict of the results (lr: 10 / hidden, which
    keeps this MLP's SGD stable at every width tried)."""
    lr = 10.0 / hidden if lr is None else lr
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, d_in)).astype(dtype)
    Y = np.tanh(X @ rng.standard_normal((d_in, d_out))).astype(dtype)
    W1 = (rng.standard_normal((d_in, hidden)) * np.sqrt(2.0 / d_in)).astype(dtype)
    b1 = rng.uniform(-0.5, 0.5, hidden).astype(dtype)
    W2 = (rng.standard_normal((hidden, d_out)) / np.sqrt(hidden)).astype(dtype)
    b2 = np.zeros(d_out, dtype)
    timed = WAYS + (FLOOR,)
    nets = {w: _MLP(w, W1, b1, W2, b2) for w in timed}
    times = {w: [] for w in timed}
    losses = {w: [] for w in timed}
    for s in range(steps + 1):               # step 0 warms up (first-touch pages, caches)
        order = timed[s % 4:] + timed[:s % 4]
        for w in order:
            t0 = time.perf_counter()
            loss = nets[w].step(X, Y, lr)
            dt = time.perf_counter() - t0
            losses[w].append(loss)
            if s:
                times[w].append(dt)
    ref = np.array(losses["numpy"])
    result = {"batch": batch, "d_in": d_in, "hidden": hidden, "d_out": d_out, "steps": steps,
              "dtype": np.dtype(dtype).name, "elements": batch * hidden, "ways": {}}
    for w in WAYS:
        t = np.array(times[w]) * 1e3
        drift = np.abs(np.array(losses[w]) - ref) / np.maximum(np.abs(ref), np.finfo(dtype).tiny)
        result["ways"][w] = {"median_ms": float(np.median(t)), "p90_ms": float(np.percentile(t, 90)),
                             "saved_bytes": int(nets[w].saved), "losses": losses[w],
                             "max_relative_loss_difference": float(drift.max())}
    t = np.array(times[FLOOR]) * 1e3
    result[FLOOR] = {"median_ms": float(np.median(t)), "p90_ms": float(np.percentile(t, 90))}
    return result


def table(results):
    lines = []
    for r in results:
        ways = r["ways"]
        lines.append(f"{r['dtype']}: MLP {r['d_in']}-{r['hidden']}-{r['d_out']}, batch {r['batch']} "
                     f"({r['elements']:.3g} hidden activations), {r['steps']} steps")
        lines.append(f"  {'way':<8} {'median ms':>10} {'p90 ms':>8} {'vs unfused':>10} "
                     f"{'held by the activation':>24} {'loss vs numpy (rel.)':>21}")
        for w in WAYS:
            d = ways[w]
            speed = ways["unfused"]["median_ms"] / d["median_ms"]
            lines.append(f"  {w:<8} {d['median_ms']:>10.2f} {d['p90_ms']:>8.2f} {speed:>9.2f}x "
                         f"{d['saved_bytes'] / 1e6:>20.2f} MB {d['max_relative_loss_difference']:>21.1e}")
        d = r[FLOOR]
        bound = ways["unfused"]["median_ms"] / d["median_ms"]
        lines.append(f"  {FLOOR:<8} {d['median_ms']:>10.2f} {d['p90_ms']:>8.2f} {bound:>9.2f}x "
                     f"{'-':>23} {'-':>21}   (no activation: the bound on any way's gain)")
        first, last = ways["numpy"]["losses"][0], ways["numpy"]["losses"][-1]
        lines.append(f"  loss {first:.6g} -> {last:.6g}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m relu_fast demo --fused",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--fused", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--d-in", type=int, default=16)
    parser.add_argument("--d-out", type=int, default=4)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--threads", type=int, default=None, help="relu_fast's threads (default: its own)")
    parser.add_argument("--quick", action="store_true", help="a small MLP and few steps (for tests)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.hidden, args.steps = min(args.batch, 256), min(args.hidden, 128), min(args.steps, 3)
    if min(args.batch, args.hidden, args.d_in, args.d_out, args.steps) < 1:
        parser.error("sizes and --steps must be >= 1")
    dtypes = [np.dtype(d) for d in args.dtypes.split(",")]
    results = []
    with limit_threads(args.threads) if args.threads else _nothing():
        for dt in dtypes:
            results.append(run(args.batch, args.d_in, args.hidden, args.d_out, args.steps, dt))
    print("one training step of the same MLP three ways (ReLU hidden layer, MSE, SGD), and "
          "without the activation (the bound); steps interleaved; held: what the activation "
          "keeps for backward")
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
