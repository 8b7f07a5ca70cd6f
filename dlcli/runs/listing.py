"""`dlcli runs`: one row per run under the runs root, and per trial of each sweep (a sweep keeps its
trials' runs in its own folder under the sweeps root, beside the runs root), newest first.

A row is read from run.json and metrics.json alone, and the length of history.json for a run that
has no metrics yet: no spec is validated and no Keras is imported, so hundreds of runs list in a
fraction of a second. A folder that cannot be read as a run is a row of status `damaged` with the
reason, never an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.runs import layout
from dlcli.runs.directory import Run
from dlcli.runs.location import name_order, runs_root, sweeps_root
from dlcli.runs.records import overrides_now
from dlcli.runs.references import run_folders

DAMAGED = "damaged"  # a folder under the runs root that is no readable run (never written into run.json)
SWEEP_SETTINGS = "sweep.json"  # what marks a sweep directory (dlcli.sweeps.directory)
SWEEP_TRIALS = "trials"
SWEEP_TABLE = "sweep.csv"  # one row a trial, rewritten by the sweep after each (dlcli.sweeps.report)
STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)")  # a run's folder name: when it was published


def list_runs(experiment: str | None = None, status: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """{'runs': [row, ...], 'sweeps': [sweep, ...]}: the runs (of `experiment` only, of `status`
    only) newest first, each sweep's trials after it in trial order; `limit` counts runs and sweeps,
    not trials. A row: run_dir (absolute), experiment, started_at, status, backend, workers, epochs,
    metric and value (the reference's metric, else the first test metric, else the lowest validation
    loss), best_epoch (the epoch of the lowest validation loss), verdict, overrides (as the run now
    is: runs.records.overrides_now); sweep and trial for a trial; error for a damaged run. A sweep:
    sweep_dir, experiment, created_at, metric, direction, trials, best_value and best_trial."""
    if experiment is not None:
        _check_named(experiment)
    entries = [(order_key(row["started_at"], row["run_dir"]), "run", row) for row in _rows(_run_dirs(experiment))]
    entries += [(order_key(sweep["created_at"], sweep["sweep_dir"]), "sweep", sweep) for sweep in _sweeps(experiment)]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    runs, sweeps, shown = [], [], 0
    for _, kind, entry in entries:
        if limit is not None and shown >= limit:
            break
        if kind == "run" and (status is None or entry["status"] == status):
            runs.append(entry)
            shown += 1
        elif kind == "sweep":
            trials = [row for row in entry.pop("rows") if status is None or row["status"] == status]
            if trials or status is None:
                sweeps.append(entry)
                runs += trials
                shown += 1
    return {"runs": runs, "sweeps": sweeps}


def _run_dirs(experiment: str | None) -> list[Path]:
    root = runs_root()
    if experiment is not None:
        return run_folders(experiment)
    if not root.is_dir():
        return []
    return [run for folder in sorted(root.iterdir()) if folder.is_dir() and not folder.name.startswith(".")
            for run in run_folders(folder.name)]


def _check_named(experiment: str) -> None:
    """An experiment with no folder under either root must be a named one (a typo: did-you-mean, exit 2)."""
    from dlcli.catalog import experiment_files
    from dlcli.registry import did_you_mean

    if (runs_root() / experiment).is_dir() or (sweeps_root() / experiment).is_dir():
        return
    names = {*experiment_files(), *(path.name for root in (runs_root(), sweeps_root()) if root.is_dir()
                                    for path in root.iterdir() if path.is_dir())}
    if experiment not in names:
        raise UsageError(f"'{experiment}' is no experiment{did_you_mean(experiment, sorted(names))} (see `dlcli list`)")


def _rows(folders: list[Path]) -> list[dict[str, Any]]:
    return [_row(folder) for folder in folders]


def order_key(recorded: str | None, folder: str) -> tuple[str, tuple[str, int]]:
    """What orders runs and sweeps, newest last: the time recorded (ISO 8601, to the second), else
    the one the folder's name says; then the folder's name (started in the same second: -9 before -10)."""
    name = Path(folder).name
    return (recorded or _stamp_time(name) or "")[:19], name_order(name)


def _stamp_time(name: str) -> str | None:
    """The ISO 8601 time of a folder named `YYYYmmdd-HHMMSS[-N]` (when its run or sweep was made)."""
    match = STAMP.match(name)
    return f"{match[1]}-{match[2]}-{match[3]}T{match[4]}:{match[5]}:{match[6]}" if match else None


def _row(folder: Path) -> dict[str, Any]:
    """One run's row; a run that cannot be read is `damaged`, with why."""
    row: dict[str, Any] = {"run_dir": str(folder.resolve()), "experiment": folder.parent.name, "started_at": None,
                           "status": DAMAGED, "backend": None, "workers": None, "epochs": None, "metric": None,
                           "value": None, "best_epoch": None, "verdict": None, "overrides": []}
    run = Run(folder)
    try:
        if not run.has(layout.INFO):
            raise UsageError(f"{folder}: no run.json; not a run directory")
        info, status = run.info, run.status
        metrics = run.metrics()
        epochs = (metrics.get("metrics") or {}).get("epochs_completed")
        if epochs is None:
            epochs = len(run.history().get("epoch", []))
    except UsageError as error:
        return {**row, "error": str(error)}
    row.update(experiment=info.get("experiment") or row["experiment"], started_at=info.get("started_at"),
               status=status, backend=info.get("backend"), workers=(info.get("workers") or {}).get("processes", 1),
               epochs=epochs, overrides=overrides_now(info), **_key_metric(metrics))
    return row


