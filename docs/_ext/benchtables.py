"""Sphinx directives that turn saved benchmark JSON into the performance page's tables.

    .. bench-meta::                      the run's machine, versions, date (docs/bench.json)
    .. bench-summary:: float32           the chosen cells, median / p90 per contender, ratios
    .. bench-full:: float64              every function, mode and size of the run
       :source: another run's JSON in docs/ (bench-meta and bench-full; default bench.json)
    .. contention-meta::                 the contention run's machine and date
    .. contention-table::                median / p90 per scenario, call and size
    .. contention-summary::              the run's ratios against one thread and the floor
       :dtypes: float32                  (default: both)
       :functions: relu prelu            (default: all)
       :source: another JSON file in docs/ (default: contention.json)
    .. roofline-meta::                   the roofline run's machine, level, threads, date
    .. roofline-summary::                its bandwidth and the cells below the target
    .. roofline-table::                  every cell: median / p90, floor, fraction, GB/s
       :dtypes: float32                  (default: both)
       :source: another JSON file in docs/ (default: roofline.json)
    .. accuracy-table::                  max / p99 ulp error per function, dtype and level
                                         (docs/accuracy.json, from tools/accuracy.py)
    .. bench16-table::                   a 16-bit run's cells against float32, PyTorch's
       :source: bench16.json             16-bit tensors and NumPy float16

The numbers come from the JSON at build time (tools/bench_tables.py reads it); the
build stops with a clear message if docs/bench.json is missing.
"""
import os
import sys

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.errors import ConfigError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_tables as bt  # noqa: E402


def _list_table(header, rows, widths=None):
    lines = [".. list-table::", "   :header-rows: 1", "   :class: bench-table", ""]
    for row in [header] + rows:
        lines.append("   * - " + (str(row[0]) or " "))
        lines += ["     - " + (str(c) or " ") for c in row[1:]]
    return lines


class _Base(Directive):
    def _docs_path(self, name):
        env = self.state.document.settings.env
        env.note_dependency(os.path.join(env.srcdir, name))
        return os.path.join(env.srcdir, name)

    option_spec = {"source": directives.unchanged}

    def _bench(self):
        try:
            return bt.load_bench(self._docs_path(self.options.get("source", "bench.json")))
        except bt.BenchDataError as e:
            raise self.severe(str(e))

    def _run(self, default, load):
        """(file name, data) of the run named by :source: (else `default`), by `load`."""
        name = self.options.get("source", default)
        try:
            return name, load(self._docs_path(name))
        except bt.BenchDataError as e:
            raise self.severe(str(e))

    def _contention(self):
        return self._run("contention.json", bt.load_contention)

    def _render(self, lines):
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source="<benchtables>"), self.content_offset, node)
        return node.children


class BenchMeta(_Base):
    def run(self):
        meta, results = self._bench()
        n_unsteady, n_cells = bt.unsteady_cells(results)
        sizes = sorted({r["n"] for r in results})
        text = (f"Run recorded in ``docs/{self.options.get('source', 'bench.json')}``: "
                f"{bt.meta_text(meta)}.  "
                f"{n_cells} cells (sizes {bt.size(sizes[0])} to {bt.size(sizes[-1])}); "
                f"{n_unsteady} stayed unsteady in all three attempts (marked ``!``).  "
                f"Command: ``python -m relu_fast bench {' '.join(meta.get('argv', []))}``.")
        return self._render([text])


class BenchSummary(_Base):
    required_arguments = 1

    def run(self):
        _meta, results = self._bench()
        dtype = self.arguments[0]
        rows = bt.summary_rows(results, dtype, peers_in_label=False)
        if not rows:
            raise self.severe(f"docs/bench.json has no {dtype} cells of the summary")
        legend = ["", "The peers of each call:", ""]
        for rf_call, calls in bt.peer_calls(results, dtype):
            legend.append(f"- ``{rf_call}``: " + "; ".join(f"{name} ``{c}``" for name, c in calls.items()))
        return self._render(_list_table(bt.summary_header(), rows) + legend)


class BenchFull(_Base):
    required_arguments = 1

    def run(self):
        _meta, results = self._bench()
        dtype = self.arguments[0]
        lines = []
        for func, mode, by_n in bt.groups(results, dtype):
            sizes = tuple(sorted(by_n))
            rows = bt.summary_rows(results, dtype, ((func, mode, sizes),), peers_in_label=False)
            title = "prelu + prelu_backward (C=100)" if func == "prelu" else func
            (rf_call, calls), = bt.peer_calls(results, dtype, ((func, mode, sizes),))
            lines += [f".. rubric:: {title}, {dtype}, {bt.MODE_NAMES.get(mode, mode)}", "",
                      "Peers: " + ("; ".join(f"{name} ``{c}``" for name, c in calls.items())
                                   or "none") + ".", ""]
            lines += _list_table(bt.summary_header(), rows) + [""]
        if not lines:
            raise self.severe(f"docs/bench.json has no {dtype} cells")
        return self._render(lines)


