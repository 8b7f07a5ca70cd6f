"""GloVe 6B word vectors (6.11-6.13): imported or unpacked into the cache, each file checked
(name, lines, vector size, words), and read into an Embedding's weight matrix for a vocabulary.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from dlcli.datasets.archives import Inflation
from dlcli.datasets.cache import files_within, staging_dir
from dlcli.errors import DataUnavailable
from dlcli.terminal import progress

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
    with open(path, "rb") as handle, progress(f"counting the words of {path.name}", path.stat().st_size) as advance:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
            advance(len(chunk))
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
                members = [info for info in archive.infolist() if GLOVE.fullmatch(Path(info.filename).name)]
                with progress(f"unpacking {source.name}", sum(info.file_size for info in members)) as advance:
                    for info in members:
                        target = Path(scratch) / Path(info.filename).name  # by name only: nothing lands elsewhere
                        with archive.open(info) as handle, open(target, "wb") as out:
                            inflation.copy(handle, out, info.filename, info.file_size, advance)
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