def _key_metric(stored: dict[str, Any]) -> dict[str, Any]:
    """The metric a run is judged by: the reference's, else the first test metric, else the lowest
    validation loss (metrics.json's best_val_loss); with the verdict and the epoch of that lowest loss."""
    metrics, check = stored.get("metrics") or {}, stored.get("check") or {}
    checked = [item.get("metric") for item in check.get("checks") or [] if isinstance(item, dict)]
    names = [name for name in checked if name in metrics] or [name for name in metrics if name.startswith("test_")]
    name = names[0] if names else next((name for name in metrics if name.startswith("best_val_")), None)
    value = metrics.get(name) if name else None
    return {"metric": name[len("best_"):] if name and name.startswith("best_val_") else name,
            "value": value if isinstance(value, (int, float)) else None,
            "best_epoch": metrics.get("best_epoch") if isinstance(metrics.get("best_epoch"), int) else None,
            "verdict": check.get("status")}


def _sweeps(experiment: str | None) -> list[dict[str, Any]]:
    """Every sweep under the sweeps root (of `experiment` only), with its trials' rows."""
    root = sweeps_root()
    parents = [root / experiment] if experiment is not None else sorted(root.iterdir()) if root.is_dir() else []
    sweeps = []
    for parent in parents:
        if not parent.is_dir() or parent.name.startswith("."):
            continue
        for folder in sorted(parent.iterdir()):
            if folder.is_dir() and not folder.name.startswith(".") and (folder / SWEEP_SETTINGS).is_file():
                sweeps.append(_sweep(folder))
    return sweeps


def _sweep(folder: Path) -> dict[str, Any]:
    """A sweep: what sweep.json says of it (an unreadable one leaves its fields empty), and its trials."""
    try:
        settings = json.loads((folder / SWEEP_SETTINGS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = None
    settings = settings if isinstance(settings, dict) else {}
    trials = folder / SWEEP_TRIALS
    folders = sorted(path for path in trials.iterdir() if path.is_dir()) if trials.is_dir() else []
    sweep = {"sweep_dir": str(folder.resolve()), "experiment": settings.get("experiment") or folder.parent.name,
             "created_at": settings.get("created_at") or _stamp_time(folder.name), "metric": settings.get("metric"),
             "direction": settings.get("direction"), "trials": len(folders),
             **_best_trial(folder / SWEEP_TABLE, settings.get("direction"))}
    rows = [{**row, "sweep": sweep["sweep_dir"], "trial": int(trial.name) if trial.name.isdigit() else None}
            for row, trial in zip(_rows(folders), folders)]
    return {**sweep, "rows": rows}


def _best_trial(table: Path, direction: str | None) -> dict[str, Any]:
    """{'best_value', 'best_trial'}: the best value of the sweep's metric among its completed
    trials, as sweep.csv has them (Optuna's best trial: pruned and failed trials do not count);
    None for both when no trial completed or the table cannot be read."""
    import csv

    try:
        with table.open(encoding="utf-8", newline="") as handle:
            scored = [(float(row["value"]), int(row["trial"])) for row in csv.DictReader(handle)
                      if row.get("state") == "complete" and row.get("value")]
    except (OSError, ValueError, KeyError, TypeError):
        scored = []
    if not scored:
        return {"best_value": None, "best_trial": None}
    value, trial = (max if direction == "maximize" else min)(scored, key=lambda pair: pair[0])
    return {"best_value": value, "best_trial": trial}
