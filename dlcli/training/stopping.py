"""Why training stops early: a signal (Ctrl-C, SIGTERM) or a loss that is no longer a number."""

from __future__ import annotations

import signal
from typing import Any

import numpy as np


class StopRequest:
    """Set by SIGINT/SIGTERM: training stops at the end of the current batch, and the unfinished
    epoch is dropped. A second Ctrl-C raises KeyboardInterrupt at once, for a user who cannot wait."""

    def __init__(self):
        self.signal_name: str | None = None
        self.closing = False  # True while the run is being closed: signals are noted, never raised
        self._previous: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum, frame):
        if self.signal_name is not None and signum == signal.SIGINT and not self.closing:
            raise KeyboardInterrupt
        self.signal_name = self.signal_name or signal.Signals(signum).name

    def __enter__(self) -> "StopRequest":
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class EpochInterrupted(Exception):
    """Raised from a batch's end when a stop was requested: Keras then never ends the epoch, so
    no callback, history or checkpoint sees a partial epoch as a completed one."""


class Diverged(Exception):
    """The training loss became NaN or infinite: the model is useless, the run has failed."""


def check_finite(history: dict[str, list], what: str = "training") -> None:
    losses = history.get("loss") or []
    bad = next((i for i, value in enumerate(losses) if value is None or not np.isfinite(value)), None)
    if bad is not None:
        from dlcli.runs.advice import DIVERGED  # how run.json's error is known for a diverged run

        raise Diverged(
            f"{what} {DIVERGED} from epoch {history['epoch'][bad]} on; "
            "lower compile.optimizer.learning_rate, or check the data for NaN"
        )
