"""Loading a saved model with every model kind's own classes known."""

from __future__ import annotations

from pathlib import Path

from dlcli.keras_backend import import_keras


def load_model(path: str | Path, compile: bool = False):
    """keras.models.load_model with dlcli's classes known (compile=True to evaluate with its metrics)."""
    from dlcli.models.kind import custom_objects  # importing dlcli.models registered every kind

    return import_keras().models.load_model(path, custom_objects=custom_objects(), compile=compile)
