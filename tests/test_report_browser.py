"""The report in a real browser: headless Chromium, when one is installed.

``.ci/run`` installs Debian's chromium, so CI runs this; elsewhere it is
skipped when there is no Chromium or no playwright (the Python driver).
"""

import re
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def report(embedded_report):
    return embedded_report / "index.html"


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
def test_report_renders_without_errors_and_every_image_loads(report, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    problems = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.goto(report.as_uri(), wait_until="load")
        # Open the full-resolution panels too, and wait for their pictures.
        page.evaluate(
            "document.querySelectorAll('details').forEach(d => d.open = true)"
        )
        page.wait_for_load_state("load")
        page.wait_for_function(
            "[...document.images].every(i => i.complete)", timeout=30_000
        )
        images = page.evaluate(
            "[...document.images].map(i => [i.getAttribute('src').slice(0, 60),"
            " i.naturalWidth])"
        )
        screenshot = tmp_path / "report.png"
        page.screenshot(path=str(screenshot))
        browser.close()
    assert not problems, problems
    broken = [src for src, width in images if width == 0]
    assert not broken, f"images that did not load: {broken}"
    # Two bundled photographs, two metrics, five k: a reconstruction, its
    # error map and both details each, plus the originals and the plots.
    assert len(images) >= 2 * 2 * 5 * 4
    assert screenshot.stat().st_size > 10_000


def test_report_header_and_tables_say_how_they_were_made(report):
    page = report.read_text()
    for heading in ("skclust", "command", "date", "CPU cores", "total time"):
        assert f"<dt>{heading}</dt>" in page
    assert "skclust report --out" in page
    # Each table states its settings, and no raw column key is shown.
    assert page.count("<table>") == page.count('class="settings"')
    for raw in ("psnr_db", "compressed_bytes", "recall_at_10"):
        assert raw not in page
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells and not [c for c in cells if re.search(r"\de[+-]\d", c)]
    assert "1 k-means++ start per codebook" in page
    assert "10 k-means++ starts per k" in page
    # n_init="auto" takes more runs where eigenvalues repeat: not "one run".
    assert "one run per k unless eigenvalues repeat" in page
