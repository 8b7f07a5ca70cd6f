"""A sweep's results: sweep.csv (one row a trial), the best trial, and Optuna's plots of the
optimisation history and the parameters' importances as PNG.

Importances are those of the parameters that varied among the completed trials: a parameter that
took one value has no importance to measure (Optuna would list it at 0, as if it had been tried
and found useless), so it is left out and reported as constant with its value."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

from dlcli.atomic import atomic_path, write_text_atomic
from dlcli.errors import UsageError
from dlcli.runs import Run, layout


def retried(study) -> dict[int, int]:
    """{trial that never started: the trial that took its parameters over}."""
    return {t.user_attrs["retry_of"]: t.number for t in study.get_trials(deepcopy=False) if "retry_of" in t.user_attrs}


def trial_rows(sweep, study, params: list[str]) -> list[dict[str, Any]]:
    """One row a trial. `state` is Optuna's for a trial that ended (complete, pruned, fail) and
    its run's status for one that did not (interrupted, crashed...): never `running` for a trial
    no process runs. `run_status` is the run's own status, `run_dir` its folder in this sweep."""
    import optuna

    again = retried(study)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        run_dir = sweep.trial_path(trial.user_attrs.get("run_dir"))
        status, duration = run_facts(run_dir)
        state = trial.state.name.lower() if trial.state != optuna.trial.TrialState.RUNNING else status or "not started"
        if status is None and trial.datetime_complete and trial.datetime_start:  # a trial that never trained
            duration = (trial.datetime_complete - trial.datetime_start).total_seconds()
        rows.append({"trial": trial.number, "state": state, "run_status": status, "value": trial.value,
                     **{key: trial.params.get(key) for key in params},
                     "run_dir": str(run_dir) if status else None, "duration_s": duration,
                     "note": _note(trial, again)})
    return rows


def run_facts(run_dir: Path | None) -> tuple[str | None, float | None]:
    """A trial's run's status (`crashed` for one whose process is gone) and training time (its own,
    summed over its resumes: not the wall time from the trial's start, which counts the pause
    between a Ctrl-C and --resume); (None, None) when it has no run."""
    if run_dir is None or not Run(run_dir).has(layout.INFO):
        return None, None
    try:
        run = Run.open(run_dir)
        return run.status, run.info.get("duration_s")
    except UsageError:
        return "damaged", None


