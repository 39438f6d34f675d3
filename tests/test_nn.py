"""relu_fast.nn: layers against finite differences, the functional API and NumPy."""
import numpy as np
import pytest

import relu_fast as rf
from relu_fast import nn


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
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
             (nn.ELU(0.8, inplace=True), nn.ELU(0.8), 4),
             (nn.PReLU(3, init=0.3, dtype=dtype, inplace=True), nn.PReLU(3, init=0.3, dtype=dtype), 0)]
    for inplace, plain, ulps in pairs:
        x = x0.copy()
        y = inplace(x)
        assert y is x
        np.testing.assert_array_equal(x, plain(x0.copy()))
        gi = inplace.backward(g)
        gp = plain.backward(g)
        if ulps:
            # ELU from its output: g * (y + alpha) against g * alpha * exp(x)
            np.testing.assert_allclose(gi, gp, rtol=1e-6 if dtype == np.float32 else 1e-13)
        else:
            np.testing.assert_array_equal(gi, gp)
        if isinstance(plain, nn.PReLU):
            np.testing.assert_allclose(inplace.grad_weight, plain.grad_weight,
                                       rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_inplace_needs_recoverable_signs():
    with pytest.raises(ValueError, match="negative_slope"):
        nn.LeakyReLU(-0.5, inplace=True)
    with pytest.raises(ValueError, match="alpha"):
        nn.ELU(-1.0, inplace=True)
    layer = nn.PReLU(init=0.0, inplace=True)
    with pytest.raises(ValueError, match="alpha > 0"):
        layer(np.ones(4, np.float32))


# -- memory, errors, parameters -----------------------------------------------------

@pytest.mark.parametrize("dtype,ratio", [(np.float32, 32), (np.float64, 64)])
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
