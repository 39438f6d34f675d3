"""relu_fast.nn: layers against finite differences, the functional API and NumPy."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import _reference as ref
from relu_fast import nn
from conftest import HALF_DTYPES, assert_same, rand


def away_from_kink(shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x = np.where(np.abs(x) < 0.05, 0.5, x)
    return x.astype(dtype)


def layers():
    return {
        "relu": lambda: nn.ReLU(),
        "relu_nomask": lambda: nn.ReLU(mask=False),
        "leaky": lambda: nn.LeakyReLU(0.1),
        "elu": lambda: nn.ELU(0.7),
        "prelu1": lambda: nn.PReLU(init=0.3, dtype=np.float64),
        "prelu": lambda: nn.PReLU(5, init=0.2, axis=1, dtype=np.float64),
        "relu6": lambda: nn.ReLU6(),
        "hardtanh": lambda: nn.Hardtanh(-0.7, 1.3),
        "hardtanh_inplace": lambda: nn.Hardtanh(-0.7, 1.3, inplace=True),
        "threshold": lambda: nn.Threshold(0.3, -2.0),
        "hardsigmoid": lambda: nn.Hardsigmoid(),
        "hardsigmoid_inplace": lambda: nn.Hardsigmoid(inplace=True),
        "hardswish": lambda: nn.Hardswish(),
        "selu": lambda: nn.SELU(),
        "selu_inplace": lambda: nn.SELU(inplace=True),
        "celu": lambda: nn.CELU(0.6),
        "celu_inplace": lambda: nn.CELU(1.7, inplace=True),
        "silu": lambda: nn.SiLU(),
        "rrelu_eval": lambda: nn.RReLU(0.1, 0.3).eval(),
        "rrelu_eval_inplace": lambda: nn.RReLU(0.1, 0.3, inplace=True).eval(),
        "rrelu_one_slope": lambda: nn.RReLU(0.2, 0.2, seed=0),   # training, every slope 0.2
        "softplus": lambda: nn.Softplus(),
        "softplus_beta": lambda: nn.Softplus(1.5, 2.0),
        "mish": lambda: nn.Mish(),
        "gelu": lambda: nn.GELU(),
        "gelu_tanh": lambda: nn.GELU("tanh"),
    }


@pytest.mark.parametrize("name", list(layers()))
def test_finite_differences(name):
    layer = layers()[name]()
    if isinstance(layer, nn.PReLU):
        layer.weight[:] = np.linspace(0.1, 0.9, layer.weight.size)
    x = away_from_kink((4, 5, 3))
    r = np.random.default_rng(1).standard_normal(x.shape)      # loss = sum(r * layer(x))
    layer.forward(x.copy())
    gx = layer.backward(r)
    eps = 1e-6
    num = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = (np.sum(r * _fwd(layer, xp))
                  - np.sum(r * _fwd(layer, xm))) / (2 * eps)
    np.testing.assert_allclose(gx, num, rtol=1e-6, atol=1e-8)
    if isinstance(layer, nn.PReLU):
        w0 = layer.weight.copy()
        num_w = np.empty_like(w0)
        for k in range(w0.size):
            layer.weight[:] = w0
            layer.weight[k] += eps
            up = np.sum(r * _fwd(layer, x))
            layer.weight[:] = w0
            layer.weight[k] -= eps
            down = np.sum(r * _fwd(layer, x))
            num_w[k] = (up - down) / (2 * eps)
        layer.weight[:] = w0
        np.testing.assert_allclose(layer.grad_weight, num_w, rtol=1e-6, atol=1e-8)
        assert layer.grads()[0] is layer.grad_weight and layer.parameters()[0] is layer.weight


def _fwd(layer, x):
    y = layer.forward(x.copy())
    layer._saved = None
    return y


@pytest.mark.parametrize("dtype", (np.float32, np.float64) + HALF_DTYPES, ids=lambda d: np.dtype(d).name)
def test_same_as_functional(dtype):
    x = np.random.default_rng(2).standard_normal((6, 4, 7)).astype(dtype)
    x[0, 0, :3] = [0.0, -0.0, np.nan]
    g = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    w = np.array([0.1, -0.2, 0.3, 0.4], dtype=dtype)
    cases = [
        (nn.ReLU(), rf.relu(x), rf.relu_backward(g, x), None),
        (nn.ReLU(mask=False), rf.relu(x), rf.relu_backward(g, x), None),
        (nn.LeakyReLU(0.2), rf.leaky_relu(x, 0.2), rf.leaky_relu_backward(g, x, 0.2), None),
        (nn.ELU(1.5), rf.elu(x, 1.5), rf.elu_backward(g, x, 1.5), None),
        (nn.PReLU(4, axis=1, dtype=dtype), rf.prelu(x, w, axis=1), *rf.prelu_backward(g, x, w, axis=1)),
        (nn.ReLU6(), rf.relu6(x), rf.relu6_backward(g, x), None),
        (nn.Hardtanh(-0.5, 0.8), rf.hardtanh(x, -0.5, 0.8), rf.hardtanh_backward(g, x, -0.5, 0.8), None),
        (nn.Threshold(0.1, 7.0), rf.threshold(x, 0.1, 7.0), rf.threshold_backward(g, x, 0.1), None),
        (nn.Hardsigmoid(), rf.hardsigmoid(x), rf.hardsigmoid_backward(g, x), None),
        (nn.Hardswish(), rf.hardswish(x), rf.hardswish_backward(g, x), None),
        (nn.SELU(), rf.selu(x), rf.selu_backward(g, x), None),
        (nn.CELU(0.3), rf.celu(x, 0.3), rf.celu_backward(g, x, 0.3), None),
        (nn.SiLU(), rf.silu(x), rf.silu_backward(g, x), None),
        (nn.RReLU(0.1, 0.3).eval(), rf.rrelu(x, 0.1, 0.3), rf.rrelu_backward(g, x, 0.1, 0.3), None),
        (nn.Softplus(), rf.softplus(x), rf.softplus_backward(g, x), None),
        (nn.Softplus(0.5, 1.0), rf.softplus(x, 0.5, 1.0), rf.softplus_backward(g, x, 0.5, 1.0), None),
        (nn.Mish(), rf.mish(x), rf.mish_backward(g, x), None),
        (nn.GELU(), rf.gelu(x), rf.gelu_backward(g, x), None),
        (nn.GELU(approximate="tanh"), rf.gelu(x, "tanh"), rf.gelu_backward(g, x, "tanh"), None),
    ]
    for layer, y_want, gx_want, gw_want in cases:
        if isinstance(layer, nn.PReLU):
            layer.weight[:] = w
        y = layer(x)
        np.testing.assert_array_equal(y, y_want)
        np.testing.assert_array_equal(layer.backward(g), gx_want)
        if gw_want is not None:
            np.testing.assert_array_equal(layer.grad_weight, gw_want)
            assert layer.grad_weight.dtype == dtype


@pytest.mark.parametrize("half", HALF_DTYPES, ids=lambda d: np.dtype(d).name)
def test_prelu_float32_weight_for_16bit_activations(half):
    """float32 master weights for 16-bit x: the layer's weight and grad_weight stay
    float32, the activations 16-bit; inplace works on 16-bit x too."""
    x = np.random.default_rng(2).standard_normal((6, 4, 7)).astype(half)
    g = np.random.default_rng(3).standard_normal(x.shape).astype(half)
    for dtype in (np.float32, half):
        layer = nn.PReLU(4, init=0.3, dtype=dtype)
        w = layer.weight.copy()
        y = layer(x)
        assert y.dtype == np.dtype(half) and layer.weight.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(y, rf.prelu(x, w))
        gx = layer.backward(g)
        want_gx, want_gw = rf.prelu_backward(g, x, w)
        np.testing.assert_array_equal(gx, want_gx)
        assert layer.grad_weight.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(layer.grad_weight, want_gw)
    inplace = nn.PReLU(4, init=0.25, dtype=half, inplace=True)
    xc = x.copy()
    assert inplace(xc) is xc
    np.testing.assert_array_equal(xc, rf.prelu(x, np.full(4, 0.25, half)))


def test_prelu_dtype_refused():
    with pytest.raises(TypeError, match="bfloat16"):
        nn.PReLU(dtype=np.int32)


# -- a small network trained twice: with the layers, and with the functional API ------

def _init(act, seed=0):
    rng = np.random.default_rng(seed)
    p = {"W1": rng.standard_normal((2, 16)) * 0.7, "b1": np.zeros(16) - 0.1,
         "W2": rng.standard_normal((16, 3)) * 0.3, "b2": np.zeros(3)}
    if act == "prelu":
        p["a"] = np.full(16, 0.25)
    return p


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 0] > 1).astype(int)
    return X, y


def _loss_grad(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y]))
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


def _train(act, use_layers, steps=25, lr=0.5):
    X, y = _data()
    p = _init(act)
    layer = {"relu": nn.ReLU(), "leaky": nn.LeakyReLU(0.05), "elu": nn.ELU(),
             "prelu": nn.PReLU(16, axis=1, dtype=np.float64)}[act]
    if act == "prelu":
        layer.weight[:] = p["a"]
    losses = []
    for _ in range(steps):
        h = X @ p["W1"] + p["b1"]
        if use_layers:
            a = layer(h)
        else:
            a = {"relu": lambda: rf.relu(h), "leaky": lambda: rf.leaky_relu(h, 0.05),
                 "elu": lambda: rf.elu(h), "prelu": lambda: rf.prelu(h, p["a"], axis=1)}[act]()
        loss, d = _loss_grad(a @ p["W2"] + p["b2"], y)
        losses.append(loss)
        g = {"W2": a.T @ d, "b2": d.sum(0)}
        da_ = d @ p["W2"].T
        if use_layers:
            dh = layer.backward(da_)
            if act == "prelu":
                g["a"] = layer.grads()[0]
        else:
            if act == "relu":
                dh = rf.relu_backward(da_, h)
            elif act == "leaky":
                dh = rf.leaky_relu_backward(da_, h, 0.05)
            elif act == "elu":
                dh = rf.elu_backward(da_, h)
            else:
                dh, g["a"] = rf.prelu_backward(da_, h, p["a"], axis=1)
        g["W1"] = X.T @ dh
        g["b1"] = dh.sum(0)
        for k in g:
            if use_layers and k == "a":
                for param, grad in zip(layer.parameters(), layer.grads()):
                    param -= lr * grad
            else:
                p[k] -= lr * g[k]
    return np.array(losses)


@pytest.mark.parametrize("act", ["relu", "leaky", "elu", "prelu"])
def test_training_follows_functional_exactly(act):
    with_layers = _train(act, True)
    functional = _train(act, False)
    np.testing.assert_array_equal(with_layers, functional)
    assert with_layers[-1] < with_layers[0]          # it did learn


# -- inplace --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace(dtype):
    x0 = away_from_kink((8, 3, 5), seed=4, dtype=dtype)
    g = np.random.default_rng(5).standard_normal(x0.shape).astype(dtype)
    pairs = [(nn.ReLU(inplace=True), nn.ReLU(), 0),
             (nn.ReLU(inplace=True, mask=False), nn.ReLU(), 0),
             (nn.LeakyReLU(0.1, inplace=True), nn.LeakyReLU(0.1), 0),
             (nn.ELU(0.8, inplace=True), nn.ELU(0.8), (1e-6, 1e-13)),
             (nn.PReLU(3, init=0.3, dtype=dtype, inplace=True), nn.PReLU(3, init=0.3, dtype=dtype), 0),
             (nn.ReLU6(inplace=True), nn.ReLU6(), 0),
             (nn.Hardtanh(-0.4, 0.6, inplace=True), nn.Hardtanh(-0.4, 0.6), 0),
             (nn.Hardsigmoid(inplace=True), nn.Hardsigmoid(), 0),
             # y + scale alpha (y / alpha + 1) cancels as x -> -inf: the from-output
             # gradient's relative error grows as exp(-x)
             (nn.SELU(inplace=True), nn.SELU(), (2e-5, 1e-12)),
             (nn.CELU(0.6, inplace=True), nn.CELU(0.6), (2e-5, 1e-12)),
             (nn.RReLU(0.1, 0.3, inplace=True).eval(), nn.RReLU(0.1, 0.3).eval(), 0),
             (nn.RReLU(0.1, 0.3, inplace=True, seed=8), nn.RReLU(0.1, 0.3, seed=8), 0),
             (nn.RReLU(0.0, 0.3, inplace=True, seed=8), nn.RReLU(0.0, 0.3, seed=8), 0)]
    for inplace, plain, ulps in pairs:
        x = x0.copy()
        y = inplace(x)
        assert y is x
        np.testing.assert_array_equal(x, plain(x0.copy()))
        gi = inplace.backward(g)
        gp = plain.backward(g)
        if ulps:
            # ELU from its output: g * (y + alpha) against g * alpha * exp(x)
            np.testing.assert_allclose(gi, gp, rtol=ulps[0] if dtype == np.float32 else ulps[1])
        else:
            np.testing.assert_array_equal(gi, gp)
        if isinstance(plain, nn.PReLU):
            np.testing.assert_allclose(inplace.grad_weight, plain.grad_weight,
                                       rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_piecewise_layers_without_an_inplace_variant_refuse_it():
    with pytest.raises(ValueError, match="gradient needs x"):
        nn.Threshold(0.0, 0.0, inplace=True, mask=False)
    nn.Threshold(0.0, 0.0, inplace=True)           # the mask (the default) is kept before
    with pytest.raises(ValueError, match="gradient needs x"):
        nn.Hardswish(inplace=True)
    with pytest.raises(ValueError, match="gradient needs x"):
        nn.SiLU(inplace=True)
    with pytest.raises(ValueError, match="min_val must not exceed max_val"):
        nn.Hardtanh(1.0, -1.0)
    for alpha in (0.0, -1.0):
        with pytest.raises(ValueError, match="alpha must be > 0"):
            nn.CELU(alpha)
    layer = nn.Hardswish()
    x = np.array([-4.0, 1.0, 4.0])
    layer(x)
    assert layer.saved_nbytes() == x.nbytes        # it keeps x
    layer.backward(np.ones(3))
    assert layer.saved_nbytes() == 0
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(np.ones(3))


def test_softplus_and_mish_layers():
    with pytest.raises(ValueError, match="gradient needs x"):
        nn.Mish(inplace=True)
    with pytest.raises(ValueError, match="beta must be > 0"):
        nn.Softplus(beta=0.0)
    with pytest.raises(ValueError, match="finite"):
        nn.Softplus(threshold=float("inf"))
    with pytest.raises(TypeError, match="beta"):
        nn.Softplus(beta="1")
    with pytest.raises(TypeError):
        nn.Softplus(1.0, 20.0, True)                 # PyTorch's Softplus has no inplace
    layer = nn.Softplus(2.0, 5.0)
    assert (layer.beta, layer.threshold, layer.inplace) == (2.0, 5.0, False)
    assert repr(layer) == "Softplus(beta=2.0, threshold=5.0)"
    assert repr(nn.Mish()) == "Mish()"
    for layer in (nn.Softplus(), nn.Mish()):
        x = np.array([-4.0, 1.0, 4.0])
        layer(x)
        assert layer.saved_nbytes() == x.nbytes      # it keeps x
        layer.backward(np.ones(3))
        assert layer.saved_nbytes() == 0
        with pytest.raises(RuntimeError, match="without a forward"):
            layer.backward(np.ones(3))
def test_gelu_layer_arguments_and_saved_input():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("exact")
    with pytest.raises(TypeError, match="approximate"):
        nn.GELU(None)
    with pytest.raises(TypeError):
        nn.GELU(inplace=True)                       # PyTorch's GELU has no inplace
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    layer = nn.GELU()
    x = np.array([-4.0, 1.0, 4.0])
    layer(x)
    assert layer.saved_nbytes() == x.nbytes        # it keeps x
    layer.backward(np.ones(3))
    assert layer.saved_nbytes() == 0


def test_inplace_needs_recoverable_signs():
    with pytest.raises(ValueError, match="negative_slope"):
        nn.LeakyReLU(-0.5, inplace=True, mask=False)
    layer = nn.LeakyReLU(-0.5, inplace=True)           # the mask: any slope
    x = np.array([-2.0, 3.0])
    assert np.array_equal(layer(x), [1.0, 3.0]) and np.array_equal(layer.backward(np.ones(2)),
                                                                     [-0.5, 1.0])
    with pytest.raises(ValueError, match="alpha"):
        nn.ELU(-1.0, inplace=True)
    layer = nn.PReLU(init=0.0, inplace=True)
    with pytest.raises(ValueError, match=r"alpha to be a normal number in \(0, 1\]"):
        layer(np.ones(4, np.float32))


# -- memory, errors, parameters -----------------------------------------------------

@pytest.mark.parametrize("dtype,ratio", [(np.float32, 32), (np.float64, 64), (np.float16, 16)])
def test_relu_keeps_one_bit(dtype, ratio):
    x = np.random.default_rng(0).standard_normal((256, 1000)).astype(dtype)
    layer = nn.ReLU()
    layer(x)
    assert layer.saved_nbytes() == x.size // 8 == x.nbytes // ratio
    layer.backward(np.ones_like(x))
    assert layer.saved_nbytes() == 0
    keep_x = nn.ReLU(mask=False)
    keep_x(x)
    assert keep_x.saved_nbytes() == x.nbytes


def test_backward_errors():
    layer = nn.ReLU()
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.ones(3))
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((3, 2)))
    p = nn.PReLU(4, axis=1, dtype=np.float32)
    with pytest.raises(ValueError, match="channels"):
        p(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        p(np.ones((2, 4), np.float64))
    with pytest.raises(TypeError):
        nn.PReLU(dtype=np.int32)


def test_parameters_and_sgd_step():
    layer = nn.PReLU(3, init=0.25, axis=-1, dtype=np.float64)
    assert layer.weight.tolist() == [0.25, 0.25, 0.25]
    for other in (nn.ReLU(), nn.LeakyReLU(), nn.ELU()):
        assert other.parameters() == [] and other.grads() == []
    x = np.array([[-1.0, 2.0, -3.0], [-2.0, -1.0, 1.0]])
    layer(x)
    layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(layer.grad_weight, [-3.0, -1.0, -3.0])
    w = layer.weight
    for param, grad in zip(layer.parameters(), layer.grads()):
        param -= 0.1 * grad
    assert layer.weight is w
    np.testing.assert_allclose(layer.weight, [0.55, 0.35, 0.55])


# -- activity ---------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: nn.ReLU(track_activity=True),
                                  lambda: nn.ReLU(track_activity=True, inplace=True),
                                  lambda: nn.ReLU(track_activity=True, mask=False),
                                  lambda: nn.LeakyReLU(track_activity=True),
                                  lambda: nn.ELU(track_activity=True),
                                  lambda: nn.PReLU(6, axis=-1, dtype=np.float64, track_activity=True)])
def test_activity_and_never_active(make):
    layer = make()
    rng = np.random.default_rng(7)
    batches = [rng.standard_normal((32, 6)) + np.array([1, -9, 0, -9, -2, 3]) for _ in range(4)]
    batches[2][5, 4] = 0.5          # unit 4 active once
    batches[1][:, 3] = 0.0          # zero is not active
    seen = np.zeros(6, dtype=bool)
    for b in batches:
        seen |= np.count_nonzero(b > 0, axis=0) > 0
        expect_frac = np.count_nonzero(b > 0, axis=0) / 32
        y = layer(b.copy())
        np.testing.assert_array_equal(layer.active_fraction, expect_frac)
        layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(nn.never_active(layer), np.flatnonzero(~seen))
    assert nn.never_active(layer).tolist() == [1, 3]
    assert nn.dead_fraction(layer) == 2 / 6
    assert layer.activity_steps == 4
    layer.reset_activity()
    with pytest.raises(ValueError, match="track_activity"):
        nn.never_active(layer)


def test_tracking_relu_keeps_the_same_mask():
    x = np.random.default_rng(8).standard_normal((50, 9))
    x[0, :3] = [np.nan, 0.0, -0.0]
    g = np.random.default_rng(9).standard_normal(x.shape)
    tracked, plain = nn.ReLU(track_activity=True), nn.ReLU()
    np.testing.assert_array_equal(tracked(x), plain(x))
    assert tracked.saved_nbytes() == plain.saved_nbytes()
    np.testing.assert_array_equal(tracked.backward(g), plain.backward(g))


# -- issue 12 ---------------------------------------------------------------------------

def _layer_cases(dtype=np.float32):
    """(name, make, reference backward (g, x) -> grad_input[, grad_weight]) for every layer
    and mode; x is (4, 5, 3), channels on axis 1."""
    w = np.linspace(0.1, 0.9, 5).astype(dtype)

    def prelu(inplace):
        def make():
            layer = nn.PReLU(5, axis=1, dtype=dtype, inplace=inplace)
            layer.weight[:] = w
            return layer
        return make
    return [
        ("relu", lambda: nn.ReLU(), lambda g, x: ref.relu_backward(g, x)),
        ("relu_inplace", lambda: nn.ReLU(inplace=True), lambda g, x: ref.relu_backward(g, x)),
        ("relu_nomask", lambda: nn.ReLU(mask=False), lambda g, x: ref.relu_backward(g, x)),
        ("relu_nomask_inplace", lambda: nn.ReLU(mask=False, inplace=True),
         lambda g, x: ref.relu_backward(g, x)),
        ("leaky", lambda: nn.LeakyReLU(0.1), lambda g, x: ref.leaky_relu_backward(g, x, 0.1)),
        ("leaky_inplace", lambda: nn.LeakyReLU(0.1, inplace=True),
         lambda g, x: ref.leaky_relu_backward(g, x, 0.1)),
        ("elu", lambda: nn.ELU(0.7), lambda g, x: ref.elu_backward(g, x, 0.7)),
        ("elu_inplace", lambda: nn.ELU(0.7, inplace=True),
         lambda g, x: ref.elu_backward(g, x, 0.7)),
        ("prelu", prelu(False), lambda g, x: ref.prelu_backward(g, x, w, axis=1)),
        ("prelu_inplace", prelu(True), lambda g, x: ref.prelu_backward(g, x, w, axis=1)),
    ]


def _check_grads(layer, got, want, dtype):
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    if isinstance(want, tuple):
        want, want_w = want
        np.testing.assert_allclose(layer.grad_weight, want_w, rtol=10 * rtol)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


@pytest.mark.parametrize("name,make,want", _layer_cases(), ids=[c[0] for c in _layer_cases()])
def test_refused_backward_keeps_the_saved_state(name, make, want):
    """issue 12 item 9a: a refused backward (wrong shape, wrong dtype) keeps what forward
    saved, so the corrected retry works; a successful backward frees it."""
    dtype = np.float32
    x = away_from_kink((4, 5, 3), seed=11, dtype=dtype)
    g = np.random.default_rng(12).standard_normal(x.shape).astype(dtype)
    layer = make()
    layer(x.copy())
    kept = layer.saved_nbytes()
    assert kept > 0
    with pytest.raises(ValueError, match="shape"):
        layer.backward(g[:, :, :2])
    assert layer.saved_nbytes() == kept
    with pytest.raises(TypeError, match="dtype"):
        layer.backward(g.astype(np.float64))
    assert layer.saved_nbytes() == kept
    got = layer.backward(g)                  # the corrected retry
    _check_grads(layer, got, want(g, x), dtype)
    assert layer.saved_nbytes() == 0
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(g)


@pytest.mark.parametrize("fwd,bad", [(np.float32, np.float64), (np.float64, np.float32)])
@pytest.mark.parametrize("case", range(len(_layer_cases())), ids=[c[0] for c in _layer_cases()])
def test_grad_dtype_must_be_the_output_dtype(case, fwd, bad):
    """issue 12 item 9b: every layer (ReLU in mask mode too) refuses a grad_output whose
    dtype is not the forward output's, with a TypeError naming both dtypes."""
    name, make, want = _layer_cases(fwd)[case]
    x = away_from_kink((4, 5, 3), seed=13, dtype=fwd)
    g = np.random.default_rng(14).standard_normal(x.shape)
    ints = np.ones(x.shape, dtype=int).tolist()            # an array-like of another dtype
    for wrong, names in [(g.astype(bad), [np.dtype(fwd).name, np.dtype(bad).name]),
                         (ints, [np.dtype(fwd).name, np.asarray(ints).dtype.name])]:
        layer = make()
        layer(x.copy())
        with pytest.raises(TypeError) as err:
            layer.backward(wrong)
        assert all(n in str(err.value) for n in names), str(err.value)
    layer = make()
    layer(x.copy())
    if fwd == np.float64:
        # an array-like of the output's dtype (a list of floats) is accepted
        got = layer.backward(g.tolist())
        _check_grads(layer, got, want(g, x), fwd)
    else:
        got = layer.backward(g.astype(fwd))
        _check_grads(layer, got, want(g.astype(fwd), x), fwd)


