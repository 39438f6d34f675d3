"""python -m relu_fast demo: train a small network on interleaved spirals with each activation.

A 2-64-64-3 multilayer perceptron (float32, minibatch SGD with momentum) learns three
interleaved spirals made with NumPy, once per activation (ReLU, Leaky ReLU, PReLU,
ELU, SELU, SiLU, GELU from relu_fast.nn, and a NumPy sigmoid baseline) and per initialisation:

    sound   He-normal weights, zero biases
    dying   the same weights, hidden biases at -3: nearly every ReLU starts dead

A unit is dead at the end of an epoch when its input is <= 0 for every training
point (relu_stats counts it in the forward pass of the layers that track activity;
for SELU, SiLU and GELU the demo counts it from their inputs).  Dead ReLUs pass no gradient
and stay dead; the others pass some and can recover.  Prints a table and
saves a PNG of loss and dead fraction per epoch (needs matplotlib).

``demo --fused`` times one MLP's training step three ways instead (_demo_fused).
"""
import argparse
import time

import contextlib

import numpy as np

from . import nn
from ._bench.progress import Progress
from ._threads import limit_threads

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "elu", "selu", "silu", "gelu", "sigmoid")
TRACKING = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU)     # layers with track_activity
INITS = ("sound", "dying")


# -- data ---------------------------------------------------------------------------

def spirals(n_per_class, classes=3, noise=0.2, turns=1.5, seed=0):
    """`classes` interleaved spiral arms in the plane: (X float32 (n, 2), labels int)."""
    rng = np.random.default_rng(seed)
    r = np.sqrt(rng.uniform(0.0, 1.0, (classes, n_per_class)))   # even density along the arm
    base = 2 * np.pi * np.arange(classes)[:, None] / classes
    t = base + 2 * np.pi * turns * r + rng.normal(0.0, noise / (1 + 2 * r), r.shape)
    X = np.stack([r * np.cos(t), r * np.sin(t)], axis=-1).reshape(-1, 2) * 2
    y = np.repeat(np.arange(classes), n_per_class)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


# -- the network --------------------------------------------------------------------

class Linear:
    """y = x @ W + b; backward gives dW = x^T g, db = sum(g), dx = g W^T."""

    def __init__(self, n_in, n_out, rng, bias=0.0):
        self.W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        self.b = np.full(n_out, bias, dtype=np.float32)
        self.gW = np.zeros_like(self.W)
        self.gb = np.zeros_like(self.b)

    def __call__(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.gW = self.x.T @ g
        self.gb = g.sum(axis=0)
        return g @ self.W.T

    def parameters(self):
        return [self.W, self.b]

    def grads(self):
        return [self.gW, self.gb]


class Sigmoid:
    """The baseline: y = 1 / (1 + exp(-x)), grad = g * y * (1 - y) (NumPy, keeps y)."""

    track_activity = False

    def __call__(self, x):
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, g):
        return g * self.y * (1 - self.y)

    def parameters(self):
        return []

    def grads(self):
        return []


def activation(name, width):
    if name == "relu":
        return nn.ReLU(track_activity=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01, track_activity=True)
    if name == "prelu":
        return nn.PReLU(width, init=0.25, axis=1, dtype=np.float32, track_activity=True)
    if name == "elu":
        return nn.ELU(1.0, track_activity=True)
    if name == "selu":
        return nn.SELU()
    if name == "silu":
        return nn.SiLU()
    if name == "gelu":
        return nn.GELU()
    return Sigmoid()


class MLP:
    def __init__(self, act, init, width=64, seed=1):
        rng = np.random.default_rng(seed)
        bias = -3.0 if init == "dying" else 0.0
        self.layers = [Linear(2, width, rng, bias), activation(act, width),
                       Linear(width, width, rng, bias), activation(act, width),
                       Linear(width, 3, rng)]
        self.acts = [self.layers[1], self.layers[3]]

    def __call__(self, x):
        self.inputs = []              # what each activation saw (dead units without tracking)
        for layer in self.layers:
            if layer in self.acts:
                self.inputs.append(x)
            x = layer(x)
        return x

    def backward(self, g):
        for layer in reversed(self.layers):
            g = layer.backward(g)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def grads(self):
        return [g for layer in self.layers for g in layer.grads()]


def cross_entropy(logits, y):
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y] + 1e-12))
    p[np.arange(n), y] -= 1
    return float(loss), p / n


def evaluate(net, X, y, track):
    """(loss, accuracy, dead fraction) on (X, y); dead = hidden units with input <= 0
    for every point (one forward of the whole set, counted by relu_stats)."""
    tracking = [a for a in net.acts if isinstance(a, TRACKING)]
    for a in tracking:
        a.track_activity = track
        if track:
            a.reset_activity()
    logits = net(X)
    loss, _ = cross_entropy(logits, y)
    acc = float(np.mean(logits.argmax(axis=1) == y))
    dead = float("nan")
    if track:
        dead = float(np.mean([nn.dead_fraction(a) if a in tracking else np.mean(np.all(x <= 0, axis=0))
                              for a, x in zip(net.acts, net.inputs)]))
    for a in tracking:
        a.track_activity = False
    return loss, acc, dead


