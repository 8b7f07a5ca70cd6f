"""5.12: random variants of one image through a spec's augmentation layers (training mode)."""

from __future__ import annotations

import numpy as np

from dlcli.errors import SpecError
from dlcli.backend import import_keras

AUGMENTING = ("Random", "AugMix", "CutMix", "MixUp", "RandAugment")


def augmentation_layers(spec, seed: int) -> list:
    """The spec's augmentation layers (RandomFlip, RandomRotation, ...), built afresh after Keras'
    random seed is set to `seed`: each layer draws its own generator's seed when it is made, so
    layers made before the seed would give other variants on every call."""
    from dlcli.models.sequential import build_layer

    import_keras().utils.set_random_seed(seed)
    layers = []
    for index, entry in enumerate(getattr(spec.model, "layers", [])):
        if entry.name.startswith(AUGMENTING):
            layers.append(build_layer(entry, f"model.layers[{index}]"))
    if not layers:
        raise SpecError(f"experiment '{spec.name}' has no augmentation layers (RandomFlip, RandomRotation...)")
    return layers


def augmented_variants(image: np.ndarray, layers: list, count: int, seed: int) -> np.ndarray:
    """(h, w, c) float image -> (count, h, w, c): each row one random pass through the layers."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    batch = np.repeat(image[None].astype("float32"), count, axis=0)
    for layer in layers:
        batch = layer(batch, training=True)
    return np.asarray(keras.ops.convert_to_numpy(batch))


def augmentation_sheet(tiles: np.ndarray, layers: list, experiment: str, image_name: str, seed: int) -> np.ndarray:
    """RGB uint8: the original (first tile) and its variants, labelled, scaled up to a readable size,
    titled with the image, the experiment and its augmentation layers."""
    from dlcli.viz.labelled import tile_sheet

    tiles = np.repeat(tiles, 3, axis=-1) if tiles.shape[-1] == 1 else tiles
    count = len(tiles) - 1
    title = f"{image_name} and {count} variant{'s' if count > 1 else ''} through {experiment}'s augmentation (seed {seed})"
    names = ", ".join(type(layer).__name__ for layer in layers)
    return tile_sheet(tiles, min(len(tiles), 3 if count <= 5 else 5), title, ["original", *range(1, count + 1)],
                      note=names)
