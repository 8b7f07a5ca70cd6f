"""What a backend cannot run, derived from a spec's features: one list, read by `dlcli list`
(where each experiment runs) and by train before anything runs (exit 2)."""

from __future__ import annotations

from typing import Any, Callable

from dlcli.backend import BACKENDS, wanted
from dlcli.errors import UsageError

# What a backend cannot run: (backend, a dotted key of the spec, a test of its value, why). Every
# kind of feature the shipped experiments use was trained on tiny data on JAX and torch (Keras
# 3.15.1, JAX 0.10.2, torch 2.13 CPU): Conv2D/SeparableConv2D/BatchNormalization/augmentation
# layers, Embedding/Conv1D/LSTM/GRU/SimpleRNN/Bidirectional with recurrent dropout, graph models
# with several inputs and outputs, k-fold with retraining, tf.data streams of image folders and
# series, review texts (TextVectorization) with GloVe, the naive baseline, a frozen and a
# fine-tuned VGG16, cached features, sweeps, ensembles, Grad-CAM and filters, every callback the
# experiments name (TensorBoard's histograms and projector, ActivationLogger), mixed precision and
# determinism. All ran, so no spec feature is refused today; torch with `jit_compile: true` runs,
# but torch.compile took 110 s for the tests' two-layer model (11 s eager).
LIMITS: list[tuple[str, str, Callable[[Any], bool], str]] = []


def unsupported(tree: dict, backend: str) -> str | None:
    """Why a spec (its YAML tree: a file's, unvalidated, or a resolved spec's) cannot run on
    `backend`, or None."""
    return next((why for name, key, needs, why in LIMITS if name == backend and needs(_value_at(tree, key))), None)


def _value_at(tree: Any, key: str) -> Any:
    """The value at a dotted key of a YAML tree, None where the tree has none."""
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def backends_for(tree: dict) -> list[str]:
    """The backends a spec runs on."""
    return [backend for backend in BACKENDS if unsupported(tree, backend) is None]


def refuse_unsupported(name: str, tree: dict) -> None:
    """A UsageError (exit 2) before anything runs when the chosen backend cannot run the spec
    `name` (`tree`: the resolved spec as YAML writes it)."""
    backend = wanted()
    why = unsupported(tree, backend)
    if why is not None:
        raise UsageError(f"{name} cannot run on {backend}: {why}; it runs on "
                         f"{', '.join(backends_for(tree)) or 'no backend'} (--backend NAME)")
