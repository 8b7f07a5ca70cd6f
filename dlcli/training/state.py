"""The resume state of a run, saved after every completed epoch (run/state/).

Keras' BackupAndRestore keeps weights, optimizer and epoch only (keras-team/keras#17012,
#19179). This keeps what a continued run needs to go on exactly as if it had never stopped:

- weights and the variables of every optimizer the model owns (step counts and learning rates
  too), `weights.weights.h5`: Keras saves an optimizer held by a model's attribute (a GAN's second
  one) beside `model.optimizer`, and restoring needs each built over the variables it updates
  (`optimizers_of`); an optimizer that cannot be restored whole refuses the resume instead of
  starting again from zero, which Keras does with only a warning;
- each spec callback's state (EarlyStopping's wait, best and best weights, ReduceLROnPlateau's
  wait, cooldown and best, ModelCheckpoint's best) and the layers' random seed states, `arrays.npz`;
- the phase (`fit`, `fold-2`, `retrain`), the completed epochs, whether the phase had finished
  (EarlyStopping), and the phase's history, in `latest.json`.

The next epoch's shuffle needs nothing saved: pass p is drawn from (seed, p) (datasets.base).
A snapshot is written into a new folder, then `latest.json` is switched to it atomically, then
older folders are removed: a crash at any point leaves one complete snapshot.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from dlcli.errors import UsageError
from dlcli.runs import Run, layout

# The attributes that make up each Keras callback's state between epochs.
CALLBACK_STATE = {
    "EarlyStopping": ("wait", "stopped_epoch", "best", "best_epoch"),
    "ReduceLROnPlateau": ("wait", "cooldown_counter", "best"),
    "ModelCheckpoint": ("best",),
}


def _state_attributes(callback) -> tuple[str, ...]:
    """The state attributes of a callback, by its Keras class (dlcli's subclasses included)."""
    return next((CALLBACK_STATE[klass.__name__] for klass in type(callback).__mro__
                 if klass.__name__ in CALLBACK_STATE), ())


def _seed_generators(model) -> list:
    """Every layer's random seed state (Dropout, random augmentation), in a fixed order."""
    return [generator for layer in model._flatten_layers(include_self=True)  # Keras has no public walk of these
            for generator in getattr(layer, "_seed_generators", [])]


def optimizers_of(model) -> list[tuple[Any, list]]:
    """Every optimizer the model owns, with the variables it updates: what the model's own
    `optimizer_variables()` returns (a model with several optimizers, each for its own part), else
    the compiled optimizer over every trainable variable."""
    own = getattr(model, "optimizer_variables", None)
    if callable(own):
        return list(own())
    return [(model.optimizer, model.trainable_variables)] if model.optimizer is not None else []


SNAPSHOT_FILES = ("weights.weights.h5", "arrays.npz")
RECORD_TYPES = {"phase": str, "epoch": int, "finished": bool, "snapshot": str, "history": dict}


def _record_problem(record: Any) -> str | None:
    """What is wrong with a latest.json record, or None. Its snapshot must name a folder directly
    in state/ (a path read from a run file never leads out of the run)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key, kind in RECORD_TYPES.items():
        value = record.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"'{key}' is missing or not {kind.__name__} ({str(value)[:40]!r})"
    if record["epoch"] < 0 or record["phase"] != "fit" and not re.fullmatch(r"fold-\d+|retrain", record["phase"]):
        return f"phase {record['phase']!r} at epoch {record['epoch']} is not a phase of a run"
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*", record["snapshot"]) or ".." in record["snapshot"]:
        return f"snapshot {record['snapshot'][:60]!r} is not a folder of this run's state/"
    return None


class TrainingState:
    def __init__(self, run: Run):
        self.run = run
        self.folder = run.file(layout.STATE)

    def latest(self) -> dict[str, Any] | None:
        """What latest.json says, or None when no epoch was completed yet. A damaged record, or one
        whose snapshot is not a folder of this run's state/, is a UsageError naming latest.json."""
        if not self.run.file(layout.STATE_LATEST).is_file():
            return None
        record = self.run.read_json(layout.STATE_LATEST)
        problem = _record_problem(record)
        if problem is None:
            snapshot = self.folder / record["snapshot"]
            missing = [name for name in SNAPSHOT_FILES if not (snapshot / name).is_file()]
            problem = f"its snapshot {record['snapshot']} lacks {', '.join(missing)}" if missing else None
        if problem:
            raise UsageError(f"{self.run.file(layout.STATE_LATEST)}: {problem}; the run cannot be resumed "
                             f"(its history and model.keras, if any, are intact)")
        return record

    def verify(self, record: dict[str, Any]) -> None:
        """Read the snapshot's files whole before the run is touched: damaged ones are a UsageError
        naming them, and the run stays as it was."""
        import h5py

        snapshot = self.folder / record["snapshot"]
        try:
            with h5py.File(snapshot / "weights.weights.h5", "r") as weights:
                weights.visit(lambda name: None)
        except (OSError, ValueError, RuntimeError) as error:
            raise UsageError(f"{snapshot / 'weights.weights.h5'}: unreadable ({' '.join(str(error).split())[:200]}); "
                             f"the run cannot be resumed") from None
        try:
            self._arrays(record)
        except (OSError, ValueError, EOFError, KeyError) as error:
            raise UsageError(f"{snapshot / 'arrays.npz'}: unreadable ({' '.join(str(error).split())[:200]}); "
                             f"the run cannot be resumed") from None

    def save(self, phase: str, epoch: int, model, callbacks: list, history: dict, finished: bool) -> None:
        name = Path(layout.STATE_SNAPSHOT.at(phase=phase, epoch=f"{epoch:04d}")).name
        staging = self.run.output(layout.STATE) / f".{name}.part"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            self._write(staging, model, callbacks)
        except BaseException:  # a full disk, a signal: the previous snapshot stays the latest
            shutil.rmtree(staging, ignore_errors=True)
            raise
        target = self.folder / name
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        self.run.write_json(layout.STATE_LATEST, {"phase": phase, "epoch": epoch, "finished": finished,
                                                  "snapshot": name, "history": history})
        for old in self.folder.iterdir():
            if old.is_dir() and old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    def _write(self, staging, model, callbacks: list) -> None:
        model.save_weights(staging / "weights.weights.h5")
        arrays: dict[str, np.ndarray] = {}
        for index, callback in enumerate(callbacks):
            for attribute in _state_attributes(callback):
                arrays[f"callback{index}.{attribute}"] = np.asarray(getattr(callback, attribute, np.nan), "float64")
            for number, weights in enumerate(getattr(callback, "best_weights", None) or []):
                arrays[f"callback{index}.best_weights.{number}"] = np.asarray(weights)
        for index, generator in enumerate(_seed_generators(model)):
            arrays[f"seed{index}"] = np.asarray(generator.state.numpy())
        np.savez(staging / "arrays.npz", **arrays)

    def _arrays(self, record: dict) -> dict[str, np.ndarray]:
        with np.load(self.folder / record["snapshot"] / "arrays.npz", allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}

    def restore_model(self, model, record: dict) -> None:
        """Weights, every optimizer's variables and seed states of the snapshot into a compiled model.
        Keras only warns when it skips what it cannot load (an optimizer built over other variables
        than it saved); here that refuses the resume (UsageError)."""
        for optimizer, variables in optimizers_of(model):
            optimizer.build(variables)  # so its variables exist to be loaded
        weights = self.folder / record["snapshot"] / "weights.weights.h5"
        with warnings.catch_warnings():
            warnings.filterwarnings("error", category=UserWarning, module=r"keras\.src\.saving")
            try:
                model.load_weights(weights)
            except (UserWarning, ValueError) as skipped:  # Keras gathers what it skipped into one ValueError
                raise UsageError(f"{weights}: not everything saved could be restored ({' '.join(str(skipped).split())[:200]}); "
                                 f"the run cannot be resumed exactly") from None
        arrays = self._arrays(record)
        for index, generator in enumerate(_seed_generators(model)):
            if f"seed{index}" in arrays:
                generator.state.assign(arrays[f"seed{index}"])

    def restore_callbacks(self, callbacks: list, record: dict) -> None:
        arrays = self._arrays(record)
        for index, callback in enumerate(callbacks):
            for attribute in _state_attributes(callback):
                value = arrays.get(f"callback{index}.{attribute}")
                if value is not None:
                    number = float(value)
                    setattr(callback, attribute, int(number) if attribute in ("wait", "stopped_epoch",
                                                                            "best_epoch", "cooldown_counter") else number)
            best = sorted((key for key in arrays if key.startswith(f"callback{index}.best_weights.")),
                          key=lambda key: int(key.rsplit(".", 1)[1]))
            if best:
                callback.best_weights = [arrays[key] for key in best]
