"""The raw IMDB reviews, tokenised with TextVectorization in place of Keras 2's Tokenizer (6.8-6.10).

As in 6.9: the vocabulary comes from the 25,000 training reviews, each review becomes the indices
of its words (the `num_words` most frequent ones; rarer words vanish, as the Tokenizer made them),
pad_sequences keeps `maxlen` of them, the training reviews are shuffled (with a seed here) and cut
into `train_samples` for training and the next `validation_samples` for validation; the test
reviews go through the same vocabulary. The vocabulary is saved in the run (vocabulary.txt), so
`evaluate` and `predict` tokenise new text exactly as training did.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from dlcli.datasets.archives import Inflation
from dlcli.datasets.base import DataBundle, DatasetEntry, Split
from dlcli.datasets.cache import exclusive, files_within, replace_folder, staging_dir, within
from dlcli.errors import DataUnavailable

TOKENIZER_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'  # Keras 2 Tokenizer's default `filters`
MEMBER = re.compile(r"(?:^|.*/)aclImdb/(train|test)/(pos|neg)/([^/]+\.txt)$")
REVIEWS_PER_FOLDER = 12_500  # aclImdb: 25,000 training + 25,000 test reviews, half of each positive


def reviews_folder(entry: DatasetEntry, params, root: Path) -> Path:
    if params.path is not None:
        return Path(params.path).expanduser()
    folder = root / "aclImdb"
    tarball = root / "aclImdb_v1.tar.gz"
    if not (folder / "train").is_dir() and tarball.is_file():  # downloaded: unpack the reviews once
        with exclusive("imdb_reviews", root):  # one writer; a full or read-only cache is one line
            if not (folder / "train").is_dir():
                unpack_reviews(tarball, root)
    return folder


def read_reviews(folder: Path) -> tuple[list[str], np.ndarray]:
    """Texts and labels (neg 0, pos 1) of aclImdb/train or aclImdb/test, in a fixed order."""
    texts, labels = [], []
    for label, name in ((0, "neg"), (1, "pos")):
        directory = folder / name
        if not directory.is_dir():
            raise DataUnavailable(f"{folder}: no {name}/ folder of reviews (aclImdb/train|test/pos|neg/*.txt)")
        for path in sorted(directory.glob("*.txt")):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
            labels.append(label)
    if not texts:
        raise DataUnavailable(f"{folder}: no reviews (*.txt) in pos/ and neg/")
    return texts, np.asarray(labels, dtype="float32")


def vectorizer(params, vocabulary: list[str] | None = None):
    """A TextVectorization layer with the spec's settings (and a given vocabulary, if any). Its
    output is padded with 0 to the batch's longest text (ragged output is TensorFlow's alone)."""
    from dlcli.backend import import_keras

    keras = import_keras()
    standardize = tokenizer_standardize if params.standardize == "tokenizer" else params.standardize
    return keras.layers.TextVectorization(
        max_tokens=params.num_words, standardize=standardize, split="whitespace", output_mode="int",
        vocabulary=vocabulary,
    )


def tokenizer_standardize(texts):
    """Keras 2 Tokenizer's cleaning: lower case, each filter character becomes a space."""
    import tensorflow as tf

    characters = "".join("\\" + c if c in r"\[]^-" else c for c in TOKENIZER_FILTERS.replace("\t", "").replace("\n", ""))
    return tf.strings.regex_replace(tf.strings.lower(texts), f"[{characters}\\t\\n]", " ")


def encode(layer, texts: list[str], params) -> np.ndarray:
    """(n, maxlen) int32 word indices, padded and truncated as the spec says."""
    from dlcli.backend import import_keras

    keras = import_keras()
    import tensorflow as tf

    sequences = []
    for start in range(0, len(texts), 2048):
        padded = np.asarray(keras.ops.convert_to_numpy(layer(tf.constant(texts[start:start + 2048]))))
        sequences += [row[row != 0].tolist() for row in padded]  # 0 pads only: words are 1 (unknown) and up
    if params.out_of_vocabulary == "drop":
        sequences = [[index for index in row if index != 1] for row in sequences]
    return keras.utils.pad_sequences(sequences, maxlen=params.maxlen, padding=params.padding,
                                     truncating=params.truncating).astype("int32")


