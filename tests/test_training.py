"""Training through the real CLI on tiny synthetic data (imports TensorFlow; seconds each)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import TINY_SPEC, write

pytestmark = pytest.mark.training

CONTRACT = ["spec.yaml", "run.json", "history.csv", "history.json", "metrics.json", "model.keras",
            "checkpoints/best.keras"]


def test_train_writes_the_whole_run_directory(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)  # stdout is exactly one JSON object
    assert set(output) == {"run_dir", "status", "metrics", "check"}
    run = Path(output["run_dir"])
    assert run.parent == workdir / "runs" / "tiny"
    for name in CONTRACT:
        assert (run / name).is_file(), name
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["seed"] == 7
    assert {"dlcli", "keras", "tensorflow", "python"} <= set(info["versions"])
    assert info["device"] and info["duration_s"] > 0
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3] and len(history["val_loss"]) == 3
    assert (run / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["metrics"]["test_accuracy"] <= 1
    assert metrics["check"]["status"] == "passed" == output["check"]["status"]
    assert yaml.safe_load((run / "spec.yaml").read_text())["fit"]["epochs"] == 3

    evaluated = run_cli("evaluate", str(run), "--json")
    assert evaluated.exit_code == 0
    assert json.loads(evaluated.stdout)["metrics"]["test_accuracy"] == pytest.approx(
        output["metrics"]["test_accuracy"], abs=1e-6)
    plotted = run_cli("plot", str(run))
    assert plotted.exit_code == 0 and (run / "plots" / "loss.png").is_file()


def test_same_seed_same_history(run_cli, tiny_spec):
    histories = []
    for _ in range(2):
        out = json.loads(run_cli("train", str(tiny_spec), "--json", "--epochs", "2").stdout)
        histories.append(json.loads((Path(out["run_dir"]) / "history.json").read_text()))
    assert histories[0] == histories[1]
    other = json.loads(run_cli("train", str(tiny_spec), "--json", "--epochs", "2", "--seed", "8").stdout)
    assert json.loads((Path(other["run_dir"]) / "history.json").read_text()) != histories[0]


def test_check_gate_exit_4(run_cli, workdir):
    missed = write(workdir / "missed.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 1").replace("value: 0.0", "value: 2.0"))
    result = run_cli("train", str(missed), "--check")
    assert result.exit_code == 4
    assert "reference (tests): differs" in result.stdout and "worse than the source" in result.stdout


def test_overrides_make_the_verdict_not_comparable(run_cli, workdir):
    missed = write(workdir / "missed.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 1").replace("value: 0.0", "value: 2.0"))
    result = run_cli("train", str(missed), "--check", "--epochs", "2", "--seed", "3", "--json")
    assert result.exit_code == 0, result.stderr  # not comparable is no failure of the gate
    check = json.loads(result.stdout)["check"]
    assert check["status"] == "not comparable"
    assert "fit.epochs=2" in check["reason"] and "seed" not in check["reason"]  # another seed keeps the recipe
    assert check["checks"][0]["status"] == "differs"  # the numbers are still there, for information
    run = json.loads(result.stdout)["run_dir"]
    assert run_cli("check", run).exit_code == 0
    assert "not comparable" in run_cli("check", run).stdout
    assert "not comparable" in run_cli("compare", run).stdout


def test_spec_errors_found_at_build_leave_no_run_directory(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--set", "model.layers.0={Dropout: {rate: 2}}")
    assert result.exit_code == 2  # a value only Keras itself refuses, when the layer is built
    assert "model.layers[0].Dropout" in result.stderr and "rate" in result.stderr
    line = next(i for i, text in enumerate(tiny_spec.read_text().splitlines(), 1) if "Dense: {units: 8" in text)
    assert result.stderr.startswith(f"error: {tiny_spec}:{line}: model.layers[0].Dropout:")
    result = run_cli("train", str(tiny_spec), "--set", "model.input_shape=[5]")
    assert result.exit_code == 2 and "gives (6,)" in result.stderr
    assert not (workdir / "runs").exists()


def test_non_empty_run_dir_is_refused(run_cli, tiny_spec, workdir):
    write(workdir / "taken" / "file.txt", "x")
    result = run_cli("train", str(tiny_spec), "--run-dir", str(workdir / "taken"))
    assert result.exit_code == 2 and "not empty" in result.stderr
    result = run_cli("train", str(tiny_spec), "--run-dir", str(workdir / "mine"), "--epochs", "1")
    assert result.exit_code == 0 and (workdir / "mine" / "model.keras").is_file()


def test_failed_run_records_the_error(run_cli, tiny_spec, workdir):
    # A softmax of 4 against one-hot labels of 3 classes fails inside fit, after the run exists.
    result = run_cli("train", str(tiny_spec), "--set", "model.layers[1].Dense.units=4")
    assert result.exit_code == 1
    assert "run failed" in result.stderr and "Traceback" not in result.stderr
    run = next((workdir / "runs" / "tiny").iterdir())
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["error"]


def test_diverging_run_fails_with_its_history_and_one_json_object(run_cli, tiny_spec, workdir):
    result = run_cli("train", str(tiny_spec), "--json", "--set", "compile.optimizer.learning_rate=1e30",
                     "--set", "callbacks=[TerminateOnNaN]")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["status"] == "failed" and "diverged" in output["error"]
    assert "lower compile.optimizer.learning_rate" in result.stderr and "Traceback" not in result.stderr
    run = Path(output["run_dir"])
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert json.loads((run / "history.json").read_text())["epoch"] == [1]  # TerminateOnNaN stopped it
    assert not (run / "model.keras").exists()


def test_every_callback_writes_where_the_contract_says(run_cli, tiny_spec, workdir):
    callbacks = ("[{ReduceLROnPlateau: {monitor: val_loss, factor: 0.5, patience: 0, min_delta: 10}}, "
                 "{TensorBoard: {}}, {CSVLogger: {separator: ';'}}, TerminateOnNaN, "
                 "{ModelCheckpoint: {monitor: val_loss}}, "
                 "{EarlyStopping: {monitor: val_loss, patience: 2, min_delta: 10}}]")
    result = run_cli("train", str(tiny_spec), "--json", "--epochs", "6", "--set", f"callbacks={callbacks}")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3]  # never an improvement of 10: stopped after patience 2
    assert history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])  # halved after epoch 2
    assert (run / "history.csv").read_text().splitlines()[0].startswith("epoch;")
    assert list((run / "logs").rglob("events.out.tfevents.*"))
    assert (run / "checkpoints" / "best.keras").is_file()


def test_tensorboard_without_its_package_is_refused_before_the_run(run_cli, tiny_spec, workdir, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "tensorboard" else real_find_spec(name, *args))
    result = run_cli("train", str(tiny_spec), "--set", "callbacks=[{TensorBoard: {}}]")
    assert result.exit_code == 2 and "pip install tensorboard" in result.stderr
    assert not (workdir / "runs").exists()


def test_evaluate_changes_nothing_in_the_run(run_cli, tiny_spec):
    run = Path(json.loads(run_cli("train", str(tiny_spec), "--json", "--epochs", "1").stdout)["run_dir"])
    before = {path: path.stat().st_mtime_ns for path in run.rglob("*")}
    assert run_cli("evaluate", str(run)).exit_code == 0
    assert {path: path.stat().st_mtime_ns for path in run.rglob("*")} == before


def test_kfold_with_retrain(run_cli, workdir):
    spec = write(workdir / "kfold.yaml", """
        description: k-fold regression
        data: {name: synthetic, task: regression, num_samples: 80, num_test: 20, shape: [4]}
        model:
          type: sequential
          layers: [{Dense: {units: 8, activation: relu}}, {Dense: {units: 1}}]
        compile: {optimizer: rmsprop, loss: mse, metrics: [mae]}
        fit:
          epochs: 3
          batch_size: 8
          validation: {kind: kfold, k: 4}
          retrain: {epochs: best, monitor: val_mae}
        """)
    out = json.loads(run_cli("train", str(spec), "--json").stdout)
    run = Path(out["run_dir"])
    metrics = out["metrics"]
    folds = [metrics[f"fold_{i}_val_mae"] for i in range(1, 5)]
    assert metrics["val_mae"] == pytest.approx(sum(folds) / 4)
    assert 1 <= metrics["retrain_epochs"] <= 3 and "test_mae" in metrics
    mean = json.loads((run / "history.json").read_text())
    fold_histories = [json.loads((run / "folds" / f"fold-{i}" / "history.json").read_text()) for i in range(1, 5)]
    assert mean["val_mae"][0] == pytest.approx(sum(h["val_mae"][0] for h in fold_histories) / 4)
    assert (run / "model.keras").is_file() and (run / "retrain_history.json").is_file()


def test_holdout_takes_the_first_samples():
    import numpy as np

    from dlcli.datasets import DataBundle, Split
    from dlcli.spec import ValidationSpec
    from dlcli.training.data import validation_split

    bundle = DataBundle(Split(np.arange(10), np.arange(10)), None)
    train, validation = validation_split(bundle, ValidationSpec(kind="holdout", size=3))
    assert validation.x.tolist() == [0, 1, 2] and train.x.tolist() == list(range(3, 10))
    train, validation = validation_split(bundle, ValidationSpec(kind="split", fraction=0.2))
    assert validation.x.tolist() == [8, 9]


def test_vertical_line_detector_outputs_3(run_cli):
    out = json.loads(run_cli("train", "conv-vertical-line-detector", "--json").stdout)
    assert out["metrics"]["output"] == pytest.approx(3.0)
    assert out["metrics"]["params"] == 10 and out["check"]["status"] == "passed"


def test_step_budget_and_legacy_decay(run_cli, tiny_spec):
    out = json.loads(run_cli("train", str(tiny_spec), "--json", "--epochs", "2", "--set", "fit.steps_per_epoch=3",
                             "--set", "compile.optimizer={name: rmsprop, lr: 0.001, decay: 0.000001}").stdout)
    assert out["status"] == "completed" and out["metrics"]["epochs_completed"] == 2


def test_book_model_parameter_counts():
    """The summaries the sources print: 93,322 (MNIST convnet), 545,546 (LeNet-5 variant), 1,250,858 (CIFAR)."""
    from dlcli.datasets import DataBundle, Split
    from dlcli.models import build_model
    from dlcli.spec import load_spec
    import numpy as np

    for name, shape, count, overrides in (
            ("mnist-convnet", (28, 28, 1), 93322, []), ("lenet5-mnist", (28, 28, 1), 545546, []),
            ("cifar10-convnet-augmented", (32, 32, 3), 1250858, []),
            ("mnist-tf-layers-cnn", (28, 28, 1), 3274634, []),
            ("cats-dogs-scratch", (150, 150, 3), 3453121, []),  # 5.5's summary
            ("cats-dogs-augment", (150, 150, 3), 3453121, []),
            # 5.20's summary, with VGG16's weights left random (no download in tests)
            ("vgg16-features-augment", (150, 150, 3), 16812353, ["model.layers.5.Pretrained.weights=null"])):
        spec, _ = load_spec(name, overrides)
        bundle = DataBundle(Split(np.zeros((1, *shape), "float32"), None), None)
        model = build_model(spec, bundle)
        assert model.count_params() == count, name
    assert len(model.trainable_weights) == 4  # 5.20: 'conv_base.trainable = False' leaves the two Dense layers


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_closes_the_run(workdir, signum):
    spec = write(workdir / "slow.yaml", TINY_SPEC.replace("epochs: 3", "epochs: 500").replace(
        "num_samples: 96", "num_samples: 4000").replace("batch_size: 16", "batch_size: 8"))
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(spec)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    history = None
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until at least one epoch is written
        found = list((workdir / "runs").glob("slow/*/history.json"))
        if found:
            history = found[0]
            break
        time.sleep(0.2)
    assert history is not None, process.communicate()[1]
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    run = history.parent
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and info["signal"] == signal.Signals(signum).name
    assert json.loads((run / "history.json").read_text())["epoch"]
    assert (run / "checkpoints" / "best.keras").is_file()
    assert "Traceback" not in err
