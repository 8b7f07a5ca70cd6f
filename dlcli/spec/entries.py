"""`{Name: {arguments}}` items of a spec list (layers, callbacks), parsed once into an `Entry`.

A layer list item is `Dense: {units: 10}`, `Flatten` (no arguments), a wrapped layer
(`Bidirectional: {layer: {LSTM: {units: 32}}}`), or `Pretrained: {network: vgg16}` (a
keras.applications network as one layer); `weights` and `trainable` may stand beside the name.
Checking imports neither Keras nor TensorFlow: the names come from `spec.keras_names`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, ValidationError, field_validator

from dlcli.registry import unknown_name_message
from dlcli.spec.base import StrictModel
from dlcli.spec.keras_names import LAYERS

PRETRAINED = "Pretrained"
LAYER_EXTRAS = ("weights", "trainable")

# Callbacks a spec may name, and the arguments dlcli sets itself because they write into the run.
CALLBACKS = {
    "EarlyStopping": (),
    "ModelCheckpoint": ("filepath",),
    "ReduceLROnPlateau": (),
    "TensorBoard": ("log_dir",),
    "CSVLogger": ("filename", "append"),
    "TerminateOnNaN": (),
}


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


def parse_callback(item: Any) -> Entry:
    if isinstance(item, Entry):
        return item
    name, arguments, _ = _split(item, "callback", ())
    if name not in CALLBACKS:
        raise ValueError(unknown_name_message("callback", name, CALLBACKS))
    for key in CALLBACKS[name]:
        if key in arguments:
            raise ValueError(f"{name}.{key} is set by dlcli: it writes into the run directory")
    check_arguments(name, arguments)
    return Entry(name, dict(arguments))


def check_arguments(name: str, arguments: dict[str, Any]) -> None:
    """Argument names and values Keras would refuse, checked without importing Keras."""
    from dlcli.spec.arguments import check_arguments as check

    check(name, arguments)


def _serialise(entry: Entry) -> Any:
    return entry.to_yaml()


LayerEntry = Annotated[Entry, PlainValidator(parse_layer), PlainSerializer(_serialise)]
CallbackEntry = Annotated[Entry, PlainValidator(parse_callback), PlainSerializer(_serialise)]
