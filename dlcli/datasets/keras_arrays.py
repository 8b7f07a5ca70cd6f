"""The array datasets of `keras.datasets` used by the book: cached, imported and loaded.

Loading mirrors Keras' own `load_data` (same shuffles, seeds and index offsets), then applies
the book's preprocessing: /255 and reshape for images, multi-hot vectors for IMDB and Reuters
(3.2), one-hot labels, and standardisation with training statistics for Boston (3.25).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from dlcli.datasets.base import (
    CIFAR_BATCHES, CIFAR_MEMBERS, IDX_FILES, DataBundle, DatasetEntry, Split, image_arrays, limit, to_onehot,
)
from dlcli.datasets.cache import corrupt, install_file, present_set
from dlcli.datasets.files_io import (
    read_cifar_batch, read_idx_set, read_npz, shuffle_split,
)
from dlcli.datasets.params import (
    BostonParams, Cifar10Params, ImageParams, ImdbParams, ReutersParams, SequenceParams,
)
from dlcli.errors import DataUnavailable, UsageError

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BOSTON_COLUMNS = [
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
]
















# --------------------------------------------------------------------------- loaders


def _images(arrays: dict, params: ImageParams, scale: float, num_classes: int) -> tuple[Split, Split]:
    train = limit(Split(arrays["x_train"], arrays["y_train"].reshape(-1)), params.train_samples)
    test = limit(Split(arrays["x_test"], arrays["y_test"].reshape(-1)), params.test_samples)
    splits = []
    for split in (train, test):
        y = to_onehot(split.y, num_classes) if params.labels == "onehot" else split.y.astype("int64")
        splits.append(Split(image_arrays(split.x, scale, params.shape), y))
    return splits[0], splits[1]


def _read(entry: DatasetEntry, reader, path: Path):
    try:
        return reader(path)
    except Exception as error:  # any decoding problem means a corrupt or foreign file
        raise corrupt(entry, path, error) from None


def load_mnist(entry: DatasetEntry, params: ImageParams, root: Path) -> DataBundle:
    files = present_set(entry, root)
    first = root / files[0].path
    if first.suffix == ".npz":
        arrays = _read(entry, read_npz, first)
    else:
        arrays = _read(entry, read_idx_set, first.parent)
    train, test = _images(arrays, params, 255.0, 10)
    classes = FASHION_CLASSES if entry.name == "fashion_mnist" else [str(d) for d in range(10)]
    return DataBundle(train, test, num_classes=10, class_names=classes)


def load_cifar10(entry: DatasetEntry, params: Cifar10Params, root: Path) -> DataBundle:
    directory = root / "cifar-10-batches-py"

    def read_all(folder: Path) -> dict:
        batches = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
        x_test, y_test = read_cifar_batch(folder / "test_batch")
        return {
            "x_train": np.concatenate([b[0] for b in batches]),
            "y_train": np.concatenate([b[1] for b in batches]),
            "x_test": x_test,
            "y_test": y_test,
        }

    if not (directory / "test_batch").exists():  # downloaded tarball, not yet unpacked
        import_cifar10(root / "cifar-10-python.tar.gz", root)
    arrays = _read(entry, read_all, directory)
    train, test = _images(arrays, params, 255.0, 10)
    return DataBundle(train, test, num_classes=10, class_names=CIFAR10_CLASSES)


def keras_word_sequences(x, num_words: int, start_char=1, oov_char=2, index_from=3):
    """Keras' imdb/reuters re-indexing: start mark, offset by 3, rare words -> OOV (2)."""
    return [
        [start_char] + [w + index_from if w + index_from < num_words else oov_char for w in seq]
        for seq in x
    ]


def multi_hot(sequences, dimension: int) -> np.ndarray:
    """The book's vectorize_sequences (3.2): 1.0 at every word index present (float32)."""
    out = np.zeros((len(sequences), dimension), dtype="float32")
    for row, sequence in enumerate(sequences):
        out[row, sequence] = 1.0
    return out


def pad(sequences, params: SequenceParams) -> np.ndarray:
    """keras.utils.pad_sequences, with its defaults spelt out in the spec."""
    from dlcli.keras_backend import import_keras

    if params.reverse:
        sequences = [list(reversed(seq)) for seq in sequences]
    return import_keras().utils.pad_sequences(
        sequences, maxlen=params.maxlen, padding=params.padding, truncating=params.truncating
    ).astype("int32")


