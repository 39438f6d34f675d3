"""Activation layers for NumPy training loops: ReLU, LeakyReLU, PReLU, ELU.

``y = layer.forward(x)`` (or ``layer(x)``) returns the activation and keeps only what
the backward pass needs; ``layer.backward(grad_output)`` returns grad_input (the
chain rule through the layer) and frees what forward kept.  Every layer calls the
functional API (relu_fast.relu, relu_backward_mask, prelu_backward, ...).

What is kept between forward and backward:

    ReLU            the 1-bit mask of relu_mask (x.size / 8 bytes); mask=False keeps x
    LeakyReLU, ELU  x; with inplace=True the output (backward from the output)
    PReLU           x; with inplace=True the output (needs every alpha in [finfo.tiny, 1])

``backward`` refuses a grad_output whose shape or dtype is not the forward output's
(ValueError / TypeError) and then keeps what forward saved, so a corrected call can
follow; a successful backward frees it (a second backward raises RuntimeError).

``inplace=True`` writes the output into x (an ndarray of float32/float64).  PReLU
has ``weight`` (the alphas) and, after backward, ``grad_weight`` (set, not
accumulated); ``parameters()`` and ``grads()`` list them in the same order for a
plain SGD loop::

    for p, g in zip(layer.parameters(), layer.grads()):
        p -= lr * g

``track_activity=True`` records, at each successful forward, active_fraction[c] =
the fraction of x > 0 in channel c along ``activity_axis`` (ReLU counts it in its
forward pass with relu_stats); ``never_active(layer)`` lists the channels (units)
that were never active since the layer's last ``reset_activity()``: dead ReLUs.

The channel axis defaults to 1 everywhere (as in PyTorch): NCHW images or
(batch, features) matrices.  Channels-last data needs ``activity_axis=-1`` (and
``axis=-1`` for PReLU).  A tracking layer therefore needs x.ndim >= 2 by default;
a 1-D x raises relu_stats' ValueError (pass ``activity_axis=0`` to count per element).
"""
from typing import Any, List, Optional

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._api import (elu, elu_backward, leaky_relu, leaky_relu_backward, prelu, prelu_backward, relu,
                   relu_backward)
from ._api_train import relu_backward_mask, relu_mask, relu_stats

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "never_active", "dead_fraction"]


class _Activation:
    """Shared plumbing: saved state, activity tracking, no parameters."""

    def __init__(self, *, inplace: bool = False, track_activity: bool = False,
                 activity_axis: int = 1) -> None:
        self.inplace = bool(inplace)
        self.track_activity = bool(track_activity)
        self.activity_axis = activity_axis
        self._saved = None
        self._shape = None
        self._dtype = None
        self.reset_activity()

    def __call__(self, x: ArrayLike) -> NDArray[Any]:
        return self.forward(x)

    def parameters(self) -> List[NDArray[Any]]:
        """Arrays an optimiser updates in place (none for this layer)."""
        return []

    def grads(self) -> List[NDArray[Any]]:
        """Gradients of parameters(), in the same order, after backward."""
        return []

    def saved_nbytes(self) -> int:
        """Bytes this layer holds for its backward pass (0 before forward / after backward)."""
        return 0 if self._saved is None else int(self._saved.nbytes)

    # -- activity -----------------------------------------------------------
    def reset_activity(self) -> None:
        """Forget the recorded activity (start a new run, e.g. an epoch)."""
        self.active_fraction = None   # per channel, of the last forward
        self.ever_active = None       # per channel: any x > 0 since the reset
        self.activity_steps = 0

    def _record(self, frac):
        frac = np.asarray(frac)
        if self.ever_active is None or self.ever_active.shape != frac.shape:
            self.ever_active = np.zeros(frac.shape, dtype=bool)
            self.activity_steps = 0
        self.active_fraction = frac
        self.ever_active |= frac > 0
        self.activity_steps += 1

    def _fractions(self, x):
        """Per-channel active fractions of x (before an in-place forward overwrites it),
        or None when not tracking; _record them only once the forward has succeeded."""
        if not self.track_activity:
            return None
        # the axis is passed explicitly: the layer's default, not relu_stats'
        return relu_stats(x, axis=self.activity_axis)[1]

    def _record_if(self, frac):
        if frac is not None:
            self._record(frac)

    # -- saved state ----------------------------------------------------------
    def _keep(self, saved, y):
        self._saved = saved
        self._shape = y.shape
        self._dtype = y.dtype

    def _peek(self, grad_output):
        """The saved state after checking grad_output against the forward output.
        It stays saved until _free(): a refused backward can be retried."""
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward called without a forward "
                               "(or twice for one forward)")
        shape = np.shape(grad_output)
        if shape != self._shape:
            raise ValueError(f"grad_output has shape {shape} but the forward output had shape "
                             f"{self._shape}")
        dtype = getattr(grad_output, "dtype", None)
        if not isinstance(dtype, np.dtype):
            dtype = np.asarray(grad_output).dtype
        if dtype != self._dtype:
            raise TypeError(f"grad_output has dtype {dtype} but the forward output had dtype "
                            f"{self._dtype}; they must match")
        return self._saved

    def _free(self):
        self._saved = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"

    def _args(self):
        return f"inplace={self.inplace}" if self.inplace else ""


