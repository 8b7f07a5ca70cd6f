"""`type: from_run`: train a previous run's model further (5.22 fine-tunes the model of 5.20)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from dlcli.errors import DataUnavailable, SpecError
from dlcli.backend import import_keras
from dlcli.models.kind import ModelKind, register_kind
from dlcli.spec.base import StrictModel


class FromRunModel(StrictModel):
    """A previous run's trained model, to train further (5.22: fine-tuning after 5.20)."""

    type: Literal["from_run"]
    run: str = Field(description="an experiment name (its latest completed run) or a run directory")
    trainable_from: str | None = Field(
        None, description="unfreeze this layer of the nested pretrained network and the ones after it"
    )


def model_from_run(model_spec, bundle):
    """The run's model.keras. `model_spec.run` is a run directory here: an experiment name is
    resolved to its latest completed run once, when the run starts (training.lifecycle.pinned)."""
    from dlcli.models.saving import load_model
    from dlcli.models.sequential import set_trainable

    from dlcli.runs.layout import MODEL

    keras = import_keras()
    run = Path(model_spec.run)
    if not (run / MODEL.name).is_file():
        raise DataUnavailable(f"model.run: {run} has no {MODEL}")
    model = load_model(run / MODEL.name)
    if model_spec.trainable_from is not None:
        nested = [layer for layer in model.layers if isinstance(layer, keras.Model)
                  and any(inner.name == model_spec.trainable_from for inner in layer.layers)]
        if not nested:
            raise SpecError(f"model.trainable_from: no pretrained network in {run} has a layer "
                            f"'{model_spec.trainable_from}'")
        set_trainable(nested[0], True, model_spec.trainable_from, "model")
    return model


register_kind("from_run", ModelKind(FromRunModel, model_from_run))
