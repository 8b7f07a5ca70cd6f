"""`type: from_run`: train a previous run's model further (5.22 fine-tunes the model of 5.20)."""

from __future__ import annotations

from pathlib import Path

from dlcli.errors import DataUnavailable, SpecError
from dlcli.keras_backend import import_keras
from dlcli.rundir import RunDir, latest_completed_run


def resolve_run(reference: str) -> RunDir:
    """A run directory as given, else the latest completed run of the experiment so named."""
    path = Path(reference)
    if path.is_dir():
        return RunDir.open(path)
    run = latest_completed_run(reference)
    if run is None:
        raise DataUnavailable(f"model.run: no completed run of '{reference}' under runs/; train it first: "
                              f"dlcli train {reference}")
    return run


def model_from_run(model_spec):
    from dlcli.models.layers import load_model
    from dlcli.models.sequential import set_trainable

    keras = import_keras()
    run = resolve_run(model_spec.run)
    if not run.has("model.keras"):
        raise DataUnavailable(f"model.run: {run} has no model.keras")
    model = load_model(run.file("model.keras"))
    if model_spec.trainable_from is not None:
        nested = [layer for layer in model.layers if isinstance(layer, keras.Model)
                  and any(inner.name == model_spec.trainable_from for inner in layer.layers)]
        if not nested:
            raise SpecError(f"model.trainable_from: no pretrained network in {run} has a layer "
                            f"'{model_spec.trainable_from}'")
        set_trainable(nested[0], True, model_spec.trainable_from, "model")
    model.dlcli_source_run = str(run)
    return model
