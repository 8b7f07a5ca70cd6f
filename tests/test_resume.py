"""Resume: an interrupted or killed run continues exactly as if it had never stopped."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_SPEC, write

pytestmark = pytest.mark.training

RESUMABLE = TINY_SPEC.replace("seed: 7", "seed: 7\ndeterministic: true").replace(
    "epochs: 3", "epochs: 7").replace(
    "    - Dense: {units: 8, activation: relu}", "    - Dense: {units: 8, activation: relu}\n    - Dropout: {rate: 0.3}").replace(
    "  - EarlyStopping: {monitor: val_loss, patience: 5}",
    "  - EarlyStopping: {monitor: val_loss, patience: 3, min_delta: 0.001}\n"
    "  - ReduceLROnPlateau: {monitor: val_loss, factor: 0.5, patience: 1, min_delta: 0.01}")


def interrupt_at_epoch_end(monkeypatch, count: int) -> None:
    """Send this process SIGINT (Ctrl-C) when the `count`-th epoch of the run ends: the stop then
    takes effect one batch into the next epoch, which must be dropped."""
    from dlcli.backend import import_keras
    from dlcli.training import callbacks, trainer

    keras = import_keras()
    seen = {"epochs": 0}

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen["epochs"] += 1
            if seen["epochs"] == count:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(trainer, "spec_callbacks",
                        lambda *args, **kwargs: [*callbacks.spec_callbacks(*args, **kwargs), CtrlC()])


def weights(path: Path) -> list:
    from dlcli.models.saving import load_model

    return load_model(path).get_weights()


def assert_same_weights(first: Path, second: Path) -> None:
    for a, b in zip(weights(first), weights(second), strict=True):
        np.testing.assert_array_equal(a, b)


def test_interrupted_then_resumed_equals_uninterrupted(run_cli, workdir, monkeypatch):
    spec = write(workdir / "resumable.yaml", RESUMABLE)
    straight = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])

    interrupt_at_epoch_end(monkeypatch, 2)
    result = run_cli("train", str(spec), "--json")
    monkeypatch.undo()
    assert result.exit_code == 130, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    assert json.loads((run / "history.json").read_text())["epoch"] == [1, 2]  # the cut third epoch is dropped
    assert (run / "history.csv").read_text().count("\n") == 3
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    assert metrics["epochs_completed"] == 2 and "test_accuracy" not in metrics
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert "dlcli resume" in result.stderr
    assert run_cli("evaluate", str(run)).exit_code == 0  # the model of epoch 2 was saved

    resumed = run_cli("resume", str(run), "--json")
    assert resumed.exit_code == 0, resumed.stderr
    output = json.loads(resumed.stdout)
    assert output["status"] == "completed" and output["check"]["status"] == "passed"
    assert json.loads((run / "history.json").read_text()) == json.loads((straight / "history.json").read_text())
    assert (run / "history.csv").read_text() == (straight / "history.csv").read_text()
    assert_same_weights(run / "model.keras", straight / "model.keras")
    assert_same_weights(run / "checkpoints" / "best.keras", straight / "checkpoints" / "best.keras")
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and len(info["resumes"]) == 1
    assert info["resumes"][0]["from_epoch"] == 2 and info["resumes"][0]["from_status"] == "interrupted"
    assert output["metrics"]["test_accuracy"] == json.loads((straight / "metrics.json").read_text())["metrics"]["test_accuracy"]


def test_resume_refuses_completed_and_changed_runs(run_cli, workdir, monkeypatch):
    spec = write(workdir / "resumable.yaml", RESUMABLE)
    done = json.loads(run_cli("train", str(spec), "--json", "--epochs", "1").stdout)["run_dir"]
    refused = run_cli("resume", done)
    assert refused.exit_code == 2 and "'completed'" in refused.stderr and "dlcli train" in refused.stderr

    interrupt_at_epoch_end(monkeypatch, 1)
    run = json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"]
    monkeypatch.undo()
    fewer = run_cli("resume", run, "--epochs", "0")
    assert fewer.exit_code == 2 and "fewer than the 1 epochs its fit phase already completed" in fewer.stderr
    spec.write_text(RESUMABLE.replace("batch_size: 16", "batch_size: 8"))
    changed = run_cli("resume", run)
    assert changed.exit_code == 2
    assert "changed since the run started (fit.batch_size)" in changed.stderr and "--force" in changed.stderr
    forced = run_cli("resume", run, "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    check = json.loads(forced.stdout)["check"]
    assert check["status"] == "not comparable" and "--force" in check["reason"]


def test_kfold_resume_skips_finished_folds(run_cli, workdir, monkeypatch):
    spec = write(workdir / "kfold.yaml", """
        description: k-fold regression
        seed: 3
        deterministic: true
        data: {name: synthetic, task: regression, num_samples: 60, num_test: 20, shape: [4]}
        model:
          type: sequential
          layers: [{Dense: {units: 8, activation: relu}}, {Dense: {units: 1}}]
        compile: {optimizer: rmsprop, loss: mse, metrics: [mae]}
        fit: {epochs: 3, batch_size: 8, validation: {kind: kfold, k: 3}}
        """)
    straight = json.loads(run_cli("train", str(spec), "--json").stdout)
    interrupt_at_epoch_end(monkeypatch, 5)  # fold 2, epoch 2
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    monkeypatch.undo()
    assert (run / "folds" / "fold-1" / "result.json").is_file() and not (run / "folds" / "fold-2" / "result.json").exists()
    fold_1 = (run / "folds" / "fold-1" / "history.json").stat().st_mtime_ns
    resumed = json.loads(run_cli("resume", str(run), "--json").stdout)
    assert (run / "folds" / "fold-1" / "history.json").stat().st_mtime_ns == fold_1  # not trained again
    for key in ("val_mae", "fold_1_val_mae", "fold_2_val_mae", "fold_3_val_mae"):
        assert resumed["metrics"][key] == straight["metrics"][key], key


def test_killed_run_reads_as_crashed_and_resumes(run_cli, workdir):
    spec = write(workdir / "slow.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 500").replace(
        "num_samples: 96", "num_samples: 3000").replace("batch_size: 16", "batch_size: 8"))
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(spec), "-q"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline, state = time.time() + 120, None
    while time.time() < deadline and state is None:
        state = next(iter((workdir / "runs").glob("slow/*/state/latest.json")), None)
        time.sleep(0.2)
    assert state is not None, process.communicate()[1]
    process.kill()
    process.wait(timeout=30)
    run = state.parent.parent
    listed = json.loads(run_cli("compare", str(run), "--json").stdout)
    assert listed["runs"][0]["status"] == "crashed"
    epochs = json.loads(state.read_text())["epoch"]
    resumed = run_cli("resume", str(run), "--epochs", str(epochs + 1), "--json")
    assert resumed.exit_code == 0, resumed.stderr
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == list(range(1, epochs + 2))
    info = json.loads((run / "run.json").read_text())
    assert info["resumes"][0]["from_status"] == "crashed" and info["resumes"][0]["from_epoch"] == epochs
    assert json.loads(resumed.stdout)["check"]["status"] == "not comparable"  # 500 epochs became fewer


def test_predict_and_gradcam_feed_what_the_model_was_trained_on(run_cli, workdir):
    """A model trained on pixels / 255 gets, from a PNG of a test image, the probabilities it
    gives on the test array, and a heatmap that is not empty."""
    import cv2

    from dlcli import datasets
    from dlcli.models.saving import load_model
    from dlcli.runs import Run

    spec = write(workdir / "pixels.yaml", """
        description: a tiny convnet on pixels
        seed: 1
        data: {name: synthetic, num_samples: 192, num_test: 16, shape: [12, 12, 3], num_classes: 2, pixels: true}
        model:
          type: sequential
          layers:
            - Conv2D: {filters: 8, kernel_size: 3, activation: relu}
            - GlobalAveragePooling2D
            - Dense: {units: 2, activation: softmax}
        compile: {optimizer: {name: adam, learning_rate: 0.01}, loss: categorical_crossentropy, metrics: [accuracy]}
        fit: {epochs: 8, batch_size: 16}
        """)
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    bundle = datasets.load(Run(run).spec().data)
    first = int(np.flatnonzero(bundle.test.y[:, 1] == 1)[0])  # a bright image: its brightness is class 1's evidence
    image = bundle.test.x[first]  # (12, 12, 3) uint8
    assert image.dtype == np.uint8 and image.max() > 1
    cv2.imwrite(str(workdir / "test0.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    expected = load_model(run / "model.keras").predict(bundle.test.x[first:first + 1], verbose=0)[0]
    assert expected.max() < 0.9999  # a model fed what it expects is not saturated

    rows = json.loads(run_cli("predict", str(run), str(workdir / "test0.png"), "--json").stdout)["predictions"]
    assert rows[0]["probability"] == pytest.approx(float(expected.max()), abs=1e-5)
    assert rows[0]["index"] == int(expected.argmax())

    cam = run_cli("visualize", "gradcam", str(workdir / "test0.png"), "--model", str(run), "--class", "1", "--json")
    assert cam.exit_code == 0, cam.stderr
    result = json.loads(cam.stdout)
    assert result["top"][0]["probability"] == pytest.approx(float(expected.max()), abs=1e-5)
    assert result["heatmap_empty"] is False and result["heatmap_peak"] is not None

    from dlcli.viz.gradcam import gradcam_heatmap

    direct, _, _ = gradcam_heatmap(load_model(run / "model.keras"), bundle.test.x[first:first + 1].astype("float32"),
                                   class_index=1)
    assert result["heatmap_peak"] == [int(v) for v in np.unravel_index(int(np.argmax(direct)), direct.shape)]


def test_resume_after_a_resume_to_more_epochs(run_cli, workdir, monkeypatch):
    spec = write(workdir / "resumable.yaml", RESUMABLE.replace("epochs: 7", "epochs: 2"))
    interrupt_at_epoch_end(monkeypatch, 1)
    run = json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"]
    interrupt_at_epoch_end(monkeypatch, 1)  # the resumed run is stopped again after one more epoch
    assert run_cli("resume", run, "--epochs", "4").exit_code == 130
    monkeypatch.undo()
    again = run_cli("resume", run, "--json")  # not taken for a changed spec: the 4 epochs are recorded
    assert again.exit_code == 0, again.stderr
    assert json.loads((Path(run) / "history.json").read_text())["epoch"] == [1, 2, 3, 4]
    assert "fit.epochs=4 (was 2)" in json.loads(again.stdout)["check"]["reason"]


def test_damaged_runs_get_one_line_and_exit_2(run_cli, workdir, monkeypatch):
    spec = write(workdir / "resumable.yaml", RESUMABLE)
    interrupt_at_epoch_end(monkeypatch, 1)
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    monkeypatch.undo()
    (run / "state" / "latest.json").write_text("{not json")
    result = run_cli("resume", str(run))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "latest.json: unreadable" in result.stderr
    (run / "spec.yaml").write_text("model: [unclosed\n")
    assert run_cli("compare", str(run)).exit_code == 2
    (run / "run.json").write_text("[]")
    for command in (["evaluate"], ["check"], ["compare"], ["resume"], ["plot"]):
        result = run_cli(*command, str(run))
        assert result.exit_code == 2 and "run.json: not a JSON object" in result.stderr, command
    kfold = write(workdir / "kfold.yaml", RESUMABLE.replace("validation: {kind: split, fraction: 0.25}",
                                                            "validation: {kind: kfold, k: 2}").replace(
        "callbacks:\n  - ModelCheckpoint: {monitor: val_loss}", "callbacks:\n  - TerminateOnNaN"))
    interrupt_at_epoch_end(monkeypatch, 1)
    folds = json.loads(run_cli("train", str(kfold), "--json", "--set", "callbacks=[]").stdout)["run_dir"]
    monkeypatch.undo()
    refused = run_cli("resume", folds, "--epochs", "9")
    assert refused.exit_code == 2 and "folds would end with different numbers of epochs" in refused.stderr


def test_a_full_disk_while_saving_fails_the_run_honestly(run_cli, workdir, monkeypatch):
    """ENOSPC on the second checkpoint: the run fails with the reason, --json still prints one
    object, and the first checkpoint survives whole (checkpoints are written atomically)."""
    from dlcli.backend import import_keras

    keras = import_keras()
    real_save = keras.Model.save
    calls = {"count": 0}

    def full_disk(self, filepath, *args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 2:
            Path(filepath).write_bytes(b"half a mod")  # what a full disk leaves behind
            raise OSError(28, "No space left on device")
        return real_save(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", full_disk)
    spec = write(workdir / "full.yaml", TINY_SPEC.replace("ModelCheckpoint: {monitor: val_loss}",
                                                          "ModelCheckpoint: {monitor: val_loss, save_best_only: false}"))
    result = run_cli("train", str(spec), "--json")
    monkeypatch.undo()
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    output = json.loads(result.stdout)
    assert output["status"] == "failed" and "No space left" in output["error"]
    run = Path(output["run_dir"])
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert len(weights(run / "checkpoints" / "best.keras")) == 4  # epoch 1's checkpoint, whole
    assert not list(run.rglob(".*part*"))  # no temporary file left


def test_a_signal_while_the_run_is_closed_still_saves_it_whole(run_cli, workdir, monkeypatch):
    from dlcli.training import lifecycle

    real_close = lifecycle.close

    def close_under_ctrl_c(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # twice: neither may cut the save short
        os.kill(os.getpid(), signal.SIGINT)
        return real_close(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "close", close_under_ctrl_c)
    spec = write(workdir / "tiny.yaml", TINY_SPEC)
    result = run_cli("train", str(spec), "--epochs", "1")
    assert result.exit_code == 130 and "saved whole" in result.stderr
    run = next((workdir / "runs" / "tiny").iterdir())
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    assert len(weights(run / "model.keras")) == 4


def test_an_unwritable_runs_folder_is_found_before_any_work(run_cli, workdir, tiny_spec, monkeypatch):
    (workdir / "afile").write_text("not a folder")
    monkeypatch.setenv("DLCLI_RUNS_DIR", str(workdir / "afile" / "runs"))
    result = run_cli("train", str(tiny_spec))
    assert result.exit_code == 2 and "cannot create a run directory here" in result.stderr
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_exits_130(workdir, tiny_spec, signum):
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(tiny_spec)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    # Inside dlcli's start-up, importing TensorFlow: a signal before dlcli's main runs (Python still
    # importing click on a loaded machine) ends the process as any Python program, by the signal.
    deadline = time.monotonic() + 60
    while "tensorflow" not in _mapped_files(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert not list((workdir / "runs").glob("tiny/*/run.json")) or \
        json.loads(next((workdir / "runs").glob("tiny/*/run.json")).read_text())["status"] != "running"


def _mapped_files(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def test_a_damaged_model_is_exit_3_everywhere(run_cli, workdir):
    import cv2

    spec = write(workdir / "pixels.yaml", """
        description: a tiny convnet on pixels
        data: {name: synthetic, num_samples: 32, num_test: 8, shape: [8, 8, 3], num_classes: 2, pixels: true}
        model:
          type: sequential
          layers: [{Conv2D: {filters: 2, kernel_size: 3}}, GlobalAveragePooling2D, {Dense: {units: 2, activation: softmax}}]
        compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
        fit: {epochs: 1, batch_size: 8}
        """)
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    model = run / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])  # a copy cut short
    cv2.imwrite(str(workdir / "x.png"), np.zeros((8, 8, 3), np.uint8))
    for command in (["evaluate", str(run)], ["predict", str(run), str(workdir / "x.png")],
                    ["visualize", "gradcam", str(workdir / "x.png"), "--model", str(run)]):
        result = run_cli(*command)
        assert result.exit_code == 3 and "not a readable Keras model" in result.stderr, command
        assert "unexpected" not in result.stderr and result.stderr.count("\n") == 1


def test_a_full_disk_before_training_leaves_no_run_directory(run_cli, workdir, tiny_spec, monkeypatch):
    from dlcli.runs import Run

    def no_space(self, name, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Run, "write_text", no_space)
    result = run_cli("train", str(tiny_spec), "--json")
    assert result.exit_code == 1 and "No space left on device" in result.stderr and "unexpected" not in result.stderr
    assert json.loads(result.stdout)["status"] == "failed"
    assert not list((workdir / "runs" / "tiny").iterdir())


@pytest.fixture
def small_disk(workdir):
    """A 40 KB tmpfs as the runs folder, where this machine lets the tests mount one."""
    folder = workdir / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_really_full_disk_fails_the_run_honestly(run_cli, workdir, tiny_spec, small_disk, monkeypatch):
    monkeypatch.setenv("DLCLI_RUNS_DIR", str(small_disk))
    result = run_cli("train", str(tiny_spec), "--json", "-q")
    assert result.exit_code == 1 and os.strerror(errno.ENOSPC) in result.stderr  # the system's words for it
    said = [line for line in result.stderr.splitlines() if not line.startswith("run directory: ")]
    assert len(said) == 1 and "unexpected" not in result.stderr  # one line of error, beside where the run is
    output = json.loads(result.stdout)
    run = Path(output["run_dir"])
    info = json.loads((run / "run.json").read_text())
    assert output["status"] == info["status"] == "failed" and "No space left" in info["error"]
    assert not list(run.rglob("*.part*")) and not (run / "model.keras").exists()


def test_a_kill_while_a_checkpoint_is_written_keeps_the_previous_one(run_cli, workdir):
    """SIGKILL while the second checkpoint is on its way to disk: best.keras is still the first one,
    whole; the run reads as crashed; resume removes the half-written file and completes."""
    spec = write(workdir / "big.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 30").replace(
        "Dense: {units: 8, activation: relu}", "Dense: {units: 1200, activation: relu}").replace(
        "ModelCheckpoint: {monitor: val_loss}", "ModelCheckpoint: {monitor: val_loss, save_best_only: false}"))
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(spec), "-q"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    checkpoints, partial = None, None
    while process.poll() is None and partial is None:
        checkpoints = checkpoints or next(iter((workdir / "runs").glob("big/*/checkpoints")), None)
        if checkpoints is not None and (checkpoints / "best.keras").exists():
            partial = next(iter(checkpoints.glob(".best.part*")), None)
        time.sleep(0.001)
    process.kill()
    assert partial is not None, f"no checkpoint save was seen: {process.communicate()[1]}"
    process.wait(timeout=30)
    assert len(weights(checkpoints / "best.keras")) == 4
    run = checkpoints.parent
    assert json.loads(run_cli("compare", str(run), "--json").stdout)["runs"][0]["status"] == "crashed"
    resumed = run_cli("resume", str(run), "--epochs", "2", "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert not list(run.rglob(".*part*"))


def test_ctrl_c_after_the_run_is_saved_exits_130_not_by_signal(workdir, tiny_spec):
    """Ctrl-C pressed again and again as the command ends: never a death by signal (rc -2)."""
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(tiny_spec)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    while process.poll() is None and not list((workdir / "runs").glob("tiny/*/metrics.json")):
        time.sleep(0.005)
    while process.poll() is None:
        process.send_signal(signal.SIGINT)
        time.sleep(0.01)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err
    info = json.loads(next((workdir / "runs").glob("tiny/*/run.json")).read_text())
    assert info["status"] in ("completed", "interrupted")


def test_a_second_writer_is_refused_at_once_and_a_dead_ones_run_resumes(run_cli, workdir, monkeypatch):
    """Two `dlcli resume` of one run: the second is refused at once, naming the first, while the
    first holds the run; once the holder is gone the run resumes."""
    import subprocess
    import sys

    spec = write(workdir / "resumable.yaml", RESUMABLE)
    interrupt_at_epoch_end(monkeypatch, 1)
    run = json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"]
    monkeypatch.undo()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from dlcli.runs import Run; "
                               f"run = Run.open({run!r}); run.lock('resume'); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = run_cli("resume", run)
        assert refused.exit_code == 2 and f"pid {holder.pid}" in refused.stderr
        assert refused.stderr.count("\n") == 1
        assert json.loads((Path(run) / "run.json").read_text())["status"] == "interrupted"  # untouched
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("resume", run).exit_code == 0


def test_a_running_run_of_an_older_dlcli_resumes_with_force(run_cli, workdir, monkeypatch):
    """No lock file and a live pid without a start time: dlcli cannot tell whether that process is
    the run's writer; resume says so, and --force takes the user's word that it is gone."""
    import subprocess
    import sys

    spec = write(workdir / "resumable.yaml", RESUMABLE)
    interrupt_at_epoch_end(monkeypatch, 1)
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    monkeypatch.undo()
    (run / ".lock").unlink()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        info = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**info, "status": "running", "process": {
            "pid": other.pid, "host": __import__("socket").gethostname(), "process_start": None}}))
        refused = run_cli("resume", str(run))
        assert refused.exit_code == 2 and "--force" in refused.stderr
        assert run_cli("resume", str(run), "--force").exit_code == 0
    finally:
        other.kill()
        other.wait()


def test_a_resume_on_other_data_is_refused_unless_forced(run_cli, workdir, monkeypatch):
    """Issue 14: a csv_series run whose CSV changed while it was interrupted does not continue
    silently on other numbers; a run from before data identities were recorded resumes as it did."""
    from test_series import SPEC, series_csv

    csv = series_csv(workdir / "series.csv")
    spec = write(workdir / "series.yaml", SPEC.format(
        path=csv, epochs=3, model="{type: sequential, layers: [Flatten, {Dense: {units: 1}}]}"))
    runs = []
    for _ in range(2):
        interrupt_at_epoch_end(monkeypatch, 1)
        runs.append(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
        monkeypatch.undo()
    older = Path(runs[1]) / "run.json"
    info = json.loads(older.read_text())
    assert str(csv.resolve()) in info.pop("data_identity")
    older.write_text(json.dumps(info))  # as a run of an earlier dlcli
    csv.write_text(csv.read_text().replace("\n2020-01-01 00003,", "\n2020-01-01 00003,5"))
    refused = run_cli("resume", runs[0])
    message = refused.stderr.strip()
    assert refused.exit_code == 2 and "\n" not in message, message
    assert f"data changed: {csv.resolve()}" in message and "--force" in message
    forced = run_cli("resume", runs[0], "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    resumed = json.loads((Path(runs[0]) / "run.json").read_text())["resumes"][-1]
    assert resumed["forced"] and f"data changed: {csv.resolve()}" in resumed["differences"]
    assert run_cli("resume", runs[1]).exit_code == 0


def _two_optimizer_model(keras, with_hook: bool):
    """A model whose two parts each have their own optimizer (as a GAN's generator and
    discriminator do), trained by its own train_step through dlcli's backend-neutral gradients."""
    from dlcli.backend.gradients import value_and_weight_gradients

    class TwoParts(keras.Model):
        def __init__(self):
            super().__init__()
            self.first, self.second = keras.layers.Dense(1), keras.layers.Dense(1)

        def build(self, shape):
            self.first.build(shape)
            self.second.build(shape)

        def call(self, x):
            return self.first(x) + self.second(x)

        def compile(self, **kwargs):
            super().compile(**kwargs)
            self.first_optimizer = keras.optimizers.Adam(0.01)
            self.second_optimizer = keras.optimizers.RMSprop(0.01)

        def train_step(self, data):
            x, y = data
            for part, optimizer in ((self.first, self.first_optimizer), (self.second, self.second_optimizer)):
                loss, _, gradients = value_and_weight_gradients(
                    lambda: (keras.ops.mean((self(x) - y) ** 2), None), part.trainable_variables)
                optimizer.apply_gradients(zip(gradients, part.trainable_variables))
            return {"loss": loss}

    if with_hook:
        TwoParts.optimizer_variables = lambda self: [(self.first_optimizer, self.first.trainable_variables),
                                                     (self.second_optimizer, self.second.trainable_variables)]
    model = TwoParts()
    model.build((None, 3))
    model.compile()
    return model


