"""python -m relu_fast demo --quick runs and reports every activation."""
import subprocess
import sys

import numpy as np
import pytest

from relu_fast import _demo


def test_quick_demo(tmp_path, capsys):
    path = tmp_path / "demo.png"
    assert _demo.main(["--quick", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    for init in _demo.INITS:
        for act in _demo.ACTIVATIONS:
            assert f"| {init} | {act} |" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out and not path.exists()
    else:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dying_init_kills_relu_units():
    X, y = _demo.spirals(40)
    r = _demo.train("relu", "dying", X, y, X, y, epochs=2)
    assert r["dead"] > 0.5                       # biases at -3 leave most ReLUs dead ...
    s = _demo.train("relu", "sound", X, y, X, y, epochs=2)
    assert s["dead"] < r["dead"]                 # ... a sound init does not
    p = _demo.train("prelu", "sound", X, y, X, y, epochs=1)
    assert len(p["alphas"]) == 2 and p["alphas"][0].shape == (64,)


def test_spirals():
    X, y = _demo.spirals(50, classes=3)
    assert X.shape == (150, 2) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [50, 50, 50]


def test_command_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "relu_fast", "demo", "--quick", "--no-plot", "--no-progress"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "| dying | prelu |" in r.stdout
    with pytest.raises(SystemExit):
        _demo.main(["--epochs", "0"])


def test_fused_demo_three_ways_agree(tmp_path, capsys):
    """demo --fused: the three ways train the same MLP to the same losses (float64: the
    bias gradient's float64 sum in another order is the only difference, so a few ulps
    per step), and the fused way holds 1 bit per hidden activation, not the array."""
    import json
    from relu_fast import _demo_fused
    path = tmp_path / "fused.json"
    assert _demo.main(["--fused", "--quick", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "vs unfused" in out and "held by the activation" in out
    assert out.count(_demo_fused.FLOOR) == 2                      # its row, once per dtype
    results = {r["dtype"]: r for r in json.loads(path.read_text())}
    assert set(results) == {"float32", "float64"}
    for dtype, r in results.items():
        ways = r["ways"]
        assert set(ways) == set(_demo_fused.WAYS)
        assert 0 < r[_demo_fused.FLOOR]["median_ms"] <= r[_demo_fused.FLOOR]["p90_ms"]
        n = r["elements"]
        assert ways["fused"]["saved_bytes"] == -(-n // 8)          # the 1-bit mask
        assert ways["numpy"]["saved_bytes"] == ways["unfused"]["saved_bytes"] == n * np.dtype(dtype).itemsize
        losses = [ways[w]["losses"] for w in _demo_fused.WAYS]
        assert all(len(v) == r["steps"] + 1 for v in losses)
        assert losses[0][-1] < losses[0][0]                       # it trains
        bound = 1e-12 if dtype == "float64" else 1e-4
        for w in ("unfused", "fused"):
            assert ways[w]["max_relative_loss_difference"] <= bound
            assert np.allclose(ways[w]["losses"], ways["numpy"]["losses"], rtol=bound, atol=0)
        assert ways["unfused"]["losses"] == ways["numpy"]["losses"]   # the same passes, exactly
