"""Docstrings of the public API: every public name has numpydoc sections and examples,
and the examples run as doctests with the output they show.

The names come from relu_fast.__all__ and relu_fast.nn.__all__ (and the layers' public
methods), so a new public name without a docstring fails here.
"""
import doctest
import importlib
import inspect

import numpy as np
import pytest

import relu_fast
from relu_fast import _threads, nn

FUNCTIONS = [f"relu_fast.{name}" for name in relu_fast.__all__ if name != "__version__"]
NN_NAMES = [f"relu_fast.nn.{name}" for name in nn.__all__]
LAYERS = [name for name in nn.__all__ if inspect.isclass(getattr(nn, name))]


def _methods(cls):
    """Public methods of a layer class, inherited ones included, and __call__."""
    names = ["__call__"] + [n for n in dir(cls) if not n.startswith("_")]
    return [n for n in names if inspect.isfunction(getattr(cls, n, None))]


METHODS = [f"relu_fast.nn.{cls}.{m}" for cls in LAYERS for m in _methods(getattr(nn, cls))]
MODULES = ["relu_fast", "relu_fast.nn"]
NAMES = FUNCTIONS + NN_NAMES + METHODS

# Functions that return None, so have no Returns section: for compiled functions
# numpydoc cannot read the source to tell (see _validator_class).
RETURNS_NONE = {"relu_fast.set_num_threads"}

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _load(name):
    """The object a dotted name refers to (a module, then attributes)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for part in parts[k:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(name)


def _compiled(obj):
    """A Cython function (compiled with binding=True): not a Python function."""
    return inspect.isroutine(obj) and not inspect.isfunction(obj) and not inspect.ismethod(obj)


def test_the_lists_cover_the_api():
    # the parametrisations below must not run over empty or partial lists
    assert len(FUNCTIONS) == 53
    assert set(LAYERS) == {"ReLU", "LeakyReLU", "ELU", "PReLU", "ReLU6", "Hardtanh", "Threshold",
                           "Hardsigmoid", "Hardswish", "SELU", "CELU", "SiLU", "GELU", "Softplus",
                           "Mish", "RReLU"}
    for layer in LAYERS:
        for method in ("__call__", "forward", "backward", "parameters", "grads",
                       "saved_nbytes", "reset_activity"):
            assert f"relu_fast.nn.{layer}.{method}" in METHODS
    assert sum(_compiled(_load(n)) for n in FUNCTIONS) == 52    # all but limit_threads


@pytest.fixture
def process_state():
    """Put back the process-wide settings that examples change (threads, cache)."""
    threads = _threads._get_user_threads()
    limit = relu_fast.cache_info()["limit"]
    try:
        yield
    finally:
        _threads._restore_user_threads(threads)
        relu_fast.set_cache_limit(limit)


def _doctest(name):
    obj = _load(name)
    doc = obj.__doc__
    assert doc, f"{name} has no docstring"
    # built from __doc__ for every kind of object alike: compiled functions carry
    # their docstring (with the signature line embedsignature adds) there too
    return doctest.DocTestParser().get_doctest(doc, {}, name, None, 0)


def _run(test):
    """Run a DocTest; (failures, the runner's report)."""
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    # NumPy's default print options, whatever an earlier test set
    with np.printoptions(precision=8, threshold=1000, edgeitems=3, linewidth=75,
                         suppress=False, floatmode="maxprec", sign="-", legacy=False):
        runner.run(test, out=report.append)
    assert runner.tries == len(test.examples)
    return runner.failures, "".join(report)


@pytest.mark.parametrize("name", NAMES)
def test_examples_run(name, process_state):
    test = _doctest(name)
    assert test.examples, f"{name} has no examples"
    failures, report = _run(test)
    assert failures == 0, report


def test_a_wrong_example_output_fails():
    # the runner above does compare outputs: a docstring showing the wrong one fails
    doc = """Example.

    >>> import numpy as np, relu_fast as rf
    >>> rf.relu(np.array([-1.0, 2.0]))
    array([-1.,  2.])
    """
    failures, report = _run(doctest.DocTestParser().get_doctest(doc, {}, "wrong", None, 0))
    assert failures == 1 and "array([0., 2.])" in report


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if _compiled(_load(n))])
def test_doctest_finder_sees_compiled_functions(name):
    # binding=True makes Cython functions routines that DocTestFinder collects, so
    # `python -m doctest` style runners find the same examples as test_examples_run
    obj = _load(name)
    found = doctest.DocTestFinder(recurse=False).find(obj, name, module=False, globs={})
    assert len(found) == 1
    assert [e.source for e in found[0].examples] == [e.source for e in _doctest(name).examples]


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if _compiled(_load(n))])
def test_compiled_signatures(name):
    # numpydoc's PR01-PR03 compare the documented parameters with inspect.signature;
    # it must work on the compiled functions and agree with the embedded signature
    obj = _load(name)
    sig = inspect.signature(obj)
    assert obj.__doc__.splitlines()[0] == f"{obj.__name__}{sig}"


