"""Sphinx configuration for the skclust documentation.

The build runs offline: the examples execute through Sphinx-Gallery, and the
intersphinx inventories of numpy, scipy and scikit-learn are the small files
in ``_inventories`` (written by ``_inventories/make_inventories.py``), tried
before the projects' own.
"""

import os
import sys
from pathlib import Path

import skclust

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
# Sphinx reads this file from docs/ and the gallery runs each example from
# examples/: a relative SKCLUST_DATA (such as ../shared/data) is meant from
# the folder the build was started in, which the shell keeps in PWD.
if os.environ.get("SKCLUST_DATA"):
    _started_in = Path(os.environ.get("PWD", Path.cwd()))
    os.environ["SKCLUST_DATA"] = str(
        (_started_in / os.environ["SKCLUST_DATA"]).resolve()
    )

project = "skclust"
author = "The skclust developers"
release = version = skclust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
# The numpydoc sections give the types; signatures stay short.
autodoc_typehints = "none"
numpydoc_class_members_toctree = False
# Parameter types such as "ndarray" or "sparse matrix" link to numpy's and
# scipy's pages through intersphinx.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "memmap": "numpy.memmap",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "csr_array": "scipy.sparse.csr_array",
    "Figure": "matplotlib.figure.Figure",
    "BaseEstimator": "sklearn.base.BaseEstimator",
    # Python's own types: plain references (the build has no inventory of
    # Python's documentation; numpydoc's defaults point there).
    "bool": "bool",
    "iterable": "iterable",
}
numpydoc_xref_ignore = {"of", "shape", "or", "default", "optional"}
exclude_patterns = ["_build", "_ext", "_inventories"]
html_theme = "alabaster"
html_static_path = ["_static"]


def _inventory(name):
    return str(HERE / "_inventories" / f"{name}.inv")


intersphinx_mapping = {
    "numpy": ("https://numpy.org/doc/stable/", (_inventory("numpy"), None)),
    "scipy": ("https://docs.scipy.org/doc/scipy/", (_inventory("scipy"), None)),
    "sklearn": ("https://scikit-learn.org/stable/", (_inventory("sklearn"), None)),
}
nitpicky = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "reset_argv": "gallery_figures.reset_argv",
    "image_scrapers": ("gallery_figures.saved_figures",),
    "download_all_examples": False,
    "write_computation_times": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # The gallery's links from the API pages to the examples using each name.
    "doc_module": ("skclust",),
    "backreferences_dir": "generated/backreferences",
}
