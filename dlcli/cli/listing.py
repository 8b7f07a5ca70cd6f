"""`dlcli runs`: the runs under the runs root and the sweeps' trials, newest first (no TensorFlow)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlcli.cli.options import command, json_option, number, print_json, table, terminal_width
from dlcli.runs.references import shown

STATUS_CHOICES = ("completed", "running", "interrupted", "failed", "crashed", "damaged")
HEADERS = ["RUN", "STARTED", "STATUS", "BACKEND", "WORKERS", "EPOCHS", "METRIC", "VALUE", "BEST", "VERDICT",
           "OVERRIDES"]
# Cut with "…" to fit the terminal, the widest first; then left out, in this order. RUN never is.
SHRINK = {"OVERRIDES": 12, "METRIC": 10, "VERDICT": 8}  # each column's narrowest
DROP = ("STARTED", "WORKERS", "BACKEND", "BEST", "OVERRIDES")  # STARTED first: RUN holds the time too
CSV_FIELDS = ("run_dir", "experiment", "started_at", "status", "backend", "workers", "epochs", "metric", "value",
              "best_epoch", "verdict", "overrides", "sweep", "trial", "error")


@command(name="runs")
@click.argument("experiment", required=False)
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="Only the runs of this status.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Only the N newest runs (a sweep counts as one).")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout: a header, then one row per run.")
def runs_command(experiment: str | None, status: str | None, limit: int | None, as_json: bool, as_csv: bool) -> None:
    """List the runs (of EXPERIMENT) under the runs folder ($DLCLI_RUNS_DIR, else ./runs), newest
    first, and each sweep's trials under it (sweeps/ beside it, or $DLCLI_SWEEPS_DIR).

    \b
    RUN is the path to give other commands (runs/EXPERIMENT/TIME); anywhere a command takes a
    RUN, EXPERIMENT alone means its latest completed run and EXPERIMENT@2 the one before (resume:
    its latest interrupted, failed or crashed run). METRIC is the reference's metric, else the
    first test metric, else the lowest validation loss; BEST is the epoch of the lowest validation
    loss; a sweep's VALUE is its metric's best over its completed trials. STARTED is in this
    machine's time zone, as the folders' names are. OVERRIDES are the run's as it is now (a
    resume to N epochs shows fit.epochs=N). To fit the terminal ($COLUMNS), OVERRIDES, METRIC and VERDICT are cut with
    "…", then STARTED, WORKERS, BACKEND, BEST and OVERRIDES left out; RUN is never cut. A folder
    that is no readable run is listed as `damaged`, with why. --json and --csv hold every field.
    """
    from dlcli import api
    from dlcli.errors import UsageError

    if as_json and as_csv:
        raise UsageError("--json and --csv: choose one")
    listed = api.list_runs(experiment, status, limit)
    if as_json:
        print_json(listed)
    elif as_csv:
        _write_csv(listed["runs"])
    elif not listed["runs"] and not listed["sweeps"]:
        click.echo(_none_listed(experiment, status), err=True)
    else:
        width = terminal_width()
        click.echo(table(_table_rows(listed), HEADERS, width, shrink=SHRINK, drop=DROP if width else ()))
        for row in listed["runs"]:
            if row.get("error"):
                click.echo(f"damaged: {row['error']}")


def _none_listed(experiment: str | None, status: str | None) -> str:
    """Why the listing is empty: no run at all (train one), or none of that status (the statuses there are)."""
    from collections import Counter

    from dlcli import api

    where = f" of {experiment}" if experiment else ""
    if status is None:
        return f"no runs{where} (train one: dlcli train {experiment or 'NAME'})"
    counts = Counter(row["status"] for row in api.list_runs(experiment)["runs"])
    there = ", ".join(f"{name} {count}" for name, count in counts.most_common())
    return f"no run{where} has status {status}" + (f" (statuses: {there})" if there else f"; there are no runs{where}")


def _table_rows(listed: dict) -> list[list[str]]:
    """One row per run, newest first; a sweep's row (its folder, `sweep`, its metric) where it was
    made, its trials under it, indented."""
    from dlcli.runs.listing import order_key

    entries = [(order_key(row["started_at"], row["run_dir"]), [row], None) for row in listed["runs"]
               if not row.get("sweep")]
    entries += [(order_key(sweep["created_at"], sweep["sweep_dir"]),
                 [row for row in listed["runs"] if row.get("sweep") == sweep["sweep_dir"]], sweep)
                for sweep in listed["sweeps"]]
    rows = []
    for _, runs, sweep in sorted(entries, key=lambda entry: entry[0], reverse=True):
        if sweep is not None:
            best = sweep.get("best_value")
            rows.append([shown(Path(sweep["sweep_dir"])), _time(sweep["created_at"]), "sweep", "", "", "",
                         sweep["metric"] or "", "" if best is None else number(float(best)), "", "",
                         f"{sweep['trials']} trials" + (f", {sweep['direction']}" if sweep["direction"] else "")
                         + ("" if best is None else f", best trial {sweep['best_trial']}")])
        rows += [_table_row(row, "  " if sweep is not None else "") for row in runs]
    return rows


def _table_row(row: dict, indent: str) -> list[str]:
    return [indent + shown(Path(row["run_dir"])), _time(row["started_at"]), row["status"], row["backend"] or "",
            "" if row["workers"] is None else str(row["workers"]), "" if row["epochs"] is None else str(row["epochs"]),
            row["metric"] or "", "" if row["value"] is None else number(float(row["value"])),
            "" if row["best_epoch"] is None else str(row["best_epoch"]), row["verdict"] or "",
            " ".join(row["overrides"])]


def _time(recorded: str | None) -> str:
    """'2026-12-03 10:15' of an ISO 8601 time, in this machine's time zone as run folders are named
    (a time without its zone is taken as local); the text as written when it is no such time."""
    from datetime import datetime

    if not recorded:
        return ""
    try:
        return datetime.fromisoformat(recorded).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return recorded[:16].replace("T", " ")


def _write_csv(rows: list[dict]) -> None:
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow(["" if row.get(field) is None else
                         " ".join(row[field]) if field == "overrides" else row[field] for field in CSV_FIELDS])
