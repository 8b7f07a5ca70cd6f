"""dlcli.datasets.presence: what a spec's data needs, whether it is here, and refusing early."""

from __future__ import annotations

import pytest

from conftest import write
from dlcli.datasets.presence import missing, needs, present, require
from dlcli.errors import DataUnavailable

PRETRAINED_SPEC = """
data: {name: digits}
model:
  type: sequential
  layers:
    - Pretrained: {network: VGG16}
    - Pretrained: {network: vgg16, include_top: true, weights: null}
    - Embedding: {input_dim: 10, output_dim: 50}
      weights: glove.6B.50d
"""


@pytest.fixture(autouse=True)
def no_keras_cache(workdir, monkeypatch):
    """~/.keras/models counts as a weights cache: the test's home has none."""
    monkeypatch.setenv("HOME", str(workdir / "home"))


def test_a_named_experiment_without_its_data_is_missing_with_the_commands_that_bring_it(workdir):
    lines = missing("mnist-dense")
    assert len(lines) == 1 and "dlcli data download mnist" in lines[0] and "dlcli data import mnist PATH" in lines[0]
    assert not present("mnist-dense")
    write(workdir / "data" / "mnist.npz", "x")
    assert missing("mnist-dense") == [] and present("mnist-dense")


def test_an_imported_alternative_counts_as_present(workdir):
    for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz"):
        write(workdir / "data" / "mnist" / name, "x")
    assert present("mnist-dense")


def test_shipped_data_needs_nothing(tiny_spec):
    assert needs(str(tiny_spec)) == [] and present(str(tiny_spec))


def test_pretrained_weights_and_glove_are_needs_once_each(workdir):
    spec = write(workdir / "p.yaml", PRETRAINED_SPEC)
    found = [need.what for need in needs(str(spec))]
    assert found == ["weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "glove glove.6B.50d.txt"]
    write(workdir / "data" / "weights" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "x")
    write(workdir / "home" / ".keras" / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels.h5", "x")
    assert [line.split()[1] for line in missing(str(spec))] == ["glove.6B.50d.txt"]
    write(workdir / "data" / "glove" / "glove.6B.zip", "x")  # the zip holds every size
    assert present(str(spec))


def test_the_weights_in_keras_own_cache_count(workdir):
    spec = write(workdir / "p.yaml", "data: {name: digits}\nmodel: {layers: [{Pretrained: {network: resnet50}}]}\n")
    assert not present(str(spec))
    write(workdir / "home" / ".keras" / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "x")
    assert present(str(spec))


def test_a_features_base_needs_its_weights_without_top(workdir):
    write(workdir / "data" / "cats-vs-dogs" / "train" / "x", "")
    for split in ("validation", "test"):
        (workdir / "data" / "cats-vs-dogs" / split).mkdir()
    spec = write(workdir / "f.yaml", "data: {name: cats_vs_dogs, features: {network: vgg16}}\n")
    assert [need.what for need in needs(str(spec)) if not need.present] == \
        ["weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"]


def test_a_data_path_is_needed_as_given(workdir):
    spec = write(workdir / "t.yaml", "data: {name: text_file, path: corpus.txt}\n")
    assert missing(str(spec)) == ["corpus.txt: no such file or folder (data.path of dataset 'text_file')"]
    write(workdir / "corpus.txt", "hello")
    assert present(str(spec))


def test_a_validated_spec_gives_what_its_yaml_gives():
    from dlcli.spec.loading import load_spec

    spec, _ = load_spec("vgg16-features")
    assert needs(spec) == needs("vgg16-features")


def test_offline_require_refuses_with_the_loaders_line(workdir):
    with pytest.raises(DataUnavailable) as refused:
        require("mnist-dense")
    assert "DLCLI_OFFLINE is set" in str(refused.value) and "dlcli data import mnist PATH" in str(refused.value)


def test_online_require_leaves_downloads_to_the_loader_but_refuses_what_has_no_url(monkeypatch):
    monkeypatch.delenv("DLCLI_OFFLINE")
    require("mnist-dense")  # downloadable: the loader downloads it
    with pytest.raises(DataUnavailable, match="dlcli data split cats-vs-dogs"):
        require("cats-dogs-scratch")


def test_reading_presence_imports_no_tensorflow_nor_numpy():
    import subprocess
    import sys

    code = ("import sys; from dlcli.datasets.presence import missing; "
            "[missing(n) for n in ('mnist-dense', 'vgg16-features', 'glove-imdb')]; "
            "print('tensorflow' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