_failing_forwards = [
    # (make, a forward that fails, the error)
    (lambda: nn.ReLU(track_activity=True, inplace=True), lambda: [[1.0, 1.0, 1.0]] * 2, TypeError),
    (lambda: nn.LeakyReLU(track_activity=True, inplace=True), lambda: [[1.0, 1.0, 1.0]] * 2,
     TypeError),
    (lambda: nn.ELU(track_activity=True, inplace=True), lambda: [[1.0, 1.0, 1.0]] * 2, TypeError),
    (lambda: nn.PReLU(3, dtype=np.float64, track_activity=True, inplace=True),
     lambda: [[1.0, 1.0, 1.0]] * 2, TypeError),
    (lambda: nn.PReLU(3, dtype=np.float64, track_activity=True),          # 4 channels, not 3
     lambda: np.ones((2, 4)), ValueError),
    (lambda: nn.PReLU(3, dtype=np.float32, track_activity=True),          # float64 x
     lambda: np.ones((2, 3)), TypeError),
]


@pytest.mark.parametrize("make,bad,error", _failing_forwards,
                         ids=["relu_inplace_list", "leaky_inplace_list", "elu_inplace_list",
                              "prelu_inplace_list", "prelu_channels", "prelu_dtype"])
def test_activity_recorded_only_for_a_forward_that_succeeds(make, bad, error):
    """issue 12 item 9c: a forward that raises records no activity."""
    layer = make()
    dtype = layer.weight.dtype if isinstance(layer, nn.PReLU) else np.float64
    good = np.array([[1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]], dtype=dtype)
    layer(good.copy())
    with pytest.raises(error):
        layer(bad())
    np.testing.assert_array_equal(layer.active_fraction, [0.5, 0.0, 0.0])
    np.testing.assert_array_equal(layer.ever_active, [True, False, False])
    assert layer.activity_steps == 1
    assert nn.never_active(layer).tolist() == [1, 2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_prelu_needs_normal_alphas_at_most_one(dtype):
    """issue 12 item 9d: in-place PReLU refuses, before writing x, alphas that are not
    normal numbers in (0, 1] (a subnormal alpha gave a wrong grad_weight, an alpha > 1
    can overflow y); normal alphas in (0, 1] give the grad_weight of inplace=False."""
    tiny = np.finfo(dtype).tiny
    x0 = away_from_kink((64, 3, 7), seed=15, dtype=dtype)
    g = np.random.default_rng(16).uniform(0.5, 1.5, x0.shape).astype(dtype)   # no cancellation
    for bad in [tiny / 2, tiny / 2 ** 10, np.nextafter(dtype(1), dtype(2)), 2.0, 0.0, -0.3, np.nan]:
        layer = nn.PReLU(3, axis=1, dtype=dtype, inplace=True, track_activity=True)
        layer.weight[:] = [0.5, bad, 0.25]
        x = x0.copy()
        with pytest.raises(ValueError, match="normal number in .*inplace=False"):
            layer(x)
        assert x.tobytes() == x0.tobytes()
        assert layer.activity_steps == 0 and layer.saved_nbytes() == 0
    small = 1e-30 if dtype == np.float32 else 1e-300
    for alphas in ([tiny, 0.3, 1.0], [small, 1.0, 0.7]):
        inplace = nn.PReLU(3, axis=1, dtype=dtype, inplace=True)
        plain = nn.PReLU(3, axis=1, dtype=dtype)
        inplace.weight[:] = alphas
        plain.weight[:] = alphas
        x = x0.copy()
        assert inplace(x) is x
        np.testing.assert_array_equal(x, plain(x0.copy()))
        np.testing.assert_array_equal(inplace.backward(g), plain.backward(g))
        np.testing.assert_allclose(inplace.grad_weight, plain.grad_weight,
                                   rtol=1e-6 if dtype == np.float32 else 1e-13)
        # and the plain layer is the reference's
        np.testing.assert_allclose(plain.grad_weight,
                                   ref.prelu_backward(g, x0, inplace.weight, axis=1)[1],
                                   rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("make", [lambda: nn.ReLU(track_activity=True),
                                  lambda: nn.ReLU(track_activity=True, inplace=True),
                                  lambda: nn.ReLU(track_activity=True, mask=False),
                                  lambda: nn.LeakyReLU(track_activity=True),
                                  lambda: nn.ELU(track_activity=True),
                                  lambda: nn.PReLU(3, track_activity=True)],
                         ids=["relu", "relu_inplace", "relu_nomask", "leaky", "elu", "prelu"])
def test_default_activity_axis_is_the_nchw_channel(make):
    """issue 12 item 12: every layer counts activity along axis 1 by default, so a dead
    channel of an NCHW conv output is found; channels-last takes activity_axis=-1."""
    x = np.random.default_rng(17).standard_normal((4, 3, 5, 6)).astype(np.float32)
    x[:, 1] = -np.abs(x[:, 1])                 # channel 1 is dead
    x[:, 2] = -np.abs(x[:, 2])
    x[3, 2, 4, 5] = 0.5                        # channel 2 is active once
    layer = make()
    layer(x.copy())
    np.testing.assert_array_equal(layer.active_fraction, ref.relu_stats(x, axis=1)[1])
    np.testing.assert_array_equal(layer.active_fraction, [np.mean(x[:, 0] > 0), 0.0, 1 / 120])
    assert nn.never_active(layer).tolist() == [1]
    assert layer.activity_axis == 1
    # channels-last: the same data as NHWC, with the axis given
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    last = make()
    last.activity_axis = -1
    if isinstance(last, nn.PReLU):
        last.axis = -1
    last(nhwc.copy())
    assert nn.never_active(last).tolist() == [1]


@pytest.mark.parametrize("make", [lambda **k: nn.ReLU(track_activity=True, **k),
                                  lambda **k: nn.ReLU(track_activity=True, mask=False, **k),
                                  lambda **k: nn.LeakyReLU(track_activity=True, **k),
                                  lambda **k: nn.ELU(track_activity=True, **k),
                                  lambda **k: nn.PReLU(track_activity=True, dtype=np.float64, **k)],
                         ids=["relu", "relu_nomask", "leaky", "elu", "prelu"])
def test_tracking_a_1d_input_needs_the_axis(make):
    """issue 12 item 12: with the default channel axis 1, a tracking layer refuses a 1-D
    x (ValueError, x untouched, nothing recorded); activity_axis=0 counts per element."""
    x0 = np.array([1.0, -2.0, 0.0, 3.0])
    layer = make(inplace=True)
    x = x0.copy()
    with pytest.raises(ValueError, match="axis"):
        layer(x)
    np.testing.assert_array_equal(x, x0)
    assert layer.activity_steps == 0 and layer.saved_nbytes() == 0
    per_element = make(activity_axis=0)
    per_element(x0.copy())
    np.testing.assert_array_equal(per_element.active_fraction, ref.relu_stats(x0, axis=0)[1])
    assert nn.never_active(per_element).tolist() == [1, 2]


# -- RReLU ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_training_is_the_functional_with_the_drawn_seed(dtype):
    x = np.random.default_rng(2).standard_normal((6, 4, 7)).astype(dtype)
    x[0, 0, :5] = [0.0, -0.0, np.nan, -np.inf, np.inf]
    g = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    layer = nn.RReLU(0.1, 0.3, seed=42)
    assert layer.training
    y = layer(x)
    seed = layer.last_seed
    # the layer's generator drew it: numpy.random.default_rng(42)'s first uint64
    assert seed == int(np.random.default_rng(42).integers(0, 2**64, dtype=np.uint64))
    np.testing.assert_array_equal(y, rf.rrelu(x, 0.1, 0.3, True, seed=seed))
    # it keeps the seed and the 1-bit signs only
    assert layer.saved_nbytes() == (x.size + 7) // 8 + 8 < x.nbytes // 8
    np.testing.assert_array_equal(layer.backward(g), rf.rrelu_backward(g, x, 0.1, 0.3, True, seed=seed))
    assert layer.saved_nbytes() == 0
    # a fresh seed per forward, the same sequence for the same seed=
    y2 = layer(x)
    assert layer.last_seed != seed and not np.array_equal(y2, y, equal_nan=True)
    again = nn.RReLU(0.1, 0.3, seed=42)
    np.testing.assert_array_equal(again(x), y)
    np.testing.assert_array_equal(again(x), y2)


def test_rrelu_finite_differences_in_training_mode():
    """The gradient of the forward that ran (its seed), against central differences of
    rrelu with that seed."""
    x = away_from_kink((4, 5, 3))
    r = np.random.default_rng(1).standard_normal(x.shape)
    layer = nn.RReLU(0.1, 0.4, seed=5)
    layer(x)
    seed = layer.last_seed
    gx = layer.backward(r)
    eps = 1e-6
    num = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = (np.sum(r * rf.rrelu(xp, 0.1, 0.4, True, seed=seed))
                  - np.sum(r * rf.rrelu(xm, 0.1, 0.4, True, seed=seed))) / (2 * eps)
    np.testing.assert_allclose(gx, num, rtol=1e-6, atol=1e-8)


def test_rrelu_modes_arguments_and_torchs_defaults():
    import inspect
    sig = inspect.signature(nn.RReLU)
    assert sig.parameters["lower"].default == 1.0 / 8.0
    assert sig.parameters["upper"].default == 1.0 / 3.0
    assert sig.parameters["inplace"].default is False
    assert list(sig.parameters)[:3] == ["lower", "upper", "inplace"]
    layer = nn.RReLU(0.25, 0.75)
    assert layer.eval() is layer and not layer.training
    x = np.array([-2.0, 0.0, np.nan, 3.0])
    np.testing.assert_array_equal(layer(x), [-1.0, 0.0, np.nan, 3.0])
    assert layer.saved_nbytes() == 1                   # the mask, 4 bits in a byte
    # eval mode: a NaN x gives s * g (training mode: g), as PyTorch
    np.testing.assert_array_equal(layer.backward(np.full(4, 2.0)), [1.0, 1.0, 1.0, 2.0])
    assert layer.train() is layer and layer.training
    layer(x)
    assert layer.backward(np.full(4, 2.0))[2] == 2.0
    with pytest.raises(TypeError, match="mode"):
        layer.train(1)
    with pytest.raises(ValueError, match="lower must not exceed upper"):
        nn.RReLU(0.5, 0.25)
    with pytest.raises(ValueError, match="lower must be >= 0"):
        nn.RReLU(-0.1, 0.25)
    with pytest.raises(TypeError, match="lower"):
        nn.RReLU("0.1", 0.25)
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(np.ones(4))
    assert repr(nn.RReLU(0.1, 0.2, inplace=True)) == "RReLU(lower=0.1, upper=0.2, inplace=True)"
    # a refused backward keeps the state: a corrected call follows
    layer(x)
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones(3))
    assert layer.backward(np.ones(4)).shape == (4,)


def test_rrelu_layer_has_torchs_structure():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    theirs = torch.nn.RReLU()
    assert theirs.training and (theirs.lower, theirs.upper) == (1 / 8, 1 / 3)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = theirs(tx)
    ty.backward(torch.ones_like(tx))
    ours = nn.RReLU(seed=3)
    y = ours(x)
    gx = ours.backward(np.ones_like(x))
    pos = x > 0
    np.testing.assert_array_equal(y[pos], ty.detach().numpy()[pos])
    np.testing.assert_array_equal(gx[pos], tx.grad.numpy()[pos])
    for grad in (gx[~pos], tx.grad.numpy()[~pos]):
        assert grad.min() >= np.float32(1 / 8) and grad.max() <= np.float32(1 / 3)
    np.testing.assert_array_equal(ours.eval()(x), theirs.eval()(torch.from_numpy(x)).numpy())


# -- masks by default, and the learnable bias ---------------------------------------

MASK_LAYERS = [
    (lambda **kw: nn.ReLU(**kw), "relu", ()),
    (lambda **kw: nn.LeakyReLU(0.2, **kw), "leaky_relu", (0.2,)),
    (lambda **kw: nn.ReLU6(**kw), "relu6", ()),
    (lambda **kw: nn.Hardtanh(-0.5, 0.75, **kw), "hardtanh", (-0.5, 0.75)),
    (lambda **kw: nn.Threshold(0.25, -2.0, **kw), "threshold", (0.25, -2.0)),
    (lambda **kw: nn.Hardsigmoid(**kw), "hardsigmoid", ()),
]


def _grad_args(name, args):
    return {"threshold": args[:1], "relu6": ()}.get(name, args)


@pytest.mark.parametrize("make, name, args", MASK_LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_form_layers_keep_one_bit_and_the_same_gradient(make, name, args, dtype):
    x = rand((16, 33), dtype, seed=1, scale=5.0, zeros=True)
    x[0, :4] = [np.nan, -0.0, 6.0, -3.0]
    g = rand(x.shape, dtype, seed=2)
    want = getattr(rf, name + "_backward")(g, x, *_grad_args(name, args))
    for kw in ({}, {"inplace": True}):
        layer = make(**kw)
        assert layer.mask
        xin = x.copy()
        y = layer(xin)
        assert_same(y, getattr(rf, name)(x, *args))
        assert layer.saved_nbytes() == (x.size + 7) // 8        # 1 bit per element
        assert_same(layer.backward(g), want)
    keep_x = make(mask=False)
    keep_x(x)
    assert keep_x.saved_nbytes() == x.nbytes
    assert_same(keep_x.backward(g), want)


def test_rrelu_layer_keeps_the_mask_in_both_modes():
    x = rand((8, 100), np.float32, seed=3)
    g = rand(x.shape, np.float32, seed=4)
    layer = nn.RReLU(0.1, 0.3, seed=5)
    y = layer(x)
    seed = layer.last_seed
    assert layer.saved_nbytes() == x.size // 8 + 8
    assert_same(y, rf.rrelu(x, 0.1, 0.3, True, seed=seed))
    assert_same(layer.backward(g), rf.rrelu_backward(g, x, 0.1, 0.3, True, seed=seed))
    layer.eval()
    layer(x)
    assert layer.saved_nbytes() == x.size // 8
    assert_same(layer.backward(g), rf.rrelu_backward(g, x, 0.1, 0.3, False))
    plain = nn.RReLU(0.1, 0.3, seed=5, mask=False)
    plain(x)
    assert plain.saved_nbytes() == x.nbytes + 8
    assert_same(plain.backward(g), rf.rrelu_backward(g, x, 0.1, 0.3, True, seed=seed))


def test_mask_layers_hold_one_bit_per_element_by_tracemalloc():
    import tracemalloc
    n = 1 << 20
    x = rand((n,), np.float32, seed=6)
    for make, name, args in MASK_LAYERS + [(lambda **kw: nn.RReLU(seed=0, **kw), "rrelu", ())]:
        layer = make()
        tracemalloc.start()
        y = layer(x)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # y (4 bytes each) plus the mask (1 bit each) plus small objects
        assert held - y.nbytes <= n // 8 + 4096, (name, held - y.nbytes)
        del y
        layer.backward(np.ones(n, np.float32))


BIAS_LAYERS = [
    (nn.ReLU, (), "relu", {}), (nn.ReLU, (), "relu", {"mask": False}),
    (nn.LeakyReLU, (0.2,), "leaky_relu", {}), (nn.LeakyReLU, (0.2,), "leaky_relu", {"mask": False}),
    (nn.ELU, (1.5,), "elu", {}), (nn.ReLU6, (), "relu6", {}), (nn.Hardtanh, (-0.5, 0.75), "hardtanh", {}),
    (nn.Threshold, (0.25, -2.0), "threshold", {}), (nn.Hardsigmoid, (), "hardsigmoid", {}),
    (nn.Hardswish, (), "hardswish", {}), (nn.SELU, (), "selu", {}), (nn.CELU, (1.5,), "celu", {}),
    (nn.SiLU, (), "silu", {}), (nn.GELU, ("tanh",), "gelu", {}), (nn.Softplus, (1.5, 4.0), "softplus", {}),
    (nn.Mish, (), "mish", {}),
]


@pytest.mark.parametrize("cls, args, name, extra", BIAS_LAYERS)
@pytest.mark.parametrize("axis", [1, -1])
def test_layer_bias_is_the_functional_bias_and_its_gradient(cls, args, name, extra, axis):
    x = rand((6, 5, 7), np.float64, seed=7, zeros=True)
    g = rand(x.shape, np.float64, seed=8)
    layer = cls(*args, bias=x.shape[axis], axis=axis, dtype=np.float64, **extra)
    assert layer.parameters()[0].shape == (x.shape[axis],) and not layer.parameters()[0].any()
    layer.bias[:] = rand((x.shape[axis],), np.float64, seed=9)
    b = layer.bias.copy()
    y = layer(x)
    assert_same(y, getattr(rf, name)(x, *args, bias=b, axis=axis))
    gx = layer.backward(g)
    gkw = _grad_args(name, args) if name != "gelu" else args
    want, gb = getattr(rf, name + "_backward")(g, x, *gkw, bias=b, axis=axis, grad_bias=True)
    assert_same(gx, want)
    assert_same(layer.grads()[0], gb)
    assert layer.grads()[0] is layer.grad_bias
    # one SGD step moves the bias the layer uses
    for p, dp in zip(layer.parameters(), layer.grads()):
        p -= 0.1 * dp
    assert_same(layer.bias, b - 0.1 * gb)


def test_inplace_layers_with_a_bias():
    x = rand((4, 9), np.float32, seed=10)
    g = rand(x.shape, np.float32, seed=11)
    for layer, name, args in ((nn.ReLU(bias=9, axis=-1, inplace=True, mask=False), "relu", ()),
                              (nn.ELU(bias=9, axis=-1, inplace=True), "elu", (1.0,)),
                              (nn.ReLU6(bias=9, axis=-1, inplace=True, mask=False), "relu6", ()),
                              (nn.LeakyReLU(bias=9, axis=-1, inplace=True), "leaky_relu", (0.01,))):
        layer.bias[:] = np.linspace(-1, 1, 9, dtype=np.float32)
        xin = x.copy()
        y = layer(xin)
        assert y is xin
        assert_same(y, getattr(rf, name)(x, *args, bias=layer.bias, axis=-1))
        want, gb = getattr(rf, name + "_backward")(g, x, *args, bias=layer.bias, axis=-1,
                                                   grad_bias=True)
        if name == "elu":        # from the output: within an ulp or two of the gradient from x
            np.testing.assert_allclose(layer.backward(g), want, rtol=1e-6, atol=1e-7)
        else:
            assert_same(layer.backward(g), want)
        np.testing.assert_allclose(layer.grad_bias, gb, rtol=1e-6, atol=1e-6)


def test_bias_argument_errors():
    with pytest.raises(ValueError, match="bias must be the number of channels"):
        nn.ReLU(bias=0)
    with pytest.raises(ValueError, match="bias must be the number of channels"):
        nn.ReLU(bias=True)
    with pytest.raises(TypeError, match="dtype"):
        nn.SiLU(bias=3, dtype=np.int32)
    layer = nn.ReLU(bias=4)
    with pytest.raises(ValueError, match="bias has 4 values"):
        layer(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="bias has dtype float32"):
        layer(np.ones((2, 4), np.float64))


def test_linear_relu_bias_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    inp = rng.standard_normal((32, 10))
    w = rng.standard_normal((10, 16))
    b = rng.standard_normal(16)
    g = rng.standard_normal((32, 16))
    for layer, tfn in ((nn.ReLU(bias=16, dtype=np.float64), torch.relu),
                       (nn.LeakyReLU(0.2, bias=16, dtype=np.float64),
                        lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
                       (nn.Hardtanh(bias=16, dtype=np.float64), torch.nn.functional.hardtanh),
                       (nn.GELU(bias=16, dtype=np.float64), torch.nn.functional.gelu)):
        layer.bias[:] = b
        z = inp @ w
        y = layer(z)
        gx = layer.backward(g)
        tb = torch.tensor(b, requires_grad=True)
        tz = torch.tensor(z, requires_grad=True)
        ty = tfn(tz + tb)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(gx, tz.grad.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.grad_bias, tb.grad.numpy(), rtol=1e-12, atol=1e-12)
