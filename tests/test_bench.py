"""python -m relu_fast bench: output format, ratios, JSON, plot, alternation.  No timing assertions."""
import json
import re
import statistics
import subprocess
import sys

import numpy as np
import pytest

from relu_fast import _api, _bench, _dispatch

TINY = ["--sizes", "100,2000", "--dtypes", "float32", "--budget", "0.002", "--min-rounds", "2",
        "--quiet"]


def _rows(text, title):
    """The data rows (lists of cells) of the table under `title`."""
    block = text.split(title, 1)[1].split("\n\n", 1)[0].splitlines()
    header = next(i for i, line in enumerate(block) if line.split()[:1] == ["n"])
    return block[header].split(), [line.split() for line in block[header + 1:] if line.strip()]


def test_quick_run_tables_ratios_and_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert _bench.main(["--quick", "--no-torch", "--functions", "relu,relu_backward,prelu",
                        "--json", str(path)] + TINY) == 0
    out = capsys.readouterr().out
    data = json.loads(path.read_text())
    res = data["results"]
    # every cell: relu has 3 modes, relu_backward 2, prelu 1; 2 sizes; relu_fast + numpy
    assert len(res) == (3 + 2 + 1) * 2 * 2
    assert {r["contender"] for r in res} == {"relu_fast", "numpy"}
    for r in res:
        assert len(r["samples_s"]) >= 2
        assert r["median_s"] == statistics.median(r["samples_s"])
        assert r["median_s"] > 0
    assert {r["n"] for r in res if r["function"] == "prelu"} == {100, 2000}
    assert data["meta"]["threads"] >= 1

    header, rows = _rows(out, "relu  float32  out= given")
    assert header == ["n", "relu_fast", "us", "numpy", "us", "numpy/rf"]
    assert [row[0] for row in rows] == ["100", "2e+03"]
    for row, n in zip(rows, (100, 2000)):
        t = {r["contender"]: r["median_s"] for r in res
             if (r["function"], r["mode"], r["n"]) == ("relu", "out", n)}
        assert float(row[-1]) == pytest.approx(t["numpy"] / t["relu_fast"], abs=0.006)
        assert float(row[1].rstrip("!")) == pytest.approx(t["relu_fast"] * 1e6, rel=0.01, abs=0.001)
    assert "np.maximum(x, 0, out=o)" in out
    for title in ("relu  float32  in place", "relu  float32  allocating",
                  "relu_backward  float32  out= given", "prelu forward+backward (C=100)  float32"):
        assert title in out


