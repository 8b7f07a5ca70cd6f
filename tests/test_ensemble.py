"""`dlcli ensemble` (7.3.3): the averaging arithmetic on arrays, then tiny trained runs through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_SPEC, write
from dlcli.ensemble_arithmetic import fit_weights, given_weights, objective, score, weighted_average
from dlcli.ensembling import differences
from dlcli.errors import UsageError

# --------------------------------------------------------------------------- arithmetic (no TensorFlow)


def test_weighted_average_is_the_books_formula():
    a, b, c, d = (np.random.RandomState(i).random_sample((5, 3)) for i in range(4))
    assert np.allclose(weighted_average([a, b, c, d], [0.5, 0.25, 0.1, 0.15]), 0.5 * a + 0.25 * b + 0.1 * c + 0.15 * d)
    assert np.allclose(weighted_average([a, b, c, d], [0.25] * 4), 0.25 * (a + b + c + d))


def test_scores_for_one_hot_integer_binary_and_regression_targets():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.5, 0.4, 0.1]])
    labels = np.array([0, 2, 0, 1])
    one_hot = np.eye(3)[labels]
    assert score(probabilities, labels, "categorical") == score(probabilities, one_hot, "categorical") == 0.5
    expected = -np.mean(np.log([0.7, 0.6, 0.2, 0.4]))
    assert objective(probabilities, labels, "categorical") == pytest.approx(expected)
    assert objective(probabilities, one_hot, "categorical") == pytest.approx(expected)
    sigmoid = np.array([[0.9], [0.4], [0.6]])
    assert score(sigmoid, np.array([1, 0, 0]), "binary") == pytest.approx(2 / 3)
    assert objective(sigmoid, np.array([1.0, 0.0, 0.0]), "binary") == pytest.approx(
        -np.mean(np.log([0.9, 0.6, 0.4])))
    values = np.array([[1.0], [2.0]])
    assert score(values, np.array([1.5, 2.0]), "regression") == pytest.approx(0.25)
    assert objective(values, np.array([1.5, 2.0]), "regression") == pytest.approx(0.125)


def test_fitted_weights_are_shares_no_worse_than_any_member_or_the_mean():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 3, size=200)
    truth = np.eye(3)[labels]
    members = []
    for noise in (0.5, 1.0, 3.0):  # a good, a fair and a poor model
        logits = 2.0 * truth + noise * rng.normal(size=truth.shape)
        members.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
    weights = fit_weights(members, labels, "categorical")
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    fitted = objective(weighted_average(members, weights), labels, "categorical")
    assert fitted <= min(objective(m, labels, "categorical") for m in members)
    assert fitted <= objective(weighted_average(members, [1 / 3] * 3), labels, "categorical")
    assert weights[0] > weights[2]  # the better model weighs more


def test_given_weights_are_normalised_and_checked():
    weights, normalised = given_weights("2,1,1", 3)
    assert weights.tolist() == [0.5, 0.25, 0.25] and normalised
    assert given_weights("0.7, 0.3", 2)[1] is False
    assert given_weights("1e308,1e308", 2)[0].tolist() == [0.5, 0.5]  # no overflow to 0, 0
    assert given_weights("1e-320,3e-320", 2)[0].tolist() == pytest.approx([0.25, 0.75])
    for text, count, message in [("0.7,0.3,0.1", 2, "3 weights for 2 runs"), ("0.7,-0.3", 2, "non-negative"),
                                 ("0,0", 2, "not all 0"), ("a,b", 2, "not numbers"), ("nan,1", 2, "finite")]:
        with pytest.raises(UsageError, match=message):
            given_weights(text, count)


def test_differences_name_the_key_and_both_values():
    first = {"data": {"name": "synthetic", "num_samples": 96}, "class_names": None}
    other = {"data": {"name": "synthetic", "num_samples": 128}, "class_names": None}
    assert differences(first, other) == ["data.num_samples 128 vs 96"]
    assert differences(first, first) == []


def test_wrong_weight_count_exits_2_with_one_line(run_cli):
    result = run_cli("ensemble", "runs/a", "runs/b", "--weights", "0.5,0.3,0.2")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --weights 0.5,0.3,0.2: 3 weights for 2 runs; give one per run, in the order of the runs, "
        "or --weights auto"]


# --------------------------------------------------------------------------- trained runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Three tiny runs of TINY_SPEC (seeds 1, 2, 3) and one trained on more samples."""
    from dlcli import api

    root = tmp_path_factory.mktemp("ensemble")
    spec = write(root / "tiny.yaml", TINY_SPEC)
    trained = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (("DLCLI_DATA_DIR", "data"), ("DLCLI_RUNS_DIR", "runs"), ("DLCLI_CACHE_DIR", "cache")):
            patch.setenv(name, str(root / value))
        patch.setenv("DLCLI_OFFLINE", "1")
        for seed in (1, 2, 3):
            trained[f"s{seed}"] = Path(api.train(str(spec), seed=seed, run_dir=str(root / f"s{seed}"),
                                                 verbose=0)["run_dir"])
        trained["more"] = Path(api.train(str(spec), ["data.num_samples=128"], run_dir=str(root / "more"),
                                         verbose=0)["run_dir"])
    return trained


def _files(folder: Path) -> dict[str, float]:
    return {str(path): path.stat().st_mtime_ns for path in folder.rglob("*")}


