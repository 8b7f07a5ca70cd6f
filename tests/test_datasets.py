"""Loaders and importers on tiny files in the real formats, made here (offline).

`data import` refuses files that are not the published datasets (tests/test_import_checks.py), so
the loaders are tested on tiny files written straight into the cache, in its layout."""

from __future__ import annotations

import errno
import gzip
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dlcli import api, datasets
from dlcli.datasets import params as p
from dlcli.errors import DataUnavailable

from conftest import HANG_GUARD_S, cache_contents

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


def test_one_writer_per_dataset_and_killed_imports_leave_nothing(workdir, run_cli):
    """A typed import of a dataset that another dlcli is writing is refused at once, naming that
    writer; a run that needs the dataset waits for it, saying so; the scratch folder of a killed
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
        refused = run_cli("data", "import", "fashion_mnist", str(workdir / "src"))
        assert refused.exit_code == 2 and f"pid {os.getpid()}" in refused.stderr
        assert refused.stderr.count("\n") == 1
        waiter = subprocess.Popen([sys.executable, "-c", "from pathlib import Path\n"
                                   "from dlcli.datasets.cache import exclusive\n"
                                   f"with exclusive('fashion_mnist', Path({str(workdir / 'data')!r})): print('got it')"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        time.sleep(3)
        assert waiter.poll() is None  # still waiting for the lock this test holds
    out, err = waiter.communicate(timeout=60)
    assert out.strip() == "got it" and "waiting for" in err and f"pid {os.getpid()}" in err
    assert run_cli("data", "import", "fashion_mnist", str(workdir / "src")).exit_code == 3  # tiny files: refused
    assert not stale.exists()


def test_corrupt_cached_file_exits_3(workdir, run_cli, tiny_spec):
    (workdir / "data").mkdir()
    (workdir / "data" / "mnist.npz").write_bytes(b"truncated")
    result = run_cli("train", "mnist-dense")
    assert result.exit_code == 3 and "mnist.npz is unreadable or corrupt" in result.stderr
    assert not (workdir / "runs").exists()


def test_import_missing_path(run_cli):
    result = run_cli("data", "import", "mnist", "/nonexistent/mnist.npz")
    assert result.exit_code == 2 and "no such file" in result.stderr


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
    return DatasetEntry(name="served", description="", source="", params_class=p.ImdbParams,
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


# --------------------------------------------------------------------------- issue 14: a whole copy at every moment


def _folder_of(path: Path, text: str, count: int = 3) -> Path:
    path.mkdir(parents=True)
    for index in range(count):
        (path / f"{index}.txt").write_text(text)
    return path


def _whole(folder: Path) -> str | None:
    """'old' or 'new' when the folder holds that complete copy, else None."""
    texts = {p.read_text() for p in folder.glob("*.txt")} if folder.is_dir() else set()
    return texts.pop() if len(texts) == 1 and len(list(folder.glob("*.txt"))) == 3 else None


KILL_POINTS = {
    "after the swap, before the old copy is removed": "import dlcli.datasets.cache as c; c.discard = lambda p: os._exit(9)",
    "after the old copy is moved aside": """import dlcli.datasets.cache as c; c._exchange = lambda a, b: False
real = os.rename
def rename(a, b):
    if '.staging-' in str(a): os._exit(9)
    real(a, b)
os.rename = rename""",
    "after the new copy is in place, before the old is removed": """import dlcli.datasets.cache as c
