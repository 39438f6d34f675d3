"""`python -m relu_fast` runs from outside the source tree and passes its self-check."""
import subprocess
import sys

import relu_fast as rf


def test_python_m_relu_fast(tmp_path):
    out = subprocess.run([sys.executable, "-m", "relu_fast"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert rf.__version__ in text
    assert "self-check   : PASS" in text, text
    assert "OpenMP" in text and "threads" in text and "kernels" in text and "16-bit" in text
    assert "speed-up" in text


def test_self_check_every_function_passes():
    from relu_fast import _report
    results = _report.self_check()
    names = {name.split("[")[0] for name, _ in results}
    # every function of the kernel table, as declared
    assert names == {"relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
                     "hardtanh", "hardtanh_backward", "relu6", "relu6_backward", "threshold",
                     "threshold_backward", "hardsigmoid", "hardsigmoid_backward", "hardswish",
                     "hardswish_backward", "selu", "selu_backward", "celu", "celu_backward",
                     "silu", "silu_backward", "rrelu", "rrelu_backward", "softplus",
                     "softplus_backward", "mish", "mish_backward", "gelu", "gelu_backward", "prelu",
                     "prelu_backward"}
    assert all(ok for _, ok in results), [n for n, ok in results if not ok]


def test_report_rejects_unknown_arguments(tmp_path):
    out = subprocess.run([sys.executable, "-m", "relu_fast", "--no-such-flag"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode != 0
    assert "unrecognized arguments" in out.stderr
