"""The sweep directory: made whole or not at all, every file checked before a resume writes
anything, one process at a time, and free to move (trials are named relative to it).

    sweeps/<experiment>/<time>/     (beside the runs folder, or $DLCLI_SWEEPS_DIR)
        sweep.json      what was asked: spec, overrides, space, metric, direction, trials, seed
        spec.yaml       the spec the trials start from
        study.db        Optuna's storage (every trial, its parameters, value, state, `trials/NNNN`)
        trials/0000/    trial 0's run directory (train, resume, compare, plot work on it)
        sweep.csv, history.png, importances.png     the results (sweeps.report)
        report.html     the sweep's page, its trials linked to theirs (dlcli.report)
        .lock           held by the process running the sweep

What is checked before one is made or resumed lives in sweeps.checks; the study in study.db in
sweeps.study.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from dlcli.atomic import write_text_atomic
from dlcli.errors import UsageError
from dlcli.locking import Lock, take
from dlcli.runs import remove_abandoned_staging
from dlcli.runs.location import sweeps_root
from dlcli.sweeps.checks import (MAX_TRIALS, check_space, check_writable, data_and_model, grid_size, overrides_at,
                                 read_settings)
from dlcli.sweeps.metrics import check_metric, direction_of
from dlcli.sweeps.space import parse_params
from dlcli.sweeps.study import STUDY_NAME, StorageFailure, check_study, new_study, storage_reason, storage_url

DEFAULT_TRIALS = 20
TRIAL_NAME = re.compile(r"\d{4,}")


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
        check_space(target, overrides, params)
        grid = grid_size(params)
        parent = sweeps_root() / spec.name
        check_writable(parent)
        bundle, model = data_and_model(spec, path)  # missing data is exit 3 before any sweep directory exists
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
        settings = read_settings(folder / "sweep.json")
        try:
            params = parse_params([], settings["params"])
        except UsageError as error:
            raise UsageError(f"{folder / 'sweep.json'}: params: {error}; the sweep directory is damaged") from None
        check_study(folder / "study.db")
        if not (folder / "spec.yaml").is_file():
            raise UsageError(f"{folder / 'spec.yaml'}: missing; the sweep directory is damaged")
        load_spec(str(folder / "spec.yaml"), [*settings["overrides"], *overrides_at(params, 0)])
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
        self._lock = take(self.folder / ".lock", "sweep", self.folder)

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
        self.settings["trials"] = min(trials, grid_size(self.params) or MAX_TRIALS)
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
        self._storage = storage = optuna.storages.RDBStorage(storage_url(self.study_path))
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
        new_study(staging / "study.db", settings["direction"])
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
