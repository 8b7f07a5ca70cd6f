"""`dlcli sweep`: Optuna trials as run directories, interrupted and resumed without repeats."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
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
    """A head of 5 units for 3 classes: only the data can tell, so that trial fails and the rest go on."""
    killed = write(workdir / "sweeps" / "tiny" / ".20260101-000000.part1-1" / "sweep.json", "{")  # a killed start's
    result = run_cli("sweep", str(tiny_spec), "--param", "model.layers.1.Dense.units=3,5",
                     "--param", "model.layers.0.Dense.units=4,8", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    by_units = {(row["model.layers.1.Dense.units"], row["model.layers.0.Dense.units"]): row for row in report["trials"]}
    assert sorted(by_units) == [(3, 4), (3, 8), (5, 4), (5, 8)] and len(report["trials"]) == 4
    for (head, _), row in by_units.items():
        assert row["state"] == ("complete" if head == 3 else "fail"), row
        assert head == 3 or "model.layers" in row["note"] or "shape" in row["note"], row
    for row in report["trials"]:  # every trial that ran is an ordinary run directory
        if row["run_dir"]:
            assert json.loads((Path(row["run_dir"]) / "run.json").read_text())["status"] == row["run_status"]
    assert not killed.parent.exists()  # its lock is free: removed by the next sweep


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


TWO_HEADS = """
description: the digit and its parity, two heads
data:
  name: digits
  train_samples: 64
  test_samples: 32
  heads: {digit: classes, parity: {even: [0, 2, 4, 6, 8], odd: [1, 3, 5, 7, 9]}}
model:
  type: graph
  inputs: {image: {shape: [8, 8, 1]}}
  nodes:
    - {name: flat, layer: Flatten, inputs: [image]}
    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [flat]}
    - {name: parity, layer: Dense, args: {units: 2, activation: softmax}, inputs: [flat]}
  outputs:
    digit: {}
    parity: {metrics: [accuracy, auc]}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 16, validation: {kind: split, fraction: 0.25}}
