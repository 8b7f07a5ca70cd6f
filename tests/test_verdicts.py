"""Honest verdicts and figures (issue 14): a run is judged by the recipe it really followed, a
number off the source says which way and by how much, and every stored loss is a mean over samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import write

from dlcli.recipe_source import recipe_record
from dlcli.reference import comparable, describe, verdict
from dlcli.runs import Run, recipe_changes
from dlcli.spec import Reference

SMALL = """
description: a named experiment of the tests
seed: 7
data: {name: synthetic, num_samples: 64, num_test: 16, shape: [4], num_classes: 2}
model:
  type: sequential
  layers: [{Dense: {units: 2, activation: softmax}}]
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 16, validation: {kind: split, fraction: 0.25}}
reference:
  source: tests
  metric: test_accuracy
  value: 2.0
  direction: at_least
"""


@pytest.fixture
def named(workdir) -> Path:
    """experiments/small.yaml in the working folder: a named experiment, as `dlcli train small` finds it."""
    return write(workdir / "experiments" / "small.yaml", SMALL)


def record_for(name_or_path: str, overrides=()) -> dict:
    from dlcli.spec.loading import load_spec

    spec, path = load_spec(name_or_path, list(overrides))
    return recipe_record(spec, path)


# --------------------------------------------------------------------------- 1. the recipe a run followed


def _copy(workdir, text: str, folder: str = "elsewhere", name: str = "mine.yaml") -> str:
    return str(write(workdir / folder / name, text))


def _run_copy(workdir, text: str, recorded_source: str | None = None) -> str:
    """A run's spec.yaml (with its run.json) holding `text`."""
    folder = workdir / "runs" / "small" / "20260101-000000"
    write(folder / "spec.yaml", text)
    (folder / "run.json").write_text(json.dumps({"status": "completed", "recipe_source": recorded_source}))
    return str(folder / "spec.yaml")


RECIPES = [
    # (how the spec arrives, --set overrides, expected recipe_changes)
    ("by name", [], []),
    ("by name", ["fit.epochs=3"], ["fit.epochs=3 (source: 2)"]),
    ("by name", ["seed=3", "deterministic=true", "description=again", "compile.jit_compile=auto"], []),
    ("by name", ["data.num_samples=32"], ["data.num_samples=32 (source: 64)"]),
    ("a copy, same recipe", [], []),
    ("a copy with other epochs", [], ["fit.epochs=3 (source: 2)"]),
    ("a copy with other epochs", ["fit.epochs=2"], []),
    ("a run's spec.yaml trained with --set fit.epochs=3", [], ["fit.epochs=3 (source: 2)"]),
    ("the file itself", ["fit.epochs=5"], ["fit.epochs=5 (source: 2)"]),
]


@pytest.mark.parametrize("arrival, overrides, expected", RECIPES)
def test_the_recipe_is_compared_with_the_named_experiment_whatever_the_path(workdir, named, arrival, overrides,
                                                                            expected):
    from dlcli.spec.loading import dump_spec, load_spec

    target = {
        "by name": lambda: "small",
        "the file itself": lambda: str(named),
        "a copy, same recipe": lambda: _copy(workdir, SMALL),
        "a copy with other epochs": lambda: _copy(workdir, SMALL.replace("epochs: 2", "epochs: 3")),
        "a run's spec.yaml trained with --set fit.epochs=3":
            lambda: _run_copy(workdir, dump_spec(load_spec("small", ["fit.epochs=3"])[0])),
    }[arrival]()
    record = record_for(target, overrides)
    assert record["recipe_changes"] == expected
    assert record["recipe_source"] == str(named.resolve())


def test_a_spec_of_its_own_is_its_own_recipe(workdir, named):
    own = SMALL.replace("source: tests", "source: my notes")  # a reference no named experiment carries
    path = _copy(workdir, own)
    record = record_for(path)
    assert record["recipe_source"] == str(Path(path).resolve()) and record["recipe_changes"] == []
    assert "no named experiment carries this reference" in record["recipe_note"]  # the verdict says so
    assert record_for(path, ["fit.epochs=1"])["recipe_changes"] == ["fit.epochs=1 (source: 2)"]
    judged = comparable({"status": "passed", "checks": []}, record)
    assert judged["status"] == "passed" and any("mine.yaml's own" in line for line in describe(judged))


