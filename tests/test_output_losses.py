"""Each output's TRAINING loss in a run's history is a mean over samples (issue 14).

Keras 3.15 averages a multi-output model's per-output losses per batch: a partial last batch
counts as much as a whole one, so the stored `digit_loss` and `parity_loss` did not add up to the
total `loss`. These runs barely move their weights (SGD, learning rate 1e-12), so an epoch's
training loss is also the fixed model's loss over the training samples, recomputed in one batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write

HEADS = """
description: the digit and its parity, two heads with loss weights, no regularisers
data:
  name: digits
  train_samples: 300  # the split's 240: 7 whole batches of 32 and one of 16
  test_samples: 50
  heads:
    digit: classes
    parity: {even: [0, 2, 4, 6, 8], odd: [1, 3, 5, 7, 9]}
model:
  type: graph
  inputs: {image: {shape: [8, 8, 1]}}
  nodes:
    - {name: flat, layer: Flatten, inputs: [image]}
    - {name: hidden, layer: Dense, args: {units: 16, activation: relu}, inputs: [flat]}
    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [hidden]}
    - {name: parity, layer: Dense, args: {units: 2, activation: softmax}, inputs: [hidden]}
  outputs:
    digit: {loss_weight: 1.0}
    parity: {loss: categorical_crossentropy, loss_weight: 0.5}
compile: {optimizer: {name: sgd, learning_rate: 1.0e-12}, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 32, validation: {kind: split, fraction: 0.2}}
"""

# (fit overrides, the history file the stored model was trained for, which training rows it saw)
VARIANTS = {
    "fit": ({}, "history.json", "split"),
    # the retrained model sees all 300 samples in batches of 64: 4 whole batches and one of 44
    "retrain": ({"retrain": {"epochs": 2, "batch_size": 64}}, "retrain_history.json", "all"),
    # a step budget that crosses passes: 10 steps of a pass of 8 (its last one partial)
    "steps": ({"steps_per_epoch": 10}, "history.json", None),
    # 3 folds of 100: each fold trains on 200 samples, 6 whole batches and one of 8
    "kfold": ({"validation": {"kind": "kfold", "k": 3}}, "folds/fold-3/history.json", None),
}


@pytest.mark.training
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_output_losses_are_means_over_samples(run_cli, workdir, variant):
    import yaml

    from dlcli import datasets
    from dlcli.models.saving import load_model
    from dlcli.spec.loading import load_spec
    from dlcli.training.data import validation_split

    overrides, history_name, rows = VARIANTS[variant]
    document = yaml.safe_load(HEADS)
    document["fit"].update(overrides)
    spec_path = write(workdir / "heads.yaml", yaml.safe_dump(document))
    result = run_cli("train", str(spec_path), "--json")
    assert result.exit_code == 0, result.stderr
    metrics, run = json.loads(result.stdout)["metrics"], Path(json.loads(result.stdout)["run_dir"])
    history = json.loads((run / history_name).read_text())
    assert len(history["loss"]) == 2
    if variant != "retrain":  # the final_* figures are the fit's (the k-fold mean's) last epoch
        final = json.loads((run / "history.json").read_text())
        assert metrics["final_loss"] == pytest.approx(metrics["final_digit_loss"] + 0.5 * metrics["final_parity_loss"],
                                                      abs=1e-6)
        assert metrics["final_digit_loss"] == final["digit_loss"][-1]
    for total, digit, parity in zip(history["loss"], history["digit_loss"], history["parity_loss"]):
        assert total == pytest.approx(digit + 0.5 * parity, abs=1e-6)
    csv_header = (run / history_name.replace(".json", ".csv")).read_text().splitlines()[0].split(",")
    assert not [name for name in csv_header if name not in history and name != "epoch"]  # no helper column
    if rows is None:
        return
    spec, _ = load_spec(str(spec_path))
    bundle = datasets.load(spec.data)
    seen = validation_split(bundle, spec.fit.validation)[0] if rows == "split" else bundle.train
    model = load_model(run / "model.keras", compile=True)  # reloads as it was compiled, nothing added
    whole = model.evaluate(seen.x, seen.y, batch_size=len(seen), verbose=0, return_dict=True)
    assert sorted(whole) == sorted(key for key in history if not key.startswith("val_") and key != "epoch")
    for name in ("loss", "digit_loss", "parity_loss"):
        assert history[name][-1] == pytest.approx(float(whole[name]), abs=1e-5), name


@pytest.mark.training
def test_a_resumed_run_keeps_its_output_losses_per_sample(run_cli, workdir, monkeypatch):
    """Cut after epoch 1 of 3 (the model saved mid-fit must reload and evaluate), then resumed:
    the history is the uninterrupted one, every epoch's output losses adding up to its `loss`."""
    from test_resume import interrupt_at_epoch_end

    spec = write(workdir / "heads.yaml", HEADS.replace("epochs: 2", "epochs: 3").replace(
        "{name: sgd, learning_rate: 1.0e-12}", "adam") + "deterministic: true\n")
    straight = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    interrupt_at_epoch_end(monkeypatch, 1)
    result = run_cli("train", str(spec), "--json")
    monkeypatch.undo()
    assert result.exit_code == 130, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    assert run_cli("evaluate", str(run)).exit_code == 0
    resumed = run_cli("resume", str(run), "--json")
    assert resumed.exit_code == 0, resumed.stderr
    history = json.loads((run / "history.json").read_text())
    assert history == json.loads((straight / "history.json").read_text())
    assert len(history["loss"]) == 3
    for total, digit, parity in zip(history["loss"], history["digit_loss"], history["parity_loss"]):
        assert total == pytest.approx(digit + 0.5 * parity, abs=1e-6)
