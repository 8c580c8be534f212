"""``skclust graph``: outputs, exit codes and one-line errors."""

import csv
import json
import re

import pytest
from sklearn.metrics import adjusted_rand_score

from skclust import SpectralGraphClusterer
from skclust._cli import main
from skclust._cli._report import Section
from skclust._cli.graph import report_section
from skclust.datasets import load_karate_club, read_edge_list
from skclust.metrics import mismatch_rate, modularity

KARATE_NODES = ['1\t"a"\t0', '2\t"b"\t0', '3\t"c"\t1', '4\t"d"\t1']


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(autouse=True)
def _no_study_data(request, monkeypatch):
    # Each test says which graph it wants; by default the embedded one.
    if "political_blogs_files" not in request.fixturenames:
        monkeypatch.delenv("SKCLUST_DATA", raising=False)


def test_embedded_graph_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["graph", "-k", "2", "4", "--tune", "2:6", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Zachary's karate club (embedded): 34 nodes, 78")
    assert "k = 2: overall mismatch rate 0.0294 (1 of 34)" in printed
    assert "tuned k over 2..6:" in printed
    # One progress line per fit (2..6 and 4 share fits: five in all).
    assert printed.count("regularized k=") == 5
    for name in [
        "mismatch_k2.csv",
        "mismatch_k2.md",
        "mismatch_k4.csv",
        "overall.csv",
        "overall.md",
        "tuning.csv",
        "tuning.md",
        "tuning.png",
        "majority_labels.json",
    ]:
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.part"))
    clusters = _read_csv(out / "mismatch_k2.csv")
    assert sum(int(row["size"]) for row in clusters) == 34
    assert sum(int(row["mismatches"]) for row in clusters) == 1
    overall = _read_csv(out / "overall.csv")
    assert [row["k"] for row in overall] == ["2", "4"]
    tuning = _read_csv(out / "tuning.csv")
    assert [int(row["k"]) for row in tuning] == [2, 3, 4, 5, 6]
    # The tuned k has the highest ARI (mismatch only falls as k grows).
    ari = [float(row["ari"]) for row in tuning]
    best = int(printed.split("tuned k over 2..6: ")[1].split()[0])
    assert ari[best - 2] == max(ari)
    graph = load_karate_club()
    model = SpectralGraphClusterer(2, random_state=0).fit(graph.adjacency)
    assert float(tuning[0]["ari"]) == pytest.approx(
        adjusted_rand_score(graph.labels, model.labels_), abs=1e-6
    )
    assert "n_clusters='auto' finds 2" in printed
    summary = json.loads((out / "majority_labels.json").read_text())
    assert summary["2"]["overall_mismatch_rate"] == 0.03
    assert len(summary["4"]["mismatch_rates"]) == 4


def test_given_files_and_normalized_laplacian(tmp_path, capsys):
    nodes = _write(tmp_path / "n.txt", [*KARATE_NODES, '5\t"e"\t1', '6\t"f"\t0'])
    edges = _write(
        tmp_path / "e.txt", ["1\t2", "2\t6", "1\t6", "3\t4", "4\t5", "3\t5", "6\t3"]
    )
    out = tmp_path / "out"
    args = ["graph", "--nodes", nodes, "--edges", edges, "--laplacian", "normalized"]
    assert main([*args, "-k", "2", "--tune", "2:3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "n.txt + e.txt: 6 nodes, 7 undirected edges" in printed
    # Two triangles joined by one edge: the two clusters are the triangles.
    assert "k = 2: overall mismatch rate 0.0000 (0 of 6)" in printed


def test_strategy_option_reaches_the_estimator(tmp_path):
    graph = load_karate_club()
    counts = {}
    for strategy in ("divisive", "kmeans"):
        out = tmp_path / strategy
        args = ["graph", "-k", "5", "--tune", "2:5", "--strategy", strategy]
        assert main([*args, "--out", str(out)]) == 0
        (row,) = _read_csv(out / "overall.csv")
        counts[strategy] = float(row["ari"])
        model = SpectralGraphClusterer(5, strategy=strategy, random_state=0)
        labels = model.fit(graph.adjacency).labels_
        expected = adjusted_rand_score(graph.labels, labels)
        assert counts[strategy] == pytest.approx(expected, abs=1e-4)
    # At k = 5 on karate the two strategies differ, so the option mattered.
    assert counts["divisive"] != pytest.approx(counts["kmeans"], abs=1e-3)


def test_political_blogs_through_the_command(tmp_path, capsys, political_blogs_files):
    data = political_blogs_files[0].parent
    argv = ["graph", "--data", str(data), "-k", "2", "3", "--tune", "2:3"]
    # By default the largest component (1222 blogs), as in the literature:
    # k = 2 splits the two camps (the literature's 4.17%).
    assert main([*argv, "--out", str(tmp_path / "largest")]) == 0
    printed = capsys.readouterr().out
    assert "political blogs (largest component): 1222 nodes" in printed
    assert "(1222 of 1224 nodes); 2 nodes in 1 smaller component left out" in printed
    two, _ = _read_csv(tmp_path / "largest" / "overall.csv")
    assert two["nodes"] == "1222"
    assert float(two["overall_mismatch_rate"]) <= 0.042
    # The whole graph: components first, so k = 2 gives the two components
    # and k = 3 splits the large one.
    whole = tmp_path / "whole"
    assert main([*argv, "--all-components", "--out", str(whole)]) == 0
    assert "political blogs: 1224 nodes, 16715 undirected edges" in (
        capsys.readouterr().out
    )
    two, three = _read_csv(whole / "overall.csv")
    assert two["nodes"] == "1224"
    assert float(two["overall_mismatch_rate"]) > 0.45
    assert float(three["overall_mismatch_rate"]) <= 0.042


def test_largest_component_by_default(tmp_path, capsys):
    # A path of 4 nodes and two pairs: the default keeps the path and says
    # what it left out; --all-components keeps the 8 nodes.
    edges = ["1 2", "2 3", "3 4", "5 6", "7 8"]
    path = _write(tmp_path / "e.txt", edges)
    argv = ["graph", "--edges", path, "-k", "2", "--tune", "2:2"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    assert "(largest component): 4 nodes" in printed
    assert "(4 of 8 nodes); 4 nodes in 2 smaller components left out" in printed
    assert main([*argv, "--all-components", "--out", str(tmp_path / "b")]) == 0
    printed = capsys.readouterr().out
    assert ": 8 nodes" in printed and "left out" not in printed


def test_component_options_exclude_each_other(tmp_path, capsys):
    argv = ["graph", "--all-components", "--largest-component"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not allowed with argument" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("nodes_lines", "edges_lines", "extra", "message"),
    [
        (None, ["1\t2"], [], r"n\.txt: file not found"),
        (['1\t"a"\t0', '2\t"b"'], ["1\t2"], [], r"n\.txt, line 2: expected 3 or 4"),
        (KARATE_NODES, ["1\t2", "2\t9"], [], r"e\.txt, line 2: node 9 is not in"),
        (['1\t"a"\tleft', '2\t"b"\t0'], ["1\t2"], [], r"line 1: label 'left' is not"),
        (["# nothing"], ["1\t2"], [], r"n\.txt: no nodes \(empty graph\)"),
        (KARATE_NODES, ["1\t1"], [], r"e\.txt: no edges \(empty graph\)"),
        (KARATE_NODES, ["1\t2", "2\t3", "3\t4"], ["-k", "5"], r"k=5 is larger .*\(4\)"),
        (KARATE_NODES, ["1\t2", "3 4 5 6"], [], r"e\.txt, line 2: expected 2 or 3"),
        (KARATE_NODES, ["1\t2", f"3 {2**70}"], [], r"e\.txt, line 2: node id .* range"),
        (KARATE_NODES, ["1\t2", "3 4 -1"], [], r"e\.txt, line 2: edge weight '-1'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path, capsys, nodes_lines, edges_lines, extra, message
):
    nodes = tmp_path / "n.txt"
    if nodes_lines is not None:
        _write(nodes, nodes_lines)
    edges = _write(tmp_path / "e.txt", edges_lines)
    out = tmp_path / "out"
    argv = ["graph", "--nodes", str(nodes), "--edges", edges, "--tune", "2:2"]
    code = main([*argv, *extra, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skclust graph: error: ")
    assert "Traceback" not in err
    assert re.search(message, err), err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-k", "40"], r"k=40 is larger than the number of nodes \(34\)"),
        (["--tune", "5:2"], r"the range is empty"),
        (["--tune", "two"], r"not a range A:B"),
        (["-k", "0"], r"0 is not a positive integer"),
        (["--nodes", "x.txt"], r"--nodes needs --edges"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert _exit_code(["graph", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skclust graph: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def _exit_code(argv):
    """main's return value, or the code of argparse's exit on a usage error."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_foreign_output_folder_needs_force(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["graph", "-k", "2", "--tune", "2:2", "--out", str(out)]) == 2
    assert "use --force" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (
        main(["graph", "-k", "2", "--tune", "2:2", "--out", str(out), "--force"]) == 0
    )
    assert (out / "overall.csv").is_file() and (out / "notes.txt").is_file()


def test_report_section_compares_both_laplacians(tmp_path):
    lines = []
    section = report_section(tmp_path, None, 0, lines.append)
    assert isinstance(section, Section)
    assert section.title == "Spectral graph clustering"
    kinds = [kind for kind, _ in section.blocks]
    assert kinds.count("table") == 2 and kinds.count("figure") == 1
    rows, columns, *_ = section.blocks[kinds.index("table")][1]
    keys = [column.key for column in columns]
    assert keys[:3] == ["k", "regularized", "normalized"]
    assert "regularized ARI" in keys and "normalized NMI" in keys
    assert [row["k"] for row in rows] == [2, 5, 10]
    assert (tmp_path / "graph" / "tuning.png").is_file()
    # The columns are the default and the textbook method (flat k-means).
    graph = load_karate_club()
    for column, params in [
        ("regularized", {}),
        ("normalized", {"laplacian": "normalized", "strategy": "kmeans"}),
    ]:
        for row in rows:
            model = SpectralGraphClusterer(row["k"], random_state=0, **params)
            labels = model.fit(graph.adjacency).labels_
            assert row[column] == f"{100 * mismatch_rate(graph.labels, labels):.2f}%"
            ari = adjusted_rand_score(graph.labels, labels)
            assert row[f"{column} ARI"] == f"{ari:.3f}"
    assert (tmp_path / "graph" / "normalized_overall.csv").is_file()
    assert any(line.startswith("normalized k=") for line in lines)


def test_unlabelled_weighted_graph(tmp_path, capsys):
    # Two weighted triangles joined by a light edge; no nodes file.
    edges = _write(
        tmp_path / "e.txt",
        ["1 2 5", "2 3 5", "1 3 5", "4 5 5", "5 6 5", "4 6 5", "3 4 0.5"],
    )
    out = tmp_path / "out"
    assert main(["graph", "--edges", edges, "-k", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mismatch" not in printed
    (row,) = _read_csv(out / "overall.csv")
    expected = modularity(read_edge_list(edges).adjacency, [0, 0, 0, 1, 1, 1])
    assert float(row["modularity"]) == pytest.approx(expected, abs=1e-6)
    clusters = _read_csv(out / "clusters_k2.csv")
    assert sorted(int(c["size"]) for c in clusters) == [3, 3]


def test_unreachable_tuning_range_is_clipped_with_a_note(tmp_path, capsys):
    # A small graph: 4 leaves on one hub and a 4-path; the leaves are twins.
    edges = _write(
        tmp_path / "e.txt", ["1 2", "1 3", "1 4", "1 5", "5 6", "6 7", "7 8"]
    )
    out = tmp_path / "out"
    argv = ["graph", "--edges", edges, "--tune", "2:20", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    # Reachable: the hub, the leaves, and nodes 5 to 8 apart: 6 clusters.
    assert "note: tuning range 2:20 clipped to 2:6" in printed
    tuning = _read_csv(out / "tuning.csv")
    assert [int(row["k"]) for row in tuning] == [2, 3, 4, 5, 6]


def test_report_includes_the_graph_section(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--out", str(out)]) == 0
    html = (out / "index.html").read_text()
    assert "Spectral graph clustering" in html
    assert "data:image/png;base64," in html


def _failing_solver(monkeypatch, when):
    """SpectralGraphClusterer fits raising the eigensolver's error for the
    numbers of clusters that ``when`` picks."""
    from skclust._spectral import _estimator
    from skclust._spectral._laplacian import EigensolverError

    real = _estimator.SpectralGraphClusterer._fit_graph

    def fit_graph(self, graph):
        if when(self.n_clusters):
            raise EigensolverError(
                "the eigensolver (ARPACK) did not converge within 3000 iterations "
                "on the 34-node graph for 4 eigenvectors; try fewer clusters"
            )
        return real(self, graph)

    monkeypatch.setattr(_estimator.SpectralGraphClusterer, "_fit_graph", fit_graph)


def test_eigensolver_failure_is_one_line_naming_the_options(
    tmp_path, capsys, monkeypatch
):
    # It was a traceback (exit 1) from the sweep.
    _failing_solver(monkeypatch, lambda k: k == 4)
    out = tmp_path / "out"
    code = main(["graph", "-k", "2", "4", "--tune", "2:3", "--out", str(out)])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.splitlines() == [
        "skclust graph: error: the eigensolver (ARPACK) did not converge within "
        "3000 iterations on the 34-node graph for 4 eigenvectors; try fewer "
        "clusters (-k and --tune set them)"
    ]
    assert not out.exists()


def test_a_count_that_fails_leaves_the_rest_of_the_run(tmp_path, capsys, monkeypatch):
    # n_clusters="auto" raised from the end of the run on a 99,873-node
    # graph, and the fits before it were lost.
    _failing_solver(monkeypatch, lambda k: k == "auto")
    out = tmp_path / "out"
    code = main(["graph", "-k", "2", "--tune", "2:3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "n_clusters='auto' found no count: the eigensolver (ARPACK)" in printed
    assert "n_clusters='auto' found no count\n" in printed
    assert (out / "skclust-manifest.json").exists()
