"""`dlcli data split cats-vs-dogs`: the book's small Dogs-vs-Cats folders (5.4) from Kaggle's set.

The source is Kaggle's `train/` folder (`cat.N.jpg`, `dog.N.jpg`), a folder holding it, or a zip
of either (Kaggle's `dogs-vs-cats.zip` holds `train.zip`, which is opened in place). By default
each class gives its first 1000/500/500 images by index to train/validation/test, as 5.4 does;
`shuffle` draws them at random with a seed instead. Every image is decoded with the decoder the
training pipeline uses, once its header showed a size within DLCLI_MAX_IMAGE_PIXELS; one that does
not decode is skipped, reported, and the next one takes its place. The source is only read: a link
out of a source folder is refused, and a zip's members are inflated within bounds (archives.py).
The tree is written into a scratch folder beside the destination and swapped into place at the end
(cache.replace_folder), so a failure or a kill never leaves a half-written or a missing split.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from dlcli.datasets.archives import Inflation, check_nesting
from dlcli.datasets.cache import clean_stale_staging, replace_folder, staging_dir, within
from dlcli.datasets.image_folder import decode_problem
from dlcli.errors import DataUnavailable, UsageError
from dlcli.terminal import progress as progress_bar

SPLITS = ("train", "validation", "test")
CLASS_FOLDERS = {"cat": "cats", "dog": "dogs"}
NAME = re.compile(r"(cat|dog)\.(\d+)\.(jpe?g|png)$", re.IGNORECASE)


@dataclass
class Candidate:
    label: str  # "cat" or "dog"
    index: int
    name: str  # file name as published, e.g. cat.12.jpg
    read: Callable[[], bytes]


@dataclass
class SplitReport:
    destination: str
    counts: dict[str, dict[str, int]]
    skipped: list[dict[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- reading the source


def _folder_candidates(folder: Path) -> Iterator[Candidate]:
    for path in folder.rglob("*"):
        match = NAME.fullmatch(path.name)
        if match or path.is_symlink():  # a linked image or folder that leads out: refused before reading
            within(folder, path, "data split")
        if match and path.is_file():
            yield Candidate(match[1].lower(), int(match[2]), path.name, path.read_bytes)


def _safe_member(name: str, archive: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and re.match(r"^[A-Za-z]:", parts[0])):
        raise DataUnavailable(
            f"{archive}: member '{name}' would land outside the destination; refusing this archive"
        )


def _zip_candidates(archive: zipfile.ZipFile, label: str, inflation: Inflation, depth: int = 0) -> Iterator[Candidate]:
    check_nesting(depth, label)
    for info in archive.infolist():
        _safe_member(info.filename, label)
        base = PurePosixPath(info.filename).name
        if info.is_dir():
            continue
        if base.lower().endswith(".zip"):  # Kaggle's dogs-vs-cats.zip holds train.zip
            inner = zipfile.ZipFile(io.BytesIO(_read_member(archive, info, inflation)))
            yield from _zip_candidates(inner, f"{label}!{info.filename}", inflation, depth + 1)
            continue
        match = NAME.fullmatch(base)
        if match:
            inflation.declared(info.filename, info.file_size)
            yield Candidate(match[1].lower(), int(match[2]), base,
                            lambda info=info: _read_member(archive, info, inflation))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, inflation: Inflation) -> bytes:
    with archive.open(info) as handle:
        return inflation.read(handle, info.filename, info.file_size)


def _candidates(source: Path, stack: list) -> list[Candidate]:
    if source.is_dir():
        return list(_folder_candidates(source))
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise DataUnavailable(f"{source}: not a folder or a readable zip file ({error})") from None
    stack.append(archive)
    try:
        return list(_zip_candidates(archive, str(source), Inflation(source)))
    except zipfile.BadZipFile as error:
        raise DataUnavailable(f"{source}: a nested archive is unreadable ({error})") from None


# --------------------------------------------------------------------------- the split


def check_destination(destination: Path, source: Path, overwrite: bool) -> None:
    resolved, origin = destination.resolve(), source.resolve()
    if resolved == origin or origin in resolved.parents:
        raise UsageError(f"--dest {destination} is inside the source {source}; the source is never changed")
    if resolved in origin.parents:  # --overwrite would delete the source with the old destination
        raise UsageError(f"the source {source} is inside --dest {destination}; the source is never changed: "
                         "choose a --dest outside it")
    if destination.exists() and not destination.is_dir():
        raise UsageError(f"--dest {destination} exists and is not a folder")
    if destination.is_dir() and any(destination.iterdir()) and not overwrite:
        raise UsageError(f"{destination} is not empty; choose another --dest or pass --overwrite")


def split_cats_vs_dogs(source: Path, destination: Path, sizes: dict[str, int], shuffle: bool = False,
                       seed: int | None = None, overwrite: bool = False,
                       progress: Callable[[str], None] | None = None) -> SplitReport:
    """Build destination/{train,validation,test}/{cats,dogs} from Kaggle's files (see module doc)."""
    if not source.exists():  # an argument that names nothing: a usage error, as everywhere
        raise UsageError(f"{source}: no such file or directory")
    check_destination(destination, source, overwrite)
    archives: list[zipfile.ZipFile] = []
    try:
        candidates = _candidates(source, archives)
        by_label = {label: sorted((c for c in candidates if c.label == label), key=lambda c: c.index)
                    for label in CLASS_FOLDERS}
        need = sum(sizes.values())
        for label, found in by_label.items():
            if len(found) < need:
                raise DataUnavailable(
                    f"{source}: {len(found)} {label} images ({label}.N.jpg); the split needs {need} per class. "
                    "Point at Kaggle's train/ folder or its zip, or ask for fewer with --train/--validation/--test"
                )
        if shuffle:
            generator = random.Random(seed)
            for found in by_label.values():
                generator.shuffle(found)
        destination.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(destination.parent)  # a killed split's scratch, or its old copy to put back
        scratch = staging_dir(destination.parent, destination.name)
        try:
            report = _write(by_label, sizes, scratch, decode_problem, progress)
            replace_folder(scratch, destination)  # the old split stays whole until the new one is in place
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    finally:
        for archive in archives:
            archive.close()
    report.destination = str(destination)
    return report


