"""Every loss dlcli stores from an evaluation is the mean over samples, the outputs' own too.

Keras 3 (3.15 here) averages a multi-output model's per-output losses (`digit_loss`) per batch,
not per sample: `CompileLoss` updates each output's `Mean` with `sample_weight=y_pred.shape[0]`,
the static batch size, which is None in a traced step whose batches may be partial, so every
batch counts once (the trackers came with keras-team/keras#20023; #19363 had fixed the total
`loss` the same way, with the dynamic shape). With a partial last batch the outputs' losses
then no longer add up to the total: 0.1130 + 0.5 x 0.0527 against a `loss` of 0.1488.

Whole batches weigh the same however Keras counts them, and one batch is its own mean: so the
outputs' losses are taken from two evaluations, the whole batches and the partial one, weighed
by their sample counts. This stays right if Keras weighs them properly one day.

A tf.data pipeline of unknown length has the same flaw once more: Keras runs one step past its
end, and that empty step counts as a batch of each output's loss (0), so a Stream's batches are
given their number (`batches_of`).

Training has the flaw too (each pass ends in a partial batch), and a training epoch cannot be
taken again: so `PerSampleTraining` keeps each output's loss itself, beside Keras, from the very
predictions each step trains on, weighing every batch's loss by its number of samples as Keras
weighs the total `loss`. It reads nothing of Keras' per-output averages, so Keras fixing them
changes nothing; the model keeps nothing of it (not in its compile config, not in model.keras).
"""

from __future__ import annotations

from typing import Any


def output_loss_names(scores: dict[str, Any], prefix: str = "") -> list[str]:
    """The per-output losses among Keras' results: `digit_loss`, not the total `loss`."""
    return [key for key in scores if key.startswith(prefix) and key.endswith("_loss") and key != f"{prefix}loss"]


def per_sample_losses(model, split, batch_size: int, scores: dict[str, Any], callbacks=()) -> dict[str, Any]:
    """`scores` (Keras' evaluation of `split` in batches of `batch_size`) with each output's
    loss replaced by its mean over samples; unchanged when there is no partial batch, or no
    compiled loss (a model that computes its own, as a VAE, names its own `*_loss` metrics)."""
    names = output_loss_names(scores) if getattr(model, "loss", None) is not None else []
    partial = len(split) % batch_size
    whole = len(split) - partial
    if not names or not partial or not whole:  # one batch, or whole batches only: already per sample
        return scores
    parts = [_evaluate(model, part, batch_size, callbacks) for part in _whole_and_partial(split, batch_size)]
    exact = {name: (whole * parts[0][name] + partial * parts[1][name]) / len(split) for name in names}
    return {**scores, **exact}


def batches_of(stream, batch_size: int):
    """A Stream's batches for an evaluation, one pass, with their number known to tf.data."""
    return stream.one_pass(batch_size)


def _whole_and_partial(split, batch_size: int) -> tuple:
    """The whole batches of a split and its last, partial one: arrays (a Split) or a Stream's batches."""
    from dlcli.datasets.base import Split

    whole_batches = len(split) // batch_size
    if isinstance(split, Split):
        cut = whole_batches * batch_size
        return split.take(slice(0, cut)), split.take(slice(cut, None))
    batches = batches_of(split, batch_size)
    return batches.take(whole_batches), batches.skip(whole_batches)


def _evaluate(model, part, batch_size: int, callbacks) -> dict[str, float]:
    from dlcli.datasets.base import Split

    if isinstance(part, Split):
        scores = model.evaluate(part.x, part.y, batch_size=batch_size, verbose=0, return_dict=True,
                                callbacks=list(callbacks))
    else:
        scores = model.evaluate(part, verbose=0, return_dict=True, callbacks=list(callbacks))
    return {key: float(value) for key, value in scores.items()}


