"""Every code block of README.md and docs/*.rst runs as written.

- README.md: each ```python block is executed (in a fresh namespace); every fence must
  name its language, and shell fences (console, bash, sh, shell) are not run, but each
  ``python -m relu_fast ...`` command they name must exist: its ``--help`` returns 0 and
  each ``--option`` it passes appears in that help text.
- docs/*.rst: each ``.. code-block:: python`` is executed; each ``>>>`` doctest block is
  run by doctest and its output compared; shell code-blocks (console, bash, shell) are
  checked like the README's.
- The README's contention table is exactly what tools/contention_table.py prints for
  the committed docs/contention.json.
- The README's speed table is exactly what tools/readme_speed_table.py prints for the
  committed docs/bench.json, and its roofline table what tools/roofline_table.py prints
  for docs/roofline.json.

A block that needs an optional package (dask, matplotlib, torch) that is not installed
is skipped; any other exception fails its test.
"""
import doctest
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
OPTIONAL = {"dask", "distributed", "matplotlib", "torch"}
SHELL = {"console", "bash", "sh", "shell"}

if not README.exists() or not (DOCS / "conf.py").exists():
    pytest.skip("README.md and docs/ are not next to the tests here", allow_module_level=True)


# -- extracting blocks -----------------------------------------------------------------

