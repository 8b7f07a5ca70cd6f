"""Ensembles of finished runs (7.3.3): their models' predictions averaged, plainly or with weights.

The arithmetic is plain functions from arrays to numbers (`weighted_average`, `score`,
`objective`, `fit_weights`). `ensemble_runs` opens the runs, refuses members trained on other
data or for other outputs, rebuilds the validation and test splits as training did, predicts each
split once per model and scores each member, the plain mean and the weighted average. Weights
are fitted on the validation split only, never on the test split. Nothing is written to the runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from typing import Any

import numpy as np

from dlcli.errors import UsageError
from dlcli.runs import Run

EPSILON = 1e-7  # Keras' epsilon: the log loss clips probabilities to [eps, 1 - eps] as Keras does
METRICS = {"categorical": "accuracy", "binary": "accuracy", "regression": "mae"}
OBJECTIVES = {"categorical": "log_loss", "binary": "log_loss", "regression": "mse"}
DESCRIPTIONS = {
    "categorical": "accuracy: the share of samples whose most probable class is the true one",
    "binary": "accuracy: the share of samples whose probability is on the right side of 0.5",
    "regression": "mae: the mean absolute error of the predicted values",
}
REGRESSION_LOSSES = {"mse", "meansquarederror", "mae", "meanabsoluteerror", "huber", "logcosh",
                     "msle", "meansquaredlogarithmicerror"}
PREFIXES = {"validation": "val_", "test": "test_"}


# --------------------------------------------------------------------------- arithmetic


def task_of(loss: Any) -> tuple[str, bool] | None:
    """(task, from_logits) for a spec's loss: categorical or binary probabilities, or regression."""
    config = loss if isinstance(loss, dict) else {"name": loss}
    key = str(config.get("name") or "").lower().replace("_", "")
    if "crossentropy" in key:
        return ("binary" if key.startswith("binary") else "categorical"), bool(config.get("from_logits"))
    return ("regression", False) if key in REGRESSION_LOSSES else None


def probabilities(outputs: np.ndarray, task: str, from_logits: bool) -> np.ndarray:
    """A model's outputs as what is averaged: probabilities (logits go through sigmoid/softmax) or values."""
    outputs = np.asarray(outputs, dtype="float64")
    if not from_logits or task == "regression":
        return outputs
    if task == "binary":
        return 1.0 / (1.0 + np.exp(-outputs))
    exponentials = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def weighted_average(predictions: list[np.ndarray], weights) -> np.ndarray:
    """sum_i weights[i] * predictions[i]: the book's 0.5 * a + 0.25 * b + 0.1 * c + 0.15 * d."""
    return np.tensordot(np.asarray(weights, dtype="float64"), np.stack(predictions), axes=1)


