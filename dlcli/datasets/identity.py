"""What identifies the data a run trains on, so that resuming it on other data is noticed.

At start, run.json records `data_identity`: each file or folder the dataset is read from, with a
fingerprint. A file is named by the sha256 of its bytes (mnist.npz, a CSV, the cifar tarball: well
under a second). A folder (aclImdb's 50,000 reviews, a folder of photos) is named by the sha256 of
its manifest, every file's path, size and modification time: reading all its bytes at every start
and resume would cost seconds and tell no more in practice. Built-in data (digits, synthetic) is
fixed by the spec and dlcli's version, which resume compares already.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dlcli.datasets.files_io import file_digest


def data_sources(params) -> list[Path]:
    """The files and folders the `data` section's dataset is read from, as absolute paths."""
    from dlcli.datasets import DATASETS
    from dlcli.datasets.cache import data_dir

    entry = DATASETS.get(params.name)
    if getattr(params, "path", None) is not None:
        return [Path(params.path).expanduser().resolve()]
    if entry.shipped:
        return []
    root = data_dir()
    found = {(root / item.path).resolve() for files in [entry.files, *entry.alternatives] for item in files
             if (root / item.path).exists()}
    return sorted(found)


def fingerprint(path: Path) -> str:
    """'sha256:...' of a file's bytes, or 'manifest-sha256:...' of a folder's (path, size, mtime) list."""
    if not path.is_dir():
        return f"sha256:{file_digest(path)}"
    manifest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        status = file.stat()
        manifest.update(f"{file.relative_to(path).as_posix()}\t{status.st_size}\t{status.st_mtime_ns}\n".encode())
    return f"manifest-sha256:{manifest.hexdigest()}"


def data_identity(params) -> dict[str, str]:
    """{path: fingerprint} of every file and folder the dataset is read from (run.json's `data_identity`)."""
    return {str(path): fingerprint(path) for path in data_sources(params)}


def changed_data(recorded: dict[str, str]) -> list[str]:
    """The recorded files and folders that are missing now, or whose fingerprint differs."""
    changed = []
    for name, expected in recorded.items():
        path = Path(name)
        if not path.exists():
            changed.append(f"{name} (missing)")
        elif fingerprint(path) != expected:
            changed.append(name)
    return changed
