"""`dlcli report`: one self-contained page of a run, of several runs, of a sweep (hand-made run
directories: no model is trained here; tests/test_report_browser.py opens real ones in Chromium)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import write

HISTORY = {"epoch": [1, 2, 3], "loss": [0.9, 0.6, 0.5], "accuracy": [0.5, 0.7, 0.75],
           "val_loss": [0.8, 0.55, 0.6], "val_accuracy": [0.55, 0.72, 0.7]}
SPEC = """
description: {description}
seed: 7
data: {{name: synthetic, num_samples: 96, num_test: 32, shape: [6], num_classes: 3}}
model:
  type: sequential
  layers:
    - Dense: {{units: {units}, activation: relu}}
    - Dense: {{units: 3, activation: softmax}}
compile: {{optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}}
fit: {{epochs: 3, batch_size: 16}}
reference:
  source: the book
  listing: "4.1"
  quote: "{quote}"
  metric: test_accuracy
  value: 0.7
  tolerance: 0.05
"""


def make_run(root: Path, experiment: str = "tiny", stamp: str = "20261203-101500", *, units: int = 8,
             test_accuracy: float = 0.72, status: str = "completed", description: str = "a tiny classifier",
             quote: str = "«test_acc: 0.70» (L10)", info: dict | None = None, history: dict | None = None) -> Path:
    """A run directory as training leaves it: spec.yaml, run.json, history.json, metrics.json."""
    run = root / experiment / stamp
    run.mkdir(parents=True)
    write(run / "spec.yaml", SPEC.format(description=description, units=units, quote=quote))
    record = {"format": 2, "status": status, "experiment": experiment, "started_at": "2026-12-03T10:15:00+00:00",
              "finished_at": "2026-12-03T10:15:04+00:00", "duration_s": 4.2, "command": ["dlcli", "train", experiment],
              "overrides": [], "seed": 7, "backend": "tensorflow", "versions": {"keras": "3.15.1"},
              "params": 83, "recipe_changes": [], "model_files": {"plot": "not drawn: no Graphviz"}, **(info or {})}
    (run / "run.json").write_text(json.dumps(record))
    (run / "history.json").write_text(json.dumps(history if history is not None else HISTORY))
    passed = abs(test_accuracy - 0.7) <= 0.05
    check = {"status": "passed" if passed else "differs", "source": "the book", "listing": "4.1", "checks": [
        {"what": "test_accuracy 0.7 ± 0.05", "metric": "test_accuracy", "expected": "0.7 ± 0.05", "reported": 0.7,
         "actual": test_accuracy, "status": "passed" if passed else "differs"}]}
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test_accuracy": test_accuracy, "test_loss": 0.61,
                                                              "epochs_completed": 3}, "check": check}))
    return run


class Parsed(HTMLParser):
    """What a validity check looks at: <html lang>, <meta charset>, <title>, every src and href."""

    def __init__(self):
        super().__init__()
        self.lang = self.charset = None
        self.title = ""
        self.in_title = False
        self.sources: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "meta" and "charset" in attributes:
            self.charset = attributes["charset"]
        if tag == "title":
            self.in_title = True
        if tag == "script":
            self.scripts += 1
        self.sources += [value for key, value in attrs if key in ("src", "href") and value]

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


def parsed(path: Path) -> Parsed:
    page = Parsed()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_one_run_report_is_self_contained_and_goes_into_the_run(run_cli, workdir):
    run = make_run(workdir / "runs")
    result = run_cli("report", str(run))
    assert result.exit_code == 0, result.stderr
    report = run / "report.html"
    assert result.stdout.strip() == str(report.resolve())
    page = parsed(report)
    assert page.lang == "en" and page.charset == "utf-8" and "tiny" in page.title
    assert page.scripts == 0
    assert page.sources and all(source.startswith("data:image/png;base64,") for source in page.sources)
    html = report.read_text()
    assert "«test_acc: 0.70» (L10)" in html  # the source's own words beside the verdict
    assert "[passed] test_accuracy 0.7 ± 0.05: got 0.72" in html
    assert "a tiny classifier" in html and "dlcli train tiny" in html
    assert 5_000 < report.stat().st_size < 120_000  # a page with a chart: tens of KB


def test_reporting_a_finished_run_keeps_its_directory_times(run_cli, workdir):
    import os

    run = make_run(workdir / "runs")
    for folder in (run, run.parent):
        os.utime(folder, (1_000_000_000, 1_000_000_000))
    assert run_cli("report", str(run)).exit_code == 0 and (run / "report.html").is_file()
    assert run.stat().st_mtime == run.parent.stat().st_mtime == 1_000_000_000  # `ls -t runs/tiny` unchanged


def test_a_hostile_run_cannot_inject_markup(run_cli, workdir):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    run = make_run(workdir / "runs", description=hostile.replace(":", " "), quote=hostile.replace('"', "'"),
                   info={"command": ["dlcli", hostile], "error": hostile, "overrides": [hostile]})
    assert run_cli("report", str(run)).exit_code == 0
    page = parsed(run / "report.html")
    assert page.scripts == 0
    assert "x" not in page.sources and "<script>alert" not in (run / "report.html").read_text()


def test_run_json_duration_is_called_training_time(run_cli, workdir):
    """run.json's duration_s counts fit, evaluation and saving only (loading and building aside):
    beside 'started' and 'finished' 40 s apart, a 'duration' of 4.2 s read as a mistake."""
    run = make_run(workdir / "runs", info={"finished_at": "2026-12-03T10:15:40+00:00"})
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert re.search(r">training time</dt><dd>4\.2 s</dd>", html) and "4.2 s of training" in html
    assert ">duration<" not in html


def test_best_and_last_epoch_are_what_the_history_holds(run_cli, workdir):
    from dlcli.report.page import epoch_rows

    rows = {row["metric"]: row for row in epoch_rows(HISTORY)}
    assert (rows["val_loss"]["best"], rows["val_loss"]["best_epoch"]) == (0.55, 2)
    assert (rows["val_accuracy"]["best"], rows["val_accuracy"]["best_epoch"]) == (0.72, 2)
    assert (rows["val_loss"]["last"], rows["val_loss"]["last_epoch"]) == (0.6, 3)
    diverged = {row["metric"]: row for row in epoch_rows({"epoch": [1, 2], "loss": [0.4, None]})}["loss"]
    assert (diverged["best"], diverged["best_epoch"], diverged["last"]) == (0.4, 1, None)


def test_what_a_run_lacks_is_said(run_cli, workdir):
    run = make_run(workdir / "runs", status="failed", info={"error": "ValueError: diverged at epoch 2"})
    (run / "metrics.json").unlink()
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert "The run failed: ValueError: diverged at epoch 2" in html
    assert "No confusion matrix" in html and "not drawn: no Graphviz" in html


def test_pictures_and_samples_the_run_holds_are_embedded(run_cli, workdir):
    from PIL import Image

    run = make_run(workdir / "runs")
    (run / "viz").mkdir()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(run / "viz" / "activations-conv2d.png")
    (run / "viz" / "index.json").write_text(json.dumps([{"kind": "activations", "layer": "conv2d",
                                                         "files": ["activations-conv2d.png"]}]))
    (run / "samples").mkdir()
    (run / "samples" / "epoch_001.txt").write_text("temperature 0.5: the cat <sat>")
    (run / "viz" / "broken.png").write_bytes(b"not a png")
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert "kind: activations, layer: conv2d" in html
    assert "the cat &lt;sat&gt;" in html
    assert "broken.png: not a PNG dlcli can embed" in html
    assert len(parsed(run / "report.html").sources) == 3  # loss and accuracy curves, the one real picture


def test_pictures_are_embedded_up_to_a_byte_budget(run_cli, workdir, monkeypatch):
    """60 pictures of up to 5 MB each made pages of hundreds of MB: past the folder's budget of bytes,
    pictures are counted, not embedded."""
    import numpy
    from PIL import Image

    from dlcli.report import page

    run = make_run(workdir / "runs")
    (run / "viz").mkdir()
    noise = numpy.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype="uint8")  # compresses badly
    for index in range(3):
        Image.fromarray(noise).save(run / "viz" / f"picture-{index}.png")
    size = (run / "viz" / "picture-0.png").stat().st_size
    monkeypatch.setattr(page, "MAX_PICTURE_BYTES", 2 * size)
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert 'alt="picture-1.png"' in html and 'alt="picture-2.png"' not in html
    assert "and 1 more pictures not embedded" in html


def test_links_out_of_the_run_are_not_embedded(run_cli, workdir):
    """A run received from someone (a tarball) may hold links to files outside it: its page, made
    here and sent back, must not carry this machine's files (a key, a photo) in it."""
    from PIL import Image

    run = make_run(workdir / "runs")
    (workdir / "private.txt").write_text("PRIVATE-KEY-TEXT")
    Image.new("RGB", (20, 10), (1, 2, 3)).save(workdir / "private.png")
    for folder in ("samples", "viz"):
        (run / folder).mkdir()
    (run / "samples" / "sample.txt").symlink_to(workdir / "private.txt")
    (run / "viz" / "photo.png").symlink_to(workdir / "private.png")
    (run / "spec.yaml").unlink()
    (run / "spec.yaml").symlink_to(workdir / "private.txt")
    (run / "summary.txt").symlink_to(workdir / "private.txt")
    (run / "model.png").symlink_to(workdir / "private.png")
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert "PRIVATE-KEY-TEXT" not in html
    assert not [source for source in parsed(run / "report.html").sources if source.startswith("data:")][2:]
    assert "photo.png" in html and "sample.txt" in html  # named, with why they are not shown
    sweep = make_sweep(workdir)
    (sweep / "history.png").symlink_to(workdir / "private.png")
    assert run_cli("report", str(sweep)).exit_code == 0
    assert 'alt="history.png"' not in (sweep / "report.html").read_text()