def markdown_fences(text):
    """[(language, code, line)] of the ``` fences of a markdown text."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if m:
            start, lang, body = i + 1, m.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((lang, "\n".join(body) + "\n", start + 1))
        i += 1
    return out


def rst_code_blocks(text):
    """[(language, code, line)] of the ``.. code-block::`` directives of an rst text."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(\s*)\.\. code-block::\s*(\S+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, lang = len(m.group(1)), m.group(2)
        i += 1
        while i < len(lines) and re.match(r"^\s+:\w[\w-]*:", lines[i]):   # options
            i += 1
        body, start = [], i + 1
        while i < len(lines) and (not lines[i].strip() or
                                  len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        width = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
        out.append((lang, "\n".join(l[width:] for l in body) + "\n", start))
    return out


def rst_doctest_blocks(text):
    """[(code, line)]: paragraphs of an rst text that start with '>>> ' at the margin."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if lines[i].startswith(">>> "):
            start, body = i + 1, []
            while i < len(lines) and lines[i].strip():
                body.append(lines[i])
                i += 1
            out.append(("\n".join(body) + "\n", start))
        i += 1
    return out


def _rst_files():
    return sorted(p for p in DOCS.glob("*.rst"))


def _id(path, line):
    return f"{path.name}:{line}"


PYTHON_BLOCKS, DOCTEST_BLOCKS, SHELL_BLOCKS = [], [], []
for _lang, _code, _line in markdown_fences(README.read_text(encoding="utf-8")):
    if _lang == "python":
        PYTHON_BLOCKS.append(pytest.param(_code, id=_id(README, _line)))
    elif _lang in SHELL:
        SHELL_BLOCKS.append(pytest.param(_code, id=_id(README, _line)))
for _path in _rst_files():
    _text = _path.read_text(encoding="utf-8")
    for _lang, _code, _line in rst_code_blocks(_text):
        if _lang == "python":
            PYTHON_BLOCKS.append(pytest.param(_code, id=_id(_path, _line)))
        elif _lang in SHELL:
            SHELL_BLOCKS.append(pytest.param(_code, id=_id(_path, _line)))
    for _code, _line in rst_doctest_blocks(_text):
        DOCTEST_BLOCKS.append(pytest.param(_code, id=_id(_path, _line)))


# -- running them ------------------------------------------------------------------------

def run_python_block(code, name="<block>"):
    """Execute a block in a fresh namespace, in a scratch directory (blocks may write files)."""
    try:
        exec(compile(code, name, "exec"), {"__name__": "__doc_block__"})
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"needs {e.name}")
        raise


def run_doctest_block(code, name="<doctest>"):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(code, {}, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    return runner.summarize(verbose=False), "".join(out)


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_python_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_python_block(code)


@pytest.mark.parametrize("code", DOCTEST_BLOCKS)
def test_doctest_block(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results, report = run_doctest_block(code)
    assert results.attempted > 0
    assert results.failed == 0, report


def test_the_blocks_were_found():
    # the README has its usage and training blocks; the docs have blocks of each kind
    assert len([p for p in PYTHON_BLOCKS if p.id.startswith("README")]) >= 2
    assert len(PYTHON_BLOCKS) >= 10 and len(DOCTEST_BLOCKS) >= 2 and len(SHELL_BLOCKS) >= 5


def test_a_failing_block_fails():
    with pytest.raises(ZeroDivisionError):
        run_python_block("x = 1 / 0\n")
    results, _ = run_doctest_block(">>> 1 + 1\n3\n")
    assert results.failed == 1
    results, _ = run_doctest_block(">>> 1 + 1\n2\n")
    assert results.failed == 0


def test_every_readme_fence_names_its_language():
    untagged = [line for lang, _code, line in markdown_fences(README.read_text(encoding="utf-8"))
                if not lang]
    assert not untagged, f"README.md fences without a language at lines {untagged}"


# -- shell blocks: the relu_fast commands they name exist ------------------------------------

STOP = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&"}


def relu_fast_commands(code):
    """Argument lists of each ``python -m relu_fast ...`` in a shell block."""
    commands = []
    for line in code.split("\n"):
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i in range(len(tokens) - 2):
            if (tokens[i] in ("python", "python3") and tokens[i + 1] == "-m"
                    and tokens[i + 2] == "relu_fast"):
                args = []
                for t in tokens[i + 3:]:
                    if t in STOP or t.startswith(">"):
                        break
                    args.append(t)
                commands.append(args)
    return commands


_HELP = {}


def help_text(prefix):
    key = tuple(prefix)
    if key not in _HELP:
        p = subprocess.run([sys.executable, "-m", "relu_fast", *prefix, "--help"],
                           capture_output=True, text=True, timeout=120)
        _HELP[key] = (p.returncode, p.stdout + p.stderr)
    return _HELP[key]


def check_command(args):
    """None if ``python -m relu_fast *args`` names a real subcommand and options, else why not."""
    prefix = []
    if args and not args[0].startswith("-"):
        prefix.append(args[0])
    if "--contention" in args:
        prefix.append("--contention")
    rc, text = help_text(prefix)
    if rc != 0:
        return f"`python -m relu_fast {' '.join(prefix)} --help` returned {rc}: {text[-500:]}"
    for a in args[len(prefix[:1]):]:
        if a.startswith("-"):
            opt = a.split("=", 1)[0]
            if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
                return f"{opt} is not an option of `python -m relu_fast {' '.join(prefix)}`"
    return None


@pytest.mark.parametrize("code", SHELL_BLOCKS)
def test_shell_block_commands_exist(code):
    problems = [(args, why) for args in relu_fast_commands(code)
                for why in [check_command(args)] if why]
    assert not problems, problems


def test_a_wrong_command_is_caught():
    assert relu_fast_commands("$ RELU_FAST_MAX_LEVEL=baseline python -m relu_fast bench "
                              "--levels > out.txt   # comment") == [["bench", "--levels"]]
    assert check_command(["bench", "--levels"]) is None
    assert check_command([]) is None
    assert check_command(["bench", "--no-such-option"]) is not None
    assert check_command(["no-such-command"]) is not None


# -- the README's speed table is the generator's output ----------------------------------------

def _tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return mod


def test_readme_speed_table_is_generated():
    tool = _tool("readme_speed_table")
    readme = README.read_text(encoding="utf-8")
    generated = tool.table(str(DOCS / "bench.json"))
    assert tool.BEGIN in readme and tool.END in readme
    assert tool.embedded(readme) == generated, (
        "README.md's speed table differs from `python tools/readme_speed_table.py "
        "docs/bench.json`; regenerate it with `--write README.md`")
    assert tool.replace(readme, generated) == readme


@pytest.mark.parametrize("name,data", [("contention_table", "contention.json"),
                                       ("roofline_table", "roofline.json")])
def test_readme_block_is_generated(name, data):
    tool = _tool(name)
    readme = README.read_text(encoding="utf-8")
    generated = tool.table(str(DOCS / data))
    assert tool.BEGIN in readme and tool.END in readme
    assert tool.speed.embedded(readme, tool.BEGIN, tool.END) == generated, (
        f"README.md's block between {tool.BEGIN} and {tool.END} differs from `python "
        f"tools/{name}.py docs/{data}`; regenerate it with `--write README.md`")


def test_speed_table_comes_from_the_json(tmp_path):
    # a changed median in the JSON changes the table; a missing JSON is a clear error
    import json
    tool = _tool("readme_speed_table")
    data = json.loads((DOCS / "bench.json").read_text())
    for r in data["results"]:
        if (r["function"], r["dtype"], r["mode"], r["n"], r["contender"]) == \
                ("relu", "float32", "out", 100, "relu_fast"):
            r["median_s"] *= 2
    changed = tmp_path / "bench.json"
    changed.write_text(json.dumps(data))
    assert tool.table(str(changed)) != tool.table(str(DOCS / "bench.json"))
    with pytest.raises(SystemExit, match="missing"):
        tool.main([str(tmp_path / "nothing.json")])
