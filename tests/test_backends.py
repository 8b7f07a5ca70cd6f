"""`--backend`: the same spec on TensorFlow, JAX and torch, recorded in run.json and used again by
the commands that read the run; Grad-CAM through the backend-neutral gradient; refusals.

Keras' backend is fixed per process and pytest's is TensorFlow, so JAX and torch run in
subprocesses (`dlcli` on the same interpreter).
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlcli
from conftest import TINY_SPEC, write

pytestmark = pytest.mark.training

REPOSITORY = Path(dlcli.__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def forget_the_choice(monkeypatch):
    """This process's --backend and recorded backend as they were before the test (the choice of
    one command would otherwise outlive it in this process, which runs the other tests)."""
    from dlcli import backend

    monkeypatch.setattr(backend, "_CHOSEN", None)
    monkeypatch.setattr(backend, "_RECORDED", None)


def installed(backend: str):
    """A parameter that is skipped, with the reason, when the backend's library is not installed."""
    missing = importlib.util.find_spec(backend) is None
    return pytest.param(backend, marks=pytest.mark.skipif(missing, reason=f"{backend} is not installed "
                                                                           f"(pip install -e '.[{backend}]')"))


def dlcli_process(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """`dlcli ARGS` in a fresh interpreter (its own Keras backend), in the test's working folder."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")])}
    environment.pop("KERAS_BACKEND", None)  # set by this process's own Keras import
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "dlcli", *args], capture_output=True, text=True,
                          timeout=timeout, env=environment)


def trained(spec: Path, *args: str) -> dict:
    result = dlcli_process("train", str(spec), "--json", "-q", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_info(run_dir: str) -> dict:
    return json.loads((Path(run_dir) / "run.json").read_text())


@pytest.mark.parametrize("backend", [installed("jax"), installed("torch")])
def test_the_tiny_spec_gives_comparable_metrics_on_each_backend(run_cli, tiny_spec, backend):
    on_tensorflow = json.loads(run_cli("train", str(tiny_spec), "--json", "-q").stdout)
    other = trained(tiny_spec, "--backend", backend)
    info = run_info(other["run_dir"])
    assert info["backend"] == backend and info["versions"]["backend"] == backend and backend in info["versions"]
    assert info["compilation"] == {"jit_compile": backend == "jax", "precision": "float32"}
    assert run_info(on_tensorflow["run_dir"])["compilation"]["jit_compile"] is False
    # Each backend draws its own initial weights from the seed: close, not equal.
    assert other["metrics"]["test_loss"] == pytest.approx(on_tensorflow["metrics"]["test_loss"], abs=0.25)
    assert other["metrics"]["test_accuracy"] == pytest.approx(on_tensorflow["metrics"]["test_accuracy"], abs=0.3)


def test_keras_backend_is_honoured_and_resume_uses_the_runs_backend(workdir):
    pytest.importorskip("jax")
    write(workdir / "stop.py", """
        import os, signal
        import keras

        class StopOnce(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0 and not os.path.exists("stopped"):
                    open("stopped", "w").close()
                    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first epoch
        """)
    spec = write(workdir / "tiny.yaml", TINY_SPEC.replace("callbacks:\n", "callbacks:\n  - Custom: {path: stop.py:StopOnce}\n"))
    result = dlcli_process("train", str(spec), "--json", "-q", env={"KERAS_BACKEND": "jax"})
    assert result.returncode == 130, result.stderr
    run_dir = json.loads(result.stdout)["run_dir"]
    assert run_info(run_dir)["backend"] == "jax"
    resumed = dlcli_process("resume", run_dir, "--json", "-q")  # no KERAS_BACKEND: the run's own backend
    assert resumed.returncode == 0, resumed.stderr
    info = run_info(run_dir)
    assert info["status"] == "completed" and info["resumes"][-1]["backend"] == "jax"
    assert info["resumes"][-1]["differences"] == []


GRADIENTS = """
import json, numpy as np
from dlcli.backend import import_keras
from dlcli.backend.gradients import value_and_weight_gradients
from dlcli.viz.gradcam import gradcam_heatmap

keras = import_keras()
model = keras.saving.load_model("model.keras")
image = np.load("image.npy")
heatmap, chosen, _ = gradcam_heatmap(model, image, "last_conv")
target = keras.ops.convert_to_tensor(np.array([[0.0, 1.0]], "float32"))
loss, _, gradients = value_and_weight_gradients(
    lambda: (keras.losses.categorical_crossentropy(target, model(image))[0], None), model.trainable_variables)
print(json.dumps({"backend": keras.backend.backend(), "chosen": chosen, "heatmap": heatmap.tolist(),
                  "loss": float(keras.ops.convert_to_numpy(loss)),
                  "gradients": [keras.ops.convert_to_numpy(g).tolist() for g in gradients]}))
"""


@pytest.mark.parametrize("backend", [installed("jax"), installed("torch")])
def test_gradcam_and_weight_gradients_agree_with_tensorflow(workdir, capsys, backend):
    from dlcli.backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                              keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="last_conv"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    model.save(workdir / "model.keras")
    image = np.zeros((1, 12, 12, 1), "float32")
    image[0, 2:5, 7:10] = 1.0  # a bright patch: the evidence
    np.save(workdir / "image.npy", image)
    (workdir / "gradients.py").write_text(GRADIENTS)
    runpy.run_path("gradients.py")  # here, on TensorFlow
    on_tensorflow = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run([sys.executable, "gradients.py"], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    other = json.loads(result.stdout.strip().splitlines()[-1])
    assert on_tensorflow["backend"] == "tensorflow" and other["backend"] == backend
    assert other["chosen"] == on_tensorflow["chosen"]
    heatmap = np.array(on_tensorflow["heatmap"])
    assert np.argmax(other["heatmap"]) == np.argmax(heatmap) and heatmap.max() == 1.0
    np.testing.assert_allclose(other["heatmap"], heatmap, atol=1e-4)
    assert other["loss"] == pytest.approx(on_tensorflow["loss"], rel=1e-5)
    for theirs, ours in zip(other["gradients"], on_tensorflow["gradients"], strict=True):
        np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-6)


def test_an_experiment_the_backend_cannot_run_is_refused_before_any_run(run_cli, tiny_spec, workdir, monkeypatch):
    from dlcli.backend import limits

    limit = ("tensorflow", "fit.batch_size", lambda size: size == 16, "a limit made for this test")
    monkeypatch.setattr(limits, "LIMITS", [*limits.LIMITS, limit])
    result = run_cli("train", str(tiny_spec))
    assert result.exit_code == 2
    assert "cannot run on tensorflow: a limit made for this test" in result.stderr
    assert "runs on jax, torch" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "runs").exists()
    listed = {row["name"]: row["backends"] for row in json.loads(run_cli("list", "--json").stdout)["experiments"]}
    assert listed["digits-convnet"] == ["tensorflow", "jax", "torch"]


def test_backend_choices_that_cannot_be_met_are_exit_2(run_cli, tiny_spec, workdir, monkeypatch):
    from dlcli import backend

    assert backend.import_keras().backend.backend() == "tensorflow"  # as in every test of this process
    assert run_cli("train", str(tiny_spec), "--backend", "theano").exit_code == 2
    result = run_cli("train", str(tiny_spec), "--backend", "jax")  # this process runs Keras on TensorFlow
    assert result.exit_code == 2 and "already running on tensorflow" in result.stderr
    assert not (workdir / "runs").exists()
    result = dlcli_process("train", str(tiny_spec), env={"KERAS_BACKEND": "theano"})
    assert result.returncode == 2 and "KERAS_BACKEND=theano" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (workdir / "runs").exists()
    # As if torch were not installed and Keras not yet imported:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    backend.choose("torch")
    monkeypatch.delitem(sys.modules, "keras")
    with pytest.raises(dlcli.errors.UsageError, match=r"pip install -e '\.\[torch\]'"):
        backend.import_keras()


@pytest.mark.parametrize("args", [["--help"], ["list"], ["validate", "digits-convnet"], ["train", "--help"]])
def test_light_commands_import_no_backend(args):
    code = ("import sys\nfrom dlcli.cli import main\nsys.argv = ['dlcli', *%r]\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint('HEAVY', [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules])\n"
            % (args,))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=environment).stdout
    assert "HEAVY []" in out, out


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_keras_on_tensorflow_does_not_load_jax_yet_jax_still_imports():
    # tf.lite imports JAX whenever it is installed; dlcli's TensorFlow processes skip that cost
    code = ("import sys; from dlcli.backend import import_keras; keras = import_keras(); "
            "print(keras.backend.backend(), 'jax' in sys.modules); import jax; print(jax.numpy.ones(2).sum())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "KERAS_BACKEND": "tensorflow"}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tensorflow", "False", "2.0"]