def _encode(sequences, params: SequenceParams) -> np.ndarray:
    if params.representation == "multi_hot":
        return multi_hot(sequences, params.num_words)
    return pad(sequences, params)


def load_imdb(entry: DatasetEntry, params: ImdbParams, root: Path) -> DataBundle:
    arrays = _read(entry, read_npz, root / "imdb.npz")
    rng = np.random.RandomState(113)  # Keras' seed: same order as imdb.load_data()
    splits = []
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        indices = np.arange(len(x))
        rng.shuffle(indices)
        x, y = x[indices], y[indices]
        count = params.train_samples if part == "train" else params.test_samples
        x, y = x[:count], y[:count]
        sequences = keras_word_sequences(x, params.num_words)
        splits.append(Split(_encode(sequences, params), np.asarray(y, dtype="float32")))
    return DataBundle(splits[0], splits[1], num_classes=2, class_names=["negative", "positive"])


def load_reuters(entry: DatasetEntry, params: ReutersParams, root: Path) -> DataBundle:
    arrays = _read(entry, read_npz, root / "reuters.npz")
    x, y = arrays["x"], arrays["y"]
    indices = np.arange(len(x))
    np.random.RandomState(113).shuffle(indices)  # Keras' reuters.load_data(seed=113, test_split=0.2)
    x, y = x[indices], y[indices]
    cut = int(len(x) * 0.8)
    sequences = keras_word_sequences(x, params.num_words)
    splits = []
    for part, rows in (("train", slice(0, cut)), ("test", slice(cut, None))):
        seqs, labels = sequences[rows], np.asarray(y[rows], dtype="int64")
        count = params.train_samples if part == "train" else params.test_samples
        seqs, labels = seqs[:count], labels[:count]
        target = to_onehot(labels, 46) if params.labels == "onehot" else labels
        splits.append(Split(_encode(seqs, params), target))
    return DataBundle(splits[0], splits[1], num_classes=46)


