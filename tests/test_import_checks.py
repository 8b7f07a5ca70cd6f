"""`data import` checks files against what their sources publish: one dataset cannot pass for another.

Full-size fixtures are cheap: images of zeros compress to almost nothing, and the labels carry the
facts that matter (Fashion-MNIST has 6,000 training images of each class, MNIST's digits are not
balanced)."""

from __future__ import annotations

import gzip
import json
import hashlib
import io
import pickle
import shutil
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import cache_contents

from dlcli import datasets
from dlcli.datasets import params as p
from dlcli.datasets.array_imports import PUBLISHED, check_arrays
from dlcli.errors import DataUnavailable

IDX = {"y_train": "train-labels-idx1-ubyte.gz", "x_train": "train-images-idx3-ubyte.gz",
       "y_test": "t10k-labels-idx1-ubyte.gz", "x_test": "t10k-images-idx3-ubyte.gz"}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def write_idx_file(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(header + array.tobytes())


def labels_of(per_class) -> np.ndarray:
    """Labels with the given number of samples of each class, shuffled."""
    return np.random.RandomState(0).permutation(np.repeat(np.arange(10, dtype=np.uint8), per_class))


@pytest.fixture(scope="module")
def idx_sets(tmp_path_factory) -> dict[str, Path]:
    """Full-size IDX folders: 60,000 + 10,000 blank images, labels counted as each source publishes."""
    root = tmp_path_factory.mktemp("idx")
    folders = {}
    for name in ("fashion_mnist", "mnist"):
        folder = folders[name] = root / name
        folder.mkdir()
        for split in ("train", "test"):
            write_idx_file(folder / IDX[f"y_{split}"], labels_of(PUBLISHED[name].per_class[split]))
    for split, count in (("train", 60_000), ("test", 10_000)):
        write_idx_file(folders["mnist"] / IDX[f"x_{split}"], np.zeros((count, 28, 28), np.uint8))
        shutil.copyfile(folders["mnist"] / IDX[f"x_{split}"], folders["fashion_mnist"] / IDX[f"x_{split}"])
    return folders


def refused(result, *parts: str) -> str:
    """The one-line message of a refused import (exit 3), checked for the given parts."""
    assert result.exit_code == 3, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    for part in parts:
        assert part in message, message
    return message


def test_fashion_mnist_imported_as_mnist_is_refused_naming_the_labels_file(idx_sets, run_cli, workdir):
    message = refused(run_cli("data", "import", "mnist", str(idx_sets["fashion_mnist"])),
                      f"{idx_sets['fashion_mnist'] / IDX['y_train']} holds 6,000 images of each class",
                      "as Fashion-MNIST does", "5,923, 6,742, 5,958", "is this Fashion-MNIST?",
                      "dlcli data import fashion_mnist PATH")
    assert message.startswith("error: mnist: ")
    assert not (workdir / "data" / "mnist").exists()
    result = run_cli("data", "import", "fashion_mnist", str(idx_sets["fashion_mnist"]))
    assert result.exit_code == 0, result.stderr
    bundle = datasets.load(p.FashionMnistParams(name="fashion_mnist", train_samples=20, test_samples=10))
    assert len(bundle.train) == 20 and bundle.class_names[0] == "T-shirt/top"


def test_mnist_imported_as_fashion_mnist_is_refused(idx_sets, run_cli, workdir):
    refused(run_cli("data", "import", "fashion_mnist", str(idx_sets["mnist"])),
            str(idx_sets["mnist"] / IDX["y_train"]), "5,923, 6,742", "as MNIST does",
            "Fashion-MNIST's training set has 6,000 images of each class", "dlcli data import mnist PATH")
    assert not (workdir / "data" / "fashion-mnist").exists()
    assert run_cli("data", "import", "mnist", str(idx_sets["mnist"])).exit_code == 0
    assert (workdir / "data" / "mnist" / IDX["y_train"]).is_file()


def test_a_good_cached_dataset_is_not_replaced_by_a_bad_import(idx_sets, run_cli, workdir):
    assert run_cli("data", "import", "fashion_mnist", str(idx_sets["fashion_mnist"])).exit_code == 0
    cached = workdir / "data" / "fashion-mnist" / IDX["y_train"]
    before = cached.read_bytes()
    refused(run_cli("data", "import", "fashion_mnist", str(idx_sets["mnist"] / IDX["y_train"])), "as MNIST does")
    assert cached.read_bytes() == before
    assert cache_contents(workdir / "data") == ["fashion-mnist"]  # no staging folder left


def test_a_test_split_of_other_counts_is_named(idx_sets, run_cli, workdir):
    source = workdir / "mixed"
    shutil.copytree(idx_sets["mnist"], source)
    write_idx_file(source / IDX["y_test"], labels_of([999] * 9 + [1009]))
    refused(run_cli("data", "import", "mnist", str(source)),
            f"{source / IDX['y_test']} holds 999, 999", "MNIST's test set has 980, 1,135",
            "dlcli data import mnist PATH")


def test_tiny_idx_files_are_refused_naming_the_file(run_cli, workdir):
    source = workdir / "tiny"
    source.mkdir()
    for split, count in (("train", 12), ("test", 5)):
        write_idx_file(source / IDX[f"x_{split}"], np.zeros((count, 28, 28), np.uint8))
        write_idx_file(source / IDX[f"y_{split}"], np.arange(count, dtype=np.uint8) % 10)
    refused(run_cli("data", "import", "fashion_mnist", str(source)),
            f"{source / IDX['x_train']} holds 12 training images", "Fashion-MNIST's training set has 60,000")
    assert not cache_contents(workdir / "data")


def test_an_npz_of_other_counts_is_refused_naming_the_file(run_cli, workdir):
    path = workdir / "mnist.npz"
    np.savez(path, x_train=np.zeros((12, 28, 28), np.uint8), y_train=np.arange(12) % 10,
             x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.arange(5))
    refused(run_cli("data", "import", "mnist", str(path)),
            f"mnist: {path} (x_train) holds 12 training images; MNIST's training set has 60,000",
            "dlcli data import mnist PATH")
    assert not (workdir / "data" / "mnist.npz").exists()


def test_a_file_with_the_published_sha256_is_taken_at_once(run_cli, workdir, monkeypatch):
    from dlcli.datasets import DATASETS

    path = workdir / "imdb.npz"
    np.savez(path, x_train=np.zeros(3), y_train=np.zeros(3), x_test=np.zeros(3), y_test=np.zeros(3))
    refused(run_cli("data", "import", "imdb", str(path)), f"{path} (x_train) holds 3 training reviews")
    monkeypatch.setattr(DATASETS.get("imdb").files[0], "file_hash", hashlib.sha256(path.read_bytes()).hexdigest())
    assert run_cli("data", "import", "imdb", str(path)).exit_code == 0
    assert (workdir / "data" / "imdb.npz").read_bytes() == path.read_bytes()


def ragged(count: int) -> np.ndarray:
    out = np.empty(count, dtype=object)
    out[:] = [[1, 2, 3]] * count
    return out


def test_imdb_and_reuters_counts_and_labels(run_cli, workdir):
    imdb = workdir / "imdb.npz"
    np.savez(imdb, x_train=ragged(25_000), y_train=np.arange(25_000) % 2,
             x_test=ragged(24_999), y_test=np.arange(24_999) % 2)
    refused(run_cli("data", "import", "imdb", str(imdb)), f"{imdb} (x_test) holds 24,999 test reviews",
            "IMDB's test set has 25,000")
    np.savez(imdb, x_train=ragged(25_000), y_train=np.arange(25_000) % 3, x_test=ragged(25_000),
             y_test=np.arange(25_000) % 2)
    refused(run_cli("data", "import", "imdb", str(imdb)), f"{imdb} (y_train) holds labels from 0 to 2",
            "IMDB's are the whole numbers 0-1")
    reuters = workdir / "reuters.npz"
    np.savez(reuters, x=ragged(10), y=np.arange(10))
    refused(run_cli("data", "import", "reuters", str(reuters)), f"{reuters} (x) holds 10 newswires",
            "Reuters has 11,228", "dlcli data import reuters PATH")
    np.savez(reuters, x=ragged(11_228), y=np.arange(11_228) % 47)
    refused(run_cli("data", "import", "reuters", str(reuters)), "holds labels from 0 to 46", "0-45")
    np.savez(reuters, x=ragged(11_228), y=np.arange(11_228) % 46)
    assert run_cli("data", "import", "reuters", str(reuters)).exit_code == 0
    assert not (workdir / "data" / "imdb.npz").exists()


def test_boston_counts_and_features(run_cli, workdir):
    columns = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV"]
    csv = workdir / "boston.csv"
    csv.write_text(",".join(columns) + "\n" + "1,2,3,4,5,6,7,8,9,10,11,12,13,14\n" * 505)
    refused(run_cli("data", "import", "boston_housing", str(csv)), f"{csv} holds 505 rows; Boston housing has 506")
    npz = workdir / "boston_housing.npz"
    np.savez(npz, x=np.zeros((506, 12)), y=np.zeros(506))
    refused(run_cli("data", "import", "boston_housing", str(npz)), f"{npz} (x) holds rows of shape 12",
            "Boston housing's are 13")
    assert not cache_contents(workdir / "data")


def cifar_tarball(path: Path, per_batch: int) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            payload = pickle.dumps({b"data": np.zeros((per_batch, 3072), np.uint8),
                                    b"labels": list(np.arange(per_batch) % 10)}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_cifar10_of_other_counts_is_refused(run_cli, workdir):
    tarball = cifar_tarball(workdir / "cifar-10-python.tar.gz", 2)
    refused(run_cli("data", "import", "cifar10", str(tarball)),
            f"{tarball} (data_batch_1-5) holds 10 training images; CIFAR-10's training set has 50,000",
            "dlcli data import cifar10 PATH")
    assert not (workdir / "data" / "cifar-10-batches-py").exists()


def test_the_published_cifar10_facts_pass():
    """50,000 + 10,000 32x32x3 images, 5,000 / 1,000 of each class (as views: no memory)."""
    arrays = {f"x_{split}": np.broadcast_to(np.uint8(0), (count, 32, 32, 3))
              for split, count in (("train", 50_000), ("test", 10_000))}
    arrays |= {f"y_{split}": np.arange(len(arrays[f"x_{split}"])) % 10 for split in ("train", "test")}
    check_arrays("cifar10", arrays, dict.fromkeys(arrays, "cifar"))
    arrays["y_test"] = np.full(10_000, 3)  # every test image a cat
    with pytest.raises(DataUnavailable, match="holds 0, 0, 0, 10,000"):
        check_arrays("cifar10", arrays, dict.fromkeys(arrays, "cifar"))


def test_jena_rows_are_counted(run_cli, workdir):
    from dlcli.datasets.series import JENA_COLUMNS

    csv = workdir / "jena_climate_2009_2016.csv"
    csv.write_text(",".join(JENA_COLUMNS) + "\n" + ("01.01.2009 00:10:00" + ",1" * 14 + "\n") * 10)
    refused(run_cli("data", "import", "jena_climate", str(csv)),
            f"{csv} holds 10 rows; jena_climate_2009_2016.csv has 420,551", "dlcli data import jena_climate PATH")
    assert not cache_contents(workdir / "data")


def reviews_tarball(path: Path, per_folder: int, evil: bool = False) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for folder in ("train/pos", "train/neg", "test/pos", "test/neg"):
            for index in range(per_folder):
                info = tarfile.TarInfo(f"aclImdb/{folder}/{index}_7.txt")
                info.size = 5
                archive.addfile(info, io.BytesIO(b"good!"))
        if evil:
            info = tarfile.TarInfo("../../evil.txt")
            info.size = 4
            archive.addfile(info, io.BytesIO(b"evil"))
    return path


def test_reviews_are_counted(run_cli, workdir):
    tarball = reviews_tarball(workdir / "aclImdb_v1.tar.gz", 2)
    refused(run_cli("data", "import", "imdb_reviews", str(tarball)),
            f"{tarball} holds 2 reviews in aclImdb/train/pos; the Large Movie Review Dataset has 12,500 there",
            "dlcli data import imdb_reviews PATH")
    assert not (workdir / "data" / "aclImdb").exists()


def test_a_downloaded_reviews_tarball_is_unpacked_safely(workdir):
    from dlcli.datasets.text import reviews_folder

    cache = workdir / "data"
    cache.mkdir()
    reviews_tarball(cache / "aclImdb_v1.tar.gz", 2, evil=True)  # where `data download imdb_reviews` puts it
    folder = reviews_folder(None, SimpleNamespace(path=None), cache)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))[:2] == [
        "test/neg/0_7.txt", "test/neg/1_7.txt"]
    assert len(list(folder.rglob("*.txt"))) == 8 and not (workdir.parent / "evil.txt").exists()


