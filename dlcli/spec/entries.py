"""`{Name: {arguments}}` items of a spec list (layers, callbacks), parsed once into an `Entry`.

A layer list item is `Dense: {units: 10}`, `Flatten` (no arguments), a wrapped layer
(`Bidirectional: {layer: {LSTM: {units: 32}}}`), or `Pretrained: {network: vgg16}` (a
keras.applications network as one layer); `weights` and `trainable` may stand beside the name.
Checking imports neither Keras nor TensorFlow: the names come from `spec.keras_names`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, ValidationError, field_validator

from dlcli.registry import did_you_mean, unknown_name_message
from dlcli.spec import MAX_SAMPLE_LENGTH, MAX_SAMPLE_TEMPERATURES, SAMPLE_LENGTH, SAMPLE_TEMPERATURES
from dlcli.spec.base import StrictModel
from dlcli.spec.keras_names import LAYERS

PRETRAINED = "Pretrained"
LAYER_EXTRAS = ("weights", "trainable")

# Arguments dlcli sets itself because they write into the run directory (a spec may not).
SET_BY_DLCLI = {
    "ModelCheckpoint": ("filepath",),
    "TensorBoard": ("log_dir",),
    "CSVLogger": ("filename", "append"),
}
# Keras callbacks a spec cannot use, and what to do instead.
REFUSED_CALLBACKS = {
    "BackupAndRestore": "dlcli saves a resume state every epoch: continue a run with `dlcli resume RUN`",
    "LambdaCallback": "its hooks are Python functions: write a Callback class and name it with "
                      "`Custom: {path: file.py:ClassName}`",
    "OrbaxCheckpoint": "it needs Orbax and writes outside the run directory: use ModelCheckpoint",
}
# dlcli's own callbacks, each with the pydantic model of its arguments (see below).
DLCLI_CALLBACKS = ("ActivationLogger", "TextSampler", "Custom")


@dataclass(frozen=True)
class Entry:
    """One parsed item: the Keras class name and its arguments (a wrapped layer is an Entry too)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    weights: Any = None  # layers only: a named set (glove.6B.100d) or explicit arrays
    trainable: bool | None = None

    def to_yaml(self) -> Any:
        """The item as it is written in YAML (the inverse of parsing)."""
        arguments = {key: value.to_yaml() if isinstance(value, Entry) else value
                     for key, value in self.arguments.items()}
        extras = {key: value for key, value in (("weights", self.weights), ("trainable", self.trainable))
                  if value is not None}
        return {self.name: arguments, **extras}


class PretrainedLayer(StrictModel):
    """`Pretrained: {network: vgg16}` in a layer list: a keras.applications network as one layer (5.20)."""

    network: str
    include_top: bool = False
    weights: Literal["imagenet"] | None = "imagenet"
    trainable: bool = Field(False, description="False freezes the whole network (5.20)")
    trainable_from: str | None = Field(None, description="train this layer and the ones after it (5.22)")

    @field_validator("network")
    @classmethod
    def _known(cls, network: str) -> str:
        from dlcli.pretrained import APPLICATIONS, network_key

        if network_key(network) not in APPLICATIONS:
            raise ValueError(unknown_name_message("pretrained network", network, APPLICATIONS))
        return network_key(network)


def _split(item: Any, what: str, extras: tuple[str, ...]) -> tuple[str, Any, dict]:
    """(name, raw arguments, extras) of `{Name: {...}, extra: ...}` or a bare `Name`."""
    if isinstance(item, str):
        return item, {}, {}
    if not isinstance(item, dict):
        raise ValueError(f"a {what} is written as a one-key mapping like `{_EXAMPLES[what]}`")
    names = [key for key in item if key not in extras]
    if len(names) != 1:
        besides = f" besides {'/'.join(f'`{e}`' for e in extras)}" if extras else ""
        raise ValueError(f"a {what} has exactly one name{besides} (got {sorted(map(str, item))})")
    arguments = item[names[0]]
    if arguments is not None and not isinstance(arguments, dict):
        raise ValueError(f"the arguments of {names[0]} must be a mapping (got {arguments!r})")
    return str(names[0]), arguments or {}, {key: item[key] for key in extras if key in item}


_EXAMPLES = {"layer": "Dense: {units: 10}", "wrapped layer": "LSTM: {units: 32}",
             "callback": "EarlyStopping: {patience: 2}"}


