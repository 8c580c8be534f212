"""What a source checkout and a distribution need to carry."""

import shutil
import subprocess
import sys
from pathlib import Path

import skclust


def test_an_unbuilt_source_folder_says_how_to_build_it(tmp_path):
    # `python -m pytest` in a checkout imports ./skclust first; after a plain
    # `pip install .` its compiled modules are not there.
    source = Path(skclust.__file__).parent
    shutil.copytree(
        source,
        tmp_path / "skclust",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"),
    )
    result = subprocess.run(
        [sys.executable, "-c", "import skclust"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: skclust's compiled modules")
    assert "pip install -e ." in last_line
    assert str(tmp_path / "skclust") in last_line


def test_the_package_ships_a_py_typed_marker():
    assert (Path(skclust.__file__).parent / "py.typed").is_file()
