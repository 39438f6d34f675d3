# Types of the compiled module relu_fast._api_train (checked by tests/test_stubs.py).
from typing import Any, Optional, Protocol, Tuple, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_Float = NDArray[np.floating[Any]]
_Out = Optional[NDArray[np.floating[Any]]]
_F = TypeVar("_F", np.float32, np.float64)


class _DaskArray(Protocol):
    def __dask_graph__(self) -> Any: ...


_D = TypeVar("_D", bound=_DaskArray)

@overload
def relu_mask(
    x: NDArray[_F], *, out: Optional[NDArray[_F]] = None
) -> Tuple[NDArray[_F], NDArray[np.uint8]]: ...
@overload
def relu_mask(x: ArrayLike, *, out: _Out = None) -> Tuple[_Float, NDArray[np.uint8]]: ...
@overload
def relu_backward_mask(
    grad_output: NDArray[_F], mask: ArrayLike, *, out: Optional[NDArray[_F]] = None
) -> NDArray[_F]: ...
@overload
def relu_backward_mask(grad_output: ArrayLike, mask: ArrayLike, *, out: _Out = None) -> _Float: ...
@overload
def relu_stats(
    x: NDArray[_F], *, axis: int = 1, out: Optional[NDArray[_F]] = None
) -> Tuple[NDArray[_F], NDArray[np.float64]]: ...
@overload
def relu_stats(x: _D, *, axis: int = 1, out: None = None) -> Tuple[_D, _D]: ...
@overload
def relu_stats(x: ArrayLike, *, axis: int = 1, out: _Out = None) -> Tuple[_Float, NDArray[np.float64]]: ...
def _relu_counts(
    x: ArrayLike, axis: int = 1, out: _Out = None
) -> Tuple[_Float, NDArray[np.int64], int]: ...
