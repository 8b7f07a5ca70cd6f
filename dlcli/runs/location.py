"""Where runs live and where a new one may go: the runs root (and the sweeps root, whose trials are
runs), `--run-dir` checks, staging folders.

`runs/<experiment>/<YYYYmmdd-HHMMSS>[-N]/` (or `--run-dir`), never reused, never overwritten. A
new run is made in a hidden staging folder beside its place (`.NAME.part<pid>-<ns>`) and renamed
into place once its run.json exists (`Run.publish`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from dlcli.errors import UsageError
from dlcli.locking import is_held
from dlcli.runs import layout


def runs_root() -> Path:
    return Path(os.environ.get("DLCLI_RUNS_DIR") or Path.cwd() / "runs")


def sweeps_root() -> Path:
    """$DLCLI_SWEEPS_DIR, else `sweeps/` beside the runs folder (runs/*/* holds runs only; a sweep
    keeps its trials' runs in its own folder, dlcli.sweeps.directory)."""
    return Path(os.environ.get("DLCLI_SWEEPS_DIR") or runs_root().resolve().parent / "sweeps")


def enclosing_run(path: str | Path) -> Path | None:
    """The run directory (a folder holding run.json) that `path` is, or lies in at any depth, links
    resolved; None outside every run."""
    resolved = Path(path).resolve()
    return next((folder for folder in (resolved, *resolved.parents) if (folder / layout.INFO.name).is_file()), None)


@contextlib.contextmanager
def run_times_kept(path: str | Path):
    """While a reader adds to a finished run (a plot, a picture, a sample, at `path` inside it),
    keep the modification times of the run directory and of its experiment's folder: a new plots/
    or file in it would otherwise make `ls -t runs/x` show the run as the newest. Outside every
    run, nothing is kept."""
    owner = enclosing_run(path)
    kept = []
    for folder in (owner, owner.parent) if owner is not None else ():
        with contextlib.suppress(OSError):
            kept.append((folder, folder.stat()))
    try:
        yield
    finally:
        for folder, stat in kept:
            with contextlib.suppress(OSError):  # a folder that went meanwhile, or is not ours to touch
                os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def check_new(path: str | Path) -> Path:
    """A --run-dir must not exist yet, or be an empty folder, and not lie inside a run directory
    (a run never holds another run)."""
    path = Path(path)
    try:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(f"--run-dir {path}: exists and is not empty; choose a new directory")
        owner = enclosing_run(path)
    except OSError as error:  # a name too long, a loop of links
        raise UsageError(f"--run-dir {path}: cannot use this path ({error.strerror or error})") from None
    if owner is not None:
        raise UsageError(f"--run-dir {path}: inside the run directory {owner}; choose a directory outside every run")
    return path


def check_writable(experiment: str, explicit: str | Path | None = None) -> None:
    """Before any heavy work: a run directory can be made where it will go (else exit 2)."""
    target = check_new(explicit) if explicit is not None else runs_root() / experiment
    try:
        probe_writable(target)
    except OSError as error:
        where = "--run-dir" if explicit is not None else "the runs folder ($DLCLI_RUNS_DIR, else ./runs)"
        raise UsageError(f"{target}: cannot create a run directory here ({error}); choose another {where}") from None


def probe_writable(target: Path) -> None:
    """Raise the OSError that creating `target` would meet: its nearest existing folder is not a
    folder, or a file cannot be made there."""
    existing = next((folder for folder in (target, *target.parents) if folder.exists()), None)
    if existing is None or not existing.is_dir():
        raise NotADirectoryError(f"{existing} is not a folder")
    handle, probe = tempfile.mkstemp(dir=existing, prefix=".dlcli-probe-")
    os.close(handle)
    os.unlink(probe)


def new_staging(experiment: str, target: Path | None) -> Path:
    """A fresh hidden staging folder where the run will appear (`target`, else under the runs root),
    after removing those that killed processes left behind."""
    parent = target.parent if target is not None else runs_root() / experiment
    parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(parent)
    staging = parent / f".{target.name if target is not None else 'run'}.part{os.getpid()}-{time.time_ns()}"
    staging.mkdir()
    return staging


def remove_abandoned_staging(parent: Path) -> None:
    """Delete the staging folders (`.NAME.part...`) of runs whose process died before publishing
    them: their lock is free."""
    for staging in parent.glob(".*.part*"):
        if staging.is_dir() and not staging.is_symlink() and is_held(staging / ".lock") is not True:
            shutil.rmtree(staging, ignore_errors=True)


def publish_candidates(staging: Path, target: Path | None) -> list[Path]:
    """The names a staged run may take, in order: `--run-dir`, else `<YYYYmmdd-HHMMSS>[-N]` (two
    runs started in the same second get -1, -2...)."""
    return [target] if target is not None else new_run_names(staging.parent)


def name_order(name: str) -> tuple[str, int]:
    """What orders run folders by name, oldest first: `<YYYYmmdd-HHMMSS>` then its `-N` as a number,
    so a tenth run of one second (`-10`) comes after the ninth (`-9`), which text order puts after it."""
    stamp, dash, number = name.rpartition("-")
    return (stamp, int(number)) if dash and number.isdigit() and len(number) < 6 else (name, 0)


def new_run_names(parent: Path) -> list[Path]:
    """The names a new run under `parent` may take, in order: `<YYYYmmdd-HHMMSS>[-N]` (two runs
    started in the same second get -1, -2...)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return [parent / (stamp if attempt == 0 else f"{stamp}-{attempt}") for attempt in range(1000)]