class ReLU(_Activation):
    """y = max(x, 0) (NaN stays NaN); grad_input = grad_output where x > 0 (or NaN), else 0.

    Keeps the 1-bit mask of relu_mask between forward and backward (x.size / 8
    bytes: 32x less than a float32 x, 64x less than float64); mask=False keeps x
    (its output with inplace=True) and uses relu_backward.  grad_output must have
    the output's shape and dtype in both modes.  activity_axis: the channel axis
    for track_activity (1: NCHW / (batch, features); -1: channels-last).
    """

    def __init__(self, *, inplace: bool = False, mask: bool = True, track_activity: bool = False,
                 activity_axis: int = 1) -> None:
        super().__init__(inplace=inplace, track_activity=track_activity, activity_axis=activity_axis)
        self.mask = bool(mask)

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        out = x if self.inplace else None
        frac = None
        if self.track_activity:
            # the activity is counted in the forward pass itself, recorded at the end
            y, frac = relu_stats(x, axis=self.activity_axis, out=out)
            if self.mask:
                # relu(x) > 0 or NaN exactly where x is: the mask of y is the mask of x
                _, m = relu_mask(y, out=y)
        elif self.mask:
            y, m = relu_mask(x, out=out)
        else:
            y = relu(x, out=out)
        if self.mask:
            self._keep(m, y)
        else:
            self._keep(y if self.inplace else np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        saved = self._peek(grad_output)
        if self.mask:
            grad_input = relu_backward_mask(grad_output, saved)
        else:
            grad_input = relu_backward(grad_output, saved)
        self._free()
        return grad_input

    def _args(self):
        a = [] if self.mask else ["mask=False"]
        return ", ".join(a + ([super()._args()] if self.inplace else []))


class LeakyReLU(_Activation):
    """y = x if x > 0 else negative_slope * x; grad_input = grad_output * (1 or negative_slope).

    Keeps x; with inplace=True keeps the output (same signs as x when
    negative_slope >= 0, which inplace therefore needs).  activity_axis: as ReLU's
    (default 1; -1 for channels-last).
    """

    def __init__(self, negative_slope: float = 0.01, *, inplace: bool = False,
                 track_activity: bool = False, activity_axis: int = 1) -> None:
        if inplace and not negative_slope >= 0:
            raise ValueError(f"LeakyReLU(inplace=True) needs negative_slope >= 0 to run backward "
                             f"from its output, got {negative_slope}")
        super().__init__(inplace=inplace, track_activity=track_activity, activity_axis=activity_axis)
        self.negative_slope = negative_slope

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        frac = self._fractions(x)
        if self.inplace:
            y = leaky_relu(x, self.negative_slope, out=x)
            self._keep(y, y)
        else:
            y = leaky_relu(x, self.negative_slope)
            self._keep(np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        grad_input = leaky_relu_backward(grad_output, self._peek(grad_output), self.negative_slope)
        self._free()
        return grad_input

    def _args(self):
        return ", ".join([f"negative_slope={self.negative_slope}"] + ([super()._args()] if self.inplace else []))


class ELU(_Activation):
    """y = x if x > 0 else alpha * (exp(x) - 1); grad_input = grad_output * (1 or alpha * exp(x)).

    Keeps x; with inplace=True keeps the output and uses grad * (y + alpha) for
    y <= 0 (needs alpha >= 0).  activity_axis: as ReLU's (default 1; -1 for
    channels-last).
    """

    def __init__(self, alpha: float = 1.0, *, inplace: bool = False, track_activity: bool = False,
                 activity_axis: int = 1) -> None:
        if inplace and not alpha >= 0:
            raise ValueError(f"ELU(inplace=True) needs alpha >= 0 to run backward from its output, "
                             f"got {alpha}")
        super().__init__(inplace=inplace, track_activity=track_activity, activity_axis=activity_axis)
        self.alpha = alpha

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        frac = self._fractions(x)
        if self.inplace:
            y = elu(x, self.alpha, out=x)
            self._keep(y, y)
        else:
            y = elu(x, self.alpha)
            self._keep(np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        saved = self._peek(grad_output)
        grad_input = elu_backward(grad_output, saved, self.alpha, is_result=self.inplace)
        self._free()
        return grad_input

    def _args(self):
        return ", ".join([f"alpha={self.alpha}"] + ([super()._args()] if self.inplace else []))


class PReLU(_Activation):
    """y = x if x > 0 else weight[c] * x, c the index along `axis`; learnable weight.

    num_parameters: 1 (one alpha shared by all channels) or the number of channels
    x has along `axis` (axis=1: NCHW / (batch, features); -1: channels-last).
    weight starts at `init` in `dtype`, which must be the dtype of x.
    backward sets grad_input and grad_weight[c] = sum over channel c of
    (x > 0 ? 0 : x * grad_output).  Keeps x; with inplace=True keeps the output, and
    grad_weight is sum(y * grad) / alpha: forward then needs every alpha to be a
    normal number in (0, 1], finfo(dtype).tiny <= alpha <= 1 (y = alpha * x cannot
    overflow, and x is recovered up to the rounding of y), else ValueError before x
    is written.  Activity is tracked along `axis` unless activity_axis is given.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, axis: int = 1,
                 dtype: DTypeLike = np.float32, *, inplace: bool = False,
                 track_activity: bool = False, activity_axis: Optional[int] = None) -> None:
        if int(num_parameters) < 1:
            raise ValueError(f"num_parameters must be >= 1, got {num_parameters}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        super().__init__(inplace=inplace, track_activity=track_activity,
                         activity_axis=axis if activity_axis is None else activity_axis)
        self.num_parameters = int(num_parameters)
        self.axis = axis
        self.weight = np.full(self.num_parameters, init, dtype=dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self._alpha = None

    def parameters(self) -> List[NDArray[Any]]:
        return [self.weight]

    def grads(self) -> List[NDArray[Any]]:
        return [self.grad_weight]

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        if self.inplace:
            w = self.weight
            tiny = np.finfo(w.dtype).tiny
            # also refuses NaN; checked before anything (x, the activity) is written
            if not np.all((w >= tiny) & (w <= 1)):
                raise ValueError(f"PReLU(inplace=True) needs every alpha to be a normal number "
                                 f"in (0, 1] ({tiny} <= alpha <= 1 for {w.dtype}) to run backward "
                                 f"from its output, got alpha in [{w.min()}, {w.max()}]; "
                                 "use inplace=False")
        frac = self._fractions(x)
        if self.inplace:
            y = prelu(x, self.weight, axis=self.axis, out=x)
            self._keep(y, y)
        else:
            y = prelu(x, self.weight, axis=self.axis)
            self._keep(np.asarray(x), y)
        self._alpha = self.weight.copy()
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        saved = self._peek(grad_output)
        grad_input, gw = prelu_backward(grad_output, saved, self._alpha, axis=self.axis)
        if self.inplace:
            # saved is y = alpha * x where x <= 0, so sum(y * g) = alpha * sum(x * g)
            gw = gw / self._alpha
        self.grad_weight = np.asarray(gw, dtype=self.weight.dtype).reshape(self.weight.shape)
        self._free()
        return grad_input

    def _args(self):
        a = [f"num_parameters={self.num_parameters}", f"axis={self.axis}",
             f"dtype={self.weight.dtype.name}"]
        return ", ".join(a + ([super()._args()] if self.inplace else []))


def never_active(layer: "_Activation") -> NDArray[np.intp]:
    """Indices of the channels (units) of `layer` with no x > 0 in any forward since
    its last reset_activity() (needs track_activity=True and at least one forward)."""
    if layer.ever_active is None:
        raise ValueError(f"{type(layer).__name__} has no recorded activity: create it with "
                         "track_activity=True and run forward first")
    return np.flatnonzero(~layer.ever_active)


def dead_fraction(layer: "_Activation") -> float:
    """Fraction of `layer`'s channels never active since its last reset_activity()."""
    return never_active(layer).size / layer.ever_active.size
