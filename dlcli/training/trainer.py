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
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlcli.datasets import DataBundle
from dlcli.backend import import_keras
from dlcli.models.kind import kind_of
from dlcli.runs import Run, layout
from dlcli.training.building import build_checked
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
