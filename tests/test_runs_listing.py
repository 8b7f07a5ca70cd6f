"""`dlcli runs`: every run under the runs root and each sweep's trials, newest first, from hand-made
run directories in the layout's format (no model, no TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import HANG_GUARD_S


def make_run(root: Path, experiment: str, stamp: str, status: str = "completed", metrics: dict | None = None,
             check: dict | None = None, epochs: int | None = 2, **info) -> Path:
    """A run directory as dlcli leaves one: run.json, history.json and, for a finished run, metrics.json."""
    path = root / experiment / stamp
    path.mkdir(parents=True)
    started = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}+00:00"
    record = {"format": 2, "status": status, "experiment": experiment, "started_at": started, "backend": "tensorflow",
              "overrides": [], **info}
    (path / "run.json").write_text(json.dumps(record), encoding="utf-8")
    if epochs is not None:
        history = {"epoch": list(range(1, epochs + 1)), "loss": [1.0] * epochs, "val_loss": [0.9] * epochs}
        (path / "history.json").write_text(json.dumps(history), encoding="utf-8")
    if metrics is not None:
        (path / "metrics.json").write_text(json.dumps({"metrics": metrics, "check": check or {"status": "none"}}),
                                           encoding="utf-8")
    return path


FINISHED = {"epochs_completed": 3, "best_val_loss": 0.25, "best_epoch": 2, "test_loss": 0.3, "test_accuracy": 0.91}
PASSED = {"status": "passed", "checks": [{"metric": "test_accuracy", "status": "passed", "actual": 0.91}]}


@pytest.fixture
def runs(workdir) -> dict[str, Path]:
    root = workdir / "runs"
    return {
        "old": make_run(root, "mnist-dense", "20261201-090000", metrics=FINISHED, check=PASSED,
                        overrides=["fit.epochs=3"], workers={"processes": 2}, backend="jax"),
        "new": make_run(root, "mnist-dense", "20261203-090000", metrics={**FINISHED, "test_accuracy": 0.95}),
        "val_only": make_run(root, "jena-dense", "20261202-090000",
                             metrics={"epochs_completed": 4, "best_val_mae": 2.5, "best_epoch": 3}),
        "crashed": make_run(root, "imdb-dense", "20261202-120000", status="running", epochs=1,
                            process={"pid": 2**22 + 12345, "host": socket.gethostname(), "process_start": 1}),
    }


def listed(run_cli, *args: str) -> list[dict]:
    result = run_cli("runs", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["runs"]


def test_runs_are_listed_newest_first_with_status_metric_and_verdict(run_cli, runs):
    rows = listed(run_cli)
    order = ("new", "crashed", "val_only", "old")
    assert [row["run_dir"] for row in rows] == [str(runs[key].resolve()) for key in order]
    old = rows[-1]
    assert (old["status"], old["backend"], old["workers"], old["epochs"]) == ("completed", "jax", 2, 3)
    assert (old["metric"], old["value"], old["best_epoch"], old["verdict"]) == ("test_accuracy", 0.91, 2, "passed")
    assert old["overrides"] == ["fit.epochs=3"]
    assert rows[0]["metric"] == "test_loss"  # no reference: the first test metric
    assert (rows[2]["metric"], rows[2]["value"], rows[2]["epochs"]) == ("val_mae", 2.5, 4)  # no test: the monitored one
    crashed = rows[1]
    assert (crashed["status"], crashed["epochs"], crashed["metric"]) == ("crashed", 1, None)  # a dead `running` run


def test_experiment_status_and_limit_select_runs(run_cli, runs):
    assert [row["run_dir"] for row in listed(run_cli, "mnist-dense")] == [str(runs["new"].resolve()),
                                                                           str(runs["old"].resolve())]
    assert [row["status"] for row in listed(run_cli, "--status", "crashed")] == ["crashed"]
    assert [row["run_dir"] for row in listed(run_cli, "--limit", "1")] == [str(runs["new"].resolve())]
    assert listed(run_cli, "mnist-convnet") == []  # a named experiment without runs: nothing, exit 0


def test_a_misspelt_experiment_is_a_usage_error(run_cli, runs):
    result = run_cli("runs", "mnist-dens")
    assert result.exit_code == 2
    assert "mnist-dense" in result.stderr and "Traceback" not in result.stderr


def test_damaged_runs_are_listed_with_the_reason(run_cli, runs, workdir):
    broken = workdir / "runs" / "mnist-dense" / "20261202-000000"
    broken.mkdir()
    (broken / "run.json").write_text("{not json", encoding="utf-8")
    no_info = workdir / "runs" / "mnist-dense" / "20261202-000001"
    no_info.mkdir()
    wrong_metrics = make_run(workdir / "runs", "mnist-dense", "20261202-000002", metrics={})
    (wrong_metrics / "metrics.json").write_text('{"metrics": [1, 2]}', encoding="utf-8")
    rows = {row["run_dir"]: row for row in listed(run_cli, "--status", "damaged")}
    assert set(rows) == {str(path.resolve()) for path in (broken, no_info, wrong_metrics)}
    assert all(row["status"] == "damaged" and row["error"] for row in rows.values())
    assert "run.json" in rows[str(broken.resolve())]["error"]
    table = run_cli("runs", "mnist-dense")
    assert table.exit_code == 0
    assert len([line for line in table.stdout.splitlines() if line.startswith("damaged: ")]) == 3  # why, below


def test_sweep_trials_are_listed_under_their_sweep(run_cli, runs, workdir):
    sweep = workdir / "sweeps" / "mnist-dense" / "20261202-150000"
    (sweep / "trials").mkdir(parents=True)
    (sweep / "sweep.json").write_text(json.dumps({"experiment": "mnist-dense", "metric": "val_loss", "direction":
                                                  "minimize", "created_at": "2026-12-02T15:00:00"}), encoding="utf-8")
    for number in range(2):
        make_run(sweep, "trials", f"{number:04d}", metrics=FINISHED, started_at=f"2026-12-02T15:0{number}:00+00:00")
    result = run_cli("runs", "--json")
    listing = json.loads(result.stdout)
    trials = [row for row in listing["runs"] if row.get("sweep")]
    assert [(row["sweep"], row["trial"]) for row in trials] == [(str(sweep.resolve()), 0), (str(sweep.resolve()), 1)]
    assert listing["sweeps"][0]["trials"] == 2
    limited = json.loads(run_cli("runs", "--json", "--limit", "3").stdout)  # a sweep counts as one, trials and all
    assert [row.get("trial") for row in limited["runs"]] == [None, 0, 1, None] and len(limited["sweeps"]) == 1
    lines = run_cli("runs").stdout.splitlines()
    at = next(index for index, line in enumerate(lines) if line.startswith("sweeps/mnist-dense/20261202-150000 "))
    assert lines[at + 1].startswith("  sweeps/mnist-dense/20261202-150000/trials/0000 ")
    assert lines[at + 2].startswith("  sweeps/mnist-dense/20261202-150000/trials/0001 ")
    assert lines[at - 1].startswith("runs/mnist-dense/20261203-") and lines[at + 3].startswith("runs/imdb-dense/")
    empty = workdir / "sweeps" / "jena-dense" / "20261201-120000"  # made, its first trial not started yet
    (empty / "trials").mkdir(parents=True)
    (empty / "sweep.json").write_text(json.dumps({"experiment": "jena-dense"}), encoding="utf-8")
    lines = run_cli("runs").stdout.splitlines()
    assert lines[-2].startswith("sweeps/jena-dense/20261201-120000 ") and "0 trials" in lines[-2]
    assert lines[-1].startswith("runs/mnist-dense/20261201-090000 ")


def test_the_table_fits_the_terminal_and_never_cuts_the_run(run_cli, runs, workdir, monkeypatch):
    long = make_run(workdir / "runs", "mnist-dense", "20261204-090000", metrics=FINISHED,
                    overrides=[f"model.layers.{index}.Dense.units=512" for index in range(6)])
    wide = run_cli("runs").stdout
    assert "model.layers.5.Dense.units=512" in wide  # not a terminal, no COLUMNS: whole lines
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_cli("runs").stdout.splitlines()
    assert all(len(line) <= 80 for line in narrow)
    assert narrow[1].startswith("runs/mnist-dense/20261204-090000 ")
    shown = "\n".join(narrow)
    assert all(os.path.join("runs", path.parent.name, path.name) in shown for path in [long, *runs.values()])


def test_csv_has_a_header_and_a_row_per_run(run_cli, runs):
    result = run_cli("runs", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4 and rows[0]["run_dir"] == str(runs["new"].resolve())
    assert rows[-1]["overrides"] == "fit.epochs=3" and rows[-1]["verdict"] == "passed"


def test_no_runs_says_so_and_help_and_bad_options_are_usage(run_cli):
    result = run_cli("runs")
    assert result.exit_code == 0 and result.stdout == "" and "no runs" in result.stderr
    assert run_cli("runs", "--help").exit_code == 0
    assert run_cli("runs", "--json", "--csv").exit_code == 2
    assert run_cli("runs", "--status", "lost").exit_code == 2


def test_runs_imports_no_tensorflow_and_lists_300_runs_quickly(workdir):
    root = workdir / "runs"
    for index in range(300):
        make_run(root, f"experiment-{index % 10}", f"20261201-{index:06d}", metrics=FINISHED, check=PASSED)
    code = ("import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', 'runs', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('\\nHEAVY', [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules])")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DLCLI_RUNS_DIR": str(root)}).stdout
    assert time.perf_counter() - started < HANG_GUARD_S
    listing, heavy = out.rsplit("\nHEAVY", 1)
    assert heavy.strip() == "[]"
    assert len(json.loads(listing)["runs"]) == 300


def test_runs_started_in_the_same_second_are_ordered_by_their_folder(run_cli, workdir):
    same = {"started_at": "2026-12-01T10:00:00+00:00"}
    older = make_run(workdir / "runs", "b-experiment", "20261201-100001", metrics=FINISHED, **same)
    newer = make_run(workdir / "runs", "a-experiment", "20261201-100002", metrics=FINISHED, **same)
    assert [row["run_dir"] for row in listed(run_cli)] == [str(newer.resolve()), str(older.resolve())]


def test_a_hostile_run_json_cannot_write_escape_sequences_to_the_terminal(run_cli, workdir, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    make_run(workdir / "runs", "mnist-dense", "20261203-090000", metrics=FINISHED,
             overrides=["fit.epochs=3\x1b]0;pwned\x07\x1b[2J"])
    result = run_cli("runs")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout  # no control character reaches it
    assert "fit.epochs=3\\x1b]0;pwned" in result.stdout  # shown, as Python writes it in a string
