"""`dlcli train`, `resume`, `evaluate`, `check`: making runs and judging them."""

from __future__ import annotations

import sys

import click

from dlcli.cli.options import backend_option, command, json_option, number, print_json, quiet_option, set_option
from dlcli.errors import EXIT_INTERRUPTED, EXIT_REFERENCE

# Verdicts that do not fail --check: no reference, reproduced, or a recipe changed on purpose.
NOT_A_FAILURE = ("passed", "none", "not comparable")


def print_verdict(check: dict) -> None:
    from dlcli.reference import describe

    if check.get("status", "none") == "none":
        return
    where = ", ".join(x for x in (check.get("source"), check.get("listing") and f"listing {check['listing']}") if x)
    click.echo(f"reference ({where}): {check['status']}")
    for line in describe(check):
        click.echo(line)


def print_metrics(metrics: dict) -> None:
    """Test metrics, the best validation epoch, and a baseline's validation metrics; else the last epoch."""
    shown = {k: v for k, v in metrics.items()
             if k.startswith(("test_", "val_", "output", "best_val_", "best_epoch"))} or {
        k: v for k, v in metrics.items() if k.startswith("final_")}
    for key, value in shown.items():
        click.echo(f"{key}: {number(value)}")


def _report(result: dict, as_json: bool, gate: bool) -> None:
    """The outcome of train or resume, and its exit code: 130 interrupted, 4 a missed reference."""
    if as_json:
        print_json(result)
    else:
        click.echo(f"run directory: {result['run_dir']}")
        click.echo(f"status: {result['status']}")
        print_metrics(result["metrics"])
        print_verdict(result["check"])
    if result["status"] == "interrupted":
        click.echo(f"interrupted: {result['run_dir']} keeps its completed epochs; continue it with: "
                   f"dlcli resume {result['run_dir']}", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if result.get("signal"):
        click.echo(f"interrupted ({result['signal']}) while the completed run was being saved; it was saved whole",
                   err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if gate and result["check"]["status"] not in NOT_A_FAILURE:
        raise SystemExit(EXIT_REFERENCE)


def _run(job, as_json: bool, gate: bool) -> None:
    from dlcli.errors import RunFailed

    try:
        result = job()
    except RunFailed as failure:
        if as_json:  # a script still gets its one object, and the exit code says the rest
            print_json({"run_dir": failure.run_dir, "status": "failed", "metrics": {},
                        "check": {"status": "none", "checks": []}, "error": failure.error})
        raise
    _report(result, as_json, gate)


def _verbosity(quiet: bool) -> int:
    return 0 if quiet else (1 if sys.stderr.isatty() else 2)


@command()
@backend_option
@click.argument("experiment")
@set_option
@click.option("--epochs", type=click.IntRange(min=0), help="Override fit.epochs.")
@click.option("--seed", type=click.IntRange(min=0), help="Override the spec's seed.")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Write the run here (new or empty) instead of runs/<name>/<time>/.")
@click.option("--check", "gate", is_flag=True, help="Exit 4 when the run does not reproduce its reference.")
@json_option
@quiet_option
def train(experiment, overrides, epochs, seed, run_dir, gate, as_json, quiet) -> None:
    """Train EXPERIMENT (a name or a YAML file), evaluate it on its test split, save the run.

    A run whose spec differs from its named experiment's beyond the seed (by --set, --epochs or an
    edited copy) gets the reference verdict 'not comparable' (no failure for --check); a number off
    the source's is 'differs', better or worse, and fails --check."""
    from dlcli import api

    _run(lambda: api.train(experiment, overrides, epochs=epochs, seed=seed, run_dir=run_dir,
                           verbose=_verbosity(quiet)), as_json, gate)


@command()
@backend_option
@click.argument("run", type=click.Path())
@click.option("--epochs", type=click.IntRange(min=0), help="Train to this many epochs in all (a new fit.epochs).")
@click.option("--force", is_flag=True, help="Resume even though the spec file or the library versions changed.")
@click.option("--check", "gate", is_flag=True, help="Exit 4 when the run does not reproduce its reference.")
@json_option
@quiet_option
def resume(run, epochs, force, gate, as_json, quiet) -> None:
    """Continue RUN (interrupted, failed or crashed) in its own directory from its last completed epoch.

    \b
    The weights, optimizer, callbacks' states (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint)
    and the data order continue as if the run had never stopped; history is appended and
    run.json records the resume. Finished k-fold folds are not trained again.
    Exit codes as train: 0, 1 failed again, 2 not resumable or changed (see --force), 130."""
    from dlcli import api

    _run(lambda: api.resume(run, epochs=epochs, force=force, verbose=_verbosity(quiet)), as_json, gate)


@command()
@backend_option
@click.argument("run", type=click.Path())
@json_option
def evaluate(run: str, as_json: bool) -> None:
    """Reload RUN's model.keras and evaluate it on the test split of its spec."""
    from dlcli import api

    result = api.evaluate(run)
    if as_json:
        print_json(result)
    else:
        print_metrics(result["metrics"])


@command()
@click.argument("run", type=click.Path())
@json_option
def check(run: str, as_json: bool) -> None:
    """Say whether RUN reproduced its spec's reference; exit 4 if it did not."""
    from dlcli import api

    result = api.check(run)
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['experiment']}: {result['check']['status']}")
        print_verdict(result["check"])
    if result["check"]["status"] not in NOT_A_FAILURE:
        raise SystemExit(EXIT_REFERENCE)
