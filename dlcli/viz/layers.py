"""Finding layers and reading their outputs, inside nested models too (Sequential([VGG16, ...]))."""

from __future__ import annotations

from typing import Callable

from dlcli.keras_backend import import_keras


def walk(model):
    """Every layer, depth first, a nested model's layers in place of the model."""
    keras = import_keras()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from walk(layer)
        else:
            yield layer


def find(model, name: str):
    """The layer called `name`, at any depth, else None."""
    return next((layer for layer in walk(model) if layer.name == name), None)


def is_conv(layer) -> bool:
    keras = import_keras()
    return isinstance(layer, keras.layers.Conv2D) or (
        "conv" in type(layer).__name__.lower() and len(layer.output.shape) == 4)


def is_feature_map(layer) -> bool:
    """A convolution or (non-global) pooling layer with an (h, w, channels) output."""
    kind = type(layer).__name__
    return ("Conv" in kind or "Pooling" in kind) and "Global" not in kind and len(layer.output.shape) == 4


def outputs_of(model, names: list[str]) -> Callable:
    """A function x -> ({name: that layer's output}, the model's output), in inference mode.

    A functional model gets a multi-output keras.Model; a Sequential is walked layer by layer, so
    layers inside a nested base work too."""
    keras = import_keras()
    if not isinstance(model, keras.Sequential):
        inner = keras.Model(model.inputs, [*(model.get_layer(name).output for name in names), model.output])

        def functional(x):
            *found, output = inner(x, training=False)
            return dict(zip(names, found)), output

        return functional

    def forward(x):
        found = {}
        for layer in model.layers:
            inside = [name for name in names
                      if isinstance(layer, keras.Model) and find(layer, name) is not None]
            if inside:
                nested, x = outputs_of(layer, inside)(x)
                found.update(nested)
                continue
            x = layer(x, training=False)
            if layer.name in names:
                found[layer.name] = x
        return found, x

    return forward