def _note(trial, again: dict[int, int]) -> str:
    if trial.number in again:
        return f"not started; its parameters went to trial {again[trial.number]}"
    if "pruned_after_epoch" in trial.user_attrs:
        return f"pruned after epoch {trial.user_attrs['pruned_after_epoch']}"
    return trial.user_attrs.get("error", "")


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _plot(figure_of, study, target, note: str = "", title: str = "") -> str | None:
    """One of optuna.visualization.matplotlib's plots as a PNG, titled `title`, `note` under it;
    None, or why not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        with matplotlib.rc_context():  # Optuna sets the ggplot style for the whole process: only here
            figure = plot_figure(figure_of, study, title)
            figure.tight_layout(rect=(0, 0.05, 1, 1) if note else None)
            if note:
                figure.text(0.01, 0.015, note, fontsize=8)
            with atomic_path(target) as temporary:
                figure.savefig(temporary, dpi=100)
        plt.close(figure)
        return None
    except (ValueError, RuntimeError, ZeroDivisionError) as error:  # too few completed trials
        plt.close("all")
        return f"not drawn: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def plot_figure(figure_of, study, title: str = ""):
    """The matplotlib Figure of one of Optuna's plots, titled `title` (Optuna's own titles name
    neither the sweep nor its metric), a trial axis ticked at whole trials only (Optuna's axis
    shows trial 0.5, 1.5... for a few trials)."""
    from matplotlib.ticker import MaxNLocator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        axes = figure_of(study)
    axes = axes if hasattr(axes, "figure") else axes.flat[0]
    if axes.get_xlabel() == "Trial":
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if title:  # in place of Optuna's, over the whole figure (long parameter names push the axes right)
        for place in ("left", "center", "right"):
            axes.set_title("", loc=place)
        axes.figure.suptitle(title)
    axes.figure.set_size_inches(8, 5)
    return axes.figure


def write_report(sweep, study) -> dict[str, Any]:
    """sweep.csv, history.png, importances.png; the sweep as plain data."""
    import optuna
    from optuna.visualization import matplotlib as plots

    params = list(sweep.params)
    rows = trial_rows(sweep, study, params)
    in_folder = [{**row, "run_dir": row["run_dir"] and Path(row["run_dir"]).relative_to(sweep.folder).as_posix()}
                 for row in rows]  # sweep.csv moves with the folder
    write_text_atomic(sweep.folder / "sweep.csv", _csv(
        in_folder, ["trial", "state", "run_status", "value", *params, "run_dir", "duration_s", "note"]))
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    files = {"csv": "sweep.csv"}
    metric = sweep.settings["metric"]
    varied, constant = varied_params(complete, params)
    for name, figure_of, needed in (
            ("history", lambda study: plots.plot_optimization_history(study, target_name=metric), 1),
            ("importances", lambda study: plots.plot_param_importances(study, params=varied, target_name=metric), 2)):
        if len(complete) < needed:
            why_not = f"not drawn: needs {needed} completed trials"
        elif name == "importances" and not varied:
            why_not = "not drawn: no parameter took more than one value in the completed trials"
        else:
            why_not = _plot(figure_of, study, sweep.folder / f"{name}.png", _importances_note(varied, constant)
                            if name == "importances" else "", _title(name, sweep.settings, len(complete)))
        files[name] = why_not or f"{name}.png"
    best = None
    if complete:
        trial = study.best_trial
        best = {"trial": trial.number, "value": trial.value, "params": trial.params,
                "run_dir": str(sweep.trial_path(trial.user_attrs.get("run_dir")))}
    return {"sweep_dir": str(sweep.folder), "experiment": sweep.settings["experiment"],
            "metric": sweep.settings["metric"], "direction": sweep.settings["direction"],
            "trials_wanted": sweep.settings["trials"], "trials": rows, "best": best, "files": files,
            "importances": importances(study, varied) if files["importances"] == "importances.png" else {},
            "constant_params": constant}


def _title(name: str, settings: dict[str, Any], completed: int) -> str:
    """What a sweep's plot shows: the experiment, the metric, and how many completed trials it rests on."""
    what = "each trial and the best so far" if name == "history" else "importance of the parameters that varied"
    return (f"sweep of {settings['experiment']}: {settings['metric']} ({settings['direction']})\n"
            f"{what}, {completed} completed trial{'s' if completed != 1 else ''}")


def _importances_note(varied: list[str], constant: dict[str, Any]) -> str:
    """What importances.png cannot say by itself: that one varied parameter has all of the importance
    by definition, and which parameters it leaves out, with their one value."""
    notes = [f"only {varied[0]} varied: its importance is 1 by definition"] if len(varied) == 1 else []
    if constant:
        notes.append("not shown, one value in every completed trial: "
                     + ", ".join(f"{key}={value}" for key, value in constant.items()))
    return "; ".join(notes)


def varied_params(complete: list, params: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The parameters that took more than one value among the completed trials, and {parameter:
    its one value} for the others (none when no trial completed)."""
    values = {key: {repr(trial.params.get(key)): trial.params.get(key) for trial in complete} for key in params}
    varied = [key for key in params if len(values[key]) > 1]
    return varied, {key: next(iter(values[key].values())) for key in params if len(values[key]) == 1}


def importances(study, varied: list[str]) -> dict[str, float]:
    """{parameter: importance} of the varied parameters, by Optuna's default evaluator (the one its
    importances plot uses), summing to 1; {} when they cannot be computed."""
    import optuna

    if not varied:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study, params=varied)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    return {key: float(value) for key, value in found.items()}
