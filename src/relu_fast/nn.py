"""Activation layers for NumPy training loops, one per relu_fast activation.

ReLU, LeakyReLU, PReLU, ELU, ReLU6, Hardtanh, Threshold, Hardsigmoid, Hardswish, SELU,
CELU, SiLU, GELU, Softplus, Mish, RReLU.

``y = layer.forward(x)`` (or ``layer(x)``) returns the activation and keeps only
what the backward pass needs; ``layer.backward(grad_output)`` returns grad_input
and frees it.  Every layer calls the functional API of `relu_fast`.

What is kept between forward and backward:

=============== =============================================================
Layer           Kept
=============== =============================================================
ReLU, LeakyReLU the 1-bit mask of <name>_mask (x.size / 8 bytes); mask=False: x,
ReLU6, Hardtanh or with inplace=True the output where the gradient follows from it
Threshold,
Hardsigmoid
RReLU           the mask and, training, the 8-byte seed (the slopes are drawn again)
ELU, SELU, CELU x; with inplace=True the output (backward from the output)
PReLU           x; with inplace=True the output (every alpha in [tiny, 1])
Hardswish       x (no in-place variant: the gradient needs x)
SiLU, GELU      x (no in-place variant: the gradient needs x)
Softplus, Mish  x (no in-place variant: the gradient needs x)
=============== =============================================================

Every layer but PReLU takes ``bias=C`` (with ``axis=`` and ``dtype=``): a learnable
bias of C values along the channel axis, zeros at first, added to x in the
activation's own pass and its gradient summed in the backward's (`relu_fast.relu`'s
``bias=`` and ``grad_bias=``); it is in ``parameters()`` and its gradient in
``grads()``.

``parameters()`` and ``grads()`` list the learnable arrays and their gradients
in the same order, for a plain SGD loop::

    for p, g in zip(layer.parameters(), layer.grads()):
        p -= lr * g

``track_activity=True`` records the active fraction of each channel at every
forward; `never_active` and `dead_fraction` report the dead units.  The channel
axis defaults to 1 (NCHW, or (batch, features)); channels-last data needs
``activity_axis=-1`` (and ``axis=-1`` for PReLU).
"""
from typing import Any, List, Optional

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._api import (celu, celu_backward, elu, elu_backward, gelu, gelu_backward, hardsigmoid,
                   hardsigmoid_backward, hardswish, hardswish_backward, hardtanh, hardtanh_backward, leaky_relu,
                   leaky_relu_backward, mish, mish_backward, prelu, prelu_backward, relu, relu6,
                   relu6_backward, relu_backward, rrelu, rrelu_backward, selu, selu_backward,
                   silu, silu_backward, softplus, softplus_backward, threshold,
                   threshold_backward)
from ._api_train import (hardsigmoid_backward_mask, hardsigmoid_mask, hardtanh_backward_mask,
                         hardtanh_mask, leaky_relu_backward_mask, leaky_relu_mask,
                         relu6_backward_mask, relu6_mask, relu_backward_mask, relu_mask,
                         relu_stats, rrelu_backward_mask, rrelu_mask, threshold_backward_mask,
                         threshold_mask)

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "ReLU6", "Hardtanh", "Threshold", "Hardsigmoid",
           "Hardswish", "SELU", "CELU", "SiLU", "GELU", "Softplus", "Mish", "RReLU", "never_active",
           "dead_fraction"]


