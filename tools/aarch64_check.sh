#!/usr/bin/env bash
# Build relu_fast for aarch64 and run its whole test suite there, from an x86-64 Linux
# machine: a Debian 12 arm64 chroot made by debootstrap, its programs run by qemu-user
# through binfmt_misc.  The build inside is a real aarch64 build (Debian's gcc 12 for
# arm64, OpenMP, the baseline kernel level); only its speed is not real.
#
# Needs root and Debian's packages (installed here if missing).  About 20 minutes here,
# most of it the emulated test suite.  Usage:
#   sudo bash tools/aarch64_check.sh            # whole suite
#   sudo bash tools/aarch64_check.sh -k relu    # extra arguments go to pytest
#   RELU_FAST_TESTS="tests/test_levels.py tests/test_half.py" sudo -E bash tools/aarch64_check.sh
#                                               # those test files instead of tests/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
sysroot=$work/arm64
t0=$(date +%s)
say() { echo "-- $* [$(( $(date +%s) - t0 )) s]"; }

# binfmt_misc first, so that the packages register qemu there when they install
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if ! command -v debootstrap >/dev/null || [ ! -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ]; then
    export DEBIAN_FRONTEND=noninteractive   # package lists may be stale on a new machine: update, retry
    apt-get install -y -q qemu-user-static binfmt-support debootstrap >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q qemu-user-static binfmt-support debootstrap >/dev/null; }
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64

say "debootstrap: Debian 12 arm64 (python3, gcc, libgomp) into $sysroot"
debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-venv,python3-dev,gcc,libc6-dev,libgomp1 \
    bookworm "$sysroot" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }

say "aarch64 wheels of the build and test requirements (fetched on the host)"
python -m pip download -q -d "$sysroot/wheels" --python-version 3.11 --implementation cp \
    --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 --only-binary=:all: \
    numpy "cython>=3,<4" pytest pytest-xdist hypothesis threadpoolctl ml_dtypes "setuptools>=77" wheel
mkdir "$sysroot/src"
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$sysroot/src"

mount -t proc proc "$sysroot/proc"
mount --bind /dev "$sysroot/dev"
cleanup() {   # never delete through a mount that is still there (the host's /dev)
    local m
    for m in "$sysroot/dev" "$sysroot/proc"; do   # a test's child may still be exiting: retry,
        mountpoint -q "$m" || continue             # then detach lazily (gone from the tree at once)
        umount "$m" 2>/dev/null || { sleep 3; umount "$m" 2>/dev/null; } || umount -l "$m" || true
    done
    if mountpoint -q "$sysroot/dev" || mountpoint -q "$sysroot/proc"; then
        echo "aarch64_check: $sysroot/dev or /proc still mounted; $work left in place" >&2
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT

in_arm64() {   # a clean environment: no host pip settings, no host PATH
    chroot "$sysroot" /usr/bin/env -i HOME=/root PATH=/venv/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
}
in_arm64 python3 -m venv /venv
in_arm64 pip install -q --no-index --find-links /wheels numpy cython pytest pytest-xdist hypothesis threadpoolctl ml_dtypes \
    "setuptools>=77" wheel   # the venv's own setuptools (66) predates SPDX license expressions
say "build (emulated gcc, aarch64)"
in_arm64 sh -c "cd /src && pip install -q --no-build-isolation --no-index --find-links /wheels ."
in_arm64 sh -c "cd / && python -c 'import platform; print(platform.machine())' && python -m relu_fast"
say "the tests on aarch64: ${RELU_FAST_TESTS:-tests}"
# (no arguments: none -- printf '%q' of nothing is '', which pytest reads as the cwd, all of it)
extra=$([ $# -gt 0 ] && printf '%q ' "$@" || true)
# one emulated pytest process per host CPU (qemu-user runs each on one core)
jobs=$(nproc); [ "$jobs" -gt 1 ] && extra="-n $jobs $extra"
in_arm64 sh -c "cd /src && python -m pytest ${RELU_FAST_TESTS:-tests} -q -p no:cacheprovider $extra"
say "aarch64 check done"
