"""Model builders by spec `type`. Each takes the validated model spec and the data bundle."""

from __future__ import annotations

from dlcli.registry import Registry

MODELS = Registry("model type")


@MODELS.register("sequential")
def _sequential(model_spec, bundle):
    from dlcli.models.sequential import build_sequential

    return build_sequential(model_spec, bundle)


@MODELS.register("from_run")
def _from_run(model_spec, bundle):
    from dlcli.models.continued import model_from_run

    return model_from_run(model_spec)


@MODELS.register("naive_last_value")
def _naive_last_value(model_spec, bundle):
    from dlcli.errors import SpecError
    from dlcli.keras_backend import import_keras
    from dlcli.models.layers import custom_layers

    keras = import_keras()
    if "target_index" not in bundle.info:
        raise SpecError("model.type naive_last_value needs a series dataset (jena_climate, csv_series)")
    last_value = custom_layers()["LastValue"](bundle.info["target_index"], name="last_value")
    return keras.Sequential([keras.Input(bundle.input_shape), last_value], name="naive_last_value")


def build_model(spec, bundle):
    """A fresh, uncompiled Keras model for the spec's `model` section."""
    return MODELS.get(spec.model.type)(spec.model, bundle)
