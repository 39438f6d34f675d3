"""Build the compiled parts of relu_fast.

One kernel source (src/relu_fast/_kernels.pxi) is compiled once per instruction-set
level into its own extension module; relu_fast._dispatch picks the best one the CPU
supports at import time.  The shipped build never targets the build machine's CPU.

Environment switches (all optional):
  RELU_FAST_NO_OPENMP=1   build without OpenMP (serial kernels)
  RELU_FAST_SANITIZE=1    build with AddressSanitizer + UndefinedBehaviorSanitizer
  RELU_FAST_NATIVE=1      add a fourth kernel module built for this CPU only
                          (benchmark comparison; never for a shipped wheel)
"""
import os
import platform
import subprocess
import sys
import tempfile
import textwrap

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PKG = "relu_fast"
SRC = os.path.join("src", PKG)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _is_msvc(compiler):
    return getattr(compiler, "compiler_type", "") == "msvc"


def _machine():
    m = platform.machine().lower()
    if m in ("x86_64", "amd64", "x86-64", "i686", "i386", "x86"):
        return "x86"
    return m


def _load_levels():
    """relu_fast/_levels.py, read without importing the package (it is not built yet)."""
    namespace = {}
    with open(os.path.join(SRC, "_levels.py")) as f:
        exec(compile(f.read(), f.name, "exec"), namespace)
    return namespace


LV = _load_levels()


def _levels():
    """{level: its declaration} of the kernel modules this build makes."""
    x86_64 = _machine() == "x86" and sys.maxsize > 2**32
    out = {name: lv for name, lv in LV["LEVELS"].items() if x86_64 or not lv["x86_64"]}
    if _env_flag("RELU_FAST_NATIVE"):
        out["native"] = LV["NATIVE"]
    return out


