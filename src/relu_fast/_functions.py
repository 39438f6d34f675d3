"""Every public function of relu_fast, declared once.

A declaration says what a function is: its arguments (with defaults, in order), how
it is computed (``kind``: which driver and kernel-table slot; ``op``: the op code of
``_table.pxd`` for the elementwise ones), which function it is the gradient of, its
PyTorch counterpart, and how dask arrays are handled.  What follows from it:

- the dask versions of the elementwise functions (``_dask`` makes them from here);
- ``python -m relu_fast``'s self-check list (``_report``);
- the tests' parametrisation: each function is compared with its plain-NumPy twin of
  the same name in ``_reference``, for every dtype, layout, thread count and level
  (``tests/conftest.py``), and ``tests/test_declarations.py`` checks that the public
  function, its reference, its stub, its docs entry, its benchmark contenders and its
  dask version agree with the declaration, so a place forgotten is a failing test.

Pure Python without imports from the package: setup.py and tools may read it before
anything is built.
"""
from inspect import Parameter
from typing import NamedTuple, Optional, Tuple

# the default of a required scalar argument (threshold's threshold and value): no default
REQUIRED = Parameter.empty


class Param(NamedTuple):
    """A scalar argument after the arrays.  ``keyword``: keyword-only; ``default``
    `REQUIRED` for one without a default (it must come before those with one);
    ``example``: a value other than the default that the self-check and the tests'
    reference comparison pass (None: the default); ``annotation``: its type in the
    stubs, where the default's type does not say it."""
    name: str
    default: object
    keyword: bool = False
    example: object = None
    annotation: Optional[str] = None

    def sample(self):
        """The value the self-check and the generic tests call with."""
        return self.default if self.example is None else self.example


class Function(NamedTuple):
    name: str
    # "unary": y = f(x); "binary": grad_input = f'(x) * grad_output (arguments
    # grad_output, x); "prelu", "prelu_backward": per-channel weights along `axis`;
    # "mask", "mask_backward", "stats": the training helpers (_api_train)
    kind: str
    params: Tuple[Param, ...] = ()
    op: Optional[str] = None              # op code in _table.pxd (unary/binary kinds)
    gradient_of: Optional[str] = None     # the forward function, for a gradient
    torch: Optional[str] = None           # the PyTorch function it matches
    dask: str = "elementwise"             # "elementwise", "custom" (_dask), or "refused"
    out: bool = True                      # takes out=
    bench: bool = True                    # timed by bench/asv (_bench/contenders.py)
    ulps: int = 0                         # tested to within this many ulp of _reference
    fma: bool = False                     # may differ in the last bit on levels with FMA


SLOPE = Param("negative_slope", 0.01, example=0.2)
ALPHA = Param("alpha", 1.0, example=1.5)
MIN_VAL = Param("min_val", -1.0, example=-0.5)
MAX_VAL = Param("max_val", 1.0, example=0.75)
THRESHOLD = Param("threshold", REQUIRED, example=0.25)
# softplus's (PyTorch's names and defaults); the example beta is not a power of 2, so
# that beta x is rounded and its low part matters
BETA = Param("beta", 1.0, example=1.5)
SP_THRESHOLD = Param("threshold", 20.0, example=4.0)
# softplus and mish against their reference twins, which repeat the kernels' float64
# pair steps (exp, log1p and all) in NumPy: float64 bit for bit; float32 runs plain
# float64 lanes (_kernels_math.pxi), which may round the other way at a tie's edge
SOFTPLUS_ULPS = 1
APPROXIMATE = Param("approximate", "none", example="tanh")
# the gradient from the forward's output y instead of x, where y determines it
IS_RESULT = Param("is_result", False, keyword=True)
# rrelu: the range of the random slopes, the mode, and (training) the Philox key
RRELU = (Param("lower", 1.0 / 8.0, example=0.1), Param("upper", 1.0 / 3.0, example=0.4),
         Param("training", False, example=True), Param("seed", None, keyword=True, example=20261201))

