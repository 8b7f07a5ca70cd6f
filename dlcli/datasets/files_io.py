"""Readers for the file formats the public datasets are published in (no Keras import).

Each reader mirrors what `keras.datasets` does with the same file, so a cached file gives the
same arrays as Keras' own loader; tests/test_datasets.py checks that on fixture files.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from dlcli.datasets.archives import Inflation
from dlcli.datasets.base import IDX_FILES

BOSTON_COLUMNS = [
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
]


class UnreadableFile(ValueError):
    """One file of a set (an IDX file, a CIFAR batch) that does not read as its format: the message
    names that file, not the folder holding the set."""

    def __init__(self, path: Path, reason: Exception):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _each(path: Path, reader):
    """`reader(path)`, its failure an UnreadableFile naming `path` (a missing file and a bound the
    archive went past are left as they are: they already say what is wrong)."""
    from dlcli.errors import DataUnavailable

    try:
        return reader(path)
    except (FileNotFoundError, DataUnavailable):
        raise
    except Exception as error:  # noqa: BLE001 - any decoding problem: a corrupt or foreign file
        raise UnreadableFile(path, error) from None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles object arrays of lists of ints (IMDB, Reuters) and nothing else."""

    ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("builtins", "list"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz file; object arrays through a NumPy-only unpickler."""
    arrays = {}
    inflation = Inflation(path)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            member = info.filename
            if not member.endswith(".npy"):
                continue
            with archive.open(info) as handle:
                stream = io.BytesIO(inflation.read(handle, member, info.file_size))
            version = np.lib.format.read_magic(stream)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(stream)
            if dtype.hasobject:
                array = _NumpyOnlyUnpickler(stream, encoding="latin1").load()
            else:
                array = np.frombuffer(stream.read(), dtype=dtype)
                array = array.reshape(shape, order="F" if fortran else "C")
            arrays[member[:-4]] = np.asarray(array)
    return arrays


def read_idx_gz(path: Path) -> np.ndarray:
    """A gzipped IDX file (MNIST, Fashion-MNIST): labels (N,) or images (N, 28, 28), uint8."""
    with gzip.open(path, "rb") as handle:
        content = Inflation(path).read(handle, "its content")
    if len(content) < 8 or content[:2] != b"\x00\x00" or content[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes")
    dims = content[3]
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    data = np.frombuffer(content, np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX header says {shape} but holds {data.size} values")
    return data.reshape(shape)


def read_idx_set(directory: Path) -> dict[str, np.ndarray]:
    arrays = {key: _each(directory / name, read_idx_gz) for key, name in IDX_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y) or x.ndim != 3:
            raise ValueError(f"{IDX_FILES[f'x_{split}']} holds {len(x)} images of shape {x.shape[1:]}, "
                             f"{IDX_FILES[f'y_{split}']} {len(y)} labels")
    return arrays


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: images (N, 32, 32, 3) uint8 and labels (N,) uint8."""
    with open(path, "rb") as handle:
        batch = _NumpyOnlyUnpickler(handle, encoding="bytes").load()
    batch = {key.decode("utf8") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    data = np.asarray(batch["data"], dtype="uint8").reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return data, np.asarray(batch["labels"], dtype="uint8")


def read_cifar_folder(folder: Path) -> dict[str, np.ndarray]:
    """The five training batches and the test batch of a cifar-10-batches-py folder."""
    batches = [_each(folder / f"data_batch_{i}", read_cifar_batch) for i in range(1, 6)]
    x_test, y_test = _each(folder / "test_batch", read_cifar_batch)
    return {"x_train": np.concatenate([b[0] for b in batches]), "y_train": np.concatenate([b[1] for b in batches]),
            "x_test": x_test, "y_test": y_test}


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


def shuffle_split(count: int, test_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Keras' boston_housing split: RandomState(seed).shuffle, then the first (1 - test) train."""
    indices = np.arange(count)
    np.random.RandomState(seed).shuffle(indices)
    cut = int(count * (1 - test_split))
    return indices[:cut], indices[cut:]


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks (Keras publishes sha256s for its datasets)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    """MD5 of a file (Keras publishes MD5s for its application weights)."""
    return file_digest(path, "md5")
