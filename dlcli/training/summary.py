"""Numbers derived from histories: last-epoch values, best epochs, k-fold means, target units."""

from __future__ import annotations

from typing import Any

import numpy as np

MAE_NAMES = ("mae", "mean_absolute_error", "MeanAbsoluteError")


def add_target_units(metrics: dict[str, Any], info: dict[str, Any], loss: Any = None) -> dict[str, Any]:
    """For a normalised series target (Jena), each MAE also in the target's own units.

    `val_mae: 0.29` gains `val_mae_degc: 2.57`: the MAE times the target's training std (6.36);
    with an MAE loss, the losses too (`best_val_loss_degc`)."""
    scale, unit = info.get("target_scale"), info.get("target_unit")
    if not scale or not unit:
        return metrics
    loss_name = loss if isinstance(loss, str) else (loss or {}).get("name") if isinstance(loss, dict) else None
    names = ("mae", "mean_absolute_error") + (("loss",) if loss_name in MAE_NAMES else ())
    extra = {f"{key}_{unit}": value * scale for key, value in metrics.items()
             if isinstance(value, float) and key.endswith(names)}
    return {**metrics, **extra}


def mean_history(histories: list[dict]) -> dict[str, list]:
    """Per-epoch mean over folds (3.29), over the epochs every fold completed."""
    if not histories:
        return {}
    length = min(len(h["epoch"]) for h in histories)
    mean = {"epoch": list(range(1, length + 1))}
    for key in histories[0]:
        if key != "epoch" and all(key in h for h in histories):
            mean[key] = [float(np.mean([h[key][i] for h in histories])) for i in range(length)]
    return mean


def summarise_history(history: dict[str, list]) -> dict[str, Any]:
    """Last-epoch values and the best validation loss, as plain numbers for metrics.json."""
    summary: dict[str, Any] = {}
    epochs = history.get("epoch", [])
    if not epochs:
        return summary
    summary["epochs_completed"] = len(epochs)
    for key, values in history.items():
        if key != "epoch" and values:
            summary[f"final_{key}"] = values[-1]
    losses = np.asarray([np.nan if v is None else v for v in history.get("val_loss") or []], dtype="float64")
    if np.isfinite(losses).any():
        best = int(np.nanargmin(losses))
        summary["best_val_loss"] = float(losses[best])
        summary["best_epoch"] = int(epochs[best])
    return summary


def chosen_epochs(retrain, history: dict[str, list]) -> int:
    if retrain.epochs != "best":
        return int(retrain.epochs)
    values = history.get(retrain.monitor)
    if not values:
        raise ValueError(f"fit.retrain.monitor '{retrain.monitor}' is not in the history")
    array = np.asarray(values, dtype="float64")
    index = int(np.nanargmin(array) if retrain.mode == "min" else np.nanargmax(array))
    return int(history["epoch"][index])