def test_a_runs_copy_of_unknown_source_claims_no_reproduction(workdir, named):
    from dlcli.spec.loading import dump_spec, load_spec

    gone = write(workdir / "gone.yaml", SMALL.replace("source: tests", "source: my notes"))
    copy = _run_copy(workdir, dump_spec(load_spec(str(gone), ["fit.epochs=1"])[0]))
    record = record_for(copy)  # no named experiment, and its run recorded no source
    assert record["recipe_source"] is None and "source is unknown" in record["recipe_changes"][0]
    assert comparable({"status": "passed", "checks": []}, record)["status"] == "not comparable"
    copy = _run_copy(workdir, dump_spec(load_spec(str(gone), ["fit.epochs=1"])[0]), str(gone))
    assert record_for(copy)["recipe_changes"] == ["fit.epochs=1 (source: 2)"]  # its run's source, still there


def test_a_copied_custom_callback_is_the_same_recipe(workdir):
    code = "import keras\nclass Note(keras.callbacks.Callback):\n    pass\n"
    write(workdir / "experiments" / "note.py", code)
    write(workdir / "experiments" / "noted.yaml", SMALL + "callbacks:\n  - Custom: {path: note.py:Note}\n")
    write(workdir / "run" / "callbacks" / "0-note.py", code)
    copy = write(workdir / "run" / "spec.yaml",
                 "name: noted\n" + SMALL + "callbacks:\n  - Custom: {path: callbacks/0-note.py:Note}\n")
    assert record_for(str(copy))["recipe_changes"] == []
    (workdir / "run" / "callbacks" / "0-note.py").write_text(code + "# changed\n")
    assert len(record_for(str(copy))["recipe_changes"]) == 1


def test_readers_use_the_record_and_older_runs_their_overrides(workdir):
    recorded = {"overrides": [], "recipe_changes": ["fit.epochs=3 (source: 20)"]}
    assert recipe_changes(recorded) == ["fit.epochs=3 (source: 20)"]
    assert recipe_changes({"overrides": ["fit.epochs=3", "seed=1"]}) == ["fit.epochs=3"]  # an older dlcli's run
    assert recipe_changes({"overrides": ["fit.epochs=3"], "recipe_changes": []}) == []  # the record wins
    resumed = {"recipe_changes": [], "resumes": [{"recipe_changes": ["fit.epochs=4 (was 2)"]}]}
    assert recipe_changes(resumed) == ["resumed with fit.epochs=4 (was 2)"]


def hand_made_run(workdir, experiment: str, stamp: str, info: dict, files: dict | None = None) -> Run:
    """A finished run directory written by hand: run.json, then other files (name: text or JSON data)."""
    folder = workdir / "runs" / experiment / stamp
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "completed", "experiment": experiment, **info}))
    for name, content in (files or {}).items():
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return Run.open(folder)


def test_a_baseline_follows_its_recipe_by_the_record(workdir):
    honest = hand_made_run(workdir, "base", "20260101-000000", {"overrides": [], "recipe_changes": []})
    hand_made_run(workdir, "base", "20260101-000001",  # re-run from a spec file: no overrides typed
                  {"overrides": [], "recipe_changes": ["fit.epochs=1 (source: 20)"]})
    assert Run.latest_completed("base", follows_recipe=True).path == honest.path


@pytest.mark.training
def test_a_run_retrained_from_its_own_spec_yaml_is_not_the_books(run_cli, workdir, named):
    quick = json.loads(run_cli("train", "small", "--set", "fit.epochs=1", "--json").stdout)
    spec_copy = Path(quick["run_dir"]) / "spec.yaml"
    result = run_cli("train", str(spec_copy), "--check", "--json")
    assert result.exit_code == 0, result.stderr  # not comparable: no failure of the gate, and no pass
    output = json.loads(result.stdout)
    info = json.loads((Path(output["run_dir"]) / "run.json").read_text())
    assert info["overrides"] == [] and info["recipe_changes"] == ["fit.epochs=1 (source: 2)"]
    assert info["recipe_source"] == str(named.resolve())
    assert output["check"]["status"] == "not comparable" and "fit.epochs=1 (source: 2)" in output["check"]["reason"]
    checked = run_cli("check", output["run_dir"], "--json")
    assert json.loads(checked.stdout)["check"]["status"] == "not comparable"
    assert Run.latest_completed("small", follows_recipe=True) is None  # neither run is a baseline


