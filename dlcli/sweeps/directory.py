"""The sweep directory: made whole or not at all, every file checked before a resume writes
anything, one process at a time, and free to move (trials are named relative to it).

    sweeps/<experiment>/<time>/     (beside the runs folder, or $DLCLI_SWEEPS_DIR)
        sweep.json      what was asked: spec, overrides, space, metric, direction, trials, seed
        spec.yaml       the spec the trials start from
        study.db        Optuna's storage (every trial, its parameters, value, state, `trials/NNNN`)
        trials/0000/    trial 0's run directory (train, resume, compare, plot work on it)
        sweep.csv, history.png, importances.png     the results (sweeps.report)
        .lock           held by the process running the sweep
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dlcli.atomic import write_text_atomic
from dlcli.errors import SpecError, UsageError
from dlcli.locking import Held, Lock
from dlcli.runs import Run, remove_abandoned_staging, runs_root
from dlcli.sweeps.metrics import check_metric, direction_of
from dlcli.sweeps.space import Param, as_override, extremes, parse_params

DEFAULT_TRIALS = 20
MAX_TRIALS = 10_000  # as --trials allows
MAX_GRID = 1_000_000  # Optuna's grid sampler lists every combination in memory
STUDY_NAME = "sweep"
TRIAL_NAME = re.compile(r"\d{4,}")


def sweeps_root() -> Path:
    """$DLCLI_SWEEPS_DIR, else `sweeps/` beside the runs folder (runs/*/* holds runs only)."""
    return Path(os.environ.get("DLCLI_SWEEPS_DIR") or runs_root().resolve().parent / "sweeps")


class Settings(BaseModel):
    """sweep.json's fields that a resume reads (others, such as created_at, are kept as written)."""

    model_config = ConfigDict(extra="allow", strict=True)

    experiment: str
    overrides: list[str]
    params: dict[str, str | list[Any]]
    metric: str
    direction: Literal["minimize", "maximize"]
    trials: int = Field(ge=1, le=MAX_TRIALS)
    seed: int = Field(ge=0, le=2**32 - 1)
    pruning: bool
    sampler: Literal["grid", "tpe"]


class Sweep:
    """A sweep directory: its settings, its study and its trials' runs."""

    def __init__(self, folder: Path, settings: dict[str, Any], lock: Lock | None = None):
        self.folder, self.settings, self._lock = folder, settings, lock
        self._storage = None  # Optuna's storage, once the study is opened
        self.params = parse_params([], settings["params"])
        self.data: dict[str, Any] = {}  # loaded data by the spec's data section, shared by the trials

    # ------------------------------------------------------------------ making and opening

    @classmethod
    def create(cls, target: str, param_texts: list[str], overrides: list[str], trials: int | None,
               metric: str | None, direction: str | None, pruning: bool | None) -> "Sweep":
        """Check everything that can be checked (space, metric, data, folder), then make the sweep
        directory, locked by this process."""
        from dlcli.spec.loading import load_spec

        spec, path = load_spec(target, overrides)
        defaults = spec.sweep.model_dump() if spec.sweep else {}
        params = parse_params(param_texts, defaults.get("params"))
        metric = metric or defaults.get("metric") or "val_loss"
        direction = direction_of(metric, direction or defaults.get("direction"))
        if metric.startswith("val_") and spec.fit.validation.kind == "none":
            raise UsageError(f"--metric {metric}: the spec has no validation data (fit.validation.kind: none); "
                             "choose a test_ metric or set fit.validation")
        _check_space(target, overrides, params)
        grid = _grid_size(params)
        parent = sweeps_root() / spec.name
        _check_writable(parent)
        bundle, model = _data_and_model(spec, path)  # missing data is exit 3 before any sweep directory exists
        check_metric(metric, spec, bundle, model, list(params))
        settings = {
            "experiment": spec.name, "spec_path": str(Path(path).resolve()), "overrides": list(overrides),
            "params": {key: list(p.choices) if p.kind == "choice" else p.describe() for key, p in params.items()},
            "metric": metric, "direction": direction,
            "trials": min(trials or defaults.get("trials") or grid or DEFAULT_TRIALS, grid or MAX_TRIALS),  # a grid, once
            "seed": spec.seed, "pruning": defaults.get("pruning", True) if pruning is None else pruning,
            "sampler": "grid" if grid else "tpe", "created_at": datetime.now().isoformat(timespec="seconds"),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        }
        sweep = cls(*_make_folder(parent, spec, settings))
        sweep.data[spec.data.model_dump_json()] = bundle
        return sweep

    @classmethod
    def open(cls, folder: str | Path) -> "Sweep":
        """An existing sweep directory, each of its files checked (read only) so that a damaged one is
        one line naming it, before anything is locked or written."""
        from dlcli.spec.loading import load_spec

        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such sweep directory")
        if not (folder / "sweep.json").exists():
            raise UsageError(f"{folder}: not a sweep directory (no sweep.json); sweeps live in "
                             f"sweeps/<experiment>/<time>/")
        settings = _read_settings(folder / "sweep.json")
        try:
            params = parse_params([], settings["params"])
        except UsageError as error:
            raise UsageError(f"{folder / 'sweep.json'}: params: {error}; the sweep directory is damaged") from None
        _check_study(folder / "study.db")
        if not (folder / "spec.yaml").is_file():
            raise UsageError(f"{folder / 'spec.yaml'}: missing; the sweep directory is damaged")
        load_spec(str(folder / "spec.yaml"), [*settings["overrides"], *_overrides_at(params, 0)])
        trials = folder / "trials"
        if trials.exists() and not trials.is_dir():
            raise UsageError(f"{trials}: not a folder (the trials' runs go there); move it away and resume again")
        return cls(folder, settings)

    # ------------------------------------------------------------------ one writer

    def hold(self) -> None:
        """Take the sweep's lock before writing anything: a second process would tell the study
        about a live trial. Refused at once, naming the holder."""
        if self._lock is not None:
            return
        try:
            self._lock = Lock(self.folder / ".lock").acquire("sweep")
        except Held as held:
            raise UsageError(f"{self.folder}: in use by {held.holder}; wait for it to end, or stop it") from None
        except OSError as error:
            raise UsageError(f"{self.folder}: cannot be written ({error})") from None

    def release(self) -> None:
        """The lock, and the study's database connections (so the sweep directory's disk is free)."""
        if self._storage is not None:
            self._storage.engine.dispose()
            self._storage = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def set_trials(self, trials: int) -> None:
        """--resume --trials N: the new number of trials (at most the grid), kept in sweep.json."""
        self.settings["trials"] = min(trials, _grid_size(self.params) or MAX_TRIALS)
        try:
            write_text_atomic(self.folder / "sweep.json", json.dumps(self.settings, indent=2) + "\n")
        except OSError as error:
            raise UsageError(f"{self.folder / 'sweep.json'}: cannot be written ({error})") from None

    # ------------------------------------------------------------------ files

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.yaml"

    @property
    def study_path(self) -> Path:
        return self.folder / "study.db"

    @staticmethod
    def trial_name(number: int) -> str:
        """A trial's run directory as the study keeps it: relative, so the sweep directory may move."""
        return f"trials/{number:04d}"

    def trial_path(self, stored: str | None) -> Path | None:
        """The run directory of a trial inside this sweep directory: `trials/NNNN` as stored, or an
        older sweep's absolute path mapped into this folder (a copy resumes its own trials, never
        the original's); None for no run, or a path that is no trial's."""
        path = PurePath(stored) if stored else None
        if path is None or path.parent.name != "trials" or not TRIAL_NAME.fullmatch(path.name):
            return None
        return self.folder / "trials" / path.name

    def study(self, resuming: bool):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._storage = storage = optuna.storages.RDBStorage(_storage(self.study_path))
        settings = self.settings
        if settings["sampler"] == "grid":
            class Grid(optuna.samplers.GridSampler):
                def after_trial(self, *args, **kwargs):
                    """Nothing: GridSampler's study.stop() works only inside study.optimize, and the
                    sweep asks for at most the grid's size anyway."""

            sampler = Grid({k: list(p.choices) for k, p in self.params.items()}, seed=settings["seed"])
        else:  # a sampler seeded again would replay its first draws: shift the seed by the trials so far
            done = len(optuna.load_study(study_name=STUDY_NAME, storage=storage).trials) if resuming else 0
            sampler = optuna.samplers.TPESampler(seed=(settings["seed"] + done) % 2**32)  # NumPy takes 32 bits
        pruner = optuna.pruners.MedianPruner() if settings["pruning"] else optuna.pruners.NopPruner()
        return optuna.create_study(study_name=STUDY_NAME, storage=storage, direction=settings["direction"],
                                   sampler=sampler, pruner=pruner, load_if_exists=True)


def _storage(path: Path) -> str:
    return f"sqlite:///{path}"


def storage_reason(error: BaseException) -> str:
    """The database's own words for a storage error (SQLAlchemy wraps them in several lines)."""
    while getattr(error, "orig", None) is not None or error.__cause__ is not None:
        error = getattr(error, "orig", None) or error.__cause__
    return str(error).splitlines()[0] if str(error) else type(error).__name__


# --------------------------------------------------------------------------- checks before writing


def _grid_size(params: dict[str, Param]) -> int | None:
    """The number of combinations when every dimension is a list of choices (a grid), else None."""
    if not all(p.kind == "choice" for p in params.values()):
        return None
    size = 1
    for param in params.values():
        size *= len(param.choices)
    return size


def _overrides_at(params: dict[str, Param], index: int) -> list[str]:
    """The --set texts giving each dimension its `index`-th extreme value (its last, past its count)."""
    return [as_override(key, values[min(index, len(values) - 1)])
            for key, values in ((key, extremes(param)) for key, param in params.items())]


def _check_space(target: str, overrides: list[str], params: dict[str, Param]) -> None:
    """Every value the space can produce fits the spec (each choice, both ends of each range),
    checked in as many validations as the longest dimension has values, before any trial."""
    from dlcli.spec.loading import load_spec

    grid = _grid_size(params)
    if grid is not None and grid > MAX_GRID:
        raise UsageError(f"--param: the grid has {grid:,} combinations, more than {MAX_GRID:,}; "
                         "give fewer values, or a range (uniform:, int:...)")
    for index in range(max(len(extremes(param)) for param in params.values())):
        tried = _overrides_at(params, index)
        try:
            load_spec(target, [*overrides, *tried])
        except SpecError as error:
            message = str(error)
            for text in tried:
                key, _, value = text.partition("=")
                message = message.replace(f"--set {text}", f"--param {key} (tried as {value})")
            raise SpecError(message) from None


def _check_writable(parent: Path) -> None:
    """A sweep directory can be made under `parent` (else exit 2), before any data is loaded."""
    from dlcli.runs import probe_writable

    try:
        probe_writable(parent)
    except OSError as error:
        raise UsageError(f"{parent}: cannot create a sweep directory here ({error}); "
                         "choose another $DLCLI_SWEEPS_DIR") from None


def _data_and_model(spec, spec_path: Path):
    """The data and the compiled model of the spec as it stands, as its trials will have them: a
    spec that does not fit the data is refused here, once, rather than by every trial."""
    from dlcli import datasets
    from dlcli.training import lifecycle

    datasets.ensure_available(spec.data)
    lifecycle.prepare(spec)
    bundle = datasets.load(spec.data)
    source = Run.find(spec.model.run, "model.run") if spec.model.type == "from_run" else None
    return bundle, lifecycle.built(lifecycle.pinned(spec, source), bundle, Path(spec_path))


def _read_settings(path: Path) -> dict[str, Any]:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: unreadable ({error}); the sweep directory is damaged") from None
    try:
        Settings.model_validate(settings)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise UsageError(f"{path}: {where}: {first['msg']}; the sweep directory is damaged") from None
    return settings


def _check_study(path: Path) -> None:
    """study.db is an Optuna storage holding the sweep's study. Read with the standard sqlite3 first,
    since Optuna would quietly make a new study in an empty or foreign database."""
    if not path.is_file():
        raise UsageError(f"{path}: {'not a file' if path.exists() else 'missing'}; the sweep directory is damaged")
    if path.stat().st_size == 0:
        raise UsageError(f"{path}: empty; the sweep directory is damaged")
    try:
        with closing(sqlite3.connect(path)) as database:
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"studies", "trials"} <= tables:
                raise UsageError(f"{path}: not an Optuna study (its tables: {', '.join(sorted(tables)) or 'none'}); "
                                 "the sweep directory is damaged")
            studies = [row[0] for row in database.execute("SELECT study_name FROM studies")]
    except sqlite3.Error as error:
        raise UsageError(f"{path}: not a readable SQLite database ({error}); the sweep directory is damaged") from None
    if STUDY_NAME not in studies:
        raise UsageError(f"{path}: holds no study named '{STUDY_NAME}' (it holds: {', '.join(studies) or 'none'}); "
                         "the sweep directory is damaged")


# --------------------------------------------------------------------------- making one whole


def _make_folder(parent: Path, spec, settings: dict[str, Any]) -> tuple[Path, dict[str, Any], Lock]:
    """spec.yaml, sweep.json, an empty study and trials/, written in a hidden staging folder that
    this process locks, then given the sweep's name: no sweep directory is ever seen half-made,
    and a full disk leaves nothing behind (a killed process's staging folder goes with the next)."""
    from dlcli.spec.loading import dump_spec

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    staging, lock = None, None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_staging(parent)
        staging = parent / f".{stamp}.part{os.getpid()}-{time.time_ns()}"
        staging.mkdir()
        lock = Lock(staging / ".lock").acquire("sweep")
        write_text_atomic(staging / "spec.yaml", dump_spec(spec))
        write_text_atomic(staging / "sweep.json", json.dumps(settings, indent=2) + "\n")
        (staging / "trials").mkdir()
        _new_study(staging / "study.db", settings["direction"])
        return _publish(staging, stamp), settings, lock
    except BaseException as error:
        if lock is not None:
            lock.release()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, (OSError, StorageFailure)):
            raise UsageError(f"{parent}: cannot create a sweep directory here ({storage_reason(error)}); "
                             "nothing was kept; free some space or choose another $DLCLI_SWEEPS_DIR") from None
        raise


class StorageFailure(Exception):
    """Optuna or SQLite could not write the study."""


def _new_study(path: Path, direction: str) -> None:
    import gc

    import optuna
    import sqlalchemy

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        storage = optuna.storages.RDBStorage(_storage(path))
        optuna.create_study(study_name=STUDY_NAME, storage=storage, direction=direction)
        storage.engine.dispose()
        return
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as error:
        reason = storage_reason(error)
    storage = None
    gc.collect()  # the failed storage's engine goes, and the database file it held open with it
    raise StorageFailure(reason)


def _publish(staging: Path, stamp: str) -> Path:
    """Rename the staging folder to `<stamp>[-N]`, the first name free."""
    for name in (stamp, *(f"{stamp}-{n}" for n in range(1, 1000))):
        folder = staging.parent / name
        if folder.exists():
            continue
        try:
            os.rename(staging, folder)
        except OSError:  # taken meanwhile
            continue
        return folder
    raise UsageError(f"{staging.parent}: no free name for a new sweep directory; choose another $DLCLI_SWEEPS_DIR")
