"""The Examples sections of every module's docstrings run and pass.

They are run from the installed package (not the source tree), which is what
users import and what holds the compiled kernel.
"""

import doctest
import importlib
import pkgutil

import pytest

import skclust

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(skclust.__path__, "skclust.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_estimators_have_examples():
    finder = doctest.DocTestFinder()
    for name in skclust.__all__:
        obj = getattr(skclust, name)
        if callable(obj):
            assert any(t.examples for t in finder.find(obj)), f"{name} has no example"
