"""A VAE's latent grid (8.28, figure 8.14): the decoder's images of an n x n grid of latent points,
drawn as one picture, by `dlcli generate latent-grid RUN`.

The points are the book's: `norm.ppf(linspace(0.05, 0.95, n))` on each axis, the quantiles of the
prior N(0, 1), so the grid covers the likely part of the latent space evenly in probability. As in
8.28, row i decodes y = grid[i] and column j decodes x = grid[j] (z = [x, y]), the tiles touch
(the picture is n * height by n * width pixels), and the pixels are the decoder's [0, 1] times 255
(grey for one channel). A latent space of more than 2 dimensions is gridded over its first two,
the others held at 0 (the prior's mean), and the result says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dlcli.errors import UsageError
from dlcli.runs import layout

MAX_N = 100  # tiles per side: 100 x 100 decoded images, a 2,800-pixel square for MNIST


def grid_points(n: int) -> np.ndarray:
    """8.28's coordinates on one axis: the N(0, 1) quantiles of linspace(0.05, 0.95, n)."""
    from scipy.stats import norm

    return norm.ppf(np.linspace(0.05, 0.95, n))


def latent_points(n: int, latent_dim: int) -> np.ndarray:
    """(n * n, latent_dim) float32 points in the order of the tiles, row by row: z[0] runs along a
    row (8.28's xi), z[1] down the rows (yi); further dimensions stay 0."""
    axis = grid_points(n)
    rows, columns = np.meshgrid(axis, axis, indexing="ij")
    points = np.zeros((n * n, latent_dim), dtype="float32")
    points[:, 0], points[:, 1] = columns.ravel(), rows.ravel()
    return points


def grid_pixels(decoded: np.ndarray, n: int) -> np.ndarray:
    """(n * n, h, w, c) decoded images in [0, 1] -> one uint8 picture (n * h, n * w), or RGB (.., 3)."""
    from dlcli.viz.images import grid

    pixels = np.clip(np.rint(np.asarray(decoded) * 255.0), 0, 255).astype("uint8")
    tiles = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    return grid(tiles, n)


def generate_latent_grid(run_path: str, n: int = 15, out: str | None = None, force: bool = False) -> dict[str, Any]:
    """`dlcli generate latent-grid`: figure 8.14 of the run's VAE, into its samples/ unless `out`
    names a file."""
    from dlcli.generation import model_of_kind, trained_run, write_picture
    from dlcli.outputs import identity, place

    if not 1 <= n <= MAX_N:
        raise UsageError(f"--n {n}: give 1 to {MAX_N} points per side")
    run = trained_run(run_path)
    placement = place(out, run.file(layout.SAMPLES), own_run=run.path, force=force)
    model = model_of_kind(run, "vae", "generate latent-grid", "vae-mnist")
    if model.latent_dim < 2:
        raise UsageError(f"{run}: its vae has a latent space of {model.latent_dim} dimension; a grid needs 2")
    target = placement.path(Path(layout.LATENT_GRID.at(n=n)).name)
    picture = identity(model=placement.named(run.model_path()), n=n, grid="8.28")
    placement.check({target: picture})
    points = latent_points(n, model.latent_dim)
    image = grid_pixels(model.decoder.predict(points, batch_size=256, verbose=0), n)
    write_picture(run, placement, target, image, picture)
    gridded = "the first 2 of its dimensions, the others at 0" if model.latent_dim > 2 else "its 2 dimensions"
    return {"run_dir": str(run.path.absolute()), "file": str(Path(target).absolute()),  # --json: paths absolute
            "n": n, "latent_dim": model.latent_dim,
            "gridded": gridded, "image_size": list(model.image_shape[:2]), "grid_size": list(image.shape[:2])}
