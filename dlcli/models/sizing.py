"""How many weights a layer will make, counted from its arguments and input shape before Keras
allocates them, so that a model too large for memory is one line naming its layer, not an
allocation that fails (or the machine swapping) halfway through building.

Only the layers whose weights grow with their arguments are counted: Dense, Embedding, the
convolutions and the recurrent layers (and those wrapped in Bidirectional or TimeDistributed).
`validate` counts what is known without the data (an Embedding; a Dense after a Dense, whose
input size is the first one's units); building counts every layer on its real input shape.
The model's float32 weights may take at most DLCLI_MAX_MODEL_BYTES (default 4 GiB); training
needs about four times that (gradients, and two slots per weight for Adam or RMSprop's one).
"""

from __future__ import annotations

import math
import os

from dlcli.errors import SpecError

DEFAULT_MAX_MODEL_BYTES = 4 * 2**30
BYTES_PER_WEIGHT = 4  # float32
GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def max_model_bytes() -> int:
    """The bound on the model's weights: DLCLI_MAX_MODEL_BYTES, else DEFAULT_MAX_MODEL_BYTES."""
    try:
        return int(os.environ.get("DLCLI_MAX_MODEL_BYTES") or DEFAULT_MAX_MODEL_BYTES)
    except ValueError:
        raise SpecError("DLCLI_MAX_MODEL_BYTES must be a whole number of bytes "
                        f"(default {DEFAULT_MAX_MODEL_BYTES:,})") from None


def weight_count(entry, input_shape: tuple) -> int:
    """The weights the layer of `entry` (a spec Entry) makes on samples of `input_shape` (no batch
    axis); 0 for a layer that is not counted or an input size not known before the data."""
    name, arguments = entry.name, entry.arguments
    if name == "Embedding":
        return _number(arguments.get("input_dim")) * _number(arguments.get("output_dim"))
    if name in ("Bidirectional", "TimeDistributed") and hasattr(arguments.get("layer"), "arguments"):
        inner_shape = input_shape[1:] if name == "TimeDistributed" else input_shape
        return (2 if name == "Bidirectional" else 1) * weight_count(arguments["layer"], inner_shape)
    channels_first = arguments.get("data_format") == "channels_first"
    features = _number(input_shape[0 if channels_first else -1]) if input_shape else 0
    bias = 0 if arguments.get("use_bias") is False else 1
    if name == "Dense":
        return (features + bias) * _number(arguments.get("units"))
    if name in GATES:
        units = _number(arguments.get("units"))
        if name == "GRU" and arguments.get("reset_after", True):
            bias *= 2  # separate input and recurrent biases
        return GATES[name] * units * (features + units + bias)
    rank = next((int(digit) for digit in "123" if f"{digit}D" in name), 0)
    if not rank or "Conv" not in name or "LSTM" in name:
        return 0
    kernel = _kernel_size(arguments.get("kernel_size"), rank)
    filters = _number(arguments.get("filters"))
    multiplier = _number(arguments.get("depth_multiplier", 1))
    if name.startswith("Separable"):
        return kernel * features * multiplier + features * multiplier * filters + bias * filters
    if name.startswith("Depthwise"):
        return kernel * features * multiplier + bias * features * multiplier
    return kernel * features * filters // max(_number(arguments.get("groups", 1)), 1) + bias * filters


def _number(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _kernel_size(value, rank: int) -> int:
    sizes = value if isinstance(value, (list, tuple)) else [value] * rank
    return math.prod(_number(size) for size in sizes)


# Layers whose output has as many features (last axis) as their input.
SAME_FEATURES = {"Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "GaussianNoise",
                 "GaussianDropout", "AlphaDropout", "BatchNormalization", "LayerNormalization", "Rescaling",
                 "Normalization", "Masking", "RepeatVector", "Add", "Subtract", "Multiply", "Average", "Maximum",
                 "Minimum"}
SAME_FEATURES_PREFIXES = ("MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling", "UpSampling",
                          "ZeroPadding", "Cropping", "SpatialDropout")


def output_features(entry, features: int | None) -> int | None:
    """The size of the layer's last output axis, from its input's; None where it takes the data
    (or a Flatten of unknown dimensions) to know. Lets `validate` count weights without Keras."""
    name, arguments = entry.name, entry.arguments
    if arguments.get("data_format") == "channels_first":
        return None
    if name == "Dense" or name in GATES:
        return _number(arguments.get("units")) or None
    if name == "Embedding":
        return _number(arguments.get("output_dim")) or None
    if name.startswith("Depthwise"):
        return features * _number(arguments.get("depth_multiplier", 1)) if features else None
    if "Conv" in name and "LSTM" not in name:
        return _number(arguments.get("filters")) or None
    if name in ("Bidirectional", "TimeDistributed") and hasattr(arguments.get("layer"), "arguments"):
        inner = output_features(arguments["layer"], features)
        concatenated = name == "Bidirectional" and arguments.get("merge_mode", "concat") == "concat"
        return inner * 2 if inner and concatenated else inner
    if name in SAME_FEATURES or name.startswith(SAME_FEATURES_PREFIXES):
        return features
    return None


class SizeBudget:
    """The weights of a model, layer by layer, within max_model_bytes()."""

    def __init__(self, partial: bool = False) -> None:
        self.limit = max_model_bytes()
        self.weights = 0
        self.partial = partial  # counting only what is known before the data: a lower bound

    def over(self, entry, input_shape: tuple) -> str | None:
        """Count the layer's weights; what is wrong if the model now passes the bound."""
        count = weight_count(entry, tuple(input_shape))
        self.weights += count
        if self.weights * BYTES_PER_WEIGHT <= self.limit:
            return None
        model = f"{'at least ' if self.partial else ''}{self.weights:,} ({_size(self.weights * BYTES_PER_WEIGHT)}"
        return (f"{entry.name} makes {count:,} weights ({_size(count * BYTES_PER_WEIGHT)}), the model {model}; "
                f"training needs about 4 times that): more than DLCLI_MAX_MODEL_BYTES={_size(self.limit)}; make the "
                "layer smaller, or raise the bound if the machine has the memory")

    def add(self, entry, input_shape: tuple, where: str) -> None:
        """Count the layer's weights before Keras builds it; a SpecError at `where` past the bound."""
        problem = self.over(entry, input_shape)
        if problem:
            raise SpecError(f"{where}: {problem}")


def check_sequence(entries, features: int | None) -> list[tuple[tuple, str]]:
    """A layer stack's weights, as far as they are known before the data (`validate`): the
    first layer past the bound, as (('layers', index), message)."""
    budget = SizeBudget(partial=True)
    for index, entry in enumerate(entries):
        problem = budget.over(entry, (features,) if features else ())
        if problem:
            return [(("layers", index), problem)]
        features = output_features(entry, features)
    return []


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} bytes"