"""
NAMES = {  # spec -> names a run reports, and names it does not
    "sequential": (TINY_SPEC, {"loss", "accuracy", "val_loss", "val_accuracy", "test_accuracy", "best_val_loss",
                               "final_val_accuracy", "epochs_completed"}, {"val_acc", "auc", "val_auc"}),
    "two-output graph": (TWO_HEADS, {"loss", "digit_accuracy", "val_parity_auc", "val_digit_loss", "test_parity_accuracy",
                                     "final_val_parity_loss"}, {"val_digit_auc", "val_accuracy", "accuracy"}),
    "no validation": (TINY_SPEC.replace("validation: {kind: split, fraction: 0.25}", "validation: {kind: none}")
                      .replace("monitor: val_loss", "monitor: loss"), {"loss", "accuracy", "test_loss"},
                      {"val_loss", "best_val_loss"}),
}


@pytest.mark.training
@pytest.mark.parametrize("kind", list(NAMES))
def test_the_names_a_run_reports_are_known_before_it_trains(workdir, kind):
    from dlcli.spec.loading import load_spec
    from dlcli.sweeps.checks import data_and_model
    from dlcli.sweeps.metrics import epoch_log_names, run_names

    text, reported, not_reported = NAMES[kind]
    spec, path = load_spec(str(write(workdir / "spec.yaml", text)))
    bundle, model = data_and_model(spec, path)
    names = run_names(spec, bundle, epoch_log_names(model, bundle))
    assert reported <= names and not names & not_reported, sorted(names)


REPORTING = {  # specs whose runs' names are compared with the names known before they train
    "split": TINY_SPEC,
    "kfold": TINY_SPEC.replace("validation: {kind: split, fraction: 0.25}", "validation: {kind: kfold, k: 2}"),
    "kfold and retrain": TINY_SPEC.replace("validation: {kind: split, fraction: 0.25}",
                                           "validation: {kind: kfold, k: 2}\n  retrain: {epochs: 2}"),
    "two outputs": TWO_HEADS,
    "a learning-rate schedule": TINY_SPEC.replace("callbacks:\n", "callbacks:\n  - ReduceLROnPlateau: {patience: 1}\n"),
}


@pytest.mark.training
@pytest.mark.parametrize("kind", list(REPORTING))
def test_the_names_known_before_training_are_those_the_run_reports(run_cli, workdir, kind):
    from dlcli.spec.loading import load_spec
    from dlcli.sweeps.checks import data_and_model
    from dlcli.sweeps.metrics import epoch_log_names, run_names

    path = write(workdir / "spec.yaml", REPORTING[kind])
    spec, _ = load_spec(str(path))
    bundle, model = data_and_model(spec, path)
    known = run_names(spec, bundle, epoch_log_names(model, bundle))
    result = run_cli("train", str(path), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    reported = {*json.loads((run / "history.json").read_text()), *json.loads((run / "metrics.json").read_text())["metrics"]}
    assert known == reported - {"epoch"}, (sorted(known - reported), sorted(reported - known))


@pytest.mark.training
@pytest.mark.parametrize("text, metric, nearest", [(TINY_SPEC, "val_acc", "val_accuracy"),
                                                   (TWO_HEADS, "val_digit_acc", "val_digit_accuracy"),
                                                   (TWO_HEADS, "val_digit_auc", "val_parity_auc")],
                         ids=["sequential", "graph", "graph-other-output"])
def test_a_metric_no_run_reports_is_refused_before_the_sweep_directory_exists(run_cli, workdir, text, metric, nearest):
    spec = write(workdir / "spec.yaml", text)
    result = run_cli("sweep", str(spec), "--param", "fit.batch_size=8,16", "--metric", metric,
                     "--direction", "maximize", "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert f"--metric {metric}" in message and nearest in message  # the nearest, or among the names listed
    assert not (workdir / "sweeps").exists() and not (workdir / "runs").exists()


def test_a_learning_rate_can_be_searched_where_the_optimizer_is_a_name(workdir):
    from dlcli.spec import load_spec

    spec, _ = load_spec("digits-convnet", ["compile.optimizer.learning_rate=0.01"])
    assert spec.compile.optimizer.name == "rmsprop" and spec.compile.optimizer.learning_rate == 0.01


# --------------------------------------------------------------------------- issue 14: the sweep directory


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under `folder` with its bytes (None for a folder)."""
    return {str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
            for path in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """A sweep of one tiny trial, made once: each test copies it (`cp -a`) before damaging it."""
    from dlcli import api

    root = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for name, folder in (("DLCLI_DATA_DIR", "data"), ("DLCLI_RUNS_DIR", "runs"), ("DLCLI_CACHE_DIR", "cache"),
                             ("DLCLI_SWEEPS_DIR", "sweeps")):
            patch.setenv(name, str(root / folder))
        patch.setenv("DLCLI_OFFLINE", "1")
        spec = write(root / "tiny.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 1"))
        report = api.sweep(str(spec), ["fit.batch_size=8,16"], trials=1, verbose=0)
    assert report["status"] == "completed" and report["trials"][0]["state"] == "complete"
    return Path(report["sweep_dir"])


@pytest.fixture
def sweep_copy(finished_sweep, workdir) -> Path:
    copy = workdir / "copied-sweep"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    return copy


