"""The array datasets of `keras.datasets` used by the book, loaded from the cache.

Loading mirrors Keras' own `load_data` (same shuffles, seeds and index offsets), then applies
the book's preprocessing: /255 and reshape for images (of the classes `data.classes` keeps),
multi-hot vectors for IMDB and Reuters (3.2), one-hot labels, and standardisation with training
statistics for Boston (3.25). The loaders read whatever the cache holds: `data download` checked a
file's hash, `data import` its published facts (array_imports.py), and tests may put small files
there directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcli.datasets.base import DataBundle, DatasetEntry, Split, image_arrays, limit, pixel_scaling, to_onehot
from dlcli.datasets.cache import corrupt, exclusive, present_set
from dlcli.datasets.files_io import (
    UnreadableFile, read_boston_csv, read_cifar_folder, read_idx_set, read_npz, shuffle_split,
)
from dlcli.datasets.params import (
    BostonParams, Cifar10Params, ImageParams, ImdbParams, ReutersParams, SequenceParams,
)
from dlcli.errors import DataUnavailable, SpecError

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


# --------------------------------------------------------------------------- loaders


def kept_classes(split: Split, classes: list[int] | None, part: str) -> Split:
    """The samples of `classes` only (`data.classes`, 8.29's frogs), in their order; none left is
    a SpecError naming the split."""
    if classes is None:
        return split
    rows = np.flatnonzero(np.isin(split.y, classes))
    if not len(rows):
        raise SpecError(f"data.classes: the {part} split has no sample of class {', '.join(map(str, classes))}")
    return split.take(rows)


def classes_info(params: ImageParams, class_names: list[str], train: Split, test: Split) -> dict:
    """run.json's `data_info` of a class filter: the classes kept, their names, the samples left."""
    if params.classes is None:
        return {}
    kept = sorted(set(params.classes))
    return {"classes": {"kept": kept, "names": [class_names[index] for index in kept],
                        "train_samples": len(train), "test_samples": len(test)}}


def _images(arrays: dict, params: ImageParams, num_classes: int) -> tuple[Split, Split]:
    train = limit(kept_classes(Split(arrays["x_train"], arrays["y_train"].reshape(-1)), params.classes, "training"),
                  params.train_samples)
    test = limit(kept_classes(Split(arrays["x_test"], arrays["y_test"].reshape(-1)), params.classes, "test"),
                 params.test_samples)
    splits = []
    for split in (train, test):
        y = to_onehot(split.y, num_classes) if params.labels == "onehot" else split.y.astype("int64")
        splits.append(Split(image_arrays(split.x, params.shape), y))
    return splits[0], splits[1]


def _read(entry: DatasetEntry, reader, path: Path):
    try:
        return reader(path)
    except DataUnavailable:  # a bound the archive went past, already one line
        raise
    except UnreadableFile as error:  # one file of a folder's set: named, not its folder
        raise corrupt(entry, error.path, error.reason) from None
    except Exception as error:  # any decoding problem means a corrupt or foreign file
        raise corrupt(entry, path, error) from None


def load_mnist(entry: DatasetEntry, params: ImageParams, root: Path) -> DataBundle:
    files = present_set(entry, root)
    first = root / files[0].path
    if first.suffix == ".npz":
        arrays = _read(entry, read_npz, first)
    else:
        arrays = _read(entry, read_idx_set, first.parent)
    train, test = _images(arrays, params, 10)
    classes = FASHION_CLASSES if entry.name == "fashion_mnist" else [str(d) for d in range(10)]
    return DataBundle(train, test, num_classes=10, class_names=classes, input_preprocessing=pixel_scaling(255),
                      info=classes_info(params, classes, train, test))


def load_cifar10(entry: DatasetEntry, params: Cifar10Params, root: Path) -> DataBundle:
    directory = root / "cifar-10-batches-py"
    if not (directory / "test_batch").exists():  # downloaded tarball (Keras checked its hash), not yet unpacked
        from dlcli.datasets.array_imports import unpack_cifar10

        with exclusive(entry.name, root):  # one writer; a full or read-only cache is one line
            if not (directory / "test_batch").exists():
                unpack_cifar10(root / "cifar-10-python.tar.gz", root)
    arrays = _read(entry, read_cifar_folder, directory)
    train, test = _images(arrays, params, 10)
    return DataBundle(train, test, num_classes=10, class_names=CIFAR10_CLASSES,
                      input_preprocessing=pixel_scaling(255), info=classes_info(params, CIFAR10_CLASSES, train, test))


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
    from dlcli.backend import import_keras

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
    return DataBundle(splits[0], splits[1], num_classes=2, class_names=["negative", "positive"],
                      info=index_words(root / "imdb_word_index.json", params.num_words))


def index_words(path: Path, num_words: int) -> dict:
    """{"index_words": the word of each index} from Keras' word index file (imdb_word_index.json,
    `keras.datasets.imdb.get_word_index()`), when the cache holds it: TensorBoard's projector labels
    the embedding's rows with them. Indices as keras_word_sequences makes them (offset 3)."""
    import json

    if not path.is_file():
        return {}
    try:
        word_index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    words = ["<pad>", "<start>", "<oov>"] + [f"#{index}" for index in range(3, num_words)]
    for word, index in word_index.items() if isinstance(word_index, dict) else ():
        if isinstance(index, int) and 0 <= index + 3 < num_words:
            words[index + 3] = str(word)
    return {"index_words": words}


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
