"""Which data a fit trains and validates on (inputs alone for a kind that takes no targets), and
evaluating a model on one split."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace
from typing import Any

import numpy as np

from dlcli.datasets import DataBundle, Split
from dlcli.datasets.base import Stream, array_stream
from dlcli.training.evaluation import batches_of, per_sample_losses


def validation_split(bundle: DataBundle, validation) -> tuple[Split | Stream, Split | Stream | None]:
    """(train, validation) for kinds none, holdout (first N, 3.7), split (last fraction), test, dataset."""
    train = bundle.train
    if validation.kind == "dataset":  # build_checked made sure there is one
        return train, bundle.validation
    if validation.kind == "holdout":
        if validation.size >= len(train):
            raise ValueError(f"fit.validation.size {validation.size} leaves no training data ({len(train)} samples)")
        return train.take(slice(validation.size, None)), train.take(slice(0, validation.size))
    if validation.kind == "split":
        cut = int(len(train) * (1 - validation.fraction))  # Keras' validation_split takes the end
        return train.take(slice(0, cut)), train.take(slice(cut, None))
    if validation.kind == "test":
        return train, bundle.test
    return train, None


def inputs_only(bundle: DataBundle) -> DataBundle:
    """The bundle without targets (y=None), for a kind whose loss needs none (a VAE's): arrays keep
    their inputs, a Stream's batches lose their targets."""

    def inputs(split: Split | Stream | None) -> Split | Stream | None:
        if split is None or isinstance(split, Split):
            return split if split is None else Split(split.x, None)
        return replace(split, make=lambda *args, **kwargs: split.make(*args, **kwargs).map(lambda x, *targets: x))

    return replace(bundle, train=inputs(bundle.train), test=inputs(bundle.test), validation=inputs(bundle.validation))


def computes_own_loss(model) -> bool:
    """Whether the model computes its own loss: its class overrides Keras' `compute_loss` or
    `test_step`, or it was compiled without a loss (its layers add theirs in `call`, `add_loss`).
    Such a model is evaluated on inputs alone, its loss needing no targets."""
    from dlcli.backend import import_keras

    keras = import_keras()
    overrides = any(getattr(type(model), name) is not getattr(keras.Model, name) for name in ("compute_loss", "test_step"))
    return overrides or (getattr(model, "compiled", False) and getattr(model, "loss", None) is None)


def as_stream(split: Split | Stream) -> Stream:
    """One data path for fit: arrays become a Stream too."""
    return split if isinstance(split, Stream) else array_stream(split)


def evaluate_split(model, split: Split | Stream, batch_size: int, prefix: str = "test_", callbacks=(),
                   verbose: int = 0) -> dict[str, Any]:
    """Metrics of a model on one split. A split without targets is evaluated when the model computes
    its own loss (a VAE), else only run (the line detector)."""
    with contextlib.redirect_stdout(sys.stderr):  # progress never mixes with --json output
        if isinstance(split, Split) and split.y is None and not computes_own_loss(model):
            output = np.asarray(model.predict(split.x, verbose=0))
            return {"output": float(output.ravel()[0])} if output.size == 1 else {"output": output.tolist()}
        with naming_bad_files(split):
            if isinstance(split, Stream):
                scores = model.evaluate(batches_of(split, batch_size), verbose=verbose, return_dict=True,
                                        callbacks=list(callbacks))
            else:
                scores = model.evaluate(split.x, split.y, batch_size=batch_size, verbose=verbose,
                                        return_dict=True, callbacks=list(callbacks))
            scores = per_sample_losses(model, split, batch_size, scores, callbacks)  # Keras: per batch
    return {f"{prefix}{key}": float(value) for key, value in scores.items()}


@contextlib.contextmanager
def naming_bad_files(*streams):
    """TensorFlow reports an undecodable image without its file name: find it and say so."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        from dlcli.datasets.image_folder import first_bad_file

        culprit = first_bad_file([s for s in streams if isinstance(s, Stream) and s.files])
        if culprit is None:
            raise
        raise ValueError(culprit) from error
