"""Every code block of README.md and docs/*.rst runs as pasted.

A page's Python blocks run in order in one namespace, as a reader pasting them
into one session would. Shell blocks run their ``skclust`` commands through the
command line's ``main``; the other shell commands (installs, the test and docs
builds) are what CI itself runs, so they are only checked to be known ones.
``text`` blocks are usage synopses with placeholders and are not run.

The blocks run in a fresh folder that, like the development layout, has the
study's data at ``../shared/data`` and, for the pages that read ``nodes.txt``
or ``football.bmp`` from the current folder, the files themselves. Blocks that
need those files run when ``SKCLUST_DATA`` is set (as in CI).
"""

import os
import re
import shlex
from pathlib import Path

import matplotlib
import pytest

from skclust._cli import main

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
STUDY_FILES = ("football.bmp", "parrots.png", "nodes.txt", "edges.txt", "AImodel.npy")
NEEDS_DATA = re.compile(
    "|".join([*map(re.escape, STUDY_FILES), r"load_political_blogs\(", "shared/data"])
)
# Shell commands that CI runs itself (.ci/run) or that only set up a shell.
NOT_RUN_HERE = (
    "python3 -m venv",
    ". .venv/bin/activate",
    "pip install",
    "pytest",
    "ruff ",
    "python -m sphinx",
    "python benchmarks/",
)
LANGUAGES = {"python", "sh", "text"}


def _markdown_blocks(text):
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, flags=re.M | re.S):
        yield match.group(1), match.group(2)


def _rst_blocks(text):
    lines = text.splitlines()
    for number, line in enumerate(lines):
        directive = re.match(r"\.\. code-block::\s*(\w*)", line)
        literal = line.rstrip().endswith("::") and not line.startswith("..")
        if not (directive or literal):
            continue
        body = []
        for following in lines[number + 1 :]:
            if following.strip() and not following.startswith(" "):
                break
            body.append(following)
        code = "\n".join(body)
        indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        code = "\n".join(b[indent:] for b in body).strip("\n") + "\n"
        yield (directive.group(1) if directive else ""), code


def blocks(page):
    """(language, code) of every code block of a page, in order."""
    text = page.read_text(encoding="utf-8")
    found = _markdown_blocks(text) if page.suffix == ".md" else _rst_blocks(text)
    return list(found)


def _shell_commands(code):
    joined = code.replace("\\\n", " ")
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        yield from (part.strip() for part in line.split("&&"))


@pytest.fixture
def paste_folder(tmp_path, monkeypatch):
    """A folder laid out as a reader's, the study's files beside and inside it."""
    work = tmp_path / "work"
    work.mkdir()
    data = os.environ.get("SKCLUST_DATA")
    if data:
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data").symlink_to(Path(data).resolve())
        for name in STUDY_FILES:
            (work / name).symlink_to(Path(data).resolve() / name)
    monkeypatch.chdir(work)
    matplotlib.use("Agg")
    return work


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_block_declares_a_known_language(page):
    languages = [language for language, _ in blocks(page)]
    assert set(languages) <= LANGUAGES, (
        f"{page.name}: blocks must be python, sh or text, found {languages}"
    )


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if any(lang == "python" for lang, _ in blocks(p))],
    ids=lambda p: p.name,
)
def test_python_blocks_run_as_pasted(page, paste_folder):
    namespace = {"__name__": "__main__"}
    skipped = []
    for number, (language, code) in enumerate(blocks(page)):
        if language != "python":
            continue
        if NEEDS_DATA.search(code) and not os.environ.get("SKCLUST_DATA"):
            skipped.append(number)
            continue
        try:
            exec(compile(code, f"{page.name} block {number}", "exec"), namespace)
        except NameError:
            if not skipped:  # else it may use what a skipped block defined
                raise
            skipped.append(number)
        except Exception as error:
            pytest.fail(f"{page.name}, block {number} failed: {error!r}\n{code}")
    if skipped:
        pytest.skip(f"blocks {skipped} read the study's files; set SKCLUST_DATA")


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if any(lang == "sh" for lang, _ in blocks(p))],
    ids=lambda p: p.name,
)
def test_shell_blocks_run_as_pasted(page, paste_folder, monkeypatch, capsys):
    commands = [
        command
        for language, code in blocks(page)
        if language == "sh"
        for command in _shell_commands(code)
    ]
    unknown = [c for c in commands if not c.startswith(("skclust", *NOT_RUN_HERE))]
    assert not unknown, f"{page.name}: commands this test does not know: {unknown}"
    # A new user has no SKCLUST_DATA: commands without --data use the defaults.
    monkeypatch.delenv("SKCLUST_DATA", raising=False)
    ran = 0
    for command in commands:
        if not command.startswith("skclust"):
            continue
        if "--data" in command and not (paste_folder.parent / "shared").exists():
            continue
        code = main(shlex.split(command)[1:])
        assert code == 0, f"{page.name}: `{command}` exited {code}"
        ran += 1
    assert not ran or capsys.readouterr().out
