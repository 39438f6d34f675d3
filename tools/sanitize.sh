#!/usr/bin/env bash
# Build relu_fast with AddressSanitizer + UndefinedBehaviorSanitizer
# (RELU_FAST_SANITIZE=1, see setup.py) in a fresh virtual environment and run the
# whole test suite under it.  Exits non-zero if a test fails or if either
# sanitizer reports anything (in the test process or in any child process).
#
#   tools/sanitize.sh                 # whole suite
#   tools/sanitize.sh -k fuzz -x      # extra arguments go to pytest
#   RELU_FAST_TESTS="tests/test_levels.py" tools/sanitize.sh   # those files instead of tests/
#
# Linux with gcc or clang.  Environment: CC (compiler, default gcc), PYTHON
# (default python3), KEEP_VENV=1 keeps the venv and logs (their path is printed).
#
# Notes
# - CPython is not instrumented, so the ASan runtime must be loaded first:
#   LD_PRELOAD=libasan (+ libubsan), located with `$CC -print-file-name`.
# - detect_leaks=0: CPython keeps its own allocations alive at exit, and LeakSanitizer
#   cannot tell those from ours; leaks are covered by tests/test_memory.py.
# - PYTHONMALLOC=malloc: Python objects go through the instrumented malloc too, so a
#   use-after-free of an object (a refcount bug) is caught.
# - UBSan halts on the first report (halt_on_error=1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}

work=$(mktemp -d "${TMPDIR:-/tmp}/relu_fast_sanitize.XXXXXX")
cleanup() { if [ "${KEEP_VENV:-0}" != 1 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
venv=$work/venv
logs=$work/logs
mkdir -p "$logs"

echo "== sanitizer runtimes ($CC)"
asan=$("$CC" -print-file-name=libasan.so)
ubsan=$("$CC" -print-file-name=libubsan.so)
for lib in "$asan" "$ubsan"; do
    if [ ! -e "$lib" ]; then
        echo "sanitize.sh: $CC has no $(basename "$lib"); install its sanitizer runtime" >&2
        exit 2
    fi
done
asan=$(readlink -f "$asan")
ubsan=$(readlink -f "$ubsan")
echo "$asan"
echo "$ubsan"

echo "== fresh venv: $venv"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q numpy "Cython>=3,<4" "setuptools>=77" wheel pytest hypothesis threadpoolctl ml_dtypes

echo "== build with RELU_FAST_SANITIZE=1"
# from a copy of the sources (tracked and new files, not ignored ones): no stale
# objects or in-place extensions of a normal build can end up in this one
mkdir -p "$work/src"
if git -C "$root" rev-parse --git-dir > /dev/null 2>&1; then
    git -C "$root" ls-files -z -co --exclude-standard | tar -C "$root" --null -cf - -T - | tar -C "$work/src" -xf -
else
    tar -C "$root" --exclude='./.venv*' --exclude=./build --exclude='*.so' -cf - . | tar -C "$work/src" -xf -
fi
(cd "$work/src" && CC=$CC RELU_FAST_SANITIZE=1 "$venv/bin/python" -m pip install -q --no-build-isolation .)
so=$(cd "$work" && "$venv/bin/python" -c "import relu_fast._api as m; print(m.__file__)" 2>/dev/null || true)
if [ -z "$so" ]; then
    # importing needs the runtime preloaded once the extension is instrumented
    so=$(cd "$work" && LD_PRELOAD="$asan $ubsan" ASAN_OPTIONS=detect_leaks=0 \
         "$venv/bin/python" -c "import relu_fast._api as m; print(m.__file__)")
fi
linked=$(ldd "$so")
if ! grep -q libasan <<< "$linked"; then
    echo "sanitize.sh: $so is not linked with ASan: RELU_FAST_SANITIZE had no effect" >&2
    exit 2
fi

echo "== tests under ASan + UBSan"
status=0
(
    cd "$root"
    export LD_PRELOAD="$asan $ubsan"
    export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=99:log_path=$logs/asan:allocator_may_return_null=1:detect_stack_use_after_return=0"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98:log_path=$logs/ubsan"
    export PYTHONMALLOC=malloc
    export RELU_FAST_SANITIZER_RUN=1
    "$venv/bin/python" -m pytest ${RELU_FAST_TESTS:-tests} -q -p no:cacheprovider "$@"
) || status=$?

reports=$(find "$logs" -type f -size +0 | sort)
if [ -n "$reports" ]; then
    echo "== sanitizer reports"
    for f in $reports; do
        echo "--- $f"
        cat "$f"
    done
    [ "$status" = 0 ] && status=1
fi
if [ "${KEEP_VENV:-0}" = 1 ]; then
    echo "(kept: $work)"
fi
if [ "$status" = 0 ]; then
    echo "== sanitizer run clean"
else
    echo "== sanitizer run FAILED (status $status)"
fi
exit "$status"
