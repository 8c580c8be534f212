"""Random fits of KMeansL2/KMeansL1 with ``copy_x=False`` against ``copy_x=True``.

Each case draws a table (shape, dtype, repeated rows, signed zeros, extreme
or subnormal values), an input form (array, slice of a bigger array, memory
map opened r+, DataFrame, list), weights, init, n_init, n_jobs and backend,
and checks that the caller's data keeps every bit, that KMeansL1 gives the
copy's result exactly and KMeansL2 the copy's labels except at near ties,
that ``predict(X)`` equals ``labels_`` and that each label is the nearest
center of its original row. A share of the cases raises mid-fit
(KeyboardInterrupt or RuntimeError from a callable init or from a patched
function) and checks that the data was put back.

    python benchmarks/fuzz_copy_x.py --cases 500 --seed 0
"""

import argparse
import contextlib
import os
import tempfile
import warnings
from unittest import mock

import numpy as np
import pandas as pd
from joblib import parallel_backend

from skclust import KMeansL1, KMeansL2

# Functions a fit calls after the rows have moved, patched to raise.
RAISE_POINTS = [
    "skclust._kmeans._base._single_run",
    "skclust._kmeans._base.nearest_center",
    "skclust._kmeans._base._BaseKMeans._store_fit",
    "skclust._kmeans._base._tolerance",
    "skclust._kmeans._base._BaseKMeans._seeded_inits",
    "skclust._kmeans._dedup.distinct_weights",
]


class Injected(Exception):
    pass


def _bits(X):
    return np.ascontiguousarray(X).view(np.uint8).copy()


def _table(rng):
    n = int(rng.choice([2, 3, 5, 20, 100, 400]))
    d = int(rng.choice([1, 2, 3, 8]))
    kind = rng.choice(["normal", "pool", "equal", "ints", "zeros", "extreme"])
    if kind == "normal":
        X = rng.standard_normal((n, d)) * 10 ** rng.uniform(-3, 3)
    elif kind == "pool":
        pool = rng.standard_normal((int(rng.integers(1, 6)), d))
        X = pool[rng.integers(0, pool.shape[0], n)]
    elif kind == "equal":
        X = np.full((n, d), rng.standard_normal())
    elif kind == "ints":
        X = rng.integers(-3, 4, (n, d)).astype(np.float64)
    elif kind == "zeros":
        X = rng.choice([0.0, -0.0, 1.0], (n, d))
    else:
        X = rng.standard_normal((n, d)) * 10.0 ** rng.choice([-310, -300, 300, 307])
    dtype = rng.choice(["float64", "float32", "int64", "int32", "uint8"])
    if kind == "extreme" and dtype == "float32":
        dtype = "float64"  # float32 would overflow to inf
    if dtype.startswith("int") or dtype == "uint8":
        X = np.clip(np.rint(X * 3), 0 if dtype == "uint8" else -1000, 255)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return X.astype(dtype), kind, dtype


def _as_input(X, rng, tmp):
    form = rng.choice(["array", "slice", "memmap", "frame", "list", "shared"])
    if form == "slice":
        big = np.concatenate([X[:3] + 1, X, X[:2] - 1])
        return big[3 : 3 + X.shape[0]], form, big
    if form == "memmap":
        path = os.path.join(tmp, f"{rng.integers(1 << 30)}.dat")
        m = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
        m[:] = X
        m.flush()
        del m
        m = np.memmap(path, dtype=X.dtype, mode="r+", shape=X.shape)
        return m, form, m
    if form == "frame":
        frame = pd.DataFrame(X.copy())
        return frame, form, frame
    if form == "list":
        return X.tolist(), form, None
    if form == "shared":
        other = X.reshape(-1)  # another name for the same memory
        return X, form, other
    return X, form, X


def _snapshot(watched):
    if watched is None:
        return None
    if isinstance(watched, pd.DataFrame):
        return watched.copy(deep=True)
    return _bits(watched)


def _unchanged(watched, snap):
    if watched is None:
        return True
    if isinstance(watched, pd.DataFrame):
        return watched.equals(snap) and np.array_equal(
            _bits(watched.to_numpy()), _bits(snap.to_numpy())
        )
    return np.array_equal(_bits(watched), snap)


def _params(rng, X, n_distinct):
    n = X.shape[0]
    k_max = min(n, n_distinct + 2)
    n_clusters = int(rng.integers(1, k_max + 1))
    init = rng.choice(["k-means++", "random", "array", "callable"])
    if init == "array":
        init = np.asarray(X[rng.choice(n, n_clusters, replace=False)], dtype=float)
    elif init == "callable":

        def init(points, k, random_state):
            return points[random_state.randint(points.shape[0], size=k)]

    return dict(
        n_clusters=n_clusters,
        init=init,
        n_init=int(rng.integers(1, 4)),
        random_state=int(rng.integers(1000)),
        n_jobs=rng.choice([None, 2]),
        verbose=int(rng.random() < 0.05),
    )


def _nearest(X, centers, power):
    diff = np.abs(X[:, None, :].astype(np.float64) - centers[None].astype(np.float64))
    cost = (diff**2 if power == 2 else diff).sum(axis=2)
    return cost


