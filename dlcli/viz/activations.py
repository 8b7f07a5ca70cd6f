"""5.25-5.31: what each convolution and pooling layer outputs for one image, channel by channel."""

from __future__ import annotations

import numpy as np

from dlcli.errors import UsageError
from dlcli.viz.layers import is_feature_map, outputs_of, walk

IMAGES_PER_ROW = 16  # the book's


def feature_map_layers(model) -> list[str]:
    """Convolution and pooling layers with 2-D feature maps, in order, inside nested models too."""
    return [layer.name for layer in walk(model) if is_feature_map(layer)]


def activation_tiles(model, batch: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """{layer name: uint8 (channels, h, w)}: each channel standardised, *64 + 128, clipped (5.31)."""
    available = feature_map_layers(model)
    names = names or available
    unknown = [name for name in names if name not in available]
    if unknown:
        raise UsageError(f"--layers {', '.join(unknown)}: not a convolution or pooling layer of the model "
                         f"(choices: {', '.join(available) or 'none'})")
    outputs, _ = outputs_of(model, names)(batch)
    tiles = {}
    for name in names:
        maps = np.asarray(outputs[name])[0]  # (h, w, channels)
        channels = np.moveaxis(maps, -1, 0).astype("float64")  # (channels, h, w)
        channels -= channels.mean(axis=(1, 2), keepdims=True)
        channels /= channels.std(axis=(1, 2), keepdims=True) + 1e-5  # the book divides by std alone
        tiles[name] = np.clip(channels * 64 + 128, 0, 255).astype("uint8")
    return tiles


def activation_sheet(tiles: np.ndarray, layer: str, position: int, image_name: str) -> np.ndarray:
    """RGB uint8: a layer's channels in viridis, 16 a row, scaled up to a readable size, each
    numbered, titled with the layer, its place in the model and the image."""
    from matplotlib import colormaps

    from dlcli.viz.labelled import tile_sheet

    count, height, width = tiles.shape
    coloured = (colormaps["viridis"](tiles)[..., :3] * 255).astype("uint8")  # (channels, h, w, 3)
    title = (f"{layer} (feature-map layer {position}) for {image_name}: {count} channel{'s' if count > 1 else ''}"
             f" of {width}x{height}")  # width x height, as every picture's size is said
    blank = blank_channels(tiles)
    note = ("each channel standardised on its own: yellow is where it responds most" if not blank else
            f"blank: {', '.join(map(str, blank[:6]))}{'...' if len(blank) > 6 else ''} (one value everywhere: what "
            "they detect is not in this image); yellow: strongest response")
    return tile_sheet(coloured, min(IMAGES_PER_ROW, count), title, list(range(count)), note=note)


def blank_channels(tiles: np.ndarray) -> list[int]:
    """The channels whose output is one value everywhere (the book's blank filters, 5.31)."""
    return [int(i) for i in np.flatnonzero((tiles == tiles[:, :1, :1]).all(axis=(1, 2)))]