def load_imdb_reviews(entry: DatasetEntry, params, root: Path, vocabulary: list[str] | None = None) -> DataBundle:
    folder = reviews_folder(entry, params, root)
    texts, labels = read_reviews(folder / "train")
    order = np.random.RandomState(params.shuffle_seed).permutation(len(texts))  # 6.9 shuffles the reviews
    texts, labels = [texts[i] for i in order], labels[order]
    count = params.train_samples or len(texts)
    layer = vectorizer(params, vocabulary)
    if vocabulary is None:
        import tensorflow as tf

        layer.adapt(tf.constant(texts if params.vocabulary_from == "all" else texts[:count]), batch_size=1024)
    train = Split(encode(layer, texts[:count], params), labels[:count])
    validation = None
    if params.validation_samples:
        end = count + params.validation_samples
        if end > len(texts):
            raise DataUnavailable(f"{folder}/train: {len(texts)} reviews, fewer than train_samples + "
                                  f"validation_samples = {end}")
        validation = Split(encode(layer, texts[count:end], params), labels[count:end])
    test = None
    if (folder / "test").is_dir():
        test_texts, test_labels = read_reviews(folder / "test")
        limit = params.test_samples or len(test_texts)
        test = Split(encode(layer, test_texts[:limit], params), test_labels[:limit])
    return DataBundle(train, test, validation=validation, num_classes=2, class_names=["negative", "positive"],
                      info={"folder": str(folder), "vocabulary": layer.get_vocabulary()})


def import_reviews(source: Path, root: Path) -> list[str]:
    """aclImdb_v1.tar.gz or an aclImdb folder: the train/test pos/neg reviews, counted, into the cache."""
    return _store_reviews(source, root, REVIEWS_PER_FOLDER)


def unpack_reviews(tarball: Path, root: Path) -> list[str]:
    """The loader's: unpack the tarball `data download` fetched into the cache's aclImdb folder."""
    return _store_reviews(tarball, root, None)


def _store_reviews(source: Path, root: Path, per_folder: int | None) -> list[str]:
    scratch = staging_dir(root, "aclImdb")
    try:
        staging = scratch / "aclImdb"
        counts = {f"{part}/{label}": 0 for part in ("train", "test") for label in ("pos", "neg")}
        if source.is_dir():
            base = source / "aclImdb" if (source / "aclImdb").is_dir() else source
            for path in base.glob("*/*/*.txt"):
                within(source, path, "imdb_reviews")  # aclImdb, train/, pos/ or the file may be a link
                match = MEMBER.match(f"aclImdb/{path.relative_to(base).as_posix()}")
                if match:
                    target = staging / match[1] / match[2] / match[3]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                    counts[f"{match[1]}/{match[2]}"] += 1
        else:
            inflation = Inflation(source)
            try:
                with tarfile.open(source) as archive:
                    for member in archive:  # one at a time: a tar.gz is inflated only as far as it is read
                        inflation.declared(member.name, member.size, member.offset_data)
                        match = MEMBER.match(member.name)
                        if match and member.isfile():  # the path is rebuilt from the match: nothing escapes
                            target = staging / match[1] / match[2] / match[3]
                            target.parent.mkdir(parents=True, exist_ok=True)
                            with archive.extractfile(member) as handle, open(target, "wb") as out:
                                inflation.copy(handle, out, member.name, member.size)
                            counts[f"{match[1]}/{match[2]}"] += 1
            except (tarfile.TarError, OSError, EOFError) as error:
                raise DataUnavailable(f"imdb_reviews: {source} is not a readable tarball ({error})") from None
        for folder, count in counts.items():
            if not count:
                raise DataUnavailable(f"imdb_reviews: {source} has no aclImdb/{folder}/*.txt reviews")
            if per_folder is not None and count != per_folder:
                raise DataUnavailable(
                    f"imdb_reviews: {source} holds {count:,} reviews in aclImdb/{folder}; the Large Movie Review "
                    f"Dataset has {per_folder:,} there (25,000 + 25,000 reviews, half of them positive): bring "
                    "the complete aclImdb_v1.tar.gz (or its aclImdb folder) and run "
                    "`dlcli data import imdb_reviews PATH`")
        replace_folder(staging, root / "aclImdb")  # the cached copy stays whole until the new one is in place
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [f"aclImdb ({sum(counts.values())} reviews)"]


# --------------------------------------------------------------------------- GloVe


GLOVE = re.compile(r"glove\.6B\.(\d+)d\.txt$")
GLOVE_WORDS = 400_000  # GloVe 6B: a vocabulary of 400,000 words, one line each in every glove.6B.<size>d.txt


def not_a_training_set(entry, params, root, **context):
    from dlcli.errors import SpecError

    raise SpecError("data: 'glove' holds word vectors, not examples; use it as the weights of an Embedding "
                    "layer: `weights: glove.6B.100d` (see glove-imdb)")


