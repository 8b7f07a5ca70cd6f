"""The arithmetic of an ensemble (7.3.3): plain functions from arrays to numbers, which
dlcli.ensembling applies to the runs' predictions. Which task a loss means, the probabilities
averaged, the weighted average, the score reported and the objective weights are fitted to."""

from __future__ import annotations

from typing import Any

import numpy as np

from dlcli.errors import UsageError

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
