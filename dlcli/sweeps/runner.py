"""Run a sweep: ask Optuna for a trial, train it as one ordinary run in the sweep directory's
`trials/NNNN`, tell the study how it ended, until the sweep has its trials (`directory` makes
and checks the folder, `report` lists the trials).

A trial that fails (a spec the parameters make invalid, a run that fails, whatever a trial
raises) is recorded as failed and the sweep goes on; Ctrl-C ends the current trial as an
interrupted run and stops the sweep. `--resume DIR` first finishes interrupted trials (their
runs resume), then asks for new ones. However the sweep process ends, no trial's run.json is
left `running`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from dlcli.errors import DataUnavailable, UsageError
from dlcli.registry import did_you_mean
from dlcli.runs import Run, layout
from dlcli.runs.records import close_fields, failure_fields
from dlcli.sweeps.directory import Sweep
from dlcli.sweeps.metrics import metric_value
from dlcli.sweeps.space import as_override
from dlcli.sweeps.study import storage_reason


def run_sweep(sweep: Sweep, resuming: bool, verbose: int, trials: int | None = None) -> dict[str, Any]:
    """Ask, train, tell until the sweep has its trials; the report. The sweep is locked first:
    a refused --resume writes nothing."""
    import optuna
    import sqlalchemy

    from dlcli.report import sweep_report
    from dlcli.sweeps.report import write_report

    sweep.hold()
    try:
        if trials is not None:
            sweep.set_trials(trials)
        study = sweep.study(resuming)
        interrupted = False
        for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            interrupted = _finish_interrupted(study, sweep, frozen, verbose)  # an earlier Ctrl-C or crash
            if interrupted:
                break
        distributions = {key: param.distribution() for key, param in sweep.params.items()}
        while not interrupted and _ended(study) < sweep.settings["trials"]:
            trial = study.ask(distributions)
            try:
                interrupted = _run_trial(study, sweep, trial, verbose)
            except KeyboardInterrupt:  # between two runs: the trial never started
                _not_started(study, trial.number, trial.params)
                interrupted = True
        result = write_report(sweep, study)
        result["files"]["page"] = sweep_report(sweep)  # report.html, after sweep.csv: an optional part
        return {**result, "status": "interrupted" if interrupted else "completed"}
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as error:
        raise UsageError(f"{sweep.study_path}: cannot be read or written ({storage_reason(error)})") from None
    except OSError as error:  # the sweep's own files (sweep.csv, the plots) on a full or read-only disk
        raise UsageError(f"{error.filename or sweep.folder}: cannot be written ({error.strerror or error})") from None
    finally:
        sweep.release()


def _not_started(study, number: int, params: dict) -> None:
    """A trial that never trained (Ctrl-C before its run, missing data, a kill during start-up) is
    failed and asked again with the same parameters, so neither a grid point nor a draw is lost."""
    import optuna

    study.tell(number, state=optuna.trial.TrialState.FAIL)
    study.enqueue_trial(params, user_attrs={"retry_of": number})


def _fail(study, number: int, why: str) -> None:
    import optuna

    study.tell(number, state=optuna.trial.TrialState.FAIL)
    print(f"trial {number} failed: {why}", file=sys.stderr)


def _ended(study) -> int:
    import optuna

    from dlcli.sweeps.report import retried

    ended = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    again = retried(study)
    return len([t for t in study.get_trials(deepcopy=False, states=ended) if t.number not in again])


def _one_line(error: BaseException) -> str:
    """What a trial raised, as its note: a dlcli message's last line, else the exception's type and text."""
    from dlcli.errors import DlcliError, RunFailed

    text = str(error).strip()
    if isinstance(error, RunFailed) and error.error:  # the run directory is the row's run_dir already
        return f"run failed: {' '.join(error.error.split())}"
    if isinstance(error, DlcliError):
        return text.splitlines()[-1] if text else type(error).__name__
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


@contextlib.contextmanager
def _closed_if_abandoned(run_dir: Path):
    """Whatever escapes a trial, its run does not stay `running`: lifecycle closes every run it
    executes, and this closes one that something left open (interrupted by Ctrl-C, else failed)."""
    try:
        yield
    except BaseException as error:
        run = Run(run_dir)
        with contextlib.suppress(OSError, UsageError):  # no run, a damaged one, or one held elsewhere
            if run.has(layout.INFO) and run.info.get("status") == "running":
                run.lock("sweep")
                try:
                    so_far = run.info.get("duration_s")  # this process's training time is not known here
                    interrupted = isinstance(error, KeyboardInterrupt)
                    run.record_failure(**(close_fields("interrupted", so_far, "SIGINT") if interrupted
                                          else failure_fields(_one_line(error), so_far, None)))
                finally:
                    run.release()
        raise


def _pruner(trial, monitor: str, direction: str):
    """Optuna's Keras pruning callback, stopping the fit as EarlyStopping does instead of raising
    TrialPruned inside it (which would end the run as failed, without its model)."""
    from optuna import TrialPruned
    from optuna_integration import KerasPruningCallback

    class StopWhenPruned(KerasPruningCallback):
        pruned_at: int | None = None
        logged: list[str] | None = None  # the epoch's logs, when the metric is not among them

        def on_epoch_end(self, epoch, logs=None):
            if monitor not in (logs or {}):  # a metric no epoch logs: stop now, the sweep says why
                self.logged = sorted(logs or {})
                self.model.stop_training = True
                return
            try:
                super().on_epoch_end(epoch, logs)
            except TrialPruned:
                self.pruned_at = epoch + 1
                self.model.stop_training = True

    return StopWhenPruned(trial, monitor)


def _run_trial(study, sweep: Sweep, trial, verbose: int) -> bool:
    """Train one trial's run and tell the study; True if the sweep must stop (a signal)."""
    settings = sweep.settings
    overrides = [*settings["overrides"], *(as_override(k, v) for k, v in trial.params.items())]
    name = sweep.trial_name(trial.number)
    run_dir = sweep.folder / name
    trial.set_user_attr("run_dir", name)
    print(f"trial {trial.number}: " + ", ".join(f"{k}={v}" for k, v in trial.params.items()), file=sys.stderr)
    try:
        with _closed_if_abandoned(run_dir):
            result, pruner = _train(sweep, trial, overrides, run_dir, verbose)
    except DataUnavailable:
        _not_started(study, trial.number, trial.params)
        raise
    except KeyboardInterrupt:
        if not Run(run_dir).has(layout.INFO):
            raise  # never started: run_sweep asks it again
        return True  # its run is interrupted: --resume finishes it
    except Exception as error:  # noqa: BLE001 - whatever a trial raises fails that trial, not the sweep
        trial.set_user_attr("error", _one_line(error)[:300])
        _fail(study, trial.number, _one_line(error))
        return False
    return _tell(study, trial, Run.open(run_dir), result, settings, pruner)


