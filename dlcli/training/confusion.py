"""The confusion matrix of a classifier on the test split, written into the run (confusion.json).

An optional part of a run, made after the test evaluation, for a model with one output whose
loss is a cross-entropy (categorical: one-hot labels; sparse categorical: integer labels; binary:
0/1 labels and one sigmoid unit). Rows are the true class, columns the predicted one (the
highest score; for one sigmoid unit, above 0.5, or above 0 for logits). It costs one more pass
of prediction over the test split. Whatever goes wrong, the run goes on: run.json's `confusion`
then says why there is none.
"""

from __future__ import annotations

from typing import Any

from dlcli.registry import name_key

CLASSIFIER_LOSSES = ("categoricalcrossentropy", "sparsecategoricalcrossentropy", "binarycrossentropy")


def classifier_loss(loss: Any) -> tuple[str, bool] | None:
    """(loss name key, from_logits) of a single-output cross-entropy loss; None for any other."""
    name, from_logits = loss, False
    if isinstance(loss, dict):
        name, from_logits = loss.get("name"), bool(loss.get("from_logits", False))
    key = name_key(name) if isinstance(name, str) else None
    return (key, from_logits) if key in CLASSIFIER_LOSSES else None


def predicted_and_true(model, split, batch_size: int):
    """(predicted scores, true labels) of every sample of a split, in one order: arrays, or a
    Stream's batches (an image folder), each batch predicted as it comes."""
    import numpy as np

    from dlcli.backend import import_keras
    from dlcli.datasets.base import Split
    from dlcli.training.evaluation import batches_of

    if isinstance(split, Split):
        return np.asarray(model.predict(split.x, batch_size=batch_size, verbose=0)), np.asarray(split.y)
    keras = import_keras()
    scores, labels = [], []
    for x, y in batches_of(split, batch_size).as_numpy_iterator():
        scores.append(keras.ops.convert_to_numpy(model.predict_on_batch(x)))
        labels.append(np.asarray(y))
    return np.concatenate(scores), np.concatenate(labels)


def confusion_matrix(scores, labels, binary_threshold: float | None = None) -> list[list[int]]:
    """Counts of (true class, predicted class): `labels` one-hot or integers, `scores` one column
    per class (argmax) or one sigmoid column (above `binary_threshold`)."""
    import numpy as np

    scores = np.asarray(scores).reshape(len(scores), -1)
    labels = np.asarray(labels)
    if binary_threshold is not None:
        predicted, classes = (scores[:, 0] > binary_threshold).astype("int64"), 2
    else:
        predicted, classes = scores.argmax(axis=1), scores.shape[1]
    true = labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] == classes and classes > 1 else \
        labels.reshape(len(labels)).astype("int64")
    if true.min(initial=0) < 0 or true.max(initial=0) >= classes:
        raise ValueError(f"labels outside the model's {classes} classes")
    return np.bincount(true * classes + predicted, minlength=classes * classes).reshape(classes, classes).tolist()


def confusion_record(model, split, batch_size: int, loss: Any, class_names: list | None) -> dict[str, Any] | None:
    """confusion.json's content for a single-output classifier; None for any other model."""
    kind = classifier_loss(loss)
    if kind is None or len(getattr(model, "outputs", None) or []) != 1:
        return None
    binary = kind[0] == "binarycrossentropy"
    scores, labels = predicted_and_true(model, split, batch_size)
    if binary and scores.reshape(len(scores), -1).shape[1] != 1:
        return None  # several sigmoid units: multi-label, no single predicted class
    matrix = confusion_matrix(scores, labels, (0.0 if kind[1] else 0.5) if binary else None)
    names = [str(name) for name in class_names] if class_names and len(class_names) == len(matrix) else \
        [str(index) for index in range(len(matrix))]
    correct = sum(matrix[index][index] for index in range(len(matrix)))
    return {"split": "test", "class_names": names, "matrix": matrix, "samples": len(labels),
            "accuracy": correct / len(labels) if len(labels) else None}


def write_confusion(run, model, split, batch_size: int, loss: Any, class_names: list | None) -> None:
    """confusion.json into the run (a writer), or run.json's `confusion` saying why there is none."""
    from dlcli.report.run_report import not_written
    from dlcli.runs import layout

    try:
        record = confusion_record(model, split, batch_size, loss, class_names)
    except Exception as error:  # noqa: BLE001  an optional part: any failure is a note, never a failed run
        run.update(confusion=not_written(error))
        return
    if record is None:
        run.update(confusion="none: the model is not a single-output classifier with a cross-entropy loss")
    else:
        run.write_json(layout.CONFUSION, record)
        if run.info.get("confusion"):  # an earlier training's note (before a resume): not so any more
            run.update(confusion=None)