# Every elementwise function takes a per-channel bias, fused into its pass: the forward
# computes f(x + bias[c]) with c the index along `axis`; the gradient takes the
# derivative there and, with grad_bias=True, also returns the bias gradient (the sums
# of grad_input per channel).  Appended to each unary and binary declaration below.
BIAS = (Param("bias", None, keyword=True, annotation="Optional[ArrayLike]"),
        Param("axis", 1, keyword=True))
GRAD_BIAS = Param("grad_bias", False, keyword=True)


def _with_bias(f):
    if f.kind == "unary":
        return f._replace(params=f.params + BIAS)
    if f.kind == "binary":
        return f._replace(params=f.params + BIAS + (GRAD_BIAS,))
    return f


FUNCTIONS = {f.name: _with_bias(f) for f in (
    Function("relu", "unary", op="OP_RELU", torch="torch.nn.functional.relu"),
    Function("relu_backward", "binary", op="OP_RELU_BWD", gradient_of="relu",
             torch="torch.ops.aten.threshold_backward"),
    Function("leaky_relu", "unary", (SLOPE,), op="OP_LEAKY",
             torch="torch.nn.functional.leaky_relu"),
    Function("leaky_relu_backward", "binary", (SLOPE,), op="OP_LEAKY_BWD",
             gradient_of="leaky_relu", torch="torch.ops.aten.leaky_relu_backward"),
    Function("elu", "unary", (ALPHA,), op="OP_ELU", torch="torch.nn.functional.elu", ulps=2,
             fma=True),
    Function("elu_backward", "binary", (ALPHA, Param("is_result", False, keyword=True)),
             op="OP_ELU_BWD", gradient_of="elu", torch="torch.ops.aten.elu_backward", ulps=2,
             fma=True),
    Function("hardtanh", "unary", (MIN_VAL, MAX_VAL),
             op="OP_HARDTANH", torch="torch.nn.functional.hardtanh"),
    Function("hardtanh_backward", "binary", (MIN_VAL, MAX_VAL, IS_RESULT),
             op="OP_HARDTANH_BWD", gradient_of="hardtanh",
             torch="torch.ops.aten.hardtanh_backward"),
    # relu6 is hardtanh's kernel with (0, 6), as in PyTorch
    Function("relu6", "unary", op="OP_HARDTANH", torch="torch.nn.functional.relu6"),
    Function("relu6_backward", "binary", (IS_RESULT,), op="OP_HARDTANH_BWD", gradient_of="relu6",
             torch="torch.ops.aten.hardtanh_backward"),
    Function("threshold", "unary", (THRESHOLD, Param("value", REQUIRED, example=-2.5)),
             op="OP_THRESHOLD", torch="torch.nn.functional.threshold"),
    # the gradient does not depend on value, and (as PyTorch's) does not take it
    Function("threshold_backward", "binary", (THRESHOLD,),
             op="OP_THRESHOLD_BWD", gradient_of="threshold",
             torch="torch.ops.aten.threshold_backward"),
    Function("hardsigmoid", "unary", op="OP_HARDSIGMOID", torch="torch.nn.functional.hardsigmoid"),
    Function("hardsigmoid_backward", "binary", (IS_RESULT,), op="OP_HARDSIGMOID_BWD",
             gradient_of="hardsigmoid", torch="torch.ops.aten.hardsigmoid_backward"),
    Function("hardswish", "unary", op="OP_HARDSWISH", torch="torch.nn.functional.hardswish"),
    Function("hardswish_backward", "binary", op="OP_HARDSWISH_BWD", gradient_of="hardswish",
             torch="torch.ops.aten.hardswish_backward"),
    Function("selu", "unary", op="OP_SELU", torch="torch.nn.functional.selu", ulps=2,
             fma=True),
    Function("selu_backward", "binary", (IS_RESULT,), op="OP_SELU_BWD", gradient_of="selu",
             torch="torch.ops.aten.elu_backward", ulps=2, fma=True),
    Function("celu", "unary", (ALPHA,), op="OP_CELU", torch="torch.nn.functional.celu", ulps=2,
             fma=True),
    Function("celu_backward", "binary", (ALPHA, IS_RESULT), op="OP_CELU_BWD", gradient_of="celu",
             torch="torch.ops.aten.elu_backward", ulps=2, fma=True),
    Function("silu", "unary", op="OP_SILU", torch="torch.nn.functional.silu", ulps=2, fma=True),
    Function("silu_backward", "binary", op="OP_SILU_BWD", gradient_of="silu",
             torch="torch.ops.aten.silu_backward", ulps=3, fma=True),
    # training=False is leaky_relu with the mean slope (OP_LEAKY); dask: each chunk needs
    # its elements' C-order indices in the whole array
    Function("rrelu", "unary", RRELU, op="OP_RRELU", torch="torch.nn.functional.rrelu",
             dask="custom"),
    Function("rrelu_backward", "binary", RRELU, op="OP_RRELU_BWD", gradient_of="rrelu",
             torch="torch.ops.aten.rrelu_with_noise_backward", dask="custom"),
    Function("softplus", "unary", (BETA, SP_THRESHOLD), op="OP_SOFTPLUS",
             torch="torch.nn.functional.softplus", ulps=SOFTPLUS_ULPS,
             fma=True),
    Function("softplus_backward", "binary", (BETA, SP_THRESHOLD), op="OP_SOFTPLUS_BWD",
             gradient_of="softplus", torch="torch.ops.aten.softplus_backward", ulps=SOFTPLUS_ULPS,
             fma=True),
    Function("mish", "unary", op="OP_MISH", torch="torch.nn.functional.mish", ulps=SOFTPLUS_ULPS,
             fma=True),
    Function("mish_backward", "binary", op="OP_MISH_BWD", gradient_of="mish",
             torch="torch.ops.aten.mish_backward", ulps=SOFTPLUS_ULPS, fma=True),
    # approximate="none" (erf form) or "tanh"; the wrapper picks OP_GELU / OP_GELU_TANH
    Function("gelu", "unary", (APPROXIMATE,), op="OP_GELU", torch="torch.nn.functional.gelu",
             ulps=3, fma=True),
    # ulps: measured 2.8 (tools/accuracy.py)
    Function("gelu_backward", "binary", (APPROXIMATE,), op="OP_GELU_BWD", gradient_of="gelu",
             torch="torch.ops.aten.gelu_backward", ulps=4, fma=True),
    Function("prelu", "prelu", (Param("axis", 1, keyword=True),), dask="custom",
             torch="torch.nn.functional.prelu"),
    Function("prelu_backward", "prelu_backward", (Param("axis", 1, keyword=True),),
             gradient_of="prelu", dask="custom", out=False),
    Function("relu_stats", "stats", (Param("axis", 1, keyword=True),), dask="custom", bench=False),
)}

