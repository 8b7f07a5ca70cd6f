"""Any UTF-8 text as character windows (8.2-8.3): the `text_file` dataset, Nietzsche's corpus by default.

As 8.2: the text is lower-cased (an option here), the vocabulary is its sorted distinct characters,
and window i is text[i*step : i*step + maxlen], its target the character after it, for every start
in range(0, len(text) - maxlen, step). The book then materialises all windows one-hot (200,000 x
60 x 57 booleans for Nietzsche); here the text is kept once as vocabulary indices and each batch
gathers its windows from it (one tf.gather); the model one-hot encodes them in its first layer
(CategoryEncoding, from the bundle's input_preprocessing), so the saved model takes indices. The
vocabulary is saved in the run, so `generate text` and `resume` index characters as training did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlcli.datasets.base import DataBundle, DatasetEntry, Stream, pass_seed, passes_from
from dlcli.datasets.cache import install_file
from dlcli.errors import DataUnavailable, SpecError

NIETZSCHE = "nietzsche.txt"
NIETZSCHE_URL = "https://s3.amazonaws.com/text-datasets/nietzsche.txt"
NIETZSCHE_BYTES = 600_901  # the file 8.2 downloads (shared/docs/book-experiments.md, data sources)
MAX_TEXT_BYTES = 256 * 2**20  # the text is held as int32 indices: 1 GiB at this bound


@dataclass
class CharacterStream(Stream):
    """The windows of a text as a Stream, with the text itself as vocabulary indices: the seeds of
    the samples a training writes are drawn from it (training.monitoring's TextSampler)."""

    codes: np.ndarray | None = None  # (characters,) int32


def read_text(path: Path, where: str = "data.path") -> str:
    """A UTF-8 text file, whole, its line ends "\n"; a missing, non-UTF-8, empty or too large file is one
    line (exit 3)."""
    if not path.is_file():
        raise DataUnavailable(f"{path}: no such text file ({where})")
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise DataUnavailable(f"{path}: {size:,} bytes, more than the {MAX_TEXT_BYTES:,} a text_file may hold")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataUnavailable(f"{path}: not UTF-8 text (byte {error.start} is {error.object[error.start]:#04x}); "
                              "convert it, e.g. iconv -f latin1 -t utf-8") from None
    except OSError as error:
        raise DataUnavailable(f"{path}: cannot read it ({error.strerror or error})") from None
    if not text:
        raise DataUnavailable(f"{path}: the file is empty; a text_file needs text")
    # A byte-order mark is not part of the text; line ends become "\n" as 8.2's open(path).read() makes them
    # (universal newlines), so a text saved on Windows has no "\r" character to learn and generate.
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def encode(text: str, vocabulary: list[str] | None, path: Path) -> tuple[np.ndarray, list[str]]:
    """(indices (characters,) int32, vocabulary): the text's characters as indices into the
    vocabulary, which is the text's sorted distinct characters (8.2) unless one is given."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")  # one code point per character
    if vocabulary is None:
        known = np.unique(points)  # sorted, as sorted(set(text))
        return np.searchsorted(known, points).astype("int32"), [chr(point) for point in known]
    if any(len(token) != 1 for token in vocabulary):
        raise DataUnavailable(f"{path}: the run's vocabulary is not one of characters")
    given = np.asarray([ord(token) for token in vocabulary], dtype="<u4")
    order = np.argsort(given)
    found = np.minimum(np.searchsorted(given[order], points), len(given) - 1)
    unknown = given[order][found] != points
    if unknown.any():
        first = chr(int(points[np.argmax(unknown)]))
        raise DataUnavailable(f"{path}: holds {first!r}, a character outside the run's vocabulary of "
                              f"{len(vocabulary)}; the text changed since the run was trained")
    return order[found].astype("int32"), list(vocabulary)


def window_starts(characters: int, maxlen: int, step: int) -> np.ndarray:
    """The first character of every window: range(0, characters - maxlen, step), as 8.2's loop."""
    return np.arange(0, max(characters - maxlen, 0), step, dtype="int64")


def character_windows(codes: np.ndarray, maxlen: int, step: int, classes: int, onehot: bool,
                      limit: int | None = None) -> CharacterStream:
    """The windows of `codes` as a Stream of ((batch, maxlen) indices, (batch, classes) one-hot or
    (batch,) index targets); training passes reshuffled from (seed, pass), as every Stream."""
    from dlcli.backend import import_keras

    import_keras()
    import tensorflow as tf

    starts = window_starts(len(codes), maxlen, step)[:limit]
    text, offsets, all_starts = tf.constant(codes), tf.range(maxlen, dtype=tf.int64), tf.constant(starts)

    def windows(batch_starts):  # (batch,) -> (batch, maxlen), its targets
        targets = tf.gather(text, batch_starts + maxlen)
        return tf.gather(text, batch_starts[:, None] + offsets), tf.one_hot(targets, classes) if onehot else targets

    def make(batch_size: int, training: bool = False, seed: int | None = None, repeat: bool = False,
             start: int = 0):
        def one_pass(number):  # the batches of window starts of one pass
            order = tf.random.experimental.stateless_shuffle(all_starts, seed=pass_seed(seed, number)) \
                if training else all_starts
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        batches = passes_from(start, -(-len(starts) // batch_size), repeat, one_pass)
        return batches.map(windows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    return CharacterStream(make=make, count=len(starts), element_shape=(maxlen,), codes=codes)


def text_path(params, root: Path) -> Path:
    return Path(params.path).expanduser() if params.path is not None else root / NIETZSCHE


def load_text_file(entry: DatasetEntry, params, root: Path, vocabulary: list[str] | None = None) -> DataBundle:
    path = text_path(params, root)
    text = read_text(path)
    if params.lowercase:
        text = text.lower()
    codes, vocabulary = encode(text, vocabulary, path)
    cut = len(codes) if params.validation_split is None else int(len(codes) * (1 - params.validation_split))
    onehot = params.labels == "onehot"
    train = character_windows(codes[:cut], params.maxlen, params.step, len(vocabulary), onehot, params.train_samples)
    validation = None if params.validation_split is None else \
        character_windows(codes[cut:], params.maxlen, params.step, len(vocabulary), onehot)
    for split, stream in (("training", train), ("validation", validation)):
        if stream is not None and len(stream) == 0:
            raise SpecError(f"data: the {split} text of {path} holds no window of maxlen {params.maxlen} and "
                            f"its next character ({len(stream.codes)} characters); a shorter maxlen, or more text")
    info = {"file": str(path), "characters": len(codes), "vocabulary_size": len(vocabulary),
            "maxlen": params.maxlen, "step": params.step, "lowercase": params.lowercase,
            "windows": {"train": len(train), **({"validation": len(validation)} if validation is not None else {})},
            "vocabulary": vocabulary}
    return DataBundle(train, None, validation=validation, num_classes=len(vocabulary), info=info,
                      input_preprocessing=[("CategoryEncoding", {"num_tokens": len(vocabulary),
                                                                 "output_mode": "one_hot"})])


def import_nietzsche(source: Path, root: Path) -> list[str]:
    """nietzsche.txt, the book's corpus (its size checked), into the cache; any other text is used
    where it is, by naming it in the spec (data.path)."""
    if source.is_dir():
        source = source / NIETZSCHE
    size = source.stat().st_size if source.is_file() else None
    if size != NIETZSCHE_BYTES:
        raise DataUnavailable(f"text_file: {source} is not the book's {NIETZSCHE} ({NIETZSCHE_BYTES:,} bytes"
                              f"{f'; this one has {size:,}' if size is not None else ''}); a text of your own "
                              "needs no import: name it in the spec, data.path: FILE")
    read_text(source, "PATH")
    install_file(source, root / NIETZSCHE)
    return [NIETZSCHE]