def _labels(targets: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Class indices from one-hot rows or from integer labels."""
    if targets.ndim == prediction.ndim and targets.shape[-1] == prediction.shape[-1] > 1:
        return targets.argmax(axis=-1)
    return targets.reshape(prediction.shape[:-1]).astype("int64")


def score(prediction: np.ndarray, targets: np.ndarray, task: str) -> float:
    """Accuracy (categorical: argmax; binary: threshold 0.5) or mean absolute error."""
    if task == "categorical":
        return float(np.mean(prediction.argmax(axis=-1) == _labels(targets, prediction)))
    targets = np.asarray(targets, dtype="float64").reshape(prediction.shape)
    if task == "binary":
        return float(np.mean((prediction > 0.5) == (targets > 0.5)))
    return float(np.mean(np.abs(prediction - targets)))


def objective(prediction: np.ndarray, targets: np.ndarray, task: str) -> float:
    """What weights are fitted to: the log loss of probabilities, or the mean squared error."""
    if task == "categorical":
        chosen = np.take_along_axis(prediction, _labels(targets, prediction)[..., None], axis=-1)
        return float(-np.mean(np.log(np.clip(chosen, EPSILON, 1.0))))
    targets = np.asarray(targets, dtype="float64").reshape(prediction.shape)
    if task == "binary":
        p = np.clip(prediction, EPSILON, 1.0 - EPSILON)
        return float(-np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p)))
    return float(np.mean((prediction - targets) ** 2))


def fit_weights(predictions: list[np.ndarray], targets: np.ndarray, task: str) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise `objective` on (validation) targets.

    Nelder-Mead, as the book suggests, over softmax logits (the first fixed at 0), started from
    the plain mean. The best of its answer, the plain mean and each member alone is kept, so the
    result is never worse than any of them on these targets."""
    from scipy.optimize import minimize

    count = len(predictions)

    def weights_of(free: np.ndarray) -> np.ndarray:
        logits = np.concatenate([[0.0], free])
        exponentials = np.exp(logits - logits.max())
        return exponentials / exponentials.sum()

    def loss(weights: np.ndarray) -> float:
        return objective(weighted_average(predictions, weights), targets, task)

    candidates = [np.full(count, 1.0 / count), *np.eye(count)]
    if count > 1:
        found = minimize(lambda free: loss(weights_of(free)), np.zeros(count - 1), method="Nelder-Mead",
                         options={"xatol": 1e-4, "fatol": 1e-10, "maxiter": 400 * count})
        candidates.insert(0, weights_of(found.x))
    return min(candidates, key=loss)


def given_weights(text: str, count: int) -> tuple[np.ndarray, bool]:
    """`--weights w1,w2,...` as weights summing to 1, and whether they had to be normalised."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != count:
        raise UsageError(f"--weights {text}: {len(parts)} weight{'s' * (len(parts) != 1)} for {count} runs; "
                         f"give one per run, in the order of the runs, or --weights auto")
    try:
        weights = np.array([float(part) for part in parts])
    except ValueError:
        raise UsageError(f"--weights {text}: not numbers; give one weight per run, e.g. 0.7,0.3, or auto") from None
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.any(weights > 0):
        raise UsageError(f"--weights {text}: weights must be finite, non-negative and not all 0")
    scaled = weights / weights.max()  # so that huge weights (1e308, 1e308) do not overflow their sum
    return scaled / scaled.sum(), not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- runs


def _loss(spec) -> Any:
    """The loss of the model's one output: compile.loss, or the graph output's own."""
    outputs = getattr(spec.model, "outputs", None)
    if isinstance(outputs, dict) and len(outputs) == 1:
        only = next(iter(outputs.values()))
        if only is not None and only.loss is not None:
            return only.loss
    return spec.compile.loss


def _identity(run: Run, spec, task: tuple[str, bool]) -> dict[str, Any]:
    """What members must share: the data, its validation split, the classes, the task, the tokens."""
    vocabulary = run.vocabulary()
    if vocabulary is not None:  # compared by a fingerprint, not token by token
        digest = hashlib.sha256("\n".join(vocabulary).encode("utf-8")).hexdigest()[:12]
        vocabulary = f"{len(vocabulary)} tokens, sha256 {digest}"
    return {"data": spec.data.model_dump(mode="json"), "fit.validation": spec.fit.validation.model_dump(mode="json"),
            "class_names": run.info.get("class_names"), "task": task[0], "vocabulary.txt": vocabulary}


def _flat(data: Any, prefix: str) -> dict[str, Any]:
    if isinstance(data, dict) and data:
        return {k: v for key, value in data.items() for k, v in _flat(value, f"{prefix}.{key}").items()}
    return {prefix: data}


def differences(first: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """'data.num_samples 128 vs 96': each value `other` has that `first` has not."""
    a = {k: v for key, value in first.items() for k, v in _flat(value, key).items()}
    b = {k: v for key, value in other.items() for k, v in _flat(value, key).items()}
    return [f"{key} {b.get(key)!r} vs {a.get(key)!r}" for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def _single(values: Any, where: str) -> Any:
    """One output's array: a dict of one named output is that output; several are refused."""
    if isinstance(values, (dict, list, tuple)) and len(values) > 1:
        raise UsageError(f"{where}: several outputs ({len(values)}); dlcli ensemble averages single-output models")
    if isinstance(values, (dict, list, tuple)):
        return next(iter(values.values())) if isinstance(values, dict) else values[0]
    return values


def _open(path: str) -> tuple[Run, Any, tuple[str, bool]]:
    """A member run, its spec and its (task, from_logits); a run without a model says so here."""
    from dlcli.backend import use_recorded

    run = Run.open(path)
    use_recorded(run.info)  # the first member's backend, unless --backend says otherwise
    status = run.status
    if status != "completed":  # a running model is being replaced; an interrupted one is not the recipe's
        raise UsageError(f"{run}: the run is '{status}'; an ensemble's members are completed runs"
                         + (f" (resume it first: dlcli resume {run})" if status in ("interrupted", "failed", "crashed") else ""))
    spec = run.spec()
    task = task_of(_loss(spec))
    if task is None:
        raise UsageError(f"{run}: loss {_loss(spec)!r}; dlcli ensemble averages probabilities (a crossentropy "
                         "loss) or values (mse, mae, huber, logcosh)")
    run.model_path()
    return run, spec, task


def _members(paths: list[str]) -> list[tuple[Run, Any, tuple[str, bool]]]:
    """The runs, opened and checked to share data, validation split, classes, task and vocabulary."""
    if len(paths) < 2:
        raise UsageError("an ensemble needs at least two runs")
    members = [_open(path) for path in paths]
    if len({run.path.resolve() for run, _, _ in members}) < len(members):
        raise UsageError("a run is given twice; each member of an ensemble is another run")
    identities = [_identity(*member) for member in members]
    for (run, _, _), identity in zip(members[1:], identities[1:]):
        found = differences(identities[0], identity)
        if found:
            raise UsageError(f"{run} differs from {members[0][0]} in what it was trained on: {'; '.join(found)}")
    return members


def _load_models(runs: list[Run]) -> list[Any]:
    """Each run's model, with one output of the same shape."""
    from dlcli.models.saving import load_model

    models = [load_model(run.model_path()) for run in runs]
    for run, model in zip(runs, models):
        if len(getattr(model, "outputs", None) or ()) > 1:
            raise UsageError(f"{run}: the model has {len(model.outputs)} outputs ({', '.join(model.output_names)}); "
                             "dlcli ensemble averages single-output models")
    shapes = [tuple(model.outputs[0].shape[1:]) if getattr(model, "outputs", None) else None for model in models]
    for run, shape in zip(runs[1:], shapes[1:]):
        if None not in (shape, shapes[0]) and shape != shapes[0]:
            raise UsageError(f"{run} differs from {runs[0]}: output shape {shape} vs {shapes[0]}")
    return models


def evaluation_splits(bundle, validation, dataset: str) -> tuple[dict[str, Any], dict[str, str]]:
    """{'validation': split, 'test': split} as training made them, and why any is missing."""
    from dlcli.datasets import Split
    from dlcli.training.data import validation_split

    _, held_out = validation_split(bundle, validation)
    found, skipped = {}, {}
    if validation.kind == "test":
        skipped["validation"] = "the runs validated on the test split (fit.validation.kind: test)"
    elif held_out is None:
        skipped["validation"] = f"the runs have none (fit.validation.kind: {validation.kind})"
    else:
        found["validation"] = held_out
    if bundle.test is None:
        skipped["test"] = f"dataset '{dataset}' has no test split"
    else:
        found["test"] = bundle.test
    for name, split in list(found.items()):
        if isinstance(split, Split) and split.y is None:  # inputs only (the line detector)
            skipped[name] = "no targets"
            del found[name]
    return found, skipped


def predict_split(models: list[Any], split, batch_size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Every model's outputs on one split, and its targets; a Stream is read once, batch by batch."""
    from dlcli.datasets.base import Stream

    with contextlib.redirect_stdout(sys.stderr):  # nothing mixes with --json output
        if not isinstance(split, Stream):
            outputs = [_single(model.predict(split.x, batch_size=batch_size, verbose=0), "model")
                       for model in models]
            return [np.asarray(o) for o in outputs], np.asarray(_single(split.y, "targets"))
        outputs, targets = [[] for _ in models], []
        for x, y in split.make(batch_size).as_numpy_iterator():  # NumPy: JAX's and torch's predict take no tf tensors
            targets.append(np.asarray(_single(y, "targets")))
            for batches, model in zip(outputs, models):
                batches.append(np.asarray(_single(model.predict_on_batch(x), "model")))
        return [np.concatenate(batches) for batches in outputs], np.concatenate(targets)


def ensemble_runs(paths: list[str], weights: str | None = None) -> dict[str, Any]:
    """Members, plain mean and (with `weights`: 'auto' or 'w1,w2,...') weighted average, scored per split."""
    from dlcli import datasets
    from dlcli.training.summary import add_target_units

    auto = weights is not None and weights.strip().lower() == "auto"
    chosen, normalised = given_weights(weights, len(paths)) if weights is not None and not auto else (None, False)
    members = _members(paths)
    runs = [run for run, _, _ in members]
    first, spec, (task, _) = members[0]
    models = _load_models(runs)
    bundle = datasets.load(spec.data, vocabulary=first.vocabulary())
    splits, skipped = evaluation_splits(bundle, spec.fit.validation, spec.data.name)
    if spec.fit.retrain is not None and "validation" in splits:  # model.keras was retrained on those rows
        del splits["validation"]
        skipped["validation"] = ("the members were retrained on it (fit.retrain): its scores would be "
                                 "training scores")
    if not splits:
        raise UsageError(f"{first}: no split to evaluate on ({'; '.join(skipped.values())})")
    if auto and "validation" not in splits:
        raise UsageError(f"--weights auto needs a validation split to fit weights on, never the test split, and "
                         f"{skipped['validation']}; give the weights (e.g. --weights 0.6,0.4) or use the plain mean")
    from_logits = [logits for _, _, (_, logits) in members]
    predicted = {}  # split name -> (each member's probabilities or values, targets)
    for name, split in splits.items():
        outputs, targets = predict_split(models, split, spec.fit.batch_size)
        predicted[name] = ([probabilities(o, task, logits) for o, logits in zip(outputs, from_logits)], targets)
    metric, count = METRICS[task], len(runs)

    def scores(member_weights) -> dict[str, float]:
        found = {f"{PREFIXES[name]}{metric}": score(weighted_average(outputs, member_weights), targets, task)
                 for name, (outputs, targets) in predicted.items()}
        return add_target_units(found, bundle.info)

    result = {
        "metric": metric, "metric_description": DESCRIPTIONS[task], "task": task,
        "splits": {name: len(split) for name, split in splits.items()}, "skipped": skipped,
        "members": [{"run": str(run), "experiment": run.experiment, "status": run.status,
                     "metrics": scores(np.eye(count)[index])} for index, run in enumerate(runs)],
        "mean": {"weights": [1.0 / count] * count, "metrics": scores(np.full(count, 1.0 / count))},
        "weighted": None,
    }
    if auto:
        outputs, targets = predicted["validation"]
        chosen = fit_weights(outputs, targets, task)
        losses = [objective(weighted_average(outputs, w), targets, task)
                  for w in (*np.eye(count), np.full(count, 1.0 / count), chosen)]
        result["weighted"] = {"weights": chosen.tolist(), "source": "auto", "normalised": False, "fit": {
            "split": "validation", "method": "Nelder-Mead", "objective": OBJECTIVES[task],
            "members": losses[:count], "mean": losses[count], "weighted": losses[-1]}}
    elif chosen is not None:
        result["weighted"] = {"weights": chosen.tolist(), "source": "given", "normalised": normalised}
    if result["weighted"] is not None:
        result["weighted"]["metrics"] = scores(chosen)
    return result