# The activations whose gradient takes one of two forms (g or slope g; g c or 0) keep a
# 1-bit mask for backward instead of x (_api_train): <name>_mask takes the forward's
# arguments and returns (y, mask); <name>_backward_mask(grad_output, mask, ...) takes
# those the gradient from the mask needs (listed here), the channel axis and grad_bias.
MASKED = {
    "relu": (),
    "leaky_relu": (SLOPE,),
    "rrelu": RRELU,
    "hardtanh": (),
    "relu6": (),
    "threshold": (),
    "hardsigmoid": (),
}


def _mask_functions():
    for base, grad_params in MASKED.items():
        f = FUNCTIONS[base]
        yield Function(f"{base}_mask", "mask", f.params, dask="refused", bench=False)
        yield Function(f"{base}_backward_mask", "mask_backward",
                       grad_params + (Param("axis", 1, keyword=True), GRAD_BIAS),
                       gradient_of=f"{base}_mask", dask="refused", bench=False)


FUNCTIONS.update((f.name, f) for f in _mask_functions())

# The array arguments of each kind, in order.
ARRAYS = {
    "unary": ("x",),
    "binary": ("grad_output", "x"),
    "prelu": ("x", "weight"),
    "prelu_backward": ("grad_output", "x", "weight"),
    "mask": ("x",),
    "mask_backward": ("grad_output", "mask"),
    "stats": ("x",),
}

ELEMENTWISE = tuple(name for name, f in FUNCTIONS.items() if f.kind in ("unary", "binary"))


