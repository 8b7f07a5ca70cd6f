"""`type: naive_last_value`: the common-sense baseline of 6.35, a model without training."""

from __future__ import annotations

import functools
from typing import Literal

from dlcli.errors import SpecError
from dlcli.backend import import_keras
from dlcli.models.kind import ModelKind, register_kind
from dlcli.spec.base import StrictModel


class NaiveLastValueModel(StrictModel):
    """The common-sense baseline of 6.35: forecast the target's last observed value (no training)."""

    type: Literal["naive_last_value"]


@functools.lru_cache(maxsize=None)
def baseline_layers() -> dict[str, type]:
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


def build_naive_last_value(model_spec, bundle):
    keras = import_keras()
    if "target_index" not in bundle.info:
        raise SpecError("model.type naive_last_value needs a series dataset (jena_climate, csv_series)")
    last_value = baseline_layers()["LastValue"](bundle.info["target_index"], name="last_value")
    return keras.Sequential([keras.Input(bundle.input_shape), last_value], name="naive_last_value")


register_kind("naive_last_value", ModelKind(NaiveLastValueModel, build_naive_last_value,
                                            custom_objects=baseline_layers))
