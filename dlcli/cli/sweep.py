"""`dlcli sweep`: hyperparameter search (7.3.2) on Optuna, each trial an ordinary run."""

from __future__ import annotations

import sys

import click

from dlcli.cli.options import (backend_option, command, fail, json_option, number, print_json, quiet_option,
                               record_error, set_option, table, terminal_width)


@command()
@backend_option
@click.argument("experiment", required=False)
@click.option("--param", "params", multiple=True, metavar="KEY=SPACE",
              help="A dimension of the search: uniform:LOW:HIGH, loguniform:LOW:HIGH, int:LOW:HIGH[:STEP], "
                   "logint:LOW:HIGH, or values separated by commas. Repeatable.")
@set_option
@click.option("--trials", type=click.IntRange(1, 10_000), help="Trials in all  [default: the grid's size, else 20]")
@click.option("--metric", help="What to optimise: a history column (its best epoch) or a key of metrics.json  "
                               "[default: val_loss]")
@click.option("--direction", type=click.Choice(["minimize", "maximize"]), help="[default: from the metric's name]")
@click.option("--no-pruning", "no_pruning", is_flag=True, help="Train every trial to the end.")
@click.option("--resume", "resume_dir", type=click.Path(), help="Continue the sweep in this directory.")
@json_option
@quiet_option
def sweep(experiment, params, overrides, trials, metric, direction, no_pruning, resume_dir, as_json, quiet) -> None:
    """Search EXPERIMENT's hyperparameters with Optuna; every trial is a run directory.

    \b
    dlcli sweep imdb-dense --param compile.optimizer.learning_rate=loguniform:1e-4:1e-2 --trials 10
    dlcli sweep imdb-dense --param fit.batch_size=128,256,512       a grid: each value once
    dlcli sweep --resume sweeps/imdb-dense/20261122-101500           after Ctrl-C or a crash

    The study (SQLite), sweep.csv, history.png, importances.png and trials/NNNN/ are in the sweep
    directory. Poor trials stop early (Optuna's median pruner on the metric, per epoch). A trial
    that fails is recorded as failed and the sweep goes on; Ctrl-C ends the current trial as an
    interrupted run and stops (exit 130); --resume finishes that trial's run, then goes on
    without repeating what was tried."""
    from dlcli import api

    verbose = 0 if quiet else (1 if sys.stderr.isatty() else 2)
    result = api.sweep(experiment, list(params), list(overrides), trials, metric, direction,
                       False if no_pruning else None, resume_dir, verbose)
    if as_json:
        print_json({**result, "run_dir": result["sweep_dir"]})  # run_dir: the directory, as in every command
    else:
        keys = [key for key in (result["trials"][0] if result["trials"] else {})
                if key not in ("trial", "state", "run_status", "value", "run_dir", "duration_s", "note")]
        rows = [[row["trial"], row["state"], row["run_status"] or "", number(row["value"]) if row["value"] is not None else "",
                 *(f"{row[key]:.4g}" if isinstance(row[key], float) else str(row[key]) for key in keys), row["note"]]
                for row in result["trials"]]
        click.echo(table(rows, ["trial", "state", "run", result["metric"], *keys, "note"], terminal_width(),
                         shrink={"note": 20}))
        best = result["best"]
        if best:
            click.echo(f"best: trial {best['trial']}, {result['metric']} {number(best['value'])} "
                       f"({', '.join(f'{k}={v}' for k, v in best['params'].items())}): {best['run_dir']}")
        if result.get("importances"):
            click.echo("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in result["importances"].items()))
        if result.get("constant_params"):
            click.echo("constant (no importance): " + ", ".join(f"{k}={v}" for k, v in result["constant_params"].items()))
        click.echo(f"sweep directory: {result['sweep_dir']}")
    if result["status"] == "completed" and result["best"] is None:
        fail("no trial completed (see the note of each)", 1)
    if result["status"] == "interrupted":
        click.echo(f"interrupted: continue with: dlcli sweep --resume {result['sweep_dir']}", err=True)
        record_error("interrupted")
        raise SystemExit(130)
