"""The documentation builds offline with warnings as errors (slow: runs the gallery)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_docs_build_offline_with_gallery_and_intersphinx(tmp_path):
    pytest.importorskip("sphinx_gallery")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "docs", str(tmp_path / "html")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    html = tmp_path / "html"
    assert len(list((html / "_images").glob("sphx_glr_plot_*_001.png"))) == 4
    api = (html / "generated" / "skclust.KMeansL2.html").read_text()
    assert "https://numpy.org/doc/stable/reference/generated/numpy.ndarray" in api
    kmeans = (html / "kmeans.html").read_text()
    assert (
        "https://scikit-learn.org/stable/modules/generated/sklearn.cluster.KMeans"
        in kmeans
    )