def _predictions(run: Path):
    """A member's probabilities on the validation split (the last 25% of training) and the test split."""
    from dlcli import datasets
    from dlcli.models.saving import load_model
    from dlcli.runs import Run

    spec = Run.open(run).spec()
    bundle = datasets.load(spec.data)
    model = load_model(run / "model.keras")
    cut = int(len(bundle.train) * 0.75)
    x_val, y_val = bundle.train.x[cut:], bundle.train.y[cut:]
    return (model.predict(x_val, verbose=0), y_val), (model.predict(bundle.test.x, verbose=0), bundle.test.y)


@pytest.mark.training
def test_given_weights_match_numpy_on_each_members_predictions(run_cli, runs):
    before = _files(runs["s1"].parent)
    result = run_cli("ensemble", str(runs["s1"]), str(runs["s2"]), "--weights", "7,3", "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metric"] == "accuracy" and output["splits"] == {"validation": 24, "test": 32}
    (val_1, y_val), (test_1, y_test) = _predictions(runs["s1"])
    (val_2, _), (test_2, _) = _predictions(runs["s2"])

    def accuracy(probabilities, targets):
        return float(np.mean(probabilities.argmax(axis=1) == targets.argmax(axis=1)))

    weighted = output["weighted"]
    assert weighted["weights"] == pytest.approx([0.7, 0.3]) and weighted["normalised"] is True
    assert weighted["metrics"]["test_accuracy"] == pytest.approx(accuracy(0.7 * test_1 + 0.3 * test_2, y_test))
    assert weighted["metrics"]["val_accuracy"] == pytest.approx(accuracy(0.7 * val_1 + 0.3 * val_2, y_val))
    assert output["mean"]["metrics"]["test_accuracy"] == pytest.approx(accuracy(0.5 * (test_1 + test_2), y_test))
    for member, run in zip(output["members"], (runs["s1"], runs["s2"])):  # Keras' own numbers, from training
        stored = json.loads((run / "metrics.json").read_text())["metrics"]
        assert member["metrics"]["test_accuracy"] == pytest.approx(stored["test_accuracy"], abs=1e-6)
        assert member["metrics"]["val_accuracy"] == pytest.approx(stored["final_val_accuracy"], abs=1e-6)
    assert _files(runs["s1"].parent) == before  # nothing written into the runs


@pytest.mark.training
def test_plain_mean_by_default_as_a_table(run_cli, runs):
    result = run_cli("ensemble", *(str(runs[name]) for name in ("s1", "s2", "s3")))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("metric: accuracy") and "test: 32 samples" in lines[0]
    assert lines[1].split() == ["model", "val_accuracy", "test_accuracy"]
    assert lines[-1].startswith("mean ") and not any("weighted" in line for line in lines)


@pytest.mark.training
def test_auto_weights_are_fitted_on_validation_and_beat_every_member_there(run_cli, runs):
    members = [runs[name] for name in ("s1", "s2", "s3")]
    result = run_cli("ensemble", *map(str, members), "--weights", "auto", "--json")
    assert result.exit_code == 0, result.stderr
    weighted = json.loads(result.stdout)["weighted"]
    weights = np.array(weighted["weights"])
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    fit = weighted["fit"]
    assert fit["split"] == "validation" and fit["objective"] == "log_loss"
    assert fit["weighted"] <= min(fit["members"]) + 1e-12 and fit["weighted"] <= fit["mean"] + 1e-12
    for loss, run in zip(fit["members"], members):  # the same validation loss Keras reported
        stored = json.loads((run / "metrics.json").read_text())["metrics"]
        assert loss == pytest.approx(stored["final_val_loss"], rel=1e-4)
    assert set(weighted["metrics"]) == {"val_accuracy", "test_accuracy"}


@pytest.mark.training
def test_members_trained_on_other_data_are_refused_naming_what_differs(run_cli, runs):
    result = run_cli("ensemble", str(runs["s1"]), str(runs["more"]))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "data.num_samples 128 vs 96" in line and str(runs["more"]) in line


@pytest.mark.training
@pytest.mark.parametrize("status", ["running", "interrupted", "failed"])
def test_members_that_are_not_completed_are_refused(run_cli, runs, status):
    from dlcli.runs import Run

    info = json.loads((runs["s2"] / "run.json").read_text())
    (runs["s2"] / "run.json").write_text(json.dumps({**info, "status": status, "process": {"pid": os.getpid()}}))
    writer = Run.open(runs["s2"])
    writer.lock("train")  # a live writer holds a running run
    try:
        result = run_cli("ensemble", str(runs["s1"]), str(runs["s2"]))
    finally:
        writer.release()
        (runs["s2"] / "run.json").write_text(json.dumps(info))
    assert result.exit_code == 2 and f"the run is '{status}'" in result.stderr and str(runs["s2"]) in result.stderr


@pytest.mark.training
def test_a_stream_predicts_as_its_arrays(runs):
    from dlcli import datasets
    from dlcli.datasets.base import array_stream
    from dlcli.ensembling import predict_split
    from dlcli.models.saving import load_model
    from dlcli.runs import Run

    bundle = datasets.load(Run.open(runs["s1"]).spec().data)
    models = [load_model(runs[name] / "model.keras") for name in ("s1", "s2")]
    arrays, targets = predict_split(models, bundle.test, 16)
    streamed, streamed_targets = predict_split(models, array_stream(bundle.test), 5)
    assert np.array_equal(targets, streamed_targets)
    for a, b in zip(arrays, streamed):
        assert np.allclose(a, b, atol=1e-6)
