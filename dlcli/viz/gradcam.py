"""Grad-CAM (5.40-5.43) on any backend, with dlcli.backend's gradient in place of K.gradients.

The class score's gradient with respect to a convolution layer's output, averaged over the
spatial positions, weighs that output's channels; their mean, through a ReLU and divided by its
maximum, is the heatmap. The overlay is the book's: the heatmap resized to the photo, OpenCV's
JET colour map, `heatmap * alpha + photo`; its picture is shown at least 256 pixels on its shorter
side, titled with the class, its probability and how the model saw the photo where that differs
(`model_view`: resized, grey), with the colour map's bar (`gradcam_picture`).
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

    With one sigmoid output, class 1 is the output itself and class 0 its complement.

    The gradient is taken with respect to a zero tensor added to the layer's output (the same
    forward pass, differentiated at that point), which every backend's autodiff can do."""
    from dlcli.backend import import_keras
    from dlcli.backend.gradients import value_and_gradient

    ops = import_keras().ops
    names = conv_layers(model)
    if layer_name is None:
        if not names:
            raise UsageError("this model has no convolution layer; Grad-CAM needs one (--layer NAME)")
        layer_name = names[-1]
    if find(model, layer_name) is None:
        raise UsageError(f"--layer {layer_name}: no such layer in the model "
                         f"(convolution layers: {', '.join(names) or 'none'})")
    if len(find(model, layer_name).output.shape) != 4:
        raise UsageError(f"--layer {layer_name}: Grad-CAM needs a layer with a (h, w, channels) output")
    inputs = ops.convert_to_tensor(batch, dtype="float32")
    forward = outputs_of(model, [layer_name])
    found, predictions = forward(inputs)  # the class is chosen from the prediction itself
    chosen = _chosen_class(np.asarray(ops.convert_to_numpy(_first_output(predictions)))[0], class_index)

    def score_of(added):  # (the class score, the layer's output) with `added` on that output
        found, predictions = forward(inputs, added={layer_name: added})
        predictions = _first_output(predictions)
        if predictions.shape[-1] == 1:
            return ops.sum(predictions[:, 0] if chosen == 1 else 1.0 - predictions[:, 0]), found[layer_name]
        return ops.sum(predictions[:, chosen]), found[layer_name]

    zeros = ops.zeros_like(found[layer_name])  # (1, h, w, channels)
    _, conv_output, gradients = value_and_gradient(score_of, zeros)
    if gradients is None:
        raise UsageError(f"--layer {layer_name}: the prediction does not depend on this layer")
    gradients = np.asarray(ops.convert_to_numpy(gradients))  # (1, h, w, channels)
    weights = gradients.mean(axis=(0, 1, 2))  # (channels,)
    heatmap = (np.asarray(ops.convert_to_numpy(conv_output))[0] * weights).mean(axis=-1)  # (h, w)
    heatmap = np.maximum(heatmap, 0)
    peak = heatmap.max()
    return (heatmap / peak if peak > 0 else heatmap), chosen, layer_name


def _first_output(predictions):
    """A model with several outputs is explained by its first, as predict shows."""
    return next(iter(predictions.values())) if isinstance(predictions, dict) else predictions


def _chosen_class(prediction: np.ndarray, class_index: int | None) -> int:
    """The class to explain: `class_index`, else the predicted one (one sigmoid: 1 when >= 0.5)."""
    if prediction.shape[-1] == 1:
        return 1 if class_index is None and float(prediction[0]) >= 0.5 else (class_index or 0)
    chosen = int(prediction.argmax()) if class_index is None else class_index
    if not 0 <= chosen < prediction.shape[-1]:
        raise UsageError(f"--class {chosen}: the model has {prediction.shape[-1]} classes")
    return chosen


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """(coloured heatmap at the photo's size, heatmap * alpha + photo), both RGB uint8 (5.44)."""
    import cv2

    height, width = image.shape[:2]
    resized = cv2.resize(heatmap.astype("float32"), (width, height))
    coloured = cv2.applyColorMap(np.uint8(255 * np.clip(resized, 0, 1)), cv2.COLORMAP_JET)
    coloured = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)
    blended = np.clip(coloured.astype("float32") * alpha + image.astype("float32"), 0, 255).astype("uint8")
    return coloured, blended


def gradcam_picture(image: np.ndarray, blended: np.ndarray, explained: str, probability: float | None, layer: str,
                    image_name: str, seen: str = "") -> np.ndarray:
    """The photo and its overlay side by side, as a picture that says what it shows: a small photo
    scaled up (nearest neighbour) to 256 pixels, the class explained and the probability the model
    gives it above, with how the model saw the photo where that differs (`model_view`), JET's
    colour bar beside."""
    from dlcli.viz.labelled import overlay_picture

    chance = f" (probability {probability:.3f})" if probability is not None else ""
    title = f"{image_name} and its Grad-CAM for class {explained}{chance}\nat layer {layer}{'; ' + seen if seen else ''}"
    return overlay_picture([image, blended], title, "jet", "heatmap (1: its maximum)")


def model_view(image: np.ndarray, batch: np.ndarray) -> str:
    """How the model saw the (h, w, 3) photo, where that differs from what the picture shows: the
    size of its (1, H, W, C) input, and grey when it has one channel and the photo has colours
    (a photo read by an 8x8 digit classifier is explained at 8x8, not at the photo's detail)."""
    _, height, width, channels = batch.shape
    changes = [f"resized to {width}x{height} pixels"] if (height, width) != image.shape[:2] else []
    if channels == 1 and not (image == image[..., :1]).all():
        changes.append("in grey")
    return f"the model saw it {', '.join(changes)}" if changes else ""
