"""`dlcli train`, `resume`, `evaluate`, `check`: making runs and judging them."""

from __future__ import annotations

import sys

import click

from dlcli.cli.options import (backend_option, command, fail, json_option, json_printed_elsewhere, number, print_json,
                               quiet_option, record_error, set_option)
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
        record_error("interrupted")
        raise SystemExit(EXIT_INTERRUPTED)
    if result.get("signal"):
        click.echo(f"interrupted ({result['signal']}) while the completed run was being saved; it was saved whole",
                   err=True)
        record_error(f"interrupted ({result['signal']}) after the run was saved whole")
        raise SystemExit(EXIT_INTERRUPTED)
    if gate and result["check"]["status"] not in NOT_A_FAILURE:
        fail(f"the run did not reproduce its reference ({result['check']['status']})", EXIT_REFERENCE, echo=False)


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


def worker_options(function):
    """--workers N (local processes) and the flags of one worker of a multi-machine job."""
    options = [
        click.option("--workers", type=click.IntRange(min=1), help="Train as N local processes, data-parallel on "
                     "JAX; the spec's batch is the global batch (divisible by N)."),
        click.option("--coordinator", metavar="HOST:PORT", help="One worker of a multi-machine job: process 0's "
                     "address (with --num-processes and --process-id; else $KERAS_DISTRIBUTION_*, or SLURM's srun)."),
        click.option("--num-processes", type=click.IntRange(min=1), help="The job's number of processes."),
        click.option("--process-id", type=click.IntRange(min=0), help="This process's number, 0..N-1 (0 writes the run)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _launched(job, workers: int | None, cluster: dict, as_json: bool, gate: bool, quiet: bool) -> None:
    """With --workers, `job` launches the processes and process 0 prints the outcome; else one
    process (or one worker of a job) runs and prints it."""
    from dlcli.errors import UsageError

    if workers is None:
        _run(lambda: job(None), as_json, gate)
        return
    if any(value is not None for value in cluster.values()):
        raise UsageError("--workers starts local processes; --coordinator, --num-processes and --process-id make "
                         "this process one worker of a job: use one or the other")
    options = ("--json",) * as_json + ("--check",) * gate + ("--quiet",) * quiet
    result = job(options)
    if as_json:
        json_printed_elsewhere()  # process 0 printed the run's object
    if result["exit_code"]:
        raise SystemExit(result["exit_code"])


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
@worker_options
def train(experiment, overrides, epochs, seed, run_dir, gate, as_json, quiet, workers, coordinator, num_processes,
          process_id) -> None:
    """Train EXPERIMENT (a name, a YAML file, or a run directory: its spec.yaml, overrides included),
    evaluate it on its test split, save the run; the run directory is said on stderr once it exists.

    A run whose spec differs from its named experiment's beyond the seed (by --set, --epochs or an
    edited copy) gets the reference verdict 'not comparable' (no failure for --check); a number off
    the source's is 'differs', better or worse, and fails --check."""
    from dlcli import api

    cluster = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}

    def job(options):
        if options is None:
            return api.train(experiment, overrides, epochs=epochs, seed=seed, run_dir=run_dir,
                             verbose=_verbosity(quiet), cluster=cluster)
        return api.train_workers(experiment, workers, overrides, epochs=epochs, seed=seed, run_dir=run_dir,
                                 options=options)

    _launched(job, workers, cluster, as_json, gate, quiet)


@command()
@backend_option
@click.argument("run", type=click.Path())
@click.option("--epochs", type=click.IntRange(min=0), help="Train to this many epochs in all (a new fit.epochs).")
@click.option("--force", is_flag=True, help="Resume even though the spec file or the library versions changed.")
@click.option("--check", "gate", is_flag=True, help="Exit 4 when the run does not reproduce its reference.")
@json_option
@quiet_option
@worker_options
def resume(run, epochs, force, gate, as_json, quiet, workers, coordinator, num_processes, process_id) -> None:
    """Continue RUN (interrupted, failed or crashed) in its own directory from its last completed epoch.

    RUN is a run directory, or an experiment's name: its latest interrupted, failed or crashed run
    (NAME@2 the one before), said on stderr.

    \b
    The weights, optimizer, callbacks' states (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint)
    and the data order continue as if the run had never stopped; history is appended and
    run.json records the resume. Finished k-fold folds are not trained again.
    Exit codes as train: 0, 1 failed again, 2 not resumable or changed (see --force), 130.
    A run of several workers resumes with --workers N, the same N or another."""
    from dlcli import api

    cluster = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}

    def job(options):
        if options is None:
            return api.resume(run, epochs=epochs, force=force, verbose=_verbosity(quiet), cluster=cluster)
        return api.resume_workers(run, workers, epochs=epochs, force=force, options=options)

    _launched(job, workers, cluster, as_json, gate, quiet)


@command()
@backend_option
@click.argument("run", type=click.Path())
@json_option
def evaluate(run: str, as_json: bool) -> None:
    """Reload RUN's model.keras and evaluate it on the test split of its spec.

    RUN is a run directory, or an experiment's name: its latest completed run (NAME@2 the one before)."""
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
    """Say whether RUN reproduced its spec's reference; exit 4 if it did not.

    RUN is a run directory, or an experiment's name: its latest completed run (NAME@2 the one before)."""
    from dlcli import api

    result = api.check(run)
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['experiment']}: {result['check']['status']}")
        print_verdict(result["check"])
    if result["check"]["status"] not in NOT_A_FAILURE:
        fail(f"the run did not reproduce its reference ({result['check']['status']})", EXIT_REFERENCE, echo=False)
