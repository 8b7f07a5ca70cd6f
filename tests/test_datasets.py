"""Loaders and importers on tiny files in the real formats, made here (offline).

`data import` refuses files that are not the published datasets (tests/test_import_checks.py), so
the loaders are tested on tiny files written straight into the cache, in its layout."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dlcli import api, datasets
from dlcli.datasets import params as p
from dlcli.errors import DataUnavailable

from conftest import cache_contents

IDX = {"y_train": "train-labels-idx1-ubyte.gz", "x_train": "train-images-idx3-ubyte.gz",
       "y_test": "t10k-labels-idx1-ubyte.gz", "x_test": "t10k-images-idx3-ubyte.gz"}


def write_idx(folder: Path, train: int = 12, test: int = 5) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    arrays = {"x_train": rng.randint(0, 256, (train, 28, 28), dtype=np.uint8), "y_train": np.arange(train, dtype=np.uint8) % 10,
              "x_test": rng.randint(0, 256, (test, 28, 28), dtype=np.uint8), "y_test": np.arange(test, dtype=np.uint8) % 10}
    for key, name in IDX.items():
        array = arrays[key]
        header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        with gzip.open(folder / name, "wb") as handle:
            handle.write(header + array.tobytes())
    return arrays


def test_fashion_mnist_idx_load(workdir):
    arrays = write_idx(workdir / "data" / "fashion-mnist")  # where `data import fashion_mnist` stores them
    bundle = datasets.load(p.FashionMnistParams(name="fashion_mnist"))
    # the pixels as stored; the model's first layer divides them by 255
    assert bundle.train.x.shape == (12, 28, 28, 1) and bundle.train.x.dtype == np.uint8
    np.testing.assert_array_equal(bundle.train.x[..., 0], arrays["x_train"])
    assert bundle.input_preprocessing == [("Rescaling", {"scale": 1 / 255})]
    assert bundle.train.y.shape == (12, 10) and bundle.train.y.argmax(1).tolist() == arrays["y_train"].tolist()
    flat = datasets.load(p.FashionMnistParams(name="fashion_mnist", shape="flat", labels="int", train_samples=4))
    assert flat.train.x.shape == (4, 784) and flat.train.y.tolist() == [0, 1, 2, 3]


def test_mnist_npz_load(workdir):
    arrays = write_idx(workdir / "idx")
    (workdir / "data").mkdir()
    np.savez(workdir / "data" / "mnist.npz", **arrays)  # where `data import mnist` stores it
    bundle = datasets.load(p.MnistParams(name="mnist"))
    assert bundle.test.x.shape == (5, 28, 28, 1)


def test_corrupt_import_exits_3_and_leaves_nothing(workdir, run_cli):
    write_idx(workdir / "src")
    (workdir / "src" / IDX["x_train"]).write_bytes(b"not gzip at all")
    result = run_cli("data", "import", "fashion_mnist", str(workdir / "src"))
    assert result.exit_code == 3 and "not a valid file" in result.stderr
    assert not (workdir / "data" / "fashion-mnist").exists()
    assert not cache_contents(workdir / "data")


def test_one_writer_per_dataset_and_killed_imports_leave_nothing(workdir):
    """A second import of the same dataset waits for the first; the scratch folder of a killed
    import is removed by the next one."""
    import os
    import subprocess
    import sys
    import time

    from dlcli.datasets.cache import exclusive

    write_idx(workdir / "src")
    stale = workdir / "data" / ".fashion-mnist.staging-999999999-x"  # no such process
    stale.mkdir(parents=True)
    (stale / "train-images-idx3-ubyte.gz").write_bytes(b"27 MB, once")
    with exclusive("fashion_mnist", workdir / "data"):
        process = subprocess.Popen([sys.executable, "-m", "dlcli", "data", "import", "fashion_mnist",
                                    str(workdir / "src")], stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        time.sleep(3)
        assert process.poll() is None  # still waiting for the lock this test holds
    _, err = process.communicate(timeout=60)
    assert "waiting for another dlcli that is writing dataset 'fashion_mnist'" in err
    assert process.returncode == 3  # the tiny files are then refused, as usual
    assert not stale.exists()


def test_corrupt_cached_file_exits_3(workdir, run_cli, tiny_spec):
    (workdir / "data").mkdir()
    (workdir / "data" / "mnist.npz").write_bytes(b"truncated")
    result = run_cli("train", "mnist-dense")
    assert result.exit_code == 3 and "mnist.npz is unreadable or corrupt" in result.stderr
    assert not (workdir / "runs").exists()


def test_import_missing_path(run_cli):
    result = run_cli("data", "import", "mnist", "/nonexistent/mnist.npz")
    assert result.exit_code == 3 and "no such file" in result.stderr


def _imdb_like(workdir: Path, name: str, keys: dict) -> Path:
    """A tiny Keras-style .npz, in the cache (where `data import` stores one)."""
    path = workdir / "data" / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **keys)
    return path


def ragged(rows):
    out = np.empty(len(rows), dtype=object)
    out[:] = [list(r) for r in rows]
    return out


def test_imdb_multi_hot_and_sequences(workdir):
    x = ragged([[1, 5, 9], [4, 4], [20, 2, 3, 7], [6]])
    path = _imdb_like(workdir, "imdb", {"x_train": x, "y_train": np.array([0, 1, 1, 0]),
                                        "x_test": x[:2], "y_test": np.array([1, 0])})
    bundle = datasets.load(p.ImdbParams(name="imdb", num_words=12))
    assert bundle.train.x.shape == (4, 12) and set(np.unique(bundle.train.x)) <= {0.0, 1.0}
    assert bundle.train.x[:, 1].all()  # every review starts with the start mark 1
    sequences = datasets.load(p.ImdbParams(name="imdb", num_words=12, representation="sequences", maxlen=3))
    assert sequences.train.x.shape == (4, 3) and sequences.train.x.dtype == np.int32


def test_imdb_matches_keras_own_loader(workdir, monkeypatch):
    pytest.importorskip("tensorflow")
    from keras.src.datasets import imdb as keras_imdb

    x = ragged([[1, 5, 9], [4, 4], [20, 2, 3, 7], [6], [8, 8, 1]])
    path = _imdb_like(workdir, "imdb", {"x_train": x, "y_train": np.array([0, 1, 1, 0, 1]),
                                        "x_test": x[:3], "y_test": np.array([1, 0, 1])})
    monkeypatch.setattr(keras_imdb, "get_file", lambda *a, **k: str(path))
    (kx, ky), (tx, ty) = keras_imdb.load_data(num_words=12)
    ours = datasets.load(p.ImdbParams(name="imdb", num_words=12, representation="sequences", maxlen=10,
                                      padding="post", truncating="post"))
    for keras_rows, our_rows in ((kx, ours.train.x), (tx, ours.test.x)):
        assert [list(r) for r in keras_rows] == [[v for v in row if v] for row in our_rows.tolist()]
    assert ky.tolist() == ours.train.y.tolist()


def test_reuters_matches_keras_split(workdir, monkeypatch):
    pytest.importorskip("tensorflow")
    from keras.src.datasets import reuters as keras_reuters

    x = ragged([[i, i + 1] for i in range(10)])
    path = _imdb_like(workdir, "reuters", {"x": x, "y": np.arange(10) % 46})
    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(path))
    (kx, ky), (tx, ty) = keras_reuters.load_data(num_words=30)
    ours = datasets.load(p.ReutersParams(name="reuters", num_words=30, labels="int"))
    assert ours.train.y.tolist() == ky.tolist() and ours.test.y.tolist() == ty.tolist()


BOSTON = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV"]


def test_boston_csv_is_split_like_keras(workdir, monkeypatch):
    rng = np.random.RandomState(1)
    table = rng.rand(506, 14)
    text = ",".join(name.lower() for name in BOSTON) + "\n" + "\n".join(",".join(f"{v:.6f}" for v in row) for row in table)
    (workdir / "boston.csv").write_text(text)
    api.data_import("boston_housing", str(workdir / "boston.csv"))
    ours = datasets.load(p.BostonParams(name="boston_housing", standardize=False))
    assert len(ours.train) == 404 and len(ours.test) == 102
    pytest.importorskip("tensorflow")
    from keras.src.datasets import boston_housing as keras_boston

    np.savez(workdir / "b.npz", x=np.round(table[:, :13], 6), y=np.round(table[:, 13], 6))
    monkeypatch.setattr(keras_boston, "get_file", lambda *a, **k: str(workdir / "b.npz"))
    (kx, ky), (tx, ty) = keras_boston.load_data()
    np.testing.assert_allclose(ours.train.y, ky, rtol=1e-5)
    np.testing.assert_allclose(ours.test.x, tx, rtol=1e-5)
    standardized = datasets.load(p.BostonParams(name="boston_housing"))
    np.testing.assert_allclose(standardized.train.x.mean(0), 0, atol=1e-4)


def test_boston_csv_with_a_missing_column(workdir, run_cli):
    (workdir / "b.csv").write_text("crim,zn\n1,2\n")
    result = run_cli("data", "import", "boston_housing", str(workdir / "b.csv"))
    assert result.exit_code == 3 and "missing column(s) INDUS" in result.stderr


def test_cifar10_downloaded_tarball_is_unpacked_safely(workdir):
    archive = workdir / "data" / "cifar-10-python.tar.gz"  # where `data download cifar10` puts it
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": np.full((2, 3072), 7, dtype=np.uint8), b"labels": [1, 2]}
            payload = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        evil = tarfile.TarInfo("../../outside")
        evil.size = 1
        tar.addfile(evil, io.BytesIO(b"x"))
    bundle = datasets.load(p.Cifar10Params(name="cifar10"))
    assert not (workdir / "outside").exists() and not (workdir.parent / "outside").exists()
    assert bundle.train.x.shape == (10, 32, 32, 3) and bundle.test.y.shape == (2, 10)


def test_digits_are_shipped_and_split_per_class():
    bundle = datasets.load(p.DigitsParams(name="digits"))
    assert len(bundle.train) + len(bundle.test) == 1797
    counts = bundle.test.y.sum(0)
    assert counts.min() >= 35 and counts.max() <= 37
    assert bundle.train.x.max() == 255 and bundle.input_preprocessing == [("Rescaling", {"scale": 1 / 255})]


def test_missing_offline_dataset_message(workdir):
    with pytest.raises(DataUnavailable) as error:
        datasets.load(p.ImdbParams(name="imdb"))
    assert "imdb.npz" in str(error.value) and "dlcli data import imdb PATH" in str(error.value)


def _entry_served_from(tmp_path: Path, payload: bytes, file_hash: str):
    """A dataset entry whose one file is 'downloaded' from a file:// URL (get_file's real path)."""
    from dlcli.datasets.base import DatasetEntry, RemoteFile

    served = tmp_path / "served.npz"
    served.write_bytes(payload)
    return DatasetEntry(name="served", description="", source="", params=p.ImdbParams,
                        loader="x:y", files=[RemoteFile("served/served.npz", served.as_uri(), file_hash)])