def per_sample_validation_class():
    """A Keras callback that puts each output's validation loss per sample into the epoch's logs,
    before the callbacks after it (early stopping, checkpoints, the history) read them."""
    from dlcli.backend import import_keras

    keras = import_keras()

    class PerSampleValidation(keras.callbacks.Callback):
        def __init__(self, validation, batch_size: int):
            super().__init__()
            self.validation, self.batch_size = validation, batch_size

        def on_epoch_end(self, epoch, logs=None):
            if logs is None or getattr(self.model, "loss", None) is None or not output_loss_names(logs, "val_"):
                return  # no compiled loss (a VAE's own): no output losses to correct
            scores = {key.removeprefix("val_"): value for key, value in logs.items() if key.startswith("val_")}
            exact = per_sample_losses(self.model, self.validation, self.batch_size, scores)
            logs.update({f"val_{key}": value for key, value in exact.items() if key in output_loss_names(scores)})

    return PerSampleValidation


def per_sample_training_class():
    """A Keras callback that puts each output's training loss per sample into the epoch's logs,
    before the callbacks after it (early stopping, checkpoints, the history) read them."""
    from dlcli.backend import import_keras

    keras = import_keras()

    class PerSampleTraining(keras.callbacks.Callback):
        """Wraps the model's `compute_loss` (Keras' hook for a step's loss) during `fit`: each
        training step also adds its outputs' losses, times its samples, to a `Mean` per output.
        The means live here, not in the model: nothing is saved with it, and no key of theirs
        reaches the logs or the progress bar."""

        def __init__(self):
            super().__init__()
            self.means = {}

        def on_train_begin(self, logs=None):
            losses = _output_losses(self.model)
            self.means = {name: keras.metrics.Mean(name=f"{name}_loss") for name in losses}
            if losses:
                self.model.compute_loss = _counting(self.model.compute_loss, losses, self.means)
                self.model.make_train_function(force=True)  # a step traced before would not count

        def on_epoch_begin(self, epoch, logs=None):
            for mean in self.means.values():
                mean.reset_state()

        def on_epoch_end(self, epoch, logs=None):
            for name, mean in self.means.items():
                # count 0: no step came through compute_loss (another Keras): leave Keras' figure
                if logs is not None and f"{name}_loss" in logs and float(mean.count) > 0:
                    logs[f"{name}_loss"] = float(mean.result())

        def on_train_end(self, logs=None):
            if self.means:
                del self.model.compute_loss  # the class's own again

    return PerSampleTraining


def _output_losses(model) -> dict:
    """{output: its loss object} of a model with a loss per named output; {} otherwise (one
    output's loss is the total `loss`, which Keras already takes per sample)."""
    from dlcli.backend import import_keras

    keras = import_keras()
    losses = {name: loss for name, loss in (model.loss or {}).items() if loss is not None} \
        if isinstance(model.loss, dict) else {}
    if len(losses) < 2:
        return {}
    return {name: _as_loss(keras, loss) for name, loss in losses.items()}


def _as_loss(keras, identifier):
    """The Loss Keras' CompileLoss makes of a loss: a function (`categorical_crossentropy`) goes
    into a LossFunctionWrapper (target and prediction shapes matched, a mean over the batch).
    Keras exports that class only by its saved name, hence `deserialize`."""
    loss = keras.losses.get(identifier)
    if isinstance(loss, keras.losses.Loss):
        return loss
    return keras.losses.deserialize({"class_name": "LossFunctionWrapper", "config": {
        "fn": keras.saving.serialize_keras_object(loss), "name": getattr(loss, "__name__", None)}})


def _counting(compute_loss, losses: dict, means: dict):
    """`compute_loss` that also adds each output's loss of a training step to its mean, weighed by
    the step's samples (the dynamic batch size: a partial batch weighs less, an empty one nothing)."""
    from dlcli.backend import import_keras

    ops = import_keras().ops

    def counted(x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training and isinstance(y, dict) and isinstance(y_pred, dict):
            for name, loss in losses.items():
                weight = sample_weight.get(name) if isinstance(sample_weight, dict) else sample_weight
                means[name].update_state(loss(y[name], y_pred[name], weight),
                                         sample_weight=ops.shape(y_pred[name])[0])
        return compute_loss(x, y, y_pred, sample_weight, training=training)

    return counted
