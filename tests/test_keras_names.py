"""The tables in dlcli/spec/keras_names.py are what the installed Keras gives (imports Keras)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.training


def _difference(current, expected) -> str:
    if isinstance(current, (set, frozenset)) and isinstance(expected, (set, frozenset)):
        return f"missing {sorted(expected - current)}, extra {sorted(current - expected)}"
    if isinstance(current, dict) and isinstance(expected, dict):
        keys = sorted(set(current) | set(expected))
        return "differ at " + ", ".join(k for k in keys if current.get(k) != expected.get(k))
    return f"{current!r} != {expected!r}"


def test_generated_tables_match_the_installed_keras():
    from dlcli.backend import import_keras
    from dlcli.spec import keras_names, keras_names_generator

    keras = import_keras()
    generated: dict = {}
    exec(compile(keras_names_generator.render(keras_names_generator.generate(keras)), "<regenerated>", "exec"), generated)
    names = ["LAYERS", "OPTIMIZERS", "LAYER_ARGUMENTS", "CALLBACK_ARGUMENTS", "ACTIVATIONS", "INITIALIZERS",
             "REGULARIZERS", "CONSTRAINTS", "PADDINGS", "POSITIVE_INTEGERS"]
    stale = [f"{name}: {_difference(getattr(keras_names, name), generated[name])}"
             for name in names if getattr(keras_names, name) != generated[name]]
    assert not stale, (f"dlcli/spec/keras_names.py does not match keras {keras.__version__}; "
                       f"run `python -m dlcli.spec.keras_names_generator` to regenerate it.\n" + "\n".join(stale))


def test_keras_name_lists_match_keras():
    import inspect

    from dlcli.backend import import_keras
    from dlcli.spec.keras_names import LAYERS, OPTIMIZERS

    keras = import_keras()
    layers = {n for n in dir(keras.layers) if inspect.isclass(getattr(keras.layers, n))
              and issubclass(getattr(keras.layers, n), keras.layers.Layer)}
    assert LAYERS <= layers
    optimizers = {n.lower() for n in dir(keras.optimizers) if inspect.isclass(getattr(keras.optimizers, n))
                  and issubclass(getattr(keras.optimizers, n), keras.optimizers.Optimizer)}
    assert OPTIMIZERS <= optimizers