def _write_if_changed(path, text):
    """Generated sources are rewritten only when they change, so builds stay incremental."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


def _load_functions():
    """relu_fast/_functions.py (the declarations), read without importing the package."""
    namespace = {"__name__": "relu_fast_functions"}
    with open(os.path.join(SRC, "_functions.py")) as f:
        exec(compile(f.read(), f.name, "exec"), namespace)
    return namespace


def _api_stub():
    """Write _api.pyi and _api_train.pyi: their templates with the elementwise and mask
    overloads made from the declarations."""
    with open(os.path.join(SRC, "_api.pyi.in")) as f:
        template = f.read()
    overloads = _load_functions()["stub_overloads"]()
    assert "\n{elementwise}\n" in template
    _write_if_changed(os.path.join(SRC, "_api.pyi"),
                      template.replace("\n{elementwise}\n", "\n" + overloads + "\n", 1))
    with open(os.path.join(SRC, "_api_train.pyi.in")) as f:
        template = f.read()
    assert "\n{masks}\n" in template
    _write_if_changed(os.path.join(SRC, "_api_train.pyi"),
                      template.replace("\n{masks}\n", "\n" + _load_functions()["mask_stub_overloads"]() + "\n", 1))


def _kernel_shells(levels):
    """Write _kernels_<level>.pyx and .pyi for each level (the module name must be the file's)."""
    for name in levels:
        _write_if_changed(os.path.join(SRC, f"_kernels_{name}.pyx"), LV["SHELL"].format(level=name))
        _write_if_changed(os.path.join(SRC, f"_kernels_{name}.pyi"), LV["STUB"])


OPENMP_TEST = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d\\n", n > 0);
        return 0;
    }
    """
)


def _openmp_flags(compiler):
    """(compile_args, link_args) that enable OpenMP, or None if the compiler has none."""
    if _env_flag("RELU_FAST_NO_OPENMP"):
        return None
    if _is_msvc(compiler):
        return ["/openmp"], []
    if sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for cflags, lflags in candidates:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "omp_test.c")
            with open(src, "w") as f:
                f.write(OPENMP_TEST)
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                exe = os.path.join(tmp, "omp_test")
                compiler.link_executable(objs, exe, extra_postargs=lflags)
                out = subprocess.run([exe], capture_output=True, text=True, timeout=60)
                if out.returncode == 0 and out.stdout.strip() == "1":
                    return cflags, lflags
            except Exception:  # noqa: BLE001 - any failure means "no OpenMP here"
                pass
    print("relu_fast: the compiler has no working OpenMP; building serial kernels", file=sys.stderr)
    return None


# The kernel modules are one large translation unit each; gcc's inliner stops when a
# unit has grown by inline-unit-growth percent, and the small math helpers that must
# be inlined for ELU's loops to vectorise (expm1_reduced_fma) were the first left out;
# the per-element lanes of GELU and Softplus need max-inline-insns-single raised too.
# Not so far that the span dispatch (unary_span, binary_span, called once per block)
# is inlined into every driver as well: that doubled each module's compile time.
INLINE_FLAGS = ["--param", "inline-unit-growth=200", "--param", "max-inline-insns-single=500",
                "--param", "large-function-growth=400"]


def _accepts(compiler, flags):
    """Does the compiler take these flags (a tiny file compiled with them)?"""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "flags_test.c")
        with open(src, "w") as f:
            f.write("int relu_fast_flags_test(void) { return 0; }\n")
        try:
            compiler.compile([src], output_dir=tmp, extra_postargs=flags + ["-Werror"])
        except Exception:  # noqa: BLE001 - any failure means "not these flags"
            return False
    return True


def _check_toolchain(compiler, include_dirs):
    """Stop with a message a user can act on when there is no C compiler or no Python
    headers (instead of a compiler's traceback in the middle of the build)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "toolchain_test.c")
        with open(src, "w") as f:
            f.write("#include <Python.h>\nint relu_fast_toolchain_test(void) { return 0; }\n")
        try:
            compiler.compile([src], output_dir=tmp, include_dirs=include_dirs)
        except Exception as e:  # noqa: BLE001 - any failure: say what is missing
            raise SystemExit(
                "relu_fast: cannot compile its C extensions here: a C compiler and the "
                "Python development headers are needed (Debian/Ubuntu: apt-get install "
                "gcc python3-dev; Fedora: dnf install gcc python3-devel; macOS: "
                "xcode-select --install; Windows: Microsoft C++ Build Tools).  "
                f"The test compile said: {e}") from None


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:          # one compiler per CPU unless -j/--parallel says otherwise
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        _check_toolchain(self.compiler, self.include_dirs or [])
        msvc = _is_msvc(self.compiler)
        omp = _openmp_flags(self.compiler)
        inline = [] if msvc or not _accepts(self.compiler, INLINE_FLAGS) else INLINE_FLAGS
        sanitize = _env_flag("RELU_FAST_SANITIZE") and not msvc
        for ext in self.extensions:
            level = KERNEL_MODULES.get(ext.name)
            cflags, lflags = [], []
            if msvc:
                cflags += ["/O2", "/fp:precise"]
                if level:
                    cflags += level["msvc"]
            else:
                cflags += ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
                           "-Wno-unused-function", "-Wno-unreachable-code"]
                if level:
                    cflags += level["gcc"] + inline
                if sanitize:
                    cflags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"]
                    lflags += ["-fsanitize=address,undefined"]
            if omp is not None:
                cflags += omp[0]
                lflags += omp[1]
            ext.extra_compile_args = cflags + list(ext.extra_compile_args or [])
            ext.extra_link_args = lflags + list(ext.extra_link_args or [])
        super().build_extensions()


def _ext(name, source):
    return Extension(
        f"{PKG}.{name}",
        [os.path.join(SRC, source)],
        include_dirs=[numpy.get_include(), SRC],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )


LEVELS = _levels()
_kernel_shells(LEVELS)
_api_stub()
# module name -> its level's declaration (flags), for BuildExt
KERNEL_MODULES = {f"{PKG}._kernels_{name}": lv for name, lv in LEVELS.items()}
extensions = [_ext(f"_kernels_{name}", f"_kernels_{name}.pyx") for name in LEVELS]
extensions += [_ext("_cpu", "_cpu.pyx"), _ext("_memory", "_memory.pyx"), _ext("_threads", "_threads.pyx"),
               _ext("_args", "_args.pyx"), _ext("_api", "_api.pyx"), _ext("_api_train", "_api_train.pyx")]

def _cython_jobs():
    """Processes for Cython's translation (serial, it is a third of the build on two
    cores).  cythonize's pool re-imports this script in each worker unless the workers
    are forked, so only where fork is the default start method (Linux before Python
    3.14); elsewhere serial."""
    import multiprocessing
    forked = (sys.platform.startswith("linux") and sys.version_info < (3, 14)
              and multiprocessing.get_start_method(allow_none=True) in (None, "fork"))
    return (os.cpu_count() or 1) if forked else 0


setup(
    ext_modules=cythonize(
        extensions,
        nthreads=_cython_jobs(),
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False, "binding": True,
                             "embedsignature": True},
        include_path=["src"],
    ),
    cmdclass={"build_ext": BuildExt},
)
