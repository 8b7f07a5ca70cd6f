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


def build_model(spec, bundle):
    """A fresh, uncompiled Keras model for the spec's `model` section."""
    return MODELS.get(spec.model.type)(spec.model, bundle)
