"""What a sweep optimises: the names a run of a spec reports, known before any trial trains, the
direction of a metric, and its value in a finished run.

An epoch logs the compiled loss and metrics (each output's own for a graph model, and `val_`
again on validation data); metrics.json adds the test scores and the history's summary. Keras
tells the epoch's names from two samples (`compute_loss`, `compute_metrics`), on a model built
for this alone, so no trial's model is touched.
"""

from __future__ import annotations

from dlcli.errors import UsageError
from dlcli.registry import did_you_mean
from dlcli.runs import Run

# Parameters under these keys may change the names a trial logs (another loss, metric or
# validation): --metric is then checked by each trial's own history only.
NAME_CHANGING_KEYS = ("compile.loss", "compile.metrics", "model.outputs", "fit.validation")
# Callbacks that add the learning rate to an epoch's logs.
LOGGING_LEARNING_RATE = ("ReduceLROnPlateau", "LearningRateScheduler")


def direction_of(metric: str, given: str | None) -> str:
    """`minimize` or `maximize`: as given, else from the metric's name (val_loss, val_accuracy)."""
    from dlcli.training.callbacks import monitor_mode

    if given:
        return given
    mode = monitor_mode(metric)
    if mode is None:
        raise UsageError(f"--metric {metric}: say whether to --direction minimize or maximize it")
    return "minimize" if mode == "min" else "maximize"


def metric_value(run: Run, metric: str, direction: str) -> float | None:
    """A key of metrics.json, else the best epoch's value of a history column."""
    value = run.metrics().get("metrics", {}).get(metric)
    if value is None:
        column = [v for v in run.history().get(metric, []) if v is not None]
        value = (min if direction == "minimize" else max)(column) if column else None
    return None if value is None else float(value)


def epoch_log_names(model, bundle) -> list[str] | None:
    """The names an epoch of `model.fit` logs on this data (loss, accuracy, digit_loss...), from
    the loss and metrics computed on two training samples; None when Keras cannot tell (a model
    whose own train_step logs other names)."""
    sample = bundle.train
    try:
        if hasattr(sample, "make"):  # a tf.data stream: its first batch of two, as NumPy for any backend
            x, y = next(sample.make(2).as_numpy_iterator())
        else:
            sample = sample.take(slice(0, 2))
            x, y = sample.x, sample.y
        predicted = model(x, training=False)
        model.compute_loss(x, y, predicted)
        return sorted(model.compute_metrics(x, y, predicted, None))
    except Exception:  # noqa: BLE001 - any model Keras cannot score this way: no check, not a failure
        return None


def run_names(spec, bundle, logged: list[str]) -> set[str]:
    """Every name --metric may take for a run of `spec`: history columns and metrics.json keys."""
    from dlcli.training.summary import add_target_units, summarise_history

    fit, kfold = spec.fit, spec.fit.validation.kind == "kfold"
    validated = fit.validation.kind != "none"
    epochs = [*logged, *(f"val_{name}" for name in logged if validated)]
    if any(entry.name in LOGGING_LEARNING_RATE for entry in spec.callbacks):
        epochs.append("learning_rate")
    history = {"epoch": [1], **{name: [0.0] for name in epochs}} if fit.epochs > 0 else {}
    final = {**summarise_history(history), "params": 0}
    if (kfold or fit.epochs == 0) and validated:
        final.update({f"val_{name}": 0.0 for name in logged})
    if kfold:
        final["folds_completed"] = 0
        final.update({f"fold_{fold}_val_{name}": 0.0 for fold in range(1, fit.validation.k + 1) for name in logged})
    if fit.retrain:
        final["retrain_epochs"] = 0
    if spec.evaluate and bundle.test is not None and (not kfold or fit.retrain):
        final.update({f"test_{name}": 0.0 for name in logged})
    final = add_target_units(final, bundle.info, spec.compile.loss)
    return {*epochs, *final}


def check_metric(metric: str, spec, bundle, model, param_keys: list[str]) -> None:
    """Refuse a --metric no run of this spec reports, with the nearest names, before any trial."""
    if any(key.startswith(NAME_CHANGING_KEYS) for key in param_keys):
        return
    logged = epoch_log_names(model, bundle)
    if logged is None:
        return
    known = sorted(run_names(spec, bundle, logged))
    if metric not in known:
        shown = [name for name in known if not name.startswith(("fold_", "final_"))]  # the rest follow from these
        patterns = ["final_NAME (the last epoch's)", *(["fold_K_NAME"] if any(n.startswith("fold_") for n in known) else [])]
        raise UsageError(f"--metric {metric}: no run of this spec reports it{did_you_mean(metric, known)}; "
                         f"its names: {', '.join(shown + patterns)}")
