"""The report's pictures, embedded in the page as data: URIs (no file beside it, no network).

Figures come from matplotlib (the learning curves from dlcli.plotting, as `dlcli plot` draws
them) as PNG, reduced to a palette of at most 256 colours by
Pillow (a line chart keeps its look at about a third of the bytes); pictures a run holds are
embedded as they are, once their bytes are checked to be a PNG.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 90


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


def figure_uri(figure) -> str:
    """A matplotlib Figure as a palette PNG data: URI."""
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colors=256)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=9)
    return data_uri(out.getvalue())


def confusion_figure(matrix: list[list[int]], class_names: list[str]):
    """A confusion matrix (rows: true class, columns: predicted), each cell's count written in it."""
    import numpy as np
    from matplotlib.figure import Figure

    counts = np.asarray(matrix)
    size = max(3.0, min(0.45 * len(counts) + 2.0, 9.0))
    figure = Figure(figsize=(size + 1, size))  # no pyplot: nothing global is left open
    axes = figure.subplots()
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
