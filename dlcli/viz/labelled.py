"""Pictures that say what they show: a grid of tiles scaled up to a readable size, each tile
labelled, under a title (activations, filter patterns, augmented variants), and an overlay with
its colour bar and title (Grad-CAM). Drawn with matplotlib's Agg canvas (no pyplot, no display) and returned as RGB
uint8 arrays, which dlcli.outputs writes with the picture's identity inside.

Small images are scaled by a whole factor with nearest-neighbour sampling: every pixel of a
3x3 feature map or a 28x28 digit stays a sharp square instead of being blurred into a guess.
"""

from __future__ import annotations

import numpy as np

MIN_TILE = 64  # pixels of a tile's shorter side once scaled: room for its number, and visible
MIN_OVERLAY = 256  # pixels of an overlay's shorter side once scaled
DPI = 100  # figure inches * DPI = pixels: sizes below are in pixels
TITLE_BAND = 48  # pixels above the picture for its title (two lines)
MIN_WIDTH = 420  # pixels: a title of about 60 characters fits (a longer one widens the picture)
TITLE_SIZE = 10  # points
MARGIN = 4  # pixels between tiles
MARK_COLOUR = "#e8112d"


def scale_factor(height: int, width: int, minimum: int) -> int:
    """The smallest whole factor that makes the shorter side at least `minimum` pixels (1 if it is)."""
    return max(1, -(-minimum // max(1, min(height, width))))


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour scaling of (h, w[, c]) by a whole factor: each pixel a factor x factor square."""
    return image if factor == 1 else np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def tile_sheet(tiles: np.ndarray, columns: int, title: str, labels: list, marked: set = frozenset(),
               note: str = "") -> np.ndarray:
    """RGB (H, W, 3) uint8: `tiles` (n, h, w, 3) uint8 scaled up to MIN_TILE pixels, `columns` a
    row, tile i labelled `labels[i]` (a channel's or filter's number) in its corner, the tiles whose
    label is in `marked` framed in red and crossed; `title` (and `note`, a second line) above."""
    from matplotlib.patheffects import withStroke

    from dlcli.viz.images import grid

    outline = withStroke(linewidth=2, foreground="black")  # white on a black outline: readable on any tile
    factor = scale_factor(tiles.shape[1], tiles.shape[2], MIN_TILE)
    scaled = np.stack([upscale(tile, factor) for tile in tiles])
    sheet = grid(scaled, columns, margin=MARGIN, fill=255)
    figure, axes = _framed(sheet, f"{title}\n{note}" if note else title)
    height, width = scaled.shape[1:3]
    font = 7 if height < 96 else 9
    for index, label in enumerate(labels):
        row, column = divmod(index, columns)
        top, left = row * (height + MARGIN), column * (width + MARGIN)
        axes.text(left + 2, top + 2, str(label), color="white", fontsize=font, va="top", ha="left",
                  path_effects=[outline])  # no box: a translucent one tinted olive over yellow, like a mark
        if label in marked:
            _mark(axes, left, top, width, height)
    return pixels(figure)


def overlay_picture(images: list[np.ndarray], title: str, colour_map: str, label: str) -> np.ndarray:
    """RGB uint8: `images` (each (h, w, 3) uint8, one size) side by side, scaled up to MIN_OVERLAY
    pixels (nearest neighbour), `title` above, and a colour bar from 0 to 1 of `colour_map` named
    `label` on the right of the last."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    factor = scale_factor(images[0].shape[0], images[0].shape[1], MIN_OVERLAY)
    gap = np.full((images[0].shape[0] * factor, 3 * MARGIN, 3), 255, dtype="uint8")
    scaled = np.concatenate([part for image in images for part in (gap, upscale(image, factor))][1:], axis=1)
    bar = 130  # pixels right of the picture: the bar, its ticks and its label
    figure, _ = _framed(scaled, title, right=bar)
    total_width = figure.get_figwidth() * DPI
    total_height = figure.get_figheight() * DPI
    left = (total_width - bar + 20) / total_width
    picture_height = scaled.shape[0] / total_height  # the picture's share of the figure, from its bottom
    bar_axes = figure.add_axes([left, 0.05 * picture_height, 14 / total_width, 0.9 * picture_height])
    figure.colorbar(ScalarMappable(Normalize(0, 1), colormaps[colour_map]), cax=bar_axes, label=label)
    return pixels(figure)


def _framed(picture: np.ndarray, title: str, right: int = 0):
    """A figure showing `picture` pixel for pixel, `right` pixels of room beside it, the title above."""
    from matplotlib.figure import Figure

    height, width = picture.shape[:2]
    total_width, total_height = max(width + right, MIN_WIDTH, title_width(title) + 4 * MARGIN), height + TITLE_BAND
    figure = Figure(figsize=(total_width / DPI, total_height / DPI), dpi=DPI)
    left = (total_width - right - width) / 2 / total_width
    axes = figure.add_axes([left, 0, width / total_width, height / total_height])
    axes.imshow(picture, interpolation="nearest", cmap="gray" if picture.ndim == 2 else None)
    axes.set_xlim(-0.5, width - 0.5)
    axes.set_ylim(height - 0.5, -0.5)
    axes.set_axis_off()
    figure.text(0.5, 1 - TITLE_BAND / 2 / total_height, title, ha="center", va="center", fontsize=TITLE_SIZE,
                parse_math=False)  # a file named 'a$x$.png' is drawn as named, not as mathematics
    return figure, axes


def title_width(title: str) -> int:
    """Pixels `title` takes at TITLE_SIZE as Agg draws it (the picture is made at least that wide:
    a filter grid of 8 tiles or 4 augmented variants is narrower than its title)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(dpi=DPI)
    text = figure.text(0, 0, title, fontsize=TITLE_SIZE, parse_math=False)
    return int(np.ceil(text.get_window_extent(FigureCanvasAgg(figure).get_renderer()).width))


def _mark(axes, left: int, top: int, width: int, height: int) -> None:
    """A red frame and cross over a tile: it shows no pattern, only its starting noise."""
    from matplotlib.patches import Rectangle

    axes.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=MARK_COLOUR, linewidth=2))
    axes.plot([left, left + width - 1], [top, top + height - 1], color=MARK_COLOUR, linewidth=1.5)
    axes.plot([left, left + width - 1], [top + height - 1, top], color=MARK_COLOUR, linewidth=1.5)


def pixels(figure) -> np.ndarray:
    """The figure drawn by Agg as an RGB uint8 array (what its PNG would hold)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
