"""Visualisation on tiny models made here: Grad-CAM, activations, filters, augmentation, predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless reads and writes the images")
pytestmark = pytest.mark.training

SQUARE = (slice(20, 27), slice(4, 11))  # rows, columns of the bright square in a 32x32 photo


def square_detector(path: Path) -> Path:
    """A convnet whose 'square' class score grows with bright pixels: Grad-CAM must point at them."""
    from dlcli.keras_backend import import_keras

    keras = import_keras()
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(2, 3, activation="relu", name="bright"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    kernel = np.zeros((3, 3, 3, 2), "float32")
    kernel[..., 0] = 1 / 27 / 255  # channel 0: local brightness in [0, 1]
    kernel[..., 1] = -1 / 27 / 255  # channel 1: local darkness, 0.5 - brightness
    model.get_layer("bright").set_weights([kernel, np.array([0.0, 0.5], "float32")])
    # Small weights keep the softmax away from saturation, where every gradient vanishes.
    model.layers[-1].set_weights([np.array([[-1, 1], [1, -1]], "float32"), np.zeros(2, "float32")])
    model.save(path)
    return path


def photo(path: Path, size=(32, 32)) -> Path:
    image = np.zeros((*size, 3), "uint8")
    image[SQUARE] = 255
    cv2.imwrite(str(path), image)
    return path


def test_gradcam_heatmap_peaks_on_the_evidence(run_cli, workdir):
    model = square_detector(workdir / "square.keras")
    image = photo(workdir / "square.png")
    result = run_cli("visualize", "gradcam", str(image), "--model", str(model), "--class", "1", "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["layer"] == "bright" and output["class_index"] == 1
    assert output["heatmap_shape"] == [30, 30]
    row, column = output["heatmap_peak"]  # conv output (30x30) is offset by one pixel from the photo
    assert 20 - 1 <= row <= 26 - 1 + 2 and 4 - 1 <= column <= 10 - 1 + 2
    overlay = cv2.imread(output["overlay"])
    heatmap = cv2.imread(output["heatmap"])
    assert overlay.shape == heatmap.shape == (32, 32, 3)  # the photo's own size
    assert output["overlay"] == str(workdir / "square-gradcam.png")
    # JET runs from dark blue (0) to dark red (1): red on the square, blue in the far corner (BGR).
    assert heatmap[23, 7, 2] > heatmap[23, 7, 0] and heatmap[2, 28, 0] > heatmap[2, 28, 2]


def test_gradcam_on_a_run_writes_into_viz_with_an_index(run_cli, workdir):
    from test_image_training import SPEC, image_folder
    from conftest import write

    folder = image_folder(workdir / "images")
    spec = write(workdir / "images.yaml", SPEC.format(path=folder, epochs=1))
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    image = next((folder / "test" / "night").iterdir())
    result = run_cli("visualize", "gradcam", str(image), "--model", str(run), "--class", "night", "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["class"] == "night" and output["class_index"] == 1
    assert [row["class"] for row in output["top"]] in (["day", "night"], ["night", "day"])
    assert Path(output["overlay"]).parent == run / "viz"
    index = json.loads((run / "viz" / "index.json").read_text())
    assert index[-1]["kind"] == "gradcam" and Path(output["overlay"]).name in index[-1]["files"]
    assert cv2.imread(output["overlay"]).shape[:2] == cv2.imread(str(image)).shape[:2]


def test_gradcam_bad_inputs(run_cli, workdir):
    from dlcli.keras_backend import import_keras

    keras = import_keras()
    dense = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    dense.save(workdir / "dense.keras")
    model = square_detector(workdir / "square.keras")
    image = photo(workdir / "square.png")
    (workdir / "notes.jpg").write_text("not an image")
    cases = [
        (["visualize", "gradcam", str(workdir / "missing.jpg"), "--model", str(model)], 3, "no such image"),
        (["visualize", "gradcam", str(workdir / "notes.jpg"), "--model", str(model)], 2, "not an image"),
        (["visualize", "gradcam", str(image), "--model", str(workdir / "dense.keras")], 2, "no convolution layer"),
        (["visualize", "gradcam", str(image), "--model", str(model), "--layer", "nope"], 2, "convolution layers: bright"),
        (["visualize", "gradcam", str(image), "--model", str(model), "--class", "7"], 2, "has 2 classes"),
        (["visualize", "gradcam", str(image), "--model", "vgg16"], 3, "dlcli data import weights PATH"),
    ]
    for args, code, message in cases:
        result = run_cli(*args)
        assert result.exit_code == code and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
