"""Progress of the command line: a bar on a terminal, plain lines otherwise."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

from skclust._cli import main
from skclust._cli._progress import Progress
from skclust.datasets import make_embeddings


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _photo(path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)).save(path)
    return str(path)


def test_a_terminal_gets_a_bar_with_the_time_left(tmp_path, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    photo = _photo(tmp_path / "p.png")
    code = main(["image", photo, "-k", "2", "3", "--out", str(tmp_path / "o")])
    assert code == 0
    bar = terminal.getvalue()
    # tqdm's bar: what, fits done of fits due, and the estimate of time left.
    assert "image fits" in bar and "3/4" in bar and "<00:" in bar
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("p.png ") for line in lines) == 4


def test_not_a_terminal_gets_plain_lines(tmp_path, capsys):
    photo = _photo(tmp_path / "p.png")
    assert main(["image", photo, "-k", "2", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert sum(line.startswith("p.png ") for line in captured.out.splitlines()) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["image", "{photo}", "-k", "2"],
        ["vq", "-k", "4", "8", "--n-init", "1"],
        ["graph", "-k", "2", "--tune", "2:3"],
    ],
    ids=lambda argv: argv[0],
)
def test_quiet_prints_nothing_but_errors(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    photo = _photo(tmp_path / "p.png")
    argv = [a.format(photo=photo) for a in argv]
    assert main([*argv, "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr() == ("", "")
    assert any((tmp_path / "o").iterdir())
    # Errors still come through.
    code = main(["image", str(tmp_path / "none.png"), "-q", "--out", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.startswith("skclust image: error: ")


def test_progress_counts_fits_not_notes_or_errors(capsys):
    stream = _Terminal()
    with Progress(3, "fits", bar=True) as log:
        log._bar.fp = stream  # keep the bar out of pytest's capture
        log("a k=2: done")
        log("note: a: something")
        log("error: b: broken")
        assert log._bar.n == 1
    assert capsys.readouterr().out.splitlines() == [
        "a k=2: done",
        "note: a: something",
        "error: b: broken",
    ]


def test_quiet_decode_prints_nothing(tmp_path, capsys):
    # --decode printed its "wrote ..._decoded.npy" line under --quiet.
    table = tmp_path / "t.npy"
    np.save(table, make_embeddings(100, 4, random_state=0))
    out = tmp_path / "o"
    assert main(["vq", str(table), "-k", "4", "-q", "--out", str(out)]) == 0
    capsys.readouterr()
    codes = str(out / "compressed_k4.npz")
    assert main(["vq", "--decode", codes, "-q", "--out", str(out)]) == 0
    assert capsys.readouterr() == ("", "")
    assert (out / "compressed_k4_decoded.npy").is_file()
