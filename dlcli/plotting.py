"""Learning curves in the book's style from history files (no TensorFlow).

One figure per metric: training and validation of one run, each a line with its markers (3.9,
5.10); several runs overlaid, each a line labelled by what differs between them (`fit.epochs=2`,
from their spec.yaml), as in figures 4.4-4.9; the book's exponential smoothing (`smooth_curve`,
3.31 and 5.24) and dropping the first points (3.31). A k-fold run's history.json already holds
the per-epoch mean over folds (3.29-3.30). Besides run directories, `plot` reads Keras' own
history files (`dlcli.history_files`). `curve_figures` gives the figures without writing them
(the HTML report embeds them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.outputs import PLOT_FORMATS, Placement, identity, picture_name, place, save_figure, unusable_path
from dlcli.reference import smooth_curve
from dlcli.runs import Run, enclosing_run, layout

ALIASES = {"acc": "accuracy", "accuracy": "acc", "mae": "mean_absolute_error", "mean_absolute_error": "mae"}
LABELS = {"loss": "loss", "acc": "accuracy", "accuracy": "accuracy", "mae": "MAE", "mse": "MSE"}
SKIPPED = {"epoch", "learning_rate", "lr"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
UNLABELLED_SPEC_KEYS = ("description", "notes", "reference")  # prose, not settings: never a label
LABEL_KEYS = 3  # differing settings spelled out in a legend label; the rest are counted


@dataclass(frozen=True)
class Curves:
    """The history one set of curves is drawn from: a run's, or a history file's outside dlcli."""

    history: dict[str, list]
    name: str  # the run's experiment, or the file's name
    path: Path  # the run directory or the file
    time: str | None = None  # when the run started; None for a file
    settings: dict[str, Any] = field(default_factory=dict)  # the run's spec, flattened; {} for a file
    kfold: bool = False
    short: str = ""  # what the name of an overlay's file calls it

    def describe(self) -> str:
        """`experiment (time)` for a run, the file's name for a file: how titles and legends name it."""
        return f"{self.name} ({self.time})" if self.time else self.name


def run_curves(run: Run) -> Curves:
    """A run's curves, with its start time and its spec's settings (for titles and labels)."""
    from dlcli.comparing import flatten
    from dlcli.spec.reading import read_yaml

    try:
        spec = read_yaml(run.file(layout.SPEC)) if run.has(layout.SPEC) else {}
    except UsageError:  # an unreadable spec.yaml costs the labels their settings, not the plot
        spec = {}
    spec = {key: value for key, value in spec.items() if key not in UNLABELLED_SPEC_KEYS} if isinstance(spec, dict) else {}
    started = str(run.info.get("started_at") or "")
    time = started[:16].replace("T", " ") if len(started) >= 16 else run.path.name
    return Curves(run.history(), run.experiment, run.path, time, flatten(spec), run.has(layout.FOLDS), run.experiment)


def file_curves(path: Path) -> Curves:
    """A history file's curves; one inside a run directory was written by dlcli (epochs from 1)."""
    from dlcli.history_files import read_history_file

    history = read_history_file(path, zero_based_csv=enclosing_run(path) is None)
    return Curves(history, path.name, path, short=path.stem)


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


def curve_figures(runs: list[Run], metric: str | None = None, smooth: float | None = None,
                  skip_first: int = 0) -> dict[str, Any]:
    """{metric: matplotlib Figure}, one per metric of the first run (or `metric` alone), drawn as
    `dlcli plot` draws them and not written anywhere; a metric no run has a point of gets none.
    Several runs are overlaid, their validation curves unless `metric` names a training one."""
    figures, _ = draw([run_curves(run) for run in runs], metric, smooth, skip_first)
    return figures


def draw(sources: list[Curves], metric: str | None, smooth: float | None,
         skip_first: int) -> tuple[dict[str, Any], dict[str, list[tuple[Curves, str]]]]:
    """The figures of `curve_figures`, and for each figure the sources that lack its curve, with
    the curve's name (`val_acc`)."""
    bases = [metric[4:] if metric and metric.startswith("val_") else metric] if metric else metric_bases(sources[0].history)
    figures, missing = {}, {}
    for base in bases:
        if len(sources) == 1:
            figure, lacking = _one(sources[0], base, smooth, skip_first), []
        else:
            figure, lacking = _overlay(sources, base, metric, smooth, skip_first)
        if figure is not None:
            figures[base], missing[base] = figure, lacking
    return figures, missing


