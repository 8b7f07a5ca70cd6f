"""`dlcli report --book`: the book's reproduction table, from hand-made run directories (run.json,
metrics.json with the verdict the run holds, spec.yaml) of a few of the project's named experiments,
one per verdict. No model is trained and no TensorFlow is needed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TINY_SPEC, write

from dlcli.catalog import PACKAGE_EXPERIMENTS
from dlcli.report.book import book_table
from dlcli.report.book_page import book_report


def make_run(workdir: Path, name: str, stamp: str, status: str = "completed", check: dict | None = None,
             recipe_changes: list[str] | None = None, report: bool = False) -> Path:
    """A run directory as dlcli writes one, with the verdict `check` in its metrics.json."""
    path = workdir / "runs" / name / stamp
    path.mkdir(parents=True)
    shutil.copyfile(PACKAGE_EXPERIMENTS / f"{name}.yaml", path / "spec.yaml")
    info = {"format": 2, "status": status, "experiment": name, "started_at": "2026-12-03T10:00:00+00:00",
            "overrides": [], "recipe_source": str(PACKAGE_EXPERIMENTS / f"{name}.yaml"),
            "recipe_changes": recipe_changes or []}
    (path / "run.json").write_text(json.dumps(info), encoding="utf-8")
    if check is not None:
        metrics = {check["metric"]: check["actual"]} if check.get("metric") and "actual" in check else {}
        verdict = {"status": check.pop("status"), "checks": [check] if check else []}
        (path / "metrics.json").write_text(json.dumps({"metrics": metrics, "check": verdict}), encoding="utf-8")
    if report:
        (path / "report.html").write_text("<!DOCTYPE html><title>run</title>", encoding="utf-8")
    return path


@pytest.fixture
def runs(workdir) -> dict[str, Path]:
    """One experiment per verdict; the data cache is empty (only shipped data is present)."""
    made = {
        "passed": make_run(workdir, "mnist-dense", "20261203-100000", report=True, check={
            "status": "passed", "metric": "test_accuracy", "expected": "0.9785 ± 0.01", "actual": 0.981}),
        "differs": make_run(workdir, "imdb-dense-final", "20261203-100000", check={
            "status": "differs", "metric": "test_accuracy", "expected": "0.8833 ± 0.015", "actual": 0.85,
            "direction": "worse", "margin": 0.0333, "reported": 0.8833}),
        "failed": make_run(workdir, "imdb-dense", "20261203-100000", check={
            "status": "failed", "metric": "val_loss", "statistic": "argmin", "relation": "between",
            "expected": [2, 5], "actual": 9.0}),
        "unverifiable": make_run(workdir, "boston-final", "20261203-100000", check={
            "status": "unverifiable", "metric": "test_mae", "reason": "the run produced no 'test_mae'"}),
        # reuters-dense-final: a newer run changed the recipe; the older one that followed it counts
        "comparable": make_run(workdir, "reuters-dense-final", "20261203-100000", check={
            "status": "passed", "metric": "test_accuracy", "actual": 0.79}),
        "overridden": make_run(workdir, "reuters-dense-final", "20261203-110000", check={
            "status": "not comparable", "metric": "test_accuracy", "actual": 0.5},
            recipe_changes=["fit.epochs=1 (source: 9)"]),
        # jena-baseline: only a run that changed the recipe
        "not comparable": make_run(workdir, "jena-baseline", "20261203-100000", check={
            "status": "not comparable", "metric": "val_mae", "actual": 0.31}, recipe_changes=["data.step=3 (source: 6)"]),
        "failed run": make_run(workdir, "digits-convnet", "20261203-100000", status="failed"),
        # vgg16-finetune followed its recipe, but continued a run that had not: its own verdict says so
        "continued": make_run(workdir, "vgg16-finetune", "20261203-100000", check={
            "status": "not comparable", "metric": "test_accuracy", "actual": 0.96,
            "reason": "continued the model of runs/vgg16-features-augment/x, which changed its own recipe"}),
    }
    return made


def rows_of(table: dict) -> dict[str, dict]:
    return {row["name"]: row for row in table["experiments"]}


def test_every_verdict_from_hand_made_runs(run_cli, runs, workdir):
    result = run_cli("report", "--book", "--json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    rows = rows_of(table)
    assert rows["mnist-dense"]["verdict"] == "passed" and rows["mnist-dense"]["actual"] == 0.981
    assert rows["mnist-dense"]["report"] == str((runs["passed"] / "report.html").resolve())
    assert rows["imdb-dense-final"]["verdict"] == "differs"
    assert (rows["imdb-dense-final"]["direction"], rows["imdb-dense-final"]["margin"]) == ("worse", 0.0333)
    assert rows["imdb-dense-final"]["report"] is None
    assert rows["imdb-dense-final"]["run_dir"] == str(runs["differs"].resolve())
    assert rows["imdb-dense"]["verdict"] == "failed" and rows["imdb-dense"]["actual"] == 9.0
    assert rows["boston-final"]["verdict"] == "unverifiable"
    assert rows["jena-baseline"]["verdict"] == "not comparable"
    assert rows["jena-baseline"]["run_dir"] == str(runs["not comparable"].resolve())
    assert rows["vgg16-finetune"]["verdict"] == "not comparable" and "continued" in rows["vgg16-finetune"]["reason"]
    # digits ship with dlcli: never run (its one run failed); mnist's cache is empty: data unavailable
    assert rows["digits-convnet"]["verdict"] == "never run" and rows["digits-convnet"]["run_dir"] is None
    assert "1 run, none completed" in rows["digits-convnet"]["reason"]
    assert rows["mnist-convnet"]["verdict"] == "data unavailable"
    assert "dlcli data download mnist" in rows["mnist-convnet"]["reason"]
    assert list(rows["mnist-convnet"]["missing"]) == ["dataset mnist"]
    assert "dlcli data download mnist" in table["summary"]["missing_data"]["dataset mnist"]  # said once for all
    # chapter 8 quotes no number: listed, with its quote, verdict none
    assert rows["vae-mnist"]["verdict"] == "none" and rows["vae-mnist"]["quote"]
    assert rows["vae-mnist"]["metric"] is None and rows["vae-mnist"]["chapter"] == 8


def test_an_overridden_run_is_not_the_comparable_one(run_cli, runs):
    rows = rows_of(json.loads(run_cli("report", "--book", "--json").stdout))
    row = rows["reuters-dense-final"]  # the newer run set fit.epochs=1: the older one is judged
    assert (row["verdict"], row["actual"], row["run_dir"]) == ("passed", 0.79, str(runs["comparable"].resolve()))
    shutil.rmtree(runs["comparable"])
    row = rows_of(book_table())["reuters-dense-final"]  # only the overridden run is left
    assert row["verdict"] == "not comparable" and "fit.epochs=1 (source: 9)" in row["reason"]
    assert row["run_dir"] == str(runs["overridden"].resolve())


def test_counts_and_json_shape(run_cli, runs):
    table = json.loads(run_cli("report", "--book", "--json").stdout)
    assert {"path", "summary", "experiments"} <= set(table)
    rows, summary = table["experiments"], table["summary"]
    for row in rows:
        assert {"name", "chapter", "source", "listing", "quote", "metric", "expected", "actual", "verdict",
                "run_dir", "report"} <= set(row)
    passed = sorted(row["name"] for row in rows if row["verdict"] == "passed")
    assert passed == ["mnist-dense", "reuters-dense-final"] and summary["reproduced"] == 2
    quotes_only = [row for row in rows if row["verdict"] == "none"]
    assert {"vae-mnist", "gan-cifar10-frogs", "text-generation-lstm"} <= {row["name"] for row in quotes_only}
    own = [row for row in rows if row["own_check"]]  # dlcli's own checks: not the sources' results
    assert summary["quotes_only"] == len(quotes_only) and summary["own_checks"] == len(own) > 0
    assert summary["checkable"] == len(rows) - len(quotes_only) - len(own)
    assert sum(summary["verdicts"].values()) == summary["checkable"]
    assert summary["verdicts"]["differs"] == summary["verdicts"]["failed"] == 1
    assert summary["line"] == (f"2 of {summary['checkable']} quoted results reproduced on this machine, and "
                               f"{len(own)} checks of dlcli's own (0 passed); "
                               f"{len(quotes_only)} more quote the source with nothing to check")
    assert all(row["reason"] for row in rows if row["verdict"] == "data unavailable")


def test_rows_are_grouped_by_chapter_then_source(runs):
    rows = book_table()["experiments"]
    chapters = [row["chapter"] for row in rows]
    numbered = [chapter for chapter in chapters if chapter is not None]
    assert numbered == sorted(numbered) and chapters[len(numbered):] == [None] * (len(chapters) - len(numbered))
    found = rows_of({"experiments": rows})
    assert (found["imdb-lstm"]["chapter"], found["jena-gru-reversed"]["chapter"]) == (6, 6)  # "6.27"; "text after 6.41"
    assert found["qa-two-inputs"]["chapter"] == 7  # the section is in its source: "..., 7.1-7.2 (L12187-12335)"
    assert found["lenet5-mnist"]["chapter"] is None  # a course lesson: grouped by its source alone
    assert found["imdb-lstm"]["source_name"] == "Deep Learning with Python (1st ed.)"
    assert found["cifar10-convnet-augmented"]["source_name"] == found["lenet5-mnist"]["source_name"] \
        == "course lesson on convnets (seed 003)"


def test_page_default_place_and_links_that_work(run_cli, runs, workdir):
    result = run_cli("report", "--book")
    assert result.exit_code == 0, result.stderr
    path, line = result.stdout.splitlines()
    assert Path(path) == (workdir / "runs" / "book-report.html").resolve()
    assert line.startswith("2 of ") and "reproduced on this machine" in line
    for page in (Path(path), workdir / "elsewhere" / "book.html"):
        if not page.exists():
            page.parent.mkdir()
            assert run_cli("report", "--book", "--out", str(page)).exit_code == 0
        html = page.read_text(encoding="utf-8")
        hrefs = set(re.findall(r'<a href="([^"]+)"', html))
        for anchor in (href for href in hrefs if href.startswith("#")):  # the chapters' table of contents
            assert f'id="{anchor[1:]}"' in html, anchor
        links = {href for href in hrefs if not href.startswith("#")}
        assert links, "no run linked"
        for href in links:  # relative, and each one reaches a run's report.html or its folder
            assert not Path(href).is_absolute() and (page.parent / href).exists(), href
        assert any((page.parent / href).resolve() == (runs["passed"] / "report.html").resolve() for href in links)
        assert any((page.parent / href).resolve() == runs["differs"].resolve() for href in links)


@pytest.mark.parametrize("args, part", [
    (["mnist-dense", "--book"], "give it no RUN"),
    (["--book", "--out", "table.txt"], "ending in .html"),
    (["--book", "--out", "nowhere/table.html"], "no such folder"),
    (["--book", "--out", "runs/mnist-dense/20261203-100000/book.html"], "inside the run directory"),
])
def test_bad_requests_are_one_line_exit_2_and_write_nothing(run_cli, runs, workdir, args, part):
    result = run_cli("report", *args)
    assert result.exit_code == 2 and part in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not list(workdir.rglob("*.html")) or {p.name for p in workdir.rglob("*.html")} == {"report.html"}


def test_a_damaged_metrics_file_is_unverifiable_not_a_crash(runs):
    (runs["passed"] / "metrics.json").write_text("{not json", encoding="utf-8")
    row = rows_of(book_table())["mnist-dense"]
    assert row["verdict"] == "unverifiable" and "metrics.json" in row["reason"]


def test_book_imports_no_tensorflow(workdir):
    code = ("import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', 'report', '--book']\ncode = 0\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print('HEAVY', [m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules], code)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=workdir,
                         check=False).stdout
    assert "HEAVY [] 0" in out, out
    assert (workdir / "runs" / "book-report.html").is_file()


def test_page_in_a_real_browser(run_cli, runs, workdir):
    from browser import check_page

    result = run_cli("report", "--book")
    page = Path(result.stdout.splitlines()[0])
    check = check_page(page, screenshot=workdir / "book.png")
    assert not check.problems, check.problems
    assert check.title.startswith("The book's reproduction table: 2 of ")


def test_experiments_without_a_reference_or_with_a_broken_one_are_named_not_fatal(run_cli, workdir):
    write(workdir / "experiments" / "mine.yaml", TINY_SPEC.split("reference:")[0])  # no reference block
    write(workdir / "experiments" / "broken.yaml", TINY_SPEC.replace("  source: tests\n", ""))  # reference without source
    write(workdir / "experiments" / "tiny.yaml", TINY_SPEC)
    result = run_cli("report", "--book", "--json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert table["summary"]["without_reference"] == ["mine"]
    assert len(table["summary"]["unreadable"]) == 1 and "broken.yaml: reference.source: " in table["summary"]["unreadable"][0]
    rows = rows_of(table)
    assert "broken" not in rows and "mine" not in rows
    assert (rows["tiny"]["chapter"], rows["tiny"]["source_name"], rows["tiny"]["verdict"]) == (None, "tests", "never run")
    html = Path(table["path"]).read_text(encoding="utf-8")
    assert "mine" in html and "broken.yaml" in html


def test_an_experiment_named_in_its_spec_is_found_under_that_name(workdir):
    write(workdir / "experiments" / "tiny-file.yaml", "name: tiny-runs\n" + TINY_SPEC)
    run = workdir / "runs" / "tiny-runs" / "20261203-100000"
    write(run / "run.json", json.dumps({"status": "completed", "experiment": "tiny-runs", "recipe_changes": []}))
    write(run / "metrics.json", json.dumps({"metrics": {"test_accuracy": 0.6}, "check": {"status": "passed", "checks": [
        {"status": "passed", "metric": "test_accuracy", "actual": 0.6}]}}))
    row = rows_of(book_table())["tiny-file"]
    assert (row["verdict"], row["actual"], row["run_dir"]) == ("passed", 0.6, str(run.resolve()))


def test_a_quote_with_markup_is_shown_as_text(workdir):
    write(workdir / "experiments" / "hostile.yaml",
          TINY_SPEC.replace("  source: tests\n", "  source: tests\n  quote: \"<script>alert(1)</script><b>bold</b>\"\n"))
    html = Path(book_report()["path"]).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script" not in html and "<b>" not in html


def test_links_survive_folder_names_with_url_characters(run_cli, workdir, monkeypatch):
    """A relative link is a URL: a folder named 'odd #1: x?' on the way to a run is percent-encoded,
    so '#' starts no fragment, '?' no query and 'odd #1:' no URL scheme (a folder named
    'javascript:...' would have made the link a script)."""
    from urllib.parse import unquote

    odd = workdir / "odd #1: x?"
    run = make_run(odd, "mnist-dense", "20261203-100000", report=True, check={
        "status": "passed", "metric": "test_accuracy", "actual": 0.981})
    monkeypatch.setenv("DLCLI_RUNS_DIR", str(odd / "runs"))
    page = workdir / "book.html"
    assert run_cli("report", "--book", "--out", str(page)).exit_code == 0
    links = [href for href in re.findall(r'<a href="([^"]+)"', page.read_text(encoding="utf-8"))
             if not href.startswith("#")]
    assert links == ["odd%20%231%3A%20x%3F/runs/mnist-dense/20261203-100000/report.html"]
    assert (workdir / unquote(links[0])).resolve() == (run / "report.html").resolve()


def test_a_run_judged_against_another_reference_is_not_counted_as_reproducing_this_one(runs):
    """The row shows the experiment's reference as it is now: a run whose spec.yaml held another one
    (the value or tolerance changed since) was judged against that, so its 'passed' answers another
    question; rewording the quote changes nothing."""
    spec = runs["passed"] / "spec.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("quote: \"", "quote: \"reworded; "), encoding="utf-8")
    assert rows_of(book_table())["mnist-dense"]["verdict"] == "passed"
    spec.write_text(text.replace("tolerance: 0.01", "tolerance: 0.05"), encoding="utf-8")
    table = book_table()
    row = rows_of(table)["mnist-dense"]
    assert row["verdict"] == "not comparable" and "reference" in row["reason"]
    assert row["actual"] == 0.981 and table["summary"]["reproduced"] == 1  # reuters-dense-final's alone


def test_a_verdict_missed_on_a_later_check_names_that_check(runs):
    """The row shows its first check's number: when another check is what missed, the reason says
    which one and what it got, or the row would read as a pass with a 'differs' badge."""
    metrics = runs["passed"] / "metrics.json"
    stored = json.loads(metrics.read_text(encoding="utf-8"))
    stored["check"] = {"status": "differs", "checks": [
        {"status": "passed", "metric": "test_accuracy", "actual": 0.981},
        {"status": "differs", "what": "test_loss 0.07 ± 0.01", "metric": "test_loss", "actual": 0.1234,
         "direction": "worse", "margin": 0.0534, "reported": 0.07}]}
    metrics.write_text(json.dumps(stored), encoding="utf-8")
    row = rows_of(book_table())["mnist-dense"]
    assert (row["verdict"], row["actual"]) == ("differs", 0.981)
    assert row["reason"] == "test_loss 0.07 ± 0.01: got 0.1234; worse than the source (0.07) by 0.0534"


def test_a_run_whose_experiment_changed_its_recipe_since_is_not_comparable(runs):
    """run.json records that the run followed its experiment's recipe as it was then; the row's
    target and header speak of the experiment as it is now: a run whose spec differs from it (the
    experiment's epochs changed since) reproduces nothing of it."""
    spec = runs["passed"] / "spec.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "epochs: 5" in text
    spec.write_text(text.replace("epochs: 5", "epochs: 4"), encoding="utf-8")
    row = rows_of(book_table())["mnist-dense"]
    assert row["verdict"] == "not comparable" and "fit.epochs=4 (source: 5)" in row["reason"]


def test_dlcli_own_checks_are_counted_apart_from_the_sources_results(run_cli, runs, workdir):
    make_run(workdir, "siamese-shared-lstm", "20261203-100000", check={  # 'computed [not in the book]'
        "status": "passed", "metric": "params", "actual": 20673})
    table = json.loads(run_cli("report", "--book", "--json").stdout)
    rows, summary = rows_of(table), table["summary"]
    own = {name for name, row in rows.items() if row["own_check"]}
    assert {"siamese-shared-lstm", "qa-two-inputs",  # 'computed', 'random data, no result reported'
            "imdb-conv1d-tensorboard", "separable-convnet-cifar10"} <= own  # claims marked '[not in the book]'
    assert not rows["mnist-dense"]["own_check"] and not rows["vae-mnist"]["own_check"]  # a quote only: apart already
    assert summary["reproduced"] == 2 and summary["own_passed"] == 1  # the passed own check is not 'reproduced'
    assert f", and {len(own)} checks of dlcli's own (1 passed)" in summary["line"]