def test_the_resume_state_holds_every_optimizer_a_model_owns(workdir):
    """A second optimizer restored with its steps and moments, or the resume refused: never silently
    restarted from zero, which is all Keras does (with a warning) when it cannot load one."""
    from dlcli.backend import import_keras
    from dlcli.errors import UsageError
    from dlcli.runs import Run
    from dlcli.training.state import TrainingState

    keras = import_keras()
    x, y = np.random.default_rng(0).random((64, 3), "float32"), np.random.default_rng(1).random((64, 1), "float32")
    trained = _two_optimizer_model(keras, with_hook=True)
    trained.fit(x, y, batch_size=16, epochs=2, verbose=0)
    run = Run.create("two-optimizers")
    state = TrainingState(run)
    state.save("fit", 2, trained, [], {}, False)
    record = state.latest()

    restored = _two_optimizer_model(keras, with_hook=True)
    state.restore_model(restored, record)
    for name in ("first_optimizer", "second_optimizer"):
        saved, loaded = getattr(trained, name), getattr(restored, name)
        assert int(loaded.iterations) == int(saved.iterations) == 8, name
        for ours, theirs in zip(loaded.variables, saved.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))

    without_hook = _two_optimizer_model(keras, with_hook=False)  # each optimizer built over every variable
    with pytest.raises(UsageError, match="cannot be resumed exactly"):
        state.restore_model(without_hook, record)
    run.release()
