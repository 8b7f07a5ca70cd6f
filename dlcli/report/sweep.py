"""The page of a sweep: what was searched, its trials sorted by the objective (the best marked),
each linked to its run's report.html where the run has one, Optuna's two plots, and the curves of
the best trials overlaid.

The trials are read from sweep.csv, the table the sweep itself writes after every trial
(sweeps.report), so the page shows what the sweep recorded, and needs neither Optuna nor the study.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from dlcli.curves import finite_number
from dlcli.errors import DlcliError, UsageError
from dlcli.runs import Run, layout

TRIALS_TABLE = "sweep.csv"  # written by sweeps.report
PLOTS = ("history.png", "importances.png")  # Optuna's, written by sweeps.report
CURVES_OF_BEST = 8  # trials whose curves are overlaid: more make a legend nobody reads


def trial_rows(sweep, page_folder: Path) -> list[dict[str, Any]]:
    """sweep.csv's rows, best first (trials without a value last), each with its run's verdict and
    the link from the page to the run's report.html, when it has one."""
    path = sweep.folder / TRIALS_TABLE
    if not path.is_file():
        return []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: unreadable ({error}); the sweep directory is damaged") from None
    sign = -1 if sweep.settings.get("direction") == "maximize" else 1
    rows.sort(key=lambda row: (finite_number(row.get("value")) is None, sign * (finite_number(row.get("value")) or 0)))
    for row in rows:
        row["value"], row["best"] = finite_number(row.get("value")), False
        row.update(_trial_run(sweep, row.get("run_dir"), page_folder))
    if rows and rows[0]["value"] is not None:
        rows[0]["best"] = True
    return rows


def _trial_run(sweep, stored: str | None, page_folder: Path) -> dict[str, Any]:
    from dlcli.report.rendering import relative_link

    run_path = sweep.trial_path(stored)
    if run_path is None or not run_path.is_dir():
        return {"verdict": None, "link": None, "run": None}
    try:
        run = Run.open(run_path)
        verdict = (run.metrics().get("check") or {}).get("status")
    except DlcliError:
        return {"verdict": "damaged", "link": None, "run": None}
    link = relative_link(run.file(layout.REPORT), page_folder) if run.has(layout.REPORT) else None
    return {"verdict": verdict, "link": link, "run": run}


def sweep_page(sweep, page_folder: Path) -> dict[str, Any]:
    from dlcli.report.page import curves
    from dlcli.report.pictures import png_file_uri

    rows = trial_rows(sweep, page_folder)
    best_runs = [row["run"] for row in rows if row["run"] is not None and row["value"] is not None][:CURVES_OF_BEST]
    settings = sweep.settings
    return {
        "folder": str(sweep.folder), "experiment": settings.get("experiment"), "metric": settings.get("metric"),
        "direction": settings.get("direction"), "trials_wanted": settings.get("trials"),
        "params": list(settings.get("params") or {}), "space": settings.get("params") or {},
        "overrides": settings.get("overrides") or [], "command": " ".join(map(str, settings.get("command") or [])),
        "rows": [{key: value for key, value in row.items() if key != "run"} for row in rows],
        "plots": [{"name": name, "uri": png_file_uri(sweep.folder / name)} for name in PLOTS  # the sweep's own
                  if (sweep.folder / name).is_file() and (sweep.folder / name).resolve().is_relative_to(
                      sweep.folder.resolve())],
        "curves": curves(best_runs) if best_runs else {"items": [], "note": "no trial has completed"},
        "shown_curves": len(best_runs),
    }


def sweep_html(sweep, page_folder: Path, generated_at: str) -> str:
    from dlcli.report.rendering import render

    return render("sweep.html.j2", page=sweep_page(sweep, page_folder), generated_at=generated_at)
