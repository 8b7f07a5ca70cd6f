"""The report pages read well: a run's pictures (a tiny one enlarged with square pixels, model.png at
its own size in a frame that scrolls, a summary.txt whose table is whole), a resumed or diverged run
said as it is, one colour per verdict, a sweep's parameters and the book's quotes in readable form,
and --out as a folder."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from test_report import make_run


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


def test_a_tiny_picture_is_shown_enlarged_and_a_large_one_as_it_is(run_cli, workdir):
    from PIL import Image

    run = make_run(workdir / "runs")
    (run / "viz").mkdir()
    Image.new("L", (8, 8), 90).save(run / "viz" / "gradcam-heatmap.png")
    Image.new("L", (28, 20), 90).save(run / "viz" / "digit.png")
    Image.new("L", (400, 300), 90).save(run / "viz" / "grid.png")
    assert run_cli("report", str(run)).exit_code == 0
    tags = {re.search(r'alt="([^"]*)"', tag)[1]: tag for tag in img_tags((run / "report.html").read_text())}
    assert 'class="enlarged" style="width: 192px"' in tags["gradcam-heatmap.png"]  # 8 px x 24
    assert 'style="width: 196px"' in tags["digit.png"]  # 28 px x 7: whole pixels
    assert "enlarged" not in tags["grid.png"] and "style=" not in tags["grid.png"]
    assert "img.enlarged { image-rendering: pixelated;" in (run / "report.html").read_text()


def test_model_png_is_shown_at_its_own_size_in_a_scrolling_frame(run_cli, workdir):
    from PIL import Image

    run = make_run(workdir / "runs")
    Image.new("L", (300, 1500), 255).save(run / "model.png")
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert re.search(r'<div class="natural"><img src="data:image/png;base64,[^"]+" alt="model graph"></div>', html)
    assert ".natural img { max-width: none;" in html and ".natural { overflow: auto;" in html


def test_summary_txt_holds_the_whole_table_whatever_the_terminal(monkeypatch):
    import keras

    from dlcli.models.describing import summary_text

    monkeypatch.setenv("COLUMNS", "80")  # a pipe's width: the table was cut at it ('Output Shap')
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv2d_with_a_long_name"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    text = summary_text(model)
    assert "Output Shape" in text and "Param #" in text and "1,450" in text and "conv2d_with_a_long_name" in text
    assert os.environ["COLUMNS"] == "80"  # left as it was


def test_a_resumed_runs_page_shows_its_resumes_and_the_spec_as_it_is_now(run_cli, workdir):
    resumed = {"at": "2026-12-03T10:20:00+00:00", "from_status": "interrupted", "phase": "fit", "from_epoch": 2,
               "epochs": 6, "forced": False, "differences": [], "recipe_changes": ["fit.epochs=6 (was 30)"],
               "command": ["dlcli", "resume", "runs/tiny/20261203-101500", "--epochs", "6"]}
    run = make_run(workdir / "runs", info={"overrides": ["fit.epochs=30"], "recipe_changes": ["fit.epochs=30 (source: 3)"],
                                           "recipe_source": "experiments/tiny.yaml", "resumes": [resumed]})
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert "<code>resumed with fit.epochs=6 (was 30)</code>" in html  # what differs, after the start's change
    assert "Overrides (as the run is now): <code>fit.epochs=6</code></p>" in html
    assert "resumed 1 time" in html and "from epoch 2 (interrupted), to 6 epochs in all" in html
    assert "<code>dlcli resume runs/tiny/20261203-101500 --epochs 6</code>" in html


def test_a_diverged_runs_page_says_why_curves_and_matrix_are_missing(run_cli, workdir):
    history = {"epoch": [1, 2], "loss": [None, None], "accuracy": [0.3, 0.2]}  # NaN is written as null
    run = make_run(workdir / "runs", status="failed", history=history,
                   info={"error": "diverged: the loss was NaN at epoch 1; try a smaller learning rate"})
    (run / "metrics.json").unlink()  # a failed run has no metrics.json
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    header = html[html.index("<h1>"):html.index("</h1>")]
    assert "badge" not in header  # no 'none' badge beside the failed status
    assert "loss: no epoch has a finite value; not drawn." in html
    assert "the run failed: its test split was never evaluated" in html
    assert "models that are not single-output classifiers" not in html


def test_not_comparable_has_one_colour_on_run_and_book_pages(run_cli, workdir):
    import test_book_table

    run = test_book_table.make_run(workdir, "jena-baseline", "20261203-100000", check={
        "status": "not comparable", "metric": "val_mae", "actual": 0.31}, recipe_changes=["data.step=3 (source: 6)"])
    check = {"status": "not comparable", "checks": [{"what": "val_mae 0.29 ± 0.03", "metric": "val_mae",
                                                       "expected": "0.29 ± 0.03", "actual": 0.31, "status": "passed"}]}
    (run / "metrics.json").write_text(json.dumps({"metrics": {"val_mae": 0.31}, "check": check}), encoding="utf-8")
    page = run_cli("report", str(run))
    assert page.exit_code == 0, page.stderr
    book = run_cli("report", "--book", "--out", str(workdir / "book.html"))
    assert book.exit_code == 0, book.stderr
    colours = []
    for page in (run / "report.html", workdir / "book.html"):
        html = page.read_text(encoding="utf-8")
        assert '<span class="badge not-comparable">' in html  # the verdict's badge, on both pages
        rule = re.findall(r"\.badge\.not-comparable \{ background: var\(--([\w-]+)\); \}", html)
        colours.append({re.search(rf"--{name}: (#\w+)", html)[1] for name in rule})
    assert colours[0] == colours[1] and len(colours[0]) == 1


def test_a_run_json_without_backend_or_duration_is_reported(run_cli, workdir):
    older = [make_run(workdir / "runs", stamp=stamp) for stamp in ("20261203-101500", "20261203-101600")]
    for run in older:  # run.json of a dlcli before backends were recorded, or of a run that never closed
        info = json.loads((run / "run.json").read_text())
        del info["backend"], info["duration_s"]
        (run / "run.json").write_text(json.dumps(info))
    single = run_cli("report", str(older[0]))
    assert single.exit_code == 0, single.stderr
    several = run_cli("report", *map(str, older), "--out", str(workdir / "both.html"))
    assert several.exit_code == 0, several.stderr


def test_a_sweep_pages_parameters_show_4_significant_digits(run_cli, workdir):
    from test_report import make_sweep

    sweep = make_sweep(workdir)
    table = (sweep / "sweep.csv").read_text()
    (sweep / "sweep.csv").write_text(table.replace(",8,trials/0000", ",0.0012345678901234567,trials/0000")
                                     .replace(",32,trials/0001", ",adam,trials/0001"))
    assert run_cli("report", str(sweep)).exit_code == 0
    html = (sweep / "report.html").read_text()
    assert "<td>0.001235</td>" in html and "0.00123456" not in html
    assert "<td>adam</td>" in html and "<td>64</td>" in html  # text and integers as they are


def test_out_may_be_a_folder_that_gets_the_pages_default_name(run_cli, workdir):
    from test_report import make_sweep

    run = make_run(workdir / "runs")
    other = make_run(workdir / "runs", stamp="20261203-101600")
    (workdir / "pages").mkdir()
    pages = {}
    for kind, args in (("run", [str(run)]), ("runs", [str(run), str(other)]), ("sweep", [str(make_sweep(workdir))]),
                       ("book", ["--book"])):
        result = run_cli("report", *args, "--out", "pages", "--json")
        assert result.exit_code == 0, result.stderr
        pages[kind] = Path(json.loads(result.stdout)["path"])
        assert pages[kind].parent == (workdir / "pages").resolve() and pages[kind].read_text().startswith("<!DOCTYPE")
    assert pages["book"].name == "book-report.html" and pages["sweep"].name.startswith("report-sweep-tiny-")
    assert len(set(pages.values())) == 4 and not (run / "report.html").exists()  # the run's own page untouched
    refused = run_cli("report", str(other), "--out", str(run))  # a run's folder is no place for another page
    assert refused.exit_code == 2 and "inside the run directory" in refused.stderr


def test_a_quoted_markdown_table_row_reads_as_words_on_the_book_page(run_cli, workdir):
    assert run_cli("report", "--book", "--out", str(workdir / "book.html")).exit_code == 0
    html = (workdir / "book.html").read_text(encoding="utf-8")
    assert "«2 Conv+pooling · None · 0.876 · - · Kashif Rasul · link» (README.md L154)" in html
    assert "[Kashif Rasul]" not in html and "|2 Conv+pooling" not in html
    quotes = json.loads(run_cli("report", "--book", "--json", "--out", str(workdir / "again.html")).stdout)
    row = next(row for row in quotes["experiments"] if row["name"] == "fashion-mnist-convnet")
    assert "[Kashif Rasul](https://twitter.com/krasul)" in row["quote"]  # the data keep the source's characters


def test_book_group_subtitles_say_each_source_detail_once_and_rows_keep_their_own(run_cli, workdir):
    assert run_cli("report", "--book", "--out", str(workdir / "book.html")).exit_code == 0
    html = (workdir / "book.html").read_text(encoding="utf-8")
    subtitles = re.findall(r'<p class="sources">(.*?)</p>', html)
    assert "Russian translation (quotes and line numbers from it)" in subtitles  # shared by a chapter's rows: once
    assert not any("L95-136" in subtitle or "L138-187" in subtitle for subtitle in subtitles)
    row = html[html.index('id="conv-vertical-line-detector"'):]
    assert '<span class="listing">L95-136</span>' in row[:row.index("</tr>")]  # the row's own lines, beside it


def test_class_names_with_dollars_are_drawn_as_written():
    import io

    from dlcli.report.pictures import confusion_figure

    figure = confusion_figure([[1, 2], [3, 4]], ["$x_1$", "price$\\frac{$1"])
    figure.savefig(io.BytesIO(), format="png")  # mathtext would refuse the second name
    labels = figure.axes[0].get_xticklabels()
    assert [label.get_text() for label in labels] == ["$x_1$", "price$\\frac{$1"]
    assert not any(label.get_parse_math() for label in labels)
