"""Output folders under abuse: links, inputs among the outputs, hostile names,
stale files, killed runs, a second run at the same time, and ``skclust verify``."""

import fcntl
import json
import os

import numpy as np
import pytest
from PIL import Image

from skclust._cli import main
from skclust._cli._output import JOURNAL, MANIFEST, MARKER

KARATE_NODES = ['1\t"a"\t0', '2\t"b"\t0', '3\t"c"\t1', '4\t"d"\t1']
KARATE_EDGES = ["1\t2", "3\t4", "2\t3"]


@pytest.fixture(autouse=True)
def _no_study_data(monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _graph(capsys, out, *extra):
    return _run(capsys, "graph", "-k", 2, "--tune", "2:2", *extra, "--out", out)


def _photo(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)).save(
        path, format="PNG"
    )
    return path


def _files(folder):
    """Relative paths of every file under ``folder`` (links included)."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() or p.is_symlink()
    )


def _listed(folder):
    manifest = json.loads((folder / MANIFEST).read_text())
    return sorted(entry["path"] for entry in manifest["files"])


def test_marker_link_is_never_followed(tmp_path, capsys):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    photo = _photo(tmp_path / "photo.png")
    table = tmp_path / "table.npy"
    np.save(table, np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32))
    for argv in (
        ["graph", "-k", "2", "--tune", "2:2"],
        ["image", photo, "-k", "2", "--metric", "l2"],
        ["vq", table, "-k", "2", "--n-init", "1"],
    ):
        out = tmp_path / f"out-{argv[0]}"
        out.mkdir()
        (out / MARKER).symlink_to(precious)
        code, _, stderr = _run(capsys, *argv, "--out", out)
        assert code == 2
        assert stderr.count("\n") == 1 and "is a link" in stderr
        assert precious.read_text() == "keep me"
        assert _files(out) == [MARKER]


def test_graph_inputs_named_like_its_outputs_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("written by skclust\n")
    nodes, edges = out / "overall.csv", out / "mismatch_k2.md"
    nodes.write_text("".join(line + "\n" for line in KARATE_NODES))
    edges.write_text("".join(line + "\n" for line in KARATE_EDGES))
    before = nodes.read_bytes(), edges.read_bytes()
    code, _, stderr = _graph(capsys, out, "--nodes", nodes, "--edges", edges)
    assert code == 2
    assert stderr.count("\n") == 1 and "refusing to overwrite an input" in stderr
    assert (nodes.read_bytes(), edges.read_bytes()) == before
    assert _files(out) == sorted([MARKER, "overall.csv", "mismatch_k2.md"])


def test_input_reached_through_a_link_is_refused(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    nodes = real / "overall.csv"
    nodes.write_text("".join(line + "\n" for line in KARATE_NODES))
    edges = tmp_path / "edges.txt"
    edges.write_text("".join(line + "\n" for line in KARATE_EDGES))
    (tmp_path / "alias").symlink_to(real)
    code, _, stderr = _graph(
        capsys, tmp_path / "alias", "--force", "--nodes", nodes, "--edges", edges
    )
    assert code == 2 and "refusing to overwrite an input" in stderr
    assert nodes.read_text().startswith("1\t")


def test_hostile_and_colliding_image_names_stay_distinct_inside_out(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    inputs = [
        _photo(tmp_path / "a" / "x.png", 0),
        _photo(tmp_path / "b" / "x.png", 1),
        _photo(tmp_path / "x-2.png", 2),
        _photo(tmp_path / "...png", 3),
        _photo(tmp_path / "we ird;name.png", 4),
    ]
    out = tmp_path / "deep" / "out"
    argv = ["image", *inputs, "-k", 2, "--metric", "l2", "--out", out]
    code, _, stderr = _run(capsys, *argv)
    assert code == 0, stderr
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["image", "we_ird_name", "x", "x-2", "x-3"]
    # Nothing landed beside --out.
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]
    # Five distinct reconstructions: no image's results replaced another's.
    pngs = [out / f / f"{f}_l2_k2.png" for f in folders]
    assert len({p.read_bytes() for p in pngs}) == 5


def test_second_run_removes_what_the_first_wrote_and_verify_agrees(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, "graph", "-k", 2, 4, "--tune", "2:4", "--out", out)[0] == 0
    assert "mismatch_k4.csv" in _listed(out)
    assert _graph(capsys, out)[0] == 0
    assert _files(out) == sorted([MARKER, MANIFEST, *_listed(out)])
    assert "mismatch_k4.csv" not in _files(out)
    code, stdout, _ = _run(capsys, "verify", out)
    assert code == 0 and "files match" in stdout


def test_verify_names_files_the_manifest_does_not_list(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(capsys, "graph", "-k", 2, "--tune", "2:3", "--out", out)[0] == 0
    (out / "my notes.txt").write_text("mine")
    (out / "extra").mkdir()
    (out / "extra" / "plot.png").write_bytes(b"png")
    code, stdout, _ = _run(capsys, "verify", out)
    # Still the last run's complete output, and the summary says what else is there.
    assert code == 0
    assert stdout.rstrip().endswith(
        "; 2 other files are not in it (extra/plot.png, my notes.txt)"
    )
    (out / "extra" / "plot.png").unlink()
    code, stdout, _ = _run(capsys, "verify", out)
    assert stdout.rstrip().endswith("; 1 other file is not in it (my notes.txt)")


def test_verify_names_the_first_bad_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert _graph(capsys, out)[0] == 0
    first, second = _listed(out)[:2]
    (out / second).write_bytes(b"tampered")
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and stderr.count("\n") == 1 and second in stderr
    # Same size, other content: the hash catches it.
    size = (out / first).stat().st_size
    (out / first).write_bytes(b"x" * size)
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and first in stderr and "SHA-256" in stderr
    (out / first).unlink()
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and f"{first}: missing" in stderr
    # A link in place of a listed file is not that file.
    (out / first).symlink_to(out / second)
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and first in stderr and "is a link" in stderr
    (out / first).unlink()
    (out / MANIFEST).unlink()
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and MANIFEST in stderr
    code, _, stderr = _run(capsys, "verify", tmp_path / "nowhere")
    assert code == 2 and "no such folder" in stderr


def test_a_folder_in_use_is_refused_and_a_dead_owner_is_not_in_the_way(
    tmp_path, capsys
):
    out = tmp_path / "out"
    assert _graph(capsys, out)[0] == 0
    listed = _listed(out)
    # Another run holds the folder: the lock is an flock on the marker.
    with open(out / MARKER, "r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("written by skclust\npid 4242\n")
        held.flush()
        code, _, stderr = _run(capsys, "graph", "-k", 3, "--out", out)
    assert code == 2 and stderr.count("\n") == 1
    assert "in use by another skclust run (pid 4242)" in stderr
    assert _listed(out) == listed
    # The owner is gone (the marker still names it): the next run proceeds.
    code, _, _ = _run(capsys, "graph", "-k", 3, "--tune", "2:2", "--out", out)
    assert code == 0
    assert "mismatch_k3.csv" in _listed(out)


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    assert _graph(capsys, out)[0] == 0
    (out / ".overall.csv.ab12cd34.part").write_text("half")
    staging = out / ".skclust-staging-999999-xyz"
    staging.mkdir()
    (staging / "tuning.png").write_text("half")
    # A run killed while moving its files in: the journal stays behind and
    # verify says the folder is incomplete.
    (out / JOURNAL).write_text(json.dumps({"old": [], "new": ["extra.csv"]}))
    (out / "extra.csv").write_text("from the killed run")
    code, _, stderr = _run(capsys, "verify", out)
    assert code == 2 and "incomplete" in stderr
    assert _graph(capsys, out)[0] == 0
    assert _files(out) == sorted([MARKER, MANIFEST, *_listed(out)])
    assert _run(capsys, "verify", out)[0] == 0


def test_interrupted_run_keeps_the_previous_complete_output(
    tmp_path, capsys, monkeypatch
):
    from skclust._cli import graph

    out = tmp_path / "out"
    assert _graph(capsys, out)[0] == 0
    before = {name: (out / name).read_bytes() for name in _files(out)}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(graph, "save_figure", interrupt)
    code, _, stderr = _run(capsys, "graph", "-k", 3, "--tune", "2:3", "--out", out)
    assert code == 130 and "interrupted" in stderr
    after = {name: (out / name).read_bytes() for name in _files(out)}
    assert after.keys() == before.keys()
    assert all(after[n] == before[n] for n in before if n != MARKER)
    assert _run(capsys, "verify", out)[0] == 0


def test_decode_adds_to_the_run_that_made_its_codes(tmp_path, capsys):
    table = tmp_path / "table.npy"
    rng = np.random.default_rng(0)
    np.save(table, rng.normal(size=(60, 4)).astype(np.float32))
    out = tmp_path / "out"
    assert _run(capsys, "vq", table, "-k", 2, 4, "--n-init", 1, "--out", out)[0] == 0
    first = _listed(out)
    code, _, stderr = _run(
        capsys, "vq", "--decode", out / "compressed_k2.npz", "--out", out
    )
    assert code == 0, stderr
    assert _listed(out) == sorted([*first, "compressed_k2_decoded.npy"])
    assert _run(capsys, "verify", out)[0] == 0


def test_concurrent_runs_leave_one_complete_output(tmp_path, capsys):
    import subprocess
    import sys

    out = tmp_path / "out"
    command = [sys.executable, "-m", "skclust", "graph", "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "SKCLUST_DATA"}
    runs = [
        subprocess.Popen(
            [*command, "-k", str(k), "--tune", f"2:{k}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            # Outside the source tree, whose skclust folder is not compiled.
            cwd=tmp_path,
        )
        for k in (2, 3, 4)
    ]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    for run in runs:
        run.stderr.close()
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:
        assert code == 0 or "in use by another skclust run" in stderr
    # Exactly one run's files: the manifest lists all of them and verify agrees.
    assert _files(out) == sorted([MARKER, MANIFEST, *_listed(out)])
    assert len([name for name in _listed(out) if name.startswith("mismatch_k")]) == 2
    assert _run(capsys, "verify", out)[0] == 0


def test_an_output_folder_that_cannot_be_made_is_named(tmp_path, capsys):
    # The errno text alone ("[Errno 20] Not a directory: ...") did not say
    # what could not be done.
    (tmp_path / "file").write_text("not a folder\n")
    out = tmp_path / "file" / "out"
    code, _, stderr = _graph(capsys, out)
    assert code == 2 and stderr.count("\n") == 1
    assert f"{out}: cannot create the output folder" in stderr
    assert (tmp_path / "file").read_text() == "not a folder\n"


def test_a_failed_run_removes_the_folders_it_made(tmp_path, capsys):
    # skclust image made --out (holding only its marker) before reading the
    # images, and left it when every image failed.
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "new" / "out"
    code, _, stderr = _run(capsys, "image", bad, "-k", 2, "--out", out)
    assert code == 2 and "not an image file" in stderr
    assert not (tmp_path / "new").exists()
    # A folder that was there before stays, and so does an earlier run's output.
    kept = tmp_path / "kept"
    code, _, stderr = _run(
        capsys,
        "image",
        _photo(tmp_path / "p.png"),
        "-k",
        2,
        "--metric",
        "l2",
        "--out",
        kept,
    )
    assert code == 0, stderr
    before = _files(kept)
    code, _, _ = _run(capsys, "image", bad, "-k", 2, "--out", kept)
    assert code == 2
    assert _files(kept) == before


@pytest.mark.parametrize("command", ["image", "graph", "vq", "report"])
@pytest.mark.parametrize("option", ["--out", "--data"])
def test_an_empty_folder_path_is_refused(tmp_path, capsys, command, option):
    # --out '' was taken as the current folder.
    code, stdout, stderr = _run(capsys, command, option, "")
    assert code == 2 and stdout == ""
    assert f"argument {option}: an empty path is not a folder" in stderr
    assert len(stderr.strip().splitlines()) == 1
