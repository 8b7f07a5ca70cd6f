"""Neural style transfer (8.14-8.22): an image with one photo's content and another's style.

The book's losses over VGG19's features, on any backend: the content loss is the squared distance
between the content photo's and the combination's block5_conv2 outputs; the style loss of each of
block1_conv1 ... block5_conv1 is the squared distance between their Gram matrices over
4 * 3^2 * (height * width)^2, each weighted style_weight / 5; the total variation loss sums
(dx^2 + dy^2)^1.25 over the combination. SciPy's L-BFGS-B minimises their weighted sum, `maxfun`
evaluations per iteration, starting from the content photo.

That divisor is 8.17's as printed: `channels = 3` and the size of the image, for every layer, not
(as in Gatys et al.) the layer's own channels (64 to 512) and positions; the book's weights were
chosen with it, so it is kept. The photos are resized with OpenCV's bilinear interpolation, where
the book's load_img(target_size=...) takes the nearest pixel (blockier, aliased).

The book runs VGG19 on the batch (content, style, combination) at every evaluation; the first two
never change, so here their features are computed once and only the combination goes through the
network: the same loss and gradient for a third of the work. The loss-and-gradient function is
compiled once on TensorFlow and JAX (the size does not change); torch runs it eagerly. Converting
L-BFGS's float64 vector to the backend and back takes 1-2 ms an evaluation (measured at 200x266:
an evaluation 1.6 s on TensorFlow, 1.9 s on JAX, 2 shared CPU cores).

Images here are (h, w, 3) float32 arrays in VGG19's preprocessed space (BGR, ImageNet means removed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

CONTENT_LAYER = "block5_conv2"
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
MAXFUN = 20  # the most loss evaluations of one L-BFGS iteration (8.21)
IMAGENET_BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype="float32")  # what vgg19.preprocess_input removes


@dataclass(frozen=True)
class Weights:
    content: float = 0.025
    style: float = 1.0
    total_variation: float = 1e-4


@dataclass
class Iteration:
    image: np.ndarray  # (h, w, 3) preprocessed: the combination after this iteration
    loss: float  # the total loss L-BFGS reached
    seconds: float


def target_size(shape: tuple[int, int], height: int) -> tuple[int, int]:
    """(height, width) at `height` rows, the width in proportion, as 8.15 (int(width * height / h))."""
    return height, int(shape[1] * height / shape[0])


def gram_matrix(features):
    """(h, w, channels) -> (channels, channels): the channels' inner products over positions (8.17)."""
    from dlcli.backend import import_keras

    ops = import_keras().ops
    flat = ops.reshape(ops.transpose(features, (2, 0, 1)), (features.shape[-1], -1))  # (channels, h*w)
    return ops.matmul(flat, ops.transpose(flat))


def total_variation(image):
    """8.19 over a (1, h, w, 3) image: sum((dx^2 + dy^2) ** 1.25) over the pixels but the last row and column."""
    from dlcli.backend import import_keras

    ops = import_keras().ops
    down = ops.square(image[:, :-1, :-1, :] - image[:, 1:, :-1, :])
    right = ops.square(image[:, :-1, :-1, :] - image[:, :-1, 1:, :])
    return ops.sum(ops.power(down + right, 1.25))


def feature_extractor(model):
    """VGG19 (or any network with its layer names) -> {layer: output} for the content and style layers."""
    from dlcli.backend import import_keras

    keras = import_keras()
    names = [CONTENT_LAYER, *STYLE_LAYERS]
    return keras.Model(model.input, {name: model.get_layer(name).output for name in names})


def loss_and_gradient(extractor, content: np.ndarray, style: np.ndarray, weights: Weights) -> Callable:
    """A compiled function of the flat combination (float64, as L-BFGS gives it) -> (loss, gradient),
    both float64 for SciPy."""
    from dlcli.backend import import_keras
    from dlcli.backend.gradients import compiled, value_and_gradient

    ops = import_keras().ops
    shape = (1, *content.shape)
    content_features = extractor(content[None], training=False)[CONTENT_LAYER][0]  # (h, w, c)
    style_features = extractor(style[None], training=False)
    style_grams = [gram_matrix(style_features[name][0]) for name in STYLE_LAYERS]
    pixels = float(content.shape[0] * content.shape[1])

    def loss_of(combination):  # (1, h, w, 3)
        features = extractor(combination, training=False)
        loss = weights.content * ops.sum(ops.square(features[CONTENT_LAYER][0] - content_features))
        for name, style_gram in zip(STYLE_LAYERS, style_grams):
            distance = ops.sum(ops.square(style_gram - gram_matrix(features[name][0])))
            loss = loss + weights.style / len(STYLE_LAYERS) * distance / (4.0 * 3 ** 2 * pixels ** 2)
        return loss + weights.total_variation * total_variation(combination), None

    @compiled
    def step(combination):
        loss, _, gradient = value_and_gradient(loss_of, combination)
        return loss, gradient

    def evaluate(flat: np.ndarray) -> tuple[float, np.ndarray]:
        loss, gradient = step(ops.convert_to_tensor(flat.reshape(shape).astype("float32")))
        return float(ops.convert_to_numpy(loss)), np.asarray(ops.convert_to_numpy(gradient), "float64").ravel()

    return evaluate


def transfer_style(extractor, content: np.ndarray, style: np.ndarray, weights: Weights = Weights(),
                   iterations: int = 20, maxfun: int = MAXFUN,
                   progress: Callable[[Iteration], None] | None = None) -> list[Iteration]:
    """`iterations` runs of L-BFGS-B (each at most `maxfun` evaluations, 8.21), each starting where
    the one before ended, the first from the content photo; `progress` is told each iteration."""
    from scipy.optimize import minimize

    evaluate = loss_and_gradient(extractor, content, style, weights)
    combination = content.astype("float64").ravel()
    done = []
    for _ in range(iterations):
        start = time.perf_counter()
        result = minimize(evaluate, combination, jac=True, method="L-BFGS-B", options={"maxfun": maxfun})
        combination = result.x
        done.append(Iteration(combination.reshape(content.shape).astype("float32"), float(result.fun),
                              time.perf_counter() - start))
        if progress:
            progress(done[-1])
    return done


def deprocess(image: np.ndarray) -> np.ndarray:
    """8.16's deprocess_image: ImageNet means back, BGR to RGB, uint8, rounded (the book truncates,
    which turns a level that float error leaves just under it into the level below)."""
    return np.clip(np.rint((image + IMAGENET_BGR_MEANS)[..., ::-1]), 0, 255).astype("uint8")
