# Types of the compiled module relu_fast._api (checked against it by tests/test_stubs.py).
from typing import Any, Dict, List, Optional, Tuple, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_Float = NDArray[np.floating[Any]]
_Out = Optional[NDArray[np.floating[Any]]]
_F = TypeVar("_F", np.float32, np.float64)

HAVE_OPENMP: bool

# float32 in, float32 out (and float64): each function keeps x's dtype.
@overload
def relu(x: NDArray[_F], *, out: Optional[NDArray[_F]] = None) -> NDArray[_F]: ...
@overload
def relu(x: ArrayLike, *, out: _Out = None) -> _Float: ...
@overload
def relu_backward(
    grad_output: NDArray[_F], x: NDArray[_F], *, out: Optional[NDArray[_F]] = None
) -> NDArray[_F]: ...
@overload
def relu_backward(grad_output: ArrayLike, x: ArrayLike, *, out: _Out = None) -> _Float: ...
@overload
def leaky_relu(
    x: NDArray[_F], negative_slope: float = 0.01, *, out: Optional[NDArray[_F]] = None
) -> NDArray[_F]: ...
@overload
def leaky_relu(x: ArrayLike, negative_slope: float = 0.01, *, out: _Out = None) -> _Float: ...
@overload
def leaky_relu_backward(
    grad_output: NDArray[_F],
    x: NDArray[_F],
    negative_slope: float = 0.01,
    *,
    out: Optional[NDArray[_F]] = None,
) -> NDArray[_F]: ...
@overload
def leaky_relu_backward(
    grad_output: ArrayLike, x: ArrayLike, negative_slope: float = 0.01, *, out: _Out = None
) -> _Float: ...
@overload
def elu(x: NDArray[_F], alpha: float = 1.0, *, out: Optional[NDArray[_F]] = None) -> NDArray[_F]: ...
@overload
def elu(x: ArrayLike, alpha: float = 1.0, *, out: _Out = None) -> _Float: ...
@overload
def elu_backward(
    grad_output: NDArray[_F],
    x: NDArray[_F],
    alpha: float = 1.0,
    *,
    is_result: bool = False,
    out: Optional[NDArray[_F]] = None,
) -> NDArray[_F]: ...
@overload
def elu_backward(
    grad_output: ArrayLike,
    x: ArrayLike,
    alpha: float = 1.0,
    *,
    is_result: bool = False,
    out: _Out = None,
) -> _Float: ...
@overload
def prelu(
    x: NDArray[_F], weight: ArrayLike, *, axis: int = 1, out: Optional[NDArray[_F]] = None
) -> NDArray[_F]: ...
@overload
def prelu(x: ArrayLike, weight: ArrayLike, *, axis: int = 1, out: _Out = None) -> _Float: ...
@overload
def prelu_backward(
    grad_output: NDArray[_F], x: NDArray[_F], weight: ArrayLike, *, axis: int = 1
) -> Tuple[NDArray[_F], NDArray[_F]]: ...
@overload
def prelu_backward(
    grad_output: ArrayLike, x: ArrayLike, weight: ArrayLike, *, axis: int = 1
) -> Tuple[_Float, _Float]: ...
def kernel_level() -> str: ...

# Internal, used by relu_fast's own Python modules and tests.
class _DaskInput(Exception): ...

def _use_level(level: str) -> None: ...
def _flush_denormals(flag: Optional[bool] = None, nthreads: int = 1) -> int: ...
def _prelu_backward_sums(
    grad_output: ArrayLike, x: ArrayLike, weight: ArrayLike, axis: int = 1
) -> Tuple[_Float, NDArray[np.float64]]: ...
def _dask_call(name: str, *args: Any, **kwargs: Any) -> Any: ...
