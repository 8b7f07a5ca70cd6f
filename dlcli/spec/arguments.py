"""Layer and callback arguments checked against Keras' signatures, without importing Keras.

The tables come from `spec.keras_names` (generated from the installed Keras). Only what is certain
is refused: an argument the class does not take, and a string value that is not one of the names
Keras looks it up in (activation, initializer, regularizer, constraint, padding, callback mode),
or a size Keras refuses (units/filters <= 0; `units: num_classes` is resolved when the model is built). Values given as configs (mappings), lists, None or
`Entry` (a wrapped layer, checked when it was parsed) are left to Keras.
"""

from __future__ import annotations

from typing import Any

from dlcli.registry import did_you_mean, unknown_name_message
from dlcli.spec.keras_names import (
    ACTIVATIONS,
    CALLBACK_ARGUMENTS,
    CONSTRAINTS,
    INITIALIZERS,
    LAYER_ARGUMENTS,
    PADDINGS,
    POSITIVE_INTEGERS,
    REGULARIZERS,
)

# Keras' monitor callbacks warn and fall back to "auto" for any other mode: refused here instead.
MONITOR_MODES = ("auto", "max", "min")

# `units: num_classes`: a layer of a sequential model as wide as the data has classes (a text_file's
# characters), resolved when the model is built (models.sequential).
NUM_CLASSES = "num_classes"

# The names a string argument is looked up in, by argument name or by the end of it.
_NAMED = {"activation": ACTIVATIONS, "recurrent_activation": ACTIVATIONS}
_SUFFIXES = (("_initializer", INITIALIZERS), ("_regularizer", REGULARIZERS), ("_constraint", CONSTRAINTS))


def check_arguments(name: str, arguments: dict[str, Any]) -> None:
    """Raise ValueError for an argument `name` does not take, or a value Keras would refuse."""
    allowed = LAYER_ARGUMENTS.get(name)
    is_layer = allowed is not None
    if allowed is None:
        allowed = CALLBACK_ARGUMENTS.get(name)
        if allowed is None:  # not a Keras class dlcli knows the signature of
            return
    for key, value in arguments.items():
        if key not in allowed:
            raise ValueError(f"{name}: unknown argument '{key}'{did_you_mean(str(key), allowed)}")
        if value is None:
            continue
        if is_layer:
            _check_layer_value(name, key, value)
        elif key == "mode" and value not in MONITOR_MODES:
            raise ValueError(f"{name}: {unknown_name_message('mode', str(value), MONITOR_MODES)}")


def _names_for(key: str):
    names = _NAMED.get(key)
    if names is None:
        for suffix, table in _SUFFIXES:
            if key.endswith(suffix):
                return table
    return names


def _check_layer_value(name: str, key: str, value: Any) -> None:
    if isinstance(value, str):
        names = _names_for(key)
        if names is not None and value not in names:
            raise ValueError(f"{name}: unknown {key} '{value}'{did_you_mean(value, names)}")
        if key == "padding" and name in PADDINGS and value.lower() not in PADDINGS[name]:
            raise ValueError(f"{name}: {unknown_name_message('padding', value, PADDINGS[name])}")
    if key == "units" and value == NUM_CLASSES:
        return
    if key in POSITIVE_INTEGERS.get(name, ()) and not isinstance(value, bool) and (
            not isinstance(value, int) or value <= 0):
        either = f" or {NUM_CLASSES}" if key == "units" else ""
        raise ValueError(f"{name}: {key} must be a positive integer{either} (got {value!r})")
