"""`dlcli data import` for the array datasets: the user's files are checked, then cached.

A file with the sha256 Keras publishes is taken as it is. Any other file (re-packed, or in another
format such as the IDX files) must show what its source publishes: the counts, the shape of a
sample, the classes and, where published, the number of samples of each class. So a truncated
file or a sample is refused, and so is another dataset of the same shapes: Fashion-MNIST has
exactly 6,000 training images of each class, MNIST's digits are not balanced. Nothing reaches the
cache before every check passed. The loaders (keras_arrays.py) read whatever the cache holds.
"""

from __future__ import annotations

import csv
import io
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlcli.atomic import write_text_atomic
from dlcli.datasets.archives import Inflation
from dlcli.datasets.base import CIFAR_BATCHES, CIFAR_MEMBERS, IDX_FILES
from dlcli.datasets.cache import install_file, replace_folder, staging_dir, within
from dlcli.datasets.files_io import (
    BOSTON_COLUMNS, UnreadableFile, file_digest, read_boston_csv, read_cifar_folder, read_idx_set, read_npz,
)
from dlcli.errors import DataUnavailable, UsageError
from dlcli.terminal import progress


@dataclass(frozen=True)
class Published:
    """What a dataset's source publishes about it."""

    title: str
    unit: str  # what a sample is: "images", "rows"...
    counts: dict[str, int]  # samples per split; "" for one file that Keras splits itself (arrays x, y)
    sample: tuple[int, ...] | None = None  # the shape of one sample (None: word sequences of any length)
    classes: int | None = None  # labels are 0 .. classes - 1
    per_class: dict[str, tuple[int, ...]] = field(default_factory=dict)  # samples of each class, per split