def test_glove_words_are_counted(run_cli, workdir):
    short = workdir / "glove.6B.2d.txt"
    short.write_text("the 0.1 0.2\nfilm 0.3 0.4\n")
    refused(run_cli("data", "import", "glove", str(short)),
            f"{short} holds 2 words; GloVe 6B has 400,000", "dlcli data import glove PATH")
    full = workdir / "full" / "glove.6B.1d.txt"
    full.parent.mkdir()
    full.write_text("".join(f"w{i} 0.5\n" for i in range(400_000)))
    assert run_cli("data", "import", "glove", str(full)).exit_code == 0
    assert (workdir / "data" / "glove" / "glove.6B.1d.txt").is_file()


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Fashion-MNIST absent: apt-get install dataset-fashion-mnist")
def test_debian_fashion_mnist_is_fashion_mnist_not_mnist(run_cli, workdir):
    refused(run_cli("data", "import", "mnist", str(DEBIAN_FASHION)),
            f"{DEBIAN_FASHION / IDX['y_train']} holds 6,000 images of each class, as Fashion-MNIST does",
            "dlcli data import fashion_mnist PATH")
    assert not cache_contents(workdir / "data")
    assert run_cli("data", "import", "fashion_mnist", str(DEBIAN_FASHION)).exit_code == 0
    assert sorted(f.name for f in (workdir / "data" / "fashion-mnist").iterdir()) == sorted(IDX.values())


def test_a_glove_zip_is_all_or_nothing(run_cli, workdir):
    import zipfile

    archive = workdir / "glove.6B.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("glove.6B.1d.txt", "".join(f"w{i} 0.5\n" for i in range(400_000)))  # good
        handle.writestr("glove.6B.2d.txt", "the 0.1 0.2\n")  # cut short
    result = run_cli("data", "import", "glove", str(archive))
    assert result.exit_code == 3 and "glove.6B.2d.txt" in result.stderr
    assert not (workdir / "data" / "glove").exists() or not list((workdir / "data" / "glove").iterdir())
    rows = {row["name"]: row for row in json.loads(run_cli("data", "list", "--json").stdout)["datasets"]}
    assert not rows["glove"]["present"]
