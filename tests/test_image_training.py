"""Image folders through the real CLI: the tf.data pipeline, augmentation layers, a one-epoch run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import write

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless writes the test images")
pytestmark = pytest.mark.training

SPEC = """
description: a tiny image classifier for tests
seed: 3
data: {{name: image_folder, path: {path}, image_size: [24, 24], label_mode: binary}}
model:
  type: sequential
  layers:
    - Rescaling: {{scale: 0.00392156862745098}}
    - RandomFlip: {{mode: horizontal}}
    - RandomRotation: {{factor: 0.1, fill_mode: nearest}}
    - Conv2D: {{filters: 4, kernel_size: 3, activation: relu}}
    - MaxPooling2D: {{pool_size: 2}}
    - Flatten: {{}}
    - Dense: {{units: 1, activation: sigmoid}}
compile: {{optimizer: {{name: rmsprop, learning_rate: 0.01}}, loss: binary_crossentropy, metrics: [accuracy]}}
fit: {{epochs: {epochs}, batch_size: 4, validation: {{kind: dataset}}}}
"""


def image_folder(root: Path, counts=(("train", 12), ("validation", 4), ("test", 4))) -> Path:
    """Bright images are 'day', dark ones 'night': JPEG and PNG, various sizes."""
    rng = np.random.default_rng(0)
    for split, count in counts:
        for label, level in (("day", 200), ("night", 40)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                image = np.clip(rng.normal(level, 20, (20 + index, 30, 3)), 0, 255).astype("uint8")
                cv2.imwrite(str(folder / f"{label}{index}.{'png' if index % 2 else 'jpg'}"), image)
    (root / "train" / "day" / "README.txt").write_text("not an image: ignored")
    return root


def test_image_folder_stream(workdir):
    from dlcli import datasets
    from dlcli.datasets import params as p

    folder = image_folder(workdir / "images")
    bundle = datasets.load(p.ImageFolderParams(name="image_folder", path=str(folder), image_size=(24, 24),
                                               label_mode="binary"))
    assert bundle.class_names == ["day", "night"] and bundle.num_classes == 2
    assert (len(bundle.train), len(bundle.validation), len(bundle.test)) == (24, 8, 8)
    assert bundle.input_shape == (24, 24, 3)
    x, y = next(iter(bundle.test.make(8)))
    assert x.shape == (8, 24, 24, 3) and x.dtype.name == "float32" and y.shape == (8, 1)
    assert 0 <= float(np.min(x)) and float(np.max(x)) <= 255
    assert float(np.mean(x[y[:, 0] == 0])) > 150 > float(np.mean(x[y[:, 0] == 1]))  # day=0 bright
    first = [np.asarray(b[1]).ravel().tolist() for b in bundle.train.make(24, training=True, seed=1)]
    second = [np.asarray(b[1]).ravel().tolist() for b in bundle.train.make(24, training=True, seed=1)]
    assert first == second and sorted(first[0]) == [0.0] * 12 + [1.0] * 12  # seeded shuffle, all images


def test_one_epoch_on_an_image_folder_through_the_cli(run_cli, workdir):
    folder = image_folder(workdir / "images")
    spec = write(workdir / "images.yaml", SPEC.format(path=folder, epochs=2))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)  # "Found N files" never reaches stdout
    run = Path(output["run_dir"])
    metrics = output["metrics"]
    assert metrics["epochs_completed"] == 2 and "final_val_accuracy" in metrics
    assert 0 <= metrics["test_accuracy"] <= 1
    assert (run / "model.keras").is_file()
    evaluated = json.loads(run_cli("evaluate", str(run), "--json").stdout)
    assert evaluated["metrics"]["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_array_only_validation_on_an_image_folder_is_a_spec_error(run_cli, workdir):
    folder = image_folder(workdir / "images")
    spec = write(workdir / "images.yaml", SPEC.format(path=folder, epochs=1))
    result = run_cli("train", str(spec), "--set", "fit.validation={kind: split, fraction: 0.2}")
    assert result.exit_code == 2 and "use 'dataset'" in result.stderr
    assert not (workdir / "runs").exists()


def test_missing_folder_exit_3(run_cli, workdir):
    spec = write(workdir / "images.yaml", SPEC.format(path=workdir / "nowhere", epochs=1))
    result = run_cli("train", str(spec))
    assert result.exit_code == 3 and "no such folder of images" in result.stderr
    (workdir / "empty").mkdir()
    spec = write(workdir / "empty.yaml", SPEC.format(path=workdir / "empty", epochs=1))
    result = run_cli("train", str(spec))
    assert result.exit_code == 3 and "no class folders" in result.stderr


def test_a_plain_folder_of_classes_with_a_seeded_validation_split(workdir):
    from dlcli import datasets
    from dlcli.datasets import params as p

    folder = image_folder(workdir / "images", counts=(("train", 10),)) / "train"  # day/, night/ only
    settings = dict(name="image_folder", path=str(folder), image_size=(24, 24), label_mode="binary",
                    validation_split=0.2)
    bundle = datasets.load(p.ImageFolderParams(**settings))
    assert (len(bundle.train), len(bundle.validation), bundle.test) == (16, 4, None)
    assert not set(bundle.train.files) & set(bundle.validation.files)
    again = datasets.load(p.ImageFolderParams(**settings))
    assert again.validation.files == bundle.validation.files  # the same files every time
    other = datasets.load(p.ImageFolderParams(**settings, split_seed=7))
    assert other.validation.files != bundle.validation.files


def test_cats_vs_dogs_not_split_yet_exit_3(run_cli):
    result = run_cli("train", "cats-dogs-scratch")
    assert result.exit_code == 3 and "dlcli data split cats-vs-dogs PATH" in result.stderr


def test_an_undecodable_image_is_named_when_the_run_fails(run_cli, workdir):
    folder = image_folder(workdir / "images")
    (folder / "train" / "night" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    spec = write(workdir / "images.yaml", SPEC.format(path=folder, epochs=1))
    result = run_cli("train", str(spec))
    assert result.exit_code == 3  # a damaged data file, found before any run directory exists
    assert "broken.jpg: not a readable image" in result.stderr and result.stderr.count("\n") == 1
    assert not (workdir / "runs").exists()
