"""Peak memory of KMeansL2 and KMeansL1 fits on a float32 table.

Each fit runs in a fresh Python process, which generates the table (standard
normal float32 values, drawn directly in float32), fits, and reports its
resident set: after the imports, once the table exists, and at its peak
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The table shows the peak
above the interpreter and its imports, in multiples of the input's size
(the model is a few hundred kilobytes here):

    python benchmarks/bench_estimator_memory.py [--rows 1000000] [--features 128]
        [-k 16] [--max-iter 5] [--estimators KMeansL2 KMeansL1 KMeans]
        [--python /path/to/other/python] [--before /path/to/old/python]

``KMeans`` is scikit-learn's, for comparison. A name followed by
``:nocopy`` fits with ``copy_x=False`` (scikit-learn's ``KMeans`` has the
same parameter): the rows of the caller's table are used in place instead of
a copy. ``--python`` measures another
installation (an older checkout, say) with the same script; ``--before``
measures both, the old installation first for each estimator, and prints
their peaks above the imports side by side (MB and multiples of the input).
"""

import argparse
import json
import subprocess
import sys

# The child: everything it needs is in this string, so that --python can
# point at an interpreter that only has skclust (or only scikit-learn).
_CHILD = """
import json, resource, sys
import numpy as np

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

name, rows, features, k, max_iter, dtype = sys.argv[1:7]
name, _, option = name.partition(":")
if name == "KMeans":
    from sklearn.cluster import KMeans as Estimator
    extra = {"algorithm": "lloyd"}
else:
    import skclust
    Estimator = getattr(skclust, name)
    extra = {}
if option == "nocopy":
    extra["copy_x"] = False
after_imports = rss()
rng = np.random.default_rng(0)
X = rng.standard_normal((int(rows), int(features)), dtype=np.dtype(dtype))
loaded = rss()
model = Estimator(int(k), max_iter=int(max_iter), n_init=1, random_state=0, **extra)
model.fit(X)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({
    "after_imports": after_imports, "loaded": loaded, "peak": peak,
    "input": X.nbytes, "centers_dtype": str(model.cluster_centers_.dtype),
    "n_iter": int(model.n_iter_),
}))
"""


def peak_fit_memory(name, rows, features, k, max_iter, dtype, python=sys.executable):
    """Memory figures (bytes) of one fit of estimator ``name``, in a new process.

    Returns a dict with ``after_imports``, ``loaded`` (the table generated),
    ``peak`` (resident set at its largest), ``input`` (the table's bytes),
    ``centers_dtype`` and ``n_iter``.
    """
    args = [str(a) for a in (name, rows, features, k, max_iter, dtype)]
    # cwd="/" so that an interpreter given by --python imports its own
    # installation, not a source folder in the current directory.
    done = subprocess.run(
        [python, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_row(name, figures):
    """One line of the table: MB figures and the peak over the input."""
    mb = 2.0**20
    above = figures["peak"] - figures["after_imports"]
    return (
        f"{name:>15} {figures['input'] / mb:9.0f} {figures['loaded'] / mb:10.0f} "
        f"{figures['peak'] / mb:9.0f} {above / mb:10.0f} "
        f"{above / figures['input']:8.2f}x {figures['centers_dtype']:>8}"
    )


MEMORY_HEADER = (
    f"{'estimator':>15} {'input MB':>9} {'loaded MB':>10} {'peak MB':>9} "
    f"{'peak-imp':>10} {'÷ input':>9} {'centers':>8}"
)


def comparison_row(name, before, after):
    """One line of the before/after table: peaks above the imports."""
    mb = 2.0**20
    cells = []
    for figures in (before, after):
        above = figures["peak"] - figures["after_imports"]
        cells.append(f"{above / mb:9.0f} {above / figures['input']:7.2f}x")
    return f"{name:>15} {before['input'] / mb:9.0f} " + " ".join(cells)


COMPARISON_HEADER = (
    f"{'estimator':>15} {'input MB':>9} {'before MB':>9} {'÷ input':>8} "
    f"{'after MB':>9} {'÷ input':>8}"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument(
        "--estimators",
        nargs="+",
        default=[
            "KMeansL2",
            "KMeansL2:nocopy",
            "KMeansL1",
            "KMeansL1:nocopy",
            "KMeans",
            "KMeans:nocopy",
        ],
    )
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before", help="an older installation's python")
    args = parser.parse_args()
    print(
        f"{args.rows} x {args.features} {args.dtype}, k = {args.k}, "
        f"max_iter = {args.max_iter}, n_init = 1, k-means++ init; "
        f"python = {args.python}"
    )
    shape = (args.rows, args.features, args.k, args.max_iter, args.dtype)
    if args.before:
        print(f"before = {args.before}")
        print(COMPARISON_HEADER)
        for name in args.estimators:
            before = peak_fit_memory(name, *shape, args.before)
            after = peak_fit_memory(name, *shape, args.python)
            print(comparison_row(name, before, after), flush=True)
        return
    print(MEMORY_HEADER)
    for name in args.estimators:
        figures = peak_fit_memory(name, *shape, args.python)
        print(memory_row(name, figures), flush=True)


if __name__ == "__main__":
    main()
