"""Grad-CAM (5.40-5.43) with tf.GradientTape in place of K.gradients and K.function.

The class score's gradient with respect to a convolution layer's output, averaged over the
spatial positions, weighs that output's channels; their mean, through a ReLU and divided by its
maximum, is the heatmap. The overlay is the book's: the heatmap resized to the photo, OpenCV's
JET colour map, `heatmap * alpha + photo`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcli.errors import UsageError
from dlcli.keras_backend import import_keras


def _is_conv(layer) -> bool:
    keras = import_keras()
    return isinstance(layer, keras.layers.Conv2D) or (
        "conv" in type(layer).__name__.lower() and len(getattr(layer, "output", np.zeros(0)).shape) == 4
    )


def conv_layers(model) -> list[str]:
    """Names of the 2-D convolution layers, in order, looking inside nested models (a VGG base)."""
    keras = import_keras()
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += conv_layers(layer)
        elif _is_conv(layer):
            names.append(layer.name)
    return names


def _contains(model, name: str) -> bool:
    keras = import_keras()
    return any(layer.name == name or (isinstance(layer, keras.Model) and _contains(layer, name))
               for layer in model.layers)


def conv_and_output(model, layer_name: str) -> Callable:
    """A function x -> (that layer's output, the model's output), inference mode.

    A functional model gets a two-output keras.Model; a Sequential is walked layer by layer, so a
    layer inside a nested base (Sequential([VGG16, Flatten, Dense...]), 5.20) works too."""
    keras = import_keras()
    if not _contains(model, layer_name):
        choices = ", ".join(conv_layers(model)) or "none"
        raise UsageError(f"--layer {layer_name}: no such layer in the model (convolution layers: {choices})")
    if not isinstance(model, keras.Sequential):
        inner = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])
        return lambda x: inner(x, training=False)

    def forward(x):
        target = None
        for layer in model.layers:
            if layer.name == layer_name:
                x = layer(x, training=False)
                target = x
            elif isinstance(layer, keras.Model) and _contains(layer, layer_name):
                target, x = conv_and_output(layer, layer_name)(x)
            else:
                x = layer(x, training=False)
        return target, x

    return forward


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
    forward = conv_and_output(model, layer_name)
    inputs = tf.convert_to_tensor(batch, dtype=tf.float32)
    with tf.GradientTape() as tape:
        conv_output, predictions = forward(inputs)
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
