"""The report's pictures, embedded in the page as data: URIs (no file beside it, no network).

Figures come from matplotlib (the learning curves from dlcli.plotting, as `dlcli plot` draws
them) as PNG, reduced to a palette of at most 256 colours by
Pillow (a line chart keeps its look at about a third of the bytes); pictures a run holds are
embedded as they are, once their bytes are checked to be a PNG; small ones are shown enlarged
(`shown_width`).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 90
MIN_SHOWN_PX = 192  # a narrower picture (an 8x8 Grad-CAM heatmap) is enlarged to about this width


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


def shown_width(path: Path) -> int | None:
    """The CSS width at which to show a PNG narrower than MIN_SHOWN_PX: a whole multiple of its
    width, so each pixel stays a sharp square (the page sets `image-rendering: pixelated`); None for
    a picture shown at its own size, or a file that is no readable PNG. The width is read from the
    PNG's header (IHDR, bytes 16-19), not by decoding the picture."""
    try:
        with path.open("rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if not head.startswith(PNG_SIGNATURE) or len(head) < 24:
        return None
    width = int.from_bytes(head[16:20], "big")
    return width * -(-MIN_SHOWN_PX // width) if 0 < width < MIN_SHOWN_PX else None


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

    import matplotlib

    counts = np.asarray(matrix)
    size = max(3.0, min(0.45 * len(counts) + 2.0, 9.0))
    with matplotlib.rc_context({"text.parse_math": False}):  # a class named '$5' is no mathematics
        return _confusion(Figure(figsize=(size + 1, size)), counts, class_names)  # no pyplot: nothing global left


def _confusion(figure, counts, class_names: list[str]):
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
