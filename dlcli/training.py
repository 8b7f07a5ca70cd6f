"""Compile, fit, k-fold, retrain and evaluate, from a validated spec, into a run directory."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlcli.datasets import DataBundle, Split
from dlcli.datasets.base import Stream
from dlcli.keras_backend import import_keras
from dlcli.models import build_model
from dlcli.models.compiling import compile_model
from dlcli.rundir import RunDir


class StopRequest:
    """Set by SIGINT/SIGTERM: training stops at the end of the current batch.

    A second Ctrl-C raises KeyboardInterrupt at once, for a user who cannot wait."""

    def __init__(self):
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum, frame):
        if self.signal_name is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> "StopRequest":
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class Diverged(Exception):
    """The training loss became NaN or infinite: the model is useless, the run has failed."""


def check_finite(history: dict[str, list], what: str = "training") -> None:
    losses = history.get("loss") or []
    bad = next((i for i, value in enumerate(losses) if value is None or not np.isfinite(value)), None)
    if bad is not None:
        raise Diverged(
            f"{what} diverged: the loss is not a finite number from epoch {history['epoch'][bad]} on; "
            "lower compile.optimizer.learning_rate, or check the data for NaN"
        )


@dataclass
class Outcome:
    history: dict[str, list] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    interrupted: bool = False


@functools.lru_cache(maxsize=None)
def _callback_classes():
    keras = import_keras()

    class HistoryRecorder(keras.callbacks.Callback):
        """Writes history.json after every epoch (1-based epochs), so a crashed run keeps its curves."""

        def __init__(self, run: RunDir, name: str):
            super().__init__()
            self.run, self.name, self.columns = run, name, {"epoch": []}

        def on_epoch_end(self, epoch, logs=None):
            self.columns["epoch"].append(epoch + 1)
            for key, value in (logs or {}).items():
                column = self.columns.setdefault(key, [None] * (len(self.columns["epoch"]) - 1))
                column.append(float(value))
            self.run.write_json(self.name, self.columns)

    class StopOnRequest(keras.callbacks.Callback):
        def __init__(self, stop: StopRequest):
            super().__init__()
            self.stop = stop

        def on_train_batch_end(self, batch, logs=None):
            if self.stop:
                self.model.stop_training = True

        on_test_batch_end = on_train_batch_end

    return HistoryRecorder, StopOnRequest


def spec_callbacks(spec, run: RunDir) -> tuple[list, dict]:
    """Keras callbacks named in the spec, writing into the run directory; CSVLogger options."""
    keras = import_keras()
    callbacks, csv_options = [], {}
    for name, kwargs in spec.callback_entries:
        if name == "CSVLogger":
            csv_options = kwargs
            continue
        if name == "ModelCheckpoint":
            kwargs = {"save_best_only": True, **kwargs, "filepath": str(run.file("checkpoints") / "best.keras")}
            run.file("checkpoints").mkdir(exist_ok=True)
        if name == "TensorBoard":
            kwargs = {**kwargs, "log_dir": str(run.file("logs"))}
        callbacks.append(getattr(keras.callbacks, name)(**kwargs))
    return callbacks, csv_options


def validation_split(bundle: DataBundle, validation) -> tuple[Split | Stream, Split | Stream | None]:
    """(train, validation) for kinds none, holdout (first N, 3.7), split (last fraction), test, dataset."""
    train = bundle.train
    if validation.kind == "dataset":
        if bundle.validation is None:
            raise ValueError("fit.validation.kind is 'dataset' but the dataset has no validation split")
        return train, bundle.validation
    if validation.kind == "holdout":
        if validation.size >= len(train):
            raise ValueError(f"fit.validation.size {validation.size} leaves no training data ({len(train)} samples)")
        return train.take(slice(validation.size, None)), train.take(slice(0, validation.size))
    if validation.kind == "split":
        cut = int(len(train) * (1 - validation.fraction))  # Keras' validation_split takes the end
        return train.take(slice(0, cut)), train.take(slice(cut, None))
    if validation.kind == "test":
        return train, bundle.test
    return train, None


class Trainer:
    """Runs one spec's training protocol, writing history and checkpoints into `run`."""

    def __init__(self, spec, bundle: DataBundle, run: RunDir, stop: StopRequest, verbose: int):
        self.spec, self.bundle, self.run, self.stop, self.verbose = spec, bundle, run, stop, verbose
        self.keras = import_keras()

    @staticmethod
    def build_checked(spec, bundle: DataBundle):
        """A compiled model; a spec that does not fit the data is a SpecError, before any run exists."""
        from dlcli.errors import SpecError

        if any(name == "TensorBoard" for name, _ in spec.callback_entries):
            import importlib.util

            if importlib.util.find_spec("tensorboard") is None:
                raise SpecError("callbacks: TensorBoard needs the tensorboard package: pip install tensorboard")
        kind = spec.fit.validation.kind
        if bundle.streamed and kind in ("holdout", "split", "kfold"):
            raise SpecError(f"fit.validation.kind: '{kind}' needs array data; dataset '{spec.data.name}' "
                            "is read from files: use 'dataset' (its validation/ folder), 'test' or 'none'")
        if kind == "dataset" and bundle.validation is None:
            raise SpecError(f"fit.validation.kind: dataset '{spec.data.name}' has no validation split")
        model = build_model(spec, bundle)
        expected = tuple(model.input_shape[1:])
        if expected != tuple(bundle.input_shape):
            raise SpecError(
                f"model.input_shape: the model takes samples of shape {expected} but dataset "
                f"'{spec.data.name}' gives {tuple(bundle.input_shape)}"
            )
        compile_model(model, spec.compile)
        return model

    def new_model(self):
        return self.build_checked(self.spec, self.bundle)

    def _dataset(self, split: Split, batch_size: int, repeat: bool):
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((split.x, split.y))
        if self.spec.fit.shuffle:
            data = data.shuffle(len(split), seed=self.spec.seed, reshuffle_each_iteration=True)
        if repeat:
            data = data.repeat()
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def fit(self, model, train: Split, validation: Split | None, epochs: int, history_name: str,
            batch_size: int | None = None, with_spec_callbacks: bool = True) -> dict:
        """One model.fit; returns its history columns (also written to `history_name`)."""
        HistoryRecorder, StopOnRequest = _callback_classes()
        recorder = HistoryRecorder(self.run, history_name)
        callbacks, csv_options = spec_callbacks(self.spec, self.run) if with_spec_callbacks else ([], {})
        csv_name = history_name.replace(".json", ".csv")
        self.run.file(csv_name).parent.mkdir(parents=True, exist_ok=True)
        # The recorders come after the spec's callbacks, which may add to the logs (learning_rate).
        callbacks += [self.keras.callbacks.CSVLogger(str(self.run.file(csv_name)), **csv_options),
                      recorder, StopOnRequest(self.stop)]
        batch_size = batch_size or self.spec.fit.batch_size
        if epochs == 0:
            return recorder.columns
        steps = self.spec.fit.steps_per_epoch
        if isinstance(train, Stream):
            with contextlib.redirect_stdout(sys.stderr), _naming_bad_files(train, validation):
                model.fit(train.make(batch_size, training=self.spec.fit.shuffle, seed=self.spec.seed,
                                     repeat=bool(steps)),
                          epochs=epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=self.verbose,
                          validation_data=None if validation is None else validation.make(batch_size))
            return recorder.columns
        validation_data = None if validation is None else (validation.x, validation.y)
        with contextlib.redirect_stdout(sys.stderr):  # progress bars never mix with --json output
            if self.spec.fit.steps_per_epoch:
                model.fit(self._dataset(train, batch_size, repeat=True), epochs=epochs,
                          steps_per_epoch=self.spec.fit.steps_per_epoch, validation_data=validation_data,
                          validation_batch_size=batch_size, callbacks=callbacks, verbose=self.verbose)
            else:
                model.fit(train.x, train.y, batch_size=batch_size, epochs=epochs, shuffle=self.spec.fit.shuffle,
                          validation_data=validation_data, callbacks=callbacks, verbose=self.verbose)
        return recorder.columns

    def evaluate(self, model, split: Split, prefix: str) -> dict[str, float]:
        return evaluate_split(model, split, self.spec.fit.batch_size, prefix, self.stop)

    # ------------------------------------------------------------------ protocols

    def run_protocol(self, first_model=None) -> Outcome:
        fit = self.spec.fit
        if fit.validation.kind == "kfold":
            outcome = self.kfold()
        else:
            train, validation = validation_split(self.bundle, fit.validation)
            model = first_model or self.new_model()
            history = self.fit(model, train, validation, fit.epochs, "history.json")
            outcome = Outcome(history=history, model=model)
        check_finite(outcome.history)
        outcome.interrupted = bool(self.stop)
        if fit.epochs == 0 and fit.validation.kind != "kfold" and not outcome.interrupted:
            _, validation = validation_split(self.bundle, fit.validation)
            if validation is not None:  # an untrained model (a baseline) is judged on validation too
                outcome.metrics.update(self.evaluate(outcome.model, validation, "val_"))
        outcome.metrics.update(summarise_history(outcome.history))
        if fit.retrain and not outcome.interrupted:
            epochs = chosen_epochs(fit.retrain, outcome.history)
            outcome.metrics["retrain_epochs"] = epochs
            outcome.model = self.new_model()
            check_finite(self.fit(outcome.model, self.bundle.train, None, epochs, "retrain_history.json",
                                  batch_size=fit.retrain.batch_size, with_spec_callbacks=False), "retraining")
            outcome.interrupted = bool(self.stop)
        if self.spec.evaluate and outcome.model is not None and self.bundle.test is not None and not outcome.interrupted:
            outcome.metrics.update(self.evaluate(outcome.model, self.bundle.test, "test_"))
        outcome.interrupted = bool(self.stop)
        return outcome

    def kfold(self) -> Outcome:
        """3.27-3.29: k contiguous folds, a fresh model each, then the per-epoch mean history."""
        k, train = self.spec.fit.validation.k, self.bundle.train
        fold_size = len(train) // k
        histories, fold_metrics = [], []
        for fold in range(k):
            rows = np.arange(len(train))
            is_validation = (rows >= fold * fold_size) & (rows < (fold + 1) * fold_size)
            model = self.new_model()
            print(f"processing fold #{fold + 1} of {k}", file=sys.stderr)
            history = self.fit(model, train.take(~is_validation), train.take(is_validation),
                               self.spec.fit.epochs, f"folds/fold-{fold + 1}/history.json")
            if self.stop:
                break
            histories.append(history)
            fold_metrics.append(self.evaluate(model, train.take(is_validation), "val_"))
        metrics: dict[str, Any] = {"folds_completed": len(fold_metrics)}
        for index, scores in enumerate(fold_metrics, start=1):
            metrics.update({f"fold_{index}_{key}": value for key, value in scores.items()})
        for key in fold_metrics[0] if fold_metrics else []:
            metrics[key] = float(np.mean([scores[key] for scores in fold_metrics]))
        mean = mean_history(histories)
        if mean:
            self.run.write_json("history.json", mean)
        return Outcome(history=mean, metrics=metrics)