c._exchange = lambda a, b: False; c.discard = lambda p: os._exit(9) if '.old-' in str(p) else None""",
}


@pytest.mark.parametrize("kill", list(KILL_POINTS), ids=lambda text: text.split(",")[0].replace(" ", "-"))
def test_replacing_a_folder_leaves_a_whole_copy_when_killed_at_any_step(workdir, kill):
    """SIGKILL-like ends (os._exit) at each step of replace_folder: the target always holds a whole
    copy, at once or once the next writer of the cache has cleaned up."""
    import subprocess
    import sys

    from dlcli.datasets.cache import clean_stale_staging

    target = _folder_of(workdir / "data" / "aclImdb", "old")
    new = _folder_of(workdir / "data" / ".aclImdb.staging-999999999-x", "new")  # a killed writer's
    script = f"import os\n{KILL_POINTS[kill]}\nfrom pathlib import Path\nc.replace_folder(Path({str(new)!r}), Path({str(target)!r}))"
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert process.returncode == 9, process.stderr
    clean_stale_staging(workdir / "data")  # what the next import, download or split does first
    assert _whole(target) in ("old", "new")
    assert cache_contents(workdir / "data") == ["aclImdb"]


def _cifar_tarball(path: Path, value: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            payload = pickle.dumps({b"data": np.full((2, 3072), value, dtype=np.uint8), b"labels": [1, 2]}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def _write_cifar(workdir: Path, value: int) -> Path:
    from dlcli.datasets.array_imports import unpack_cifar10

    unpack_cifar10(_cifar_tarball(workdir / f"cifar-{value}.tar.gz", value), workdir / "data")
    return workdir / "data" / "cifar-10-batches-py"


def _write_reviews(workdir: Path, value: int) -> Path:
    from test_import_checks import reviews_tarball

    from dlcli.datasets.text import unpack_reviews

    unpack_reviews(reviews_tarball(workdir / f"reviews-{value}.tar.gz", value), workdir / "data")
    return workdir / "data" / "aclImdb"


def _write_split(workdir: Path, value: int) -> Path:
    from dlcli.datasets import image_split

    source = workdir / f"kaggle-{value}"
    source.mkdir(exist_ok=True)
    for label in ("cat", "dog"):
        for index in range(value):
            (source / f"{label}.{index}.jpg").write_bytes(b"an image")
    sizes = {"train": value, "validation": 0, "test": 0}
    image_split.split_cats_vs_dogs(source, workdir / "data" / "cats-vs-dogs", sizes, overwrite=True)
    return workdir / "data" / "cats-vs-dogs"


def _files(folder: Path) -> int:
    return len([p for p in folder.rglob("*") if p.is_file()])


@pytest.mark.parametrize("writer", [_write_cifar, _write_reviews, _write_split], ids=["cifar10", "aclImdb", "split"])
def test_every_folder_writer_keeps_the_cached_copy_until_the_new_one_is_in_place(workdir, monkeypatch, writer):
    """Each writer that replaces a folder of the cache (an import or unpack, `data split --overwrite`)
    is killed as it moves its new copy in: the dataset is still there, whole."""
    import os

    from dlcli.datasets import image_split

    monkeypatch.setattr(image_split, "decode_problem", lambda data: None)  # no TensorFlow for fake images
    first = writer(workdir, 2)
    count = _files(first)

    class Killed(BaseException):
        pass

    def killed_on_the_new_copy(real):
        def rename(source, target, *args, **kwargs):
            if ".staging-" in str(source):
                raise Killed()
            return real(source, target, *args, **kwargs)
        return rename

    for module, name in ((os, "rename"), (os, "replace"), (image_split.shutil, "move")):
        monkeypatch.setattr(module, name, killed_on_the_new_copy(getattr(module, name)))
    try:
        writer(workdir, 3)
    except Killed:
        pass
    assert first.is_dir() and _files(first) >= count  # the old copy, or the whole new one (never less)


# --------------------------------------------------------------------------- issue 14: links out of an imported folder


def _linked_out(workdir: Path, inside: str, made: Path) -> None:
    """Move `made`'s part `inside` out of the imported folder and leave a link to it in its place."""
    place = made / inside
    outside = workdir / "elsewhere" / place.name
    outside.parent.mkdir(exist_ok=True)
    place.rename(outside)
    place.symlink_to(outside, target_is_directory=outside.is_dir())


def _idx_source(src: Path) -> None:
    write_idx(src)


def _npz_source(src: Path) -> None:
    src.mkdir()
    np.savez(src / "imdb.npz", x_train=ragged([[1]]), y_train=np.zeros(1))
    (src / "imdb_word_index.json").write_text("{}")


def _cifar_source(src: Path) -> None:
    folder = src / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        (folder / name).write_bytes(b"a batch")


def _reviews_source(src: Path) -> None:
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        (src / "aclImdb" / part).mkdir(parents=True)
        (src / "aclImdb" / part / "0_7.txt").write_text("good!")


def _glove_source(src: Path) -> None:
    src.mkdir()
    (src / "glove.6B.1d.txt").write_text("the 0.5\n")


def _kaggle_source(src: Path) -> None:
    (src / "train").mkdir(parents=True)
    for name in ("cat.0.jpg", "dog.0.jpg"):
        (src / "train" / name).write_bytes(b"an image")