def _is_layer(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in LAYERS


def parse_layer(item: Any, what: str = "layer") -> Entry:
    """A checked layer Entry; raises ValueError with the reason and the nearest valid name."""
    if isinstance(item, Entry):
        return item
    name, arguments, extras = _split(item, what, LAYER_EXTRAS)
    if name == PRETRAINED and what == "layer":
        try:
            arguments = PretrainedLayer.model_validate(arguments).model_dump()
        except ValidationError as error:
            raise ValueError("; ".join(
                f"{PRETRAINED}.{'.'.join(map(str, problem['loc']))}: {problem['msg'].removeprefix('Value error, ')}"
                for problem in error.errors())) from None
        return Entry(name, arguments, **extras)
    if name not in LAYERS:
        choices = [*LAYERS, PRETRAINED] if what == "layer" else LAYERS
        raise ValueError(unknown_name_message(what, name, choices))
    parsed = {key: parse_layer(value, "wrapped layer") if _is_layer(value) else value
              for key, value in arguments.items()}
    check_arguments(name, parsed)
    if "trainable" in extras:
        extras["trainable"] = bool(extras["trainable"])
    return Entry(name, parsed, **extras)


def callback_names() -> list[str]:
    """Every callback a spec may name: Keras' own and dlcli's."""
    from dlcli.spec.keras_names import CALLBACK_ARGUMENTS

    return sorted([*(name for name in CALLBACK_ARGUMENTS if name not in REFUSED_CALLBACKS), *DLCLI_CALLBACKS])


class ActivationLoggerArguments(StrictModel):
    """7.2.1's ActivationLogger: every layer's activations for validation samples, one .npz an epoch."""

    layers: list[str] | None = Field(None, description="layer names; default: every layer")
    samples: int = Field(1, ge=1, le=1000, description="the first N validation samples (the book: 1)")
    every: int = Field(1, ge=1, description="every N epochs")


class TextSamplerArguments(StrictModel):
    """8.7's samples after every epoch: from a random seed of the training text, text at each temperature."""

    length: int = Field(SAMPLE_LENGTH, ge=1, le=MAX_SAMPLE_LENGTH,
                        description=f"characters generated at each temperature (8.7: {SAMPLE_LENGTH})")
    temperatures: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        list(SAMPLE_TEMPERATURES), min_length=1, max_length=MAX_SAMPLE_TEMPERATURES,
        description="8.7's; sampled together, one batch")
    every: int = Field(1, ge=1, description="every N epochs")


class CustomArguments(StrictModel):
    """A keras.callbacks.Callback subclass from a Python file, with its constructor's arguments."""

    path: str = Field(description="FILE.py:ClassName, relative to the spec's folder")
    args: dict[str, Any] = {}

    @field_validator("path")
    @classmethod
    def _file_and_class(cls, path: str) -> str:
        if not re.fullmatch(r"[^:]+\.py:[A-Za-z_][A-Za-z0-9_]*", path):
            raise ValueError(f"write the file and the class as FILE.py:ClassName (got {path[:80]!r})")
        return path


def _check_schedule(arguments: dict) -> None:
    from dlcli.spec.keras_names import SCHEDULE_ARGUMENTS

    schedule = arguments.get("schedule")
    example = "schedule: {ExponentialDecay: {initial_learning_rate: 0.01, decay_steps: 10, decay_rate: 0.5}}"
    if not (isinstance(schedule, dict) and len(schedule) == 1 and isinstance(next(iter(schedule.values())), dict)):
        raise ValueError(f"LearningRateScheduler needs a schedule by name, e.g. `{example}`")
    name, schedule_arguments = next(iter(schedule.items()))
    if name not in SCHEDULE_ARGUMENTS:
        raise ValueError(f"LearningRateScheduler: {unknown_name_message('schedule', str(name), SCHEDULE_ARGUMENTS)}")
    for key in schedule_arguments:
        if key not in SCHEDULE_ARGUMENTS[name]:
            raise ValueError(f"{name}: unknown argument '{key}'{did_you_mean(str(key), SCHEDULE_ARGUMENTS[name])}")


def _argument_problem(name: str, problem: dict, known: list[str]) -> str:
    key = ".".join(map(str, problem["loc"]))
    if problem["type"] == "extra_forbidden":
        return f"{name}: unknown argument '{key}'{did_you_mean(key, known)}"
    return f"{name}.{key}: {problem['msg'].removeprefix('Value error, ')}"


def parse_callback(item: Any) -> Entry:
    if isinstance(item, Entry):
        return item
    name, arguments, _ = _split(item, "callback", ())
    if name in REFUSED_CALLBACKS:
        raise ValueError(f"{name} is not available in a spec: {REFUSED_CALLBACKS[name]}")
    if name not in callback_names():
        raise ValueError(unknown_name_message("callback", name, callback_names()))
    for key in SET_BY_DLCLI.get(name, ()):
        if key in arguments:
            raise ValueError(f"{name}.{key} is set by dlcli: it writes into the run directory")
    if name in DLCLI_CALLBACKS:
        model = {"ActivationLogger": ActivationLoggerArguments, "TextSampler": TextSamplerArguments,
                 "Custom": CustomArguments}[name]
        try:
            arguments = model.model_validate(arguments).model_dump(exclude_defaults=True)
        except ValidationError as error:
            raise ValueError("; ".join(_argument_problem(name, problem, list(model.model_fields))
                                       for problem in error.errors())) from None
        return Entry(name, dict(arguments))
    check_arguments(name, arguments)
    if name == "LearningRateScheduler":
        _check_schedule(arguments)
    return Entry(name, dict(arguments))


def check_arguments(name: str, arguments: dict[str, Any]) -> None:
    """Argument names and values Keras would refuse, checked without importing Keras."""
    from dlcli.spec.arguments import check_arguments as check

    check(name, arguments)


def _serialise(entry: Entry) -> Any:
    return entry.to_yaml()


LayerEntry = Annotated[Entry, PlainValidator(parse_layer), PlainSerializer(_serialise)]
CallbackEntry = Annotated[Entry, PlainValidator(parse_callback), PlainSerializer(_serialise)]
