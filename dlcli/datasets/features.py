"""Fast feature extraction without augmentation (5.17): the frozen base runs once per image.

The base network's outputs for every split are stored in `<data dir>/features/<key>.h5`, where the
key hashes the network, its weights, the preprocessing, the image size and every image file's
path, size and modification time: a second run on the same images skips the base entirely.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from dlcli.atomic import atomic_path
from dlcli.datasets.base import Split, Stream
from dlcli.terminal import progress


def feature_key(streams: dict[str, Stream], params) -> str:
    from dlcli.pretrained import application, weights_path

    features = params.features
    app = application(features.network)
    weights = None
    if features.weights == "imagenet":  # the file itself, not only its name: a re-import changes the key
        found = weights_path(app, include_top=False)
        weights = (found.name, found.stat().st_size, found.stat().st_mtime_ns)
    files = {}
    for split, stream in streams.items():
        stats = [os.stat(path) for path in stream.files]
        files[split] = [(path, stat.st_size, stat.st_mtime_ns) for path, stat in zip(stream.files, stats)]
    description = {
        "network": app.keras_name, "weights": weights,
        "preprocess": features.preprocess, "image_size": list(params.image_size),
        "interpolation": params.interpolation, "color_mode": params.color_mode, "files": files,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:20]


def feature_splits(streams: dict[str, Stream], params, root: Path) -> tuple[dict[str, Split], dict[str, Any]]:
    """{split: Split(features, labels)} and what happened ({'file', 'reused', 'shape'})."""
    import h5py

    features = params.features
    cacheable = features.cache and features.weights is not None  # random weights differ every run
    path = root / "features" / f"{features.network}-{feature_key(streams, params)}.h5" if cacheable else None
    if path is not None and path.is_file():
        try:
            with h5py.File(path, "r") as stored:
                splits = {split: Split(stored[split]["x"][()], stored[split]["y"][()]) for split in streams}
            return splits, {"file": str(path), "reused": True, "shape": list(splits["train"].x.shape[1:])}
        except (OSError, KeyError):
            path.unlink(missing_ok=True)  # unreadable: extract again
    splits = extract(streams, params)
    if path is not None:
        with atomic_path(path) as partial, h5py.File(partial, "w") as stored:
            for split, arrays in splits.items():
                stored.create_dataset(f"{split}/x", data=arrays.x)
                stored.create_dataset(f"{split}/y", data=arrays.y)
    return splits, {"file": str(path) if path else None, "reused": False,
                    "shape": list(splits["train"].x.shape[1:])}


def extract(streams: dict[str, Stream], params) -> dict[str, Split]:
    from dlcli.pretrained import build_application, preprocess_input

    features = params.features
    base = build_application(features.network, include_top=False, weights=features.weights,
                             input_shape=(*params.image_size, 3))
    prepare = preprocess_input(features.network) if features.preprocess == "network" else (lambda x: x / 255.0)
    splits = {}
    for split, stream in streams.items():
        print(f"extracting {features.network} features of {len(stream)} {split} images", file=sys.stderr)
        outputs, labels = [], []
        with progress(f"{split} images", len(stream)) as advance:
            for x, y in stream.make(20).as_numpy_iterator():  # the book's batch of 20, as NumPy for any backend
                outputs.append(np.asarray(base.predict_on_batch(prepare(x))))
                labels.append(np.asarray(y))
                advance(len(y))
        splits[split] = Split(np.concatenate(outputs), np.concatenate(labels))
    return splits
