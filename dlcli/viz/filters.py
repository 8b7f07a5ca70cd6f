"""5.32-5.39: the input pattern each filter of a layer responds to most, by gradient ascent.

The book optimises one filter at a time (40 steps of step 1 from grey noise, gradients normalised
by their RMS). Here a whole grid is one batch: image i ascends the mean activation of filter i,
each with its own normalised gradient, so 64 filters cost about as much as a few. A filter whose
activation did not rise kept its starting noise (`Ascent.stalled`): its tile is marked on the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcli.errors import UsageError
from dlcli.terminal import progress
from dlcli.viz.layers import find, outputs_of


@dataclass
class Ascent:
    """What gradient ascent made of each filter's noise: its pattern, and the filter's mean
    activation on the noise it started from and on the pattern it ended with."""

    patterns: np.ndarray  # (filters, h, w, channels) uint8
    start: np.ndarray  # (filters,) float
    end: np.ndarray  # (filters,) float

    def stalled(self) -> list[int]:
        """Positions of the filters whose activation did not rise: their tiles are still the noise
        they started from (a filter that never fires on it gets no gradient, or no steps were run)."""
        return [int(i) for i in np.flatnonzero(~(self.end > self.start))]  # NaN counts as stalled


def filter_patterns(model, layer_name: str, filters: list[int], size: tuple[int, int],
                    steps: int = 40, step: float = 1.0, seed: int = 0, batch_size: int = 64) -> np.ndarray:
    """(len(filters), h, w, channels) uint8 patterns, optimised `batch_size` filters at a time."""
    return ascend_filters(model, layer_name, filters, size, steps, step, seed, batch_size).patterns


def ascend_filters(model, layer_name: str, filters: list[int], size: tuple[int, int],
                   steps: int = 40, step: float = 1.0, seed: int = 0, batch_size: int = 64) -> Ascent:
    """The patterns of `filter_patterns`, with each filter's activation before and after."""
    from dlcli.backend.gradients import compiled, value_and_gradient
    from dlcli.backend import import_keras

    ops = import_keras().ops
    outputs = outputs_of(model, [layer_name])
    channels = int(model.input_shape[-1])
    generator = np.random.default_rng(seed)

    def activations(images, chosen):  # (count,): each image's mean activation of its own filter
        activation = outputs(images)[0][layer_name]  # (count, h, w, filters)
        picked = ops.take_along_axis(activation, chosen, axis=-1)[..., 0]  # (count, h, w): its own filter each
        return ops.mean(picked, axis=(1, 2))

    @compiled
    def ascend(images, chosen):
        _, _, gradients = value_and_gradient(lambda images: (ops.sum(activations(images, chosen)), None), images)
        gradients /= ops.sqrt(ops.mean(ops.square(gradients), axis=(1, 2, 3), keepdims=True)) + 1e-5
        return images + gradients * step

    patterns, start, end = [], [], []
    batches = range(0, len(filters), batch_size)
    with progress(f"filter ascent, {len(filters)} filters", len(batches) * steps) as advance:
        for first in batches:
            picked = np.asarray(filters[first:first + batch_size], dtype="int32")
            chosen = ops.convert_to_tensor(picked.reshape(-1, 1, 1, 1))  # (count, 1, 1, 1), to index the last axis
            noise = generator.random((len(picked), *size, channels)).astype("float32")
            images = ops.convert_to_tensor(noise * 20 + 128)
            start.append(ops.convert_to_numpy(activations(images, chosen)))
            for _ in range(steps):
                images = ascend(images, chosen)
                advance(1)
            end.append(ops.convert_to_numpy(activations(images, chosen)))
            patterns.append(deprocess(np.asarray(ops.convert_to_numpy(images))))
    return Ascent(np.concatenate(patterns), np.concatenate(start).astype("float64"), np.concatenate(end).astype("float64"))


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


def filter_sheet(ascent: Ascent, filters: list[int], layer: str, model_label: str, steps: int,
                 step: float = 1.0) -> np.ndarray:
    """RGB uint8: the patterns in a square grid scaled up to a readable size, each numbered by its
    filter, the stalled ones framed in red and crossed, titled with the model and the layer, and with
    what to try for the stalled ones (the picture is also seen without the command's warning: in the
    run's HTML report)."""
    from dlcli.viz.labelled import tile_sheet

    patterns = ascent.patterns if ascent.patterns.shape[-1] == 3 else np.repeat(ascent.patterns, 3, axis=-1)
    columns = int(np.ceil(np.sqrt(len(filters))))
    stalled = {filters[position] for position in ascent.stalled()}
    why = "no ascent steps: give --steps" if steps == 0 else "activation did not rise: try another --seed or --layer"
    note = f"crossed: {len(stalled)} still noise ({why})" if stalled else "the input each filter responds to most"
    title = f"{model_label}, layer {layer}: filters {filters[0]}-{filters[-1]} after {steps} ascent steps of {step:g}"
    return tile_sheet(patterns, columns, title, filters, stalled, note=note)
