"""5.25-5.31: what each convolution and pooling layer outputs for one image, channel by channel."""

from __future__ import annotations

import numpy as np

from dlcli.errors import UsageError
from dlcli.keras_backend import import_keras
from dlcli.viz.images import grid

MAPS = ("Conv", "Pooling")  # layer class names whose (h, w, channels) outputs are feature maps


def feature_map_layers(model) -> list[str]:
    """Convolution and pooling layers with 2-D feature maps, in order, inside nested models too."""
    keras = import_keras()
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += feature_map_layers(layer)
        elif any(part in type(layer).__name__ for part in MAPS) and "Global" not in type(layer).__name__ \
                and len(layer.output.shape) == 4:
            names.append(layer.name)
    return names


def layer_outputs(model, names: list[str]):
    """A function x -> {name: output} for the named layers (inference mode), nested models included."""
    keras = import_keras()
    if not isinstance(model, keras.Sequential):
        inner = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
        return lambda x: dict(zip(names, _as_list(inner(x, training=False))))

    def forward(x):
        found = {}
        for layer in model.layers:
            inside = [name for name in names if isinstance(layer, keras.Model) and _has(layer, name)]
            if inside:
                found.update(layer_outputs(layer, inside)(x))
            x = layer(x, training=False)
            if layer.name in names:
                found[layer.name] = x
        return found

    return forward


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


def _has(model, name: str) -> bool:
    keras = import_keras()
    return any(layer.name == name or (isinstance(layer, keras.Model) and _has(layer, name))
               for layer in model.layers)


def activation_grids(model, batch: np.ndarray, names: list[str] | None = None,
                     images_per_row: int = 16) -> dict[str, np.ndarray]:
    """{layer name: uint8 grid (rows*h, 16*w)}: each channel standardised, *64 + 128, clipped (5.31)."""
    available = feature_map_layers(model)
    names = names or available
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UsageError(f"--layers {', '.join(unknown)}: not a convolution or pooling layer of the model "
                         f"(choices: {', '.join(available) or 'none'})")
    outputs = layer_outputs(model, names)(batch)
    grids = {}
    for name in names:
        maps = np.asarray(outputs[name])[0]  # (h, w, channels)
        channels = np.moveaxis(maps, -1, 0).astype("float64")  # (channels, h, w)
        channels -= channels.mean(axis=(1, 2), keepdims=True)
        channels /= channels.std(axis=(1, 2), keepdims=True) + 1e-5  # the book divides by std alone
        tiles = np.clip(channels * 64 + 128, 0, 255).astype("uint8")
        grids[name] = grid(tiles, min(images_per_row, len(tiles)), margin=1, fill=0)
    return grids
