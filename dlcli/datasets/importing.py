"""`dlcli data import` as a user reads it: the dataset's importer run, then what it checked and stored.

The importers (array_imports, series, text, glove, characters, pretrained) refuse anything that is
not what the source publishes; this module says what passed: how many files, the counts the
importer verified ("60,000 + 10,000 images"), their size in the cache, and which cached files the
import replaced. `data_import` runs it under the dataset's lock (cache.exclusive).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.datasets.base import DatasetEntry
from dlcli.errors import UsageError


def data_import(name: str, source: str) -> dict[str, Any]:
    """Check files the user already has and store them in the cache where the loaders look: what
    was stored, checked and replaced (import_dataset)."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir, exclusive

    entry = DATASETS.get(name)
    if entry.importer is None:
        raise UsageError(f"dataset '{name}' is built in; there is nothing to import")
    path = Path(source)
    if not path.exists():
        raise UsageError(f"{source}: no such file or directory")
    root = data_dir()
    with exclusive(entry.name, root, wait=False):
        return import_dataset(entry, path, root)


def import_dataset(entry: DatasetEntry, source: Path, root: Path) -> dict[str, Any]:
    """Run the entry's importer on `source`: {'dataset', 'files' (absolute paths stored), 'checked'
    (the counts verified, or None where the importer checks no count), 'bytes' (their size in the
    cache), 'replaced' (the stored paths that held a cached copy before)}."""
    from dlcli.datasets.cache import size_on_disk

    cached = [path for path in _cacheable(entry) if (root / path).exists()]
    stored = entry.import_files(source, root)
    replaced = [path for path in stored if any(Path(path).is_relative_to(known) for known in cached)]
    return {
        "dataset": entry.name,
        "files": [str(root / path) for path in stored],
        "checked": checked_counts(entry.name, len(stored)),
        "bytes": size_on_disk([root / path for path in stored]),
        "replaced": [str(root / path) for path in replaced],
    }


def summary(result: dict[str, Any]) -> str:
    """'fashion_mnist: checked 4 files, 60,000 + 10,000 images, 30.9 MB'."""
    count = len(result["files"])
    parts = [f"{count} file{'s' * (count != 1)}", result["checked"], f"{result['bytes'] / 1e6:.1f} MB"]
    return f"{result['dataset']}: checked " + ", ".join(part for part in parts if part)


def checked_counts(name: str, files: int) -> str | None:
    """The counts the dataset's importer verified before storing anything, as a user reads them."""
    from dlcli.datasets.array_imports import PUBLISHED

    if name in PUBLISHED:  # check_arrays, or the sha256 of the very file Keras publishes
        facts = PUBLISHED[name]
        return " + ".join(f"{count:,}" for count in facts.counts.values()) + f" {facts.unit}"
    if name == "jena_climate":
        from dlcli.datasets.series import JENA_ROWS

        return f"{JENA_ROWS:,} rows"
    if name == "imdb_reviews":
        from dlcli.datasets.text import REVIEWS_PER_FOLDER

        return f"{2 * REVIEWS_PER_FOLDER:,} + {2 * REVIEWS_PER_FOLDER:,} reviews"
    if name == "glove":
        from dlcli.datasets.glove import GLOVE_WORDS

        return f"{GLOVE_WORDS:,} words" + (" in each" if files > 1 else "")
    return None


def _cacheable(entry: DatasetEntry) -> list[str]:
    """Every cache path the entry's files may take (its download, the alternatives, weight files)."""
    paths = [item.path for files in (entry.files, *entry.alternatives) for item in files]
    if entry.name == "weights":
        from dlcli.pretrained import WEIGHT_FILES

        paths += [remote.path for remote in WEIGHT_FILES.values()]
    return paths
