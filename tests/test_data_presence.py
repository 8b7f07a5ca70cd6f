"""dlcli.datasets.presence: what a spec's data needs, whether it is here, and refusing early."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import write
from dlcli.datasets.array_imports import PUBLISHED
from dlcli.datasets.presence import missing, needs, present, require
from dlcli.errors import DataUnavailable
from test_import_checks import IDX

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
    assert missing(str(spec)) == ["corpus.txt: no such text file (data.path of dataset 'text_file')"]
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


# --------------------------------------------------------------------------- what `data import` says

@pytest.fixture(scope="module")
def idx_sets(tmp_path_factory) -> dict[str, Path]:
    """Full-size IDX folders of each dataset: 60,000 + 10,000 blank images, labels as the source counts them."""
    from test_import_checks import labels_of, write_idx_file

    folders = {}
    for name in ("fashion_mnist", "mnist"):
        folder = folders[name] = tmp_path_factory.mktemp(name)
        for split, count in (("train", 60_000), ("test", 10_000)):
            write_idx_file(folder / IDX[f"y_{split}"], labels_of(PUBLISHED[name].per_class[split]))
            write_idx_file(folder / IDX[f"x_{split}"], np.zeros((count, 28, 28), np.uint8))
    return folders


def test_import_says_what_it_checked_then_lists_the_files(run_cli, workdir, idx_sets):
    result = run_cli("data", "import", "fashion_mnist", str(idx_sets["fashion_mnist"]))
    assert result.exit_code == 0, result.stderr
    stored = sorted((workdir / "data" / "fashion-mnist").iterdir())
    size = sum(path.stat().st_size for path in stored) / 1e6
    lines = result.stdout.splitlines()
    assert lines[0] == f"fashion_mnist: checked 4 files, 60,000 + 10,000 images, {size:.1f} MB"
    assert sorted(lines[1:]) == [str(path) for path in stored]  # nothing replaced: nothing said


def test_importing_again_says_it_replaced_the_cached_copy(run_cli, workdir, idx_sets):
    assert run_cli("data", "import", "mnist", str(idx_sets["mnist"])).exit_code == 0
    again = run_cli("data", "import", "mnist", str(idx_sets["mnist"]))
    assert again.exit_code == 0 and again.stdout.splitlines()[1] == "replaced the copy the cache held"


def test_a_corrupt_file_of_a_folder_is_named_not_its_folder(run_cli, workdir, idx_sets):
    import shutil

    source = workdir / "mnist-copy"
    shutil.copytree(idx_sets["mnist"], source)
    (source / IDX["x_test"]).write_bytes(b"not gzip at all")
    result = run_cli("data", "import", "mnist", str(source))
    assert result.exit_code == 3
    assert f"mnist: {source / IDX['x_test']} is not a valid file for this dataset" in result.stderr


def test_a_corrupt_cached_file_is_named_when_a_run_reads_it(workdir, idx_sets):
    import shutil

    from dlcli.datasets import DATASETS
    from dlcli.datasets.files_io import read_idx_set
    from dlcli.datasets.keras_arrays import _read

    cached = workdir / "data" / "mnist"
    shutil.copytree(idx_sets["mnist"], cached)
    (cached / IDX["y_train"]).write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(DataUnavailable, match=f"{cached / IDX['y_train']} is unreadable or corrupt"):
        _read(DATASETS.get("mnist"), read_idx_set, cached)


def test_an_imported_folder_is_as_readable_as_the_umask_allows(run_cli, workdir, idx_sets):
    from dlcli.atomic import umask

    if umask() & 0o077 == 0o077:
        pytest.skip("this umask keeps everything private: nothing to tell apart")
    assert run_cli("data", "import", "fashion_mnist", str(idx_sets["fashion_mnist"])).exit_code == 0
    folder = workdir / "data" / "fashion-mnist"
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask()
    assert all(path.stat().st_mode & 0o777 == 0o666 & ~umask() for path in folder.iterdir())


def test_a_corrupt_batch_in_a_cifar_tarball_is_named_by_the_tarball_and_its_member(run_cli, workdir):
    import io
    import tarfile

    tarball = workdir / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        data = b"not a pickled batch"
        member = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    result = run_cli("data", "import", "cifar10", str(tarball))
    assert result.exit_code == 3
    assert f"cifar10: {tarball} (data_batch_1) is not a valid file for this dataset" in result.stderr


def test_import_json_is_one_object_of_what_was_checked_and_stored(run_cli, workdir, idx_sets):
    result = run_cli("data", "import", "mnist", str(idx_sets["mnist"]), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dataset"] == "mnist" and data["checked"] == "60,000 + 10,000 images" and data["replaced"] == []
    assert data["files"] == [str(workdir / "data" / "mnist" / name) for name in IDX.values()]
    assert data["bytes"] == sum(Path(file).stat().st_size for file in data["files"])
