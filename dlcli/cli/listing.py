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
    loss. To fit the terminal ($COLUMNS), OVERRIDES, METRIC and VERDICT are cut with
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
        where = f" of {experiment}" if experiment else ""
        click.echo(f"no runs{where}{f' with status {status}' if status else ''} (train one: dlcli train NAME)",
                   err=True)
    else:
        width = terminal_width()
        click.echo(table(_table_rows(listed), HEADERS, width, shrink=SHRINK, drop=DROP if width else ()))
        for row in listed["runs"]:
            if row.get("error"):
                click.echo(f"damaged: {row['error']}")


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
            rows.append([shown(Path(sweep["sweep_dir"])), _time(sweep["created_at"]), "sweep", "", "", "",
                         sweep["metric"] or "", "", "", "",
                         f"{sweep['trials']} trials" + (f", {sweep['direction']}" if sweep["direction"] else "")])
        rows += [_table_row(row, "  " if sweep is not None else "") for row in runs]
    return rows


def _table_row(row: dict, indent: str) -> list[str]:
    return [indent + shown(Path(row["run_dir"])), _time(row["started_at"]), row["status"], row["backend"] or "",
            "" if row["workers"] is None else str(row["workers"]), "" if row["epochs"] is None else str(row["epochs"]),
            row["metric"] or "", "" if row["value"] is None else number(float(row["value"])),
            "" if row["best_epoch"] is None else str(row["best_epoch"]), row["verdict"] or "",
            " ".join(row["overrides"])]


def _time(recorded: str | None) -> str:
    """'2026-12-03 10:15' of an ISO 8601 time."""
    return recorded[:16].replace("T", " ") if recorded else ""


def _write_csv(rows: list[dict]) -> None:
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow(["" if row.get(field) is None else
                         " ".join(row[field]) if field == "overrides" else row[field] for field in CSV_FIELDS])