# ---------------------------------------------------------------------------
# Stubs: setup.py writes _api.pyi from _api.pyi.in, putting these overloads of the
# elementwise functions where the template says {elementwise}.
# ---------------------------------------------------------------------------

_TYPES = {bool: "bool", float: "float", int: "int", str: "str"}


def _stub_param(p):
    if p.annotation is not None:
        return f"{p.name}: {p.annotation} = {p.default!r}"
    if p.default is REQUIRED:
        return f"{p.name}: float"
    if p.default is None:                   # rrelu's seed
        return f"{p.name}: Optional[int] = None"
    return f"{p.name}: {_TYPES[type(p.default)]} = {p.default!r}"


def _stub_params(f, array_type, out_type):
    arrays = [f"{a}: {array_type}" for a in ARRAYS[f.kind]]
    positional = [_stub_param(p) for p in f.params if not p.keyword]
    keyword = [_stub_param(p) for p in f.params if p.keyword]
    keyword.append(f"out: {out_type} = None")
    return ", ".join(arrays + positional + ["*"] + keyword)


def stub_overloads():
    """The typed overloads of every elementwise function: x's dtype in, the same out; a
    dask array in (grad_output or x), a dask array out; a gradient with grad_bias=True,
    a pair."""
    lines = []
    for name in ELEMENTWISE:
        f = FUNCTIONS[name]
        if f.kind == "binary":
            pair = _stub_params(f, "ArrayLike", "_Out").replace("grad_bias: bool = False",
                                                                "grad_bias: Literal[True]")
            lines += ["@overload",
                      f"def {name}({pair}) -> Tuple[Any, Any]: ..."]
        lines += [line.replace("grad_bias: bool = False", "grad_bias: Literal[False] = False")
                  for line in _plain_overloads(name, f)]
    return "\n".join(lines)


def _plain_overloads(name, f):
    return ["@overload",
            f"def {name}({_stub_params(f, 'NDArray[_F]', 'Optional[NDArray[_F]]')}) "
            "-> NDArray[_F]: ...",
            "@overload",
            f"def {name}({_stub_params(f, '_D', 'None')}) -> _D: ...",
            "@overload",
            f"def {name}({_stub_params(f, 'ArrayLike', '_Out')}) -> _Float: ..."]


def mask_stub_overloads():
    """The typed overloads of the mask functions (setup.py puts them into _api_train.pyi):
    x's dtype in, the same out; a gradient with grad_bias=True, a pair."""
    lines = []
    for name, f in FUNCTIONS.items():
        if f.kind not in ("mask", "mask_backward"):
            continue
        positional = [_stub_param(p) for p in f.params if not p.keyword]
        keyword = [_stub_param(p) for p in f.params if p.keyword]

        def params(array_type, out_type, keyword=keyword):
            arrays = ([f"grad_output: {array_type}", "mask: ArrayLike"]
                      if f.kind == "mask_backward" else [f"x: {array_type}"])
            return ", ".join(arrays + positional + ["*"] + keyword + [f"out: {out_type} = None"])
        if f.kind == "mask":
            lines += ["@overload",
                      f"def {name}({params('NDArray[_F]', 'Optional[NDArray[_F]]')}) "
                      "-> Tuple[NDArray[_F], NDArray[np.uint8]]: ...",
                      "@overload",
                      f"def {name}({params('ArrayLike', '_Out')}) -> Tuple[_Float, NDArray[np.uint8]]: ..."]
            continue
        pair = [k.replace("grad_bias: bool = False", "grad_bias: Literal[True]") for k in keyword]
        one = [k.replace("grad_bias: bool = False", "grad_bias: Literal[False] = False")
               for k in keyword]
        lines += ["@overload",
                  f"def {name}({params('ArrayLike', '_Out', pair)}) -> Tuple[Any, Any]: ...",
                  "@overload",
                  f"def {name}({params('NDArray[_F]', 'Optional[NDArray[_F]]', one)}) -> NDArray[_F]: ...",
                  "@overload",
                  f"def {name}({params('ArrayLike', '_Out', one)}) -> _Float: ..."]
    return "\n".join(lines)