def _train(sweep: Sweep, trial, overrides: list[str], run_dir: Path, verbose: int):
    """The trial's run, with the data loaded once for all trials that share them."""
    from dlcli import datasets
    from dlcli.spec.loading import load_spec
    from dlcli.training import lifecycle

    spec, _ = load_spec(str(sweep.spec_path), overrides)
    key = spec.data.model_dump_json()
    if key not in sweep.data:
        lifecycle.prepare(spec)
        sweep.data.clear()
        sweep.data[key] = datasets.load(spec.data)
    pruner = _pruner(trial, sweep.settings["metric"], sweep.settings["direction"]) \
        if _prunable(spec, sweep.settings) else None
    result = lifecycle.start(spec, sweep.spec_path, overrides, str(run_dir), verbose,
                             bundle=sweep.data[key], watchers=[pruner] if pruner else [])
    return result, pruner


def _prunable(spec, settings: dict) -> bool:
    """Pruning watches a history column per epoch: a metric of the fit phase, not of k-fold or tests."""
    return settings["pruning"] and spec.fit.validation.kind != "kfold" and not settings["metric"].startswith("test_")


def _tell(study, trial, run: Run, result: dict, settings: dict, pruner=None) -> bool:
    """Tell the study how the trial's run ended (`trial`: a live Trial, or the number of a resumed one)."""
    import optuna

    if result["status"] == "interrupted":
        return True  # the trial stays running in the study; --resume finishes its run
    number = trial if isinstance(trial, int) else trial.number
    try:
        value = metric_value(run, settings["metric"], settings["direction"])
    except UsageError as error:  # a damaged history or metrics.json: this trial fails, the sweep goes on
        if not isinstance(trial, int):
            trial.set_user_attr("error", _one_line(error)[:300])
        _fail(study, number, _one_line(error))
        return False
    if value is None or (pruner is not None and pruner.logged is not None):
        study.tell(number, state=optuna.trial.TrialState.FAIL)
        known = sorted({*run.history(), *run.metrics().get("metrics", {})} - {"epoch"})
        raise UsageError(f"--metric {settings['metric']}: trial {number}'s run has no such history column or metric"
                         f"{did_you_mean(settings['metric'], known)}; its names: {', '.join(known)}. "
                         f"Start the sweep again with one of them")
    if pruner is not None and pruner.pruned_at is not None:
        trial.set_user_attr("pruned_after_epoch", pruner.pruned_at)
        study.tell(number, state=optuna.trial.TrialState.PRUNED)
        print(f"trial {number} pruned after epoch {pruner.pruned_at}", file=sys.stderr)
    else:
        study.tell(number, value)
        print(f"trial {number}: {settings['metric']} {value:.4g}", file=sys.stderr)
    return bool(result.get("signal"))


def _finish_interrupted(study, sweep: Sweep, frozen, verbose: int) -> bool:
    """A trial left running by Ctrl-C or a crash: resume its run (in this sweep directory, wherever
    the study was first written), or fail it if it cannot resume."""
    from dlcli.training import lifecycle

    run_dir = sweep.trial_path(frozen.user_attrs.get("run_dir"))
    if run_dir is None or not Run(run_dir).has(layout.INFO):  # killed before its run began
        _not_started(study, frozen.number, frozen.params)
        return False
    try:
        with _closed_if_abandoned(run_dir):
            run = Run.open(run_dir)
            if run.status == "completed":
                result = {"status": "completed"}
            else:
                print(f"trial {frozen.number}: resuming its run {run_dir}", file=sys.stderr)
                result = lifecycle.resume(run, None, False, verbose)
    except KeyboardInterrupt:
        return True
    except DataUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - a run that cannot resume fails its trial, not the sweep
        _fail(study, frozen.number, f"could not be finished: {_one_line(error)}")
        return False
    return _tell(study, frozen.number, run, result, sweep.settings)