LINKS = [  # (command, dataset, how the source is made, the part of it that becomes a link out)
    ("import", "fashion_mnist", _idx_source, IDX["y_test"]),
    ("import", "imdb", _npz_source, "imdb.npz"),
    ("import", "imdb", _npz_source, "imdb_word_index.json"),
    ("import", "cifar10", _cifar_source, "cifar-10-batches-py"),
    ("import", "cifar10", _cifar_source, "cifar-10-batches-py/data_batch_3"),
    ("import", "imdb_reviews", _reviews_source, "aclImdb"),
    ("import", "imdb_reviews", _reviews_source, "aclImdb/train"),
    ("import", "imdb_reviews", _reviews_source, "aclImdb/train/pos"),
    ("import", "imdb_reviews", _reviews_source, "aclImdb/test/neg/0_7.txt"),
    ("import", "glove", _glove_source, "glove.6B.1d.txt"),
    ("split", "cats-vs-dogs", _kaggle_source, "train"),
    ("split", "cats-vs-dogs", _kaggle_source, "train/dog.0.jpg"),
]


@pytest.mark.parametrize("command, dataset, make, inside", LINKS, ids=[f"{row[1]}:{row[3]}" for row in LINKS])
def test_every_folder_import_refuses_a_link_out_at_any_level(workdir, run_cli, command, dataset, make, inside):
    src = workdir / "src"
    make(src)
    _linked_out(workdir, inside, src)
    extra = ["--train", "1", "--validation", "0", "--test", "0"] if command == "split" else []
    result = run_cli("data", command, dataset, str(src), *extra)
    message = result.stderr.strip()
    assert result.exit_code == 3 and "\n" not in message, message
    assert f"{src / inside} is a link to" in message and "outside" in message
    assert not cache_contents(workdir / "data")


# --------------------------------------------------------------------------- issue 14: a cache that cannot be written


def _boston_csv(path: Path) -> Path:
    rows = np.random.RandomState(0).uniform(0, 100, (506, 14)).round(4)
    path.write_text(",".join(["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B",
                              "LSTAT", "MEDV"]) + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    return path


@pytest.fixture
def mount_tmpfs(workdir):
    """Mount a tmpfs with the given options on a new folder (skipped where this machine cannot)."""
    import subprocess

    mounted = []

    def mount(name: str, options: str) -> Path:
        folder = workdir / name
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.decode().strip() or 'not root'})")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


CACHES = {  # how the cache folder is made unwritable -> (DLCLI_DATA_DIR, what the one line names)
    "a file in its place": lambda workdir, mount: (_boston_csv(workdir / "data"), "data"),
    "a file where its .locks folder goes": lambda workdir, mount: (
        (workdir / "data").mkdir() or (workdir / "data" / ".locks").write_text("x") and workdir / "data", ".locks"),
    "read-only": lambda workdir, mount: (mount("ro-disk", "ro,size=64k"), "Read-only file system"),
    "full": lambda workdir, mount: (mount("small-disk", "size=8k"), "No space left on device"),
}


@pytest.mark.parametrize("cache", list(CACHES), ids=lambda name: name.replace(" ", "-"))
def test_an_unwritable_cache_is_one_line_exit_2_and_nothing_half_written(workdir, run_cli, monkeypatch, mount_tmpfs,
                                                                          cache):
    root, named = CACHES[cache](workdir, mount_tmpfs)
    before = sorted(p.relative_to(root) for p in root.rglob("*")) if root.is_dir() else root.read_bytes()
    monkeypatch.setenv("DLCLI_DATA_DIR", str(root))
    result = run_cli("data", "import", "boston_housing", str(_boston_csv(workdir / "boston.csv")))
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert f"cannot write to {root}" in message and named in message
    after = sorted(p.relative_to(root) for p in root.rglob("*")) if root.is_dir() else root.read_bytes()
    assert after == before or [str(p) for p in after if p not in before] == [".locks", ".locks/boston_housing.lock"]


# --------------------------------------------------------------------------- issue 14: archives inflate within bounds

BIG = 5_000_000  # bytes of one highly compressible member; the tests lower the bound to 1 MB