def test_16bit_cells_every_function(tmp_path):
    """float16 and bfloat16 columns: every function's cells run (PyTorch's 16-bit tensors
    where torch is installed); NumPy's baselines where they run on the dtype as written
    (float16 for relu; never bfloat16, which NumPy does not have)."""
    from conftest import HALF_DTYPES
    names = ",".join(np.dtype(d).name for d in HALF_DTYPES)
    path = tmp_path / "bench.json"
    assert _bench.main(["--quick", "--dtypes", names, "--sizes", "200", "--budget", "0.002",
                        "--min-rounds", "2", "--quiet", "--json", str(path)]) == 0
    res = json.loads(path.read_text())["results"]
    for dt in names.split(","):
        cells = {(r["function"], r["mode"]) for r in res if r["dtype"] == dt}
        assert {f for f, _ in cells} == set(_bench.FUNCTIONS), dt
        numpy_cells = {r["function"] for r in res if r["dtype"] == dt and r["contender"] == "numpy"}
        assert ("relu" in numpy_cells) == (dt == "float16")
        if _torch_available():
            assert {r["function"] for r in res if r["dtype"] == dt and r["contender"] == "torch"} \
                >= {"relu", "gelu", "prelu", "hardswish_backward"}


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_plot_written_and_saved_results_reread(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png, js, png2 = tmp_path / "bench.png", tmp_path / "bench.json", tmp_path / "again.png"
    assert _bench.main(["--no-torch", "--functions", "relu,elu", "--plot", str(png),
                        "--json", str(js)] + TINY) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = capsys.readouterr().out
    assert f"plot saved to {png}" in first
    assert _bench.main(["--from-json", str(js), "--plot", str(png2)]) == 0
    again = capsys.readouterr().out
    assert png2.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = "elu  float32  allocating"
    assert again.split(table)[1].split("\n\n")[0] == first.split(table)[1].split("\n\n")[0]


def test_unsteady_cells_are_flagged():
    steady = {"median_s": 2e-6, "samples_s": [1.9e-6, 2e-6, 2.1e-6]}
    unsteady = {"median_s": 2e-6, "samples_s": [1e-6, 2e-6, 3e-6]}
    assert _bench._us(steady) == "2.000"
    assert _bench._us(unsteady) == "2.000!"


def test_plot_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = [{"function": "relu", "dtype": "float32", "n": 100, "mode": "out",
            "contender": "relu_fast", "call": "relu(x, out=o)", "median_s": 1e-7}]
    assert _bench.plot(res, str(tmp_path / "p.png"), "t") is False
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_contenders_alternate_round_by_round():
    log = []
    fns = [lambda: log.append("a"), lambda: log.append("b"), lambda: log.append("c")]
    timed = _bench.time_cell(fns, budget=0.0, min_rounds=4, max_rounds=4)
    assert [len(t[1]) for t in timed] == [4, 4, 4]
    runs = [k for i, k in enumerate(log) if i == 0 or log[i - 1] != k]
    # warm-up a, b, c; then 4 rounds of one sample each, the order rotated every
    # round and reversed every other round
    assert runs[3:] == list("abc" "acb" "cab" "cba")
    # so each contender follows more than one other
    timed_runs = runs[3:]
    before = {k: {timed_runs[i - 1] for i in range(1, len(timed_runs)) if timed_runs[i] == k} for k in "abc"}
    assert all(len(v) == 2 for v in before.values()), before


def test_unsteady_cell_is_timed_again_and_the_steadiest_kept(monkeypatch):
    steady = (1.0, [1.0, 1.0, 1.1], 1)
    shaky = (3.0, [1.0, 3.0, 3.0], 1)
    attempts = iter([[shaky, steady], [steady, (2.0, [1.0, 2.0, 2.0], 1)], [steady, steady]])
    calls = []

    def fake_time_cell(*args, **kwargs):
        calls.append(1)
        return next(attempts)

    monkeypatch.setattr(_bench.timing, "time_cell", fake_time_cell)   # where steadiest finds it
    # first attempt: worst ratio 3; second: 2 (kept so far); third: steady, kept
    assert _bench.time_cell_steadiest([None, None], 0, 1, 1) == [steady, steady]
    assert len(calls) == 3
    # a steady first attempt is not repeated
    calls.clear()
    attempts = iter([[steady, steady]])
    assert _bench.time_cell_steadiest([None, None], 0, 1, 1) == [steady, steady]
    assert len(calls) == 1
    # never steady: the least unsteady attempt, after RETRIES more
    calls.clear()
    worse, less = (4.0, [1.0, 4.0, 4.0], 1), (2.0, [1.0, 2.0, 2.0], 1)
    attempts = iter([[worse, steady], [less, steady], [worse, steady]])
    assert _bench.time_cell_steadiest([None, None], 0, 1, 1) == [less, steady]
    assert len(calls) == 1 + _bench.RETRIES


def test_levels_compared_and_level_restored(capsys):
    before = _api.kernel_level()
    assert _bench.main(["--levels", "--functions", "relu", "--modes", "out"] + TINY) == 0
    out = capsys.readouterr().out
    levels = _dispatch.available_levels()
    header, rows = _rows(out, "relu  float32  out= given")
    assert header[1:1 + 2 * len(levels):2] == levels
    assert len(rows) == 2
    assert _api.kernel_level() == before


def test_bad_arguments():
    for argv in (["--functions", "relu,nope"], ["--sizes", "1e2,abc"], ["--dtypes", "int8"],
                 ["--max-size", "10", "--sizes", "100"]):
        with pytest.raises(SystemExit):
            _bench.main(argv + ["--quiet"])


def test_sizes_parse():
    assert _bench._sizes("1e2, 1e3,5000") == [100, 1000, 5000]


def test_optional_imports_stay_out_of_the_package():
    code = ("import sys, relu_fast, relu_fast._bench; "
            "print([m for m in ('torch', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_dispatches_to_bench():
    out = subprocess.run([sys.executable, "-m", "relu_fast", "bench", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"--levels", out) and "--plot" in out


def test_vary_inputs_and_sizes_prelu_cannot_split(tmp_path):
    path = tmp_path / "b.json"
    argv = ["--no-torch", "--functions", "relu,prelu", "--modes", "alloc", "--sizes", "150,50",
            "--budget", "0.002", "--min-rounds", "2", "--dtypes", "float64", "--quiet",
            "--vary-inputs", "--json", str(path)]
    assert _bench.main(argv) == 0
    res = json.loads(path.read_text())["results"]
    assert sorted((r["function"], r["n"]) for r in res if r["contender"] == "relu_fast") == [
        ("prelu", 100), ("prelu", 100), ("relu", 50), ("relu", 150)]
    assert {r["inputs"] for r in res if r["function"] == "relu" and r["n"] == 150} == {
        _bench.VARY_ELEMENTS // 150}


def test_variants_are_called_in_turn():
    log = []
    variants = [lambda k=k: log.append(k) for k in range(3)]
    _bench.time_cell([variants], budget=0.0, min_rounds=2, max_rounds=2)
    assert set(log) == {0, 1, 2}
    # each sample runs 0, 1, 2, 0, 1, ... from the start
    assert all(b == (a + 1) % 3 or b == 0 for a, b in zip(log, log[1:]))


def test_without_torch_numpy_only_and_progress_on_stderr(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)      # import torch -> ImportError
    argv = ["--functions", "relu", "--modes", "out", "--sizes", "100", "--dtypes", "float32",
            "--budget", "0.002", "--min-rounds", "2"]
    assert _bench.main(argv) == 0
    cap = capsys.readouterr()
    assert "PyTorch   : not installed" in cap.out
    header, rows = _rows(cap.out, "relu  float32  out= given")
    assert header == ["n", "relu_fast", "us", "numpy", "us", "numpy/rf"] and len(rows) == 1
    assert "[  1/1]" in cap.err and "relu float32 n=1e+02 out" in cap.err


def _contention(tmp_path, extra):
    from relu_fast._bench import contention as _contention
    path = tmp_path / "contention.json"
    rc = _contention.main(["--contention", "--scenarios", "quiet,busy", "--functions", "relu,prelu",
                           "--dtypes", "float32", "--sizes", "1e3", "--budget", "0.005",
                           "--min-calls", "3", "--quiet", "--json", str(path)] + extra)
    return rc, json.loads(path.read_text())


def test_contention_smoke_without_peer(tmp_path, capsys):
    rc, data = _contention(tmp_path, ["--no-torch"])
    out = capsys.readouterr().out
    assert rc == 0
    assert {(r["scenario"], r["function"]) for r in data["results"]} == {
        (s, f) for s in ("quiet", "busy") for f in ("relu", "prelu")}
    for r in data["results"]:
        assert {"1 thread", "default", "NumPy"} <= set(r["us"]) and "PyTorch" not in r["us"]
        assert all(r["calls"][k] >= 3 for k in r["calls"])
        # the memory floor, timed in relu_fast's own rotation (no PyTorch needed)
        floor = r["scenario"] == "quiet" and r["function"] in ("relu", "prelu")
        assert ({"floor, 1 thread", "floor, threads"} <= set(r["us"])) == floor
    assert "a busy-loop process on the other core" in out and "targets (issue 13)" in out


@pytest.mark.parametrize("peer", [None, "torch"])
@pytest.mark.parametrize("with_g", [False, True])
def test_contention_floor_covers_every_byte(peer, with_g):
    from relu_fast._bench import contention
    T = pytest.importorskip("torch") if peer else None
    r = np.random.default_rng(0)
    x, g = (r.standard_normal((7, 10001)).astype(np.float32) for _ in range(2))
    for _, floor in contention._floor_contenders(x, T, g if with_g else None):
        o, o2 = floor()
        assert np.array_equal(o, x.reshape(-1))               # relu's bytes: a copy of x
        if with_g:                                           # prelu's: and g + x
            assert np.array_equal(o2, (g + x).reshape(-1))
        else:
            assert o2 is None


def test_contention_peer_process_times_pytorch(tmp_path, capsys):
    pytest.importorskip("torch")
    rc, data = _contention(tmp_path, [])
    out = capsys.readouterr().out
    assert rc == 0 and "in a process of its own" in out
    for r in data["results"]:
        assert "PyTorch" in r["us"] and r["calls"]["PyTorch"] >= 3
        floor = r["scenario"] == "quiet" and r["function"] in ("relu", "prelu")
        assert ({"floor, 1 thread", "floor, threads"} <= set(r["us"])) == floor
    code = ("import sys, relu_fast._bench.contention as c; "
            "c.main(['--contention', '--scenarios', 'quiet,busy', '--functions', 'elu', '--dtypes', "
            "'float32', '--sizes', '1e3', '--budget', '0.002', '--min-calls', '2', '--quiet']); "
            "print('torch' in sys.modules)")
    # PyTorch's timed calls run in the peer process; relu_fast's imports it only for the
    # memory floor of the quiet relu cells
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()[-1] == "False"


# --roofline: each function against the memory floor of its bytes

@pytest.mark.parametrize("level", _dispatch.available_levels())
def test_floor_loop_writes_a_or_g_at_every_level(level):
    floor = _dispatch.load(level)._floor
    r = np.random.default_rng(1)
    for n in (0, 1, 31, 64, 65, 1000, 100_003):
        for off in (0, 1, 5):                       # y and the inputs unaligned, differently
            a = r.integers(0, 256, n + off, dtype=np.uint8)[off:]
            g = r.integers(0, 256, n + 3, dtype=np.uint8)[3:]
            for stream in (False, True):
                for nt in (1, 2):
                    y = np.zeros(n + 7, np.uint8)[7:]
                    floor(a, g, y, stream, True, nt)
                    assert np.array_equal(y, a | g)
                    y1 = np.empty_like(a)
                    assert floor(a, None, y1, stream, False, nt) == 0
                    assert np.array_equal(y1, a)
                    floor(y1, None, y1, stream, False, nt)            # in place
                    assert np.array_equal(y1, a)
    with pytest.raises(ValueError, match="same number of bytes"):
        floor(np.zeros(3, np.uint8), None, np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="nthreads"):
        floor(np.zeros(3, np.uint8), None, np.zeros(3, np.uint8), nthreads=0)


@pytest.mark.parametrize("func,mode", [("relu", "out"), ("relu", "inplace"),
                                       ("relu_backward", "out"), ("prelu", "alloc")])
def test_roofline_floor_covers_the_cells_bytes(func, mode):
    from relu_fast._bench import contenders, roofline
    r = np.random.default_rng(2)
    x, g = r.standard_normal(20_000, dtype=np.float32), r.standard_normal(20_000, dtype=np.float32)
    ops = contenders._operands(func, mode, x, g, None)
    floor = _dispatch.load(_api.kernel_level())._floor
    seen = []
    spy = lambda a, b, y, *rest: (seen.append((a, b, y)), floor(a, b, y, *rest))  # noqa: E731
    for call in roofline._floor_calls(func, mode, ops, spy, 2):
        seen.clear()
        call()
        raw = lambda name: ops[name].reshape(-1).view(np.uint8)  # noqa: E731
        if func == "prelu":                       # forward: x -> y; backward: g, x -> gx
            (a1, b1, y1), (a2, b2, y2) = seen
            assert a1 is a2 and np.array_equal(a1, raw("x")) and b1 is None
            assert np.array_equal(b2, raw("g")) and y1 is not y2
            assert np.array_equal(y2, raw("x") | raw("g"))
        else:
            (a, b, y), = seen
            assert np.shares_memory(y, ops["o"])  # the cell's own output array
            if mode == "inplace":
                assert np.shares_memory(a, ops["o"]) and b is None
            elif func == "relu_backward":
                assert np.shares_memory(a, ops["g"]) and np.shares_memory(b, ops["x"])
            else:
                assert np.shares_memory(a, ops["x"]) and b is None


def test_roofline_smoke_json_and_reread(tmp_path, capsys):
    from relu_fast._bench import roofline
    path = tmp_path / "roofline.json"
    assert _bench.main(["--roofline", "--functions", "relu,relu_backward,prelu", "--modes",
                        "out,inplace", "--json", str(path)] + TINY) == 0
    out = capsys.readouterr().out
    data = json.loads(path.read_text())
    res = data["results"]
    # relu: out and in place; relu_backward: out; prelu: its allocating cell; 2 sizes; 3 each
    assert len(res) == 4 * 2 * 3
    item = 4
    for r in res:
        mult = {"relu": 2, "relu_backward": 3, "prelu": 5}[r["function"]]
        assert r["bytes"] == mult * r["n"] * item
        assert r["median_s"] == statistics.median(r["samples_s"]) > 0
    cells = roofline.cells(res)
    assert len(cells) == 8
    for c in cells:
        row = {r["contender"]: r for r in res
               if (r["function"], r["n"], r["mode"]) == (c["function"], c["n"], c["mode"])}
        best = min(row["floor"]["median_s"], row["floor, streaming"]["median_s"])
        assert c["fraction"] == pytest.approx(best / row["relu_fast"]["median_s"])
        assert c["gbs"] == pytest.approx(row["relu_fast"]["bytes"] / row["relu_fast"]["median_s"] / 1e9)
    top = [c for c in cells if c["function"] == "relu" and c["mode"] == "out" and c["n"] == 2000]
    assert data["meta"]["bandwidth_gbs"] == pytest.approx(top[0]["floor_gbs"])
    assert "float32  (floor/rf" in out and "below 0.90 of the floor" in out
    assert _bench.main(["--roofline", "--from-json", str(path)]) == 0
    again = capsys.readouterr().out
    assert again.split("bandwidth", 1)[1] == out.split("bandwidth", 1)[1].split("\n\n(", 1)[0] + "\n"


# --fused: a bias fused into the activation against the add and the activation apart
def test_fused_smoke_json_and_reread(tmp_path, capsys):
    from relu_fast._bench import fused
    path = tmp_path / "fused.json"
    assert _bench.main(["--fused", "--functions", "relu,relu_backward", "--dtypes", "float32",
                        "--sizes", "64000", "--budget", "0.001", "--min-rounds", "3",
                        "--json", str(path)]) == 0
    out = capsys.readouterr().out
    res = json.loads(path.read_text())["results"]
    # 2 functions x 2 layouts, 4 contenders each
    assert len(res) == 2 * 2 * 4
    for r in res:
        assert r["bytes"] == {"relu": 2, "relu_backward": 3}[r["function"]] * r["n"] * 4
        assert r["median_s"] == statistics.median(r["samples_s"]) > 0
    cells = fused.cells(res)
    assert len(cells) == 4
    for c in cells:
        row = {r["contender"]: r for r in res
               if (r["function"], r["layout"]) == (c["function"], c["layout"])}
        assert c["speedup"] == pytest.approx(row["unfused"]["median_s"] / row["fused"]["median_s"])
        best = min(row["floor"]["median_s"], row["floor, streaming"]["median_s"])
        assert c["fraction"] == pytest.approx(best / row["fused"]["median_s"])
    assert "unfused/fused" in out and "cells short of them" in out
    assert _bench.main(["--fused", "--from-json", str(path)]) == 0
    assert capsys.readouterr().out.strip() == out.strip()


def test_fused_contenders_compute_the_same():
    """The timed calls: the fused call and the unfused pair give the same numbers."""
    from relu_fast._bench import fused
    rng = np.random.default_rng(0)
    for layout in fused.LAYOUTS:
        shape, axis = fused._shape(layout, 128000)
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape[axis]).astype(np.float32)
        for func in ("relu", "relu_backward"):
            fns, _ = fused._calls(func, x, g, b, axis, lambda *a: 0, 1)
            got, want = fns[0](), fns[1]()
            if func == "relu":
                assert np.array_equal(got, want)
            else:
                assert np.allclose(got[1], want, rtol=1e-4, atol=1e-3)
