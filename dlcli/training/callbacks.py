"""dlcli's own Keras callbacks (history, stop on signal, resume state) and the spec's callbacks
wired into the run directory."""

from __future__ import annotations

import csv
import functools
import io

from dlcli.keras_backend import import_keras
from dlcli.runs import Run


def _checkpoint(run: Run, arguments: dict) -> dict:
    run.file("checkpoints").mkdir(exist_ok=True)
    return {"save_best_only": True, **arguments, "filepath": str(run.file("checkpoints") / "best.keras")}


# How each spec callback is wired into the run: the arguments dlcli sets (spec.entries.CALLBACKS
# refuses them in a spec). CSVLogger is not a Keras callback here: history.csv is written by the
# HistoryRecorder, from completed epochs only, with the CSVLogger's separator.
WIRING = {
    "ModelCheckpoint": _checkpoint,
    "TensorBoard": lambda run, arguments: {**arguments, "log_dir": str(run.file("logs"))},
}


def spec_callbacks(spec, run: Run) -> list:
    """The Keras callbacks the spec names, writing into the run directory (checkpoints atomically)."""
    keras = import_keras()
    classes = {"ModelCheckpoint": atomic_checkpoint_class()}
    return [classes.get(entry.name, getattr(keras.callbacks, entry.name))(
                **WIRING.get(entry.name, lambda _, a: a)(run, dict(entry.arguments)))
            for entry in spec.callbacks if entry.name != "CSVLogger"]


@functools.lru_cache(maxsize=None)
def atomic_checkpoint_class():
    keras = import_keras()

    class ModelCheckpoint(keras.callbacks.ModelCheckpoint):
        """Keras' ModelCheckpoint, saving to a temporary file renamed over the checkpoint: a kill
        during a save never leaves a truncated best.keras, and the previous one survives."""

        def _save_model(self, epoch, batch, logs):
            import os
            from pathlib import Path

            final = Path(self._get_file_path(epoch, batch, logs))
            temporary = final.with_name(f".{final.stem}.part{os.getpid()}{final.suffix}")
            self.filepath, kept = str(temporary), self.filepath
            try:
                super()._save_model(epoch, batch, logs)
                if temporary.exists():  # saved this time (save_best_only saves only improvements)
                    os.replace(temporary, final)
            finally:
                self.filepath = kept
                temporary.unlink(missing_ok=True)

    return ModelCheckpoint


def history_csv(columns: dict[str, list], separator: str = ",") -> str:
    """history.csv as Keras' CSVLogger writes it (the contract since the first runs): 0-based
    `epoch`, then the metrics in sorted order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    keys = sorted(key for key in columns if key != "epoch")
    writer.writerow(["epoch", *keys])
    writer.writerows([epoch - 1, *row] for epoch, *row in zip(columns["epoch"], *(columns[key] for key in keys)))
    return buffer.getvalue()


def write_history(run: Run, name: str, columns: dict[str, list], separator: str = ",") -> None:
    """history.json and its .csv twin."""
    run.write_json(name, columns)
    run.write_text(name.replace(".json", ".csv"), history_csv(columns, separator))


@functools.lru_cache(maxsize=None)
def callback_classes():
    keras = import_keras()

    class HistoryRecorder(keras.callbacks.Callback):
        """Writes history.json and .csv after every completed epoch (1-based), so a crashed run keeps
        its curves. `columns` may hold the epochs of an earlier process (a resumed run)."""

        def __init__(self, run: Run, name: str, columns: dict[str, list] | None = None, separator: str = ","):
            super().__init__()
            self.run, self.name, self.separator = run, name, separator
            self.columns = {key: list(values) for key, values in (columns or {"epoch": []}).items()}

        def on_epoch_end(self, epoch, logs=None):
            self.columns["epoch"].append(epoch + 1)
            for key, value in (logs or {}).items():
                column = self.columns.setdefault(key, [None] * (len(self.columns["epoch"]) - 1))
                column.append(float(value))
            write_history(self.run, self.name, self.columns, self.separator)

    class StopOnRequest(keras.callbacks.Callback):
        """Ends training at the next batch's end after Ctrl-C or SIGTERM, before Keras can close
        the unfinished epoch as if it were complete."""

        def __init__(self, stop):
            super().__init__()
            self.stop = stop

        def on_train_batch_end(self, batch, logs=None):
            if self.stop:
                from dlcli.training.stopping import EpochInterrupted

                raise EpochInterrupted(self.stop.signal_name)

        on_test_batch_end = on_train_batch_end

    class StateKeeper(keras.callbacks.Callback):
        """Saves the resume state after every completed epoch, once every other callback has seen
        it; on a resumed fit, gives the spec's callbacks back the state they had."""

        def __init__(self, state, phase: str, callbacks: list, recorder, restore: dict | None):
            super().__init__()
            self.state, self.phase, self.callbacks, self.recorder = state, phase, callbacks, recorder
            self.restore = restore

        def on_train_begin(self, logs=None):  # after the callbacks' own on_train_begin resets
            if self.restore is not None:
                self.state.restore_callbacks(self.callbacks, self.restore)

        def on_epoch_end(self, epoch, logs=None):
            self.last_epoch = epoch + 1
            self.state.save(self.phase, epoch + 1, self.model, self.callbacks, self.recorder.columns,
                            finished=bool(self.model.stop_training))

        def on_train_end(self, logs=None):  # after EarlyStopping(restore_best_weights) put the best back
            if getattr(self, "last_epoch", None) is not None:
                self.state.save(self.phase, self.last_epoch, self.model, self.callbacks, self.recorder.columns,
                                finished=bool(self.model.stop_training))

    return HistoryRecorder, StopOnRequest, StateKeeper
