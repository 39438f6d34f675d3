"""Sphinx configuration of relu_fast's documentation.

Build (offline; the docs extra installs Sphinx, the PyData theme and numpydoc):

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs /tmp/html

The API pages are rendered from the installed package's docstrings, so install
relu_fast first.  The performance page's tables are generated at build time from
docs/bench.json and docs/contention.json (docs/_ext/benchtables.py).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import relu_fast  # noqa: E402  (the installed package: its docstrings are the API pages)

project = "relu_fast"
author = "relu_fast developers"
copyright = "relu_fast developers"
release = relu_fast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "benchtables",
]

# Every internal reference must resolve: a broken one fails the build under -W.
nitpicky = True
# No intersphinx (the build is offline): names of other projects are plain text.
nitpick_ignore = []

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "generated/*.txt"]
templates_path = ["_templates"]
default_role = "literal"      # `x` in docstrings is code, not an unresolvable reference

# -- autodoc / autosummary ----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"        # the Parameters sections state the types (numpydoc)
autodoc_docstring_signature = True   # Cython embeds "relu(x, *, out=None)" as the first line
autodoc_default_options = {"members": False}

# -- numpydoc -------------------------------------------------------------------
# The class pages list their members themselves (templates/autosummary/class.rst);
# numpydoc's own member tables would document each method a second time.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False  # types are text: without intersphinx "ndarray" cannot resolve
numpydoc_attributes_as_param_list = True

# -- math -----------------------------------------------------------------------------
# MathJax comes from its CDN in a browser online; RELU_FAST_DOCS_MATHJAX points at a local
# copy for offline viewing (e.g. Debian's libjs-mathjax, see docs/contributing.rst).
if os.environ.get("RELU_FAST_DOCS_MATHJAX"):
    mathjax_path = os.environ["RELU_FAST_DOCS_MATHJAX"]

# -- HTML -------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"relu_fast {release}"
html_static_path = ["_static"]
html_css_files = ["relu_fast.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_end": ["theme-switcher"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "header_links_before_dropdown": 6,
}
html_sidebars = {"index": [], "performance": []}
html_show_sourcelink = False
html_copy_source = False
