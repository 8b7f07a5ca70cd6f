"""Several targets from one label (7.3's multi-output models): the class itself, and groups of
classes, each a named target for an output of the same name."""

from __future__ import annotations

import numpy as np

from dlcli.datasets.base import DataBundle, Split, to_onehot
from dlcli.errors import SpecError


def group_index(groups: dict[str, list[int]], num_classes: int, head: str) -> np.ndarray:
    """For each class, the number of its group; every class must be in exactly one group."""
    index = np.full(num_classes, -1)
    for number, members in enumerate(groups.values()):
        for member in members:
            if not 0 <= member < num_classes:
                raise SpecError(f"data.heads.{head}: class {member} does not exist (classes 0-{num_classes - 1})")
            if index[member] != -1:
                raise SpecError(f"data.heads.{head}: class {member} is in two groups")
            index[member] = number
    missing = np.flatnonzero(index == -1)
    if missing.size:
        raise SpecError(f"data.heads.{head}: classes {', '.join(map(str, missing))} are in no group")
    return index


def with_heads(bundle: DataBundle, heads: dict, labels: str) -> DataBundle:
    """The bundle with its targets as {head: targets}; `info["heads"]` names each head's classes."""
    if bundle.streamed or bundle.num_classes is None:
        raise SpecError("data.heads: applies to labelled arrays (mnist, fashion_mnist, cifar10, digits)")
    count = bundle.num_classes
    indexes = {head: None if rule == "classes" else group_index(rule, count, head) for head, rule in heads.items()}

    def split_targets(split: Split | None) -> Split | None:
        if split is None or split.y is None:
            return split
        y = np.asarray(split.y)
        classes = y.argmax(axis=1) if y.ndim == 2 else y.astype("int64")
        targets = {}
        for head, index in indexes.items():
            values, size = (classes, count) if index is None else (index[classes], int(index.max()) + 1)
            targets[head] = to_onehot(values, size) if labels == "onehot" else values.astype("int64")
        return Split(split.x, targets)

    names = {head: (bundle.class_names if rule == "classes" else list(rule)) for head, rule in heads.items()}
    return DataBundle(split_targets(bundle.train), split_targets(bundle.test), num_classes=bundle.num_classes,
                      class_names=bundle.class_names, info={**bundle.info, "heads": names},
                      validation=split_targets(bundle.validation), input_preprocessing=bundle.input_preprocessing)