def test_download_puts_the_checked_file_in_the_cache(workdir, tmp_path, monkeypatch, capsys):
    import hashlib

    from dlcli.datasets import cache

    monkeypatch.delenv("DLCLI_OFFLINE")
    payload = b"dataset bytes"
    entry = _entry_served_from(tmp_path, payload, hashlib.sha256(payload).hexdigest())
    paths = cache.download(entry)
    assert paths == [cache.data_dir() / "served/served.npz"]
    assert paths[0].read_bytes() == payload
    assert list(paths[0].parent.iterdir()) == [paths[0]]  # no scratch folder left
    assert capsys.readouterr().out == ""  # progress goes to stderr; stdout may carry --json


def test_download_with_a_wrong_hash_leaves_nothing(workdir, tmp_path, monkeypatch):
    from dlcli.datasets import cache

    monkeypatch.delenv("DLCLI_OFFLINE")
    entry = _entry_served_from(tmp_path, b"truncated", "0" * 64)
    with pytest.raises(DataUnavailable) as error:
        cache.download(entry)
    assert "download failed" in str(error.value) and "dlcli data import served PATH" in str(error.value)
    assert not any((cache.data_dir() / "served").iterdir())


def test_folder_imports_do_not_follow_links_out_of_the_folder(workdir, run_cli):
    write_idx(workdir / "src")
    outside = workdir / "elsewhere.gz"
    (workdir / "src" / IDX["y_test"]).rename(outside)
    (workdir / "src" / IDX["y_test"]).symlink_to(outside)
    result = run_cli("data", "import", "fashion_mnist", str(workdir / "src"))
    assert result.exit_code == 3 and "is a link to" in result.stderr and "outside" in result.stderr
    assert not cache_contents(workdir / "data")
