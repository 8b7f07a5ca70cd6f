"""`dlcli data list`: what the data cache holds, dataset by dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cache_rows() -> list[dict[str, Any]]:
    """One row per dataset: whether its files are in the cache, where, their size, where they come from."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir, present_set, size_on_disk

    root = data_dir()
    rows = []
    for name, entry in DATASETS.items():
        if name == "weights":  # many files, any of which may be present
            rows.append(_weights_row(root, entry))
            continue
        files = present_set(entry, root)
        present = entry.shipped or files is not None
        rows.append({
            "name": name, "present": present, "shipped": entry.shipped, "external": entry.external,
            "size_bytes": size_on_disk([root / f.path for f in files]) if files else 0,
            "description": entry.description, "source": entry.source,
            "location": str(root / (files or entry.files)[0].path) if (files or entry.files) else "built in",
            "urls": [f.url for f in entry.files if f.url],
        })
    return rows


def _weights_row(root: Path, entry) -> dict[str, Any]:
    from dlcli.pretrained import WEIGHT_FILES

    present = [root / remote.path for remote in WEIGHT_FILES.values() if (root / remote.path).is_file()]
    return {
        "name": "weights", "present": bool(present), "shipped": False, "external": False,
        "size_bytes": sum(path.stat().st_size for path in present),
        "description": f"{entry.description}: {len(present)} of {len(WEIGHT_FILES)} files",
        "source": entry.source,
        "location": str(root / "weights"), "urls": [remote.url for remote in WEIGHT_FILES.values()],
    }
