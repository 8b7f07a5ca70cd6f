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
    from dlcli.backend import import_keras

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
    assert heatmap.shape == (32, 32, 3)  # the photo's own size
    assert overlay.shape[0] >= 256 and overlay.shape[1] >= 2 * 256  # photo and overlay, scaled up to be seen
    assert output["probability"] == next(row["probability"] for row in output["top"] if row["index"] == 1)
    assert output["overlay"].startswith(str(workdir / "square-gradcam-class1-bright-alpha0.4-"))
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
    assert cv2.imread(output["heatmap"]).shape[:2] == cv2.imread(str(image)).shape[:2]
    assert min(cv2.imread(output["overlay"]).shape[:2]) >= 256


def test_a_run_that_outputs_logits_is_shown_as_probabilities(run_cli, workdir):
    """A loss with from_logits: the model's outputs are logits; predict and Grad-CAM's title give
    softmax probabilities (summing to 1), as they say, not the raw scores."""
    from test_image_training import SPEC, image_folder
    from conftest import write

    folder = image_folder(workdir / "images")
    spec = SPEC.format(path=folder, epochs=1).replace("label_mode: binary", "label_mode: categorical")
    spec = spec.replace("{units: 1, activation: sigmoid}", "{units: 2}").replace(
        "loss: binary_crossentropy", "loss: {name: categorical_crossentropy, from_logits: true}")
    run = Path(json.loads(run_cli("train", str(write(workdir / "logits.yaml", spec)), "--json").stdout)["run_dir"])
    image = next((folder / "test" / "night").iterdir())
    predicted = json.loads(run_cli("predict", str(run), str(image), "--json").stdout)["predictions"][0]
    chances = [row["probability"] for row in predicted["top"]]
    assert all(0 <= p <= 1 for p in chances) and sum(chances) == pytest.approx(1, abs=1e-5), chances
    explained = json.loads(run_cli("visualize", "gradcam", str(image), "--model", str(run), "--json").stdout)
    assert explained["probability"] == pytest.approx(max(chances), abs=1e-5)


def test_gradcam_of_one_logit_explains_the_class_predict_gives(run_cli, workdir):
    """One output unit read as a logit (binary_crossentropy from_logits): a logit of 0.25 is class 1
    (sigmoid 0.56), which Grad-CAM must explain, as predict says, not class 0 (0.25 < 0.5)."""
    from test_image_training import SPEC, image_folder
    from conftest import write
    from dlcli.backend import import_keras

    folder = image_folder(workdir / "images")
    spec = SPEC.format(path=folder, epochs=1).replace("{units: 1, activation: sigmoid}", "{units: 1}").replace(
        "loss: binary_crossentropy", "loss: {name: binary_crossentropy, from_logits: true}")
    run = Path(json.loads(run_cli("train", str(write(workdir / "logit.yaml", spec)), "--json").stdout)["run_dir"])
    keras = import_keras()
    model = keras.models.load_model(run / "model.keras", compile=False)
    kernel, _ = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.zeros_like(kernel), np.array([0.25], "float32")])  # every image: logit 0.25
    model.save(run / "model.keras")
    image = next((folder / "test" / "night").iterdir())
    predicted = json.loads(run_cli("predict", str(run), str(image), "--json").stdout)["predictions"][0]
    explained = json.loads(run_cli("visualize", "gradcam", str(image), "--model", str(run), "--json").stdout)
    assert predicted["index"] == 1 and explained["class_index"] == 1, explained


