"""The model-kind seam: a kind whose model is a keras.Model subclass (own call and compute_loss, no
input_shape, weights only once built) trains, describes, saves and evaluates unchanged; data
without targets (y=None) goes through fit, validation and evaluation; dicts of inputs reach any
kind that says it takes them."""

from __future__ import annotations

import functools
import json
from typing import Literal

import numpy as np
import pytest

from conftest import TINY_SPEC, write

pytestmark = pytest.mark.training


@functools.lru_cache(maxsize=None)
def subclasses() -> dict[str, type]:
    """Tiny subclassed models: an autoencoder whose loss needs no targets (it has get_config, so it
    saves), one without get_config, and one that takes a dict of named inputs."""
    from dlcli.backend import import_keras

    keras = import_keras()

    @keras.saving.register_keras_serializable(package="dlcli_tests")
    class TinyAutoencoder(keras.Model):
        def __init__(self, units: int = 2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.encode = keras.layers.Dense(units, activation="tanh")
            self.decode = None

        def build(self, input_shape):
            self.encode.build(input_shape)
            self.decode = keras.layers.Dense(input_shape[-1])
            self.decode.build((None, self.units))

        def call(self, x):
            return self.decode(self.encode(x))

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            if y is not None:  # its kind says it takes no targets: none may reach it
                raise ValueError("targets reached a model whose kind takes none")
            return keras.ops.mean(keras.ops.square(x - y_pred))  # it rebuilds its inputs

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class NoConfig(keras.Model):
        def __init__(self, width, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(width)

        def call(self, x):
            return self.dense(x)

    class Images(keras.Model):  # a Conv2D first: it cannot take flat samples
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, x):
            return self.conv(x)

    class Named(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(keras.ops.concatenate([inputs["a"], inputs["b"]], axis=-1))

    class AddsLoss(keras.Model):  # Keras' compute_loss, compiled without a loss: a layer's add_loss is all
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            output = self.dense(x)
            self.add_loss(keras.ops.mean(keras.ops.square(output)))
            return output

    return {"TinyAutoencoder": TinyAutoencoder, "NoConfig": NoConfig, "Images": Images, "Named": Named,
            "AddsLoss": AddsLoss}


@pytest.fixture(autouse=True)
def seam_kinds(monkeypatch):
    """Kinds of the subclasses above, registered for one test only (the registry is restored after
    it). The spec schema's union is fixed at import, so the tests hand build_checked and the
    trainer a spec whose `model` is one of these."""
    from dlcli.models import MODEL_KINDS, ModelKind, register_kind
    from dlcli.spec.base import StrictModel

    monkeypatch.setattr(MODEL_KINDS, "_items", dict(MODEL_KINDS._items))
    monkeypatch.setattr(MODEL_KINDS, "_names", dict(MODEL_KINDS._names))

    class SeamModel(StrictModel):
        type: Literal["seam_autoencoder", "seam_no_config", "seam_images", "seam_named", "seam_named_refused"]

    builders = {"seam_autoencoder": ("TinyAutoencoder", {"takes_targets": False}),
                "seam_no_config": ("NoConfig", {}), "seam_images": ("Images", {}),
                "seam_named": ("Named", {"named_data": True}), "seam_named_refused": ("Named", {})}
    for name, (class_name, fields) in builders.items():
        make = (lambda class_name: lambda model_spec, bundle: subclasses()[class_name](
            **({"width": 3} if class_name == "NoConfig" else {})))(class_name)
        register_kind(name, ModelKind(SeamModel, make, custom_objects=subclasses, **fields))


def spec_of(workdir, kind: str, data: str = "{name: synthetic, num_samples: 48, num_test: 20, shape: [6], num_classes: 3}",
            compile_: str = "{optimizer: {name: adam, learning_rate: 0.01}, loss: mse}"):
    from dlcli.models import MODEL_KINDS
    from dlcli.spec.loading import load_spec

    text = TINY_SPEC.replace("data: {name: synthetic, num_samples: 96, num_test: 32, shape: [6], num_classes: 3}",
                             f"data: {data}").replace(
        "compile: {optimizer: {name: adam, learning_rate: 0.01}, loss: categorical_crossentropy, metrics: [accuracy]}",
        f"compile: {compile_}")
    spec, _ = load_spec(str(write(workdir / f"{kind}.yaml", text)))
    return spec.model_copy(update={"model": MODEL_KINDS.get(kind).spec(type=kind)})  # for the sequential section


def test_a_subclassed_model_is_built_on_the_data_shape(workdir):
    from dlcli import datasets
    from dlcli.training.building import build_checked

    spec = spec_of(workdir, "seam_autoencoder")
    model = build_checked(spec, datasets.load(spec.data))
    assert not hasattr(model, "input_shape")  # what build_checked used to read
    assert model.count_params() == 6 * 2 + 2 + 2 * 6 + 6  # built: run.json's params can be counted
    assert model.optimizer is not None


def test_a_subclassed_model_that_cannot_take_the_data_is_a_one_line_spec_error(workdir):
    from dlcli import datasets
    from dlcli.errors import SpecError
    from dlcli.training.building import build_checked

    spec = spec_of(workdir, "seam_images")
    with pytest.raises(SpecError) as refused:
        build_checked(spec, datasets.load(spec.data))
    message = str(refused.value)
    assert len(message.splitlines()) == 1 and "(6,)" in message and "synthetic" in message


def test_a_subclass_without_get_config_leaves_a_note_instead_of_model_json(workdir):
    from dlcli import datasets
    from dlcli.models.describing import describe
    from dlcli.runs import Run
    from dlcli.training.building import build_checked

    spec = spec_of(workdir, "seam_no_config")
    model = build_checked(spec, datasets.load(spec.data))
    run = Run.create("described")
    files = describe(model, run)
    assert files["config"].startswith("not written: ") and len(files["config"].splitlines()) == 1
    assert not (run.path / "model.json").exists()
    assert files["summary"] == "summary.txt" and (run.path / "summary.txt").read_text().strip()
    run.release()


def test_a_subclassed_model_saves_and_loads_with_its_kinds_classes(workdir):
    from dlcli import datasets
    from dlcli.models.saving import load_model
    from dlcli.training.building import build_checked

    spec = spec_of(workdir, "seam_autoencoder")
    bundle = datasets.load(spec.data)
    model = build_checked(spec, bundle)
    model.fit(bundle.train.x, epochs=1, batch_size=16, verbose=0)  # x only: y=None
    model.save(workdir / "model.keras")
    loaded = load_model(workdir / "model.keras")
    assert type(loaded).__name__ == "TinyAutoencoder"
    for saved, restored in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    np.testing.assert_allclose(loaded.predict(bundle.test.x, verbose=0), model.predict(bundle.test.x, verbose=0))


def test_a_kind_without_targets_trains_validates_and_evaluates_on_inputs_alone(workdir):
    """The synthetic data has labels; the kind's loss needs none, so fit, validation and the test
    evaluation all run on x alone, and the test loss is evaluated, not replaced by predictions."""
    from dlcli import datasets
    from dlcli.runs import Run
    from dlcli.training.stopping import StopRequest
    from dlcli.training.building import build_checked
    from dlcli.training.trainer import Trainer

    spec = spec_of(workdir, "seam_autoencoder")
    bundle = datasets.load(spec.data)
    model = build_checked(spec, bundle)
    run = Run.create("labels-free")
    with StopRequest() as stop:
        outcome = Trainer(spec, bundle, run, stop, verbose=0).run_protocol(model)
    assert outcome.history["epoch"] == [1, 2, 3] and len(outcome.history["val_loss"]) == 3
    expected = float(np.mean(np.square(bundle.test.x - model.predict(bundle.test.x, verbose=0))))
    assert outcome.metrics["test_loss"] == pytest.approx(expected, rel=1e-5)
    assert json.loads((run.path / "history.json").read_text())["loss"] == outcome.history["loss"]
    run.release()


def test_a_split_without_targets_is_evaluated_for_a_model_with_its_own_loss(workdir):
    from dlcli import datasets
    from dlcli.datasets import DataBundle, Split
    from dlcli.datasets.base import array_stream
    from dlcli.training.data import computes_own_loss, evaluate_split, inputs_only
    from dlcli.training.building import build_checked

    spec = spec_of(workdir, "seam_autoencoder")
    bundle = datasets.load(spec.data)
    model = build_checked(spec, bundle)
    assert computes_own_loss(model)
    assert set(evaluate_split(model, Split(bundle.test.x, None), 8)) == {"test_loss"}
    adds_loss = subclasses()["AddsLoss"]()
    adds_loss.compile(optimizer="sgd", loss=None)
    assert evaluate_split(adds_loss, Split(bundle.test.x, None), 8)["test_loss"] > 0
    assert inputs_only(bundle).train.y is None and inputs_only(bundle).test.y is None
    stream = inputs_only(DataBundle(train=array_stream(bundle.train), test=None)).train
    batch = next(iter(stream.one_pass(16)))
    assert tuple(batch.shape) == (16, 6)  # the inputs alone, no (x, y) pair


def test_dicts_of_inputs_reach_a_kind_that_says_it_takes_them(workdir):
    from dlcli import datasets
    from dlcli.errors import SpecError
    from dlcli.training.building import build_checked

    named = ("{name: random, num_samples: 32, num_test: 8, inputs: {a: {shape: [3]}, b: {shape: [2]}}, "
             "targets: {out: {shape: [1]}}}")
    spec = spec_of(workdir, "seam_named", data=named)
    bundle = datasets.load(spec.data)
    model = build_checked(spec, bundle)
    assert model.count_params() == 5 + 1
    refused = spec_of(workdir, "seam_named_refused", data=named)
    with pytest.raises(SpecError, match="named inputs"):
        build_checked(refused, bundle)