PUBLISHED = {
    "mnist": Published("MNIST", "images", {"train": 60_000, "test": 10_000}, (28, 28), 10, {
        "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)}),
    "fashion_mnist": Published("Fashion-MNIST", "images", {"train": 60_000, "test": 10_000}, (28, 28), 10,
                               {"train": (6000,) * 10, "test": (1000,) * 10}),
    "cifar10": Published("CIFAR-10", "images", {"train": 50_000, "test": 10_000}, (32, 32, 3), 10,
                         {"train": (5000,) * 10, "test": (1000,) * 10}),
    "imdb": Published("IMDB", "reviews", {"train": 25_000, "test": 25_000}, None, 2,
                      {"train": (12_500, 12_500), "test": (12_500, 12_500)}),
    "reuters": Published("Reuters", "newswires", {"": 11_228}, None, 46),
    "boston_housing": Published("Boston housing", "rows", {"": 506}, (13,)),
}
SPLIT_WORDS = {"train": "training ", "test": "test ", "": ""}


def _keys(split: str) -> tuple[str, str]:
    return (f"x_{split}", f"y_{split}") if split else ("x", "y")


def _fix(name: str) -> str:
    from dlcli.datasets import DATASETS

    return (f"bring the complete, original files ({DATASETS.get(name).import_formats}) "
            f"and run `dlcli data import {name} PATH`")


def _classes(counts: tuple[int, ...], unit: str) -> str:
    """'6,000 images of each class', or '5,923, 6,742, ... images of classes 0-9'."""
    if len(set(counts)) == 1:
        return f"{counts[0]:,} {unit} of each class"
    return f"{', '.join(f'{n:,}' for n in counts)} {unit} of classes 0-{len(counts) - 1}"


def check_arrays(name: str, arrays: dict, files: dict[str, str]) -> None:
    """Refuse arrays that are not what the source publishes; `files` names the file of each array."""
    facts = PUBLISHED[name]
    for split, count in facts.counts.items():
        x_key, y_key = _keys(split)
        x, y = np.atleast_1d(arrays[x_key]), np.atleast_1d(arrays[y_key])
        what = f"{SPLIT_WORDS[split]}{facts.unit}"  # "training images"
        fact = f"{facts.title}'s {SPLIT_WORDS[split]}set" if split else facts.title  # "MNIST's training set"

        def refuse(key: str, found: str, expected: str) -> DataUnavailable:
            return DataUnavailable(f"{name}: {files[key]} holds {found}; {expected}: {_fix(name)}")

        if len(x) != count:
            raise refuse(x_key, f"{len(x):,} {what}", f"{fact} has {count:,}")
        if len(y) != count:
            raise refuse(y_key, f"{len(y):,} labels", f"{fact} has {count:,}")
        if facts.sample and (x.shape[1:] != facts.sample or (facts.unit == "images" and x.dtype != np.uint8)):
            shape = "x".join(map(str, x.shape[1:])) or "scalar"
            raise refuse(x_key, f"{facts.unit} of shape {shape} ({x.dtype})", f"{facts.title}'s are "
                         f"{'x'.join(map(str, facts.sample))}" + (" (uint8)" if facts.unit == "images" else ""))
        if facts.classes is None:
            continue
        try:
            labels = y.astype("float64").reshape(-1)
        except (TypeError, ValueError):
            raise refuse(y_key, f"labels that are not numbers ({y.dtype})",
                         f"{facts.title}'s are 0-{facts.classes - 1}") from None
        if labels.size and (labels.min() < 0 or labels.max() >= facts.classes or (labels % 1).any()):
            raise refuse(y_key, f"labels from {labels.min():g} to {labels.max():g}",
                         f"{facts.title}'s are the whole numbers 0-{facts.classes - 1}")
        expected = facts.per_class.get(split)
        found = tuple(np.bincount(labels.astype("int64"), minlength=facts.classes).tolist())
        if expected is None or found == expected:
            continue
        twin = next((other for other, known in PUBLISHED.items() if other != name
                     and known.sample == facts.sample and known.per_class.get(split) == found), None)
        if twin:
            raise DataUnavailable(
                f"{name}: {files[y_key]} holds {_classes(found, facts.unit)}, as {PUBLISHED[twin].title} does; "
                f"{fact} has {_classes(expected, facts.unit)}: is this {PUBLISHED[twin].title}? "
                f"use `dlcli data import {twin} PATH`")
        raise refuse(y_key, _classes(found, facts.unit), f"{fact} has {_classes(expected, facts.unit)}")


def _published_file(name: str, source: Path) -> bool:
    """Whether `source` is, byte for byte, the file Keras downloads (its published sha256)."""
    from dlcli.datasets import DATASETS

    digest = DATASETS.get(name).files[0].file_hash
    return bool(digest) and source.is_file() and file_digest(source, "sha256") == digest


def _read(name: str, path: Path, reader, archive: Path | None = None):
    """`reader(path)`, its failure one line naming the file (`archive`: the tarball it came from)."""
    try:
        return reader(path)
    except DataUnavailable:  # a bound the archive went past, already one line
        raise
    except FileNotFoundError as error:
        raise DataUnavailable(f"{name}: {error.filename}: no such file") from None
    except UnreadableFile as error:  # one file of a folder's set: named, not its folder
        where = f"{archive} ({error.path.name})" if archive else error.path
        raise DataUnavailable(f"{name}: {where} is not a valid file for this dataset ({error.reason})") from None
    except Exception as error:  # any decoding problem means a corrupt or foreign file
        raise DataUnavailable(f"{name}: {path} is not a valid file for this dataset ({error})") from None


def _install_tree(files: dict[str, Path], target: Path) -> None:
    """Copy files into a temporary folder of the cache, then swap it into place (replace_folder)."""
    staging = staging_dir(target.parent, target.name)
    try:
        for name, source in files.items():
            shutil.copyfile(source, staging / name)
        replace_folder(staging, target)  # the cached copy stays whole until the new one is in place
    finally:
        if staging.exists():
            shutil.rmtree(staging)


# --------------------------------------------------------------------------- the importers


def _import_npz(name: str, source: Path, root: Path, extra: str | None = None) -> list[str]:
    """Keras' .npz (name.npz in a folder, or the file): its sha256, else its published facts."""
    if source.is_dir():
        source = within(source, source / f"{name}.npz", name)
    if extra and (source.parent / extra).is_file():  # before reading anything
        within(source.parent, source.parent / extra, name)
    if not _published_file(name, source):
        arrays = _read(name, source, read_npz)
        keys = [key for split in PUBLISHED[name].counts for key in _keys(split)]
        missing = [key for key in keys if key not in arrays]
        if missing:
            raise DataUnavailable(f"{name}: {source} lacks array(s) {', '.join(missing)}: {_fix(name)}")
        check_arrays(name, arrays, {key: f"{source} ({key})" for key in keys})
    install_file(source, root / f"{name}.npz")
    stored = [f"{name}.npz"]
    if extra and (source.parent / extra).is_file():
        install_file(source.parent / extra, root / extra)
        stored.append(extra)
    return stored


def _import_idx(name: str, directory: str, source: Path, root: Path) -> list[str]:
    if name == "mnist" and source.suffix == ".npz":
        return _import_npz(name, source, root)
    if source.is_dir():
        folder = source
    elif source.name in IDX_FILES.values() or source.name.endswith(".gz"):
        folder = source.parent
    else:
        raise UsageError(f"{source}: expected a folder holding the four IDX .gz files (or one of them)")
    for file in IDX_FILES.values():  # before reading anything
        within(folder, folder / file, name)
    arrays = _read(name, folder, read_idx_set)
    check_arrays(name, arrays, {key: str(folder / file) for key, file in IDX_FILES.items()})
    _install_tree({f: folder / f for f in IDX_FILES.values()}, root / directory)
    return [f"{directory}/{f}" for f in IDX_FILES.values()]


def import_mnist(source: Path, root: Path) -> list[str]:
    return _import_idx("mnist", "mnist", source, root)


def import_fashion_mnist(source: Path, root: Path) -> list[str]:
    return _import_idx("fashion_mnist", "fashion-mnist", source, root)


def import_imdb(source: Path, root: Path) -> list[str]:
    return _import_npz("imdb", source, root, "imdb_word_index.json")


def import_reuters(source: Path, root: Path) -> list[str]:
    return _import_npz("reuters", source, root, "reuters_word_index.json")


def import_boston(source: Path, root: Path) -> list[str]:
    """Keras' boston_housing.npz, or a CSV of the 14 named columns (stored as a clean CSV)."""
    if source.suffix == ".npz":
        return _import_npz("boston_housing", source, root)
    arrays = _read("boston_housing", source, read_boston_csv)
    check_arrays("boston_housing", arrays, {"x": str(source), "y": str(source)})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BOSTON_COLUMNS)
    writer.writerows(np.column_stack([arrays["x"], arrays["y"]]).tolist())
    write_text_atomic(root / "boston_housing.csv", buffer.getvalue())
    return ["boston_housing.csv"]


def _cifar_folder(source: Path, scratch: Path) -> Path:
    """The folder of CIFAR batches: the given one, or the members of the tarball, taken by name only."""
    if source.is_dir():
        return source / "cifar-10-batches-py" if (source / "cifar-10-batches-py").is_dir() else source
    inflation = Inflation(source)
    try:
        with tarfile.open(source) as archive, progress(f"unpacking {source.name}", len(CIFAR_MEMBERS)) as advance:
            for member in archive:  # one at a time: a tar.gz is inflated only as far as it is read
                base = Path(member.name).name
                inflation.declared(member.name, member.size, member.offset_data)
                if member.isfile() and base in CIFAR_MEMBERS:
                    with archive.extractfile(member) as handle, open(scratch / base, "wb") as out:
                        inflation.copy(handle, out, member.name, member.size)  # by name only: no path from the archive
                    advance(1)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataUnavailable(f"cifar10: {source} is not a readable tarball ({error})") from None
    return scratch


def _store_cifar(folder: Path, source: Path, root: Path) -> list[str]:
    for member in CIFAR_BATCHES:
        if not (folder / member).is_file():
            raise DataUnavailable(f"cifar10: {source} lacks {member}: {_fix('cifar10')}")
    files = {m: folder / m for m in CIFAR_MEMBERS if (folder / m).exists()}
    _install_tree(files, root / "cifar-10-batches-py")
    return [f"cifar-10-batches-py/{m}" for m in files]


def import_cifar10(source: Path, root: Path) -> list[str]:
    """The python tarball (cifar-10-python.tar.gz) or its extracted cifar-10-batches-py folder."""
    published = _published_file("cifar10", source)
    with tempfile.TemporaryDirectory() as scratch:
        folder = _cifar_folder(source, Path(scratch))
        for member in CIFAR_MEMBERS:  # before reading anything; cifar-10-batches-py itself may be a link
            within(source if source.is_dir() else folder, folder / member, "cifar10")
        if not published:
            arrays = _read("cifar10", folder, read_cifar_folder, None if source.is_dir() else source)
            batches = {"train": f"{source} (data_batch_1-5)", "test": f"{source} (test_batch)"}
            check_arrays("cifar10", arrays, {f"{xy}_{split}": batches[split] for xy in "xy" for split in batches})
        return _store_cifar(folder, source, root)


def unpack_cifar10(tarball: Path, root: Path) -> list[str]:
    """The loader's: unpack a tarball `data download` fetched (Keras checked its sha256)."""
    with tempfile.TemporaryDirectory() as scratch:
        return _store_cifar(_cifar_folder(tarball, Path(scratch)), tarball, root)
