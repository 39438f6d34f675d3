#!/usr/bin/env bash
# Build relu_fast with clang and LLVM's OpenMP (libomp) -- the compiler family of the macOS
# wheels -- in a fresh venv, and run the whole test suite on every kernel level
# (RELU_FAST_TESTS: those test files instead of tests/).
# Needs Debian's clang and libomp-dev (installed here if missing, which needs root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive   # package lists may be stale on a new machine: update, retry
    apt-get install -y -q clang libomp-dev >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q clang libomp-dev >/dev/null; }
fi
clang --version | head -1
python3 -m venv "$work/venv"
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | (mkdir "$work/src" && tar -xf - -C "$work/src")
cd "$work/src"
CC=clang LDSHARED="clang -shared" "$work/venv/bin/python" -m pip install -q ".[test]"
# the build must have found clang's OpenMP, not fallen back to serial kernels
(cd "$work" && "$work/venv/bin/python" -c "
from relu_fast import _api
assert _api.HAVE_OPENMP, 'the clang build fell back to serial kernels (no OpenMP found)'")
for level in $(cd "$work" && "$work/venv/bin/python" -c \
        "from relu_fast import _dispatch; print(' '.join(_dispatch.available_levels()))"); do
    echo "-- clang build, RELU_FAST_MAX_LEVEL=$level"
    RELU_FAST_MAX_LEVEL=$level "$work/venv/bin/python" -m pytest ${RELU_FAST_TESTS:-tests} -q -p no:cacheprovider -x | tail -1
done
