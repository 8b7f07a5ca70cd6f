"""Loading a saved model with every model kind's own classes known."""

from __future__ import annotations

from pathlib import Path

from dlcli.backend import import_keras


def load_model(path: str | Path, compile: bool = False):
    """keras.models.load_model with dlcli's classes known (compile=True to evaluate with its metrics).

    A file that is not a readable Keras model is DataUnavailable (exit 3) naming it, wherever it is
    loaded (evaluate, predict, visualize, from_run); a path that names no file is a usage error (exit 2)."""
    from dlcli.errors import DataUnavailable, UsageError
    from dlcli.models.kind import custom_objects  # importing dlcli.models registered every kind

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such model file")
    try:
        return import_keras().models.load_model(path, custom_objects=custom_objects(), compile=compile)
    except Exception as error:  # a truncated zip, another format, a foreign layer: all the same to the user
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise DataUnavailable(f"{path}: not a readable Keras model ({reason}); it is damaged or from "
                              "another program") from None