def _write(by_label: dict[str, list[Candidate]], sizes: dict[str, int], scratch: Path,
           check: Callable[[bytes], str | None], progress) -> SplitReport:
    report = SplitReport(str(scratch), {split: {} for split in SPLITS})
    with progress_bar("splitting", sum(sizes.values()) * len(by_label)) as advance:
        for label, found in by_label.items():
            folder_name = CLASS_FOLDERS[label]
            slots = [split for split in SPLITS for _ in range(sizes[split])]
            queue = iter(found)
            for split in SPLITS:
                (scratch / split / folder_name).mkdir(parents=True, exist_ok=True)
                report.counts[split][folder_name] = 0
            for split in slots:
                for candidate in queue:
                    data = candidate.read()
                    reason = check(data)
                    if reason is None:
                        (scratch / split / folder_name / candidate.name).write_bytes(data)
                        report.counts[split][folder_name] += 1
                        advance(1)
                        break
                    report.skipped.append({"file": candidate.name, "reason": reason})
                    if progress:
                        progress(f"skipped {candidate.name}: {reason}")
                else:
                    have = sum(report.counts[s][folder_name] for s in SPLITS)
                    raise DataUnavailable(
                        f"only {have} of the {len(slots)} {label} images the split needs decode; "
                        f"{len([s for s in report.skipped if s['file'].startswith(label)])} were skipped"
                    )
    return report


SPLITTERS = {"cats-vs-dogs": "cats_vs_dogs"}  # split name -> the dataset whose cache it fills


def data_split(name: str, source: str, destination: str | None = None, train: int = 1000,
               validation: int = 500, test: int = 500, shuffle: bool = False, seed: int | None = None,
               overwrite: bool = False, progress=None) -> dict[str, Any]:
    """The book's small Dogs-vs-Cats folders (5.4) from Kaggle's train set (split_cats_vs_dogs), under the
    lock of the dataset whose cache they fill: {'destination', 'counts', 'skipped'}."""
    from dlcli.datasets.cache import data_dir, exclusive
    from dlcli.registry import name_key, unknown_name_message

    name = next((known for known in SPLITTERS if name_key(known) == name_key(name)), name)
    if name not in SPLITTERS:
        raise UsageError(unknown_name_message("split", name, SPLITTERS))
    target = Path(destination) if destination else data_dir() / name
    sizes = {"train": train, "validation": validation, "test": test}
    with exclusive(SPLITTERS[name], writes=target.parent, wait=False):
        report = split_cats_vs_dogs(Path(source), target, sizes, shuffle, seed, overwrite, progress)
    return {"destination": report.destination, "counts": report.counts, "skipped": report.skipped}
