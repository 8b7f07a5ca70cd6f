"""`type: sequential`: a keras.Sequential built from the YAML layer list."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import Field

from dlcli.errors import SpecError
from dlcli.backend import import_keras
from dlcli.models.kind import ModelKind, register_kind
from dlcli.models.sizing import SizeBudget, check_sequence
from dlcli.spec.arguments import NUM_CLASSES
from dlcli.spec.base import StrictModel
from dlcli.spec.entries import PRETRAINED, Entry, LayerEntry, PretrainedLayer


class SequentialModel(StrictModel):
    """A stack of Keras layers written in YAML (`keras.Sequential`)."""

    type: Literal["sequential"]
    input_shape: list[int | None] | None = Field(
        None, description="shape of one sample; taken from the data when omitted"
    )
    layers: list[LayerEntry] = Field(min_length=1, description=(
        "the layers in order; `units: num_classes` makes a layer as wide as the data has classes (a "
        "text_file's distinct characters), so the softmax of a character model follows its text"))


def with_num_classes(entry: Entry, num_classes: int | None) -> Entry:
    """The entry with `units: num_classes` (wrapped layers' too) made the data's number of classes,
    before the size budget counts its weights."""
    arguments = {}
    for key, value in entry.arguments.items():
        if isinstance(value, Entry):
            value = with_num_classes(value, num_classes)
        elif key == "units" and value == NUM_CLASSES and num_classes is not None:
            value = num_classes
        arguments[key] = value
    return replace(entry, arguments=arguments)


def _argument(keras, key: str, value: Any, where: str) -> Any:
    if isinstance(value, Entry):  # a wrapped layer: Bidirectional: {layer: {LSTM: {units: 32}}}
        return build_layer(value, f"{where}.{key}")
    if key == "units" and value == NUM_CLASSES:  # left by with_num_classes: not a sequential model's, or no classes
        raise SpecError(f"{where}.units: {NUM_CLASSES} needs a sequential model on data with classes; "
                        "give the number of units")
    if key.endswith("_regularizer") and isinstance(value, dict) and value and set(value) <= {"l1", "l2"}:
        # The book's regularizers.l2(0.001) is written `kernel_regularizer: {l2: 0.001}`.
        return keras.regularizers.L1L2(l1=value.get("l1", 0.0), l2=value.get("l2", 0.0))
    if isinstance(value, list) and key in ("kernel_size", "pool_size", "strides", "size", "dilation_rate"):
        return tuple(value)
    return value


def build_layer(entry: Entry, where: str):
    """One Keras layer from a layer Entry; bad arguments become a SpecError at `where`."""
    keras = import_keras()
    kwargs = {key: _argument(keras, key, value, f"{where}.{entry.name}") for key, value in entry.arguments.items()}
    if entry.trainable is not None:
        kwargs["trainable"] = entry.trainable
    try:
        return getattr(keras.layers, entry.name)(**kwargs)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{where}.{entry.name}: {error}") from None


def input_layers(bundle) -> list:
    """The layers that turn the dataset's stored inputs into what the network expects (pixels / 255):
    part of the saved model, so evaluate, predict and every visualisation feed raw inputs."""
    keras = import_keras()
    return [getattr(keras.layers, name)(**arguments, name=f"input_{name.lower()}")
            for name, arguments in bundle.input_preprocessing]


def build_sequential(model_spec, bundle):
    keras = import_keras()
    shape = tuple(model_spec.input_shape or bundle.input_shape)
    model = keras.Sequential([keras.Input(shape=shape), *input_layers(bundle)])
    budget = SizeBudget()
    for index, entry in enumerate(model_spec.layers):
        where = f"model.layers[{index}]"
        entry = with_num_classes(entry, bundle.num_classes)
        budget.add(entry, tuple(model.output_shape[1:]) if model.layers else shape, where)  # before Keras allocates
        if entry.name == PRETRAINED:
            incoming = tuple(model.output_shape[1:]) if model.layers else shape  # first layer: the input
            model.add(pretrained_layer(entry.arguments, incoming, where))
            continue
        layer = build_layer(entry, where)
        try:
            model.add(layer)
        except (TypeError, ValueError) as error:
            raise SpecError(f"{where}: cannot follow the previous layer's output: {error}") from None
        if isinstance(entry.weights, str):
            layer.set_weights([named_weights(entry.weights, layer, bundle, where)])
        elif entry.weights is not None:
            import numpy as np

            weights = [np.asarray(w, dtype="float32") for w in entry.weights]
            expected = [tuple(w.shape) for w in layer.get_weights()]
            if [w.shape for w in weights] != expected:
                raise SpecError(
                    f"{where}.weights: shapes {[w.shape for w in weights]} do not match the layer's {expected}"
                )
            layer.set_weights(weights)
    return model


def pretrained_layer(arguments: dict, input_shape: tuple, where: str):
    """A keras.applications network as one layer, frozen, or trainable from a named layer on."""
    from dlcli.pretrained import build_application

    options = PretrainedLayer.model_validate(arguments)
    network = build_application(options.network, include_top=options.include_top, weights=options.weights,
                                input_shape=input_shape)
    set_trainable(network, options.trainable, options.trainable_from, f"{where}.{PRETRAINED}")
    return network


def set_trainable(network, trainable: bool, trainable_from: str | None, where: str) -> None:
    """5.20: `conv_base.trainable = False`; 5.22: everything from `block5_conv1` on trains again."""
    if trainable_from is None:
        network.trainable = trainable
        return
    names = [layer.name for layer in network.layers]
    if trainable_from not in names:
        raise SpecError(f"{where}.trainable_from: no layer '{trainable_from}' in {network.name} "
                        f"(layers: {', '.join(names)})")
    network.trainable = True
    reached = False
    for layer in network.layers:
        reached = reached or layer.name == trainable_from
        layer.trainable = reached


def named_weights(name: str, layer, bundle, where: str):
    """`weights: glove.6B.100d` on an Embedding: GloVe vectors for the run's vocabulary (6.10-6.12)."""
    from dlcli.datasets.glove import glove_matrix

    keras = import_keras()
    if not isinstance(layer, keras.layers.Embedding):
        raise SpecError(f"{where}.weights: '{name}' applies to an Embedding layer")
    vocabulary = bundle.info.get("vocabulary")
    if not vocabulary:
        raise SpecError(f"{where}.weights: '{name}' needs a text dataset with a vocabulary (imdb_reviews)")
    return glove_matrix(name, vocabulary, layer.input_dim, layer.output_dim)


def check_sequential(model_spec) -> list[tuple[tuple, str]]:
    """What `validate` finds without Keras: a stack whose known weights pass the memory bound."""
    shape = model_spec.input_shape
    return check_sequence(model_spec.layers, shape[-1] if shape else None)


register_kind("sequential", ModelKind(SequentialModel, build_sequential, check=check_sequential))