class _Activation:
    """Shared plumbing: saved state, activity tracking, no parameters."""

    def __init__(self, *, inplace: bool = False, track_activity: bool = False,
                 activity_axis: int = 1, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        self.inplace = bool(inplace)
        self.track_activity = bool(track_activity)
        self.activity_axis = activity_axis
        self.axis = axis
        self.bias: Optional[NDArray[Any]] = None
        self.grad_bias: Optional[NDArray[Any]] = None
        if bias is not None:
            if (isinstance(bias, (bool, np.bool_)) or not isinstance(bias, (int, np.integer))
                    or bias < 1):
                raise ValueError(f"bias must be the number of channels (an int >= 1) or None, "
                                 f"got {bias!r}")
            dtype = np.dtype(dtype)
            if not _is_float_dtype(dtype):
                raise TypeError(f"dtype must be float32, float64, float16 or bfloat16, got {dtype}")
            self.bias = np.zeros(int(bias), dtype=dtype)
            self.grad_bias = np.zeros_like(self.bias)
        self._saved = None
        self._shape = None
        self._dtype = None
        self.reset_activity()

    def __call__(self, x: ArrayLike) -> NDArray[Any]:
        """Run `forward`: ``layer(x)`` is ``layer.forward(x)``.

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16.

        Returns
        -------
        ndarray
            The activation of x, of x's shape and dtype.

        See Also
        --------
        relu_fast.nn.ReLU.forward : The forward pass, for example.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.ReLU()(np.array([-1.0, 2.0]))
        array([0., 2.])
        """
        return self.forward(x)

    def parameters(self) -> List[NDArray[Any]]:
        """Return the arrays an optimiser updates in place: ``[bias]``, or none.

        Returns
        -------
        list of ndarray
            ``[bias]`` for a layer made with ``bias=``, else an empty list.

        See Also
        --------
        relu_fast.nn.PReLU.parameters : A layer with a weight.

        Examples
        --------
        >>> from relu_fast import nn
        >>> nn.ReLU().parameters()
        []
        >>> nn.ReLU(bias=3).parameters()
        [array([0., 0., 0.], dtype=float32)]
        """
        return [] if self.bias is None else [self.bias]

    def grads(self) -> List[NDArray[Any]]:
        """Return the gradients of `parameters`, in the same order.

        Returns
        -------
        list of ndarray
            ``[grad_bias]`` (of the last backward) with a bias, else an empty
            list.

        See Also
        --------
        relu_fast.nn.PReLU.grads : A layer with a weight gradient.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.ELU().grads()
        []
        >>> layer = nn.ReLU(bias=2, dtype=np.float64)
        >>> y = layer(np.array([[1.0, -1.0], [2.0, 3.0]]))
        >>> _ = layer.backward(np.ones((2, 2)))
        >>> layer.grads()
        [array([2., 1.])]
        """
        return [] if self.grad_bias is None else [self.grad_bias]

    def saved_nbytes(self) -> int:
        """Return the bytes this layer holds for its backward pass.

        Returns
        -------
        int
            The size of what the last forward kept; 0 before a forward and after
            a successful backward.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.ReLU()
        >>> y = layer(np.zeros(100, dtype=np.float32))
        >>> layer.saved_nbytes()                 # the mask: 1 bit per element
        13
        >>> _ = layer.backward(np.ones(100, dtype=np.float32))
        >>> layer.saved_nbytes()
        0
        """
        return 0 if self._saved is None else int(self._saved.nbytes)

    # -- activity -----------------------------------------------------------
    def reset_activity(self) -> None:
        """Forget the recorded activity, to start a new run (an epoch, say).

        Sets `active_fraction` and `ever_active` to None and `activity_steps`
        to 0.

        See Also
        --------
        relu_fast.nn.never_active : The channels never active since the reset.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.ReLU(track_activity=True)
        >>> y = layer(np.array([[-1.0, 2.0]]))
        >>> layer.activity_steps
        1
        >>> layer.reset_activity()
        >>> layer.activity_steps, layer.ever_active
        (0, None)
        """
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
        if self.bias is not None:            # the activity of x + bias
            x = relu(x, **self._bias_kw())
        # the axis is passed explicitly: the layer's default, not relu_stats'
        return relu_stats(x, axis=self.activity_axis)[1]

    def _record_if(self, frac):
        if frac is not None:
            self._record(frac)

    # -- the bias -------------------------------------------------------------
    def _bias_kw(self, grad=False):
        """The bias arguments of the forward (none without a bias), or with `grad` of
        the backward: the bias, and its gradient summed along the channel axis."""
        if self.bias is None:
            return {}
        return {"bias": self.bias, "axis": self.axis, **({"grad_bias": True} if grad else {})}

    def _sums_kw(self):
        """The backward's: the bias gradient summed along the channel axis."""
        return {} if self.bias is None else {"axis": self.axis, "grad_bias": True}

    def _take(self, result):
        """grad_input, after storing the bias gradient of a backward with _sums_kw."""
        if self.bias is None:
            return result
        grad_input, gb = result
        gb = np.asarray(gb)
        if gb.shape != self.grad_bias.shape:     # one bias value: the sum of all channels
            gb = np.asarray(gb.astype(np.float64).sum()).reshape(self.grad_bias.shape)
        self.grad_bias[...] = gb
        return grad_input

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

    def _bias_args(self):
        if self.bias is None:
            return []
        return [f"bias={self.bias.size}", f"axis={self.axis}", f"dtype={self.bias.dtype.name}"]


class ReLU(_Activation):
    """ReLU layer: y = max(x, 0), with the gradient passed where x > 0.

    Between forward and backward it keeps the 1-bit mask of
    `relu_fast.relu_mask` (x.size / 8 bytes: 32 times less than a float32 x, 64
    times less than float64); with ``mask=False`` it keeps x instead (the
    output, with ``inplace=True``).

    Parameters
    ----------
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    mask : bool
        Whether to keep the 1-bit mask (`relu_fast.relu_backward_mask`) rather
        than x (`relu_fast.relu_backward`); both give the same gradient.
    track_activity : bool
        Whether each successful forward records the active fraction of each
        channel (see `never_active`).
    activity_axis : int
        The channel axis for `track_activity` (1: NCHW or (batch, features);
        -1: channels-last).  A 1-D x needs ``activity_axis=0``.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace, mask, track_activity : bool
        The arguments, as bools.
    bias, grad_bias : ndarray or None
        The bias and its gradient from the last backward (None without one).
    activity_axis : int
        The argument, as given.
    active_fraction : ndarray or None
        Per channel, the fraction of x > 0 in the last forward (float64); None
        until a tracked forward.
    ever_active : ndarray or None
        Per channel, whether any x > 0 was seen since the last
        `reset_activity`; None until a tracked forward.
    activity_steps : int
        Tracked forwards since the last `reset_activity`.

    See Also
    --------
    relu_fast.relu : The forward function.
    relu_fast.relu_mask : The forward with the mask.

    Notes
    -----
    As in the functions: :math:`y = 0` where x < 0, else x (NaN stays NaN,
    -0.0 stays -0.0); grad_input is grad_output where x > 0 or x is NaN, else 0
    (0 at x = 0).

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.ReLU()
    >>> x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    >>> layer(x)
    array([[0., 2.],
           [3., 0.]], dtype=float32)
    >>> layer.backward(np.ones_like(x))
    array([[0., 1.],
           [1., 0.]], dtype=float32)
    """

    def __init__(self, *, inplace: bool = False, mask: bool = True, track_activity: bool = False,
                 activity_axis: int = 1, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, track_activity=track_activity,
                         activity_axis=activity_axis, bias=bias, axis=axis, dtype=dtype)
        self.mask = bool(mask)

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return relu(x) and keep what backward needs (the mask, or x).

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16 (an ndarray if
            `inplace`).

        Returns
        -------
        ndarray
            The activation relu(x), of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x is not float32, float64, float16 or bfloat16 (as
            `relu_fast.relu`).
        ValueError
            If tracking activity and `activity_axis` is out of range for x (as
            `relu_fast.relu_stats`).

        See Also
        --------
        relu_fast.relu_mask : What it calls by default.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.ReLU().forward(np.array([-1.0, 0.5]))
        array([0. , 0.5])
        """
        out = x if self.inplace else None
        frac = None
        if self.track_activity and self.bias is None:
            # the activity is counted in the forward pass itself, recorded at the end
            y, frac = relu_stats(x, axis=self.activity_axis, out=out)
            if self.mask:
                # relu(x) > 0 or NaN exactly where x is: the mask of y is the mask of x
                _, m = relu_mask(y, out=y)
        elif self.mask:
            y, m = relu_mask(x, **self._bias_kw(), out=out)
        else:
            y = relu(x, **self._bias_kw(), out=out)
        if self.track_activity and self.bias is not None:
            frac = relu_stats(y, axis=self.activity_axis, out=y)[1]     # y > 0 where x + bias > 0
        if self.mask:
            self._keep(m, y)
        else:
            self._keep(y if self.inplace else np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        """Return grad_input: grad_output where x > 0 (or NaN), else 0.

        Frees what forward kept; a backward that raises keeps it, so that a
        corrected call can follow.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        See Also
        --------
        relu_fast.relu_backward_mask : What it calls by default.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.ReLU()
        >>> y = layer.forward(np.array([-1.0, 0.5]))
        >>> layer.backward(np.array([10.0, 10.0]))
        array([ 0., 10.])
        """
        saved = self._peek(grad_output)
        if self.mask:
            grad_input = self._take(relu_backward_mask(grad_output, saved, **self._sums_kw()))
        elif self.inplace:                   # from the output: the bias is in it
            grad_input = self._take(relu_backward(grad_output, saved, **self._sums_kw()))
        else:
            grad_input = self._take(relu_backward(grad_output, saved, **self._bias_kw(grad=True)))
        self._free()
        return grad_input

    def _args(self):
        a = [] if self.mask else ["mask=False"]
        return ", ".join(a + ([super()._args()] if self.inplace else []) + self._bias_args())


class LeakyReLU(_Activation):
    r"""Leaky ReLU layer: y = x where x > 0, else negative_slope * x.

    Keeps the 1-bit mask of `relu_fast.leaky_relu_mask` between forward and
    backward; with ``mask=False`` it keeps x, or with ``inplace=True`` the
    output, which has x's signs when negative_slope >= 0 (which that needs).

    Parameters
    ----------
    negative_slope : float
        Slope for x <= 0, rounded to x's dtype (see `relu_fast.leaky_relu`).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    mask : bool
        Whether to keep the 1-bit mask rather than x; both give the same
        gradient.
    track_activity : bool
        Whether each successful forward records the active fraction of each
        channel (see `never_active`).
    activity_axis : int
        The channel axis for `track_activity` (1: NCHW or (batch, features);
        -1: channels-last).  A 1-D x needs ``activity_axis=0``.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    negative_slope : float
        The argument, as given.
    inplace, mask, track_activity : bool
        The arguments, as bools.
    bias, grad_bias : ndarray or None
        The bias and its gradient from the last backward (None without one).
    activity_axis : int
        The argument, as given.
    active_fraction : ndarray or None
        Per channel, the fraction of x > 0 in the last forward (float64); None
        until a tracked forward.
    ever_active : ndarray or None
        Per channel, whether any x > 0 was seen since the last
        `reset_activity`; None until a tracked forward.
    activity_steps : int
        Tracked forwards since the last `reset_activity`.

    Raises
    ------
    ValueError
        If ``inplace=True, mask=False`` and negative_slope < 0 (or NaN).

    See Also
    --------
    relu_fast.leaky_relu : The forward function.
    relu_fast.leaky_relu_backward : The backward function.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\ s x & \text{otherwise} \end{cases},
              \qquad \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              s g & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.LeakyReLU(0.1)
    >>> x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    >>> layer(x)
    array([[-0.1,  2. ],
           [ 3. , -0.4]], dtype=float32)
    >>> layer.backward(np.ones_like(x))
    array([[0.1, 1. ],
           [1. , 0.1]], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01, *, inplace: bool = False, mask: bool = True,
                 track_activity: bool = False, activity_axis: int = 1,
                 bias: Optional[int] = None, axis: int = 1, dtype: DTypeLike = np.float32) -> None:
        if inplace and not mask and not negative_slope >= 0:
            raise ValueError(f"LeakyReLU(inplace=True, mask=False) needs negative_slope >= 0 to "
                             f"run backward from its output, got {negative_slope}")
        super().__init__(inplace=inplace, track_activity=track_activity,
                         activity_axis=activity_axis, bias=bias, axis=axis, dtype=dtype)
        self.negative_slope = negative_slope
        self.mask = bool(mask)

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return leaky_relu(x, negative_slope) and keep the mask (or x, or the output).

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16 (an ndarray if
            `inplace`).

        Returns
        -------
        ndarray
            The activation, of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x is not float32, float64, float16 or bfloat16.
        ValueError
            If tracking activity and `activity_axis` is out of range for x (as
            `relu_fast.relu_stats`).

        See Also
        --------
        relu_fast.leaky_relu_mask : What it calls by default.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.LeakyReLU(0.5).forward(np.array([-1.0, 2.0]))
        array([-0.5,  2. ])
        """
        frac = self._fractions(x)
        out = x if self.inplace else None
        if self.mask:
            y, m = leaky_relu_mask(x, self.negative_slope, **self._bias_kw(), out=out)
            self._keep(m, y)
        elif self.inplace:
            y = leaky_relu(x, self.negative_slope, **self._bias_kw(), out=x)
            self._keep(y, y)
        else:
            y = leaky_relu(x, self.negative_slope, **self._bias_kw())
            self._keep(np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        """Return grad_input: grad_output where x > 0, else negative_slope * grad_output.

        Frees what forward kept; a backward that raises keeps it, so that a
        corrected call can follow.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        See Also
        --------
        relu_fast.leaky_relu_backward_mask : What it calls by default.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.LeakyReLU(0.5)
        >>> y = layer.forward(np.array([-1.0, 2.0]))
        >>> layer.backward(np.array([10.0, 10.0]))
        array([ 5., 10.])
        """
        saved = self._peek(grad_output)
        if self.mask:
            result = leaky_relu_backward_mask(grad_output, saved, self.negative_slope,
                                              **self._sums_kw())
        elif self.inplace:
            result = leaky_relu_backward(grad_output, saved, self.negative_slope, **self._sums_kw())
        else:
            result = leaky_relu_backward(grad_output, saved, self.negative_slope,
                                         **self._bias_kw(grad=True))
        grad_input = self._take(result)
        self._free()
        return grad_input

    def _args(self):
        return ", ".join([f"negative_slope={self.negative_slope}"] + ([super()._args()] if self.inplace else [])
                         + ([] if self.mask else ["mask=False"]) + self._bias_args())


class ELU(_Activation):
    r"""ELU layer: y = x where x > 0, else alpha * (exp(x) - 1).

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y and backward uses grad_output * (y + alpha) where y <= 0, which
    needs alpha >= 0.

    Parameters
    ----------
    alpha : float
        Scale of the negative part (see `relu_fast.elu`).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    track_activity : bool
        Whether each successful forward records the active fraction of each
        channel (see `never_active`).
    activity_axis : int
        The channel axis for `track_activity` (1: NCHW or (batch, features);
        -1: channels-last).  A 1-D x needs ``activity_axis=0``.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    bias, grad_bias : ndarray or None
        The bias and its gradient from the last backward (None without one).
    alpha : float
        The argument, as given.
    inplace, track_activity : bool
        The arguments, as bools.
    activity_axis : int
        The argument, as given.
    active_fraction : ndarray or None
        Per channel, the fraction of x > 0 in the last forward (float64); None
        until a tracked forward.
    ever_active : ndarray or None
        Per channel, whether any x > 0 was seen since the last
        `reset_activity`; None until a tracked forward.
    activity_steps : int
        Tracked forwards since the last `reset_activity`.

    Raises
    ------
    ValueError
        If ``inplace=True`` and alpha < 0 (or NaN).

    See Also
    --------
    relu_fast.elu : The forward function.
    relu_fast.elu_backward : The backward function.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & \text{otherwise}
              \end{cases}, \qquad \frac{\partial L}{\partial x} = \begin{cases}
              g & x > 0 \\ g \, \alpha e^x = g \, (y + \alpha) & \text{otherwise}
              \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.ELU(alpha=1.0)
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> layer(x)
    array([-0.63212056,  0.        ,  2.        ])
    >>> layer.backward(np.ones_like(x))
    array([0.36787944, 1.        , 1.        ])
    """

    def __init__(self, alpha: float = 1.0, *, inplace: bool = False, track_activity: bool = False,
                 activity_axis: int = 1, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        if inplace and not alpha >= 0:
            raise ValueError(f"ELU(inplace=True) needs alpha >= 0 to run backward from its output, "
                             f"got {alpha}")
        super().__init__(inplace=inplace, track_activity=track_activity,
                         activity_axis=activity_axis, bias=bias, axis=axis, dtype=dtype)
        self.alpha = alpha

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return elu(x, alpha) and keep x (or, inplace, the output).

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16 (an ndarray if
            `inplace`).

        Returns
        -------
        ndarray
            The activation, of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x is not float32, float64, float16 or bfloat16.
        ValueError
            If tracking activity and `activity_axis` is out of range for x (as
            `relu_fast.relu_stats`).

        See Also
        --------
        relu_fast.elu : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.ELU(alpha=2.0).forward(np.array([-np.inf, 2.0]))
        array([-2.,  2.])
        """
        frac = self._fractions(x)
        if self.inplace:
            y = elu(x, self.alpha, **self._bias_kw(), out=x)
            self._keep(y, y)
        else:
            y = elu(x, self.alpha, **self._bias_kw())
            self._keep(np.asarray(x), y)
        self._record_if(frac)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        """Return grad_input: grad_output where x > 0, else grad_output * alpha * exp(x).

        Frees what forward kept; a backward that raises keeps it, so that a
        corrected call can follow.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        See Also
        --------
        relu_fast.elu_backward : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.ELU(alpha=2.0)
        >>> y = layer.forward(np.array([0.0, 2.0]))
        >>> layer.backward(np.array([10.0, 10.0]))
        array([20., 10.])
        """
        saved = self._peek(grad_output)
                # from the output (inplace) the bias is in it already
        kw = self._sums_kw() if self.inplace else self._bias_kw(grad=True)
        grad_input = self._take(elu_backward(grad_output, saved, self.alpha, is_result=self.inplace,
                                             **kw))
        self._free()
        return grad_input

    def _args(self):
        return ", ".join([f"alpha={self.alpha}"] + ([super()._args()] if self.inplace else [])
                         + self._bias_args())


def _is_float_dtype(dtype):
    """float32, float64, float16, or ml_dtypes.bfloat16."""
    return dtype in (np.float32, np.float64, np.float16) or (
        dtype.name == "bfloat16" and dtype.type.__module__ == "ml_dtypes")


def _finfo(dtype):
    """np.finfo, or ml_dtypes' for bfloat16 (loaded: an array of it exists)."""
    if dtype.name == "bfloat16":
        import ml_dtypes
        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype)


