# Types of the compiled module relu_fast._api_train (checked by tests/test_stubs.py).
from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

_Float = NDArray[np.floating[Any]]
_Out = Optional[NDArray[np.floating[Any]]]

def relu_mask(x: ArrayLike, *, out: _Out = None) -> Tuple[_Float, NDArray[np.uint8]]: ...
def relu_backward_mask(grad_output: ArrayLike, mask: ArrayLike, *, out: _Out = None) -> _Float: ...
def relu_stats(x: ArrayLike, *, axis: int = 1, out: _Out = None) -> Tuple[_Float, NDArray[np.float64]]: ...
def _relu_counts(
    x: ArrayLike, axis: int = 1, out: _Out = None
) -> Tuple[_Float, NDArray[np.int64], int]: ...
