"""The report's pictures, embedded in the page as data: URIs (no file beside it, no network).

Figures come from matplotlib (Agg) as PNG, reduced to a palette of at most 256 colours by
Pillow (a line chart keeps its look at about a third of the bytes); pictures a run holds are
embedded as they are, once their bytes are checked to be a PNG.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 90
TRAINING, VALIDATION = "#1f5fa8", "#d9730d"
COLOURS = ["#1f5fa8", "#d9730d", "#2e8540", "#b3261e", "#6b4fa0", "#7a5230", "#c2185b", "#5f6b73"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_file_uri(path: Path, max_bytes: int = 5_000_000) -> str | None:
    """A PNG file of a run as a data: URI; None when it is not a PNG (or too large to embed)."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        png = path.read_bytes()
    except OSError:
        return None
    return data_uri(png) if png.startswith(PNG_SIGNATURE) else None


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_uri(figure) -> str:
    """A matplotlib figure as a palette PNG data: URI; the figure is closed."""
    from PIL import Image

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        pyplot().close(figure)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colors=256)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return data_uri(out.getvalue())


def _series(history: dict, key: str) -> tuple[list, list] | None:
    values = history.get(key)
    if not values:
        return None
    epochs = list(history.get("epoch") or range(1, len(values) + 1))
    return epochs[:len(values)], [float("nan") if value is None else value for value in values]


def curves_figure(histories: list[tuple[str, dict]], bases: list[str], title: str | None = None):
    """One panel per metric: with one history, its training and validation curves; with several,
    each one's validation curve (training where it has no validation), labelled as given."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    columns = min(len(bases), 3)
    rows = -(-len(bases) // columns)
    figure, axes_grid = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for axes, base in zip(axes_grid.flat, bases):
        for index, (label, history) in enumerate(histories):
            if len(histories) == 1:
                for key, colour, marker, which in ((base, TRAINING, "o", "training"),
                                                   (f"val_{base}", VALIDATION, "s", "validation")):
                    series = _series(history, key)
                    if series:
                        axes.plot(*series, color=colour, marker=marker, markersize=4, linewidth=1.5, label=which)
            else:
                key = f"val_{base}" if history.get(f"val_{base}") else base
                series = _series(history, key)
                if series:
                    axes.plot(*series, color=COLOURS[index % len(COLOURS)], marker=MARKERS[index % len(MARKERS)],
                              markersize=4, linewidth=1.5, label=f"{label}" + ("" if key.startswith("val_") else " (training)"))
        axes.set_title(f"validation {base}" if len(histories) > 1 else base, fontsize=10)
        axes.set_xlabel("epoch", fontsize=9)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    for axes in list(axes_grid.flat)[len(bases):]:
        axes.axis("off")
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure


def confusion_figure(matrix: list[list[int]], class_names: list[str]):
    """A confusion matrix (rows: true class, columns: predicted), each cell's count written in it."""
    import numpy as np

    plt = pyplot()
    counts = np.asarray(matrix)
    size = max(3.0, min(0.45 * len(counts) + 2.0, 9.0))
    figure, axes = plt.subplots(figsize=(size + 1, size))
    shown = axes.imshow(counts, cmap="Blues")
    figure.colorbar(shown, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(counts))
    labels = [str(name)[:14] for name in class_names] if len(class_names) == len(counts) else [str(i) for i in ticks]
    axes.set_xticks(ticks, labels, rotation=45 if len(counts) > 4 else 0, ha="right" if len(counts) > 4 else "center",
                    fontsize=8)
    axes.set_yticks(ticks, labels, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if len(counts) <= 20:
        threshold = counts.max() / 2 if counts.size else 0
        for row in ticks:
            for column in ticks:
                axes.text(column, row, int(counts[row, column]), ha="center", va="center", fontsize=7,
                          color="white" if counts[row, column] > threshold else "black")
    figure.tight_layout()
    return figure
