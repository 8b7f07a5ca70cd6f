"""VGG16 experiments on tiny image folders, with stand-in weights (no download): features cached
in HDF5 and reused, a frozen base inside the model, and fine-tuning a previous run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write

pytest.importorskip("cv2", reason="opencv-python-headless writes the test images")
pytestmark = pytest.mark.training

DATA = "{{name: image_folder, path: {path}, image_size: [32, 32], label_mode: binary{extra}}}"
FEATURES = """
description: tiny vgg16-features
data: {data}
model:
  type: sequential
  layers: [Flatten, {{Dense: {{units: 1, activation: sigmoid}}}}]
compile: {{optimizer: {{name: rmsprop, learning_rate: 2.0e-5}}, loss: binary_crossentropy, metrics: [accuracy]}}
fit: {{epochs: 2, batch_size: 4, validation: {{kind: dataset}}}}
"""
FROZEN = """
description: tiny vgg16-features-augment
data: {data}
model:
  type: sequential
  layers:
    - Rescaling: {{scale: 0.00392156862745098}}
    - RandomFlip: {{mode: horizontal}}
    - Pretrained: {{network: vgg16, weights: imagenet, trainable: false}}
    - Flatten
    - Dense: {{units: 8, activation: relu}}
    - Dense: {{units: 1, activation: sigmoid}}