def _check_glove_lines(lines, name: str) -> int:
    """The vector size of a GloVe file's first lines ('word v1 ... vd'), or DataUnavailable."""
    dimension = None
    for number, line in enumerate(lines, start=1):
        parts = line.rstrip("\n").split(" ")
        try:
            [float(value) for value in parts[1:]]
        except ValueError:
            raise DataUnavailable(f"glove: {name} line {number} is not 'word number number ...'") from None
        if dimension is None:
            dimension = len(parts) - 1
        if len(parts) - 1 != dimension or dimension == 0:
            raise DataUnavailable(f"glove: {name} line {number} has {len(parts) - 1} numbers, not {dimension}")
    if dimension is None:
        raise DataUnavailable(f"glove: {name} is empty")
    return dimension


def import_glove(source: Path, root: Path) -> list[str]:
    """glove.6B.*d.txt files, or glove.6B.zip: each checked (name, lines, vector size, words), then stored."""
    return _store_glove(source, root, GLOVE_WORDS)


def unpack_glove(zipped: Path, root: Path) -> list[str]:
    """The loader's: unpack the glove.6B.zip `data download` fetched (name, lines and vector size checked)."""
    return _store_glove(zipped, root, None)


def _count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


def _store_glove(source: Path, root: Path, words: int | None) -> list[str]:
    import itertools
    import zipfile

    with tempfile.TemporaryDirectory() as scratch:
        candidates: list[Path] = []
        zipped = zipfile.is_zipfile(source)
        if zipped:
            inflation = Inflation(source)
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    name = Path(info.filename).name
                    if GLOVE.fullmatch(name):
                        target = Path(scratch) / name  # by name only: nothing lands elsewhere
                        with archive.open(info) as handle, open(target, "wb") as out:
                            inflation.copy(handle, out, info.filename, info.file_size)
                        candidates.append(target)
        else:
            candidates = files_within(source, "glove.6B.*d.txt", "glove") if source.is_dir() else [source]
        for path in candidates:
            match = GLOVE.fullmatch(path.name)
            if not match:
                raise DataUnavailable(f"glove: {path.name} is not named glove.6B.<size>d.txt")
            with open(path, encoding="utf-8", errors="replace") as handle:
                dimension = _check_glove_lines(itertools.islice(handle, 1000), path.name)
            if dimension != int(match[1]):
                raise DataUnavailable(f"glove: {path.name} holds vectors of {dimension} numbers, not {match[1]}")
            if words is not None and (count := _count_lines(path)) != words:
                where = f"{source} ({path.name})" if zipped else str(path)
                raise DataUnavailable(f"glove: {where} holds {count:,} words; GloVe 6B has {words:,} in each "
                                      "glove.6B.<size>d.txt: bring the complete file (or glove.6B.zip) and run "
                                      "`dlcli data import glove PATH`")
        if not candidates:
            raise DataUnavailable(f"glove: {source} holds no glove.6B.<size>d.txt file")
        staging = staging_dir(root / "glove", "glove")  # only once every file passed, and all of them:
        try:  # copied first (a full disk fails here), then renamed into place
            for path in candidates:
                shutil.copyfile(path, staging / path.name)
            for path in candidates:
                os.replace(staging / path.name, root / "glove" / path.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [f"glove/{path.name}" for path in candidates]


def glove_matrix(name: str, vocabulary: list[str], input_dim: int, output_dim: int) -> np.ndarray:
    """(input_dim, output_dim) embedding matrix for the vocabulary; zeros for words GloVe lacks (6.11)."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir, download, exclusive
    from dlcli.errors import SpecError

    match = re.fullmatch(r"glove\.6B\.(\d+)d", name)
    if not match:
        raise SpecError(f"weights: '{name}' is not a GloVe file name such as glove.6B.100d")
    root = data_dir()
    path = root / "glove" / f"{name}.txt"
    if not path.is_file():  # the zip, as `data download glove` fetches it (downloaded now if allowed)
        entry = DATASETS.get("glove")
        zipped = root / entry.files[0].path
        if not zipped.is_file():
            download(entry, root)  # offline: names the file to bring and `dlcli data import glove`
        with exclusive("glove", root):  # one writer; a full or read-only cache is one line
            unpack_glove(zipped, root)
    if not path.is_file():
        raise DataUnavailable(f"glove: {zipped} holds no {path.name}")
    if int(match[1]) != output_dim:
        raise SpecError(f"weights: {name} has vectors of {match[1]} numbers but the Embedding's output_dim is {output_dim}")
    index = {word: i for i, word in enumerate(vocabulary[:input_dim]) if i > 1}  # 0: padding, 1: unknown
    matrix = np.zeros((input_dim, output_dim), dtype="float32")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, _, rest = line.partition(" ")
            row = index.get(word)
            if row is not None:
                matrix[row] = np.asarray(rest.split(), dtype="float32")
    return matrix