def _zip_of(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _tar_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _big_npz(workdir: Path) -> list[str]:
    path = workdir / "imdb.npz"
    np.savez_compressed(path, x_train=np.zeros(BIG // 8), y_train=np.zeros(1))
    return ["data", "import", "imdb", str(path)]


def _big_idx(workdir: Path) -> list[str]:
    write_idx(workdir / "src")
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (BIG // 784, 28, 28))
    with gzip.open(workdir / "src" / IDX["x_train"], "wb") as handle:
        handle.write(header + bytes(BIG // 784 * 784))
    return ["data", "import", "fashion_mnist", str(workdir / "src")]


def _big_cifar(workdir: Path) -> list[str]:
    return ["data", "import", "cifar10", str(_tar_of(workdir / "c.tar.gz", {"cifar-10-batches-py/data_batch_1": bytes(BIG)}))]


def _big_reviews(workdir: Path) -> list[str]:
    return ["data", "import", "imdb_reviews", str(_tar_of(workdir / "r.tar.gz", {"aclImdb/train/pos/0_7.txt": bytes(BIG)}))]


def _big_glove(workdir: Path) -> list[str]:
    return ["data", "import", "glove", str(_zip_of(workdir / "g.zip", {"glove.6B.50d.txt": b"the 0.5\n" * (BIG // 8)}))]


def _big_jena(workdir: Path) -> list[str]:
    return ["data", "import", "jena_climate", str(_zip_of(workdir / "j.zip", {"jena.csv": b"a,b\n" + b"1,2\n" * (BIG // 4)}))]


def _big_kaggle(workdir: Path) -> list[str]:
    return ["data", "split", "cats-vs-dogs", str(_zip_of(workdir / "k.zip", {"train/cat.0.jpg": bytes(BIG)}))]


def _many_glove(workdir: Path) -> list[str]:  # each member within its bound, together past the archive's
    members = {f"glove.6B.{size}d.txt": b"the 0.5\n" * 80_000 for size in (50, 100)}
    return ["data", "import", "glove", str(_zip_of(workdir / "g.zip", members))]


ARCHIVES = [  # (what, how the file is made, the bound it goes past)
    ("npz member", _big_npz, "DLCLI_MAX_MEMBER_BYTES"),
    ("gzip IDX file", _big_idx, "DLCLI_MAX_MEMBER_BYTES"),
    ("cifar tar.gz member", _big_cifar, "DLCLI_MAX_MEMBER_BYTES"),
    ("aclImdb tar.gz member", _big_reviews, "DLCLI_MAX_MEMBER_BYTES"),
    ("glove zip member", _big_glove, "DLCLI_MAX_MEMBER_BYTES"),
    ("jena zip member", _big_jena, "DLCLI_MAX_MEMBER_BYTES"),
    ("kaggle zip member", _big_kaggle, "DLCLI_MAX_MEMBER_BYTES"),
    ("glove zip in all", _many_glove, "DLCLI_MAX_ARCHIVE_BYTES"),
]


@pytest.mark.parametrize("what, make, bound", ARCHIVES, ids=[row[0].replace(" ", "-") for row in ARCHIVES])
def test_every_archive_reader_stops_at_its_bound(workdir, run_cli, monkeypatch, what, make, bound):
    monkeypatch.setenv(bound, "1000000")
    args = make(workdir)
    result = run_cli(*args)
    message = result.stderr.strip()
    assert result.exit_code == 3 and "\n" not in message and "unexpected" not in message, message
    assert bound in message and "1,000,000 bytes" in message
    assert not cache_contents(workdir / "data")


def _declared_size_lies(path: Path, size: int) -> None:
    """Patch the central directory of a zip so that its first member declares `size` bytes."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 24:at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_member_whose_header_lies_is_refused_before_it_is_read(workdir, run_cli):
    """An .npz in the cache whose member declares 4 GB: refused from its header (the default bound)."""
    (workdir / "data").mkdir()
    path = workdir / "data" / "mnist.npz"
    np.savez_compressed(path, **write_idx(workdir / "src"))
    _declared_size_lies(path, 0xFFFF_FFF0)
    with pytest.raises(DataUnavailable, match="DLCLI_MAX_MEMBER_BYTES") as error:
        datasets.load(p.MnistParams(name="mnist"))
    assert "mnist.npz" in str(error.value) and "\n" not in str(error.value)


def test_zips_nested_thousands_deep_are_refused_at_the_nesting_bound(workdir, run_cli):
    import time
    import zipfile

    data = b"an image"
    for level in range(1500):  # deeper than Python's recursion limit
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"level{level}.zip" if level else "cat.0.jpg", data)
        data = buffer.getvalue()
    (workdir / "nested.zip").write_bytes(data)
    started = time.perf_counter()
    result = run_cli("data", "split", "cats-vs-dogs", str(workdir / "nested.zip"))
    message = result.stderr.strip()
    assert result.exit_code == 3 and "nested more than 3 deep" in message and "\n" not in message, message
    assert time.perf_counter() - started < HANG_GUARD_S and not cache_contents(workdir / "data")


# --------------------------------------------------------------------------- issue 14: what identifies a run's data


def _csv_series(workdir):
    path = workdir / "series.csv"
    path.write_text("time,temp\n" + "".join(f"{i},{i % 7}\n" for i in range(50)))
    return p.CsvSeriesParams(name="csv_series", path=str(path), target="temp"), path, \
        lambda: path.write_text(path.read_text().replace("\n3,3\n", "\n3,4\n"))


def _image_folder(workdir):
    folder = workdir / "images"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        (folder / label / "0.png").write_bytes(b"an image")
    return p.ImageFolderParams(name="image_folder", path=str(folder)), folder, \
        lambda: (folder / "b" / "1.png").write_bytes(b"one more")


def _mnist_npz(workdir):
    (workdir / "data").mkdir()
    np.savez(workdir / "data" / "mnist.npz", **write_idx(workdir / "src"))
    return p.MnistParams(name="mnist"), workdir / "data" / "mnist.npz", \
        lambda: np.savez(workdir / "data" / "mnist.npz", **write_idx(workdir / "src2", train=13))


def _fashion_idx(workdir):
    write_idx(workdir / "data" / "fashion-mnist")
    changed = workdir / "data" / "fashion-mnist" / IDX["y_test"]

    def change():  # one label, same size: a file is known by its bytes
        changed.write_bytes(gzip.compress(gzip.decompress(changed.read_bytes())[:-1] + b"\x09"))

    return p.FashionMnistParams(name="fashion_mnist"), changed, change


def _reviews_cache(workdir):
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        (workdir / "data" / "aclImdb" / part).mkdir(parents=True)
        (workdir / "data" / "aclImdb" / part / "0_7.txt").write_text("good!")
    return p.ImdbReviewsParams(name="imdb_reviews"), workdir / "data" / "aclImdb" / "test", \
        lambda: (workdir / "data" / "aclImdb" / "test" / "neg" / "1_2.txt").write_text("bad!")


DATA_KINDS = {"csv_series": _csv_series, "image_folder": _image_folder, "mnist.npz": _mnist_npz,
              "fashion_mnist IDX": _fashion_idx, "aclImdb": _reviews_cache}


@pytest.mark.parametrize("kind", list(DATA_KINDS))
def test_the_data_a_run_reads_is_identified_and_a_change_is_named(workdir, kind):
    from dlcli.datasets.identity import changed_data, data_identity

    params, changed, change = DATA_KINDS[kind](workdir)
    identity = data_identity(params)
    assert str(changed.resolve()) in identity and changed_data(identity) == []
    change()
    assert changed_data(identity) == [str(changed.resolve())]
    moved = changed.rename(changed.with_name("gone"))
    assert changed_data(identity) == [f"{changed.resolve()} (missing)"]
    moved.rename(changed)


def test_built_in_data_has_no_files_to_identify():
    from dlcli.datasets.identity import data_identity

    assert data_identity(p.DigitsParams(name="digits")) == {}


def test_a_glove_import_that_fills_the_disk_stores_none_of_its_files(workdir, run_cli, monkeypatch, mount_tmpfs):
    """Two good GloVe files, room for one: neither reaches the cache (each is copied before any is put in place)."""
    import zipfile

    root = mount_tmpfs("small-disk", "size=6m")
    monkeypatch.setenv("DLCLI_DATA_DIR", str(root))
    lines = "".join(f"w{i} 0.5\n" for i in range(400_000))  # 4.4 MB each
    archive = _zip_of(workdir / "glove.6B.zip", {"glove.6B.1d.txt": lines.encode(),
                                                 "glove.6B.2d.txt": lines.replace(" 0.5", " 0.5 0.5").encode()})
    assert zipfile.is_zipfile(archive)
    result = run_cli("data", "import", "glove", str(archive))
    assert result.exit_code == 2 and os.strerror(errno.ENOSPC) in result.stderr, result.stderr
    assert [p.name for p in root.rglob("*") if p.is_file() and p.parent.name != ".locks"] == []
