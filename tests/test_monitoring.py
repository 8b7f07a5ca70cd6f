"""Callbacks and monitoring (7.2): every Keras callback by name, schedules, ActivationLogger, a
user's callback class, TensorBoard's histograms and projector, and `dlcli tensorboard`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_SPEC, write

CALLBACK_FILE = """
import keras

class EpochFiles(keras.callbacks.Callback):
    '''Writes one file an epoch beside the spec, named with a prefix.'''

    def __init__(self, folder, prefix="epoch"):
        super().__init__()
        self.folder, self.prefix = folder, prefix

    def on_epoch_end(self, epoch, logs=None):
        with open(f"{self.folder}/{self.prefix}-{epoch + 1}.txt", "w") as handle:
            handle.write(str(logs["loss"]))

class NotACallback:
    pass
"""


def with_callbacks(text: str) -> str:
    return TINY_SPEC.replace("  - EarlyStopping: {monitor: val_loss, patience: 5}\n", text)


# ----------------------------------------------------------------------------- checked by validate


@pytest.mark.parametrize("entry,message", [
    ("BackupAndRestore: {backup_dir: x}", "BackupAndRestore is not available in a spec: dlcli saves a resume state"),
    ("LambdaCallback: {}", "write a Callback class and name it with `Custom: {path: file.py:ClassName}`"),
    ("LearningRateScheduler: {schedule: {ExponentialDecy: {}}}", "unknown schedule 'ExponentialDecy' "
                                                                 "(did you mean 'ExponentialDecay'?)"),
    ("LearningRateScheduler: {schedule: 0.1}", "LearningRateScheduler needs a schedule by name"),
    ("ActivationLogger: {sample: 2}", "ActivationLogger: unknown argument 'sample' (did you mean 'samples'?)"),
    ("Custom: {path: cb.py}", "write the file and the class as FILE.py:ClassName"),
    ("Custom: {path: missing.py:EpochFiles}", "no file"),
    ("RemoteMonitor: {rot: x}", "RemoteMonitor: unknown argument 'rot' (did you mean 'root'?)"),
    ("TensorBoard: {log_dir: x}", "TensorBoard.log_dir is set by dlcli"),
])
def test_callback_problems_are_found_by_validate(run_cli, workdir, entry, message):
    spec = write(workdir / "cb.yaml", with_callbacks(f"  - {entry}\n"))
    result = run_cli("validate", str(spec))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "cb.yaml:16: callbacks[1]" in result.stderr  # the line of the entry


def test_activation_logger_needs_validation(run_cli, workdir):
    spec = TINY_SPEC.replace("validation: {kind: split, fraction: 0.25}", "validation: {kind: none}").replace(
        "  - ModelCheckpoint: {monitor: val_loss}\n  - EarlyStopping: {monitor: val_loss, patience: 5}\n",
        "  - ActivationLogger: {}\n")
    result = run_cli("validate", str(write(workdir / "cb.yaml", spec)))
    assert result.exit_code == 2 and "ActivationLogger logs validation samples" in result.stderr


# ----------------------------------------------------------------------------- in training


@pytest.mark.training
def test_schedule_activations_and_a_custom_callback(run_cli, workdir):
    write(workdir / "code" / "cb.py", CALLBACK_FILE)
    (workdir / "out").mkdir()
    spec = write(workdir / "code" / "cb.yaml", with_callbacks(f"""\
  - LearningRateScheduler: {{schedule: {{ExponentialDecay: {{initial_learning_rate: 0.01, decay_steps: 1, decay_rate: 0.5}}}}}}
  - ActivationLogger: {{samples: 3}}
  - Custom: {{path: cb.py:EpochFiles, args: {{folder: {workdir / 'out'}, prefix: seen}}}}
