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
