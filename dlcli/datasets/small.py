"""Datasets that need no download: the UCI digits shipped with dlcli, the course lesson's
8x8 vertical line, and synthetic data for tests (same array format as the real loaders)."""

from __future__ import annotations

import gzip
from pathlib import Path
import numpy as np

from dlcli.datasets.base import DataBundle, Split, limit, pixel_scaling, to_onehot
from dlcli.datasets.params import DigitsParams, RandomParams, SyntheticParams, VerticalLineParams

DIGITS_FILE = Path(__file__).parent / "files" / "digits.csv.gz"
DIGITS_PER_CLASS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)  # the shipped file's digits 0-9 (1,797)


def digits_held_out(count: int, test_fraction: float) -> int:
    """How many of a class's `count` digits go to the test split."""
    return round(count * test_fraction)


def digits_split_sizes(params: DigitsParams) -> tuple[int, int]:
    """(training, test) samples load_digits returns, known without reading the file."""
    test = sum(digits_held_out(count, params.test_fraction) for count in DIGITS_PER_CLASS)
    train = sum(DIGITS_PER_CLASS) - test
    return tuple(total if cap is None else min(cap, total)
                 for total, cap in ((train, params.train_samples), (test, params.test_samples)))


def load_digits(entry, params: DigitsParams, root: Path) -> DataBundle:
    """UCI optical digits (1,797 8x8 images of pixel counts 0-16, as 0-255 pixels), split per class."""
    with gzip.open(DIGITS_FILE, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype="float32")
    # Counts 0-16 as the 0-255 pixels every image dataset stores (and a PNG of a digit holds).
    x, y = np.round(table[:, :64] * (255 / 16)).astype("uint8"), table[:, 64].astype("int64")
    rng = np.random.RandomState(params.split_seed)
    test_rows = []
    for digit in range(10):  # stratified: the same fraction of each class goes to test
        rows = np.flatnonzero(y == digit)
        rng.shuffle(rows)
        test_rows.extend(rows[: digits_held_out(len(rows), params.test_fraction)])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test_rows] = True
    order = rng.permutation(len(y))
    train_rows, test_rows = order[~is_test[order]], order[is_test[order]]
    x = x.reshape(-1, 8, 8, 1) if params.shape == "image" else x
    splits = []
    for rows, count in ((train_rows, params.train_samples), (test_rows, params.test_samples)):
        labels = to_onehot(y[rows], 10) if params.labels == "onehot" else y[rows]
        splits.append(limit(Split(x[rows], labels), count))
    return DataBundle(splits[0], splits[1], num_classes=10, class_names=[str(d) for d in range(10)],
                      input_preprocessing=pixel_scaling(255))


def load_vertical_line(entry, params: VerticalLineParams, root: Path) -> DataBundle:
    """The lesson's 8x8 image: a vertical line in columns 3-4 of every row (no labels)."""
    image = np.zeros((1, 8, 8, 1), dtype="float32")
    image[0, :, 3:5, 0] = 1.0
    return DataBundle(Split(image, None), Split(image, None))


def load_synthetic(entry, params: SyntheticParams, root: Path) -> DataBundle:
    """Learnable random data: the target depends on the mean of each sample's features (multilabel:
    each label on a random projection of them)."""
    rng = np.random.RandomState(params.seed)
    total = params.num_samples + params.num_test
    x = rng.normal(size=(total, *params.shape)).astype("float32")
    score = x.reshape(total, -1).mean(axis=1) * np.sqrt(x[0].size)  # ~N(0, 1)
    score = score + rng.normal(scale=params.noise, size=total)
    if params.task == "regression":
        y = (3.0 * score + 1.0).astype("float32")
    elif params.task == "binary":
        y = (score > 0).astype("float32")
    elif params.task == "multilabel":  # label k: the sign of the features' own random projection k
        features = x.reshape(total, -1)
        projections = rng.normal(size=(features.shape[1], params.num_classes)) / np.sqrt(features.shape[1])
        evidence = features @ projections + rng.normal(scale=params.noise, size=(total, params.num_classes))
        y = (evidence > 0).astype("float32")
    else:
        edges = np.quantile(score, np.linspace(0, 1, params.num_classes + 1)[1:-1])
        y = np.digitize(score, edges)
        y = to_onehot(y, params.num_classes) if params.labels == "onehot" else y.astype("int64")
    scaling = []
    if params.pixels:  # the same signal as pixels 0-255, as an image dataset stores them
        brightness = score.reshape(-1, *[1] * len(params.shape))  # the class evidence: how bright an image is
        x = np.clip(np.round(127.5 + 25.0 * x + 45.0 * brightness), 0, 255).astype("uint8")
        scaling = pixel_scaling(255)
    train = Split(x[: params.num_samples], y[: params.num_samples])
    test = Split(x[params.num_samples :], y[params.num_samples :]) if params.num_test else None
    classes = {"classification": params.num_classes, "multilabel": params.num_classes, "binary": 2}.get(params.task)
    return DataBundle(train, test, num_classes=classes, input_preprocessing=scaling)


def load_random(entry, params: RandomParams, root: Path) -> DataBundle:
    """Named arrays of random draws (7.1: `np.random.random((1000, 64))`, `np.random.randint(1, 10000,
    size=(1000, 100))`, one-hot answers); the same seed gives the same arrays."""
    rng = np.random.default_rng(params.seed)
    total = params.num_samples + params.num_test

    def draw(spec) -> np.ndarray:
        shape = (total, *spec.shape)
        if spec.onehot:
            return to_onehot(rng.integers(0, spec.onehot, size=total), spec.onehot)
        if spec.distribution == "integers":
            # drawn as int64 and then cast: NumPy draws no integers of a float dtype (0/1 labels as float32)
            return rng.integers(int(spec.low), int(spec.high), size=shape).astype(spec.dtype or "int32")
        dtype = "float64" if spec.dtype == "float64" else "float32"
        if spec.distribution == "normal":
            values = rng.standard_normal(shape, dtype=dtype) * spec.std + spec.mean
        else:
            values = spec.low + (spec.high - spec.low) * rng.random(shape, dtype=dtype)
        return values.astype(spec.dtype or "float32", copy=False)

    x = {name: draw(spec) for name, spec in params.inputs.items()}
    y = {name: draw(spec) for name, spec in params.targets.items()}
    cut = params.num_samples
    train = Split({k: v[:cut] for k, v in x.items()}, {k: v[:cut] for k, v in y.items()})
    test = Split({k: v[cut:] for k, v in x.items()}, {k: v[cut:] for k, v in y.items()}) if params.num_test else None
    return DataBundle(train, test)