# --------------------------------------------------------------------------- 2. which way a number differs


VALUES = [
    # (reference, actual, status, direction, margin)
    ({"metric": "val_mae", "value": 2.99, "tolerance": 0.4}, 2.47, "differs", "better", 0.52),
    ({"metric": "val_mae", "value": 2.99, "tolerance": 0.4}, 3.50, "differs", "worse", 0.51),
    ({"metric": "val_mae", "value": 2.99, "tolerance": 0.4}, 3.20, "passed", None, None),
    ({"metric": "val_mae", "value": 2.99, "tolerance": 0.4, "better": "lower", "better_counts": True},
     2.47, "passed", "better", 0.52),
    ({"metric": "val_mae", "value": 2.99, "tolerance": 0.4, "better": "lower", "better_counts": True},
     3.50, "differs", "worse", 0.51),
    ({"metric": "test_accuracy", "value": 0.97, "tolerance": 0.02, "direction": "at_least"}, 0.90, "differs", "worse",
     0.07),
    ({"metric": "test_accuracy", "value": 0.90, "tolerance": 0.01}, 0.95, "differs", "better", 0.05),
    ({"metric": "best_val_loss_degc", "value": 2.35, "tolerance": 0.1, "direction": "at_most"}, 2.6, "differs",
     "worse", 0.25),
    ({"metric": "params", "value": 3466}, 3470, "differs", "higher", 4),  # a count: neither way is better
    ({"metric": "score", "value": 1.0, "tolerance": 0.1, "better": "higher"}, 1.5, "differs", "better", 0.5),
    ({"metric": "test_accuracy", "value": 0.9}, None, "unverifiable", None, None),
    ({"metric": "test_accuracy", "value": 0.9}, float("nan"), "unverifiable", None, None),
]


@pytest.mark.parametrize("reference, actual, status, direction, margin", VALUES)
def test_a_number_off_the_source_says_which_way_and_by_how_much(reference, actual, status, direction, margin):
    judged = verdict(Reference(source="book", **reference), {reference["metric"]: actual}, {}, None)
    check = judged["checks"][0]
    assert judged["status"] == check["status"] == status
    assert check.get("direction") == direction
    assert check.get("margin") == (pytest.approx(margin) if margin is not None else None)
    assert {"what", "metric", "expected", "reported", "actual", "status"} <= set(check)  # the keys readers had
    if direction:
        assert f"{direction} than the source" in describe(judged)[0]


CLAIMS = [
    # (claim, curve, status, direction, margin)
    ({"metric": "val_loss", "statistic": "min", "relation": "greater", "value": 0.40}, [0.5, 0.37], "failed",
     "better", 0.03),  # "the validation MAE stays above 0.40": the run did better than the claim
    ({"metric": "val_loss", "statistic": "min", "relation": "between", "value": [0.25, 0.30]}, [0.4, 0.22], "failed",
     "better", 0.03),
    ({"metric": "val_loss", "statistic": "min", "relation": "between", "value": [0.25, 0.30]}, [0.4, 0.33], "failed",
     "worse", 0.03),
    ({"metric": "val_loss", "statistic": "min", "relation": "between", "value": [0.25, 0.30], "better": "lower",
      "better_counts": True}, [0.4, 0.22], "passed", "better", 0.03),
    ({"metric": "val_acc", "statistic": "final", "relation": "greater", "value": 0.7}, [0.6, 0.65], "failed",
     "worse", 0.05),
    ({"metric": "val_loss", "statistic": "argmin", "relation": "between", "value": [1, 2]}, [4, 3, 2, 1], "failed",
     "higher", 2),  # an epoch: later is not worse, only later
    ({"metric": "val_loss", "statistic": "min", "relation": "less", "than": "base"}, [0.4, 0.31], "failed", "worse",
     0.02),
    ({"metric": "val_loss", "statistic": "min", "relation": "between", "value": [0.25, 0.30]}, [0.4, 0.27], "passed",
     None, None),
]