class PReLU(_Activation):
    r"""PReLU layer: y = x where x > 0, else weight[c] * x, with a learnable weight.

    c is the index of the element along `axis`.  Keeps x between forward and
    backward; with ``inplace=True`` it keeps the output y instead and recovers
    the weight gradient from it, so forward then needs every alpha to be a
    normal number in (0, 1]: ``finfo(dtype).tiny <= alpha <= 1`` (then
    y = alpha * x cannot overflow, and x is recovered up to the rounding of y),
    else ValueError before x is written.

    Parameters
    ----------
    num_parameters : int
        Number of alphas: 1 (one shared by all channels) or the number of
        channels x has along `axis`.
    init : float
        Initial value of every alpha.
    axis : int
        The channel axis of x (1: NCHW or (batch, features); -1: channels-last).
    dtype : dtype_like
        The weight's dtype, float32, float64, float16 or bfloat16
        (``ml_dtypes.bfloat16``); x must have it, or a float32 weight may serve
        a 16-bit x (float32 master weights for 16-bit activations).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    track_activity : bool
        Whether each successful forward records the active fraction of each
        channel (see `never_active`).
    activity_axis : int, optional
        The channel axis for `track_activity`; None (the default) means `axis`.

    Attributes
    ----------
    weight : ndarray
        The alphas, shape (num_parameters,), of `dtype`; an optimiser updates it
        in place.
    grad_weight : ndarray
        The gradient of weight, set (not accumulated) by each backward; zeros
        until the first.
    num_parameters, axis : int
        The arguments, as given.
    inplace, track_activity : bool
        The arguments, as bools.
    activity_axis : int
        The channel axis used for activity (`axis` unless given).
    active_fraction : ndarray or None
        Per channel, the fraction of x > 0 in the last forward (float64); None
        until a tracked forward.
    ever_active : ndarray or None
        Per channel, whether any x > 0 was seen since the last
        `reset_activity`; None until a tracked forward.
    activity_steps : int
        Tracked forwards since the last `reset_activity`.

    Raises
    ------
    ValueError
        If `num_parameters` < 1.
    TypeError
        If `dtype` is not float32, float64, float16 or bfloat16.

    See Also
    --------
    relu_fast.prelu : The forward function.
    relu_fast.prelu_backward : The backward function.

    Notes
    -----
    With g = grad_output:

    .. math::

        y = \begin{cases} x & x > 0 \\ w_c \, x & \text{otherwise} \end{cases},
        \qquad \frac{\partial L}{\partial w_c} = \sum_{i \in c,\ x_i \le 0} x_i \, g_i

    grad_weight is summed in float64 and rounded to `dtype` (with
    ``inplace=True`` from the output, as :math:`\sum_{i \in c,\ y_i \le 0} y_i \, g_i / w_c`).

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.PReLU(num_parameters=2, init=0.25)
    >>> x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    >>> layer(x)
    array([[-0.25,  2.  ],
           [ 3.  , -1.  ]], dtype=float32)
    >>> layer.backward(np.ones_like(x))
    array([[0.25, 1.  ],
           [1.  , 0.25]], dtype=float32)
    >>> layer.grad_weight
    array([-1., -4.], dtype=float32)
    >>> for p, g in zip(layer.parameters(), layer.grads()):
    ...     p -= 0.1 * g                     # a plain SGD step
    >>> layer.weight
    array([0.35, 0.65], dtype=float32)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, axis: int = 1,
                 dtype: DTypeLike = np.float32, *, inplace: bool = False,
                 track_activity: bool = False, activity_axis: Optional[int] = None) -> None:
        if int(num_parameters) < 1:
            raise ValueError(f"num_parameters must be >= 1, got {num_parameters}")
        dtype = np.dtype(dtype)
        if not _is_float_dtype(dtype):
            raise TypeError(f"dtype must be float32, float64, float16 or bfloat16, got {dtype}")
        super().__init__(inplace=inplace, track_activity=track_activity,
                         activity_axis=axis if activity_axis is None else activity_axis)
        self.num_parameters = int(num_parameters)
        self.axis = axis
        self.weight = np.full(self.num_parameters, init, dtype=dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self._alpha = None

    def parameters(self) -> List[NDArray[Any]]:
        """Return the arrays an optimiser updates in place: ``[weight]``.

        Returns
        -------
        list of ndarray
            The weight itself (not a copy).

        See Also
        --------
        relu_fast.nn.PReLU.grads : Their gradients, in the same order.

        Examples
        --------
        >>> from relu_fast import nn
        >>> layer = nn.PReLU(num_parameters=3)
        >>> layer.parameters()[0] is layer.weight
        True
        """
        return [self.weight]

    def grads(self) -> List[NDArray[Any]]:
        """Return the gradients of `parameters`, in the same order: ``[grad_weight]``.

        Returns
        -------
        list of ndarray
            The grad_weight of the last backward (zeros before the first).

        See Also
        --------
        relu_fast.nn.PReLU.parameters : The arrays they are gradients of.

        Examples
        --------
        >>> from relu_fast import nn
        >>> nn.PReLU(num_parameters=3).grads()
        [array([0., 0., 0.], dtype=float32)]
        """
        return [self.grad_weight]

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return prelu(x, weight, axis=axis) and keep x (or, inplace, the output).

        The weight is copied: backward uses the alphas of this forward even if
        an optimiser changes weight in between.

        Parameters
        ----------
        x : array_like
            Input of the weight's dtype, or 16-bit with a float32 weight (an
            ndarray if `inplace`).

        Returns
        -------
        ndarray
            The activation, of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x does not have the weight's dtype (as `relu_fast.prelu`).
        ValueError
            If x does not have num_parameters channels along `axis` (unless
            num_parameters is 1), or, with `inplace`, an alpha is outside
            [finfo(dtype).tiny, 1].

        See Also
        --------
        relu_fast.prelu : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.PReLU(init=0.5).forward(np.array([-1.0, 2.0], dtype=np.float32))
        array([-0.5,  2. ], dtype=float32)
        """
        if self.inplace:
            w = self.weight
            tiny = _finfo(w.dtype).tiny
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
        """Return grad_input and set grad_weight, for the alphas of the last forward.

        Frees what forward kept; a backward that raises keeps it, so that a
        corrected call can follow.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        See Also
        --------
        relu_fast.prelu_backward : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.PReLU(init=0.5)
        >>> y = layer.forward(np.array([-1.0, -3.0], dtype=np.float32))
        >>> layer.backward(np.array([1.0, 1.0], dtype=np.float32))
        array([0.5, 0.5], dtype=float32)
        >>> layer.grad_weight
        array([-4.], dtype=float32)
        """
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


