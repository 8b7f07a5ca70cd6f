"""Finding layers and reading their outputs, inside nested models too (Sequential([VGG16, ...]))."""

from __future__ import annotations

import contextlib
from typing import Callable

from dlcli.backend import import_keras


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
    """A function (x, added=None) -> ({name: that layer's output}, the model's output), in
    inference mode. `added` maps layer names to tensors added to their outputs before the model
    goes on (zeros, to differentiate with respect to an inner layer's output on any backend); the
    outputs returned are the sums.

    A functional model gets a multi-output keras.Model; a Sequential is walked layer by layer, so
    layers inside a nested base work too."""
    keras = import_keras()
    if not isinstance(model, keras.Sequential):
        inner = keras.Model(model.inputs, [*(model.get_layer(name).output for name in names), model.output])

        def functional(x, added=None):
            with contextlib.ExitStack() as stack:
                for name, tensor in (added or {}).items():
                    stack.enter_context(_adding(model.get_layer(name), tensor))
                *found, output = inner(x, training=False)
            return dict(zip(names, found)), output

        return functional

    def forward(x, added=None):
        added, found = added or {}, {}
        for layer in model.layers:
            inside = [name for name in names
                      if isinstance(layer, keras.Model) and find(layer, name) is not None]
            if inside:
                nested, x = outputs_of(layer, inside)(x, {name: added[name] for name in inside if name in added})
                found.update(nested)
                continue
            x = layer(x, training=False)
            if layer.name in added:
                x = x + added[layer.name]
            if layer.name in names:
                found[layer.name] = x
        return found, x

    return forward


@contextlib.contextmanager
def _adding(layer, tensor):
    """The layer's output plus `tensor` while inside: Keras has no public hook into a functional
    graph's inner tensors, so the layer's own `call` is wrapped for the one forward pass."""
    original = layer.call
    layer.call = lambda *args, **kwargs: original(*args, **kwargs) + tensor
    try:
        yield
    finally:
        del layer.call  # the class's own method again