compile: {{optimizer: {{name: rmsprop, learning_rate: 2.0e-5}}, loss: binary_crossentropy, metrics: [accuracy]}}
fit: {{epochs: 1, batch_size: 4, steps_per_epoch: 2, validation: {{kind: dataset}}}}
"""


@pytest.fixture
def stand_in_weights(workdir, monkeypatch):
    """VGG16 (no top) with random weights saved where the ImageNet file would be looked up."""
    from dlcli.backend import import_keras
    from dlcli import pretrained as applications

    keras = import_keras()
    path = workdir / "stand-in.weights.h5"
    keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).save_weights(path)
    notop = applications.APPLICATIONS["vgg16"].weights(include_top=False)  # the cached copy a run looks for
    monkeypatch.setattr(applications, "cached_copy", lambda remote: path if remote == notop else None)
    return path


def test_features_are_extracted_once_and_reused(run_cli, workdir, stand_in_weights, monkeypatch):
    from test_image_training import image_folder

    folder = image_folder(workdir / "images")
    spec = write(workdir / "features.yaml", FEATURES.format(
        data=DATA.format(path=folder, extra=", features: {network: vgg16, weights: imagenet}")))
    first = run_cli("train", str(spec), "--json")
    assert first.exit_code == 0, first.stderr
    run = Path(json.loads(first.stdout)["run_dir"])
    info = json.loads((run / "run.json").read_text())["data_info"]["features"]
    assert info["reused"] is False and info["shape"] == [1, 1, 512] and Path(info["file"]).is_file()
    assert "extracting vgg16 features of 24 train images" in first.stderr

    from dlcli import pretrained as applications

    def no_base(*args, **kwargs):
        raise AssertionError("the second run must not build VGG16")

    monkeypatch.setattr(applications, "build_application", no_base)
    second = run_cli("train", str(spec), "--json")
    assert second.exit_code == 0, second.stderr
    run2 = Path(json.loads(second.stdout)["run_dir"])
    assert json.loads((run2 / "run.json").read_text())["data_info"]["features"]["reused"] is True
    # A changed image changes the key: the features are extracted again.
    next((folder / "train" / "day").glob("*.jpg")).write_bytes((folder / "test" / "day" / "day0.jpg").read_bytes())
    third = run_cli("train", str(spec))
    assert third.exit_code == 1 and "must not build VGG16" in third.stderr


def test_frozen_base_then_fine_tuning_from_the_run(run_cli, workdir, stand_in_weights):
    from dlcli.backend import import_keras
    from test_image_training import image_folder

    keras = import_keras()
    folder = image_folder(workdir / "images")
    frozen = write(workdir / "frozen.yaml", FROZEN.format(data=DATA.format(path=folder, extra="")))
    result = run_cli("train", str(frozen), "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    model = keras.models.load_model(run / "model.keras")
    assert len(model.trainable_weights) == 4  # the two Dense layers only, as 5.20 prints

    tune = write(workdir / "tune.yaml", f"""
        description: tiny vgg16-finetune
        data: {DATA.format(path=folder, extra="")}
        model: {{type: from_run, run: {run}, trainable_from: block5_conv1}}
        compile: {{optimizer: {{name: rmsprop, learning_rate: 1.0e-5}}, loss: binary_crossentropy, metrics: [accuracy]}}
        fit: {{epochs: 1, batch_size: 4, steps_per_epoch: 2, validation: {{kind: dataset}}}}
        reference: {{source: tests, metric: test_accuracy, value: 0.0, direction: at_least}}
        """.replace("\n        ", "\n"))
    result = run_cli("train", str(tune), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    tuned = Path(output["run_dir"])
    assert json.loads((tuned / "run.json").read_text())["initialized_from"] == str(run)
    assert "test_accuracy" in output["metrics"]
    model = keras.models.load_model(tuned / "model.keras")
    base = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    trainable = [layer.name for layer in base.layers if layer.trainable and layer.weights]
    assert trainable == ["block5_conv1", "block5_conv2", "block5_conv3"]
    assert len(model.trainable_weights) == 4 + 6

    wrong = run_cli("train", str(tune), "--set", "model.trainable_from=block9_conv1")
    assert wrong.exit_code == 2 and "no pretrained network" in wrong.stderr
    missing = run_cli("train", str(tune), "--set", "model.run=vgg16-features-augment")  # named, never trained here
    assert missing.exit_code == 3 and "dlcli train vgg16-features-augment" in missing.stderr
    unknown = run_cli("train", str(tune), "--set", "model.run=never-trained")  # no run, no experiment: a typo
    assert unknown.exit_code == 2 and "neither a run directory nor an experiment" in unknown.stderr


def test_import_weights_checks_name_hash_and_format(run_cli, workdir):
    import h5py

    good = workdir / "keras-cache" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    good.parent.mkdir()
    with h5py.File(good, "w") as handle:
        handle.attrs["layer_names"] = []
    result = run_cli("data", "import", "weights", str(good.parent))
    assert result.exit_code == 0, result.stderr
    assert (workdir / "data" / "weights" / good.name).is_file()
    listed = {row["name"]: row for row in json.loads(run_cli("data", "list", "--json").stdout)["datasets"]}
    assert listed["weights"]["present"] and "1 of 13 files" in listed["weights"]["description"]

    wrong_hash = workdir / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    wrong_hash.write_bytes(b"not the real file")
    result = run_cli("data", "import", "weights", str(wrong_hash))
    assert result.exit_code == 3 and "MD5" in result.stderr
    not_hdf5 = workdir / "other" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"
    not_hdf5.parent.mkdir()
    not_hdf5.write_text("text")
    result = run_cli("data", "import", "weights", str(not_hdf5))
    assert result.exit_code == 3 and "not an HDF5 weights file" in result.stderr
    unknown = workdir / "my_weights.h5"
    unknown.write_text("x")
    result = run_cli("data", "import", "weights", str(unknown))
    assert result.exit_code == 3 and "by its Keras name" in result.stderr
    assert sorted(p.name for p in (workdir / "data" / "weights").iterdir()) == [good.name]

    # a folder with a good file and a bad one stores neither; a file linked from outside is refused
    (workdir / "data" / "weights" / good.name).unlink()
    mixed = workdir / "mixed"
    mixed.mkdir()
    second = mixed / good.name
    second.write_bytes(good.read_bytes())
    (mixed / not_hdf5.name).write_text("text")
    assert run_cli("data", "import", "weights", str(mixed)).exit_code == 3
    assert not (workdir / "data" / "weights" / second.name).exists()
    (mixed / not_hdf5.name).unlink()
    (mixed / not_hdf5.name).symlink_to(good)
    linked = run_cli("data", "import", "weights", str(mixed))
    assert linked.exit_code == 3 and "outside" in linked.stderr
    assert not (workdir / "data" / "weights" / second.name).exists()


@pytest.mark.parametrize("name, size, last_conv", [
    ("vgg19", 224, "block5_conv4"), ("resnet50", 224, "conv5_block3_3_conv"),
    ("inceptionv3", 299, "conv2d"), ("xception", 299, "block14_sepconv2"), ("mobilenetv2", 224, "Conv_1"),
])
def test_every_pretrained_network_builds_without_weights(name, size, last_conv):
    from dlcli.viz.gradcam import conv_layers
    from dlcli.viz.sources import load_source

    source = load_source(name, weights=None)
    assert source.input_size == (size, size)
    assert conv_layers(source.model)[-1].startswith(last_conv)  # InceptionV3 numbers its layers globally


def test_pretrained_layer_trainable_from_and_its_errors(run_cli, workdir):
    from dlcli.datasets.base import DataBundle, Split
    from dlcli.models import build_model
    from dlcli.spec import load_spec

    import numpy as np

    spec_file = write(workdir / "partly.yaml", """
        description: VGG16 trainable from block5_conv1
        data: {name: synthetic, num_samples: 8, num_test: 0, shape: [32, 32, 3], task: binary}
        model:
          type: sequential
          layers:
            - Pretrained: {network: VGG16, weights: null, trainable_from: block5_conv1}
            - Flatten
            - Dense: {units: 1, activation: sigmoid}
        compile: {optimizer: rmsprop, loss: binary_crossentropy}
        fit: {epochs: 1}
        """.replace("\n        ", "\n"))
    spec, _ = load_spec(str(spec_file))
    model = build_model(spec, DataBundle(Split(np.zeros((1, 32, 32, 3), "float32"), None), None))
    assert len(model.trainable_weights) == 6 + 2  # block5_conv1-3 kernels and biases, then the Dense
    assert run_cli("validate", "--no-cache", str(spec_file)).exit_code == 0
    bad = run_cli("train", str(spec_file), "--set", "model.layers.0.Pretrained.trainable_from=block9_conv1")
    assert bad.exit_code == 2 and "no layer 'block9_conv1' in vgg16" in bad.stderr
    typo = run_cli("validate", "--no-cache", str(write(workdir / "typo.yaml", spec_file.read_text().replace(
        "network: VGG16", "network: VGG61"))))
    assert typo.exit_code == 2 and "Pretrained.network: unknown pretrained network 'VGG61'" in typo.stderr