def plot_runs(run_paths: list[str], metric: str | None = None, smooth: float | None = None,
              skip_first: int = 0, out: str | None = None, force: bool = False) -> list[str]:
    """Write one picture per metric; returns their paths. Each path is a run directory or a
    history file; the pictures go into the first run's plots/, or beside the first file.

    Each file's name says what it shows (`loss.png`, `loss-smooth0.9-skip1.png`, runs overlaid:
    `loss-validation-vs-smaller-1a2b3c4d.png`), so another metric, option or set of runs never
    replaces it; --out is checked before anything is read (see dlcli.outputs). A run that lacks
    a metric another has is named on stderr and in the legend."""
    if smooth is not None and not 0 <= smooth < 1:
        raise UsageError(f"--smooth {smooth}: must be in [0, 1), e.g. 0.9 as in listing 3.31")
    if skip_first < 0:
        raise UsageError("--skip-first must be >= 0")
    sources, own_run, folder = _opened(run_paths)
    placement = place(out, folder, own_run, force, PLOT_FORMATS)
    sources = [_checked(source) if isinstance(source, Run) else source for source in sources]
    if len(sources) == 1 and metric and _resolve(sources[0].history, metric[4:] if metric.startswith("val_") else metric) is None:
        raise UsageError(f"{sources[0].describe()}: no metric '{metric}'; it has {', '.join(metric_bases(sources[0].history))}")
    figures, missing = draw(sources, metric, smooth, skip_first)
    if not figures:
        what = f"metric '{metric}'" if metric else "any metric"
        skipped = f" after skipping the first {skip_first} epochs" if skip_first else ""
        raise UsageError(f"nothing to plot for {what}{skipped}")
    for base, lacking in missing.items():
        for source, curve in lacking:
            print(f"{source.path}: no {curve}; not in the {base} plot", file=sys.stderr)
    targets = {base: _target(placement, sources, base, metric, smooth, skip_first, len(figures)) for base in figures}
    placement.check(dict(targets.values()))
    return [str(save_figure(figures[base], path, picture_identity)) for base, (path, picture_identity) in targets.items()]


def _opened(paths: list[str]) -> tuple[list, Path | None, Path]:
    """Each path as an open Run or the Curves of a history file; the run the pictures may go into
    (the first path's) and their default folder."""
    sources = []
    for path in paths:
        with unusable_path(path):
            sources.append(file_curves(Path(path)) if Path(path).is_file() else Run.open(path))
    first = sources[0]
    if isinstance(first, Run):
        return sources, first.path, first.file(layout.PLOTS)
    owner = enclosing_run(first.path)
    return sources, owner, (owner / layout.PLOTS.name) if owner is not None else first.path.parent


def _checked(run: Run) -> Curves:
    curves = run_curves(run)
    if not curves.history.get("epoch"):
        raise UsageError(f"{run}: no {layout.HISTORY} with epochs to plot (was the run trained?)")
    return curves


def _curve_key(validation: bool, base: str) -> str:
    """The name of the curve an overlay draws of a metric."""
    return f"val_{base}" if validation else base


