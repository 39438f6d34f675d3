"""Measurements for the README's training section (one process, medians).

    python tools/measure_training.py

1. Memory nn.ReLU holds between forward and backward (1-bit mask) against keeping x,
   both from saved_nbytes() and from tracemalloc (NumPy reports its buffers to it).
2. relu_backward_mask(g, mask) against relu_backward(g, x), out= preallocated.
"""
import gc
import platform
import timeit
import tracemalloc

import numpy as np

import relu_fast as rf
from relu_fast import nn


def held(layer, x):
    """Bytes still allocated after y = layer(x) and dropping y: what the layer holds."""
    gc.collect()
    tracemalloc.start()
    y = layer(x)
    del y
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current


def memory():
    print("| dtype | x | kept by nn.ReLU() (mask) | kept by nn.ReLU(mask=False) (x) | ratio |")
    print("|---|---|---|---|---|")
    for dtype in (np.float32, np.float64):
        x = np.random.default_rng(0).standard_normal(10_000_000).astype(dtype)
        m, k = nn.ReLU(), nn.ReLU(mask=False)
        hm = held(m, x)
        # keeping x costs its whole buffer as soon as the caller drops its own reference
        xc = x.copy()
        hk_layer = k.forward(xc)
        del hk_layer, xc
        hk = k.saved_nbytes()
        assert hm >= m.saved_nbytes()
        print(f"| {np.dtype(dtype).name} | {x.nbytes / 1e6:.0f} MB | {m.saved_nbytes() / 1e6:.2f} MB "
              f"(tracemalloc {hm / 1e6:.2f} MB) | {hk / 1e6:.0f} MB | {hk / m.saved_nbytes():.0f}x |")


def median_us(f, n):
    number = max(1, 2_000_000 // n)
    times = [timeit.timeit(f, number=number) / number for _ in range(21)]
    return 1e6 * float(np.median(times))


def speed(threads):
    print(f"\nthreads={threads}, level={rf.kernel_level()}: median µs (21 repeats)")
    print("| dtype | n | relu_backward(g, x) | relu_backward_mask(g, mask) | speed-up | relu | relu_mask |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    with rf.limit_threads(threads):
        for dtype in (np.float32, np.float64):
            for n in (10_000, 1_000_000, 10_000_000):
                x = rng.standard_normal(n).astype(dtype)
                g = rng.standard_normal(n).astype(dtype)
                out = np.empty_like(x)
                _, mask = rf.relu_mask(x)
                a = median_us(lambda: rf.relu_backward(g, x, out=out), n)
                b = median_us(lambda: rf.relu_backward_mask(g, mask, out=out), n)
                c = median_us(lambda: rf.relu(x, out=out), n)
                d = median_us(lambda: rf.relu_mask(x, out=out), n)
                print(f"| {np.dtype(dtype).name} | {n:.0e} | {a:.1f} | {b:.1f} | {a / b:.2f}x | {c:.1f} | {d:.1f} |")


if __name__ == "__main__":
    print(platform.machine(), platform.processor() or "", "cpus:", __import__("os").cpu_count(),
          "load:", __import__("os").getloadavg())
    memory()
    speed(1)
    speed(2)
