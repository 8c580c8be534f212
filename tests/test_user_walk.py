"""What a new user meets first: mistyped options and values, files with a
header line or commas, tables printed on a terminal. Each test failed before
the walk-through fix it names."""

import numpy as np
import pytest
from PIL import Image

from skclust._cli import main, parse_arguments
from skclust._cli._output import markdown_table
from skclust.datasets import make_embeddings, read_edge_list, read_graph
from skclust.image import load_image
from skclust.study import compress_embeddings


@pytest.mark.parametrize(
    ("argv", "command", "suggestion"),
    [
        (["image", "--ot", "x"], "image", "did you mean --out?"),
        (["vq", "--k", "3"], "vq", "did you mean -k?"),
        (["graph", "--nclusters", "3"], "graph", "did you mean --n-clusters?"),
        (["image", "--metrics", "l1"], "image", "did you mean --metric?"),
    ],
)
def test_unknown_option_is_reported_by_its_command_with_the_closest(
    argv, command, suggestion, tmp_path, monkeypatch, capsys
):
    # Before: "skclust: error: unrecognized arguments: --ot x (see skclust
    # --help)", whose help lists the commands, not their options.
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith(f"skclust {command}: error: unrecognized arguments")
    assert suggestion in stderr
    assert f"(see skclust {command} --help)" in stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_option_far_from_every_option_suggests_nothing(capsys):
    assert main(["image", "--bogus"]) == 2
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["image", "vq", "graph", "demo"])
def test_k_with_commas_says_to_separate_by_spaces(command, capsys):
    assert main([command, "-k", "3,4"]) == 2
    stderr = capsys.readouterr().err
    # graph's -k also takes auto.
    integer = "neither an integer nor auto" if command == "graph" else "not an integer"
    assert f"'3,4' is {integer}: separate several values by spaces (3 4)" in stderr


@pytest.mark.parametrize("command", ["image", "vq"])
def test_n_clusters_is_the_long_name_of_k_in_every_command(command):
    # graph and demo had -k/--n-clusters, image and vq only -k.
    short = parse_arguments([command, "-k", "3", "4"])
    long = parse_arguments([command, "--n-clusters", "3", "4"])
    assert short.k == long.k == [3, 4]


def test_markdown_table_reads_in_columns_and_keeps_the_cells():
    rows = [
        {"image": "football.bmp", "k": 3, "psnr": 21.5, "note": "nan"},
        {"image": "a.png", "k": 48, "psnr": 30.25, "note": "ok"},
    ]
    columns = ["image", "k", "psnr", "note"]
    lines = markdown_table(rows, columns).splitlines()
    assert len({len(line) for line in lines}) == 1
    # The bars line up, so the columns do.
    bars = {tuple(i for i, c in enumerate(line) if c == "|") for line in lines}
    assert len(bars) == 1
    cells = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines]
    assert cells[0] == columns
    assert cells[2:] == [[str(row[c]) for c in columns] for row in rows]
    # Numbers on the right ("---:"), text on the left.
    assert [rule.endswith(":") for rule in cells[1]] == [False, True, True, False]
    assert lines[2].index("  3 |") > 0


def test_edge_file_with_a_header_line_says_how_to_skip_it(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("source target weight\n1 2 1\n2 3 1\n")
    with pytest.raises(ValueError, match=r"line 1: node id 'source' .*start it with #"):
        read_edge_list(edges)
    edges.write_text("# source target weight\n1 2 1\n2 3 1\n")
    assert read_edge_list(edges).adjacency.shape == (3, 3)


def test_non_number_below_the_first_line_is_no_header(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("1 2\nx 3\n")
    with pytest.raises(ValueError, match="line 2: node id 'x'") as error:
        read_edge_list(edges)
    assert "header" not in str(error.value)


def test_nodes_file_with_a_header_line_says_how_to_skip_it(tmp_path):
    nodes, edges = tmp_path / "nodes.txt", tmp_path / "edges.txt"
    nodes.write_text("id\tname\tlabel\n1\ta\t0\n2\tb\t1\n")
    edges.write_text("1 2\n")
    with pytest.raises(ValueError, match=r"line 1: node id 'id' .*start it with #"):
        read_graph(nodes, edges)


def test_comma_separated_edge_file_says_to_use_spaces(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("1,2\n2,3\n")
    with pytest.raises(ValueError, match="found 1; separate them by spaces or tabs"):
        read_edge_list(edges)


def test_transparent_image_says_what_to_do(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0, 3] = 255
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    with pytest.raises(
        ValueError, match=r"alpha\.png: has transparent pixels.*flatten"
    ):
        load_image(path)


def test_vq_log_names_the_codebooks_and_keeps_its_decimals():
    # The report fits k = 256 once per M: its lines differed only in figures,
    # and round() dropped trailing zeros (cosine 0.98 beside 0.9255).
    lines = []
    X = make_embeddings(300, 8, random_state=0)
    compress_embeddings(X, [4], n_subvectors=2, n_init=1, log=lines.append)
    compress_embeddings(X, [4], n_init=1, log=lines.append)
    assert lines[0].startswith("table k=4 M=2: ")
    assert lines[1].startswith("table k=4: ")
    for line in lines:
        ratio = line.split("(ratio ")[1].split(")")[0]
        cosine = line.split("cosine ")[1]
        assert len(ratio.split(".")[1]) == 3
        assert len(cosine.split(".")[1]) == 4


def test_decode_of_a_missing_file_names_the_codes_beside_it(tmp_path, capsys):
    # With --subvectors 2 the codes are compressed_k4_m2.npz; the README's
    # compressed_k4.npz said only "no such file".
    table, out = tmp_path / "table.npy", tmp_path / "out"
    np.save(table, make_embeddings(60, 8, random_state=0))
    argv = ["vq", str(table), "-k", "4", "--subvectors", "2", "--out", str(out)]
    assert main([*argv, "-q"]) == 0
    capsys.readouterr()
    missing = out / "compressed_k4.npz"
    assert main(["vq", "--decode", str(missing), "--out", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert f"{missing}: no such file (its folder holds compressed_k4_m2.npz)" in stderr


def test_demo_says_what_its_inertias_are(capsys):
    # The two inertias differ by a factor of 20 for the metric alone.
    assert main(["demo", "-k", "2"]) == 0
    printed = capsys.readouterr().out
    assert "KMeansL1 Manhattan distances" in printed
    seconds = [line.split("|")[4].strip() for line in printed.splitlines()[3:5]]
    assert all(len(value.split(".")[1]) == 2 for value in seconds)


def test_metric_names_are_read_in_either_case():
    # "--metric L2" (as the docs write L2 and L1) was refused.
    assert parse_arguments(["image", "--metric", "L2", "l1"]).metric == ["l2", "l1"]
    assert parse_arguments(["vq", "--metric", "Cosine"]).metric == "cosine"
