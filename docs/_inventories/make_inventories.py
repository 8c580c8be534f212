"""Write the intersphinx inventories of numpy, scipy and scikit-learn.

The documentation builds offline, so intersphinx cannot download these
projects' ``objects.inv``. This script writes small equivalents from the
installed packages: every public name of the modules below, pointing at the
page each project generates for it (the URL patterns of their API
references). Run it after upgrading one of them::

    python docs/_inventories/make_inventories.py
"""

import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).parent

# project: (version module, modules whose public names are listed, page of a name)
PROJECTS = {
    "numpy": (
        "numpy",
        ["numpy", "numpy.random", "numpy.linalg"],
        "reference/generated/{name}.html#{name}",
    ),
    "scipy": (
        "scipy",
        ["scipy.sparse", "scipy.sparse.linalg", "scipy.sparse.csgraph", "scipy.linalg"],
        "reference/generated/{name}.html#{name}",
    ),
    "sklearn": (
        "sklearn",
        [
            "sklearn.base",
            "sklearn.cluster",
            "sklearn.metrics",
            "sklearn.model_selection",
            "sklearn.pipeline",
            "sklearn.preprocessing",
            "sklearn.datasets",
            "sklearn.utils",
            "sklearn.utils.validation",
            "sklearn.manifold",
        ],
        "modules/generated/{name}.html#{name}",
    ),
}


def _public_names(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [
        n for n in dir(module) if not n.startswith("_")
    ]
    for name in sorted(set(names)):
        try:
            value = getattr(module, name, None)
        except ImportError:  # experimental names that need an explicit import
            continue
        if inspect.isclass(value):
            yield f"{module_name}.{name}", "py:class"
        elif callable(value):
            yield f"{module_name}.{name}", "py:function"


# Glossary terms that numpydoc links parameter types to ("array_like").
TERMS = {"numpy": {"array_like": "reference/glossary.html#term-array_like"}}


def inventory(project, version, entries, page):
    lines = [
        f"{name} {role} 1 {page.format(name=name)} -"
        for name, role in sorted(set(entries))
    ]
    lines += [
        f"{term} std:term -1 {uri} -" for term, uri in TERMS.get(project, {}).items()
    ]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    return header.encode() + zlib.compress(("\n".join(lines) + "\n").encode())


def main():
    for project, (package, modules, page) in PROJECTS.items():
        version = importlib.import_module(package).__version__
        entries = [entry for m in modules for entry in _public_names(m)]
        entries += [(m, "py:module") for m in modules]
        (HERE / f"{project}.inv").write_bytes(
            inventory(project, version, entries, page)
        )
        print(f"{project} {version}: {len(entries)} names")


if __name__ == "__main__":
    main()
