"""The report in a real browser: Debian's chromium driven by Playwright (tests/browser.py), offline.

Each page must load with no console or page error, show every <img> (a broken data: URI raises no
console error, so each image's naturalWidth is read), ask for nothing outside its file, and not
be blank. Skipped, with the reason, where chromium or Playwright is missing; CI installs both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from browser import browser_or_skip, check_page

pytestmark = pytest.mark.training


@pytest.fixture
def trained_runs(run_cli, tiny_spec) -> list[Path]:
    browser_or_skip()  # before training: nothing to look at without a browser
    runs = []
    for overrides in ([], ["--set", "fit.epochs=2"]):
        result = run_cli("train", str(tiny_spec), "-q", "--json", *overrides)
        assert result.exit_code == 0, result.stderr
        runs.append(Path(json.loads(result.stdout)["run_dir"]))
    return runs


def test_a_trained_runs_report_and_the_report_of_several_render_whole(run_cli, trained_runs, workdir):
    one = trained_runs[0] / "report.html"  # written by the training itself
    checked = check_page(one, workdir / "one.png")
    assert checked.problems == [] and checked.images >= 3  # loss and accuracy curves, the confusion matrix
    assert "tiny" in checked.title

    several = run_cli("report", *map(str, trained_runs), "--out", "both.html")
    assert several.exit_code == 0, several.stderr
    checked = check_page(workdir / "both.html", workdir / "both.png")
    assert checked.problems == [] and checked.images == 2


def test_the_checks_catch_a_broken_image_and_a_request_outside_the_file(trained_runs, workdir):
    html = (trained_runs[0] / "report.html").read_text()
    first_picture = re.search(r'src="data:image/png;base64,[^"]+"', html).group(0)
    broken = workdir / "broken.html"
    broken.write_text(html.replace(first_picture, 'src="data:image/png;base64,iVBORw0KGgoAAAAAAAA="', 1)
                      .replace("</main>", '<img src="https://example.com/tracker.png" alt="remote"></main>'))
    checked = check_page(broken)
    assert len(checked.broken_images) == 2  # the damaged picture, and the remote one that was refused
    assert checked.outside_requests == ["https://example.com/tracker.png"]
    blank = workdir / "blank.html"
    blank.write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>blank</title></head></html>')
    assert check_page(blank).problems == ["the screenshot is blank"]
