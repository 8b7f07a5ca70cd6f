"""5.32-5.39: the input pattern each filter of a layer responds to most, by gradient ascent.

The book optimises one filter at a time (40 steps of step 1 from grey noise, gradients normalised
by their RMS). Here a whole grid is one batch: image i ascends the mean activation of filter i,
each with its own normalised gradient, so 64 filters cost about as much as a few.
"""

from __future__ import annotations

import numpy as np

from dlcli.errors import UsageError
from dlcli.viz.layers import find, outputs_of


def filter_patterns(model, layer_name: str, filters: list[int], size: tuple[int, int],
                    steps: int = 40, step: float = 1.0, seed: int = 0, batch_size: int = 64) -> np.ndarray:
    """(len(filters), h, w, channels) uint8 patterns, optimised `batch_size` filters at a time."""
    from dlcli.backend.gradients import compiled, value_and_gradient
    from dlcli.backend import import_keras

    ops = import_keras().ops
    outputs = outputs_of(model, [layer_name])
    channels = int(model.input_shape[-1])
    generator = np.random.default_rng(seed)

    @compiled
    def ascend(images, chosen):
        def loss_of(images):
            activation = outputs(images)[0][layer_name]  # (count, h, w, filters)
            picked = ops.take_along_axis(activation, chosen, axis=-1)[..., 0]  # (count, h, w): its own filter each
            return ops.sum(ops.mean(picked, axis=(1, 2))), None

        _, _, gradients = value_and_gradient(loss_of, images)
        gradients /= ops.sqrt(ops.mean(ops.square(gradients), axis=(1, 2, 3), keepdims=True)) + 1e-5
        return images + gradients * step

    patterns = []
    for start in range(0, len(filters), batch_size):
        picked = np.asarray(filters[start:start + batch_size], dtype="int32")
        chosen = ops.convert_to_tensor(picked.reshape(-1, 1, 1, 1))  # (count, 1, 1, 1), to index the last axis
        images = ops.convert_to_tensor(generator.random((len(picked), *size, channels)).astype("float32") * 20 + 128)
        for _ in range(steps):
            images = ascend(images, chosen)
        patterns.append(deprocess(np.asarray(ops.convert_to_numpy(images))))
    return np.concatenate(patterns)


def deprocess(images: np.ndarray) -> np.ndarray:
    """The book's deprocess_image per image: centre, std to 0.1, shift to 0.5, clip, to uint8."""
    images = images - images.mean(axis=(1, 2, 3), keepdims=True)
    images /= images.std(axis=(1, 2, 3), keepdims=True) + 1e-5
    images = np.clip(images * 0.1 + 0.5, 0, 1)
    return (images * 255).astype("uint8")


def check_filters(model, layer_name: str, count: int) -> list[int]:
    """The indices of the first `count` filters of the layer (all of them if it has fewer)."""
    from dlcli.viz.gradcam import conv_layers

    layer = find(model, layer_name)
    if layer is None:
        raise UsageError(f"--layer {layer_name}: no such layer (convolution layers: "
                         f"{', '.join(conv_layers(model)) or 'none'})")
    if len(layer.output.shape) != 4:
        raise UsageError(f"--layer {layer_name}: filter patterns need a layer with (h, w, channels) output")
    if count < 1:
        raise UsageError("--filters must be at least 1")
    return list(range(min(count, int(layer.output.shape[-1]))))