def one_case(rng, tmp, stats):
    X0, kind, dtype = _table(rng)
    Estimator = KMeansL2 if rng.random() < 0.5 else KMeansL1
    n_distinct = np.unique(X0.astype(np.float64) + 0.0, axis=0).shape[0]
    params = _params(rng, X0, n_distinct)
    weights = None
    if rng.random() < 0.4:
        weights = rng.integers(0, 3, X0.shape[0]).astype(float)
        weights[rng.integers(X0.shape[0])] = 1.0
    Xin, form, watched = _as_input(X0.copy(), rng, tmp)
    backend = rng.choice(["loky", "threading"])
    snap = _snapshot(watched)
    desc = dict(
        kind=kind,
        dtype=dtype,
        shape=X0.shape,
        form=form,
        backend=backend,
        est=Estimator.__name__,
        weights=weights is not None,
        **{
            k: (type(v).__name__ if k == "init" and not isinstance(v, str) else v)
            for k, v in params.items()
        },
    )
    failures = []
    raising = rng.random() < 0.25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with parallel_backend(backend, n_jobs=2):
            if raising:
                exc = KeyboardInterrupt if rng.random() < 0.5 else Injected
                where = rng.choice(["init", *RAISE_POINTS])
                desc.update(raises=exc.__name__, where=where)
                if where == "init":
                    params["init"] = mock.Mock(side_effect=exc("boom"))
                    patch = contextlib.nullcontext()
                else:
                    patch = mock.patch(where, side_effect=exc("boom"))
                try:
                    with patch:
                        Estimator(copy_x=False, **params).fit(
                            Xin, sample_weight=weights
                        )
                except (KeyboardInterrupt, Injected):
                    pass
                except Exception:
                    pass
                if not _unchanged(watched, snap):
                    failures.append("data changed after a raising fit")
                stats["raised"] += 1
                return desc, failures
            copied = Estimator(copy_x=True, **params).fit(Xin, sample_weight=weights)
            if not _unchanged(watched, snap):
                failures.append("copy_x=True changed the data")
            ours = Estimator(copy_x=False, **params)
            labels = ours.fit_predict(Xin, sample_weight=weights)
            if not _unchanged(watched, snap):
                failures.append("data changed after fit")
            X = np.asarray(Xin, dtype=float) if form == "list" else np.asarray(Xin)
            if not np.array_equal(labels, ours.labels_):
                failures.append("fit_predict != labels_")
            if not np.array_equal(ours.predict(Xin), ours.labels_):
                failures.append("predict(X) != labels_")
            ours.score(Xin)
            ours.transform(Xin)
            if Estimator is KMeansL1:
                same = (
                    np.array_equal(ours.labels_, copied.labels_)
                    and np.array_equal(ours.cluster_centers_, copied.cluster_centers_)
                    and ours.inertia_ == copied.inertia_
                )
                if not same:
                    failures.append("L1 differs from the copy")
            else:
                stats["l2_fits"] += 1
                differ = ours.labels_ != copied.labels_
                # Relative to the data's own spread too: inertias of 0 and
                # 4e-30 are one rounding, not a relative difference of 1.
                spread = float(np.sum((X - X.mean(axis=0)) ** 2))
                largest = max(ours.inertia_, copied.inertia_, 1e-12 * spread)
                rel = abs(ours.inertia_ - copied.inertia_) / largest if largest else 0
                if differ.any() and rel > 1e-9:
                    # Another local optimum, not the rounding of the same one.
                    lower = ours.inertia_ < copied.inertia_
                    stats["l2_in_place_" + ("lower" if lower else "higher")] += 1
                    stats["l2_largest_relative_difference"] = max(
                        stats["l2_largest_relative_difference"], rel
                    )
                if differ.any():
                    stats["l2_label_diffs"] += int(differ.sum())
                    stats["l2_cases_differing"] += 1
                    print(
                        f"  L2 differs: {int(differ.sum())} labels, "
                        f"inertia relative difference {rel:.2e} {desc}"
                    )
                    if not np.allclose(
                        ours.cluster_centers_,
                        copied.cluster_centers_,
                        rtol=1e-4,
                        atol=1e-6 * max(1.0, float(np.abs(X).max())),
                    ):
                        stats["l2_center_diffs"] += 1
            if kind != "extreme" and np.all(np.isfinite(X.astype(float))):
                cost = _nearest(
                    X, ours.cluster_centers_, 2 if Estimator is KMeansL2 else 1
                )
                mine = cost[np.arange(X.shape[0]), ours.labels_]
                best = cost.min(axis=1)
                scale = np.abs(X.astype(float)).max() ** (
                    2 if Estimator is KMeansL2 else 1
                )
                if np.any(mine > best + 1e-6 * max(scale, 1e-300) * X.shape[1]):
                    failures.append("a label is not the nearest center of its row")
            if not _unchanged(watched, snap):
                failures.append("data changed after predict/score")
    stats["fits"] += 1
    return desc, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stats = dict(
        l2_fits=0,
        l2_cases_differing=0,
        l2_in_place_lower=0,
        l2_in_place_higher=0,
        l2_largest_relative_difference=0.0,
        fits=0,
        raised=0,
        l2_label_diffs=0,
        l2_center_diffs=0,
        errors=0,
    )
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(args.cases):
            try:
                desc, failures = one_case(rng, tmp, stats)
            except Exception as error:
                stats["errors"] += 1
                print(f"case {case}: error {type(error).__name__}: {error}")
                continue
            if failures:
                failed += 1
                print(f"case {case}: {failures} {desc}")
    print(f"{args.cases} cases, {failed} failed, {stats}")


if __name__ == "__main__":
    main()
