"""What every dataset shares: its parameter model, its registry entry and the arrays it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dlcli.registry import resolve

# File names as the public sources publish them (also Keras' cache names).
IDX_FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}
CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
CIFAR_MEMBERS = CIFAR_BATCHES + ["batches.meta"]


def _rows(arrays, index):
    """The rows `index` of an array, or of each array of a dict (a model's named inputs or outputs)."""
    if isinstance(arrays, dict):
        return {name: array[index] for name, array in arrays.items()}
    return None if arrays is None else arrays[index]


def _first(arrays):
    return next(iter(arrays.values())) if isinstance(arrays, dict) else arrays


@dataclass
class Split:
    """Inputs and targets of one split as NumPy arrays (targets may be None for inference).

    A model with several inputs or outputs gets them as dicts of arrays keyed by name."""

    x: Any
    y: Any

    def __len__(self) -> int:
        return len(_first(self.x))

    def take(self, index) -> "Split":
        return Split(_rows(self.x, index), _rows(self.y, index))


def shapes(arrays) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
    """The shape of one sample: a tuple, or a dict of them for named arrays."""
    if isinstance(arrays, dict):
        return {name: tuple(array.shape[1:]) for name, array in arrays.items()}
    return tuple(arrays.shape[1:])


@dataclass
class Stream:
    """A split as a tf.data pipeline (image folders, series windows, arrays while training).

    `make(batch_size, training=False, seed=None, repeat=False, start=0)` returns a batched,
    prefetched tf.data.Dataset of (inputs, targets). A pass is one sweep over the split; with
    `training`, pass p is shuffled by a permutation drawn from (seed, p) alone, so the batches
    from batch `start` on are the same whether a run went straight through or was resumed."""

    make: Callable[..., Any]
    count: int
    element_shape: tuple[int, ...] | dict[str, tuple[int, ...]]
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.count

    def batches_per_pass(self, batch_size: int) -> int:
        return -(-self.count // batch_size)

    def one_pass(self, batch_size: int):
        """One pass of `make`'s batches, with their number known to tf.data (Keras then stops at
        its end instead of running a step past it)."""
        import tensorflow as tf

        return self.make(batch_size).apply(tf.data.experimental.assert_cardinality(self.batches_per_pass(batch_size)))

    def shard_batches(self, batch_size: int, shard: int, shards: int, training: bool = False,
                      seed: int | None = None, start: int = 0):
        """Shard `shard` of `shards` of every whole batch (several processes training on one global
        batch): rows shard*b..(shard+1)*b of each batch of `batch_size` rows (b = batch_size / shards),
        the batches those of `make`, repeated, from whole batch `start` on. The partial batch that
        ends each pass is left out, so every shard gets the same number of batches (processes with
        unequal steps wait for each other forever), and the batches do not depend on `shards`."""
        import tensorflow as tf

        whole = self.count // batch_size  # whole batches per pass; the partial one comes last
        first = (start // whole) * self.batches_per_pass(batch_size) + start % whole
        rows = batch_size // shards
        data = self.make(batch_size, training=training, seed=seed, repeat=True, start=first)
        data = data.filter(lambda *element: tf.shape(tf.nest.flatten(element)[0])[0] == batch_size)
        return data.map(lambda *element: tf.nest.map_structure(lambda array: array[shard * rows:(shard + 1) * rows],
                                                               element))


def passes_from(start: int, per_pass: int, repeat: bool, one_pass):
    """The batches of consecutive passes from batch `start` on; `one_pass(number)` is one pass's
    dataset of `per_pass` batches. Whole passes before `start` are never built."""
    import tensorflow as tf

    first = start // per_pass
    passes = tf.data.Dataset.range(first, 2**62 if repeat else first + 1)
    return passes.flat_map(one_pass).skip(start - first * per_pass)


def pass_seed(seed: int | None, number):
    """The stateless seed of pass `number`: (seed, number)."""
    import tensorflow as tf

    return tf.stack([tf.constant(seed or 0, tf.int64), tf.cast(number, tf.int64)])


def array_stream(split: Split) -> Stream:
    """Arrays as a Stream: each batch gathered at once from the whole arrays (as Keras' own array
    adapter does), the order of pass p drawn from (seed, p); batches of inputs alone when the split
    has no targets."""
    import tensorflow as tf

    count = len(split)

    def make(batch_size: int, training: bool = False, seed: int | None = None, repeat: bool = False,
             start: int = 0):
        rows = tf.range(count, dtype=tf.int64)

        def one_pass(number):  # (batches of row indices) of one pass
            order = tf.random.experimental.stateless_shuffle(rows, seed=pass_seed(seed, number)) if training else rows
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        indices = passes_from(start, -(-count // batch_size), repeat, one_pass)
        # inputs alone when there are no targets (a VAE's data): Keras then fits and evaluates on x only
        arrays = tf.data.Dataset.from_tensors(split.x if split.y is None else (split.x, split.y)).repeat()
        data = tf.data.Dataset.zip(indices, arrays).map(
            lambda index, xy: tf.nest.map_structure(lambda array: tf.gather(array, index), xy),
            num_parallel_calls=tf.data.AUTOTUNE)
        return data.prefetch(tf.data.AUTOTUNE)

    return Stream(make=make, count=count, element_shape=shapes(split.x))


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
    # Keras layers, as (class name, arguments), that turn the stored inputs into what the network
    # expects: [("Rescaling", {"scale": 1/255})] for pixels. The model starts with them, so the saved
    # model takes raw inputs everywhere (evaluate, predict, visualize).
    input_preprocessing: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
        """One sample's shape; a dict {input name: shape} for data with named inputs."""
        if isinstance(self.train, Stream):
            return self.train.element_shape
        return shapes(self.train.x)

    @property
    def target_names(self) -> list[str] | None:
        """The names of the targets, for data whose targets are a dict (a model with named outputs)."""
        y = None if isinstance(self.train, Stream) else self.train.y
        return list(y) if isinstance(y, dict) else None

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
    `external` marks data read from a path the spec gives, never from the cache. `params_class` is
    the spec's `data:` model (a DataParams subclass) or "module:Class", imported when `params` is
    first read: pydantic's models take 120 ms to import, which `dlcli list` does without.
    """

    name: str
    description: str
    source: str
    params_class: type | str
    loader: str
    files: list[RemoteFile] = field(default_factory=list)
    alternatives: list[list[RemoteFile]] = field(default_factory=list)
    importer: str | None = None
    import_formats: str = ""
    shipped: bool = False
    how_to_get: str = ""
    external: bool = False
    training_set: bool = True  # False: files other experiments use (GloVe vectors, network weights)

    @property
    def params(self) -> type:
        """The DataParams subclass that validates the spec's `data:` section for this dataset."""
        if isinstance(self.params_class, str):
            self.params_class = resolve(self.params_class)
        return self.params_class

    def load(self, params: Any, root: Path, **context: Any) -> DataBundle:
        """`context` carries what a run saved, e.g. the vocabulary a text dataset must reuse."""
        return resolve(self.loader)(self, params, root, **{k: v for k, v in context.items() if v is not None})

    def import_files(self, source: Path, root: Path) -> list[str]:
        return resolve(self.importer)(source, root)


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


def image_arrays(x, shape: str):
    """uint8 images as (N, h, w, c) or flattened (N, h*w*c), unscaled: the model scales them
    (see `pixel_scaling`), so the saved model takes the pixels a PNG holds."""
    import numpy as np

    x = np.asarray(x, dtype="uint8")
    if x.ndim == 3:
        x = x[..., None]  # (N, h, w) -> (N, h, w, 1)
    return x.reshape(len(x), -1) if shape == "flat" else x


def pixel_scaling(maximum: float) -> list[tuple[str, dict]]:
    """The model's first layer for pixels stored as 0..maximum: Rescaling(1 / maximum) (2.1's / 255)."""
    return [("Rescaling", {"scale": 1.0 / maximum})]
