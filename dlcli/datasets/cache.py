"""The dataset cache: where files live, whether they are there, and downloading them.

The cache is `$DLCLI_DATA_DIR`, else `./data`. Downloads use `keras.utils.get_file` with the
URLs and hashes Keras itself uses. With `DLCLI_OFFLINE=1`, or when a download fails, a missing
file raises DataUnavailable (exit 3) naming the file to bring and the import command.

Writers (imports, downloads, unpacks, splits) hold the dataset's lock (`exclusive`), build in a
scratch folder and swap it into place (`replace_folder`), so the cache holds a whole copy of a
dataset at every moment, even when a writer is killed; a folder they cannot write is one line.
Folder imports read only what the folder holds (`within`: no link out of it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from dlcli.atomic import atomic_path, umask
from dlcli.datasets.base import DatasetEntry, RemoteFile
from dlcli.errors import DataUnavailable, UsageError


def staging_dir(parent: Path, name: str) -> Path:
    """A new scratch folder beside where `name` will go; its name carries this process's pid, so
    the one a killed import left behind is recognised and removed (clean_stale_staging)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.staging-{os.getpid()}-", dir=parent))


def clean_stale_staging(root: Path) -> list[Path]:
    """Remove the scratch folders of imports, downloads and splits whose process is gone, and put
    back a cached copy such a process had moved aside (`.NAME.old-PID`) but not yet replaced."""
    removed = []
    for path in [*root.glob(".*.staging-*"), *root.glob("*/.*.staging-*"),
                 *root.glob(".*.old-*"), *root.glob("*/.*.old-*")]:
        marker = ".staging-" if ".staging-" in path.name else ".old-"
        try:
            pid = int(path.name.split(marker, 1)[1].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            original = path.parent / path.name[1:].split(marker, 1)[0]
            if marker == ".old-" and not original.exists():
                os.rename(path, original)  # killed between its two renames: the old copy is the good one
                continue
            discard(path)
            removed.append(path)
        except (ValueError, IndexError, PermissionError):
            continue
    return removed


def discard(path: Path) -> None:
    """Remove a folder or a file, whichever `path` is (a scratch copy or a replaced one)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def replace_folder(new: Path, target: Path) -> None:
    """Put the folder `new` at `target` so that a complete copy is there at every moment.

    Where the system can swap two paths in one step (Linux's renameat2 RENAME_EXCHANGE), `target`
    is the old copy, then the new one; only then is the old one (now at `new`) removed. Elsewhere
    the old copy is renamed aside to `.NAME.old-PID` first; a process killed between that and the
    next rename leaves it there, and the next writer of the cache puts it back (clean_stale_staging).
    `new` (a staging folder, made private by mkdtemp) is first opened as far as the umask allows,
    as the folders the cache makes otherwise are.
    """
    os.chmod(new, 0o777 & ~umask())
    if not target.exists() and not target.is_symlink():
        os.rename(new, target)
        return
    if _exchange(new, target):
        discard(new)
        return
    aside = target.parent / f".{target.name}.old-{os.getpid()}"
    discard(aside)
    os.rename(target, aside)
    os.rename(new, target)
    discard(aside)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where this cannot be done."""
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not Linux, or a C library without it
        return False
    at_current_directory, rename_exchange = -100, 2  # AT_FDCWD, RENAME_EXCHANGE from <fcntl.h>, <stdio.h>
    if renameat2(at_current_directory, os.fsencode(first), at_current_directory, os.fsencode(second),
                 rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):  # kernel or filesystem without it
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def exclusive(name: str, root: Path | None = None, writes: Path | None = None, wait: bool = True):
    """One import, download or split of a dataset at a time: an advisory lock in the cache, naming
    its holder. A command the user typed for that dataset (`wait=False`: data import, download,
    split) is refused at once while another holds it; a run that needs the dataset waits for it,
    saying so. Scratch folders of killed writers are removed once the lock is held.

    A folder that cannot be written (`writes`, else the cache: full, read-only, a file in its place)
    ends the command with one line naming it (exit 2); a source that cannot be read, exit 3."""
    from dlcli.locking import Held, Lock

    root = root or data_dir()

    def waiting(holder: str) -> None:
        print(f"waiting for {holder}, which is writing dataset '{name}'...", file=sys.stderr)

    try:
        locks = root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        try:
            lock = Lock(locks / f"{name}.lock").acquire(f"write dataset {name}", waiting if wait else None)
        except Held as held:
            raise UsageError(f"dataset '{name}' is being written by {held.holder}; wait for it to end, "
                             f"or stop it") from None
        with lock:
            clean_stale_staging(root)
            yield
    except OSError as error:
        raise unwritable(error, writes or root) from None


def unwritable(error: OSError, folder: Path) -> DataUnavailable | UsageError:
    """One line for an OSError while writing `folder` (exit 2), or while reading a source (exit 3)."""
    import errno

    named = error.filename2 or error.filename  # a copy's error names its source, then its target
    where = Path(named) if named else None
    reason = error.strerror or str(error)
    writing = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) or where is None \
        or where.absolute().is_relative_to(folder.absolute())
    if writing:
        return UsageError(f"cannot write to {folder}: {reason}" + (f" ({where})" if where else "")
                          + "; no half-written file was left: free some space, or choose a folder you can "
                          "write (DLCLI_DATA_DIR for the data cache, --dest for a split)")
    return DataUnavailable(f"cannot read {where}: {reason}")


def within(folder: Path, path: Path, dataset: str) -> Path:
    """`path` from a folder being imported, refused when it leads out of that folder: the file, or
    any folder on the way to it, is a link elsewhere. Checked before the file is read."""
    resolved, root = path.resolve(), folder.resolve()
    if not resolved.is_relative_to(root):
        link = next((step for step in (path, *path.parents) if step.is_symlink()), path)
        raise DataUnavailable(f"{dataset}: {link} is a link to {link.resolve()}, outside {folder}; "
                              "dlcli imports only what the folder itself holds: copy the files in")
    return path


def files_within(folder: Path, pattern: str, dataset: str) -> list[Path]:
    """The files of `folder` matching the glob `pattern`, sorted, each checked with `within`."""
    return [within(folder, path, dataset) for path in sorted(folder.glob(pattern)) if path.is_file()]


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
    from dlcli.backend import import_keras

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
