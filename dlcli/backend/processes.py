"""What several processes of one job share, on JAX (the only backend with Keras' distribution API):
who this process is, a value sent from process 0 to all, a flag raised by any, and leaving the job.
Each call but `index_and_count` is a collective: every process must make it, in the same order."""

from __future__ import annotations

import numpy as np


def index_and_count() -> tuple[int, int]:
    """This process's index in the job and the number of processes."""
    import jax

    return jax.process_index(), jax.process_count()


def broadcast(values: np.ndarray) -> np.ndarray:
    """Process 0's `values` (same shape and dtype on every process), received by all."""
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.broadcast_one_to_all(values), dtype=values.dtype)


def gather(value: int) -> np.ndarray:
    """Every process's integer `value`, indexed by process."""
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(np.asarray(value, dtype=np.int32)))


def leave() -> None:
    """Leave the job: JAX's shutdown waits for every process, so process 0, which hosts the
    coordinator, does not end while the others still need it."""
    import jax

    jax.distributed.shutdown()
