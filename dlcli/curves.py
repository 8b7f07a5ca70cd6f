"""Where learning curves come from (`Curves`): a run (its history, experiment, start time and
spec settings) or a history file saved outside dlcli, for `dlcli plot FILE`: Keras'
`history.history` written with `json.dump` (an object of lists, no epoch key) and a
`keras.callbacks.CSVLogger` file (an `epoch` column counting from 0). Both become the columns a
run's history.json holds, epochs counted from 1 as dlcli counts them. Also what a curve is
called where several are overlaid (`overlay_labels`: what differs between them).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlcli.errors import SpecError, UsageError
from dlcli.runs import Run, enclosing_run, layout

FORMATS = "plot reads run directories, history.history saved as .json and CSVLogger files"
JSON_SHAPE = "a JSON object of lists of numbers, as json.dump(history.history, file) writes"
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

    def points(self, key: str, skip_first: int = 0) -> tuple[list, list[float], list]:
        """(epochs, values) of `key`'s finite points after the first `skip_first` epochs, and the
        epochs without a finite value (a diverged run's NaN or inf, a CSVLogger cell left empty by
        validation_freq, None in history.json)."""
        values = self.history.get(key) or []
        epochs = list(self.history.get("epoch", range(1, len(values) + 1)))[skip_first:]
        pairs = [(epoch, finite_number(value)) for epoch, value in zip(epochs, values[skip_first:])]
        kept = [(epoch, value) for epoch, value in pairs if value is not None]
        return [epoch for epoch, _ in kept], [value for _, value in kept], [e for e, v in pairs if v is None]


def epoch_spans(epochs: list) -> str:
    """'2, 5-9' for epochs [2, 5, 6, 7, 8, 9]: runs of consecutive epochs as ranges."""
    spans, start = [], epochs[0] if epochs else None
    for before, epoch in zip(epochs, [*epochs[1:], None]):
        if epoch != before + 1:
            spans.append(f"{start}" if start == before else f"{start}-{before}")
            start = epoch
    return ", ".join(spans)


def finite_number(value: Any) -> float | None:
    """A value (a number, a CSV cell's text) as a finite float, else None (NaN, inf, '', text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def run_curves(run: Run) -> Curves:
    """A run's curves, with its start time and its spec's settings (for titles and labels)."""
    from dlcli.comparing import flatten
    from dlcli.spec.reading import read_yaml

    try:
        spec = read_yaml(run.file(layout.SPEC)) if run.has(layout.SPEC) else {}
    except SpecError:  # an unreadable spec.yaml (UsageError, SpecError) costs the labels their settings, not the plot
        spec = {}
    spec = {key: value for key, value in spec.items() if key not in UNLABELLED_SPEC_KEYS} if isinstance(spec, dict) else {}
    return Curves(run.history(), run.experiment, run.path, _local_time(run), flatten(spec), run.has(layout.FOLDS),
                  run.experiment)


def _local_time(run: Run) -> str:
    """When the run started, in this machine's time zone as its folder's name is ('2026-12-03 18:49';
    run.json keeps UTC); the folder's name where run.json has no readable time."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(run.info.get("started_at"))).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return run.path.name


def file_curves(path: Path) -> Curves:
    """A history file's curves; one inside a run directory was written by dlcli (epochs from 1)."""
    history = read_history_file(path, zero_based_csv=enclosing_run(path) is None)
    return Curves(history, path.name, path, short=path.stem)


def read_history_file(path: Path, zero_based_csv: bool = True) -> dict[str, list]:
    """{'epoch': [1, 2, ...], 'loss': [...], ...} from a history file: JSON for a .json, else CSV
    (CSVLogger's files are often named training.log, as in Keras' documentation);
    `zero_based_csv`: a CSV's epoch column counts from 0 (CSVLogger's); dlcli's own history.csv
    counts from 1."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not a run directory nor a history file that can be read "
                         f"({getattr(error, 'strerror', None) or error}); {FORMATS}") from None
    columns = _json_columns(path, text) if path.suffix.lower() == ".json" else _csv_columns(path, text, zero_based_csv)
    if not any(key != "epoch" for key in columns):
        raise UsageError(f"{path}: holds no metric to plot")
    return columns


def _json_columns(path: Path, text: str) -> dict[str, list]:
    """history.history as JSON (dlcli's history.json, whose epochs are there, reads the same)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{path}: not JSON ({error}); expected {JSON_SHAPE}") from None
    if not isinstance(data, dict) or not data or not all(
            isinstance(values, list) and all(_is_number(value) for value in values) for values in data.values()):
        raise UsageError(f"{path}: expected {JSON_SHAPE}")
    lengths = {len(values) for values in data.values()}
    if len(lengths) > 1:
        raise UsageError(f"{path}: its lists have different lengths ({', '.join(map(str, sorted(lengths)))}); "
                         "each metric needs one value per epoch")
    epochs = data.pop("epoch", None) or list(range(1, lengths.pop() + 1))
    return {"epoch": [int(epoch) for epoch in epochs], **data}


def _csv_columns(path: Path, text: str, zero_based: bool) -> dict[str, list]:
    """A CSVLogger file: a header with `epoch`, one row per epoch, any separator CSVLogger takes."""
    lines = text.splitlines()
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if lines else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(lines, dialect))
    if not rows or "epoch" not in rows[0]:
        raise UsageError(f"{path}: not a run directory nor a CSV with an 'epoch' column, as "
                         f"keras.callbacks.CSVLogger writes; {FORMATS}")
    header, body = rows[0], [row for row in rows[1:] if row]
    if any(len(row) != len(header) for row in body):
        raise UsageError(f"{path}: a row has another number of values than the header's {len(header)}")
    columns = {name: [_number(row[index]) for row in body] for index, name in enumerate(header)}
    if any(epoch is None or math.isnan(epoch) for epoch in columns["epoch"]):
        raise UsageError(f"{path}: an 'epoch' value is not a number")
    columns["epoch"] = [int(epoch) + (1 if zero_based else 0) for epoch in columns["epoch"]]
    return columns


def _is_number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _number(text: str) -> float:
    """A CSV cell as a float; CSVLogger's 'NA' (a metric missing that epoch) and blanks are NaN."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


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
    """A setting as a legend shows it: a float to 4 significant digits (a sweep's learning rate
    0.0015751320499779737 as 0.001575), anything longer than 24 characters cut."""
    text = "unset" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."