def test_several_runs_show_only_what_differs(run_cli, workdir):
    first = make_run(workdir / "runs", units=8, test_accuracy=0.72)
    second = make_run(workdir / "runs", stamp="20261203-101600", units=32, test_accuracy=0.9)
    result = run_cli("report", str(first), str(second), "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    path = Path(answer["path"])
    assert answer["kind"] == "runs" and path.parent == workdir and path.name.startswith("report-tiny-")
    assert not (first / "report.html").exists()  # nothing written into the runs
    html = path.read_text()
    table = html[html.index("Spec values that differ"):html.index("Metrics that differ")]
    assert "model.layers[0].Dense.units" in table and "fit.epochs" not in table
    metrics = html[html.index("Metrics that differ"):html.index("<h2>Curves")]
    assert "test_accuracy" in metrics and "test_loss" not in metrics.split("The same in every run")[0]
    assert len(parsed(path).sources) == 2  # loss and accuracy, the runs overlaid


def test_out_must_be_html_and_outside_other_runs(run_cli, workdir):
    run = make_run(workdir / "runs")
    other = make_run(workdir / "runs", stamp="20261203-101600")
    assert run_cli("report", str(run), "--out", "page.txt").exit_code == 2
    for inside in (other / "x.html", run / "x.html", run / "plots" / "x.html"):
        (run / "plots").mkdir(exist_ok=True)
        refused = run_cli("report", str(run), "--out", str(inside))
        assert refused.exit_code == 2 and refused.stderr.startswith(f"error: --out {inside}: inside the run directory")
        assert not inside.exists()
    assert run_cli("report", str(run), "--out", "mine.html").exit_code == 0
    assert (workdir / "mine.html").is_file() and not (run / "report.html").exists()


def test_a_missing_run_is_one_line_and_nothing_is_written(run_cli, workdir):
    result = run_cli("report", str(workdir / "runs" / "nosuch" / "x"))
    assert result.exit_code == 2 and result.stderr.startswith("error:") and len(result.stderr.splitlines()) == 1
    assert run_cli("report").exit_code == 2
    assert not list(workdir.glob("*.html"))


def test_report_imports_no_tensorflow(workdir):
    run = make_run(workdir / "runs")
    code = ("import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', 'report', %r]\ncode = 0\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print('HEAVY', [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules], code)\n" % str(run))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY [] 0" in out.stdout, out.stdout + out.stderr


def make_sweep(root: Path, direction: str = "maximize") -> Path:
    """A sweep directory as `dlcli sweep` leaves it: sweep.json, spec.yaml, study.db, sweep.csv, trials/."""
    import sqlite3

    folder = root / "sweeps" / "tiny" / "20261203-120000"
    folder.mkdir(parents=True)
    (folder / "sweep.json").write_text(json.dumps({
        "experiment": "tiny", "overrides": [], "params": {"model.layers[0].Dense.units": [8, 32, 64]},
        "metric": "test_accuracy", "direction": direction, "trials": 3, "seed": 7, "pruning": False, "sampler": "grid",
        "command": ["dlcli", "sweep", "tiny"]}))
    write(folder / "spec.yaml", SPEC.format(description="a sweep", units=8, quote="q"))
    with sqlite3.connect(folder / "study.db") as database:  # what check_study looks for
        database.execute("CREATE TABLE studies (study_name TEXT)")
        database.execute("INSERT INTO studies VALUES ('sweep')")
        database.execute("CREATE TABLE trials (number INTEGER)")
    for number, (units, accuracy) in enumerate([(8, 0.6), (32, 0.9), (64, 0.75)]):
        make_run(folder / "trials", experiment="", stamp=f"{number:04d}", units=units, test_accuracy=accuracy)
    make_run(folder / "trials", experiment="", stamp="0003", units=16)  # the pruned trial's run
    (folder / "sweep.csv").write_text(
        "trial,state,run_status,value,model.layers[0].Dense.units,run_dir,duration_s,note\n"
        "0,complete,completed,0.6,8,trials/0000,1.2,\n1,complete,completed,0.9,32,trials/0001,1.1,\n"
        "2,complete,completed,0.75,64,trials/0002,1.3,\n3,pruned,completed,,16,trials/0003,0.5,pruned after epoch 1\n")
    return folder


def test_a_sweep_page_lists_its_trials_best_first_with_links(run_cli, workdir):
    sweep = make_sweep(workdir)
    assert run_cli("report", str(sweep / "trials" / "0001")).exit_code == 0  # only trial 1 has its report
    result = run_cli("report", str(sweep), "--json")
    assert result.exit_code == 0, result.stderr
    page = sweep / "report.html"
    assert json.loads(result.stdout)["path"] == str(page.resolve())
    html = page.read_text()
    rows = re.findall(r"<tr(?: class=\"best\")?><td>(\d+)( \(best\))?</td>", html)
    assert rows == [("1", " (best)"), ("2", ""), ("0", ""), ("3", "")]  # maximised, no value last
    links = [source for source in parsed(page).sources if not source.startswith("data:")]
    assert links == ["trials/0001/report.html"]
    assert "pruned after epoch 1" in html


def test_a_sweep_page_elsewhere_links_through_odd_folder_names(run_cli, workdir):
    """--out outside the sweep: each link goes through the sweep's folders, percent-encoded
    ('#' would start a fragment, 'odd #1:' a URL scheme)."""
    from urllib.parse import unquote

    sweep = make_sweep(workdir / "odd #1: x?")
    assert run_cli("report", str(sweep / "trials" / "0001")).exit_code == 0
    page = workdir / "sweep.html"
    assert run_cli("report", str(sweep), "--out", str(page)).exit_code == 0
    links = [source for source in parsed(page).sources if not source.startswith("data:")]
    assert links == ["odd%20%231%3A%20x%3F/sweeps/tiny/20261203-120000/trials/0001/report.html"]
    assert (workdir / unquote(links[0])).resolve() == (sweep / "trials" / "0001" / "report.html").resolve()


def test_one_run_given_twice_is_refused_not_compared_with_itself(run_cli, workdir):
    """'2 runs compared' of one run (its path and its name) would show two columns of the same numbers."""
    run = make_run(workdir / "runs")
    result = run_cli("report", str(run), "tiny")
    assert result.exit_code == 2 and "twice" in result.stderr and result.stderr.count("error:") == 1
    assert not list(workdir.glob("report-*.html"))


def test_a_page_that_cannot_be_written_is_one_line_exit_2(run_cli, workdir):
    """A place that refuses the page is the user's to change (exit 2, one line naming it), not an
    'unexpected' error with exit 1, the code of a failed run."""
    run = make_run(workdir / "runs")
    other = make_run(workdir / "runs", stamp="20261203-111500")
    (run / "report.html").mkdir()  # where the file should go
    refused = run_cli("report", str(run))
    assert refused.exit_code == 2 and "cannot write the page" in refused.stderr, refused.stderr
    assert refused.stderr.count("\n") == 1 and "unexpected" not in refused.stderr
    if Path("/proc/self").is_dir():  # Linux: procfs takes no new file
        several = run_cli("report", str(other), str(run), "--out", "/proc/page.html")
        assert several.exit_code == 2 and "cannot write the page" in several.stderr, several.stderr


def test_several_runs_are_not_reported_into_the_run_one_stands_in(run_cli, workdir, monkeypatch):
    """The page of several runs goes into the current folder by default: inside a run directory that
    would add a file its layout does not list (and change its time); refused like --out there."""
    run = make_run(workdir / "runs")
    other = make_run(workdir / "runs", stamp="20261203-111500")
    monkeypatch.chdir(run)
    result = run_cli("report", str(run), str(other))
    assert result.exit_code == 2 and "--out" in result.stderr and str(run) in result.stderr, result.stderr
    assert not list(run.glob("report-*.html"))


def test_a_sweep_is_reported_alone(run_cli, workdir):
    sweep = make_sweep(workdir)
    result = run_cli("report", str(sweep), str(sweep / "trials" / "0000"))
    assert result.exit_code == 2 and "report it alone" in result.stderr


@pytest.mark.training
def test_training_writes_the_report_and_report_false_turns_it_off(run_cli, tiny_spec, workdir, monkeypatch):
    trained = run_cli("train", str(tiny_spec), "-q", "--json")
    assert trained.exit_code == 0, trained.stderr
    run = Path(json.loads(trained.stdout)["run_dir"])
    assert (run / "report.html").is_file() and "report" not in json.loads((run / "run.json").read_text())
    html = (run / "report.html").read_text()
    assert "completed" in html and "Rows: the true class" in html  # after run.json closed, with the matrix
    confusion = json.loads((run / "confusion.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    assert confusion["samples"] == 32 and sum(map(sum, confusion["matrix"])) == 32
    assert confusion["accuracy"] == pytest.approx(metrics["test_accuracy"])  # the same predictions Keras scored

    off = run_cli("train", str(tiny_spec), "-q", "--json", "--set", "report=false")
    answer = json.loads(off.stdout)
    assert off.exit_code == 0 and not (Path(answer["run_dir"]) / "report.html").exists()
    assert answer["check"]["status"] == "passed"  # not `not comparable`: the page is no part of the recipe

    import dlcli.report.run_report

    def broken(run):
        raise RuntimeError("no page today")

    monkeypatch.setattr(dlcli.report.run_report, "write_run_report", broken)
    failed_page = run_cli("train", str(tiny_spec), "-q", "--json")
    assert failed_page.exit_code == 0, failed_page.stderr
    info = json.loads((Path(json.loads(failed_page.stdout)["run_dir"]) / "run.json").read_text())
    assert info["status"] == "completed" and info["report"] == "not written: RuntimeError: no page today"


def test_confusion_counts_true_rows_against_predicted_columns():
    from dlcli.training.confusion import classifier_loss, confusion_matrix

    scores = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]
    assert confusion_matrix(scores, [0, 1, 2, 2]) == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert confusion_matrix(scores, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]) == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert confusion_matrix([[0.9], [0.2], [0.6]], [1, 1, 0], binary_threshold=0.5) == [[0, 1], [1, 1]]
    assert classifier_loss({"name": "binary_crossentropy", "from_logits": True}) == ("binarycrossentropy", True)
    assert classifier_loss("mse") is None
    with pytest.raises(ValueError):
        confusion_matrix(scores, [0, 1, 2, 3])


def test_a_confusion_matrix_that_fails_is_a_note_in_run_json():
    """An optional part: whatever goes wrong is one line in run.json's `confusion`, never a failed run."""
    from dlcli.training.confusion import write_confusion

    class Model:
        outputs = ["one"]

        def predict(self, *args, **kwargs):
            raise RuntimeError("out of memory\nwhile predicting")

    class Recorder:
        notes: dict = {}

        def update(self, **fields):
            self.notes.update(fields)

    from dlcli.datasets.base import Split

    run = Recorder()
    write_confusion(run, Model(), Split(x=[[0.0]], y=[0]), 8, "sparse_categorical_crossentropy", None)
    assert run.notes == {"confusion": "not written: RuntimeError: out of memory"}


def test_a_run_without_a_confusion_matrix_says_why(run_cli, workdir):
    run = make_run(workdir / "runs", info={"confusion": "none: the model is not a single-output classifier"})
    assert run_cli("report", str(run)).exit_code == 0
    assert "No confusion matrix: none: the model is not a single-output classifier" in (run / "report.html").read_text()


def test_open_shows_the_page_in_the_browser(run_cli, workdir, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    run = make_run(workdir / "runs")
    assert run_cli("report", str(run), "--open").exit_code == 0
    assert opened == [(run / "report.html").resolve().as_uri()]
    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    result = run_cli("report", str(run), "--open")
    assert result.exit_code == 0 and "no web browser could be started" in result.stderr


def test_report_has_help(run_cli):
    result = run_cli("report", "--help")
    assert result.exit_code == 0 and "--out" in result.stdout and "--open" in result.stdout


def test_a_run_without_epochs_or_whose_process_died_is_reported_as_such(run_cli, workdir):
    run = make_run(workdir / "runs", status="running", history={},
                   info={"process": {"pid": 2**22 + 12345, "host": "elsewhere", "process_start": 1.0}})
    (run / "metrics.json").unlink()
    result = run_cli("report", str(run), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["run_dir"] == str(run.resolve())
    html = (run / "report.html").read_text()
    assert "status-crashed" in html and "No curves: no history" in html and "No metrics.json" in html


@pytest.mark.training
def test_a_failed_training_leaves_a_report_saying_why(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--json", "--set", "compile.optimizer.learning_rate=1e30",
                     "--set", "callbacks=[TerminateOnNaN]")
    assert result.exit_code == 1
    run = Path(json.loads(result.stdout)["run_dir"])
    html = (run / "report.html").read_text()
    assert "status-failed" in html and "The run failed: " in html and "diverged" in html


def test_a_damaged_history_is_named_on_the_page(run_cli, workdir):
    run = make_run(workdir / "runs")
    (run / "history.json").write_text('{"epoch": [1, 2], "loss": [0.5]}')
    assert run_cli("report", str(run)).exit_code == 0
    html = (run / "report.html").read_text()
    assert "history.json: columns of different lengths (1, 2)" in html and "test_accuracy" in html


@pytest.mark.training
def test_a_sweep_ends_with_its_page_linking_each_trials_report(run_cli, tiny_spec, workdir):
    result = run_cli("sweep", str(tiny_spec), "--param", "model.layers[0].Dense.units=4,8", "--set", "fit.epochs=1",
                     "-q", "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    folder = Path(answer["sweep_dir"])
    assert answer["files"]["page"] == "report.html"
    links = [source for source in parsed(folder / "report.html").sources if not source.startswith("data:")]
    assert sorted(links) == ["trials/0000/report.html", "trials/0001/report.html"]
    assert all((folder / link).is_file() for link in links)  # each trial wrote its own when it ended


@pytest.mark.training
def test_an_image_folders_binary_classifier_gets_its_confusion_matrix(run_cli, workdir):
    from test_image_training import SPEC as IMAGE_SPEC, image_folder

    spec = write(workdir / "images.yaml", IMAGE_SPEC.format(path=image_folder(workdir / "images"), epochs=1))
    result = run_cli("train", str(spec), "-q", "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    confusion = json.loads((run / "confusion.json").read_text())
    assert confusion["class_names"] == ["day", "night"] and confusion["samples"] == 8  # a Stream's batches, 4 + 4
    assert [sum(row) for row in confusion["matrix"]] == [4, 4]
    assert confusion["accuracy"] == pytest.approx(json.loads(result.stdout)["metrics"]["test_accuracy"])


def test_a_training_report_that_fails_leaves_no_stale_page_and_a_later_one_clears_the_note(workdir, monkeypatch):
    import dlcli.report.run_report as writing
    from dlcli.runs import Run

    path = make_run(workdir / "runs")
    (path / "report.html").write_text("<p>the page from before a resume</p>")
    run = Run.open(path, writer=True)
    real = writing.write_run_report
    monkeypatch.setattr(writing, "write_run_report", lambda run: (_ for _ in ()).throw(OSError("disk full")))
    writing.training_report(run)
    assert not (path / "report.html").exists() and run.info["report"] == "not written: OSError: disk full"
    monkeypatch.setattr(writing, "write_run_report", real)
    writing.training_report(run)
    assert (path / "report.html").is_file() and run.info["report"] is None
    run.release()
