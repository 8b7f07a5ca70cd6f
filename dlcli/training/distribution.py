"""More than one process: which cluster a worker joins, Keras' distribution API, and what keeps
the workers in step.

Data-parallel training runs on Keras' distribution API on JAX: every process calls
`keras.distribution.initialize` (JAX's coordinator at process 0's address), then
`set_distribution(DataParallel(auto_shard_dataset=False))`, and feeds its own rows of every global
batch (`Stream.shard_batches`); Keras assembles the global batch from the processes' parts
(`jax.make_array_from_process_local_data`), so every process holds the same weights after every
step. TensorFlow's MultiWorkerMirroredStrategy does not work with Keras 3's `fit`
(keras-team/keras#20585) and torch has no distribution API: JAX only.

What must stay equal across processes, or they wait for each other forever: the number of steps
(whole global batches only), the decision to stop (`AgreedStop`, a collective at every batch's
end) and every callback's decision (EarlyStopping sees the same validation loss everywhere).
Validation and test metrics come from a `LocalTwin`, a copy of the model outside the distribution
that each process evaluates on the whole split exactly as one process does: every sample counted
once, the partial last batch included (Keras' `predict` fails across processes, and padding a
batch with weight-0 rows would count them in the unweighted metrics).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcli.errors import UsageError

PATH_BYTES = 4096  # the longest run directory path sent from process 0 to the others (Linux's PATH_MAX)
# Keras' own variables for `keras.distribution.initialize`, read when no option is given.
KERAS_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                   "KERAS_DISTRIBUTION_PROCESS_ID")


@dataclass(frozen=True)
class Cluster:
    """The job a worker joins; None fields are left to Keras' variables or JAX's detection (SLURM...)."""

    coordinator: str | None = None  # HOST:PORT of process 0
    num_processes: int | None = None
    process_id: int | None = None


@dataclass(frozen=True)
class Worker:
    """This process in the job it joined."""

    index: int
    count: int
    coordinator: str | None

    @property
    def is_chief(self) -> bool:
        """Process 0 writes the run directory; the others write nothing."""
        return self.index == 0

    def run_path(self, path: Path | None = None) -> Path:
        """Process 0's run directory (`path`, given there), sent to every process: the others read
        its resume state when the run stops, as process 0 does (a collective: all must call it)."""
        import numpy as np

        from dlcli.backend.processes import broadcast

        encoded = np.zeros(PATH_BYTES, dtype=np.uint8)
        if self.is_chief:
            text = str(Path(path).resolve()).encode()
            if len(text) > PATH_BYTES:
                raise UsageError(f"{path}: a path of more than {PATH_BYTES} bytes cannot be sent to the workers")
            encoded[:len(text)] = np.frombuffer(text, dtype=np.uint8)
        received = broadcast(encoded)
        return Path(received.tobytes().rstrip(b"\0").decode())

    def describe(self, spec, bundle) -> dict[str, Any]:
        """run.json's `workers`: who trains on which batches, and what each pass leaves out (said on
        stderr too). A training set smaller than one global batch is a UsageError."""
        from dlcli.training.data import validation_split

        validation = spec.fit.validation
        train = bundle.train if validation.kind == "kfold" else validation_split(bundle, validation)[0]
        count = len(train) - (len(train) // validation.k if validation.kind == "kfold" else 0)  # a fold's training part
        batch_size = spec.fit.batch_size
        if count < batch_size:
            raise UsageError(f"fit.batch_size: {batch_size} (the global batch) is more than the {count} training "
                             f"samples; several workers train on whole global batches only")
        described = {"processes": self.count, "coordinator": self.coordinator, "global_batch": batch_size,
                     "per_worker_batch": batch_size // self.count,
                     "dropped_per_pass": count % batch_size,  # the partial last batch of every pass
                     "steps_per_epoch": spec.fit.steps_per_epoch or count // batch_size}
        if spec.fit.retrain:  # the retraining on the whole training set, in its own global batches
            retrain_batch = spec.fit.retrain.batch_size or batch_size
            described["retrain_dropped_per_pass"] = len(bundle.train) % retrain_batch
        print(f"workers: {self.count} processes, global batch {batch_size} ({batch_size // self.count} each); "
              f"{count % batch_size} of {count} training samples do not fill a global batch and are left out "
              f"of every pass", file=sys.stderr)
        return described


def cluster_from(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None,
                 environ=os.environ) -> Cluster | None:
    """The cluster the options name; else Keras' KERAS_DISTRIBUTION_* variables; else a SLURM step
    of several tasks (`srun`), which JAX's cluster detection reads; else None: one process."""
    given = (coordinator, num_processes, process_id)
    if any(value is not None for value in given):
        if any(value is None for value in given):
            raise UsageError("--coordinator, --num-processes and --process-id go together: give all three "
                             "(the same coordinator and count on every machine, a process id 0..N-1 on each)")
        if not 0 <= process_id < num_processes:
            raise UsageError(f"--process-id {process_id}: must be between 0 and {num_processes - 1} "
                             f"(--num-processes {num_processes})")
        return Cluster(coordinator, num_processes, process_id)
    if any(name in environ for name in KERAS_VARIABLES):
        return Cluster()  # keras.distribution.initialize reads them
    if int(environ.get("SLURM_STEP_NUM_TASKS", "1") or 1) > 1:
        return Cluster()  # JAX's own detection (jax._src.clusters) reads SLURM's variables
    return None


