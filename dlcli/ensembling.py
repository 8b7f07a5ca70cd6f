"""Ensembles of finished runs (7.3.3): their models' predictions averaged, plainly or with weights.

`ensemble_runs` opens the runs, refuses members trained on other data or for other outputs,
rebuilds the validation and test splits as training did, predicts each split once per model and
scores each member, the plain mean and the weighted average. Weights are fitted on the
validation split only, never on the test split. Nothing is written to the runs. The arithmetic,
plain functions from arrays to numbers, is in dlcli.ensemble_arithmetic.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from typing import Any

import numpy as np

from dlcli.ensemble_arithmetic import (DESCRIPTIONS, METRICS, OBJECTIVES, fit_weights, given_weights, objective,
                                       probabilities, score, task_of, weighted_average)
from dlcli.errors import UsageError
from dlcli.runs import Run

PREFIXES = {"validation": "val_", "test": "test_"}


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
    from dlcli.runs.advice import continue_run

    run = Run.open(path)
    use_recorded(run.info)  # the first member's backend, unless --backend says otherwise
    status = run.status
    if status != "completed":  # a running model is being replaced; an interrupted one is not the recipe's
        raise UsageError(f"{run}: the run is '{status}'; an ensemble's members are completed runs"
                         + (f" ({continue_run(run, status)})" if status in ("interrupted", "failed", "crashed") else ""))
    spec = run.spec()
    outputs = getattr(spec.model, "outputs", None)
    if isinstance(outputs, dict) and len(outputs) > 1:  # each output has its own loss: there is no one loss to name
        raise UsageError(f"{run}: the model has {len(outputs)} outputs ({', '.join(outputs)}); "
                         "dlcli ensemble averages single-output models")
    task = task_of(_loss(spec))
    if task is None:
        what = f"loss {_loss(spec)!r}" if _loss(spec) is not None else "its model computes its own loss"
        raise UsageError(f"{run}: {what}; dlcli ensemble averages probabilities (a crossentropy "
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
        "members": [{"run": str(run), "run_dir": str(run.path.resolve()), "experiment": run.experiment, "status": run.status,
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
