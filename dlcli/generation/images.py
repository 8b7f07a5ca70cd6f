"""A GAN's images (8.29-8.32): grids of generated and real images written into a run's samples/,
every `model.samples_every` steps of training, and by `dlcli generate images RUN`.

Generated images are shown as the discriminator sees real ones, mapped back to the stored pixels
(the book's [0, 1] times 255, or [-1, 1] with `match_tanh`), clipped to 0-255.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

from dlcli.backend import import_keras
from dlcli.errors import UsageError
from dlcli.runs import Run, layout

GRID_MARGIN = 2  # pixels between the tiles of a grid


def latent_points(latent_dim: int, count: int, seed: int) -> np.ndarray:
    """`count` points of the latent space ~ N(0, 1), the same for the same seed."""
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")


def generated_pixels(model, latent: np.ndarray) -> np.ndarray:
    """(n, h, w, c) uint8: the generator's images for `latent`, in the data's stored pixels."""
    keras = import_keras()
    images = keras.ops.convert_to_numpy(model.generate(latent))
    if model.match_tanh:
        images = (images + 1.0) / 2.0
    return np.clip(np.rint((images - model.offset) / model.scale), 0, 255).astype("uint8")


def image_grid(images: np.ndarray) -> np.ndarray:
    """(n, h, w, c) uint8 -> one roughly square grid: RGB (h, w, 3) or grey (h, w)."""
    from dlcli.viz.images import grid

    tiles = images[..., 0] if images.shape[-1] == 1 else images
    return grid(tiles, math.ceil(math.sqrt(len(images))), margin=GRID_MARGIN)


def generate_images(run_path: str, count: int = 16, seed: int = 0, out: str | None = None,
                    force: bool = False) -> dict[str, Any]:
    """`dlcli generate images`: a grid of `count` images from latent points drawn from `seed`,
    into the run's samples/ unless `out` names a file."""
    from dlcli.generation import model_of_kind, trained_run, write_picture
    from dlcli.outputs import identity, place

    if count < 1 or count > 1024:
        raise UsageError(f"--count {count}: give 1 to 1024 images")
    if seed < 0:
        raise UsageError(f"--seed {seed}: give a seed of 0 or more")
    run = trained_run(run_path)
    placement = place(out, run.file(layout.SAMPLES), own_run=run.path, force=force)
    model = model_of_kind(run, "gan", "generate images", "gan-cifar10-frogs")
    target = placement.path(Path(layout.GENERATED_IMAGES.at(seed=seed, count=count)).name)
    picture = identity(model=placement.named(run.model_path()), count=count, seed=seed)
    placement.check({target: picture})
    images = generated_pixels(model, latent_points(model.latent_dim, count, seed))
    grid = image_grid(images)
    write_picture(run, placement, target, grid, picture)
    return {"run_dir": str(run.path.absolute()), "file": str(Path(target).absolute()),  # --json: paths absolute
            "count": count, "seed": seed,
            "image_size": list(images.shape[1:3]), "grid_size": list(grid.shape[:2])}


def real_pixels(bundle, count: int, step: int, seed: int) -> np.ndarray | None:
    """`count` training images drawn from (seed, step), as stored; None for data read from files."""
    x = getattr(bundle.train, "x", None)
    if not isinstance(x, np.ndarray):
        return None
    rows = np.random.default_rng([seed, step]).choice(len(x), size=min(count, len(x)), replace=False)
    return np.asarray(x[np.sort(rows)], dtype="uint8")


def training_grids(run: Run, spec, bundle) -> list[tuple[str, object]]:
    """The gan kind's run callback: its image grids every model.samples_every steps into samples/."""
    grids = sample_grids_class()(run, bundle, spec.model.samples_every, spec.model.samples_count, spec.seed)
    return [(f"{layout.SAMPLES}/", grids)]


@functools.lru_cache(maxsize=None)
def sample_grids_class():
    keras = import_keras()

    class SampleGrids(keras.callbacks.Callback):
        """Every `every` steps (counted over the whole run, so a resumed run goes on numbering): the
        generator's images for fixed latent points, and training images (of data held in arrays; an
        image folder's are read from files and get none), as grids in samples/."""

        def __init__(self, run: Run, bundle, every: int, count: int, seed: int):
            super().__init__()
            self.run, self.bundle, self.every, self.count, self.seed = run, bundle, every, count, seed
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            step = self.epoch * self.params["steps"] + batch + 1
            if step % self.every:
                return
            model = self.model  # on JAX, reading it puts the step's weights back into the model
            latent = latent_points(model.latent_dim, self.count, self.seed)
            self._write(layout.SAMPLES_GENERATED, step, generated_pixels(model, latent))
            real = real_pixels(self.bundle, self.count, step, self.seed)
            if real is not None:
                self._write(layout.SAMPLES_REAL, step, real)

        def _write(self, entry, step: int, images: np.ndarray) -> None:
            from dlcli.viz.images import write_png

            write_png(self.run.output(entry, step=f"{step:06d}"), image_grid(images))

    return SampleGrids

