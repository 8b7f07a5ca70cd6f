"""Learning curves in the book's style from history.json files (no TensorFlow).

One figure per metric: training as blue dots ('bo'), validation as a blue line ('b') (3.9,
5.10); several runs overlaid with one marker each (figures 4.4-4.9); the book's exponential
smoothing (`smooth_curve`, 3.31 and 5.24) and dropping the first points (3.31). A k-fold run's
history.json already holds the per-epoch mean over folds (3.29-3.30).
"""

from __future__ import annotations

from pathlib import Path

from dlcli.errors import UsageError
from dlcli.outputs import PLOT_FORMATS, Placement, identity, picture_name, place, save_figure, unusable_path
from dlcli.reference import smooth_curve
from dlcli.runs import Run, layout

ALIASES = {"acc": "accuracy", "accuracy": "acc", "mae": "mean_absolute_error", "mean_absolute_error": "mae"}
LABELS = {"loss": "loss", "acc": "accuracy", "accuracy": "accuracy", "mae": "MAE", "mse": "MSE"}
SKIPPED = {"epoch", "learning_rate", "lr"}
MARKERS = ["o", "+", "x", "s", "^", "v", "D", "*"]


def metric_bases(history: dict) -> list[str]:
    bases = []
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base not in SKIPPED and base not in bases:
            bases.append(base)
    return bases


def _resolve(history: dict, base: str) -> str | None:
    for name in (base, ALIASES.get(base)):
        if name and (name in history or f"val_{name}" in history):
            return name
    return None


def _series(history: dict, key: str, smooth: float | None, skip_first: int):
    values = history.get(key)
    if not values:
        return None, None
    epochs = list(history.get("epoch", range(1, len(values) + 1)))[skip_first:]
    values = [float("nan") if v is None else v for v in values][skip_first:]
    if smooth:
        values = smooth_curve(values, smooth)
    return epochs, values


def _labels(runs: list[Run]) -> list[str]:
    names = [run.experiment for run in runs]
    return [f"{name} ({run.path.name})" if names.count(name) > 1 else name for name, run in zip(names, runs)]


def plot_runs(run_paths: list[str], metric: str | None = None, smooth: float | None = None,
              skip_first: int = 0, out: str | None = None, force: bool = False) -> list[str]:
    """Write one PNG per metric; returns their paths.

    Each file's name says what it shows (`loss.png`, `loss-smooth0.9-skip1.png`, runs overlaid:
    `loss-validation-vs-smaller-1a2b3c4d.png`), so another metric, option or set of runs never
    replaces it; --out is checked before anything is read (see dlcli.outputs)."""
    if smooth is not None and not 0 <= smooth < 1:
        raise UsageError(f"--smooth {smooth}: must be in [0, 1), e.g. 0.9 as in listing 3.31")
    if skip_first < 0:
        raise UsageError("--skip-first must be >= 0")
    runs = []
    for path in run_paths:
        with unusable_path(path):
            runs.append(Run.open(path))
    placement = place(out, runs[0].file(layout.PLOTS), runs[0].path, force, PLOT_FORMATS)
    histories = [run.history() for run in runs]
    for run, history in zip(runs, histories):
        if not history.get("epoch"):
            raise UsageError(f"{run}: no {layout.HISTORY} with epochs to plot (was the run trained?)")
    bases = [metric[4:] if metric and metric.startswith("val_") else metric] if metric else metric_bases(histories[0])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}  # base -> figure, all drawn before any is written
    try:
        for base in bases:
            figure = _figure(plt, runs, histories, base, metric, smooth, skip_first)
            if figure is not None:
                figures[base] = figure
        if not figures:
            what = f"metric '{metric}'" if metric else "any metric"
            skipped = f" after skipping the first {skip_first} epochs" if skip_first else ""
            raise UsageError(f"nothing to plot for {what}{skipped}")
        targets = {base: _target(placement, runs, base, metric, smooth, skip_first, len(figures)) for base in figures}
        placement.check(dict(targets.values()))
        return [str(save_figure(figures[base], path, picture_identity))
                for base, (path, picture_identity) in targets.items()]
    finally:
        for figure in figures.values():
            plt.close(figure)


def _figure(plt, runs: list[Run], histories: list[dict], base: str, metric: str | None,
            smooth: float | None, skip_first: int):
    """The figure of one metric (None when no run has a point of it to draw)."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    drew = False
    label = LABELS.get(base, base)
    smoothed = "Smoothed " if smooth else ""
    if len(runs) == 1:
        key = _resolve(histories[0], base)
        if key is None:
            plt.close(figure)
            raise UsageError(f"{runs[0]}: no metric '{base}'; it has {', '.join(metric_bases(histories[0]))}")
        for name, style, text in ((key, "bo", "training"), (f"val_{key}", "b", "validation")):
            epochs, values = _series(histories[0], name, smooth, skip_first)
            if values:
                axes.plot(epochs, values, style, label=f"{smoothed}{text} {label}".capitalize())
                drew = True
        kfold = " (mean over folds)" if runs[0].has(layout.FOLDS) else ""
        axes.set_title(f"Training and validation {label}{kfold}")
    else:
        want_validation = _overlays_validation(metric)
        for index, (history, name) in enumerate(zip(histories, _labels(runs))):
            key = _resolve(history, base)
            if key is None:
                continue
            shown = f"val_{key}" if want_validation and f"val_{key}" in history else key
            epochs, values = _series(history, shown, smooth, skip_first)
            if values:
                which = "validation" if shown.startswith("val_") else "training"
                axes.plot(epochs, values, marker=MARKERS[index % len(MARKERS)],
                          linestyle="-" if smooth else "none", label=f"{name}: {which} {label}")
                drew = True
        axes.set_title(f"{smoothed}{'validation' if want_validation else 'training'} {label}".capitalize())
    if not drew:
        plt.close(figure)
        return None
    axes.set_xlabel("Epochs")
    axes.set_ylabel(label.capitalize())
    axes.legend()
    figure.tight_layout()
    return figure


def _overlays_validation(metric: str | None) -> bool:
    """Runs overlaid show validation curves, unless --metric names a training one (`loss`)."""
    return metric is None or metric.startswith("val_")


def _target(placement: Placement, runs: list[Run], base: str, metric: str | None, smooth: float | None, skip_first: int,
            count: int) -> tuple[Path, str]:
    """(file, identity) of one metric's figure: every run drawn and every option is in its identity;
    the name spells them out, with the identity's hash where it cannot (runs overlaid, or a figure
    outside its run's plots/)."""
    overlay = "validation" if _overlays_validation(metric) else "training"
    which = overlay if len(runs) > 1 else None  # one run's figure shows both curves, whatever --metric says
    picture_identity = identity(kind="plot", runs=[placement.named(run.path) for run in runs], metric=base, curves=which,
                                smooth=smooth or None, skip_first=skip_first)
    options = [f"smooth{smooth:g}" if smooth else None, f"skip{skip_first}" if skip_first else None]
    if len(runs) > 1:
        others = "+".join(_labels(runs)[1:])
        name = picture_name([base, which, *options, "vs", others], picture_identity)
    elif placement.is_run_folder(layout.PLOTS.name):
        name = picture_name([base, *options])  # the run's own plots/: the name says it all
    else:
        name = picture_name([runs[0].experiment, base, *options], picture_identity)
    path = placement.path(name)
    if placement.file is not None and count > 1:
        path = placement.beside(placement.file, base)
    return path, picture_identity