@pytest.mark.parametrize("claim, curve, status, direction, margin", CLAIMS)
def test_a_claim_that_does_not_hold_says_which_way(claim, curve, status, direction, margin):
    reference = Reference(source="book", claims=[{"text": "what the book says", **claim}])
    history = {"epoch": list(range(1, len(curve) + 1)), claim["metric"]: curve}
    baseline = ("runs/base/x", {"epoch": [1, 2], "val_loss": [0.5, 0.29]}, {})
    check = verdict(reference, {}, history, lambda name: baseline)["checks"][0]
    assert (check["status"], check.get("direction")) == (status, direction)
    assert check.get("margin") == (pytest.approx(margin) if margin is not None else None)


DAMAGED = [
    # (metrics, history, baseline metrics): numbers a damaged or diverged run may hold; the rest passes
    ({"val_mae": "2.8"}, {"val_loss": [0.2]}, {"val_mae": 0.29}),
    ({"val_mae": True}, {"val_loss": [0.2]}, {"val_mae": 0.29}),
    ({"val_mae": 2.8}, {"val_loss": [float("nan")]}, {"val_mae": 0.29}),
    ({"val_mae": 2.8}, {"val_loss": [None, float("inf")]}, {"val_mae": 0.29}),
    ({"val_mae": 2.8}, {"val_loss": [0.2]}, {"val_mae": "0.29"}),
    ({"val_mae": 2.8}, {"val_loss": [0.2]}, {"val_mae": None}),
]


@pytest.mark.parametrize("metrics, history, baseline", DAMAGED)
def test_numbers_that_are_not_numbers_are_unverifiable(metrics, history, baseline):
    claim = {"text": "beats the baseline", "metric": "val_loss", "statistic": "min", "relation": "less",
             "than": "base", "than_metric": "val_mae"}
    reference = Reference(source="b", metric="val_mae", value=2.99, tolerance=0.4, claims=[claim])
    judged = verdict(reference, metrics, {"epoch": [1], **history}, lambda name: ("runs/base/x", {}, baseline))
    assert judged["status"] == "unverifiable"
    assert all(check["status"] in ("passed", "unverifiable") for check in judged["checks"])
    assert all(check.get("reason") for check in judged["checks"] if check["status"] == "unverifiable")


def test_the_verdict_is_the_worst_of_its_checks():
    claim = {"text": "t", "metric": "val_loss", "statistic": "final", "relation": "less", "value": 1.0}
    reference = Reference(source="b", metric="val_mae", value=2.99, tolerance=0.4, claims=[claim])
    assert verdict(reference, {"val_mae": 2.0}, {"val_loss": [0.5]}, None)["status"] == "differs"
    assert verdict(reference, {"val_mae": 2.0}, {"val_loss": [1.5]}, None)["status"] == "failed"
    assert verdict(reference, {"val_mae": 2.0}, {}, None)["status"] == "differs"


def test_check_says_better_and_exits_4(run_cli, workdir):
    spec = SMALL.replace("metric: test_accuracy\n  value: 2.0\n  direction: at_least",
                         "metric: val_mae\n  value: 2.99\n  tolerance: 0.4")
    run = hand_made_run(workdir, "boston-kfold", "20260101-000000", {"recipe_changes": []}, {
        "history.json": {"epoch": [1], "val_mae": [2.47]}, "spec.yaml": spec,
        "metrics.json": {"metrics": {"val_mae": 2.47}, "check": {"status": "none"}}})
    result = run_cli("check", str(run.path))
    assert result.exit_code == 4 and "differs" in result.stdout
    assert "better than the source (2.99) by 0.52" in result.stdout
    stored = json.loads(run.file("metrics.json").read_text())["check"]["checks"][0]
    assert stored["direction"] == "better" and stored["margin"] == pytest.approx(0.52)


def test_better_counts_needs_to_know_which_way_is_better(run_cli, workdir):
    spec = write(workdir / "counts.yaml", SMALL.replace("direction: at_least", "better_counts: true"))
    result = run_cli("validate", str(spec))
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "better" in line]
    assert result.exit_code == 2 and len(lines) == 1 and "counts.yaml" in lines[0] and "`better:" in lines[0]
    assert "Traceback" not in result.stderr