class ContentionMeta(_Base):
    option_spec = {"source": directives.unchanged}

    def run(self):
        name, data = self._contention()
        txt = os.path.splitext(name)[0] + ".txt"
        date = bt.text_header_date(self._docs_path(txt))
        if date is None:
            raise self.severe(f"docs/{txt} (the text output of the run in docs/{name}) has no date")
        policy = data.get("policy", {})
        fell = "; ".join(f"{bt.SCENARIOS.get(k, k)}: {v['fallbacks']} fallbacks to one thread, "
                         f"{v['serialised_calls']} calls serialised"
                         + (f", {v['cold_serial_calls']} on one thread as the team was asleep"
                            if "cold_serial_calls" in v else "") for k, v in policy.items())
        text = (f"Run recorded in ``docs/{name}`` (date from ``docs/{txt}``): machine "
                f"{data.get('machine', '?')}, {date}; {len(data['results'])} cells."
                + (f"  The default policy's record: {fell}." if fell else ""))
        return self._render([text])


class ContentionTable(_Base):
    option_spec = {"dtypes": directives.unchanged, "functions": directives.unchanged,
                   "source": directives.unchanged}

    def run(self):
        name, data = self._contention()
        dtypes = tuple(self.options.get("dtypes", "float32 float64").split())
        functions = tuple(self.options.get("functions", "").split()) or None
        rows = bt.contention_rows(data, dtypes, functions)
        if not rows:
            raise self.severe(f"docs/{name} has no cells for {dtypes} {functions or ''}")
        return self._render(_list_table(bt.CONTENTION_HEADER, rows))


class ContentionSummary(_Base):
    option_spec = {"source": directives.unchanged}

    def run(self):
        name, data = self._contention()
        return self._render(["- " + line for line in bt.contention_summary(data)])


class _Roofline(_Base):
    option_spec = {"dtypes": directives.unchanged, "source": directives.unchanged}

    def _roofline(self):
        return self._run("roofline.json", bt.load_roofline)


class RooflineMeta(_Roofline):
    def run(self):
        name, data = self._roofline()
        m = data["meta"]
        return self._render([f"Run recorded in ``docs/{name}``: machine {m['machine']}, "
                             f"kernels {m['kernel_level']}, {m['threads']} threads, {m['date']}; "
                             f"{len(data['cells'])} cells, each the median of at least "
                             f"{m['min_rounds']} rounds."])


class RooflineSummary(_Roofline):
    def run(self):
        _name, data = self._roofline()
        return self._render(["- " + line for line in bt.roofline_summary(data)])


class RooflineTable(_Roofline):
    def run(self):
        name, data = self._roofline()
        dtypes = tuple(self.options.get("dtypes", "float32 float64").split())
        rows = bt.roofline_rows(data, dtypes)
        if not rows:
            raise self.severe(f"docs/{name} has no {' or '.join(dtypes)} cells")
        return self._render(_list_table(bt.ROOFLINE_HEADER, rows))


def _check_data(app):
    path = os.path.join(app.srcdir, "bench.json")
    if not os.path.exists(path):
        msg = (f"docs/bench.json is missing ({path}): the performance page's tables are generated "
               "from it at build time.  Restore it (git checkout docs/bench.json) or make a new one "
               "with `python -m relu_fast bench --json docs/bench.json --plot docs/bench.png`.")
        sys.stderr.write(f"\nERROR: {msg}\n\n")   # first, before Sphinx's crash report
        raise ConfigError(msg)


class AccuracyTable(_Base):
    def run(self):
        import json
        with open(self._docs_path("accuracy.json")) as f:
            data = json.load(f)
        m = data["meta"]
        levels = sorted({r["level"] for r in data["rows"]}, key=["baseline", "avx2", "avx512"].index)
        cells = {(r["function"], r["dtype"], r["level"]): r for r in data["rows"]}
        funcs = list(dict.fromkeys(r["function"] for r in data["rows"]))
        rows = []
        for fn in funcs:
            for dt in ("float32", "float64"):
                got = [cells.get((fn, dt, lv)) for lv in levels]
                if not any(got):
                    continue
                pts = max(c["points"] for c in got if c)
                rows.append([f"``{fn}``", dt, f"{pts:,}"] +
                            [f"{c['max_ulp']:.2f} / {c['p99_ulp']:.2f}" if c else "" for c in got])
        left = "".join(f"; ``{k}`` leaves out x within {w} of {c}" for k, (c, w) in
                       m.get("excluded", {}).items())
        text = (f"Measured by ``tools/accuracy.py`` ({m['date']}, {m['machine']}, "
                f"{m['seconds']} s): max / p99 error in ulp of the exact value, "
                f"grad_output = 1 for the gradients{left}.")
        return self._render([text, ""] + _list_table(["function", "dtype", "points"] + levels, rows))


class Bench16Table(_Base):
    """Every 16-bit cell of a run against float32, PyTorch and NumPy float16."""
    def run(self):
        _meta, results = self._bench()
        rows = bt.sixteen_bit_rows(results)
        if not rows:
            raise self.severe("the run has no float16 or bfloat16 cells")
        return self._render(_list_table(bt.SIXTEEN_HEADER, rows))


def setup(app):
    app.connect("builder-inited", _check_data)
    app.add_directive("bench-meta", BenchMeta)
    app.add_directive("bench-summary", BenchSummary)
    app.add_directive("bench-full", BenchFull)
    app.add_directive("contention-meta", ContentionMeta)
    app.add_directive("roofline-meta", RooflineMeta)
    app.add_directive("roofline-summary", RooflineSummary)
    app.add_directive("roofline-table", RooflineTable)
    app.add_directive("contention-table", ContentionTable)
    app.add_directive("contention-summary", ContentionSummary)
    app.add_directive("accuracy-table", AccuracyTable)
    app.add_directive("bench16-table", Bench16Table)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