def _foreign_database(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE notes (text TEXT)")


def _another_study(path: Path) -> None:
    with sqlite3.connect(path) as database:
        database.execute("UPDATE studies SET study_name = 'other'")


def _settings(change):
    def damage(path: Path) -> None:
        settings = json.loads(path.read_text())
        change(settings)
        path.write_text(json.dumps(settings))
    return damage


def _blocked_trials(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("a file where the trials' runs go")


DAMAGES = {  # name -> (the file damaged, how)
    "study.db corrupt": ("study.db", lambda path: path.write_bytes(b"\x00not a database\xff" * 300)),
    "study.db empty": ("study.db", lambda path: path.write_bytes(b"")),
    "study.db foreign": ("study.db", _foreign_database),
    "study.db another study": ("study.db", _another_study),
    "study.db missing": ("study.db", lambda path: path.unlink()),
    "sweep.json empty": ("sweep.json", lambda path: path.write_text("")),
    "sweep.json a list": ("sweep.json", lambda path: path.write_text("[]")),
    "sweep.json trials as text": ("sweep.json", _settings(lambda settings: settings.update(trials="many"))),
    "sweep.json no metric": ("sweep.json", _settings(lambda settings: settings.pop("metric"))),
    "sweep.json bad space": ("sweep.json", _settings(lambda settings: settings.update(params={"x": "uniform:2:1"}))),
    "spec.yaml missing": ("spec.yaml", lambda path: path.unlink()),
    "spec.yaml not a spec": ("spec.yaml", lambda path: path.write_text("- just\n- a list\n")),
    "trials blocked by a file": ("trials", _blocked_trials),
}


@pytest.mark.training
@pytest.mark.parametrize("damage", list(DAMAGES), ids=lambda name: name.replace(" ", "-"))
def test_a_damaged_sweep_directory_is_one_line_exit_2_and_nothing_rewritten(run_cli, sweep_copy, damage):
    name, how = DAMAGES[damage]
    how(sweep_copy / name)
    before = snapshot(sweep_copy)
    result = run_cli("sweep", "--resume", str(sweep_copy), "--trials", "2", "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert str(sweep_copy / name) in message, message
    assert snapshot(sweep_copy) == before  # not even a lock file


@pytest.mark.training
def test_a_refused_resume_writes_nothing(run_cli, sweep_copy):
    """Another process holds the sweep: --resume --trials 5 is refused before sweep.json changes."""
    from dlcli.locking import Lock

    with Lock(sweep_copy / ".lock").acquire("sweep"):
        before = snapshot(sweep_copy)
        result = run_cli("sweep", "--resume", str(sweep_copy), "--trials", "5", "-q")
        after = snapshot(sweep_copy)
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "in use by" in message, message
    assert after == before


@pytest.fixture
def mount_tmpfs(workdir):
    """Mount a tmpfs with the given options on a new folder (skipped where this machine cannot)."""
    mounted = []

    def mount(name: str, options: str) -> Path:
        folder = workdir / name
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.decode().strip() or 'not root'})")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


SWEEP_FOLDERS = {  # how the sweeps folder cannot take a new sweep -> ($DLCLI_SWEEPS_DIR, what the line names)
    "a file in its place": lambda workdir, mount: (write(workdir / "sweeps", "x"), "sweeps"),
    "a file where the experiment's folder goes": lambda workdir, mount: (
        write(workdir / "sweeps" / "tiny", "x").parent, "tiny"),
    "read-only": lambda workdir, mount: (mount("ro-disk", "ro,size=64k"), "Read-only file system"),
    "full": lambda workdir, mount: (mount("small-disk", "size=40k"), "full"),
}


@pytest.mark.training
@pytest.mark.parametrize("folder", list(SWEEP_FOLDERS), ids=lambda name: name.replace(" ", "-"))
def test_a_sweeps_folder_that_cannot_take_a_sweep_is_one_line_and_leaves_nothing(
        run_cli, workdir, tiny_spec, monkeypatch, mount_tmpfs, folder):
    root, named = SWEEP_FOLDERS[folder](workdir, mount_tmpfs)
    monkeypatch.setenv("DLCLI_SWEEPS_DIR", str(root))
    before = snapshot(root) if root.is_dir() else root.read_bytes()
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert str(root) in message and named in message, message
    after = snapshot(root) if root.is_dir() else root.read_bytes()
    if root.is_dir():  # nothing changed, at most the experiment's empty folder made
        assert {name: data for name, data in after.items() if name not in before} in ({}, {"tiny": None}), after
        assert {name: after[name] for name in before} == before
    else:
        assert after == before
    assert not (workdir / "runs").exists()


@pytest.mark.training
def test_a_disk_that_fills_during_a_resumed_sweep_is_one_line_and_keeps_the_sweep_whole(
        run_cli, finished_sweep, mount_tmpfs):
    """A tmpfs with 40 KB more than the sweep holds: a trial's run, the study or the report hits the
    full disk. The error is one line naming the file, no run is left `running`, and the sweep's
    files still read, so it resumes once there is room."""
    from dlcli.sweeps.directory import Sweep

    size = sum(-(-path.stat().st_size // 4096) * 4096 if path.is_file() else 4096  # tmpfs counts pages
               for path in finished_sweep.rglob("*"))
    copy = mount_tmpfs("small-disk", f"size={size // 1024 + 40}k") / "sweep"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    result = run_cli("sweep", "--resume", str(copy), "--trials", "2", "-q")
    last = result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 2 and last.startswith(f"error: {copy}") and ("No space" in last or "full" in last), \
        result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert all(json.loads(path.read_text())["status"] != "running" for path in copy.glob("trials/*/run.json"))
    Sweep.open(copy)  # sweep.json, study.db and spec.yaml read as before


@pytest.mark.training
def test_a_read_only_sweep_directory_is_one_line_before_anything(run_cli, finished_sweep, mount_tmpfs):
    disk = mount_tmpfs("disk", "size=4m")
    copy = disk / "sweep"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    if subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    result = run_cli("sweep", "--resume", str(copy), "--trials", "2", "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert str(copy) in message and "Read-only" in message


SPACES = {  # a space some of whose values the spec refuses -> the value the line names
    "an int range's high end": ("fit.batch_size=int:1:1e18", "1000000000000000000"),
    "a float range's high end": ("fit.validation.fraction=uniform:0.1:1", "1.0"),
    "a log range's high end": ("fit.epochs=logint:1:1e9", "1000000000"),
    "a range's low end": ("model.layers.0.Dense.units=int:-8:8:4", "-8"),
    "a later choice": ("fit.batch_size=8,16,0", "0"),
    "a choice read as text": ("fit.batch_size=8,1e3", "1e3"),
}


@pytest.mark.parametrize("space", list(SPACES), ids=lambda name: name.replace(" ", "-").replace("'", ""))
def test_every_value_a_space_can_produce_is_checked_before_any_trial(run_cli, workdir, tiny_spec, space):
    text, value = SPACES[space]
    result = run_cli("sweep", str(tiny_spec), "--param", text, "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message, message
    assert f"--param {text.partition('=')[0]} (tried as {value})" in message, message
    assert not (workdir / "sweeps").exists()


def test_a_grid_too_large_to_list_is_refused_at_once(run_cli, workdir, tiny_spec):
    started = time.perf_counter()
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=" + ",".join(map(str, range(1, 101))),
                     "--param", "model.layers.0.Dense.units=" + ",".join(map(str, range(1, 101))),
                     "--param", "model.layers.1.Dense.units=" + ",".join(map(str, range(1, 101))),
                     "--param", "compile.optimizer.learning_rate=" + ",".join(str(n / 1000) for n in range(1, 11)), "-q")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "grid" in message and "10,000,000" in message, message
    assert time.perf_counter() - started < 30 and not (workdir / "sweeps").exists()


def test_the_values_a_space_is_checked_at():
    from dlcli.sweeps.space import extremes

    params = parse_params(["a=int:16:128:50", "b=uniform:0:0.5", "c=1,x,true", "d=logint:1:1000"])
    assert [extremes(params[key]) for key in "abcd"] == [(16, 116), (0.0, 0.5), (1, "x", True), (1, 1000)]


# --------------------------------------------------------------------------- issue 14: trials


def ctrl_c_in(monkeypatch, trial: str, epoch: int = 2):
    """Ctrl-C (as a KeyboardInterrupt out of Keras) at the end of `epoch` of the run of `trial`."""
    from dlcli.backend import import_keras
    from dlcli.training import lifecycle

    keras, real_start = import_keras(), lifecycle.start

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_end(self, index, logs=None):
            if index + 1 == epoch:
                raise KeyboardInterrupt

    def start(spec, spec_path, overrides, run_dir, *args, watchers=(), **kwargs):
        extra = [CtrlC()] if Path(run_dir).name == trial else []
        return real_start(spec, spec_path, overrides, run_dir, *args, watchers=[*watchers, *extra], **kwargs)

    monkeypatch.setattr(lifecycle, "start", start)


@pytest.mark.training
@pytest.mark.parametrize("stored", ["relative", "absolute", "outside"],
                         ids=["as-stored-now", "as-older-sweeps-stored-it", "a-path-to-no-trial"])
def test_a_copied_sweep_resumes_its_own_trials(run_cli, workdir, tiny_spec, monkeypatch, stored):
    """`cp -a SWEEP copy; dlcli sweep --resume copy` finishes the copy's interrupted trial, listed as
    interrupted meanwhile, and leaves the original untouched, even where study.db holds absolute paths."""
    ctrl_c_in(monkeypatch, "0001")
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16,32", "--json", "-q")
    assert result.exit_code == 130, result.stderr
    monkeypatch.undo()
    report, original = json.loads(result.stdout), Path(json.loads(result.stdout)["sweep_dir"])
    listed = {row["trial"]: row for row in report["trials"]}
    assert listed[1]["state"] == listed[1]["run_status"] == "interrupted"  # not `running`
    with open(original / "sweep.csv") as handle:
        assert [row["state"] for row in csv.DictReader(handle)] == ["complete", "interrupted"]
    copy = workdir / "elsewhere" / "copy"
    shutil.copytree(original, copy, symlinks=True)
    if stored != "relative":
        with sqlite3.connect(copy / "study.db") as database:
            for key, value in database.execute("SELECT trial_user_attribute_id, value_json FROM trial_user_attributes "
                                               "WHERE key = 'run_dir'").fetchall():
                path = original / json.loads(value) if stored == "absolute" else \
                    workdir / "not-a-trial" / Path(json.loads(value)).name  # "outside": no trials/NNNN, never written
                database.execute("UPDATE trial_user_attributes SET value_json = ? WHERE trial_user_attribute_id = ?",
                                 (json.dumps(str(path)), key))
    before = snapshot(original)
    result = run_cli("sweep", "--resume", str(copy), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert snapshot(original) == before and not (workdir / "not-a-trial").exists()
    report = json.loads(result.stdout)
    if stored == "outside":  # trial 1 names no run of this sweep: it never started here, and is asked again
        assert [row["state"] for row in report["trials"]] == ["complete", "fail", "complete", "complete"]
        assert report["trials"][1]["note"].startswith("not started")
        return
    assert [row["state"] for row in report["trials"]] == ["complete"] * 3
    assert all(Path(row["run_dir"]).parent == copy.resolve() / "trials" for row in report["trials"])
    resumed = json.loads((copy / "trials" / "0001" / "run.json").read_text())
    assert resumed["status"] == "completed" and resumed["resumes"][0]["from_status"] == "interrupted"
    assert report["trials"][1]["duration_s"] == resumed["duration_s"]  # its training time, not the pause
    with open(copy / "sweep.csv") as handle:
        assert [row["run_dir"] for row in csv.DictReader(handle)] == ["trials/0000", "trials/0001", "trials/0002"]


def _raise_in(target: str, error: BaseException):
    """Patch `module:function` to raise `error` on its first call only."""
    def patch(monkeypatch):
        import importlib

        module_name, _, name = target.partition(":")
        module = importlib.import_module(module_name)
        real, calls = getattr(module, name), []

        def first_call_raises(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise error
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, first_call_raises)
    return patch


TRIAL_ERRORS = {  # what the first trial raises, and where -> what its note names
    "a bug before its run": (_raise_in("dlcli.training.lifecycle:start", RuntimeError("a bug")), "RuntimeError"),
    "a full disk before its run": (_raise_in("dlcli.training.lifecycle:start", OSError(28, "No space left on device")),
                                   "No space left"),
    "out of memory": (_raise_in("dlcli.training.lifecycle:start", MemoryError("out of memory")), "MemoryError"),
    "a drawing that fails": (_raise_in("dlcli.models.describing:draw", RuntimeError("Graphviz crashed")), ""),
    "a bug once its run exists": (_raise_in("dlcli.training.lifecycle:execute", RuntimeError("a bug")), "RuntimeError"),
    "a damaged run": (_raise_in("dlcli.sweeps.runner:metric_value", UsageError("metrics.json: unreadable")),
                      "metrics.json"),
}


@pytest.mark.training
@pytest.mark.parametrize("raised", list(TRIAL_ERRORS), ids=lambda name: name.replace(" ", "-"))
def test_whatever_a_trial_raises_the_sweep_records_it_and_goes_on(run_cli, workdir, tiny_spec, monkeypatch, raised):
    patch, note = TRIAL_ERRORS[raised]
    patch(monkeypatch)
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "--json", "-q")
    assert result.exit_code == 0 and "unexpected" not in result.stderr, result.stderr
    first, second = json.loads(result.stdout)["trials"]
    assert first["state"] in ("fail", "complete") and note in first["note"], first  # a drawing may become a note
    assert second["state"] == "complete" and second["run_status"] == "completed"
    for row in (first, second):  # the listing says what the run says, and no run is left `running`
        if row["run_dir"]:
            status = json.loads((Path(row["run_dir"]) / "run.json").read_text())["status"]
            assert status == row["run_status"] and status in ("completed", "failed"), row
            assert row["state"] != "complete" or status == "completed", row


@pytest.mark.training
def test_a_ctrl_c_that_escapes_a_run_leaves_it_interrupted_and_resumable(run_cli, workdir, tiny_spec, monkeypatch):
    _raise_in("dlcli.training.lifecycle:execute", KeyboardInterrupt())(monkeypatch)
    result = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "-q")
    assert result.exit_code == 130, result.stderr
    monkeypatch.undo()
    header, row = result.stdout.splitlines()[:2]  # the printed table: its trial's state and its run's status
    assert header.split()[:3] == ["trial", "state", "run"] and row.split()[:3] == ["0", "interrupted", "interrupted"]
    folder = result.stdout.rpartition("sweep directory: ")[2].strip()
    assert json.loads((Path(folder) / "trials" / "0000" / "run.json").read_text())["status"] == "interrupted"
    result = run_cli("sweep", "--resume", folder, "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert [row["state"] for row in json.loads(result.stdout)["trials"]] == ["complete", "complete"]


def test_every_path_in_a_sweeps_json_is_absolute(run_cli, workdir, tiny_spec):
    first = run_cli("sweep", str(tiny_spec), "--param", "fit.batch_size=8,16", "--trials", "1", "--json", "-q")
    assert first.exit_code == 0, first.stderr
    folder = Path(json.loads(first.stdout)["sweep_dir"]).relative_to(workdir)  # as a user types it, from here
    result = run_cli("sweep", "--resume", str(folder), "--json", "-q")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    paths = [report["sweep_dir"], report["run_dir"], report["best"]["run_dir"],
             *(row["run_dir"] for row in report["trials"] if row["run_dir"])]
    assert all(Path(path).is_absolute() and Path(path).is_dir() for path in paths), paths