def evaluate_split(model, split: Split, batch_size: int, prefix: str = "test_", stop: StopRequest | None = None,
                   verbose: int = 0) -> dict[str, Any]:
    """Metrics of a model on one split; a split without targets is only run (the line detector)."""
    with contextlib.redirect_stdout(sys.stderr):  # progress never mixes with --json output
        if isinstance(split, Split) and split.y is None:
            output = np.asarray(model.predict(split.x, verbose=0))
            return {"output": float(output.ravel()[0])} if output.size == 1 else {"output": output.tolist()}
        callbacks = [_callback_classes()[1](stop)] if stop is not None else []
        if isinstance(split, Stream):
            with _naming_bad_files(split):
                scores = model.evaluate(split.make(batch_size), verbose=verbose, return_dict=True,
                                        callbacks=callbacks)
        else:
            scores = model.evaluate(split.x, split.y, batch_size=batch_size, verbose=verbose,
                                    return_dict=True, callbacks=callbacks)
    return {f"{prefix}{key}": float(value) for key, value in scores.items()}


@contextlib.contextmanager
def _naming_bad_files(*streams):
    """TensorFlow reports an undecodable image without its file name: find it and say so."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        from dlcli.datasets.image_folder import first_bad_file

        culprit = first_bad_file([s for s in streams if s is not None])
        if culprit is None:
            raise
        raise ValueError(culprit) from error


MAE_NAMES = ("mae", "mean_absolute_error", "MeanAbsoluteError")


def add_target_units(metrics: dict[str, Any], bundle: DataBundle, loss: Any = None) -> dict[str, Any]:
    """For a normalised series target (Jena), each MAE also in the target's own units.

    `val_mae: 0.29` gains `val_mae_degc: 2.57`: the MAE times the target's training std (6.36);
    with an MAE loss, the losses too (`best_val_loss_degc`)."""
    scale, unit = bundle.info.get("target_scale"), bundle.info.get("target_unit")
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
