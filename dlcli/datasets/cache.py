"""The dataset cache: where files live, whether they are there, and downloading them.

The cache is `$DLCLI_DATA_DIR`, else `./data`. Downloads use `keras.utils.get_file` with the
URLs and hashes Keras itself uses. With `DLCLI_OFFLINE=1`, or when a download fails, a missing
file raises DataUnavailable (exit 3) naming the file to bring and the import command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from dlcli.atomic import atomic_path
from dlcli.datasets.base import DatasetEntry, RemoteFile
from dlcli.errors import DataUnavailable


def staging_dir(parent: Path, name: str) -> Path:
    """A new scratch folder beside where `name` will go; its name carries this process's pid, so
    the one a killed import left behind is recognised and removed (clean_stale_staging)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.staging-{os.getpid()}-", dir=parent))


def clean_stale_staging(root: Path) -> list[Path]:
    """Remove the scratch folders of imports, downloads and splits whose process is gone."""
    removed = []
    for path in [*root.glob(".*.staging-*"), *root.glob("*/.*.staging-*")]:
        try:
            pid = int(path.name.split(".staging-", 1)[1].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        except (ValueError, IndexError, PermissionError):
            continue
    return removed


@contextlib.contextmanager
def exclusive(name: str, root: Path | None = None):
    """One import, download or split of a dataset at a time: an advisory lock in the cache. A second
    one waits, saying so; scratch folders of killed ones are removed once the lock is held."""
    root = root or data_dir()
    locks = root / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock, as before
        fcntl = None
    with open(locks / f"{name}.lock", "w") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for another dlcli that is writing dataset '{name}'...", file=sys.stderr)
                fcntl.flock(handle, fcntl.LOCK_EX)
        clean_stale_staging(root)
        yield


def within(folder: Path, path: Path, dataset: str) -> Path:
    """`path` from a folder being imported, refused when a link leads out of that folder."""
    if path.is_symlink() and folder.resolve() not in path.resolve().parents:
        raise DataUnavailable(f"{dataset}: {path} is a link to {path.resolve()}, outside {folder}; "
                              "dlcli imports only what the folder itself holds: copy the file in")
    return path


def data_dir() -> Path:
    return Path(os.environ.get("DLCLI_DATA_DIR") or Path.cwd() / "data")


def is_offline() -> bool:
    return os.environ.get("DLCLI_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def present_set(entry: DatasetEntry, root: Path | None = None) -> list[RemoteFile] | None:
    """The first complete set of cache files for a dataset (download or imported), else None."""
    root = root or data_dir()
    for files in [entry.files, *entry.alternatives]:
        if files and all((root / item.path).exists() for item in files):
            return files
    return None


def size_on_disk(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total


def missing_message(entry: DatasetEntry, root: Path, why: str) -> str:
    urls = " ".join(item.url for item in entry.files if item.url)
    expected = ", ".join(str(root / item.path) for item in entry.files)
    formats = f" ({entry.import_formats})" if entry.import_formats else ""
    if entry.how_to_get:
        where = f" ({expected})" if expected else ""
        return f"dataset '{entry.name}' is not in the cache{where}. {entry.how_to_get}"
    return (
        f"dataset '{entry.name}' is not in the cache ({expected}) and {why}. "
        f"Bring {urls or 'its files'} onto this machine, then run: "
        f"dlcli data import {entry.name} PATH{formats}"
    )


def ensure(entry: DatasetEntry, root: Path | None = None) -> list[RemoteFile]:
    """Make sure the dataset's files are in the cache, downloading them if allowed."""
    root = root or data_dir()
    found = present_set(entry, root)
    if found is not None:
        return found
    if entry.shipped or entry.external:
        return []
    with exclusive(entry.name, root):
        if present_set(entry, root) is None:  # another dlcli may have fetched it while this one waited
            download(entry, root)  # refuses, naming the file to bring, when offline or not downloadable
    return entry.files


def download(entry: DatasetEntry, root: Path | None = None) -> list[Path]:
    """Fetch the dataset's files into the cache with keras.utils.get_file (hash-checked)."""
    root = root or data_dir()
    if not any(item.url for item in entry.files):
        raise DataUnavailable(missing_message(entry, root, "it cannot be downloaded"))
    if is_offline():
        raise DataUnavailable(missing_message(entry, root, "DLCLI_OFFLINE is set"))
    from dlcli.keras_backend import import_keras

    keras = import_keras()
    paths = []
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        for item in entry.files:
            target = root / item.path
            if not target.exists():
                fetch(keras, item, target)
            paths.append(target)
    except Exception as error:  # network errors come in many types; the message names the cause
        raise DataUnavailable(missing_message(entry, root, f"the download failed ({error})")) from None
    finally:
        socket.setdefaulttimeout(previous)
    return paths


def fetch(keras, item: RemoteFile, target: Path) -> None:
    """Download one file into a scratch folder beside its target, check it, then move it in.

    keras.utils.get_file leaves a file whose hash does not match where it wrote it, and Keras 3
    refuses paths as `fname`: so it writes into a temporary folder of the cache, and only a
    checked file reaches its place.
    """
    scratch = staging_dir(target.parent, target.name)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # progress on stderr: stdout may carry --json
            fetched = keras.utils.get_file(
                fname=target.name, origin=item.url, file_hash=item.file_hash,
                cache_dir=str(scratch), cache_subdir="",
            )
        os.replace(fetched, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install_file(source: Path, target: Path) -> None:
    """Copy a checked file into the cache atomically (never a half-written cache file)."""
    with atomic_path(target) as temporary:
        shutil.copyfile(source, temporary)


def corrupt(entry: DatasetEntry, path: Path, error: Exception | str) -> DataUnavailable:
    return DataUnavailable(
        f"dataset '{entry.name}': {path} is unreadable or corrupt ({error}). Delete it and run "
        f"`dlcli data download {entry.name}`, or `dlcli data import {entry.name} PATH`"
    )
