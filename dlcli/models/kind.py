"""What a model kind is, and the registry of kinds (imported by each kind's module)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from dlcli.registry import Registry


@dataclass(frozen=True)
class ModelKind:
    """What dlcli needs to know about one kind of model.

    `spec`: its pydantic spec class, with `type: Literal["<name>"]`. Where its models may have
        losses of their own (a VAE's, a GAN's, a graph whose every output names one), the class
        has a `gives_losses` property, True when they do: `compile.loss` may then stay unset.
    `build(model_spec, bundle)`: a fresh, uncompiled keras.Model for the dataset bundle.
        A kind with its own training step returns a keras.Model subclass overriding
        `train_step` / `compute_loss`: `fit`, callbacks, resume and saving then work unchanged.
        A model without `input_shape` (a subclass) is built by calling it once symbolically on
        the data's sample shape (training.building.build_checked); to be saved and loaded back it
        needs a `get_config` and its class in `custom_objects`.
    `compile(model, spec)`: compile it; default: the spec's `compile:` section.
    `custom_objects()`: the classes `keras.models.load_model` needs to reload a saved model.
    `check(model_spec)`: problems found without Keras, as (loc under `model`, message) pairs,
        reported by `dlcli validate` at their line (a graph's unknown node names, cycles...).
    `named_data`: its models take the data's dicts of named inputs and targets (the graph kind);
        other kinds are refused such data before anything is built.
    `takes_targets`: False for a kind whose loss needs no labels (a VAE's, computed in its own
        `compute_loss`): its models train, validate and evaluate on the inputs alone (y=None),
        whatever targets the dataset has.
    `run_callbacks`: "module:function" (imported only when a run trains), for callbacks the kind adds
        after the spec's on the process that writes the run: `function(run, spec, bundle)` returns
        [(part, callback)], each an optional part of the run named `part` (a GAN's image grids).
    """

    spec: type
    build: Callable[[Any, Any], Any]
    compile: Callable[[Any, Any], None] | None = None
    custom_objects: Callable[[], dict[str, type]] | None = None
    check: Callable[[Any], list[tuple[tuple, str]]] | None = None
    named_data: bool = False
    takes_targets: bool = True
    run_callbacks: str | None = None


MODEL_KINDS = Registry("model type")


def register_kind(name: str, kind: ModelKind) -> ModelKind:
    MODEL_KINDS.add(name, kind)
    return kind


def kind_of(spec) -> ModelKind:
    """The kind of the spec's `model` section."""
    return MODEL_KINDS.get(spec.model.type)


def build_model(spec, bundle):
    """A fresh, uncompiled Keras model for the spec's `model` section."""
    return MODEL_KINDS.get(spec.model.type).build(spec.model, bundle)


def compile_for(model, spec) -> None:
    """Compile with the kind's own rule, else the spec's `compile:` section."""
    kind = MODEL_KINDS.get(spec.model.type)
    if kind.compile is not None:
        kind.compile(model, spec)
        return
    from dlcli.models.compiling import compile_model

    compile_model(model, spec.compile)


def custom_objects() -> dict[str, type]:
    """Every kind's saved classes, for load_model."""
    objects: dict[str, type] = {}
    for _, kind in MODEL_KINDS.items():
        if kind.custom_objects is not None:
            objects.update(kind.custom_objects())
    return objects
