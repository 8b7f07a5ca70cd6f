"""5.25-5.31: what each convolution and pooling layer outputs for one image, channel by channel."""

from __future__ import annotations

import numpy as np

from dlcli.errors import UsageError
from dlcli.viz.images import grid
from dlcli.viz.layers import is_feature_map, outputs_of, walk

def feature_map_layers(model) -> list[str]:
    """Convolution and pooling layers with 2-D feature maps, in order, inside nested models too."""
    return [layer.name for layer in walk(model) if is_feature_map(layer)]


def activation_grids(model, batch: np.ndarray, names: list[str] | None = None,
                     images_per_row: int = 16) -> dict[str, np.ndarray]:
    """{layer name: uint8 grid (rows*h, 16*w)}: each channel standardised, *64 + 128, clipped (5.31)."""
    available = feature_map_layers(model)
    names = names or available
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UsageError(f"--layers {', '.join(unknown)}: not a convolution or pooling layer of the model "
                         f"(choices: {', '.join(available) or 'none'})")
    outputs, _ = outputs_of(model, names)(batch)
    grids = {}
    for name in names:
        maps = np.asarray(outputs[name])[0]  # (h, w, channels)
        channels = np.moveaxis(maps, -1, 0).astype("float64")  # (channels, h, w)
        channels -= channels.mean(axis=(1, 2), keepdims=True)
        channels /= channels.std(axis=(1, 2), keepdims=True) + 1e-5  # the book divides by std alone
        tiles = np.clip(channels * 64 + 128, 0, 255).astype("uint8")
        grids[name] = grid(tiles, min(images_per_row, len(tiles)), margin=1, fill=0)
    return grids
