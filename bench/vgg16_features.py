"""vgg16-features twice on the same images: the second run reuses the cached features.

    python bench/vgg16_features.py [--images 400]

Makes a folder of JPEGs (train/validation/test, two classes), then trains vgg16-features on it
twice through dlcli.api.train in this process, with VGG16 weights saved here standing in for the
ImageNet file (the timing does not depend on the weights; no download). Prints each run's time,
whether it reused the features, and the ratio. Goal: the second run never runs VGG16.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from image_pipeline import make_folder

    from dlcli import api
    from dlcli.backend import import_keras
    from dlcli import pretrained as applications

    keras = import_keras()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ.update(DLCLI_DATA_DIR=str(root / "data"), DLCLI_RUNS_DIR=str(root / "runs"))
        for split, share in (("train", 0.5), ("validation", 0.25), ("test", 0.25)):
            make_folder(root / "images" / split, int(args.images * share))
        weights = root / "stand-in.weights.h5"
        keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3)).save_weights(weights)
        applications.weights_path = lambda app, include_top: weights
        overrides = [f"data.path={root / 'images'}", "fit.epochs=5"]
        rows = []
        for attempt in ("first", "second"):
            start = time.perf_counter()
            result = api.train("vgg16-features", overrides, verbose=0)
            seconds = time.perf_counter() - start
            info = json.loads((Path(result["run_dir"]) / "run.json").read_text())["data_info"]["features"]
            rows.append((attempt, seconds, info["reused"]))
    print(f"vgg16-features on {args.images} images of about 400x400, 5 epochs")
    for attempt, seconds, reused in rows:
        print(f"{attempt} run: {seconds:6.1f} s (features reused: {reused})")
    print(f"ratio {rows[0][1] / rows[1][1]:.1f}x; second run skipped VGG16: {'yes' if rows[1][2] else 'NO'}")


if __name__ == "__main__":
    main()
