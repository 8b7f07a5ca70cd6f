"""What every dataset shares: its parameter model, its registry entry and the arrays it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import importlib
from typing import Any, Callable


# File names as the public sources publish them (also Keras' cache names).
IDX_FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}
CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
CIFAR_MEMBERS = CIFAR_BATCHES + ["batches.meta"]


@dataclass
class Split:
    """Inputs and targets of one split as NumPy arrays (targets may be None for inference)."""

    x: Any
    y: Any

    def __len__(self) -> int:
        return len(self.x)

    def take(self, index) -> "Split":
        return Split(self.x[index], None if self.y is None else self.y[index])


@dataclass
class Stream:
    """A split read from files by tf.data instead of held as arrays (image folders).

    `make(batch_size, training, seed, repeat)` returns a batched, prefetched tf.data.Dataset of
    (inputs, targets); `training` shuffles it afresh every epoch."""

    make: Callable[..., Any]
    count: int
    element_shape: tuple[int, ...]
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.count


@dataclass
class DataBundle:
    """What a loader returns: the training and test splits and what a model needs to know.

    Splits are NumPy arrays (Split), or tf.data streams (Stream) for data read from files; a
    dataset with its own validation split (image folders) gives it as `validation`."""

    train: Split | Stream
    test: Split | Stream | None
    num_classes: int | None = None
    class_names: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    validation: Split | Stream | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        if isinstance(self.train, Stream):
            return self.train.element_shape
        return tuple(self.train.x.shape[1:])

    @property
    def streamed(self) -> bool:
        return isinstance(self.train, Stream)


@dataclass
class RemoteFile:
    """A file of the cache: where it lives under the data dir, and where Keras downloads it."""

    path: str
    url: str | None = None
    file_hash: str | None = None  # sha256 or md5, as keras.utils.get_file accepts


@dataclass
class DatasetEntry:
    """A registered dataset.

    `files` is what `data download` fetches; `alternatives` are other complete sets of cache
    files (an imported format) that the loader also reads. `loader` and `importer` name
    functions as "module:function", imported only when used: `loader(entry, params, data_dir)`
    returns a DataBundle, `importer(source, data_dir)` checks user files and stores them.
    `how_to_get` replaces the import hint for data made by another command (`data split`);
    `external` marks data read from a path the spec gives, never from the cache.
    """

    name: str
    description: str
    source: str
    params: type
    loader: str
    files: list[RemoteFile] = field(default_factory=list)
    alternatives: list[list[RemoteFile]] = field(default_factory=list)
    importer: str | None = None
    import_formats: str = ""
    shipped: bool = False
    how_to_get: str = ""
    external: bool = False

    def load(self, params: Any, root: Path, **context: Any) -> DataBundle:
        """`context` carries what a run saved, e.g. the vocabulary a text dataset must reuse."""
        return _resolve(self.loader)(self, params, root, **{k: v for k, v in context.items() if v is not None})

    def import_files(self, source: Path, root: Path) -> list[str]:
        return _resolve(self.importer)(source, root)


def _resolve(reference: str) -> Callable:
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def limit(split: Split, count: int | None) -> Split:
    """The first `count` samples of a split (all when count is None)."""
    return split if count is None else split.take(slice(0, count))


def to_onehot(labels, num_classes: int):
    """One-hot float32 labels, as keras.utils.to_categorical (without importing Keras)."""
    import numpy as np

    labels = np.asarray(labels, dtype="int64").reshape(-1)
    onehot = np.zeros((labels.size, num_classes), dtype="float32")
    onehot[np.arange(labels.size), labels] = 1.0
    return onehot


def image_arrays(x, scale: float, shape: str):
    """uint8 images -> float32 in [0, 1], as (N, h, w, c) or flattened (N, h*w*c)."""
    import numpy as np

    x = np.asarray(x, dtype="float32")
    x /= scale
    if x.ndim == 3:
        x = x[..., None]  # (N, h, w) -> (N, h, w, 1)
    return x.reshape(len(x), -1) if shape == "flat" else x
