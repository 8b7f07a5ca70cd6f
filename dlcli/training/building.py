"""A spec's model, built and compiled, checked against the data it will train on: a spec that
does not fit its data is a SpecError (at its line of the spec: training.lifecycle.built) before
any run directory exists."""

from __future__ import annotations

import re
import warnings

from dlcli.backend import import_keras
from dlcli.datasets import DataBundle
from dlcli.errors import SpecError
from dlcli.models import build_model, compile_for
from dlcli.models.kind import kind_of


def build_checked(spec, bundle: DataBundle):
    """A compiled model; a spec that does not fit the data is a SpecError, before any run exists."""
    if spec.callback("TensorBoard") is not None:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise SpecError("callbacks: TensorBoard needs the tensorboard package: pip install tensorboard")
    kind = spec.fit.validation.kind
    if bundle.streamed and kind in ("holdout", "split", "kfold"):
        raise SpecError(f"fit.validation.kind: '{kind}' needs array data; dataset '{spec.data.name}' "
                        "is read from files: use 'dataset' (its validation/ folder), 'test' or 'none'")
    if kind == "holdout" and spec.fit.validation.size >= len(bundle.train):
        raise SpecError(f"fit.validation.size: {spec.fit.validation.size} leaves no training data "
                        f"(dataset '{spec.data.name}' has {len(bundle.train)} training samples)")
    if kind == "dataset" and bundle.validation is None:
        raise SpecError(f"fit.validation.kind: dataset '{spec.data.name}' has no validation split")
    takes = kind_of(spec)
    if isinstance(bundle.input_shape, dict) and not takes.named_data:
        raise SpecError(f"model.type: dataset '{spec.data.name}' gives named inputs "
                        f"({', '.join(bundle.input_shape)}): use a model of type graph")
    if bundle.target_names is not None and takes.takes_targets and not takes.named_data:
        raise SpecError(f"model.type: dataset '{spec.data.name}' gives named targets "
                        f"({', '.join(bundle.target_names)}): use a model of type graph with outputs of those names")
    model = build_model(spec, bundle)
    if hasattr(model, "input_shape"):  # a functional or Sequential model; a subclassed one has none
        if not isinstance(bundle.input_shape, dict):
            expected, given = tuple(model.input_shape[1:]), tuple(bundle.input_shape)
            if len(expected) != len(given) or any(e is not None and e != g for e, g in zip(expected, given)):
                raise SpecError(
                    f"model.input_shape: the model takes samples of shape {expected} but dataset "
                    f"'{spec.data.name}' gives {given}"
                )
        characters = bundle.info.get("vocabulary_size")  # a character model (text_file): one output per character
        if characters is not None and model.output_shape != (None, characters):
            raise SpecError(f"model.layers: the model gives samples of shape {model.output_shape[1:]} but the text of "
                            f"dataset '{spec.data.name}' has {characters} distinct characters to predict: end with "
                            f"Dense: {{units: num_classes, activation: softmax}} (num_classes: {characters} here)")
    else:
        built_on(model, bundle, spec.data.name)
    compile_for(model, spec)
    return model


def built_on(model, bundle: DataBundle, data_name: str) -> None:
    """Build a subclassed model (a kind's own keras.Model with `call`) by calling it symbolically on
    the data's sample shape: it has no input_shape to compare, its weights exist only once built
    (count_params, describing and the resume state need them), and a call that fails on this shape
    is a model that does not fit the data. A symbolic call draws no random numbers."""
    keras = import_keras()

    given = bundle.input_shape
    inputs = {name: keras.Input(shape=shape) for name, shape in given.items()} if isinstance(given, dict) \
        else keras.Input(shape=given)
    try:
        with warnings.catch_warnings():  # Keras warns of the unbuilt state before it raises: the error says it
            warnings.simplefilter("ignore")
            model(inputs)
    except Exception as error:  # noqa: BLE001  whatever Keras raises, the model does not take these samples
        # Keras wraps the layer's own complaint ("expected min_ndim=4, found ndim=2") in its advice
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).rpartition("Error encountered:")[2]
        reason = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
        raise SpecError(f"model.type: the model cannot take samples of shape {given} that dataset "
                        f"'{data_name}' gives ({reason[:200]})") from None
