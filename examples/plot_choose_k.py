"""
Choosing the number of clusters
===============================

Minus the inertia, scikit-learn's default score for k-means, keeps improving as
clusters are added, so a grid search with it always picks the largest k. This
example tunes k two better ways on the same data: the knee of the elbow curve,
and a grid search scored by the silhouette. Run it as a script; figures go to
the folder given as first argument (default: the current folder).
"""

# %%
# Data: five groups in six dimensions, on different scales.
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclust import KMeansL1, KMeansL2
from skclust.model_selection import elbow, silhouette_scorer

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
X, _ = make_blobs(1500, centers=5, n_features=6, cluster_std=1.2, random_state=4)
X *= np.array([1, 10, 100, 1, 10, 100])

# %%
# The elbow: fit every k (in parallel) after scaling, and take the knee.
X_scaled = StandardScaler().fit_transform(X)
figure = Figure(figsize=(9, 3.5), layout="constrained")
for ax, Estimator in zip(figure.subplots(1, 2), (KMeansL2, KMeansL1), strict=True):
    result = elbow(
        Estimator(n_init=3, random_state=0), X_scaled, range(1, 11), n_jobs=2
    )
    result.plot(ax=ax, title=Estimator.__name__)
    print(f"{Estimator.__name__}: knee at k = {result.best_n_clusters}")
figure.savefig(out / "choose_k_elbow.png", dpi=80)

# %%
# Grid search in a pipeline, scored by the silhouette (not by the inertia).
pipe = make_pipeline(StandardScaler(), KMeansL2(n_init=3, random_state=0))
grid = {"kmeansl2__n_clusters": list(range(2, 11))}
search = GridSearchCV(pipe, grid, scoring=silhouette_scorer()).fit(X)
print("silhouette grid search picks", search.best_params_)
naive = GridSearchCV(pipe, grid).fit(X)
print("default score (minus inertia) picks", naive.best_params_)
