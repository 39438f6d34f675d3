"""Every public function agrees with its declaration in relu_fast._functions.

The declaration is the one place a function is described; these tests name the place
that disagrees with it (or was forgotten) when a function is added or changed: the
public function's signature, its plain-NumPy reference, its stub, its docs entry, its
benchmark contenders, its dask version and its PyTorch counterpart.
"""
import importlib
import inspect
import pathlib

import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _functions, _reference
from relu_fast._functions import ARRAYS, FUNCTIONS

SRC = pathlib.Path(_functions.__file__).parent
DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
# public names that are not functions on arrays
CONTROLS = {"__version__", "set_num_threads", "get_num_threads", "limit_threads", "kernel_level",
            "set_cache_limit", "cache_info"}
NAMES = sorted(FUNCTIONS)


def test_every_public_function_is_declared():
    public = {n for n in dir(rf) if not n.startswith("_") and callable(getattr(rf, n))
              and not inspect.ismodule(getattr(rf, n))}
    assert public - CONTROLS == set(FUNCTIONS)       # imported, and declared
    assert all(hasattr(rf, n) for n in rf.__all__)
    assert set(rf.__all__) == set(FUNCTIONS) | CONTROLS
    assert len(FUNCTIONS) == 47 and all(f.kind in ARRAYS for f in FUNCTIONS.values())


def _declared_signature(f):
    P = inspect.Parameter
    params = [P(a, P.POSITIONAL_OR_KEYWORD) for a in ARRAYS[f.kind]]
    params += [P(p.name, P.KEYWORD_ONLY if p.keyword else P.POSITIONAL_OR_KEYWORD, default=p.default)
               for p in f.params]
    if f.out:
        params.append(P("out", P.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


@pytest.mark.parametrize("name", NAMES)
def test_public_signature_is_the_declared_one(name):
    f = FUNCTIONS[name]
    got = inspect.signature(getattr(rf, name))
    assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in _declared_signature(f).parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_reference_twin_takes_the_same_arguments(name):
    f = FUNCTIONS[name]
    twin = getattr(_reference, name)
    params = list(inspect.signature(twin).parameters)
    assert params[:len(ARRAYS[f.kind])] == list(ARRAYS[f.kind])
    assert [p.name for p in f.params if p.name in params] == [p.name for p in f.params]


@pytest.mark.parametrize("name", NAMES)
def test_stub_declares_it(name):
    stubs = (SRC / "_api.pyi").read_text() + (SRC / "_api_train.pyi").read_text()
    assert f"def {name}(" in stubs


@pytest.mark.parametrize("name", NAMES)
def test_docs_list_it(name):
    api = DOCS / "api.rst"
    if not api.exists():
        pytest.skip("docs sources not here (installed package tested outside the tree)")
    assert any(line.strip() in (name, f"relu_fast.{name}") for line in api.read_text().splitlines())


@pytest.mark.parametrize("name", NAMES)
def test_op_code_is_in_the_kernel_table(name):
    f = FUNCTIONS[name]
    if f.kind not in ("unary", "binary"):
        assert f.op is None
        return
    table = (SRC / "_table.pxd").read_text()
    assert f"    {f.op} = " in table


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_contenders(name):
    f = FUNCTIONS[name]
    from relu_fast._bench import contenders
    timed = {func for func, _ in contenders.TABLE}
    assert (name in timed) == f.bench or (name == "prelu_backward" and f.bench)
    if f.bench and f.kind != "prelu_backward":
        assert name in contenders.FUNCTIONS


@pytest.mark.parametrize("name", NAMES)
def test_gradient_pairs(name):
    f = FUNCTIONS[name]
    if f.gradient_of is not None:
        forward = FUNCTIONS[f.gradient_of]
        if f.kind == "mask_backward":
            # from the mask: only the scalars its two forms need (the range, the
            # threshold are in the bits), with the forward's names and defaults
            assert name == forward.name.replace("_mask", "_backward_mask")
            full = {p.name: p for p in FUNCTIONS[forward.name.replace("_mask", "_backward")].params}
            assert all(full[p.name] == p for p in f.params)
            return
        assert name == f"{forward.name}_backward"
        # a gradient takes its forward's scalar arguments, but for those the gradient
        # does not depend on (threshold's value: PyTorch's threshold_backward has none)
        unused = {"threshold_backward": {"value"}}.get(name, set())
        assert {p.name for p in forward.params} - unused <= {p.name for p in f.params}
        assert not unused & {p.name for p in f.params}


@pytest.mark.parametrize("name", NAMES)
def test_dask_as_declared(name):
    da = pytest.importorskip("dask.array")
    from relu_fast import _dask
    f = FUNCTIONS[name]
    x = da.from_array(np.linspace(-2, 2, 24, dtype=np.float32).reshape(4, 6), chunks=(2, 3))
    args = {"x": x, "grad_output": x, "weight": np.float32(0.25), "mask": x}
    required = {p.name: 0.5 for p in f.params if p.default is _functions.REQUIRED}
    call = lambda: getattr(rf, name)(*(args[a] for a in ARRAYS[f.kind]), **required)  # noqa: E731
    if f.dask == "refused":
        assert not hasattr(_dask, name)
        with pytest.raises(TypeError, match="dask"):
            call()
    else:
        assert callable(getattr(_dask, name))
        got = call()
        got = got[0] if isinstance(got, tuple) else got
        assert isinstance(got, da.Array)


@pytest.mark.parametrize("name", [n for n in NAMES if FUNCTIONS[n].torch])
def test_torch_counterpart_exists(name):
    torch = pytest.importorskip("torch")
    mod, _, attr = FUNCTIONS[name].torch.rpartition(".")
    obj = torch
    for part in mod.split(".")[1:]:
        obj = getattr(obj, part)
    assert callable(getattr(obj, attr))


def test_declarations_module_imports_nothing_of_the_package():
    # setup.py and tools read it before anything is built
    text = (SRC / "_functions.py").read_text()
    assert "from ." not in text and "import relu_fast" not in text
    assert importlib.util.find_spec("relu_fast._functions") is not None
