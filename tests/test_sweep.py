"""`dlcli sweep`: Optuna trials as run directories, interrupted and resumed without repeats."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY_SPEC, write
from dlcli.errors import UsageError
from dlcli.sweeps.space import as_override, parse_params


def test_search_spaces_parse_and_bad_ones_are_one_line():
    params = parse_params(["compile.optimizer.learning_rate=loguniform:1e-4:1e-2", "fit.batch_size=16,32,64",
                           "model.layers.0.Dense.units=int:8:64:8"])
    assert params["fit.batch_size"].choices == (16, 32, 64)
    assert params["model.layers.0.Dense.units"].distribution().step == 8
    assert as_override("compile.optimizer.name", "adam") == "compile.optimizer.name=adam"
    for bad, message in [("x=uniform:1", "is not uniform:LOW:HIGH"), ("x=loguniform:0:1", "a log scale"),
                         ("x=3,3", "two different values"), ("x", "expected KEY=SPACE"),
                         ("x=uniform:2:1", "must be below")]:
        with pytest.raises(UsageError, match=message):
            parse_params([bad])


def test_a_space_that_does_not_fit_the_spec_is_refused_before_any_trial(run_cli, workdir, tiny_spec):
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_sise=8,16")
    assert result.exit_code == 2 and "fit.batch_sise: unknown key 'batch_sise' (did you mean 'batch_size'?)" in result.stderr
    assert not (workdir / "runs").exists()
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "--metric", "val_widgets")
    assert result.exit_code == 2 and "--direction" in result.stderr


@pytest.mark.training
def test_a_sweep_interrupted_and_resumed_repeats_nothing(run_cli, workdir):
    """3 trials; Ctrl-C during the second; --resume finishes that trial's own run, then the third."""
    spec = write(workdir / "slow.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 30").replace(
        "num_samples: 96", "num_samples: 800"))
    command = [sys.executable, "-m", "dlcli", "sweep", str(spec), "--param",
               "compile.optimizer.learning_rate=loguniform:1e-3:1e-1", "--trials", "3", "--no-pruning", "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline, state = time.time() + 180, None
    while time.time() < deadline and state is None and process.poll() is None:
        state = next(iter((workdir / "sweeps").glob("slow/*/trials/0001/state/latest.json")), None)
        time.sleep(0.1)
    assert state is not None, process.communicate()[1]
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "dlcli sweep --resume" in err, err
    folder = state.parents[3]
    assert json.loads((state.parents[1] / "run.json").read_text())["status"] == "interrupted"

    result = run_cli("sweep", "--resume", str(folder), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["state"] for row in report["trials"]] == ["complete"] * 3
    rates = [row["compile.optimizer.learning_rate"] for row in report["trials"]]
    assert len(set(rates)) == 3  # nothing tried twice, though the sampler was seeded again
    resumed = json.loads((folder / "trials" / "0001" / "run.json").read_text())
    assert resumed["status"] == "completed" and resumed["resumes"][0]["from_status"] == "interrupted"
    with open(folder / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["value"]) for row in rows] == [row["value"] for row in report["trials"]]
    best = min(report["trials"], key=lambda row: row["value"])
    assert report["best"]["trial"] == best["trial"] and Path(report["best"]["run_dir"]).is_dir()
    assert report["files"]["history"] == "history.png" and (folder / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "importances.png").is_file()


@pytest.mark.training
def test_a_grid_sweep_tries_each_value_once_and_a_failing_trial_does_not_stop_it(run_cli, workdir, tiny_spec):
    result = run_cli("sweep", str(tiny_spec), "--param", "model.layers.0.Dense.units=4,8,-1", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    by_units = {row["model.layers.0.Dense.units"]: row for row in report["trials"]}
    assert sorted(by_units) == [-1, 4, 8] and len(report["trials"]) == 3
    assert by_units[-1]["state"] == "fail" and "units" in by_units[-1]["note"]
    assert by_units[4]["state"] == by_units[8]["state"] == "complete"
    for row in report["trials"]:  # every trial is an ordinary run directory
        if row["state"] == "complete":
            assert json.loads((Path(row["run_dir"]) / "run.json").read_text())["status"] == "completed"


@pytest.mark.training
def test_a_trial_that_never_started_is_asked_again(run_cli, workdir, tiny_spec, monkeypatch):
    """Ctrl-C between two trials (here: as the second starts): its grid point is not lost."""
    from dlcli.training import lifecycle

    real_start, calls = lifecycle.start, {"count": 0}

    def ctrl_c_on_the_second(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 2:
            raise KeyboardInterrupt
        return real_start(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "start", ctrl_c_on_the_second)
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16,32", "--json", "-q")
    assert result.exit_code == 130
    monkeypatch.undo()
    folder = Path(json.loads(result.stdout)["sweep_dir"])
    report = json.loads(run_cli("sweep", "--resume", str(folder), "--json", "-q").stdout)
    done = {row["fit.batch_size"] for row in report["trials"] if row["state"] == "complete"}
    assert done == {8, 16, 32}
    assert any(row["note"].startswith("not started; its parameters went to trial") for row in report["trials"])


@pytest.mark.training
def test_a_metric_no_epoch_logs_stops_the_sweep_at_once(run_cli, workdir, tiny_spec):
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "--metric", "val_acc", "-q")
    assert result.exit_code == 2
    assert "--metric val_acc: trial 0's run has no such history column or metric (did you mean 'val_accuracy'?)" \
        in result.stderr
    run = next((workdir / "sweeps").glob("tiny/*/trials/0000"))
    assert json.loads((run / "history.json").read_text())["epoch"] == [1]  # stopped after its first epoch


def test_a_learning_rate_can_be_searched_where_the_optimizer_is_a_name(workdir):
    from dlcli.spec import load_spec

    spec, _ = load_spec("digits-convnet", ["compile.optimizer.learning_rate=0.01"])
    assert spec.compile.optimizer.name == "rmsprop" and spec.compile.optimizer.learning_rate == 0.01
