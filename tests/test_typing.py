"""The public API is typed: annotated signatures (py.typed: test_packaging)."""

import inspect

import pytest

import skclust
from skclust import datasets, image, metrics, model_selection, study

ESTIMATORS = [
    skclust.KMeansL2,
    skclust.KMeansL1,
    skclust.SpectralGraphClusterer,
    skclust.VectorQuantizer,
    image.ImageQuantizer,
]
METHODS = [
    "__init__",
    "fit",
    "predict",
    "transform",
    "fit_transform",
    "inverse_transform",
    "partial_fit",
    "score",
    "memory_usage",
]


def _public_functions():
    for module in (datasets, image, metrics, model_selection, study):
        for name, obj in vars(module).items():
            if (
                inspect.isfunction(obj)
                and not name.startswith("_")
                and obj.__module__ == module.__name__
            ):
                yield f"{module.__name__}.{name}", obj
    yield "skclust.sweep_n_clusters", skclust.sweep_n_clusters


def _unannotated(function):
    signature = inspect.signature(function)
    missing = [
        name
        for name, parameter in signature.parameters.items()
        if name not in ("self", "cls") and parameter.annotation is parameter.empty
    ]
    if signature.return_annotation is signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_estimator_signatures_are_annotated(Estimator):
    # The methods skclust defines (fit_predict comes from scikit-learn).
    methods = [
        getattr(Estimator, name)
        for name in METHODS
        if getattr(getattr(Estimator, name, None), "__module__", "").startswith(
            "skclust"
        )
    ]
    assert len(methods) >= 2  # __init__ and fit at least
    for method in methods:
        assert not _unannotated(method), method.__qualname__


@pytest.mark.parametrize("name, function", list(_public_functions()))
def test_public_functions_are_annotated(name, function):
    assert not _unannotated(function), name
