"""Print the requirements of some of relu_fast's extras (pyproject.toml), one per line,
with the extras they name (``relu_fast[test]``) expanded: CI installs an extra's
dependencies into a venv that already holds the package without building it again.

    python tools/extras.py dev dask demo
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def requirements(extras, table):
    out, seen = [], set()

    def add(extra):
        if extra in seen:
            return
        if extra not in table:
            raise SystemExit(f"extras.py: pyproject.toml has no extra {extra!r}")
        seen.add(extra)
        for req in table[extra]:
            own = re.fullmatch(r"relu_fast\[([^\]]+)\]", req.replace(" ", ""))
            if own:
                for e in own.group(1).split(","):
                    add(e)
            elif req not in out:
                out.append(req)

    for extra in extras:
        add(extra)
    return out


def main(argv):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    print("\n".join(requirements(argv, project["optional-dependencies"])))


if __name__ == "__main__":
    main(sys.argv[1:])