class _Piecewise(_Activation):
    """Plumbing of the layers with neither weights nor activity tracking (ReLU6 to
    SiLU): forward calls the function with the layer's arguments and keeps x
    (inplace: the output, where the gradient can be had from it); backward calls the
    gradient function on what was kept."""

    _function: Any = None
    _gradient: Any = None
    _from_output = False          # the gradient can be computed from the output
    _gradient_scalars = 1         # how many of _scalars() the gradient takes
    # the two-form gradients: the mask variants (relu_fast._functions.MASKED), whose
    # backward takes none of the scalars
    _mask_function: Any = None
    _mask_gradient: Any = None

    def __init__(self, *, inplace: bool = False, mask: bool = False, bias: Optional[int] = None,
                 axis: int = 1, dtype: DTypeLike = np.float32) -> None:
        self.mask = bool(mask) and self._mask_function is not None
        if inplace and not self._from_output and not self.mask:
            raise ValueError(f"{type(self).__name__}(inplace=True) is not supported: its "
                             "gradient needs x, which an in-place forward overwrites")
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)

    def _scalars(self) -> tuple:
        return ()

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return the activation of x and keep what backward needs.

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16 (an ndarray if
            `inplace`).

        Returns
        -------
        ndarray
            The activation, of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x is not float32, float64, float16 or bfloat16.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.ReLU6().forward(np.array([-1.0, 3.0, 9.0]))
        array([0., 3., 6.])
        """
        out = {"out": x} if self.inplace else {}
        if self.mask:
            y, m = type(self)._mask_function(x, *self._scalars(), **self._bias_kw(), **out)
            self._keep(m, y)
        elif self.inplace:
            y = type(self)._function(x, *self._scalars(), **self._bias_kw(), out=x)
            self._keep(y, y)
        else:
            y = type(self)._function(x, *self._scalars(), **self._bias_kw())
            self._keep(np.asarray(x), y)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        """Return grad_input, the gradient of the loss with respect to x.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.ReLU6()
        >>> y = layer.forward(np.array([-1.0, 3.0, 9.0]))
        >>> layer.backward(np.ones(3))
        array([0., 1., 0.])
        """
        saved = self._peek(grad_output)
        grad = type(self)._gradient
        if self.mask:
            result = type(self)._mask_gradient(grad_output, saved, **self._sums_kw())
        elif self.inplace:                   # from the output: the bias is in it
            result = grad(grad_output, saved, *self._scalars()[:2], is_result=True,
                          **self._sums_kw())
        elif self._from_output:
            result = grad(grad_output, saved, *self._scalars()[:2], **self._bias_kw(grad=True))
        else:
            result = grad(grad_output, saved, *self._scalars()[:self._gradient_scalars],
                          **self._bias_kw(grad=True))
        grad_input = self._take(result)
        self._free()
        return grad_input


class ReLU6(_Piecewise):
    r"""ReLU6 layer: y = min(max(x, 0), 6).

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y, from which the gradient is exact.

    Parameters
    ----------
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    mask : bool
        Whether to keep the 1-bit mask of the gradient's form rather than x
        (or the output); both give the same gradient.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        The argument, as a bool.

    See Also
    --------
    relu_fast.relu6 : The forward function.
    relu_fast.relu6_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & 0 < x < 6 \\
              0 & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.ReLU6()
    >>> layer(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    >>> layer.backward(np.ones(3))
    array([0., 1., 0.])
    """

    _mask_function = staticmethod(relu6_mask)
    _mask_gradient = staticmethod(relu6_backward_mask)
    _function = staticmethod(relu6)
    _gradient = staticmethod(relu6_backward)
    _from_output = True

    def __init__(self, inplace: bool = False,
                 *, mask: bool = True, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, mask=mask, bias=bias, axis=axis, dtype=dtype)



class Hardtanh(_Piecewise):
    r"""Hardtanh layer: y = min(max(x, min_val), max_val).

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y, from which the gradient is exact.

    Parameters
    ----------
    min_val, max_val : float
        The ends of the range (see `relu_fast.hardtanh`).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    mask : bool
        Whether to keep the 1-bit mask of the gradient's form rather than x
        (or the output); both give the same gradient.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    min_val, max_val : float
        The arguments, as given.
    inplace : bool
        The argument, as a bool.

    Raises
    ------
    ValueError
        If ``min_val > max_val``.

    See Also
    --------
    relu_fast.hardtanh : The forward function.
    relu_fast.hardtanh_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & a < x < b \\
              0 & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Hardtanh(-1.0, 1.0)
    >>> layer(np.array([-3.0, 0.5, 3.0]))
    array([-1. ,  0.5,  1. ])
    >>> layer.backward(np.ones(3))
    array([0., 1., 0.])
    """

    _mask_function = staticmethod(hardtanh_mask)
    _mask_gradient = staticmethod(hardtanh_backward_mask)
    _function = staticmethod(hardtanh)
    _gradient = staticmethod(hardtanh_backward)
    _from_output = True

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 *, mask: bool = True, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        if min_val > max_val:
            raise ValueError(f"min_val must not exceed max_val, got min_val={min_val} > "
                             f"max_val={max_val}")
        super().__init__(inplace=inplace, mask=mask, bias=bias, axis=axis, dtype=dtype)
        self.min_val = min_val
        self.max_val = max_val

    def _scalars(self) -> tuple:
        return (self.min_val, self.max_val)

    def _args(self):
        return ", ".join([f"min_val={self.min_val}", f"max_val={self.max_val}"]
                         + ([super()._args()] if self.inplace else []))


class Threshold(_Piecewise):
    r"""Threshold layer: y = x where x > threshold, else value.

    Keeps x between forward and backward (its gradient needs x, so there is no
    in-place variant).

    Parameters
    ----------
    threshold : float
        The threshold t.
    value : float
        What replaces x where x <= t.
    inplace : bool
        Must be False (accepted for PyTorch's signature).
    mask : bool
        Whether to keep the 1-bit mask of the gradient's form rather than x
        (or the output); both give the same gradient.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    threshold, value : float
        The arguments, as given.
    inplace : bool
        False.

    Raises
    ------
    ValueError
        If ``inplace=True``.

    See Also
    --------
    relu_fast.threshold : The forward function.
    relu_fast.threshold_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > t \\
              0 & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Threshold(0.5, -1.0)
    >>> layer(np.array([0.0, 0.5, 2.0]))
    array([-1., -1.,  2.])
    >>> layer.backward(np.ones(3))
    array([0., 0., 1.])
    """

    _mask_function = staticmethod(threshold_mask)
    _mask_gradient = staticmethod(threshold_backward_mask)
    _function = staticmethod(threshold)
    _gradient = staticmethod(threshold_backward)

    def __init__(self, threshold: float, value: float, inplace: bool = False,
                 *, mask: bool = True, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, mask=mask, bias=bias, axis=axis, dtype=dtype)
        self.threshold = threshold
        self.value = value

    def _scalars(self) -> tuple:
        return (self.threshold, self.value)

    def _args(self):
        return f"threshold={self.threshold}, value={self.value}"


class Hardsigmoid(_Piecewise):
    r"""Hardsigmoid layer: y = min(max(x + 3, 0), 6) / 6.

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y (the gradient from y is exact but at one point per dtype, see
    `relu_fast.hardsigmoid_backward`).

    Parameters
    ----------
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    mask : bool
        Whether to keep the 1-bit mask of the gradient's form rather than x
        (or the output); both give the same gradient.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        The argument, as a bool.

    See Also
    --------
    relu_fast.hardsigmoid : The forward function.
    relu_fast.hardsigmoid_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g / 6 & -3 < x < 3 \\
              0 & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Hardsigmoid()
    >>> layer(np.array([-6.0, 0.0, 6.0]))
    array([0. , 0.5, 1. ])
    >>> layer.backward(np.array([6.0, 6.0, 6.0]))
    array([0., 1., 0.])
    """

    _mask_function = staticmethod(hardsigmoid_mask)
    _mask_gradient = staticmethod(hardsigmoid_backward_mask)
    _function = staticmethod(hardsigmoid)
    _gradient = staticmethod(hardsigmoid_backward)
    _from_output = True

    def __init__(self, inplace: bool = False,
                 *, mask: bool = True, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, mask=mask, bias=bias, axis=axis, dtype=dtype)



class Hardswish(_Piecewise):
    r"""Hardswish layer: y = x * min(max(x + 3, 0), 6) / 6.

    Keeps x between forward and backward (its gradient needs x, so there is no
    in-place variant).

    Parameters
    ----------
    inplace : bool
        Must be False (accepted for PyTorch's signature).
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        False.

    Raises
    ------
    ValueError
        If ``inplace=True``.

    See Also
    --------
    relu_fast.hardswish : The forward function.
    relu_fast.hardswish_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} 0 & x \le -3 \\
              g & x \ge 3 \\ g \, (x / 3 + 1/2) & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Hardswish()
    >>> layer(np.array([-4.0, 0.0, 4.0]))
    array([-0.,  0.,  4.])
    >>> layer.backward(np.ones(3))
    array([0. , 0.5, 1. ])
    """

    _function = staticmethod(hardswish)
    _gradient = staticmethod(hardswish_backward)

    def __init__(self, inplace: bool = False, *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)


class SELU(_Piecewise):
    r"""SELU layer: y = scale * (x if x > 0 else alpha * (exp(x) - 1)).

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y, from which the gradient follows (see `relu_fast.selu_backward`).

    Parameters
    ----------
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        The argument, as a bool.

    See Also
    --------
    relu_fast.selu : The forward function.
    relu_fast.selu_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} \lambda g & x > 0 \\
              g \, \lambda \alpha \, e^x & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.SELU()
    >>> layer(np.array([-1.0, 0.0, 2.0]))
    array([-1.11133074,  0.        ,  2.10140197])
    >>> layer.backward(np.ones(3))
    array([0.6467686 , 1.75809934, 1.05070099])
    """

    _function = staticmethod(selu)
    _gradient = staticmethod(selu_backward)
    _from_output = True

    def __init__(self, inplace: bool = False, *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)


class CELU(_Piecewise):
    r"""CELU layer: y = x if x > 0 else alpha * (exp(x / alpha) - 1).

    Keeps x between forward and backward; with ``inplace=True`` it keeps the
    output y, from which the gradient follows (see `relu_fast.celu_backward`).

    Parameters
    ----------
    alpha : float
        The scale of the negative part, > 0 (see `relu_fast.celu`).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    alpha : float
        The argument, as given.
    inplace : bool
        The argument, as a bool.

    Raises
    ------
    ValueError
        If `alpha` is not > 0.

    See Also
    --------
    relu_fast.celu : The forward function.
    relu_fast.celu_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              g \, e^{x/\alpha} & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.CELU(alpha=0.5)
    >>> layer(np.array([-1.0, 0.0, 2.0]))
    array([-0.43233236,  0.        ,  2.        ])
    >>> layer.backward(np.ones(3))
    array([0.13533528, 1.        , 1.        ])
    """

    _function = staticmethod(celu)
    _gradient = staticmethod(celu_backward)
    _from_output = True

    def __init__(self, alpha: float = 1.0, inplace: bool = False,
                 *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0 for CELU, got {alpha}")
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)
        self.alpha = alpha

    def _scalars(self) -> tuple:
        return (self.alpha,)

    def _args(self):
        return ", ".join([f"alpha={self.alpha}"] + ([super()._args()] if self.inplace else []))


class SiLU(_Piecewise):
    r"""SiLU (swish) layer: y = x * sigmoid(x).

    Keeps x between forward and backward (its gradient needs x, so there is no
    in-place variant).

    Parameters
    ----------
    inplace : bool
        Must be False (accepted for PyTorch's signature).
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        False.

    Raises
    ------
    ValueError
        If ``inplace=True``.

    See Also
    --------
    relu_fast.silu : The forward function.
    relu_fast.silu_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = g \, s \, (1 + x (1 - s)),
              \quad s = \frac{1}{1 + e^{-x}}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.SiLU()
    >>> layer(np.array([-1.0, 0.0, 2.0]))
    array([-0.26894142,  0.        ,  1.76159416])
    >>> layer.backward(np.ones(3))
    array([0.07232949, 0.5       , 1.09078425])
    """

    _function = staticmethod(silu)
    _gradient = staticmethod(silu_backward)

    def __init__(self, inplace: bool = False, *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)


class RReLU(_Activation):
    r"""Randomized leaky ReLU layer: in training mode a random slope per element.

    In training mode (the default, as a new PyTorch module) each forward draws a
    fresh seed from the layer's own `numpy.random.Generator` and calls
    ``relu_fast.rrelu_mask(x, lower, upper, training=True, seed=...)``; it keeps
    that seed (8 bytes) and the 1-bit mask (x.size / 8 bytes), and backward
    computes the same slopes again from the seed -- no noise array is stored.  In
    eval mode (`eval`) it is leaky_relu with (lower + upper) / 2 and keeps the
    mask.  With ``mask=False`` it keeps x (with ``inplace=True``: the output, from
    which the gradient is exact).

    Parameters
    ----------
    lower, upper : float
        The range of the slopes, 0 <= lower <= upper (see `relu_fast.rrelu`).
    inplace : bool
        Whether forward writes its output into x (an ndarray of float32 or
        float64).
    seed : int, numpy.random.Generator or None, optional
        Seeds the layer's generator (`numpy.random.default_rng`): the same
        seed gives the same sequence of forwards.  None: fresh entropy.
    mask : bool
        Whether to keep the 1-bit mask rather than x; both give the same
        gradient.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    lower, upper : float
        The arguments, as given.
    inplace : bool
        The argument, as a bool.
    training : bool
        The mode: True after construction and `train`, False after `eval`.
    last_seed : int or None
        The seed the last training-mode forward used (None before one).

    Raises
    ------
    ValueError
        If lower < 0 or lower > upper, or either is not finite.

    See Also
    --------
    relu_fast.rrelu : The forward function.
    relu_fast.rrelu_backward : The backward function.

    Notes
    -----
    .. math:: y = \begin{cases} x & x > 0 \\ s_i x & \text{otherwise} \end{cases},
              \qquad \frac{\partial L}{\partial x} = \begin{cases} g & x > 0 \\
              s_i g & \text{otherwise} \end{cases}

    with s_i in [lower, upper) drawn per element in training mode, and
    (lower + upper) / 2 in eval mode.  Where x is NaN, training mode passes g
    and eval mode gives s g, as PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.RReLU(0.25, 0.25, seed=0)      # one slope, to show the values
    >>> x = np.array([-2.0, 1.0])
    >>> layer(x)
    array([-0.5,  1. ])
    >>> layer.backward(np.ones(2))
    array([0.25, 1.  ])
    >>> layer.eval()(x)
    array([-0.5,  1. ])
    """

    def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0,
                 inplace: bool = False, *, seed: Any = None, mask: bool = True,
                 bias: Optional[int] = None, axis: int = 1, dtype: DTypeLike = np.float32) -> None:
        rrelu(np.empty(0), lower, upper)          # checks lower and upper as rrelu does
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)
        self.mask = bool(mask)
        self.lower = lower
        self.upper = upper
        self.training = True
        self.last_seed: Optional[int] = None
        self._rng = np.random.default_rng(seed)
        self._seed = None                         # the seed of the pending backward

    def train(self, mode: bool = True) -> "RReLU":
        """Set training mode (random slopes; or eval mode with mode=False).

        Parameters
        ----------
        mode : bool
            True: training mode; False: eval mode.

        Returns
        -------
        RReLU
            The layer itself.

        Examples
        --------
        >>> from relu_fast import nn
        >>> nn.RReLU().train(False).training
        False
        """
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"mode must be a bool, got {type(mode).__name__}")
        self.training = bool(mode)
        return self

    def eval(self) -> "RReLU":
        """Set eval mode: the mean slope (lower + upper) / 2, as leaky_relu.

        Returns
        -------
        RReLU
            The layer itself.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> nn.RReLU(0.25, 0.75).eval()(np.array([-2.0, 3.0]))
        array([-1.,  3.])
        """
        return self.train(False)

    def forward(self, x: ArrayLike) -> NDArray[Any]:
        """Return rrelu(x) in the layer's mode and keep what backward needs.

        Parameters
        ----------
        x : array_like
            Input of dtype float32, float64, float16 or bfloat16 (an ndarray if
            `inplace`).

        Returns
        -------
        ndarray
            The activation, of x's shape and dtype; x itself if `inplace`.

        Raises
        ------
        TypeError
            If x is not float32, float64, float16 or bfloat16.

        See Also
        --------
        relu_fast.rrelu : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> y = nn.RReLU(seed=1).forward(np.array([-1.0, 2.0]))
        >>> bool(-1 / 3 < y[0] <= -1 / 8), float(y[1])
        (True, 2.0)
        """
        out = {"out": x} if self.inplace else {}
        seed = int(self._rng.integers(0, 2**64, dtype=np.uint64)) if self.training else None
        if self.mask:
            y, kept = rrelu_mask(x, self.lower, self.upper, self.training, seed=seed,
                                 **self._bias_kw(), **out)
        else:
            y = rrelu(x, self.lower, self.upper, self.training, seed=seed, **self._bias_kw(), **out)
            kept = y if self.inplace else np.asarray(x)
        self._seed = seed
        if seed is not None:
            self.last_seed = seed
        self._keep(kept, y)
        return y

    def backward(self, grad_output: ArrayLike) -> NDArray[Any]:
        """Return grad_input: grad_output where x > 0, else the slope times it.

        Frees what forward kept; a backward that raises keeps it, so that a
        corrected call can follow.

        Parameters
        ----------
        grad_output : array_like
            Gradient of the loss with respect to the forward output, of its
            shape and dtype.

        Returns
        -------
        ndarray
            The gradient with respect to x, of x's shape and dtype.

        Raises
        ------
        RuntimeError
            If no forward preceded it (or backward already ran for it).
        ValueError
            If `grad_output` does not have the forward output's shape.
        TypeError
            If `grad_output` does not have the forward output's dtype.

        See Also
        --------
        relu_fast.rrelu_backward : What it calls.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.RReLU(0.5, 0.5)
        >>> y = layer.forward(np.array([-1.0, 2.0]))
        >>> layer.backward(np.array([10.0, 10.0]))
        array([ 5., 10.])
        """
        saved = self._peek(grad_output)
        train = self._seed is not None
        if self.mask:
            result = rrelu_backward_mask(grad_output, saved, self.lower, self.upper, train,
                                         seed=self._seed, **self._sums_kw())
        else:                                # x, or the output (x's signs: the slopes are >= 0)
            kw = self._sums_kw() if self.inplace else self._bias_kw(grad=True)
            result = rrelu_backward(grad_output, saved, self.lower, self.upper, train,
                                    seed=self._seed, **kw)
        grad_input = self._take(result)
        self._free()
        return grad_input

    def saved_nbytes(self) -> int:
        """Return the bytes this layer holds for its backward pass.

        Returns
        -------
        int
            The 1-bit mask (and, training, the 8-byte seed); with
            ``mask=False`` x or the output; 0 before a forward and after a
            backward.

        Examples
        --------
        >>> import numpy as np
        >>> from relu_fast import nn
        >>> layer = nn.RReLU(seed=0)
        >>> y = layer(np.zeros(100, dtype=np.float32))
        >>> layer.saved_nbytes()                 # 13 bytes of mask + the seed
        21
        """
        if self._saved is None:
            return 0
        return int(self._saved.nbytes) + (8 if self._seed is not None else 0)

    def _free(self):
        self._saved = None
        self._seed = None

    def _args(self):
        return ", ".join([f"lower={self.lower}", f"upper={self.upper}"]
                         + ([super()._args()] if self.inplace else [])
                         + ([] if self.mask else ["mask=False"]) + self._bias_args())


class Softplus(_Piecewise):
    r"""Softplus layer: y = log(1 + exp(beta x)) / beta, x where beta x > threshold.

    Keeps x between forward and backward (PyTorch's Softplus has no in-place
    variant).

    Parameters
    ----------
    beta : float
        The scale of x (see `relu_fast.softplus`): a finite real number > 0.
    threshold : float
        Where beta * x exceeds it, the output is x: a finite real number.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    beta, threshold : float
        The arguments, as given.
    inplace : bool
        False.

    Raises
    ------
    TypeError
        If `beta` or `threshold` is not a real number.
    ValueError
        If `beta` or `threshold` is not finite, or ``beta <= 0``.

    See Also
    --------
    relu_fast.softplus : The forward function.
    relu_fast.softplus_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \begin{cases} g & \beta x > \text{threshold} \\
              g \, \sigma(\beta x) & \text{otherwise} \end{cases}

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Softplus()
    >>> layer(np.array([-1.0, 0.0, 30.0]))
    array([ 0.31326169,  0.69314718, 30.        ])
    >>> layer.backward(np.ones(3))
    array([0.26894142, 0.5       , 1.        ])
    """

    _function = staticmethod(softplus)
    _gradient = staticmethod(softplus_backward)
    _gradient_scalars = 2

    def __init__(self, beta: float = 1.0, threshold: float = 20.0,
                 *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        softplus(np.empty(0), beta, threshold)      # the arguments' checks, now
        super().__init__(inplace=False, bias=bias, axis=axis, dtype=dtype)
        self.beta = beta
        self.threshold = threshold

    def _scalars(self) -> tuple:
        return (self.beta, self.threshold)

    def _args(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(_Piecewise):
    r"""Mish layer: y = x * tanh(softplus(x)).

    Keeps x between forward and backward (its gradient needs x, so there is no
    in-place variant).

    Parameters
    ----------
    inplace : bool
        Must be False (accepted for PyTorch's signature).
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    inplace : bool
        False.

    Raises
    ------
    ValueError
        If ``inplace=True``.

    See Also
    --------
    relu_fast.mish : The forward function.
    relu_fast.mish_backward : The backward function.

    Notes
    -----
    With :math:`s = \tanh(\operatorname{softplus}(x))`:

    .. math:: \frac{\partial L}{\partial x} = g \, (s + x \, \sigma(x) (1 - s^2))

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.Mish()
    >>> layer(np.array([-1.0, 0.0, 30.0]))
    array([-0.30340146,  0.        , 30.        ])
    >>> layer.backward(np.ones(3))
    array([0.05921676, 0.6       , 1.        ])
    """

    _function = staticmethod(mish)
    _gradient = staticmethod(mish_backward)

    def __init__(self, inplace: bool = False, *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(inplace=inplace, bias=bias, axis=axis, dtype=dtype)


class GELU(_Piecewise):
    r"""GELU layer: y = x * Phi(x), or its tanh approximation.

    Keeps x between forward and backward (its gradient needs x; as in PyTorch
    there is no in-place variant).

    Parameters
    ----------
    approximate : {'none', 'tanh'}
        ``'none'`` (the default): the exact form with the normal distribution
        function Phi; ``'tanh'``: PyTorch's tanh approximation.
    bias : int, optional
        The number of channels of a learnable bias along `axis` (zeros at
        first), added to x in the activation's pass; None: no bias.
    axis : int
        The channel axis of the bias (1: NCHW or (batch, features); -1:
        channels-last).
    dtype : data-type
        The bias's dtype: x's (float32 or float64), or float32 for 16-bit x.

    Attributes
    ----------
    approximate : str
        The form in use.

    Raises
    ------
    TypeError
        If `approximate` is not a str.
    ValueError
        If `approximate` is another string.

    See Also
    --------
    relu_fast.gelu : The forward function.
    relu_fast.gelu_backward : The backward function.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = g \left(\Phi(x) + x \, \varphi(x)\right)

    (and the tanh form's derivative), as `relu_fast.gelu_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.GELU()
    >>> layer(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    >>> layer.backward(np.ones(3))
    array([-0.08331547,  0.5       ,  1.08331547])
    """

    _function = staticmethod(gelu)
    _gradient = staticmethod(gelu_backward)

    def __init__(self, approximate: str = "none", *, bias: Optional[int] = None, axis: int = 1,
                 dtype: DTypeLike = np.float32) -> None:
        if not isinstance(approximate, str):
            raise TypeError(f"approximate must be a str, 'none' or 'tanh', got {type(approximate).__name__}")
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(inplace=False, bias=bias, axis=axis, dtype=dtype)
        self.approximate = approximate

    def _scalars(self) -> tuple:
        return (self.approximate,)

    def _args(self):
        return f"approximate={self.approximate!r}"


def never_active(layer: "_Activation") -> NDArray[np.intp]:
    """Find the channels (units) of a layer never active since its last reset.

    A channel is active in a forward when some element of x in it is > 0.

    Parameters
    ----------
    layer : ReLU, LeakyReLU, ELU or PReLU
        A layer made with ``track_activity=True`` that has run forward since
        its last `reset_activity`.

    Returns
    -------
    ndarray
        The indices (intp) of the channels with no x > 0 in any forward since
        then: dead units.

    Raises
    ------
    ValueError
        If the layer has no recorded activity (not tracking, or no forward
        since the reset).

    See Also
    --------
    relu_fast.nn.dead_fraction : Their share of the channels.
    relu_fast.relu_stats : The per-channel count behind it.

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.ReLU(track_activity=True)
    >>> y = layer(np.array([[-1.0, 2.0, -3.0], [3.0, -4.0, -1.0]]))
    >>> nn.never_active(layer)
    array([2])
    """
    if layer.ever_active is None:
        raise ValueError(f"{type(layer).__name__} has no recorded activity: create it with "
                         "track_activity=True and run forward first")
    return np.flatnonzero(~layer.ever_active)


def dead_fraction(layer: "_Activation") -> float:
    """Compute the fraction of a layer's channels never active since its last reset.

    Parameters
    ----------
    layer : ReLU, LeakyReLU, ELU or PReLU
        A layer made with ``track_activity=True`` that has run forward since
        its last `reset_activity`.

    Returns
    -------
    float
        ``never_active(layer).size`` divided by the number of channels.

    Raises
    ------
    ValueError
        If the layer has no recorded activity (as `never_active`).

    See Also
    --------
    relu_fast.nn.never_active : The indices of those channels.

    Examples
    --------
    >>> import numpy as np
    >>> from relu_fast import nn
    >>> layer = nn.ReLU(track_activity=True)
    >>> y = layer(np.array([[-1.0, 2.0, -3.0, 4.0]]))
    >>> nn.dead_fraction(layer)
    0.5
    """
    return never_active(layer).size / layer.ever_active.size
