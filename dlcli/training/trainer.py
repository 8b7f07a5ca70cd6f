"""A spec's training protocol into a run: fit (or k-fold), retrain, evaluate (and a classifier's
confusion matrix on the test split, training.confusion); resumable per phase.

A protocol is a sequence of phases, each one `model.fit` with its own history file: `fit`
(history.json), `fold-1` ... `fold-k` (folds/fold-i/history.json) and `retrain`
(retrain_history.json). Every completed epoch saves the resume state (training.state); a
finished fold leaves folds/fold-i/result.json. Resuming skips finished phases and continues the
unfinished one from its last completed epoch.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlcli.datasets import DataBundle
from dlcli.errors import SpecError
from dlcli.backend import import_keras
from dlcli.models import build_model, compile_for
from dlcli.models.kind import kind_of
from dlcli.runs import Run, layout
from dlcli.training.callbacks import spec_callbacks
from dlcli.training.data import as_stream, evaluate_split, inputs_only, naming_bad_files, validation_split
from dlcli.training.evaluation import batches_of, per_sample_training_class, per_sample_validation_class
from dlcli.training.fit_callbacks import callback_classes, write_history
from dlcli.training.state import TrainingState
from dlcli.training.stopping import EpochInterrupted, StopRequest, check_finite
from dlcli.training.summary import chosen_epochs, mean_history, summarise_history


@dataclass
class Outcome:
    """What a protocol produced. `model` is None when no epoch was completed (nothing to save)."""

    history: dict[str, list] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    interrupted: bool = False


def build_checked(spec, bundle: DataBundle):
    """A compiled model; a spec that does not fit the data is a SpecError, before any run exists."""
    if spec.callback("TensorBoard") is not None:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise SpecError("callbacks: TensorBoard needs the tensorboard package: pip install tensorboard")
    kind = spec.fit.validation.kind
    if bundle.streamed and kind in ("holdout", "split", "kfold"):
        raise SpecError(f"fit.validation.kind: '{kind}' needs array data; dataset '{spec.data.name}' "
                        "is read from files: use 'dataset' (its validation/ folder), 'test' or 'none'")
    if kind == "holdout" and spec.fit.validation.size >= len(bundle.train):
        raise SpecError(f"fit.validation.size: {spec.fit.validation.size} leaves no training data "
                        f"(dataset '{spec.data.name}' has {len(bundle.train)} training samples)")
    if kind == "dataset" and bundle.validation is None:
        raise SpecError(f"fit.validation.kind: dataset '{spec.data.name}' has no validation split")
    takes = kind_of(spec)
    if isinstance(bundle.input_shape, dict) and not takes.named_data:
        raise SpecError(f"model.type: dataset '{spec.data.name}' gives named inputs "
                        f"({', '.join(bundle.input_shape)}): use a model of type graph")
    if bundle.target_names is not None and takes.takes_targets and not takes.named_data:
        raise SpecError(f"model.type: dataset '{spec.data.name}' gives named targets "
                        f"({', '.join(bundle.target_names)}): use a model of type graph with outputs of those names")
    model = build_model(spec, bundle)
    if hasattr(model, "input_shape"):  # a functional or Sequential model; a subclassed one has none
        if not isinstance(bundle.input_shape, dict):
            expected, given = tuple(model.input_shape[1:]), tuple(bundle.input_shape)
            if len(expected) != len(given) or any(e is not None and e != g for e, g in zip(expected, given)):
                raise SpecError(
                    f"model.input_shape: the model takes samples of shape {expected} but dataset "
                    f"'{spec.data.name}' gives {given}"
                )
        characters = bundle.info.get("vocabulary_size")  # a character model (text_file): one output per character
        if characters is not None and model.output_shape != (None, characters):
            raise SpecError(f"model.layers: the model gives samples of shape {model.output_shape[1:]} but the text of "
                            f"dataset '{spec.data.name}' has {characters} distinct characters to predict: end with "
                            f"Dense: {{units: num_classes, activation: softmax}} (num_classes: {characters} here)")
    else:
        built_on(model, bundle, spec.data.name)
    compile_for(model, spec)
    return model


def built_on(model, bundle: DataBundle, data_name: str) -> None:
    """Build a subclassed model (a kind's own keras.Model with `call`) by calling it symbolically on
    the data's sample shape: it has no input_shape to compare, its weights exist only once built
    (count_params, describing and the resume state need them), and a call that fails on this shape
    is a model that does not fit the data. A symbolic call draws no random numbers."""
    keras = import_keras()

    given = bundle.input_shape
    inputs = {name: keras.Input(shape=shape) for name, shape in given.items()} if isinstance(given, dict) \
        else keras.Input(shape=given)
    try:
        with warnings.catch_warnings():  # Keras warns of the unbuilt state before it raises: the error says it
            warnings.simplefilter("ignore")
            model(inputs)
    except Exception as error:  # noqa: BLE001  whatever Keras raises, the model does not take these samples
        # Keras wraps the layer's own complaint ("expected min_ndim=4, found ndim=2") in its advice
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).rpartition("Error encountered:")[2]
        reason = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
        raise SpecError(f"model.type: the model cannot take samples of shape {given} that dataset "
                        f"'{data_name}' gives ({reason[:200]})") from None


class Trainer:
    """Runs one spec's protocol, writing histories, checkpoints and the resume state into `run`."""

    def __init__(self, spec, bundle: DataBundle, run: Run, stop: StopRequest, verbose: int,
                 resume: dict | None = None, watchers: list = (), worker=None):
        self.spec, self.bundle, self.run, self.stop, self.verbose = spec, bundle, run, stop, verbose
        if not kind_of(spec).takes_targets:  # its loss needs none: fit, validate and evaluate on inputs alone
            self.bundle = inputs_only(bundle)
        self.watchers = list(watchers)  # more callbacks for the `fit` phase (a sweep's pruning)
        # One of several processes (training.distribution): only the chief writes the run; all
        # evaluate through a local twin of the model, and stop at the same batch.
        self.worker = worker
        self.writes = run.writes  # the chief holds the run; the others' Run refuses writes
        if worker is not None:
            from dlcli.training.distribution import AgreedStop, LocalTwin

            self.stop = AgreedStop(stop)
            self.twin = LocalTwin(lambda: build_checked(spec, bundle))
        self.state = TrainingState(run)
        self.resume = resume  # the state record to continue from (consumed by its phase)
        self.interrupted = False
        self.keras = import_keras()

    def new_model(self, phase_number: int):
        """A fresh model for the phase; its seed depends on the phase alone, so a resumed run builds
        the same initial weights as an uninterrupted one."""
        self.keras.utils.set_random_seed(self.spec.seed + phase_number)
        return build_checked(self.spec, self.bundle)

    def separator(self) -> str:
        """history.csv's separator: the spec's CSVLogger's, else a comma."""
        csv_logger = self.spec.callback("CSVLogger")
        return csv_logger.arguments.get("separator", ",") if csv_logger else ","

    # ------------------------------------------------------------------ one phase

    def fit(self, model, train, validation, epochs: int, history_name: str, phase: str,
            batch_size: int | None = None, with_spec_callbacks: bool = True) -> dict:
        """One model.fit phase; returns its history columns of completed epochs. On a stop request,
        the model goes back to its last completed epoch (self.interrupted is set)."""
        record = self.resume if self.resume is not None and self.resume["phase"] == phase else None
        self.resume = None if record is not None else self.resume
        if record is not None:
            self.state.restore_model(model, record)
        HistoryRecorder, StopOnRequest, StateKeeper = callback_classes()
        recorder = HistoryRecorder(self.run, history_name, record["history"] if record else None, self.separator())
        if record is not None and record["finished"] or (record["epoch"] if record else 0) >= epochs:
            return recorder.columns
        callbacks = spec_callbacks(self.spec, self.run, self.bundle, validation, phase) if with_spec_callbacks else []
        callbacks += self.watchers if phase == "fit" else []
        batch_size = batch_size or self.spec.fit.batch_size
        # first, so that every callback reads the outputs' training and validation losses per sample
        per_sample = [per_sample_training_class()()]
        if validation is not None and self.worker is not None:
            from dlcli.training.distribution import twin_validation_class

            per_sample += [twin_validation_class()(self.twin, validation, batch_size, [StopOnRequest(self.stop)])]
        elif validation is not None:
            per_sample += [per_sample_validation_class()(validation, batch_size)]
        keeper = StateKeeper(self.state, phase, callbacks, recorder, record)
        stream = as_stream(train)
        initial = record["epoch"] if record else 0
        if self.worker is not None:  # this process's rows of whole global batches only
            steps = self.spec.fit.steps_per_epoch or len(stream) // batch_size
            data = stream.shard_batches(batch_size, self.worker.index, self.worker.count,
                                        training=self.spec.fit.shuffle, seed=self.spec.seed, start=initial * steps)
        else:
            steps = self.spec.fit.steps_per_epoch or stream.batches_per_pass(batch_size)
            data = stream.make(batch_size, training=self.spec.fit.shuffle, seed=self.spec.seed, repeat=True,
                               start=initial * steps)
        validation_data = None
        if validation is not None and self.worker is None:
            validation_data = (validation.x, validation.y) if not hasattr(validation, "make") else \
                batches_of(validation, batch_size)
        try:
            with contextlib.redirect_stdout(sys.stderr), naming_bad_files(train, validation):
                model.fit(data, epochs=epochs, initial_epoch=initial, steps_per_epoch=steps,
                          validation_data=validation_data, validation_batch_size=batch_size,
                          callbacks=[*per_sample, *callbacks, recorder, keeper, StopOnRequest(self.stop)],
                          verbose=self.verbose)
        except EpochInterrupted:
            self.interrupted = True
            for callback in callbacks:  # Keras ends no training it did not finish: close TensorBoard's files
                if isinstance(callback, self.keras.callbacks.TensorBoard):
                    callback.on_train_end()
            latest = self.state.latest()
            if latest is not None and latest["phase"] == phase:
                self.state.restore_model(model, latest)  # the unfinished epoch's updates are dropped
            else:
                model.dlcli_untrained = True  # interrupted before its first epoch ended
        return recorder.columns

    def evaluate(self, model, split, prefix: str) -> dict[str, float] | None:
        """The model's metrics on a split, or None when a stop request cut the evaluation short."""
        # several processes: exactly as one process does, on a copy outside the distribution
        evaluated = self.twin.evaluating(model) if self.worker is not None else contextlib.nullcontext(model)
        try:
            with evaluated as target:
                return evaluate_split(target, split, self.spec.fit.batch_size, prefix,
                                      callbacks=[callback_classes()[1](self.stop)])
        except EpochInterrupted:
            self.interrupted = True
            return None

    # ------------------------------------------------------------------ protocols

    def run_protocol(self, first_model) -> Outcome:
        fit = self.spec.fit
        if fit.validation.kind == "kfold":
            outcome = self.kfold()
        else:
            train, validation = validation_split(self.bundle, fit.validation)
            resuming_retrain = self.resume is not None and self.resume["phase"] == "retrain"
            history = self.run.history() if resuming_retrain else \
                self.fit(first_model, train, validation, fit.epochs, layout.HISTORY.name, "fit")
            outcome = Outcome(history=history, model=first_model)
        if self.interrupted:
            return self._stopped(outcome)
        check_finite(outcome.history)
        if fit.epochs == 0 and fit.validation.kind != "kfold":
            _, validation = validation_split(self.bundle, fit.validation)
            if validation is not None:  # an untrained model (a baseline) is judged on validation too
                outcome.metrics.update(self.evaluate(outcome.model, validation, "val_") or {})
        outcome.metrics.update(summarise_history(outcome.history))
        if fit.retrain and not self.interrupted:
            epochs = chosen_epochs(fit.retrain, outcome.history)
            outcome.metrics["retrain_epochs"] = epochs
            outcome.model = self.new_model((fit.validation.k or 0) + 1)
            retrained = self.fit(outcome.model, self.bundle.train, None, epochs, layout.RETRAIN_HISTORY.name,
                                 "retrain", batch_size=fit.retrain.batch_size, with_spec_callbacks=False)
            if self.interrupted:
                return self._stopped(outcome)
            check_finite(retrained, "retraining")
        if self.spec.evaluate and outcome.model is not None and self.bundle.test is not None and not self.interrupted:
            outcome.metrics.update(self.evaluate(outcome.model, self.bundle.test, "test_") or {})
            if self.run.writes and not self.interrupted:
                self.confusion(outcome.model)
        return self._stopped(outcome) if self.interrupted else outcome

    def confusion(self, model) -> None:
        """confusion.json of a classifier on the test split (training.confusion), an optional part."""
        from dlcli.training.confusion import write_confusion

        evaluated = self.twin.evaluating(model) if self.worker is not None else contextlib.nullcontext(model)
        with evaluated as target:
            write_confusion(self.run, target, self.bundle.test, self.spec.fit.batch_size, self.spec.compile.loss,
                            self.bundle.class_names)

    def _stopped(self, outcome: Outcome) -> Outcome:
        outcome.interrupted = True
        if outcome.model is not None and getattr(outcome.model, "dlcli_untrained", False):
            outcome.model = None
        outcome.metrics.update(summarise_history(outcome.history))
        return outcome

    def kfold(self) -> Outcome:
        """3.27-3.29: k contiguous folds, a fresh model each, then the per-epoch mean history.
        A finished fold leaves folds/fold-i/result.json and is not trained again on resume."""
        k, train = self.spec.fit.validation.k, self.bundle.train
        fold_size = len(train) // k
        histories, fold_metrics = [], []
        for fold in range(1, k + 1):
            result = layout.FOLD_RESULT.at(fold=fold)
            if self.run.has(result):
                done = self.run.read_json(result)
                histories.append(done["history"])
                fold_metrics.append(done["metrics"])
                continue
            rows = np.arange(len(train))
            is_validation = (rows >= (fold - 1) * fold_size) & (rows < fold * fold_size)
            model = self.new_model(fold)
            print(f"processing fold #{fold} of {k}", file=sys.stderr)
            history = self.fit(model, train.take(~is_validation), train.take(is_validation),
                               self.spec.fit.epochs, layout.FOLD_HISTORY.at(fold=fold), f"fold-{fold}")
            scores = None if self.interrupted else self.evaluate(model, train.take(is_validation), "val_")
            if scores is None:
                break
            if self.writes:
                self.run.write_json(result, {"history": history, "metrics": scores})
            histories.append(history)
            fold_metrics.append(scores)
        metrics: dict[str, Any] = {"folds_completed": len(fold_metrics)}
        for index, scores in enumerate(fold_metrics, start=1):
            metrics.update({f"fold_{index}_{key}": value for key, value in scores.items()})
        for key in fold_metrics[0] if fold_metrics else []:
            metrics[key] = float(np.mean([scores[key] for scores in fold_metrics]))
        mean = mean_history(histories)
        if mean and self.writes:
            write_history(self.run, layout.HISTORY.name, mean, self.separator())
        return Outcome(history=mean, metrics=metrics)
