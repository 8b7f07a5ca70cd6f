"""dlcli's own Keras layers, registered so that a saved model.keras loads again."""

from __future__ import annotations

import functools
from pathlib import Path

from dlcli.keras_backend import import_keras


@functools.lru_cache(maxsize=None)
def custom_layers() -> dict[str, type]:
    keras = import_keras()

    @keras.saving.register_keras_serializable(package="dlcli")
    class LastValue(keras.layers.Layer):
        """The naive forecast (6.35): the last observed value of one feature of each window."""

        def __init__(self, index: int, **kwargs):
            super().__init__(**kwargs)
            self.index = index

        def call(self, windows):  # (batch, steps, features) -> (batch, 1)
            return windows[:, -1, self.index:self.index + 1]

        def get_config(self):
            return {**super().get_config(), "index": self.index}

    return {"LastValue": LastValue}


def load_model(path: str | Path, compile: bool = False):
    """keras.models.load_model with dlcli's layers known (compile=True to evaluate with its metrics)."""
    keras = import_keras()
    custom_layers()
    return keras.models.load_model(path, compile=compile)