# The numpydoc checks this project holds every public docstring to.  Not checked:
# ES01 (an extended summary only where useful), SA01 (See Also only where useful),
# GL09 (nothing is deprecated).
CHECKED = {
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL10",
    "SS01", "SS02", "SS03", "SS04", "SS05", "SS06",
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR08", "PR09", "PR10",
    "RT01", "RT02", "RT03", "RT04", "RT05", "YD01",
    "SA02", "SA03", "SA04", "EX01",
}
# Cython stores a docstring stripped of its indentation and final newline, so where
# the closing quotes stood cannot be seen in a compiled function's __doc__.
NOT_FOR_COMPILED = {"GL02"}   # also for a Python wrapper of a Cython function (limit_threads)


def _validator_class():
    from numpydoc.docscrape import get_doc_object
    from numpydoc.validate import Validator

    class CompiledAwareValidator(Validator):
        """numpydoc's Validator, with Cython functions checked as functions.

        numpydoc takes only inspect.isfunction objects for functions, so it would skip
        SS05 and RT01-RT05 for every compiled function; and it reads a function's
        source to tell whether it returns something, which a compiled function has
        not: RETURNS_NONE says it instead."""

        def __init__(self, obj_name, doc=None):
            # doc: a docstring to check in place of the object's own (tests)
            self.qualified_name = obj_name
            super().__init__(get_doc_object(Validator._load_obj(obj_name), doc=doc))

        @property
        def is_function_or_method(self):
            return inspect.isfunction(self.obj) or _compiled(self.obj)

        @property
        def source_file_def_line(self):
            # numpydoc looks for the first def or class of the source, which
            # relu_fast/__init__.py has none of (StopIteration); the line only
            # places "numpydoc ignore" comments, which this project does not use
            try:
                return super().source_file_def_line
            except StopIteration:
                return None

        @property
        def method_returns_something(self):
            if _compiled(self.obj):
                return self.qualified_name not in RETURNS_NONE
            return super().method_returns_something

    return CompiledAwareValidator


@pytest.mark.parametrize("name", NAMES + MODULES)
def test_numpydoc_validation(name):
    validate = pytest.importorskip("numpydoc.validate")
    checked = CHECKED - NOT_FOR_COMPILED if _compiled(inspect.unwrap(_load(name))) else CHECKED
    result = validate.validate(name, validator_cls=_validator_class())
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in checked]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_validator_applies_function_checks_to_compiled_functions():
    # the subclass must not make the check vacuous: relu's docstring without its
    # Returns section is an RT01 and with `out` misnamed a PR01 and a PR02; an SS05
    # summary is caught; set_num_threads (returns None) needs no Returns section
    validate = pytest.importorskip("numpydoc.validate")
    cls = _validator_class()
    doc = relu_fast.relu.__doc__
    assert "\nReturns\n-------\n" in doc and "\nout : ndarray" in doc

    def codes(text):
        return {code for code, _ in validate.validate("relu_fast.relu", validator_cls=cls,
                                                      doc=text)["errors"]}

    assert not codes(doc) & (CHECKED - NOT_FOR_COMPILED)
    assert "RT01" in codes(doc.replace("\nReturns\n-------\n", "\nWarnings\n--------\n"))
    assert {"PR01", "PR02"} <= codes(doc.replace("\nout : ndarray", "\ny : ndarray"))
    assert "SS05" in codes(doc.replace("Apply the rectified", "Applies the rectified"))
    assert not cls("relu_fast.set_num_threads").method_returns_something
    assert cls("relu_fast.get_num_threads").method_returns_something


@pytest.mark.parametrize("name", NAMES)
def test_see_also_names_resolve(name):
    # Sphinx links See Also entries by name: each must be importable as written
    pytest.importorskip("numpydoc")
    from numpydoc.docscrape import NumpyDocString

    for refs, _ in NumpyDocString(inspect.getdoc(_load(name)))["See Also"]:
        for ref, _role in refs:
            assert ref.startswith("relu_fast."), f"{name}: See Also {ref} is not fully qualified"
            _load(ref)


@pytest.mark.parametrize("name", NAMES + MODULES)
def test_docstrings_are_valid_rst(name):
    # the Sphinx reference renders them: no reST warnings (unclosed markup, bad
    # indentation, broken tables); a compiled function's first line is the signature
    # embedsignature added, which autodoc takes off
    obj = _load(name)
    doc = inspect.getdoc(obj)
    # a "\b" or "\f" of LaTeX in a docstring that is not raw is a control character
    assert not [c for c in doc if ord(c) < 32 and c != "\n"], f"{name}: control characters"
    docutils_core = pytest.importorskip("docutils.core")
    if _compiled(obj):
        doc = doc.split("\n", 2)[2]
    docutils_core.publish_doctree(doc, settings_overrides={
        "halt_level": 2, "report_level": 2, "warning_stream": False})
