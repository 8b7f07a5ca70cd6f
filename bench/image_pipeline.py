"""dlcli's image-folder stream against a plain image_dataset_from_directory loop.

    python bench/image_pipeline.py [--images 1000] [--epochs 5]

Writes a folder of JPEGs the size of Kaggle's Dogs-vs-Cats photos (about 400x350), then reads it
for several epochs at 150x150 in batches of 20, as cats-dogs-scratch does: once with a plain
`keras.utils.image_dataset_from_directory(...)` loop (no cache, no prefetch added), once with
dlcli's stream (decoded once, cached as uint8, reshuffled every epoch, prefetched). Prints images
per second of each and their ratio. Goal: dlcli at least 2x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_folder(root: Path, count: int) -> None:
    import cv2

    rng = np.random.default_rng(0)
    for index in range(count):
        label = ("cats", "dogs")[index % 2]
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        height, width = int(rng.integers(300, 500)), int(rng.integers(300, 500))
        smooth = cv2.resize(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8), (width, height))
        cv2.imwrite(str(folder / f"{label[:-1]}.{index}.jpg"), smooth, [cv2.IMWRITE_JPEG_QUALITY, 90])


def images_per_second(dataset_for_epoch, epochs: int) -> float:
    start, seen = time.perf_counter(), 0
    for epoch in range(epochs):
        for x, _ in dataset_for_epoch(epoch):
            seen += int(x.shape[0])
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlcli.datasets import params as p
    from dlcli.datasets.image_folder import image_stream
    from dlcli.backend import import_keras

    keras = import_keras()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "train"
        make_folder(folder, args.images)
        plain = keras.utils.image_dataset_from_directory(folder, image_size=(150, 150), batch_size=20,
                                                         label_mode="binary", verbose=False)
        plain_rate = images_per_second(lambda epoch: plain, args.epochs)
        params = p.CatsVsDogsParams(name="cats_vs_dogs", path=str(folder.parent))
        stream = image_stream(folder, params, ["cats", "dogs"])
        dlcli_rate = images_per_second(lambda epoch: stream.make(20, training=True, seed=epoch), args.epochs)
    print(f"{args.images} JPEGs, {args.epochs} epochs at 150x150, batches of 20")
    print(f"plain image_dataset_from_directory: {plain_rate:8.1f} images/s")
    print(f"dlcli stream (cache, prefetch):     {dlcli_rate:8.1f} images/s")
    ratio = dlcli_rate / plain_rate
    print(f"ratio {ratio:.2f}x (goal >= 2x: {'met' if ratio >= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
