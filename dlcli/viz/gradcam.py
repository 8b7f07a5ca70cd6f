"""Grad-CAM (5.40-5.43) with tf.GradientTape in place of K.gradients and K.function.

The class score's gradient with respect to a convolution layer's output, averaged over the
spatial positions, weighs that output's channels; their mean, through a ReLU and divided by its
maximum, is the heatmap. The overlay is the book's: the heatmap resized to the photo, OpenCV's
JET colour map, `heatmap * alpha + photo`.
"""

from __future__ import annotations

import numpy as np

from dlcli.errors import UsageError
from dlcli.viz.layers import find, is_conv, outputs_of, walk


def conv_layers(model) -> list[str]:
    """Names of the 2-D convolution layers, in order, looking inside nested models (a VGG base)."""
    return [layer.name for layer in walk(model) if is_conv(layer)]


def gradcam_heatmap(model, batch: np.ndarray, layer_name: str | None = None,
                    class_index: int | None = None) -> tuple[np.ndarray, int, str]:
    """(heatmap (h, w) in [0, 1], the class explained, the layer used) for a (1, H, W, C) batch.

    With one sigmoid output, class 1 is the output itself and class 0 its complement."""
    import tensorflow as tf

    names = conv_layers(model)
    if layer_name is None:
        if not names:
            raise UsageError("this model has no convolution layer; Grad-CAM needs one (--layer NAME)")
        layer_name = names[-1]
    if find(model, layer_name) is None:
        raise UsageError(f"--layer {layer_name}: no such layer in the model "
                         f"(convolution layers: {', '.join(names) or 'none'})")
    forward = outputs_of(model, [layer_name])
    inputs = tf.convert_to_tensor(batch, dtype=tf.float32)
    with tf.GradientTape() as tape:
        found, predictions = forward(inputs)
        if isinstance(predictions, dict):  # a model with several outputs: its first, as predict shows
            predictions = next(iter(predictions.values()))
        conv_output = found.get(layer_name)
        if conv_output is None or len(conv_output.shape) != 4:
            raise UsageError(f"--layer {layer_name}: Grad-CAM needs a layer with a (h, w, channels) output")
        if predictions.shape[-1] == 1:
            chosen = 1 if class_index is None and float(predictions[0, 0]) >= 0.5 else (class_index or 0)
            score = predictions[:, 0] if chosen == 1 else 1.0 - predictions[:, 0]
        else:
            chosen = int(tf.argmax(predictions[0])) if class_index is None else class_index
            if not 0 <= chosen < predictions.shape[-1]:
                raise UsageError(f"--class {chosen}: the model has {predictions.shape[-1]} classes")
            score = predictions[:, chosen]
    gradients = tape.gradient(score, conv_output)  # (1, h, w, channels)
    if gradients is None:
        raise UsageError(f"--layer {layer_name}: the prediction does not depend on this layer")
    weights = tf.reduce_mean(gradients, axis=(0, 1, 2))  # (channels,)
    heatmap = tf.reduce_mean(conv_output[0] * weights, axis=-1).numpy()  # (h, w)
    heatmap = np.maximum(heatmap, 0)
    peak = heatmap.max()
    return (heatmap / peak if peak > 0 else heatmap), chosen, layer_name


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """(coloured heatmap at the photo's size, heatmap * alpha + photo), both RGB uint8 (5.44)."""
    import cv2

    height, width = image.shape[:2]
    resized = cv2.resize(heatmap.astype("float32"), (width, height))
    coloured = cv2.applyColorMap(np.uint8(255 * np.clip(resized, 0, 1)), cv2.COLORMAP_JET)
    coloured = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)
    blended = np.clip(coloured.astype("float32") * alpha + image.astype("float32"), 0, 255).astype("uint8")
    return coloured, blended
