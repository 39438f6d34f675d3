"""The asv benchmark classes, made from relu_fast's contenders table.

The table (src/relu_fast/_bench/contenders.py, shared with `python -m relu_fast bench`)
declares relu_fast's call and the NumPy baseline of each (function, mode) once; this module
makes asv's classes from it.  Each module (relu.py, leaky_relu.py, elu.py, hardtanh.py, ...) asks
for its functions' classes, so a benchmark keeps the name it had when those modules were written
by hand (asv matches results across commits by module, class and method name).

For each function: `<Class>` times relu_fast under limit_threads(1 or all), `<Class>NumPy` the
NumPy baseline (one thread: NumPy's elementwise ufuncs do not thread), both in each mode the
table has; `<Module>PeakMem` measures the allocating calls' peak memory (whole process,
inputs included).
"""
import importlib.util
import pathlib

import numpy as np

from .common import (DTYPES, PRELU_SHAPES, SIZES, THREADS, Threaded, Timed, backward_io,
                     forward_io, prelu_weight)


def _load_table():
    """The contenders module from this source tree, by path: the suite and its table then
    come from the same commit, whichever build of relu_fast asv has installed (older ones
    predate the table)."""
    path = pathlib.Path(__file__).resolve().parents[2] / "src/relu_fast/_bench/contenders.py"
    spec = importlib.util.spec_from_file_location("relu_fast_bench_contenders", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contenders = _load_table()

# function: (class, NumPy's time_ method, NumPy's peakmem_ method), the names asv knows them by
NAMES = {
    "relu": ("Relu", "maximum", "numpy_maximum"),
    "relu_backward": ("ReluBackward", "multiply_mask", "numpy_multiply_mask"),
    "leaky_relu": ("LeakyRelu", "where", "numpy_where"),
    "leaky_relu_backward": ("LeakyReluBackward", "where", "numpy_backward_where"),
    "elu": ("Elu", "where_expm1", "numpy_where_expm1"),
    "elu_backward": ("EluBackward", "where_exp", "numpy_backward_where_exp"),
    "hardtanh": ("Hardtanh", "clip", "numpy_clip"),
    "hardtanh_backward": ("HardtanhBackward", "multiply_mask", "numpy_multiply_mask"),
    "relu6": ("Relu6", "clip", "numpy_clip"),
    "relu6_backward": ("Relu6Backward", "multiply_mask", "numpy_multiply_mask"),
    "threshold": ("Threshold", "where", "numpy_where"),
    "threshold_backward": ("ThresholdBackward", "multiply_mask", "numpy_multiply_mask"),
    "hardsigmoid": ("Hardsigmoid", "clip_divide", "numpy_clip_divide"),
    "hardsigmoid_backward": ("HardsigmoidBackward", "multiply_mask", "numpy_multiply_mask"),
    "hardswish": ("Hardswish", "multiply_clip", "numpy_multiply_clip"),
    "hardswish_backward": ("HardswishBackward", "where", "numpy_where"),
    "selu": ("Selu", "where_expm1", "numpy_where_expm1"),
    "selu_backward": ("SeluBackward", "where_exp", "numpy_backward_where_exp"),
    "celu": ("Celu", "where_expm1", "numpy_where_expm1"),
    "celu_backward": ("CeluBackward", "where_exp", "numpy_backward_where_exp"),
    "silu": ("Silu", "divide_exp", "numpy_divide_exp"),
    "silu_backward": ("SiluBackward", "sigmoid", "numpy_sigmoid"),
    "rrelu": ("Rrelu", "where_uniform", "numpy_where_uniform"),
    "rrelu_backward": ("RreluBackward", "multiply_noise", "numpy_multiply_noise"),
    "rrelu_eval": ("RreluEval", "where", "numpy_where"),
    "softplus": ("Softplus", "logaddexp", "numpy_logaddexp"),
    "softplus_backward": ("SoftplusBackward", "divide_exp", "numpy_divide_exp"),
    "mish": ("Mish", "multiply_tanh_logaddexp", "numpy_multiply_tanh_logaddexp"),
    "mish_backward": ("MishBackward", "formula", "numpy_formula"),
    "gelu": ("Gelu", "multiply_ndtr", "numpy_multiply_ndtr"),
    "gelu_backward": ("GeluBackward", "ndtr_exp", "numpy_ndtr_exp"),
    "prelu": ("Prelu", "where", "numpy_where"),
    "prelu_backward": ("PreluBackward", "where_sum", "numpy_backward"),
}
# the table's "prelu" is bench's forward+backward cell; asv times the forward alone
TABLE_KEY = {"prelu": "prelu_forward"}


def _rows(function):
    """{mode: row} of a function, in the table's mode order."""
    key = TABLE_KEY.get(function, function)
    return {mode: row for (f, mode), row in contenders.TABLE.items() if f == key}


def operands(function, dtype, size, mode):
    """The table's operands for one asv sample: seeded data, out buffers as `mode` says."""
    shape = PRELU_SHAPES[size] if function.startswith("prelu") else None
    if function.endswith("_backward"):
        g, x, o = backward_io(dtype, size, mode, shape)
    else:
        (x, o), g = forward_io(dtype, size, mode, shape), None
    ops = {"x": x, "g": g, "o": o, "s": np.dtype(dtype).type(contenders.SLOPE)}
    if shape is not None:
        ops["w"] = prelu_weight(dtype)
    return ops


def _timed(function, family, base, threaded):
    """The time_ class of one function and family ("relu_fast" or "numpy")."""
    # an optional baseline (gelu's needs SciPy) that is not installed has no Call
    rows = {m: r for m, r in _rows(function).items() if getattr(r, family) is not None}
    modes = list(rows)
    params, names = [DTYPES, SIZES], ["dtype", "size"]
    if modes != ["alloc"]:
        params, names = params + [modes], names + ["mode"]
    if threaded:
        params, names = params + [THREADS], names + ["threads"]

    def setup(self, *args):
        p = dict(zip(names, args))
        mode = p.get("mode", "alloc")
        self._call = contenders.build(getattr(rows[mode], family),
                                      operands(function, p["dtype"], p["size"], mode))
        if threaded:
            self.enter_threads(p["threads"])

    def time(self, *args):
        self._call()

    cls, numpy_time, _ = NAMES[function]
    method = "time_" + (function if family == "relu_fast" else numpy_time)
    doc = "; ".join(f"{m}: {getattr(r, family).label}" for m, r in rows.items())
    return type(cls if family == "relu_fast" else cls + "NumPy", (base,),
                {"__doc__": doc, "params": params, "param_names": names, "setup": setup,
                 method: time})


def _peakmem(name, functions):
    """One class measuring the allocating call of each function and of its NumPy baseline."""
    def setup(self, dtype, size):
        self._calls = {}
        for function in functions:
            row = _rows(function)["alloc"]
            ops = operands(function, dtype, size, "alloc")
            self._calls[function] = contenders.build(row.relu_fast, ops)
            if row.numpy is not None:
                self._calls[NAMES[function][2]] = contenders.build(row.numpy, ops)

    def method(key):
        def peakmem(self, dtype, size):
            if key not in self._calls:
                raise NotImplementedError("baseline not installed")   # asv: skipped
            self._calls[key]()
        return peakmem

    ns = {"__doc__": "Peak memory of the allocating calls (whole process, inputs included).",
          "params": [DTYPES, SIZES], "param_names": ["dtype", "size"], "setup": setup}
    for function in functions:
        for key in (function, NAMES[function][2]):
            ns["peakmem_" + key] = method(key)
    return type(name, (), ns)


def benchmarks(*functions):
    """{class name: class} of these functions' benchmarks, for a module's globals()."""
    classes = [_timed(f, "relu_fast", Threaded, True) for f in functions]
    classes += [_timed(f, "numpy", Timed, False) for f in functions
                if any(r.numpy is not None for r in _rows(f).values())]
    classes.append(_peakmem(NAMES[functions[0]][0] + "PeakMem", functions))
    return {c.__name__: c for c in classes}
