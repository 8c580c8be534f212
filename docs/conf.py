"""Sphinx configuration for the skclust documentation."""

import skclust

project = "skclust"
author = "The skclust developers"
release = version = skclust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
# The numpydoc sections give the types; signatures stay short.
autodoc_typehints = "none"
numpydoc_class_members_toctree = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
intersphinx_mapping = {}
nitpicky = False