def read_boston_csv(path: Path) -> dict[str, np.ndarray]:
    """The 14 named columns (any case) of the Boston housing CSV -> x (N, 13), y (N,)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t ") if sample.strip() else csv.excel
        rows = [row for row in csv.reader(handle, dialect) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("the file is empty")
    header = [cell.strip().strip('"').upper() for cell in rows[0]]
    missing = [name for name in BOSTON_COLUMNS if name not in header]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}; expected {', '.join(BOSTON_COLUMNS)}")
    order = [header.index(name) for name in BOSTON_COLUMNS]
    values = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            values.append([float(row[i]) for i in order])
        except (ValueError, IndexError):
            raise ValueError(f"line {number}: expected 14 numbers") from None
    table = np.asarray(values, dtype="float64")
    return {"x": table[:, :13], "y": table[:, 13]}


def load_boston(entry: DatasetEntry, params: BostonParams, root: Path) -> DataBundle:
    files = present_set(entry, root)
    path = root / files[0].path
    arrays = _read(entry, read_npz if path.suffix == ".npz" else read_boston_csv, path)
    x, y = arrays["x"].astype("float32"), arrays["y"].astype("float32")
    train_rows, test_rows = shuffle_split(len(x), 0.2, 113)  # exactly Keras' split
    train = limit(Split(x[train_rows], y[train_rows]), params.train_samples)
    test = limit(Split(x[test_rows], y[test_rows]), params.test_samples)
    if params.standardize:  # 3.25: statistics of the training data only
        mean, std = train.x.mean(axis=0), train.x.std(axis=0)
        train, test = Split((train.x - mean) / std, train.y), Split((test.x - mean) / std, test.y)
    return DataBundle(train, test, info={"target": "median value, k$"})


# --------------------------------------------------------------------------- importers


def _source_dir(source: Path, wanted: str) -> Path:
    if source.is_dir():
        return source
    if source.name in IDX_FILES.values() or source.name.endswith(".gz"):
        return source.parent
    raise UsageError(f"{source}: expected {wanted}")


def _install_tree(files: dict[str, Path], target: Path) -> None:
    """Copy files into a temporary folder of the cache, then move it into place in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, source in files.items():
            shutil.copyfile(source, staging / name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _check(entry_name: str, path: Path, reader):
    try:
        return reader(path)
    except FileNotFoundError as error:
        raise DataUnavailable(f"{entry_name}: {error.filename}: no such file") from None
    except Exception as error:
        raise DataUnavailable(f"{entry_name}: {path} is not a valid file for this dataset ({error})") from None


def _require(entry_name: str, path: Path, arrays: dict, keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise DataUnavailable(f"{entry_name}: {path} lacks array(s) {', '.join(missing)}; is it Keras' file?")


def _import_idx(name: str, directory: str, source: Path, root: Path) -> list[str]:
    if name == "mnist" and source.suffix == ".npz":
        arrays = _check(name, source, read_npz)
        _require(name, source, arrays, ("x_train", "y_train", "x_test", "y_test"))
        if arrays["x_train"].shape[1:] != (28, 28):
            raise DataUnavailable(f"{name}: {source} holds images of shape {arrays['x_train'].shape[1:]}, not 28x28")
        install_file(source, root / "mnist.npz")
        return ["mnist.npz"]
    folder = _source_dir(source, "a folder holding the four IDX .gz files (or one of them)")
    arrays = _check(name, folder, read_idx_set)
    if arrays["x_train"].shape[1:] != (28, 28):
        raise DataUnavailable(f"{name}: images are {arrays['x_train'].shape[1:]}, not 28x28")
    _install_tree({f: folder / f for f in IDX_FILES.values()}, root / directory)
    return [f"{directory}/{f}" for f in IDX_FILES.values()]


def import_mnist(source: Path, root: Path) -> list[str]:
    return _import_idx("mnist", "mnist", source, root)


def import_fashion_mnist(source: Path, root: Path) -> list[str]:
    return _import_idx("fashion_mnist", "fashion-mnist", source, root)


def _import_npz(name: str, keys: tuple[str, ...], extra: str | None, source: Path, root: Path) -> list[str]:
    if source.is_dir():
        source = source / f"{name}.npz"
    arrays = _check(name, source, read_npz)
    _require(name, source, arrays, keys)
    install_file(source, root / f"{name}.npz")
    stored = [f"{name}.npz"]
    if extra and (source.parent / extra).is_file():
        install_file(source.parent / extra, root / extra)
        stored.append(extra)
    return stored


def import_imdb(source: Path, root: Path) -> list[str]:
    return _import_npz("imdb", ("x_train", "y_train", "x_test", "y_test"), "imdb_word_index.json", source, root)


def import_reuters(source: Path, root: Path) -> list[str]:
    return _import_npz("reuters", ("x", "y"), "reuters_word_index.json", source, root)


def import_boston(source: Path, root: Path) -> list[str]:
    if source.suffix == ".npz":
        arrays = _check("boston_housing", source, read_npz)
        _require("boston_housing", source, arrays, ("x", "y"))
        install_file(source, root / "boston_housing.npz")
        return ["boston_housing.npz"]
    arrays = _check("boston_housing", source, read_boston_csv)
    rows = len(arrays["y"])
    if rows != 506:
        raise DataUnavailable(f"boston_housing: {source} has {rows} rows; the dataset has 506")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BOSTON_COLUMNS)
    writer.writerows(np.column_stack([arrays["x"], arrays["y"]]).tolist())
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        handle.write(buffer.getvalue())
    try:
        install_file(Path(handle.name), root / "boston_housing.csv")
    finally:
        os.unlink(handle.name)
    return ["boston_housing.csv"]


def import_cifar10(source: Path, root: Path) -> list[str]:
    """The python tarball (cifar-10-python.tar.gz) or its extracted cifar-10-batches-py folder."""
    with tempfile.TemporaryDirectory() as scratch:
        if source.is_dir():
            folder = source / "cifar-10-batches-py" if (source / "cifar-10-batches-py").is_dir() else source
        else:
            try:
                with tarfile.open(source) as archive:
                    for member in archive.getmembers():
                        base = Path(member.name).name
                        if member.isfile() and base in CIFAR_MEMBERS:
                            with archive.extractfile(member) as handle, open(Path(scratch) / base, "wb") as out:
                                shutil.copyfileobj(handle, out)  # by name only: no path from the archive
            except (tarfile.TarError, OSError, EOFError) as error:
                raise DataUnavailable(f"cifar10: {source} is not a readable tarball ({error})") from None
            folder = Path(scratch)
        for member in CIFAR_BATCHES:
            x, y = _check("cifar10", folder / member, read_cifar_batch)
            if len(x) != len(y):
                raise DataUnavailable(f"cifar10: {member} has {len(x)} images and {len(y)} labels")
        files = {m: folder / m for m in CIFAR_MEMBERS if (folder / m).exists()}
        _install_tree(files, root / "cifar-10-batches-py")
    return [f"cifar-10-batches-py/{m}" for m in files]
