"""The Keras callback the benchmarks time epochs with, in dlcli runs and plain scripts alike.

dlcli loads it as a user's callback (`--set 'callbacks=[{Custom: {path: .../epoch_clock.py:EpochClock,
args: {path: OUT.json}}}]'`), the plain scripts pass it to `fit`, so both sides are timed by the
same code. It writes wall-clock times (time.time(), comparable across processes) to a JSON file
at each epoch's start and when training ends: `begins` (each epoch's start), `end` (training's
end; null while training), `steps` (per epoch) and, with `first_step=True`, `first_step` (the end
of the first training batch). A process stopped midway so still tells its completed epochs.

An epoch is measured from its start to the next epoch's start (the last one to training's end), so
it includes the work every callback does at its end (dlcli's history and resume state, the
validation pass), not only Keras' steps. `{process}` in the path becomes the JAX process index, so
the workers of one multi-process run each write their own file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras


def process_index() -> int:
    """This process's index in a multi-process JAX job (0 alone or on another backend)."""
    if keras.backend.backend() != "jax":
        return 0
    import jax

    return jax.process_index()


class EpochClock(keras.callbacks.Callback):
    def __init__(self, path: str, first_step: bool = False):
        super().__init__()
        self.path = path
        self.record = {"begins": [], "end": None, "steps": None, "first_step": None}
        if first_step:  # a batch hook turns off Keras' asynchronous callbacks, so only when asked
            self.on_train_batch_end = self._first_batch_end

    def on_train_begin(self, logs=None):
        self.record["steps"] = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self.record["begins"].append(time.time())
        self._write()

    def _first_batch_end(self, batch, logs=None):
        if self.record["first_step"] is None:
            self.record["first_step"] = time.time()

    def on_train_end(self, logs=None):
        self.record["end"] = time.time()
        self._write()

    def _write(self):
        path = Path(self.path.format(process=process_index()))
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.record))
        os.replace(partial, path)  # whole or absent, even when the process is killed
