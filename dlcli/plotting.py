"""Learning curves in the book's style from history files (no TensorFlow).

One figure per metric: training and validation of one run, each a line with its markers (3.9,
5.10); several runs overlaid, each a line labelled by what differs between them (`fit.epochs=2`,
from their spec.yaml; a line that a later one covers point for point is labelled as hidden under
it), as in figures 4.4-4.9; the book's exponential smoothing (`smooth_curve`,
3.31 and 5.24) and dropping the first points (3.31). A k-fold run's history.json already holds
the per-epoch mean over folds (3.29-3.30). Epochs without a finite value (NaN) are named in the
legend, the points around them joined. Besides run directories, `plot` reads Keras' own
history files (`dlcli.curves`). `curve_figures` gives the figures without writing them (the HTML
report embeds them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from dlcli.curves import Curves, epoch_spans, overlay_labels, run_curves
from dlcli.errors import UsageError
from dlcli.outputs import PLOT_FORMATS, place, save_figure
from dlcli.plot_sources import opened_sources, picture_target
from dlcli.reference import smooth_curve
from dlcli.runs import Run, layout

ALIASES = {"acc": "accuracy", "accuracy": "acc", "mae": "mean_absolute_error", "mean_absolute_error": "mae"}
LABELS = {"loss": "loss", "acc": "accuracy", "accuracy": "accuracy", "mae": "MAE", "mse": "MSE", "kl_loss": "KL loss"}
SKIPPED = {"epoch", "learning_rate", "lr"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def metric_bases(history: dict) -> list[str]:
    bases = []
    for key in history:
        base = key.removeprefix("val_")
        if base not in SKIPPED and base not in bases:
            bases.append(base)
    return bases


def _label(base: str) -> str:
    """How titles, legends and axes call a metric: 'MAE', 'reconstruction loss' (not reconstruction_loss)."""
    return LABELS.get(base, base.replace("_", " "))


def _first_upper(text: str) -> str:
    """'Validation MAE': str.capitalize would lower the rest ('Validation mae')."""
    return text[:1].upper() + text[1:]


def _resolve(history: dict, base: str) -> str | None:
    for name in (base, ALIASES.get(base)):
        if name and (name in history or f"val_{name}" in history):
            return name
    return None


def _named(sources: list[Curves], base: str) -> str:
    """A metric asked for by its alias (`acc`) as the first source that has it names it (`accuracy`):
    the figure and its file are the same whichever name was asked for."""
    return next((key for key in (_resolve(source.history, base) for source in sources) if key), base)


def _series(source: Curves, key: str, smooth: float | None, skip_first: int) -> tuple[list, list, list]:
    """`Curves.points` of `key`, smoothed: (epochs, values, the epochs without a finite value). Those
    are left out and the points around them joined (a NaN would make every later smoothed point NaN),
    and the legend names them (`_no_value`)."""
    epochs, values, missing = source.points(key, skip_first)
    return epochs, smooth_curve(values, smooth) if smooth else values, missing


def _no_value(missing: list) -> str:
    """' (no finite value at epochs 2, 5-9)' for the epochs a curve lacks; '' when it lacks none."""
    return f" (no finite value at epoch{'s' if len(missing) > 1 else ''} {epoch_spans(missing)})" if missing else ""


@dataclass
class Drawn:
    """One metric's figure; for runs overlaid, which curves it shows and the runs without them."""

    figure: Any  # a matplotlib Figure
    curves: str | None = None  # "validation" or "training" for runs overlaid; None for one run (both)
    lacking: list[Curves] = field(default_factory=list)


def curve_figures(runs: list[Run], metric: str | None = None, smooth: float | None = None,
                  skip_first: int = 0) -> dict[str, Any]:
    """{metric: matplotlib Figure}, one per metric any of the runs has (or `metric` alone), drawn as
    `dlcli plot` draws them and not written anywhere; a metric no run has a point of gets none.
    Several runs are overlaid, their validation curves unless `metric` names a training one or no
    run has validation curves; a run without the curve is named in the legend."""
    return {base: drawn.figure for base, drawn in draw([run_curves(run) for run in runs], metric, smooth,
                                                          skip_first).items()}


