"""Run a sweep: an Optuna study in SQLite inside the sweep directory, one ordinary run directory per
trial, resumable after Ctrl-C or a crash.

    sweeps/<experiment>/<time>/     (beside the runs folder, or $DLCLI_SWEEPS_DIR)
        sweep.json      what was asked: spec, overrides, space, metric, direction, trials, seed
        spec.yaml       the spec the trials start from
        study.db        Optuna's storage (every trial, its parameters, value and state)
        trials/0000/    trial 0's run directory (train, resume, compare, plot work on it)
        sweep.csv, history.png, importances.png     the results (sweeps.report)

A trial that fails (a spec the parameters make invalid, a run that fails) is recorded as failed
and the sweep goes on; Ctrl-C ends the current trial as an interrupted run and stops the sweep.
`--resume DIR` first finishes interrupted trials (their runs resume), then asks for new ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from dlcli.errors import DataUnavailable, RunFailed, SpecError, UsageError
from dlcli.registry import did_you_mean
from dlcli.runs import Run, runs_root
from dlcli.sweeps.space import Param, as_override, parse_params, representative

DEFAULT_TRIALS = 20


def sweeps_root() -> Path:
    """$DLCLI_SWEEPS_DIR, else `sweeps/` beside the runs folder (runs/*/* holds runs only)."""
    return Path(os.environ.get("DLCLI_SWEEPS_DIR") or runs_root().resolve().parent / "sweeps")


def direction_of(metric: str, given: str | None) -> str:
    from dlcli.training.callbacks import monitor_mode

    if given:
        return given
    mode = monitor_mode(metric)
    if mode is None:
        raise UsageError(f"--metric {metric}: say whether to --direction minimize or maximize it")
    return "minimize" if mode == "min" else "maximize"


def metric_value(run: Run, metric: str, direction: str) -> float | None:
    """A key of metrics.json, else the best epoch's value of a history column."""
    value = run.metrics().get("metrics", {}).get(metric)
    if value is None:
        column = [v for v in run.history().get(metric, []) if v is not None]
        value = (min if direction == "minimize" else max)(column) if column else None
    return None if value is None else float(value)


# --------------------------------------------------------------------------- the sweep directory


class Sweep:
    """A sweep directory: its settings, its study and its trials' runs."""

    def __init__(self, folder: Path, settings: dict[str, Any]):
        self.folder, self.settings = folder, settings
        self.params = parse_params([], settings["params"])

    @classmethod
    def create(cls, target: str, param_texts: list[str], overrides: list[str], trials: int | None,
               metric: str | None, direction: str | None, pruning: bool | None) -> "Sweep":
        from dlcli.spec.loading import dump_spec, load_spec

        spec, path = load_spec(target, overrides)
        defaults = spec.sweep.model_dump() if spec.sweep else {}
        params = parse_params(param_texts, defaults.get("params"))
        metric = metric or defaults.get("metric") or "val_loss"
        direction = direction_of(metric, direction or defaults.get("direction"))
        if metric.startswith("val_") and spec.fit.validation.kind == "none":
            raise UsageError(f"--metric {metric}: the spec has no validation data (fit.validation.kind: none); "
                             "choose a test_ metric or set fit.validation")
        _check_keys(target, overrides, params)
        from dlcli.datasets import ensure_available

        ensure_available(spec.data)  # missing data is exit 3 before any sweep directory exists
        grid = _grid_size(params)
        trials = min(trials or defaults.get("trials") or grid or DEFAULT_TRIALS, grid or 10**9)  # a grid, once
        parent, stamp = sweeps_root() / spec.name, datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = next(parent / name for name in (stamp, *(f"{stamp}-{n}" for n in range(1, 1000)))
                      if not (parent / name).exists())
        (folder / "trials").mkdir(parents=True)
        settings = {
            "experiment": spec.name, "spec_path": str(Path(path).resolve()), "overrides": list(overrides),
            "params": {key: list(p.choices) if p.kind == "choice" else p.describe() for key, p in params.items()},
            "metric": metric, "direction": direction, "trials": trials, "seed": spec.seed,
            "pruning": defaults.get("pruning", True) if pruning is None else pruning,
            "sampler": "grid" if grid else "tpe", "created_at": datetime.now().isoformat(timespec="seconds"),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        }
        from dlcli.atomic import write_text_atomic

        write_text_atomic(folder / "spec.yaml", dump_spec(spec))
        write_text_atomic(folder / "sweep.json", json.dumps(settings, indent=2) + "\n")
        return cls(folder, settings)

    @classmethod
    def open(cls, folder: str | Path, trials: int | None) -> "Sweep":
        folder = Path(folder).resolve()
        try:
            settings = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{folder}: not a sweep directory ({error})") from None
        if not isinstance(settings, dict) or not (folder / "study.db").is_file():
            raise UsageError(f"{folder}: not a sweep directory (sweep.json and study.db are expected)")
        sweep = cls(folder, settings)
        if trials is not None:
            settings["trials"] = min(trials, _grid_size(sweep.params) or 10**9)
            from dlcli.atomic import write_text_atomic

            write_text_atomic(folder / "sweep.json", json.dumps(settings, indent=2) + "\n")
        return sweep

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.yaml"

    def study(self, resuming: bool):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = f"sqlite:///{self.folder / 'study.db'}"
        settings = self.settings
        if settings["sampler"] == "grid":
            class Grid(optuna.samplers.GridSampler):
                def after_trial(self, *args, **kwargs):
                    """Nothing: GridSampler's study.stop() works only inside study.optimize, and the
                    sweep asks for at most the grid's size anyway."""

            sampler = Grid({k: list(p.choices) for k, p in self.params.items()}, seed=settings["seed"])
        else:  # a sampler seeded again would replay its first draws: shift the seed by the trials so far
            done = len(optuna.load_study(study_name="sweep", storage=storage).trials) if resuming else 0
            sampler = optuna.samplers.TPESampler(seed=settings["seed"] + done)
        pruner = optuna.pruners.MedianPruner() if settings["pruning"] else optuna.pruners.NopPruner()
        return optuna.create_study(study_name="sweep", storage=storage, direction=settings["direction"],
                                   sampler=sampler, pruner=pruner, load_if_exists=True)


def _grid_size(params: dict[str, Param]) -> int | None:
    """The number of combinations when every dimension is a list of choices (a grid), else None."""
    if not all(p.kind == "choice" for p in params.values()):
        return None
    size = 1
    for param in params.values():
        size *= len(param.choices)
    return size


def _check_keys(target: str, overrides: list[str], params: dict[str, Param]) -> None:
    """Every key of the space names a setting the spec has: checked at once, before any trial."""
    from dlcli.spec.loading import load_spec

    tried = {as_override(k, representative(p)): k for k, p in params.items()}
    try:
        load_spec(target, [*overrides, *tried])
    except SpecError as error:
        message = str(error)
        for text, key in tried.items():
            message = message.replace(f"--set {text}", f"--param {key} (tried as {text.partition('=')[2]})")
        raise SpecError(message) from None


# --------------------------------------------------------------------------- trials


def run_sweep(sweep: Sweep, resuming: bool, verbose: int) -> dict[str, Any]:
    """Ask, train, tell until the sweep has its trials; the report."""
    import optuna

    from dlcli.sweeps.report import write_report

    with _locked(sweep.folder):
        study = sweep.study(resuming)
        data_cache: dict[str, Any] = {}
        interrupted = False
        for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            interrupted = _finish_interrupted(study, sweep, frozen, verbose)  # an earlier Ctrl-C or crash
            if interrupted:
                break
        distributions = {key: param.distribution() for key, param in sweep.params.items()}
        while not interrupted and _ended(study) < sweep.settings["trials"]:
            trial = study.ask(distributions)
            try:
                interrupted = _run_trial(study, sweep, trial, data_cache, verbose)
            except KeyboardInterrupt:  # between two runs: the trial never started
                _not_started(study, trial.number, trial.params)
                interrupted = True
        return {**write_report(sweep, study), "status": "interrupted" if interrupted else "completed"}


@contextlib.contextmanager
def _locked(folder: Path):
    """One process a sweep directory: a second --resume would tell the study about a live trial."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows)
        yield
        return
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{folder}: another dlcli sweep is running in this directory") from None
        yield


def _not_started(study, number: int, params: dict) -> None:
    """A trial that never trained (Ctrl-C before its run, missing data, a kill during start-up) is
    failed and asked again with the same parameters, so neither a grid point nor a draw is lost."""
    import optuna

    study.tell(number, state=optuna.trial.TrialState.FAIL)
    study.enqueue_trial(params, user_attrs={"retry_of": number})


def _ended(study) -> int:
    import optuna

    from dlcli.sweeps.report import retried

    ended = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    again = retried(study)
    return len([t for t in study.get_trials(deepcopy=False, states=ended) if t.number not in again])


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


def _run_trial(study, sweep: Sweep, trial, data_cache: dict, verbose: int) -> bool:
    """Train one trial's run and tell the study; True if the sweep must stop (a signal)."""
    import optuna

    from dlcli import datasets
    from dlcli.spec.loading import load_spec
    from dlcli.training import lifecycle

    settings = sweep.settings
    overrides = [*settings["overrides"], *(as_override(k, v) for k, v in trial.params.items())]
    run_dir = sweep.folder / "trials" / f"{trial.number:04d}"
    trial.set_user_attr("run_dir", str(run_dir))
    print(f"trial {trial.number}: " + ", ".join(f"{k}={v}" for k, v in trial.params.items()), file=sys.stderr)
    try:
        spec, _ = load_spec(str(sweep.spec_path), overrides)
        key = spec.data.model_dump_json()
        if key not in data_cache:
            lifecycle.prepare(spec)
            data_cache.clear()
            data_cache[key] = datasets.load(spec.data)
        pruner = _pruner(trial, settings["metric"], settings["direction"]) if _prunable(spec, settings) else None
        result = lifecycle.start(spec, sweep.spec_path, overrides, str(run_dir), verbose,
                                 bundle=data_cache[key], watchers=[pruner] if pruner else [])
    except (SpecError, RunFailed) as error:
        trial.set_user_attr("error", str(error).splitlines()[-1][:300])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        print(f"trial {trial.number} failed: {str(error).splitlines()[-1]}", file=sys.stderr)
        return False
    except DataUnavailable:
        _not_started(study, trial.number, trial.params)
        raise
    return _tell(study, trial, Run.open(run_dir), result, settings, pruner)


def _prunable(spec, settings: dict) -> bool:
    """Pruning watches a history column per epoch: a metric of the fit phase, not of k-fold or tests."""
    return settings["pruning"] and spec.fit.validation.kind != "kfold" and not settings["metric"].startswith("test_")


def _tell(study, trial, run: Run, result: dict, settings: dict, pruner=None) -> bool:
    """Tell the study how the trial's run ended (`trial`: a live Trial, or the number of a resumed one)."""
    import optuna

    if result["status"] == "interrupted":
        return True  # the trial stays running in the study; --resume finishes its run
    number = trial if isinstance(trial, int) else trial.number
    value = metric_value(run, settings["metric"], settings["direction"])
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
    """A trial left running by Ctrl-C or a crash: resume its run, or fail it if it cannot resume."""
    import optuna

    from dlcli.training import lifecycle

    run_dir = frozen.user_attrs.get("run_dir")
    if not run_dir or not (Path(run_dir) / "run.json").is_file():  # killed before its run began
        _not_started(study, frozen.number, frozen.params)
        return False
    try:
        run = Run.open(run_dir)
        if run.status == "completed":
            result = {"status": "completed"}
        else:
            print(f"trial {frozen.number}: resuming its run {run_dir}", file=sys.stderr)
            result = lifecycle.resume(run, None, False, verbose)
    except (UsageError, RunFailed, TypeError) as error:
        study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        print(f"trial {frozen.number} could not be finished ({str(error).splitlines()[-1]}): failed", file=sys.stderr)
        return False
    return _tell(study, frozen.number, run, result, sweep.settings)
