"""The `gan` kind (8.29-8.32): both networks learn in one step on every backend, the class filter
`data.classes`, a GAN trained and resumed through the CLI with its image grids in samples/, and
`dlcli generate images`. Tiny 24x24 grey images (the smallest the book's discriminator takes) and
4-filter networks keep each run to seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write
from test_backends import REPOSITORY, dlcli_process, installed
from test_resume import interrupt_at_epoch_end

pytestmark = pytest.mark.training

GAN_SPEC = """
seed: 3
data: {{name: mnist, classes: [1, 2]}}
model: {{type: gan, latent_dim: 4, generator_filters: 4, discriminator_filters: 4, samples_every: 2, samples_count: 4}}
compile: {{}}
fit: {{epochs: {epochs}, steps_per_epoch: 2, batch_size: 4}}
evaluate: false
"""


def tiny_mnist(workdir: Path, side: int = 24) -> dict:
    """mnist.npz of random 24x24 images where `data import mnist` stores it; labels 0-3 in turn."""
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (40, side, side), dtype="uint8"), "y_train": np.arange(40) % 4,
              "x_test": rng.integers(0, 256, (8, side, side), dtype="uint8"), "y_test": np.arange(8) % 4}
    (workdir / "data").mkdir(exist_ok=True)
    np.savez(workdir / "data" / "mnist.npz", **arrays)
    return arrays


# --------------------------------------------------------------------------- one step, every backend

ONE_STEP = """
import json, numpy as np
from types import SimpleNamespace
from dlcli.backend import import_keras
from dlcli.datasets.base import DataBundle, Split, pixel_scaling
from dlcli.models.gan import GanModel, build_gan, compile_gan
from dlcli.spec.schema import CompileSpec

keras = import_keras()
keras.utils.set_random_seed(1)
images = np.random.default_rng(0).integers(0, 256, (4, 24, 24, 1)).astype("uint8")
bundle = DataBundle(Split(images, None), None, input_preprocessing=pixel_scaling(255))
model_spec = GanModel(type="gan", latent_dim=4, generator_filters=4, discriminator_filters=4)
spec = SimpleNamespace(model=model_spec, compile=CompileSpec(), evaluate=False,
                       fit=SimpleNamespace(validation=SimpleNamespace(kind="none")))
model = build_gan(model_spec, bundle)
model(keras.Input((24, 24, 1)))
compile_gan(model, spec)
before = {net.name: [np.array(keras.ops.convert_to_numpy(v)) for v in net.trainable_variables]
          for net in (model.generator, model.discriminator)}
seeds = [np.array(keras.ops.convert_to_numpy(v)) for v in model.non_trainable_variables]  # the random draws' states
history = model.fit(images, batch_size=4, epochs=1, verbose=0).history  # one batch: one step
changed = {net.name: [not np.array_equal(old, keras.ops.convert_to_numpy(v))
                      for old, v in zip(before[net.name], net.trainable_variables)]
           for net in (model.generator, model.discriminator)}
changed["seed states"] = [not np.array_equal(old, keras.ops.convert_to_numpy(v))
                          for old, v in zip(seeds, model.non_trainable_variables)]
print(json.dumps({"backend": keras.backend.backend(), "changed": changed, "history": history,
                  "iterations": [int(keras.ops.convert_to_numpy(o.iterations)) for o in model.optimizer.optimizers]}))