def draw(sources: list[Curves], metric: str | None, smooth: float | None, skip_first: int) -> dict[str, Drawn]:
    """What `curve_figures` draws, with what each overlay shows and lacks. Titles and legends are
    drawn as written: a file named 'run$1$.json' is no mathematics (matplotlib's mathtext)."""
    import matplotlib

    drawn = {}
    with matplotlib.rc_context({"text.parse_math": False}):  # read by each text as it is made
        for base in _bases(sources, metric):
            figure = _one(sources[0], base, smooth, skip_first) if len(sources) == 1 else \
                _overlay(sources, base, metric, smooth, skip_first)
            if figure is not None:
                drawn[base] = figure
    return drawn


def _bases(sources: list[Curves], metric: str | None) -> list[str]:
    """The metrics to draw: `metric` as the runs name it, else every metric any run has, in order."""
    every_key = {key: None for source in sources for key in source.history}  # in order, the first run's first
    return [_named(sources, metric.removeprefix("val_"))] if metric else metric_bases(every_key)


def _no_epochs(source: Curves) -> str:
    """Why a source has no curve: a history file (a CSVLogger's header alone) holds no epoch; a run
    has no history.json with epochs."""
    if source.path.is_file():
        return f"{source.path}: no epochs in this file to plot"
    return f"{source.path}: no {layout.HISTORY} with epochs to plot (was the run trained?)"


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
    sources, own_run, folder = opened_sources(run_paths)
    placement = place(out, folder, own_run, force, PLOT_FORMATS)
    sources = [run_curves(source) if isinstance(source, Run) else source for source in sources]
    untrained = [source for source in sources if not source.history.get("epoch")]
    if len(untrained) == len(sources):
        raise UsageError(_no_epochs(untrained[0]))
    for source in untrained:  # runs overlaid: the others are drawn, this one named in every legend
        print(_no_epochs(source), file=sys.stderr)
    if len(sources) == 1 and metric and _resolve(sources[0].history, metric.removeprefix("val_")) is None:
        raise UsageError(f"{sources[0].describe()}: no metric '{metric}'; it has {', '.join(metric_bases(sources[0].history))}")
    drawn = draw(sources, metric, smooth, skip_first)
    skipped = f" after skipping the first {skip_first} epochs" if skip_first else ""
    if not drawn:
        what = f"metric '{metric}'" if metric else "any metric"
        left = any(len(source.history["epoch"]) > skip_first for source in sources if source.history.get("epoch"))
        raise UsageError(f"nothing to plot for {what}{skipped}{': no epoch has a finite value' if left else ''}")
    for base in (base for base in _bases(sources, metric) if base not in drawn):  # a diverged run's loss
        print(f"{base}: no epoch has a finite value{skipped}; not plotted", file=sys.stderr)
    for base, each in drawn.items():
        for source in (source for source in each.lacking if all(source is not other for other in untrained)):
            print(f"{source.path}: no {_curve_key(each.curves, base)}; not in the {base} plot", file=sys.stderr)
    targets = {base: picture_target(placement, sources, base, each.curves, smooth, skip_first, len(drawn))
               for base, each in drawn.items()}
    placement.check(dict(targets.values()))
    return [str(save_figure(drawn[base].figure, path, picture_identity))
            for base, (path, picture_identity) in targets.items()]


def _curve_key(curves: str | None, base: str) -> str:
    """The name of the curve an overlay draws of a metric (`val_acc`)."""
    return f"val_{base}" if curves == "validation" else base