def test_every_named_experiment_keeps_its_meaning():
    """Trained by its name, each experiment follows its own recipe; no reference says `better_counts`
    (beating the book is reported, not passed)."""
    from dlcli.catalog import PACKAGE_EXPERIMENTS
    from dlcli.spec.loading import load_spec

    for path in sorted(PACKAGE_EXPERIMENTS.glob("*.yaml")):
        record = recipe_record(load_spec(path.stem)[0], path)
        assert record == {"recipe_source": str(path.resolve()), "recipe_changes": []}, path.name
        reference = (yaml.safe_load(path.read_text()) or {}).get("reference") or {}
        assert not reference.get("better_counts"), path.name
        assert not any(extra.get("better_counts") for extra in reference.get("also") or []), path.name


# --------------------------------------------------------------------------- 3. per-output losses per sample


HEADS = """
description: the digit and its parity, two heads with loss weights
data:
  name: digits
  train_samples: 300
  test_samples: 100  # 3 whole batches of 32 and one of 4
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
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 32, validation: {kind: split, fraction: 0.2}}
"""


@pytest.mark.training
def test_output_losses_are_means_over_samples_and_add_up(run_cli, workdir):
    from dlcli import datasets
    from dlcli.models.saving import load_model
    from dlcli.spec.loading import load_spec
    from dlcli.training.data import validation_split

    result = run_cli("train", str(write(workdir / "heads.yaml", HEADS)), "--json")
    assert result.exit_code == 0, result.stderr
    metrics, run = json.loads(result.stdout)["metrics"], Path(json.loads(result.stdout)["run_dir"])
    assert metrics["test_loss"] == pytest.approx(metrics["test_digit_loss"] + 0.5 * metrics["test_parity_loss"],
                                                 abs=1e-5)
    spec, _ = load_spec(str(workdir / "heads.yaml"))
    bundle = datasets.load(spec.data)
    model = load_model(run / "model.keras", compile=True)
    whole = model.evaluate(bundle.test.x, bundle.test.y, batch_size=len(bundle.test), verbose=0, return_dict=True)
    for name in ("loss", "digit_loss", "parity_loss", "digit_accuracy"):
        assert metrics[f"test_{name}"] == pytest.approx(float(whole[name]), abs=1e-5), name
    # the last epoch's validation losses (60 samples: a batch of 32, one of 28) add up too
    history = json.loads((run / "history.json").read_text())
    total, digit, parity = (history[key][-1] for key in ("val_loss", "val_digit_loss", "val_parity_loss"))
    assert total == pytest.approx(digit + 0.5 * parity, abs=1e-5)
    _, validation = validation_split(bundle, spec.fit.validation)
    whole = model.evaluate(validation.x, validation.y, batch_size=len(validation), verbose=0, return_dict=True)
    assert digit == pytest.approx(float(whole["digit_loss"]), abs=1e-5)


@pytest.mark.training
@pytest.mark.parametrize("as_stream", [False, True], ids=["arrays", "stream"])
@pytest.mark.parametrize("count", [33, 32, 7])  # a partial last batch, whole batches only, one batch
def test_evaluate_split_gives_each_output_loss_per_sample(as_stream, count):
    import numpy as np

    from dlcli.datasets.base import Split, array_stream
    from dlcli.backend import import_keras
    from dlcli.training.data import evaluate_split

    keras = import_keras()
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    split = Split(rng.random((count, 5), dtype="float32"),
                  {"digit": rng.integers(0, 3, count), "parity": rng.integers(0, 2, count).astype("float32")})
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {"digit": keras.layers.Dense(3, activation="softmax", name="digit")(hidden),
                                 "parity": keras.layers.Dense(1, activation="sigmoid", name="parity")(hidden)})
    model.compile("adam", loss={"digit": "sparse_categorical_crossentropy", "parity": "binary_crossentropy"},
                  loss_weights={"digit": 1.0, "parity": 0.5}, metrics={"digit": ["accuracy"], "parity": ["auc"]})
    scores = evaluate_split(model, array_stream(split) if as_stream else split, 16, prefix="")
    whole = model.evaluate(split.x, split.y, batch_size=count, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(scores["digit_loss"] + 0.5 * scores["parity_loss"], abs=1e-5)
    for name in ("loss", "digit_loss", "parity_loss", "digit_accuracy", "parity_auc"):
        assert scores[name] == pytest.approx(float(whole[name]), abs=1e-5), name