def test_gradcam_bad_inputs(run_cli, workdir):
    from dlcli.backend import import_keras

    keras = import_keras()
    dense = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    dense.save(workdir / "dense.keras")
    model = square_detector(workdir / "square.keras")
    image = photo(workdir / "square.png")
    (workdir / "notes.jpg").write_text("not an image")
    cases = [
        (["visualize", "gradcam", str(workdir / "missing.jpg"), "--model", str(model)], 2, "no such image"),
        (["visualize", "gradcam", str(workdir / "notes.jpg"), "--model", str(model)], 2, "notes.jpg: not a"),
        (["visualize", "gradcam", str(image), "--model", str(workdir / "dense.keras")], 2, "no convolution layer"),
        (["visualize", "gradcam", str(image), "--model", str(model), "--layer", "nope"], 2, "convolution layers: bright"),
        (["visualize", "gradcam", str(image), "--model", str(model), "--class", "7"], 2, "has 2 classes"),
        (["visualize", "gradcam", str(image), "--model", "vgg16"], 3, "dlcli data import weights PATH"),
    ]
    for args, code, message in cases:
        result = run_cli(*args)
        assert result.exit_code == code and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def small_convnet(path: Path) -> Path:
    from dlcli.backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    keras.Sequential([
        keras.Input((24, 24, 3)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.RandomFlip("horizontal"),
        keras.layers.Conv2D(6, 3, activation="relu", name="first", bias_initializer="ones"),  # alive on grey
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Conv2D(4, 3, activation="relu", name="second", bias_initializer="ones"),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ]).save(path)
    return path


def test_activations_one_grid_per_feature_map_layer(run_cli, workdir):
    model = small_convnet(workdir / "small.keras")
    image = photo(workdir / "square.png", size=(40, 50))
    result = run_cli("visualize", "activations", str(image), "--model", str(model), "--out",
                     str(workdir / "acts"), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["layers"] == ["first", "pool", "second"]  # not Rescaling, RandomFlip, Flatten, Dense
    first = cv2.imread(output["files"][0])  # 6 channels of 22x22 in one row, each scaled 3x to 66 pixels
    assert first.shape[0] >= 66 and first.shape[1] >= 6 * 66
    second = cv2.imread(output["files"][2])  # 4 channels of 9x9, scaled 8x to 72 pixels
    assert second.shape[0] >= 72 and second.shape[1] >= 4 * 72
    only = json.loads(run_cli("visualize", "activations", str(image), "--model", str(model), "--layers", "pool",
                              "--out", str(workdir / "one"), "--json").stdout)
    assert only["layers"] == ["pool"]
    bad = run_cli("visualize", "activations", str(image), "--model", str(model), "--layers", "Dense")
    assert bad.exit_code == 2 and "choices: first, pool, second" in bad.stderr


def test_filters_batched_equal_one_by_one(workdir):
    from dlcli.backend import import_keras
    from dlcli.viz.filters import filter_patterns

    keras = import_keras()
    model = keras.models.load_model(small_convnet(workdir / "small.keras"))
    batched = filter_patterns(model, "second", [0, 1, 2, 3], (24, 24), steps=10, seed=3)
    one_by_one = filter_patterns(model, "second", [0, 1, 2, 3], (24, 24), steps=10, seed=3, batch_size=1)
    assert batched.shape == (4, 24, 24, 3) and batched.dtype == np.uint8
    assert np.abs(batched.astype(int) - one_by_one.astype(int)).max() <= 2  # float rounding only
    assert len({pattern.tobytes() for pattern in batched}) == 4  # each filter its own pattern
    # Each pattern excites its own filter more than the noise it started from does.
    noise = filter_patterns(model, "second", [0, 1, 2, 3], (24, 24), steps=0, seed=3)
    activation = keras.Model(model.inputs, model.get_layer("second").output)
    grown = np.asarray(activation(batched.astype("float32"))).mean(axis=(1, 2))  # (4 images, 4 filters)
    start = np.asarray(activation(noise.astype("float32"))).mean(axis=(1, 2))
    assert all(grown[i, i] > start[i, i] for i in range(4))


def test_filters_grid_through_the_cli(run_cli, workdir):
    model = small_convnet(workdir / "small.keras")
    result = run_cli("visualize", "filters", "--model", str(model), "--layer", "first", "--filters", "100",
                     "--steps", "3", "--out", str(workdir / "grid.png"), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["filters"] == 6 and output["size"] == [24, 24]  # clamped to the layer's 6 filters
    grid = cv2.imread(str(workdir / "grid.png"))  # 2 rows of 3 patterns of 24x24, each scaled 3x to 72 pixels
    assert grid.shape[0] >= 2 * 72 and grid.shape[1] >= 3 * 72
    assert output["stalled"] == [] and "warning" not in output
    into = json.loads(run_cli("visualize", "filters", "--model", str(model), "--layer", "second", "--filters",
                              "4", "--steps", "1", "--out", str(workdir / "pictures"), "--json").stdout)
    assert into["file"].startswith(str(workdir / "pictures" / "filters-small-second-4filters-24x24-1steps-seed0-"))
    assert Path(into["file"]).is_file()


def test_filters_that_stayed_noise_are_marked_and_named(run_cli, workdir):
    model = small_convnet(workdir / "small.keras")
    result = run_cli("visualize", "filters", "--model", str(model), "--layer", "first", "--steps", "0",
                     "--out", str(workdir / "noise.png"), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["stalled"] == [0, 1, 2, 3, 4, 5]  # no step: every tile is its starting noise
    assert "--steps" in output["warning"]
    text = run_cli("visualize", "filters", "--model", str(model), "--layer", "first", "--steps", "0",
                   "--out", str(workdir / "noise.png"))
    assert "filters 0, 1, 2, 3, 4, 5 of first stayed noise" in text.stderr
    bigger = json.loads(run_cli("visualize", "filters", "--model", str(model), "--layer", "first", "--steps", "2",
                                "--step", "5", "--out", str(workdir), "--json").stdout)
    assert bigger["step"] == 5 and "-2steps-step5-seed0-" in bigger["file"] and bigger["stalled"] == []
    for wrong in ("0", "-1", "nan"):
        refused = run_cli("visualize", "filters", "--model", str(model), "--step", wrong)
        assert refused.exit_code == 2 and "--step" in refused.stderr


def test_pretrained_networks_build_without_weights():
    from dlcli.viz.gradcam import conv_layers, gradcam_heatmap
    from dlcli.viz.sources import load_source

    source = load_source("vgg16", weights=None)
    assert source.input_size == (224, 224) and conv_layers(source.model)[-1] == "block5_conv3"
    image = np.random.default_rng(0).integers(0, 255, (300, 200, 3)).astype("uint8")
    heatmap, _, layer = gradcam_heatmap(source.model, source.preprocess(image))
    assert layer == "block5_conv3" and heatmap.shape == (14, 14)
    assert heatmap.min() >= 0 and heatmap.max() <= 1


def test_augmentation_grid_and_predict(run_cli, workdir):
    from test_image_training import SPEC, image_folder
    from conftest import write

    folder = image_folder(workdir / "images")
    spec = write(workdir / "images.yaml", SPEC.format(path=folder, epochs=1))
    image = photo(workdir / "square.png", size=(40, 60))
    result = run_cli("visualize", "augmentation", str(image), "--experiment", str(spec), "--count", "5",
                     "--out", str(workdir / "aug.png"))
    assert result.exit_code == 0, result.stderr
    grid = cv2.imread(str(workdir / "aug.png"))  # original + 5 in rows of 3, 24x24 each scaled 3x to 72 pixels
    assert grid.shape[0] >= 2 * 72 and grid.shape[1] >= 3 * 72
    run = json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"]
    images = [str(next((folder / "test" / label).iterdir())) for label in ("day", "night")]
    rows = json.loads(run_cli("predict", run, *images, "--json").stdout)["predictions"]
    assert [row["class"] for row in rows] == ["day", "night"] or all(0 <= r["probability"] <= 1 for r in rows)
    assert {row["class"] for row in rows} <= {"day", "night"}
    missing = run_cli("predict", run, str(workdir / "nope.jpg"))
    assert missing.exit_code == 2  # an argument that names no file: a usage error


def test_a_pixel_bomb_is_refused_before_decoding(run_cli, workdir, monkeypatch):
    """A PNG whose header declares 32000x32000 pixels (a few bytes here) never reaches the decoder."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 32000, 32000, 1, 0, 0, 0, 0)  # 1-bit grey
    bomb = workdir / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    result = run_cli("visualize", "gradcam", str(bomb))
    assert result.exit_code == 2 and "32000x32000 pixels" in result.stderr and "DLCLI_MAX_IMAGE_PIXELS" in result.stderr
    monkeypatch.setenv("DLCLI_MAX_IMAGE_PIXELS", "2000000000")  # raised: then OpenCV itself says no
    result = run_cli("visualize", "gradcam", str(bomb))
    assert result.exit_code == 2 and "unexpected" not in result.stderr
