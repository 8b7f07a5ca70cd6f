"""The raw IMDB reviews, tokenised with TextVectorization in place of Keras 2's Tokenizer (6.8-6.10).

As in 6.9: the vocabulary comes from the 25,000 training reviews, each review becomes the indices
of its words (the `num_words` most frequent ones; rarer words vanish, as the Tokenizer made them),
pad_sequences keeps `maxlen` of them, the training reviews are shuffled (with a seed here) and cut
into `train_samples` for training and the next `validation_samples` for validation; the test
reviews go through the same vocabulary. The vocabulary is saved in the run (vocabulary.txt), so
`evaluate` and `predict` tokenise new text exactly as training did.
"""

from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path

import numpy as np

from dlcli.datasets.archives import Inflation
from dlcli.datasets.base import DataBundle, DatasetEntry, Split
from dlcli.datasets.cache import exclusive, replace_folder, staging_dir, within
from dlcli.errors import DataUnavailable
from dlcli.terminal import progress

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


def _gather_reviews(source: Path, staging: Path, counts: dict[str, int], advance) -> None:
    """The reviews of an aclImdb folder or tarball copied into `staging`, counted per folder."""
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
                advance(1)
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
                        advance(1)
        except (tarfile.TarError, OSError, EOFError) as error:
            raise DataUnavailable(f"imdb_reviews: {source} is not a readable tarball ({error})") from None


def _store_reviews(source: Path, root: Path, per_folder: int | None) -> list[str]:
    scratch = staging_dir(root, "aclImdb")
    try:
        staging = scratch / "aclImdb"
        counts = {f"{part}/{label}": 0 for part in ("train", "test") for label in ("pos", "neg")}
        with progress(f"reading {source.name}", len(counts) * (per_folder or REVIEWS_PER_FOLDER)) as advance:
            _gather_reviews(source, staging, counts, advance)
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
    return ["aclImdb/train", "aclImdb/test"]  # the folders stored, as every importer names them