def check_backend() -> None:
    """Several processes need JAX: chosen here when no backend was asked for (--backend,
    KERAS_BACKEND); another backend asked for is exit 2, with the reason."""
    from dlcli import backend

    asked = backend.asked()
    if asked is None and "keras" not in sys.modules:
        backend.choose("jax")
    elif backend.wanted() != "jax":
        raise UsageError(f"more than one process needs the JAX backend, not {backend.wanted()}: TensorFlow's "
                         "multi-worker strategy does not work with Keras 3's fit (keras-team/keras#20585) and "
                         "torch has no distribution API; use --backend jax")


def check_batches(spec, count: int) -> None:
    """The spec's batches are global batches: each of `count` processes takes an equal part."""
    retrain = spec.fit.retrain.batch_size if spec.fit.retrain and spec.fit.retrain.batch_size else None
    for where, batch_size in (("fit.batch_size", spec.fit.batch_size), ("fit.retrain.batch_size", retrain)):
        if batch_size is not None:
            check_batch(batch_size, count, where)


def check_batch(batch_size: int, count: int, where: str = "fit.batch_size") -> None:
    """One global batch: each of `count` processes takes an equal part."""
    if batch_size % count:
        raise UsageError(f"{where}: {batch_size} (the global batch) does not divide among {count} workers; "
                         f"choose a multiple of {count}, e.g. --set {where}={max(count, batch_size // count * count)}")


def join(cluster: Cluster, spec) -> Worker:
    """Initialise Keras' distribution on JAX and make it data-parallel over every process's devices.
    Must come before any JAX computation (seeding included). The spec's global batches must divide
    among the processes (else a UsageError, before this process waits for the others)."""
    from dlcli.backend import import_keras, make_deterministic, silenced

    check_backend()
    if cluster.num_processes is not None:
        check_batches(spec, cluster.num_processes)
    keras = import_keras()
    if spec.deterministic:  # before JAX starts its devices, which initialize does (XLA reads its GPU flag then)
        make_deterministic()
    with silenced(1):  # Gloo says on stdout that it connected: --json keeps stdout for its document
        keras.distribution.initialize(job_addresses=cluster.coordinator, num_processes=cluster.num_processes,
                                      process_id=cluster.process_id)
    keras.distribution.set_distribution(keras.distribution.DataParallel(
        devices=keras.distribution.list_devices(), auto_shard_dataset=False))  # each process feeds its own rows
    from dlcli.backend.processes import index_and_count

    coordinator = cluster.coordinator or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")  # None: found by JAX
    worker = Worker(*index_and_count(), coordinator)
    check_batches(spec, worker.count)  # a count found by JAX (SLURM)
    return worker


def leave() -> None:
    """Leave the job once its run is closed (dlcli.backend.processes.leave)."""
    from dlcli.backend.processes import leave as leave_job

    leave_job()


@contextlib.contextmanager
def no_distribution():
    """Keras as one process: variables made and computations run on this process's devices only."""
    from dlcli.backend import import_keras

    keras = import_keras()
    saved = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(saved)


class LocalTwin:
    """A copy of the distributed model outside the distribution, which each process evaluates alone
    on a whole split, exactly as one process does: `build()` makes an identical compiled model."""

    def __init__(self, build):
        self._build, self._model = build, None

    def of(self, model):
        """The twin, holding `model`'s current weights."""
        with no_distribution():
            if self._model is None:
                self._model = self._build()
            self._model.set_weights(model.get_weights())
        return self._model

    @contextlib.contextmanager
    def evaluating(self, model):
        """The twin with `model`'s weights, Keras outside the distribution meanwhile."""
        twin = self.of(model)
        with no_distribution():
            yield twin


class AgreedStop:
    """A StopRequest that every process sees at the same batch: true when any process was signalled
    (a collective, so every process must ask it equally often: at every batch's end)."""

    def __init__(self, stop):
        self.stop = stop

    def __bool__(self) -> bool:
        import numpy as np

        from dlcli.backend.processes import gather

        own = signal.Signals[self.stop.signal_name].value if self.stop else 0
        received = gather(own)  # each process's signal, or 0
        if np.any(received) and not self.stop:
            self.stop.signal_name = signal.Signals(int(np.max(received))).name  # another process's: stop here too
        return bool(np.any(received))

    def __getattr__(self, name: str):
        return getattr(self.stop, name)


def twin_validation_class():
    """A Keras callback, first in the list, that puts the validation metrics into each epoch's logs
    from the twin, so every later callback (EarlyStopping, the history) reads the numbers one process
    would."""
    from dlcli.backend import import_keras

    keras = import_keras()

    class TwinValidation(keras.callbacks.Callback):
        def __init__(self, twin: LocalTwin, validation, batch_size: int, callbacks=()):
            super().__init__()
            self.twin, self.validation, self.batch_size, self.callbacks = twin, validation, batch_size, callbacks

        def on_epoch_end(self, epoch, logs=None):
            from dlcli.training.data import evaluate_split

            with self.twin.evaluating(self.model) as twin:
                scores = evaluate_split(twin, self.validation, self.batch_size, "val_", callbacks=self.callbacks)
            if logs is not None:
                logs.update(scores)

    return TwinValidation
