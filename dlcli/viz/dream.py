"""DeepDream (8.8-8.13): gradient ascent on a photo to amplify what chosen layers see, octave by octave.

The book's recipe, on any backend: the loss is the sum over layers of coefficient * the sum of the
squared activation without its 2-pixel border, divided by the activation's size; each step adds
`step` times the gradient divided by its mean absolute value; the photo is processed at `octaves`
sizes, each `octave_scale` times the one before, from the smallest up to the photo's own size, and
after each octave the detail that shrinking lost is put back; every resizing is 8.13's resize_img
(scipy.ndimage.zoom of order 1). An octave stops early when its loss passes `max_loss` (that step
is not taken). The step is compiled at most once per octave size:
JAX compiles each size; TensorFlow (reduce_retracing) traces it twice, for the first size and then
for any size; torch runs it eagerly.

Images here are (h, w, 3) float32 arrays in InceptionV3's preprocessed range [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dlcli.errors import UsageError

DEFAULT_LAYERS = {"mixed2": 0.2, "mixed3": 3.0, "mixed4": 2.0, "mixed5": 1.5}  # 8.9
BORDER = 2  # pixels of each activation's border the loss leaves out (8.10: activation[:, 2:-2, 2:-2, :])


@dataclass
class Octave:
    shape: tuple[int, int]  # (height, width)
    image: np.ndarray  # (h, w, 3) preprocessed, after the ascent and the re-injected detail
    losses: list[float] = field(default_factory=list)  # the loss before each step taken
    stopped_at: float | None = None  # the loss over max_loss that ended the octave early, if one did


def parse_layers(text: str) -> dict[str, float]:
    """`mixed2=0.2,mixed3=3` -> {'mixed2': 0.2, 'mixed3': 3.0}."""
    layers: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        name, equals, value = item.partition("=")
        try:
            coefficient = float(value)
        except ValueError:
            coefficient = None
        if not equals or not name.strip() or coefficient is None or not np.isfinite(coefficient):
            raise UsageError(f"--layers {text}: '{item}' is not LAYER=COEFFICIENT (e.g. mixed2=0.2,mixed3=3)")
        layers[name.strip()] = coefficient
    return layers


def octave_shapes(shape: tuple[int, int], octaves: int, octave_scale: float) -> list[tuple[int, int]]:
    """The sizes the photo is processed at, smallest first, the last one its own (8.12)."""
    return [tuple(int(dim / octave_scale ** i) for dim in shape) for i in range(octaves - 1, -1, -1)]


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """8.13's resize_img: (h, w, 3) -> shape, bilinear with the corner pixels kept in place
    (scipy.ndimage.zoom of order 1), so the dream and the detail put back are the book's."""
    from scipy.ndimage import zoom

    return zoom(image, (shape[0] / image.shape[0], shape[1] / image.shape[1], 1), order=1).astype("float32")


def feature_extractor(model, layers: dict[str, float]):
    """A model from the network's input to {layer name: its output} for the layers of the loss."""
    from dlcli.backend import import_keras

    keras = import_keras()
    names = [layer.name for layer in model.layers]
    unknown = [name for name in layers if name not in names]
    if unknown:
        mixed = [name for name in names if name.startswith("mixed")]
        raise UsageError(f"--layers: no layer {', '.join(unknown)} in {model.name} "
                         f"(its blocks: {', '.join(mixed) or ', '.join(names[-5:])})")
    return keras.Model(model.input, {name: model.get_layer(name).output for name in layers})


def layers_left_out(extractor, shapes: list[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """{octave shape: the layers whose output is too small to add anything there}; a shape the
    network cannot take at all is refused."""
    from dlcli.backend import import_keras

    keras = import_keras()
    left_out = {}
    for shape in shapes:
        try:
            outputs = extractor.compute_output_spec(keras.KerasTensor((1, *shape, 3)))
        except ValueError:
            remedies = "earlier --layers or a larger image"
            if shape != shapes[-1]:  # only a smaller octave: fewer or closer octaves help too
                remedies = f"fewer --octaves, a smaller --octave-scale, {remedies}"
            what = "the image" if shape == shapes[-1] else "an octave"
            raise UsageError(f"{what} of {shape[1]}x{shape[0]} pixels is too small for the network up to the "
                             f"--layers asked for; use {remedies}") from None
        empty = [name for name, output in outputs.items() if min(output.shape[1:3]) <= 2 * BORDER]
        if empty:
            left_out[shape] = empty
    return left_out


def dream_loss(activations: dict, layers: dict[str, float]):
    """8.10: sum of coefficient * sum(activation without its border ** 2) / activation size."""
    from dlcli.backend import import_keras

    ops = import_keras().ops
    loss = 0.0
    for name, coefficient in layers.items():
        activation = activations[name]  # (1, h, w, channels)
        inner = activation[:, BORDER:-BORDER, BORDER:-BORDER, :]
        loss = loss + coefficient * ops.sum(ops.square(inner)) / ops.cast(ops.size(activation), "float32")
    return loss


def ascent_step(extractor, layers: dict[str, float], step: float) -> Callable:
    """A compiled image (1, h, w, 3) -> (its loss, the image one normalised gradient step up)."""
    from dlcli.backend import import_keras
    from dlcli.backend.gradients import compiled, value_and_gradient

    ops = import_keras().ops

    def loss_of(image):
        return dream_loss(extractor(image, training=False), layers), None

    @compiled
    def ascend(image):
        loss, _, gradients = value_and_gradient(loss_of, image)
        gradients = gradients / ops.maximum(ops.mean(ops.abs(gradients)), 1e-7)  # 8.11
        return loss, image + step * gradients

    return ascend


def deep_dream(extractor, image: np.ndarray, layers: dict[str, float], octaves: int = 3, octave_scale: float = 1.4,
               iterations: int = 20, step: float = 0.01, max_loss: float | None = 10.0,
               progress: Callable[[int], None] | None = None) -> list[Octave]:
    """Every octave, smallest first; the last one's image is the dream at the photo's size (8.12).

    `progress(n)` is told each time n more of the octaves x iterations steps are done (or skipped)."""
    from dlcli.backend import import_keras

    ops = import_keras().ops
    ascend = ascent_step(extractor, layers, step)
    shapes = octave_shapes(image.shape[:2], octaves, octave_scale)
    original, dreamt = image.astype("float32"), image.astype("float32")
    shrunk_original = resize(original, shapes[0])
    done = []
    for shape in shapes:
        octave = Octave(shape, resize(dreamt, shape))
        current = ops.convert_to_tensor(octave.image[None])  # (1, h, w, 3)
        for iteration in range(iterations):
            loss, stepped = ascend(current)
            loss = float(ops.convert_to_numpy(loss))
            if max_loss is not None and loss > max_loss:
                octave.stopped_at = loss
                if progress:
                    progress(iterations - iteration)
                break
            octave.losses.append(loss)
            current = stepped
            if progress:
                progress(1)
        same_size_original = resize(original, shape)
        lost_detail = same_size_original - resize(shrunk_original, shape)
        dreamt = np.asarray(ops.convert_to_numpy(current))[0] + lost_detail
        shrunk_original = same_size_original
        octave.image = dreamt
        done.append(octave)
    return done


def deprocess(image: np.ndarray) -> np.ndarray:
    """8.13's deprocess_image: InceptionV3's [-1, 1] back to RGB uint8, rounded (the book truncates,
    which turns a level that float error leaves at 254.99997 into 254)."""
    return np.clip(np.rint((image / 2.0 + 0.5) * 255.0), 0, 255).astype("uint8")