"""


def one_step(workdir: Path, backend: str) -> dict:
    (workdir / "one_step.py").write_text(ONE_STEP)
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run([sys.executable, "one_step.py"], capture_output=True, text=True, env=environment,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["tensorflow", installed("jax"), installed("torch")])
def test_both_networks_learn_in_one_step(workdir, backend):
    """The book's `discriminator.trainable = False` recipe leaves the discriminator unchanged in
    Keras 3; here every weight of both networks moves in one step, each optimizer counts one step."""
    result = one_step(workdir, backend)
    assert result["backend"] == backend
    assert result["changed"]["generator"] and all(result["changed"]["generator"])
    assert result["changed"]["discriminator"] and all(result["changed"]["discriminator"])
    # the latent and noise draws and the Dropout masks move on (on JAX: kept from inside the gradient);
    # on torch, Keras' Dropout of an unseeded layer draws from torch's own generator, not its seed state
    seeds = result["changed"]["seed states"]
    assert len(seeds) == 2 and (all(seeds) if backend != "torch" else any(seeds))
    assert result["iterations"] == [1, 1]
    assert set(result["history"]) == {"d_loss", "g_loss"}
    assert all(0 < value[0] < 5 for value in result["history"].values())


def test_each_update_changes_its_own_network_only(monkeypatch):
    """8.32's two updates, each alone (the other optimizer's apply made a no-op): the discriminator's
    changes the discriminator and not the generator; the generator's, through the discriminator,
    changes the generator and leaves the discriminator as it was (the book's `trainable = False`)."""
    from types import SimpleNamespace

    from dlcli.backend import import_keras
    from dlcli.datasets.base import DataBundle, Split, pixel_scaling
    from dlcli.models.gan import GanModel, build_gan, compile_gan
    from dlcli.spec.schema import CompileSpec

    keras = import_keras()
    images = np.random.default_rng(0).integers(0, 256, (4, 24, 24, 1)).astype("uint8")
    model_spec = GanModel(type="gan", latent_dim=4, generator_filters=4, discriminator_filters=4)
    spec = SimpleNamespace(model=model_spec, compile=CompileSpec(), evaluate=False,
                           fit=SimpleNamespace(validation=SimpleNamespace(kind="none")))

    def moved_by(update: str) -> dict[str, bool]:
        model = build_gan(model_spec, DataBundle(Split(images, None), None, input_preprocessing=pixel_scaling(255)))
        model(keras.Input((24, 24, 1)))
        compile_gan(model, spec)
        networks = {"discriminator": model.discriminator, "generator": model.generator}
        other = model.optimizer.optimizers[1 if update == "discriminator" else 0]
        monkeypatch.setattr(other, "apply", lambda *args, **kwargs: None)
        before = {name: [keras.ops.convert_to_numpy(v).copy() for v in net.trainable_variables]
                  for name, net in networks.items()}
        model.gan_step(images)
        return {name: any(not np.array_equal(old, keras.ops.convert_to_numpy(v))
                          for old, v in zip(before[name], net.trainable_variables))
                for name, net in networks.items()}

    assert moved_by("discriminator") == {"discriminator": True, "generator": False}
    assert moved_by("generator") == {"discriminator": False, "generator": True}



FAST_TRANSPOSE = """
import json, numpy as np
import jax, jax.numpy as jnp
from dlcli.backend import import_keras
from dlcli.models.gan import gan_classes

keras = import_keras()
ours = gan_classes()["dlcli>Conv2DTranspose"](3, 4, strides=2, padding="same")
theirs = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")
x = np.random.default_rng(0).standard_normal((2, 6, 6, 5)).astype("float32")
ours.build(x.shape); theirs.build(x.shape); theirs.set_weights(ours.get_weights())
weights = np.random.default_rng(1).standard_normal((2, 12, 12, 3)).astype("float32")

def gradient(layer):
    def loss(values, x):
        return jnp.sum(layer.stateless_call(values, [], x)[0] * weights)
    return jax.grad(loss, argnums=(0, 1))

values = [v.value for v in ours.trainable_variables]
programs = {name: jax.jit(gradient(layer)).lower(values, x).as_text() for name, layer in (("ours", ours), ("keras", theirs))}
ours_gradients, keras_gradients = gradient(ours)(values, x), gradient(theirs)(values, x)
print(json.dumps({
    "input_dilated": {name: [line for line in text.splitlines() if "convolution" in line and "lhs_dilate = [1, 1]" not in line]
                      for name, text in programs.items()},
    "outputs_equal": bool(np.allclose(ours(x), theirs(x), atol=1e-6)),
    "gradients_close": [bool(np.allclose(a, b, rtol=1e-5, atol=1e-5))
                        for a, b in zip([*ours_gradients[0], ours_gradients[1]], [*keras_gradients[0], keras_gradients[1]])]}))
"""


@pytest.mark.parametrize("backend", [installed("jax")])
def test_the_generators_transposed_convolution_has_a_fast_gradient_on_jax(workdir, backend):
    """XLA's CPU computes a transposed convolution's kernel gradient as a convolution of a dilated
    input, some 100x slower (a step of the book's GAN: 50 s on JAX, 6 s on TensorFlow); the
    generator's layer takes it from the strided convolution instead: the same values and gradients,
    and no input-dilated convolution in the gradient's program."""
    (workdir / "fast_transpose.py").write_text(FAST_TRANSPOSE)
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run([sys.executable, "fast_transpose.py"], capture_output=True, text=True, env=environment,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    checked = json.loads(result.stdout.strip().splitlines()[-1])
    assert checked["outputs_equal"] and checked["gradients_close"] == [True, True, True]
    assert checked["input_dilated"]["keras"], "Keras' own gradient no longer dilates its input: drop the layer"
    assert checked["input_dilated"]["ours"] == []


# --------------------------------------------------------------------------- the class filter


def test_the_class_filter_keeps_only_those_classes(workdir):
    from dlcli import datasets
    from dlcli.datasets import params as p

    arrays = tiny_mnist(workdir)
    bundle = datasets.load(p.MnistParams(name="mnist", classes=[1, 2], labels="int"))
    kept_train = np.isin(arrays["y_train"], [1, 2])
    np.testing.assert_array_equal(bundle.train.x[..., 0], arrays["x_train"][kept_train])
    assert set(bundle.train.y.tolist()) == {1, 2} and set(bundle.test.y.tolist()) == {1, 2}
    assert len(bundle.test) == 4
    assert bundle.info["classes"] == {"kept": [1, 2], "names": ["1", "2"], "train_samples": 20, "test_samples": 4}
    limited = datasets.load(p.MnistParams(name="mnist", classes=[3], train_samples=2))
    assert len(limited.train) == 2 and limited.train.y.argmax(axis=1).tolist() == [3, 3]  # the first 2 of class 3


def test_a_class_filter_that_cannot_be_met_is_one_line(workdir, run_cli):
    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    unknown = run_cli("train", str(spec), "--set", "data.classes=[1, 10]")
    assert unknown.exit_code == 2 and len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr
    assert "data.classes" in unknown.stderr
    data = workdir / "data" / "mnist.npz"
    arrays = dict(np.load(data))
    np.savez(data, **{**arrays, "y_test": np.zeros(8, "int64")})  # no test sample of classes 1 and 2
    empty = run_cli("train", str(spec))
    assert empty.exit_code == 2 and len(empty.stderr.strip().splitlines()) == 1, empty.stderr
    assert "data.classes" in empty.stderr and "test" in empty.stderr
    assert not (workdir / "runs").exists() or not any((workdir / "runs").rglob("run.json"))


# --------------------------------------------------------------------------- through the CLI


def check_trained_run(run: Path, epochs: int = 1) -> None:
    """history of both losses; generated and real grids every 2 steps, of 4 tiles of 24x24 with 2-pixel margins."""
    from PIL import Image

    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == list(range(1, epochs + 1)) and len(history["d_loss"]) == len(history["g_loss"]) == epochs
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and "missing" not in info
    assert info["data_info"]["classes"]["kept"] == [1, 2]
    for step in range(2, 2 * epochs + 1, 2):
        for kind in ("generated", "real"):
            with Image.open(run / "samples" / f"{kind}-step-{step:06d}.png") as grid:
                assert grid.size == (50, 50) and grid.mode == "L"


def test_a_gan_trains_through_the_cli_with_its_samples(workdir, run_cli):
    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    check_trained_run(run)
    evaluated = run_cli("evaluate", str(run))  # a GAN has no test metric: one line, not Keras' "no loss"
    assert evaluated.exit_code == 2 and len(evaluated.stderr.strip().splitlines()) == 1, evaluated.stderr
    from PIL import Image

    Image.fromarray(np.zeros((24, 24), "uint8")).save(workdir / "shoe.png")
    predicted = run_cli("predict", str(run), str(workdir / "shoe.png"))  # it classifies nothing
    assert predicted.exit_code == 2 and "generate images" in predicted.stderr, predicted.stderr


def test_image_grids_that_cannot_be_written_never_fail_the_run(workdir, run_cli, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dlcli.viz.images.write_png", full_disk)  # what the grids are written with
    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads((Path(json.loads(result.stdout)["run_dir"]) / "run.json").read_text())
    assert info["status"] == "completed" and "No space left" in info["missing"]["samples/"]


@pytest.mark.parametrize("backend", [installed("jax")])
def test_a_gan_trains_through_the_cli_on_jax(workdir, backend):
    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    result = dlcli_process("train", str(spec), "--json", "-q", "--backend", backend, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    run = Path(json.loads(result.stdout)["run_dir"])
    check_trained_run(run)
    assert json.loads((run / "run.json").read_text())["backend"] == backend


def test_a_spec_the_gan_cannot_take_is_one_line(workdir, run_cli):
    tiny_mnist(workdir, side=16)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    small = run_cli("train", str(spec))
    assert small.exit_code == 2 and "24" in small.stderr and len(small.stderr.strip().splitlines()) == 1
    tiny_mnist(workdir)
    for override in ("evaluate=true", "compile.optimizer=adam", "compile.loss=mse", "compile.precision=mixed_bfloat16",
                     "model.generator_optimizer.name=nosuch"):
        refused = run_cli("train", str(spec), "--set", override)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (workdir / "runs").exists() or not any((workdir / "runs").rglob("run.json"))


def snapshot_arrays(run: Path) -> dict[str, np.ndarray]:
    """Every array of the run's latest resume snapshot: both networks' weights, every optimizer variable,
    and the other arrays of the state (the random draws' seed states)."""
    import h5py

    snapshot = run / "state" / json.loads((run / "state" / "latest.json").read_text())["snapshot"]
    arrays = {}
    with h5py.File(snapshot / "weights.weights.h5", "r") as stored:
        stored.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    with np.load(snapshot / "arrays.npz") as stored:
        arrays.update({f"arrays.npz/{name}": stored[name] for name in stored.files})
    return arrays


def test_a_gan_interrupted_and_resumed_equals_the_uninterrupted_run(workdir, run_cli):
    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=2))
    straight = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])

    with pytest.MonkeyPatch.context() as patch:  # undone alone: the workdir's own settings stay
        interrupt_at_epoch_end(patch, 1)
        stopped = run_cli("train", str(spec), "--json")
    assert stopped.exit_code == 130, stopped.stderr
    run = Path(json.loads(stopped.stdout)["run_dir"])
    resumed = run_cli("resume", str(run), "--json")
    assert resumed.exit_code == 0, resumed.stderr

    assert json.loads((run / "history.json").read_text()) == json.loads((straight / "history.json").read_text())
    ours, theirs = snapshot_arrays(run), snapshot_arrays(straight)
    assert ours.keys() == theirs.keys()
    assert any("generator" in name or "dense" in name for name in ours)
    iterations = [name for name in ours if name.startswith("optimizer") and ours[name].shape == ()]
    assert iterations and [int(ours[name]) for name in iterations] == [int(theirs[name]) for name in iterations]
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    check_trained_run(run, epochs=2)