"""))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    history = json.loads((run / "history.json").read_text())
    np.testing.assert_allclose(history["learning_rate"], [0.01, 0.005, 0.0025], rtol=1e-6)
    activations = np.load(run / "activations" / "fit-epoch-0002.npz")
    run_model_layers = json.loads((run / "model.json").read_text())["config"]["layers"]
    names = [layer["config"]["name"] for layer in run_model_layers if layer["class_name"] == "Dense"]
    assert sorted(activations.files) == sorted(names)  # every layer, by name (Keras numbers them per process)
    assert sorted(activations[name].shape for name in names) == [(3, 3), (3, 8)]
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["seen-1.txt", "seen-2.txt", "seen-3.txt"]
    # the run keeps the callback's code, and its spec names that copy
    assert (run / "callbacks" / "3-cb.py").read_text() == (workdir / "code" / "cb.py").read_text()
    assert "path: callbacks/3-cb.py:EpochFiles" in (run / "spec.yaml").read_text()


@pytest.mark.training
@pytest.mark.parametrize("code,entry,message", [
    ("def broken(:\n", "cb.py:EpochFiles", "cannot import"),
    (CALLBACK_FILE, "cb.py:EpochFile", "no class EpochFile in"),
    (CALLBACK_FILE, "cb.py:NotACallback", "not a keras.callbacks.Callback subclass: NotACallback"),
    (CALLBACK_FILE.replace("super().__init__()", "raise RuntimeError('no GPU here')"), "cb.py:EpochFiles",
     "EpochFiles(folder) failed: RuntimeError: no GPU here"),
])
def test_a_custom_callback_that_fails_is_one_line_before_any_run(run_cli, workdir, code, entry, message):
    write(workdir / "cb.py", code)
    spec = write(workdir / "cb.yaml", with_callbacks(f"  - Custom: {{path: {entry}, args: {{folder: .}}}}\n"))
    result = run_cli("train", str(spec))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "cb.yaml:16: callbacks[1].Custom" in result.stderr and result.stderr.count("\n") == 1
    assert not (workdir / "runs").exists()


@pytest.mark.training
def test_tensorboard_histograms_projector_and_server(run_cli, workdir):
    from test_text import SPEC, reviews

    spec = write(workdir / "tb.yaml", SPEC.format(path=reviews(workdir), dim=4, extra="") +
                 "callbacks:\n  - TensorBoard: {histogram_freq: 1, embeddings_freq: 1}\n")
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    train_logs = run / "logs" / "train"
    words = (train_logs / "metadata-embedding_0.tsv").read_text().splitlines()
    assert len(words) == 30 and words[:2] == ["<pad>", "[UNK]"] and "wonderful" in words
    assert "embedding_0/.ATTRIBUTES/VARIABLE_VALUE" in (train_logs / "projector_config.pbtxt").read_text()

    process = subprocess.Popen([sys.executable, "-m", "dlcli", "tensorboard", str(run), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = process.stdout.readline()
        assert line.startswith("TensorBoard at http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[2]
        assert b"<!doctype html>" in urllib.request.urlopen(url, timeout=30).read()[:100].lower()
        name = f"tb/{run.name}"
        deadline, tags = time.time() + 60, {}
        while time.time() < deadline and f"{name}/train" not in tags:  # TensorBoard reads the logs in the background
            tags = json.loads(urllib.request.urlopen(url + "data/plugin/scalars/tags", timeout=30).read())
            time.sleep(0.5)
        assert "epoch_loss" in tags[f"{name}/train"]
        scalars = json.loads(urllib.request.urlopen(
            f"{url}data/plugin/scalars/scalars?run={name}/train&tag=epoch_loss", timeout=30).read())
        history = json.loads((run / "history.json").read_text())
        np.testing.assert_allclose([value for _, _, value in scalars], history["loss"], rtol=1e-5)
        histograms = json.loads(urllib.request.urlopen(url + "data/plugin/histograms/tags", timeout=30).read())
        assert any("embedding" in tag for tag in histograms[f"{name}/train"])
        projected = json.loads(urllib.request.urlopen(url + "data/plugin/projector/runs", timeout=30).read())
        assert projected == [f"{name}/train"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "TensorBoard stopped" in err


def test_tensorboard_refuses_a_run_without_logs(run_cli, workdir):
    run = workdir / "runs" / "x" / "1"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"status": "completed"}')
    result = run_cli("tensorboard", str(run))
    assert result.exit_code == 2 and "no TensorBoard logs" in result.stderr


def test_tensorboard_refuses_logs_that_lead_out_of_the_run(run_cli, workdir):
    run = workdir / "runs" / "x" / "1"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"status": "completed"}')
    (run / "logs").symlink_to("/", target_is_directory=True)
    result = run_cli("tensorboard", str(run))
    assert result.exit_code == 2 and "leads out of the run directory" in result.stderr


@pytest.mark.training
def test_a_run_with_a_custom_callback_resumes_without_force(run_cli, workdir, monkeypatch):
    from test_resume import interrupt_at_epoch_end

    write(workdir / "cb.py", CALLBACK_FILE)
    spec = write(workdir / "cb.yaml", with_callbacks(
        f"  - Custom: {{path: cb.py:EpochFiles, args: {{folder: {workdir}}}}}\n").replace("epochs: 3", "epochs: 4"))
    interrupt_at_epoch_end(monkeypatch, 2)
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    monkeypatch.undo()
    resumed = run_cli("resume", str(run), "--json")
    assert resumed.exit_code == 0, resumed.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and not info["resumes"][0]["forced"]
    assert "path: callbacks/1-cb.py:EpochFiles" in (run / "spec.yaml").read_text()

    # a hand-edited spec.yaml whose callback code lies outside the run: never run by resume
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    spec_text = (run / "spec.yaml").read_text()
    (run / "spec.yaml").write_text(spec_text.replace("path: callbacks/1-cb.py", f"path: {workdir}/cb.py"))
    refused = run_cli("resume", str(run))
    assert refused.exit_code == 2 and "outside the run directory" in refused.stderr


@pytest.mark.training
def test_problems_found_only_with_the_model_come_before_any_run(run_cli, workdir):
    spec = write(workdir / "cb.yaml", with_callbacks("  - ActivationLogger: {layers: [dense_x]}\n"))
    result = run_cli("train", str(spec))
    assert result.exit_code == 2 and "ActivationLogger.layers: no layer dense_x" in result.stderr
    assert not (workdir / "runs").exists()


def test_two_runs_in_folders_of_the_same_name_are_both_served(workdir):
    from dlcli.tensorboard_server import link_logs

    for parent in ("a", "b"):
        run = workdir / parent / "0000"
        (run / "logs" / "train").mkdir(parents=True)
        (run / "run.json").write_text('{"status": "completed", "experiment": "tiny"}')
    (workdir / "farm").mkdir()
    assert link_logs([str(workdir / "a" / "0000"), str(workdir / "b" / "0000")], workdir / "farm") == 2
    assert sorted(p.name for p in (workdir / "farm" / "tiny").iterdir()) == ["0000", "0000-2"]
