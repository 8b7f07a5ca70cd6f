"""Epoch time of each chapter 6 experiment on this machine, from its own spec's model.

    python bench/epoch_times.py [--steps 20] [NAME...]

Builds each experiment's model as dlcli does, times `--steps` training steps and as many
validation batches on random inputs of the experiment's shape (the arithmetic does not depend on
the values), and extrapolates to the book's epoch. Jena: 500 training steps of 128 windows plus one
pass over the 98,559 validation windows (770 batches). IMDB sequences: 20,000 training reviews and
5,000 validation reviews (validation_split=0.2) per epoch. The input pipelines are measured
apart (bench/series_pipeline.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

RECIPES = ["jena-dense", "jena-gru", "jena-gru-dropout", "jena-stacked-gru", "jena-gru-reversed",
           "jena-bidirectional-gru", "jena-conv1d", "jena-conv1d-gru", "imdb-embedding", "imdb-simplernn",
           "imdb-lstm", "imdb-lstm-reversed", "imdb-bidirectional-lstm", "imdb-conv1d"]


def batch_for(spec, rng):
    """(inputs, targets, training steps, validation batches) of one epoch of the experiment."""
    batch = spec.fit.batch_size
    if spec.data.name == "imdb":
        x = rng.integers(1, spec.data.num_words, (batch, spec.data.maxlen)).astype("int32")
        y = rng.integers(0, 2, (batch, 1)).astype("float32")
        return x, y, -(-20000 // batch), -(-5000 // batch)
    length = len(range(0, spec.data.lookback, spec.data.step))
    x = rng.standard_normal((batch, length, 14)).astype("float32")
    return x, rng.standard_normal((batch, 1)).astype("float32"), 500, 770


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("names", nargs="*", default=RECIPES)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlcli.datasets.base import DataBundle, Split
    from dlcli.backend import import_keras
    from dlcli.models import build_model
    from dlcli.models.compiling import compile_model
    from dlcli.spec import load_spec

    keras = import_keras()
    rng = np.random.default_rng(0)
    print(f"{'experiment':24s} {'train step':>10s} {'val batch':>10s} {'epoch':>8s} {'epochs':>6s} {'total':>8s}")
    for name in args.names:
        spec, _ = load_spec(name)
        keras.utils.set_random_seed(0)
        x, y, steps, val_batches = batch_for(spec, rng)
        model = build_model(spec, DataBundle(Split(x[:1], None), None))
        compile_model(model, spec.compile)
        model.train_on_batch(x, y)
        model.test_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_on_batch(x, y)
        train_step = (time.perf_counter() - start) / args.steps
        start = time.perf_counter()
        for _ in range(args.steps):
            model.test_on_batch(x, y)
        val_batch = (time.perf_counter() - start) / args.steps
        epoch = steps * train_step + val_batches * val_batch
        total = epoch * spec.fit.epochs
        print(f"{name:24s} {train_step * 1000:8.0f}ms {val_batch * 1000:8.0f}ms {epoch:6.0f}s "
              f"{spec.fit.epochs:6d} {total / 60:6.1f}min")


if __name__ == "__main__":
    main()