def _figure():
    """An empty figure with integer epoch ticks (no pyplot: nothing global to close)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(True, alpha=0.3)
    return figure, axes


def _one(source: Curves, base: str, smooth: float | None, skip_first: int):
    """One run's (or file's) training and validation curves of one metric, or None."""
    key = _resolve(source.history, base)
    if key is None:
        return None
    figure, axes = _figure()
    label = LABELS.get(base, base)
    smoothed = "smoothed " if smooth else ""
    drew = False
    for name, style, text in ((key, "o-", "training"), (f"val_{key}", "s--", "validation")):
        epochs, values = _series(source.history, name, smooth, skip_first)
        if values:
            axes.plot(epochs, values, style, label=f"{smoothed}{text} {label}".capitalize())
            drew = True
    if not drew:
        return None
    kfold = " (mean over folds)" if source.kfold else ""
    axes.set_title(f"{source.describe()}\n{smoothed}training and validation {label}{kfold}".strip())
    return _finished(figure, axes, label)


def _overlay(sources: list[Curves], base: str, metric: str | None, smooth: float | None, skip_first: int):
    """Several runs' curves of one metric, each labelled by what differs; (figure or None, the
    sources without this metric)."""
    figure, axes = _figure()
    label = LABELS.get(base, base)
    keys = [_resolve(source.history, base) for source in sources]
    validation = any(key and f"val_{key}" in source.history for key, source in zip(keys, sources))
    want_validation = _overlays_validation(metric) and validation  # training curves where no run validated
    lacking, drew = [], False
    for index, (source, key, name) in enumerate(zip(sources, keys, overlay_labels(sources))):
        shown = f"val_{key}" if key and want_validation else key
        epochs, values = _series(source.history, shown, smooth, skip_first) if shown else (None, None)
        if not values:
            lacking.append((source, name))
            continue
        axes.plot(epochs, values, marker=MARKERS[index % len(MARKERS)], linestyle="-", label=name)
        drew = True
    if not drew:
        return None, []
    curve = _curve_key(want_validation, base)
    for _, name in lacking:  # an invisible line: the legend names what is not drawn
        axes.plot([], [], linestyle="none", label=f"not drawn: {name} (no {curve})")
    smoothed = "smoothed " if smooth else ""
    curves = "validation" if want_validation else "training"
    names = list(dict.fromkeys(source.name for source in sources))
    axes.set_title(f"{', '.join(names)}: {len(sources)} runs\n{smoothed}{curves} {label}")
    return _finished(figure, axes, label), [(source, curve) for source, _ in lacking]


def _finished(figure, axes, label: str):
    axes.set_xlabel("Epochs")
    axes.set_ylabel(label.capitalize())
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def overlay_labels(sources: list[Curves]) -> list[str]:
    """A legend label per source, by what differs: the experiment when several are overlaid, then
    the settings that differ among the runs of the same experiment (`fit.epochs=2`), then the
    run's time where labels would still be the same."""
    experiments = {source.name for source in sources}
    labels = []
    for source in sources:
        peers = [other.settings for other in sources if other.name == source.name]
        parts = [source.name] if len(experiments) > 1 else []
        parts.append(_differences(source.settings, peers))
        labels.append(", ".join(part for part in parts if part) or source.name)
    return [f"{text} ({source.time})" if labels.count(text) > 1 and source.time else
            f"{text} ({source.path})" if labels.count(text) > 1 else text for text, source in zip(labels, sources)]


def _differences(settings: dict[str, Any], peers: list[dict[str, Any]]) -> str:
    """`key=value` of the settings whose values differ among `peers`, the first few spelled out."""
    keys = sorted(set().union(*peers)) if peers else []
    differing = [key for key in keys if len({repr(peer.get(key)) for peer in peers}) > 1]
    shown = [f"{key}={_short(settings.get(key))}" for key in differing[:LABEL_KEYS]]
    more = len(differing) - LABEL_KEYS
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def _short(value: Any) -> str:
    text = "unset" if value is None else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _overlays_validation(metric: str | None) -> bool:
    """Runs overlaid show validation curves, unless --metric names a training one (`loss`)."""
    return metric is None or metric.startswith("val_")


def _target(placement: Placement, sources: list[Curves], base: str, metric: str | None, smooth: float | None,
            skip_first: int, count: int) -> tuple[Path, str]:
    """(file, identity) of one metric's figure: every source drawn and every option is in its
    identity; the name spells them out, with the identity's hash where it cannot (runs overlaid,
    or a figure outside its run's plots/)."""
    overlay = "validation" if _overlays_validation(metric) else "training"
    which = overlay if len(sources) > 1 else None  # one run's figure shows both curves, whatever --metric says
    picture_identity = identity(kind="plot", runs=[placement.named(source.path) for source in sources], metric=base,
                                curves=which, smooth=smooth or None, skip_first=skip_first)
    options = [f"smooth{smooth:g}" if smooth else None, f"skip{skip_first}" if skip_first else None]
    if len(sources) > 1:
        others = "+".join(_file_labels(sources)[1:])
        name = picture_name([base, which, *options, "vs", others], picture_identity)
    elif placement.is_run_folder(layout.PLOTS.name) and sources[0].time:
        name = picture_name([base, *options])  # the run's own plots/: the name says it all
    else:
        name = picture_name([sources[0].short, base, *options], picture_identity)
    path = placement.path(name)
    if placement.file is not None and count > 1:
        path = placement.beside(placement.file, base)
    return path, picture_identity


def _file_labels(sources: list[Curves]) -> list[str]:
    """What an overlay's file name calls each source: its short name, with its folder's where two share it."""
    names = [source.short for source in sources]
    return [f"{name} ({source.path.name})" if names.count(name) > 1 else name for name, source in zip(names, sources)]