def train(act, init, X, y, Xt, yt, epochs, lr=0.05, momentum=0.9, batch=64, seed=1, tick=None):
    net = MLP(act, init, seed=seed)
    track = act != "sigmoid"
    params = net.parameters()
    velocity = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed)
    history = {"loss": [], "dead": []}
    for a in net.acts:
        if isinstance(a, TRACKING):
            a.track_activity = False
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            idx = order[start:start + batch]
            _, g = cross_entropy(net(X[idx]), y[idx])
            net.backward(g)
            for p, v, gr in zip(params, velocity, net.grads()):
                v *= momentum
                v -= lr * gr
                p += v
        loss, _, dead = evaluate(net, X, y, track)
        history["loss"].append(loss)
        history["dead"].append(dead)
        if tick:
            tick(epoch + 1)
    loss, acc, dead = evaluate(net, X, y, track)
    _, test_acc, _ = evaluate(net, Xt, yt, False)
    alphas = [a.weight for a in net.acts if isinstance(a, nn.PReLU)]
    return {"loss": loss, "acc": acc, "test_acc": test_acc, "dead": dead,
            "dead_start": history["dead"][0] if history["dead"] else float("nan"),
            "alphas": alphas, "history": history}


# -- output ---------------------------------------------------------------------------

def _alpha_text(alphas):
    if not alphas:
        return "-"
    return " / ".join(f"{a.mean():.2f} [{a.min():.2f}, {a.max():.2f}]" for a in alphas)


def table(results):
    """Markdown table: one row per (init, activation)."""
    lines = ["| init | activation | final loss | train acc | test acc | never-active units (epoch 1 -> last) "
             "| learned PReLU alpha, layer 1 / 2: mean [min, max] |",
             "|---|---|---|---|---|---|---|"]
    for (init, act), r in results.items():
        dead = "-" if np.isnan(r["dead"]) else f"{100 * r['dead_start']:.0f}% -> {100 * r['dead']:.0f}%"
        lines.append(f"| {init} | {act} | {r['loss']:.3f} | {100 * r['acc']:.1f}% | "
                     f"{100 * r['test_acc']:.1f}% | {dead} | {_alpha_text(r['alphas'])} |")
    return "\n".join(lines)


def plot(results, path, epochs):
    """Loss and dead fraction per epoch, one column per initialisation.  Returns the
    path, or None (with a message) when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'relu_fast[demo]')")
        return None
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    ep = np.arange(1, epochs + 1)
    for col, init in enumerate(INITS):
        for act in ACTIVATIONS:
            r = results.get((init, act))
            if r is None:
                continue
            axes[0, col].plot(ep, r["history"]["loss"], label=act)
            if act != "sigmoid":
                axes[1, col].plot(ep, 100 * np.asarray(r["history"]["dead"]), label=act)
        axes[0, col].set_title(f"{init} init: training loss")
        axes[0, col].set_yscale("log")
        axes[1, col].set_title(f"{init} init: never-active hidden units (%)")
        axes[1, col].set_xlabel("epoch")
        axes[1, col].set_ylim(-3, 103)
        axes[0, col].legend(fontsize=8)
    fig.suptitle("relu_fast demo: 3 interleaved spirals, MLP 2-64-64-3")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None):
    if argv is not None and "--fused" in argv:     # the training step three ways
        from . import _demo_fused
        return _demo_fused.main(argv)
    parser = argparse.ArgumentParser(prog="python -m relu_fast demo", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--points", type=int, default=400, help="training points per spiral arm")
    parser.add_argument("--quick", action="store_true", help="a few epochs on few points (for tests)")
    parser.add_argument("--plot", default="relu_fast_demo.png", metavar="PATH", help="where to save the PNG")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (momentum 0.9)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for relu_fast and, with threadpoolctl, BLAS (default 1: the "
                             "arrays are small, and waking threads costs more than it saves)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.points = min(args.epochs, 4), min(args.points, 60)
    if args.epochs < 1 or args.points < 2 or args.threads < 1:
        parser.error("--epochs, --threads must be >= 1 and --points >= 2")
    with limit_threads(args.threads), _blas_threads(args.threads):
        return _run(args)


@contextlib.contextmanager
def _blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _run(args):

    X, y = spirals(args.points, seed=args.seed)
    Xt, yt = spirals(max(args.points // 4, 10), seed=args.seed + 1)
    runs = [(init, act) for init in INITS for act in ACTIVATIONS]
    bar = None if args.no_progress else Progress(len(runs) * args.epochs)
    results = {}
    t0 = time.perf_counter()
    for i, (init, act) in enumerate(runs):
        tick = None
        if bar:
            tick = (lambda e, i=i, label=f"{init}/{act}": bar.show(i * args.epochs + e, label))
        results[(init, act)] = train(act, init, X, y, Xt, yt, args.epochs, lr=args.lr, seed=args.seed + 1,
                                     tick=tick)
    if bar:
        bar.close()
    elapsed = time.perf_counter() - t0
    print(f"3 interleaved spirals, {len(y)} training / {len(yt)} test points; MLP 2-64-64-3, float32, "
          f"SGD lr {args.lr:g} momentum 0.9, batch 64, {args.epochs} epochs; {elapsed:.1f} s")
    print("never-active unit: hidden input <= 0 for every training point, after the first and the "
          "last epoch (both hidden layers); for ReLU such a unit is dead (zero gradient). "
          "'dying' init: hidden biases -3")
    print(table(results))
    if not args.no_plot:
        path = plot(results, args.plot, args.epochs)
        if path:
            print(f"plot: {path}")
    return 0