def _figure():
    """An empty figure with integer epoch ticks (no pyplot: nothing global to close)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # one epoch: one tick
    axes.grid(True, alpha=0.3)
    return figure, axes


def _one(source: Curves, base: str, smooth: float | None, skip_first: int) -> Drawn | None:
    """One run's (or file's) training and validation curves of one metric, or None."""
    key = _resolve(source.history, base)
    if key is None:
        return None
    figure, axes = _figure()
    label = _label(base)
    smoothed = "smoothed " if smooth else ""
    drew = []
    for name, style, text in ((key, "o-", "training"), (f"val_{key}", "s--", "validation")):
        epochs, values, missing = _series(source, name, smooth, skip_first)
        if values:
            axes.plot(epochs, values, style, label=_first_upper(f"{smoothed}{text} {label}") + _no_value(missing))
            drew.append(text)
        elif missing:  # every epoch NaN: the legend says so rather than leave the curve out unsaid
            axes.plot([], [], linestyle="none", label=f"not drawn: {text} {label}{_no_value(missing)}")
    if not drew:
        return None
    kfold = " (mean over folds)" if source.kfold else ""
    axes.set_title(f"{source.describe()}\n{smoothed}{' and '.join(drew)} {label}{kfold}")
    return Drawn(_finished(figure, axes, label))


def _overlay(sources: list[Curves], base: str, metric: str | None, smooth: float | None,
             skip_first: int) -> Drawn | None:
    """Several runs' curves of one metric, each labelled by what differs, or None."""
    figure, axes = _figure()
    label = _label(base)
    keys = [_resolve(source.history, base) for source in sources]
    validation = any(key and f"val_{key}" in source.history for key, source in zip(keys, sources))
    want_validation = _overlays_validation(metric) and validation  # training curves where no run validated
    lacking, drawn = [], []
    wanted = _curve_key("validation" if want_validation else "training", base)  # val_acc, as a run lacking it says
    for index, (source, key, name) in enumerate(zip(sources, keys, overlay_labels(sources))):
        shown = f"val_{key}" if key and want_validation else key
        epochs, values, missing = _series(source, shown, smooth, skip_first) if shown else ([], [], [])
        if not values:
            lacking.append((source, name + (_no_value(missing) or f" (no {wanted})")))
            continue
        line, = axes.plot(epochs, values, marker=MARKERS[index % len(MARKERS)], linestyle="-",
                          label=name + _no_value(missing))
        drawn.append((line, name, dict(zip(epochs, values))))
    if not drawn:
        return None
    _name_hidden(drawn)
    curves = "validation" if want_validation else "training"
    for _, name in lacking:  # an invisible line: the legend names what is not drawn
        axes.plot([], [], linestyle="none", label=f"not drawn: {name}")
    smoothed = "smoothed " if smooth else ""
    names = list(dict.fromkeys(source.name for source in sources))
    axes.set_title(f"{', '.join(names)}: {len(sources)} runs\n{smoothed}{curves} {label}")
    return Drawn(_finished(figure, axes, label), curves, [source for source, _ in lacking])


def _name_hidden(drawn: list[tuple[Any, str, dict]]) -> None:
    """Label each line that a later one covers point for point (the same run plotted twice, a run
    whose first epochs another repeats with the same seed) as hidden under it: the legend would
    otherwise name a line nobody can see."""
    import math

    for index, (line, name, points) in enumerate(drawn):
        cover = next((other for _, other, over in drawn[index + 1:] if points.keys() <= over.keys() and all(
            math.isclose(value, over[epoch], rel_tol=1e-6, abs_tol=1e-12) for epoch, value in points.items())), None)
        if cover is not None:  # two lines: a legend that fits
            line.set_label(f"{line.get_label()}\n(hidden under {cover}: same values)")


def _finished(figure, axes, label: str):
    epochs = [x for line in axes.get_lines() for x in line.get_xdata()]
    if epochs and max(epochs) - min(epochs) < 2:  # one or two epochs: half an epoch of room each side,
        axes.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)  # not matplotlib's 5 % of a zero-wide range
    axes.set_xlabel("Epochs")
    axes.set_ylabel(_first_upper(label))
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _overlays_validation(metric: str | None) -> bool:
    """Runs overlaid show validation curves, unless --metric names a training one (`loss`)."""
    return metric is None or metric.startswith("val_")
