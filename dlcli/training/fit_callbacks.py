"""dlcli's own callbacks that every fit ends with: the HistoryRecorder (history.json and .csv of
completed epochs), StopOnRequest (a stop at the next batch's end) and the StateKeeper (the
resume state); training.trainer adds them after the spec's (training.callbacks)."""

from __future__ import annotations

import csv
import functools
import io

from dlcli.backend import import_keras
from dlcli.runs import Run


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
            if self.run.writes:  # a worker other than process 0 keeps its columns and writes nothing
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
            self.writes = state.run.writes  # a worker other than process 0 restores, never saves

        def on_train_begin(self, logs=None):  # after the callbacks' own on_train_begin resets
            if self.restore is not None:
                self.state.restore_callbacks(self.callbacks, self.restore)

        def on_epoch_end(self, epoch, logs=None):
            self.last_epoch = epoch + 1
            if self.writes:
                self._save(epoch + 1)

        def on_train_end(self, logs=None):  # after EarlyStopping(restore_best_weights) put the best back
            if getattr(self, "last_epoch", None) is not None and self.writes:
                self._save(self.last_epoch)

        def _save(self, epoch: int) -> None:
            from dlcli.training.distribution import no_distribution

            with no_distribution():  # process 0 alone saves a model of several processes
                self.state.save(self.phase, epoch, self.model, self.callbacks, self.recorder.columns,
                                finished=bool(self.model.stop_training))

    return HistoryRecorder, StopOnRequest, StateKeeper