STOP_ONCE = """
import os, signal
import keras

class StopOnce(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0 and not os.path.exists("stopped"):
            open("stopped", "w").close()
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first epoch
"""


@pytest.mark.parametrize("backend", [installed("jax")])
def test_a_gan_interrupted_and_resumed_on_jax_equals_the_uninterrupted_run(workdir, backend):
    """On JAX the step runs statelessly (backend.gradients.stateless_train_step): the weights, both
    optimizers' variables and the seed states it leaves are what the resume state saves and restores."""
    tiny_mnist(workdir)
    write(workdir / "stop.py", STOP_ONCE)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=2) + "callbacks:\n  - Custom: {path: stop.py:StopOnce}\n")
    (workdir / "stopped").touch()  # the straight run is not stopped
    straight = dlcli_process("train", str(spec), "--json", "-q", "--backend", backend, timeout=300)
    assert straight.returncode == 0, straight.stderr[-3000:]
    (workdir / "stopped").unlink()
    stopped = dlcli_process("train", str(spec), "--json", "-q", "--backend", backend, timeout=300)
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    run = Path(json.loads(stopped.stdout)["run_dir"])
    resumed = dlcli_process("resume", str(run), "--json", "-q", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    straight = Path(json.loads(straight.stdout)["run_dir"])
    assert json.loads((run / "run.json").read_text())["resumes"][-1]["backend"] == backend
    assert json.loads((run / "history.json").read_text()) == json.loads((straight / "history.json").read_text())
    ours, theirs = snapshot_arrays(run), snapshot_arrays(straight)
    assert ours.keys() == theirs.keys() and any(name.startswith("arrays.npz/seed") for name in ours)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    check_trained_run(run, epochs=2)


# --------------------------------------------------------------------------- generate images


def test_generate_images_writes_a_grid_of_the_requested_size(workdir, run_cli, tiny_spec):
    from PIL import Image

    tiny_mnist(workdir)
    spec = write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))
    run = Path(json.loads(run_cli("train", str(spec), "--json").stdout)["run_dir"])
    result = run_cli("generate", "images", str(run), "--count", "5", "--seed", "7", "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    path = Path(output["file"])
    assert path.parent == run / "samples" and output["image_size"] == [24, 24]
    with Image.open(path) as grid:  # 3 columns, 2 rows of 24 px tiles, 2 px apart
        assert grid.size == (3 * 24 + 2 * 2, 2 * 24 + 2) and grid.mode == "L"
        first = np.asarray(grid)
    again = run_cli("generate", "images", str(run), "--count", "5", "--seed", "7", "--json")
    with Image.open(json.loads(again.stdout)["file"]) as grid:
        np.testing.assert_array_equal(np.asarray(grid), first)  # the same seed, the same images
    out = workdir / "frogs.png"
    assert run_cli("generate", "images", "gan", "--out", str(out), "--count", "1").exit_code == 0  # the latest run
    with Image.open(out) as single:
        assert single.size == (24, 24)

    for option in (["--count", "0"], ["--seed", "-1"]):
        refused = run_cli("generate", "images", str(run), *option)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    other = Path(json.loads(run_cli("train", str(tiny_spec), "--json").stdout)["run_dir"])
    refused = run_cli("generate", "images", str(other))
    assert refused.exit_code == 2 and "gan" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (other / "samples").exists()


def test_the_class_filter_on_an_image_folder(workdir, run_cli):
    from dlcli import datasets
    from dlcli.datasets import params as p
    from test_image_training import image_folder

    folder = image_folder(workdir / "images")
    for split in ("train", "validation", "test"):  # a third class, dropped by the filter
        (folder / split / "dusk").mkdir()
        cv2_write(folder / split / "dusk" / "0.png")
    bundle = datasets.load(p.ImageFolderParams(name="image_folder", path=str(folder), image_size=(24, 24),
                                               label_mode="int", classes=["night", "dusk"]))
    assert bundle.class_names == ["dusk", "night"] and bundle.info["classes"] == {"kept": ["dusk", "night"]}
    assert (len(bundle.train), len(bundle.validation), len(bundle.test)) == (13, 5, 5)
    labels = np.concatenate([np.asarray(y) for _, y in bundle.test.make(8)])
    assert sorted(labels.tolist()) == [0, 1, 1, 1, 1]
    spec = write(workdir / "folder.yaml", f"""
        data: {{name: image_folder, path: {folder}, image_size: [24, 24], classes: [night, dawn]}}
        model: {{type: sequential, layers: [Flatten, {{Dense: {{units: 2, activation: softmax}}}}]}}
        compile: {{loss: categorical_crossentropy}}
        fit: {{epochs: 1}}
        """)
    refused = run_cli("train", str(spec))
    assert refused.exit_code == 2 and "dawn" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def cv2_write(path: Path) -> None:
    import cv2

    cv2.imwrite(str(path), np.full((20, 30, 3), 120, "uint8"))
