"""dlcli in the shell: missing data refused before TensorFlow loads, completion, colour and progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write

# Stand-ins for the heavy libraries, first on PYTHONPATH: importing one, in the command or in any
# process it starts (--workers), leaves a file named after it. Refusing early is the point of not
# paying for TensorFlow (or Keras, or JAX, which the workers train on).
HEAVY = ("tensorflow", "keras", "jax")
STAND_IN = """
import os, pathlib
pathlib.Path(os.environ["IMPORTED_DIR"], __name__).touch()
raise ImportError(__name__ + " was imported")
"""


def probe(*args: str, env: dict | None = None) -> tuple[int, str, list[str]]:
    """The exit code of `dlcli ARGS` in a fresh process, its stderr, and the heavy libraries imported."""
    cwd = Path.cwd()
    for name in HEAVY:
        write(cwd / "stand-ins" / name / "__init__.py", STAND_IN)
    (cwd / "imported").mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "dlcli", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(cwd), "PYTHONPATH": str(cwd / "stand-ins"),
                               "IMPORTED_DIR": str(cwd / "imported"), **(env or {})})
    return done.returncode, done.stderr.strip(), sorted(path.name for path in (cwd / "imported").iterdir())


def interrupted_mnist_run(workdir: Path) -> Path:
    """A hand-made interrupted run of mnist-dense (its spec as `show` writes it, a model file)."""
    from dlcli.api import show
    from dlcli.runs.records import FORMAT

    run = workdir / "runs" / "mnist-dense" / "20261203-101500"
    write(run / "spec.yaml", show("mnist-dense"))
    write(run / "run.json", json.dumps({"status": "interrupted", "experiment": "mnist-dense", "backend": "tensorflow",
                                      "format": FORMAT}))
    write(run / "model.keras", "stand-in: never read, the data is refused first")
    return run


@pytest.mark.parametrize("args", [
    ["train", "mnist-dense"],
    ["train", "mnist-dense", "--workers", "2"],
    ["sweep", "mnist-dense", "--param", "fit.batch_size=64,128", "--metric", "test_accuracy"],
    ["visualize", "filters", "--model", "vgg16"],
])
def test_missing_data_or_weights_offline_is_one_line_before_tensorflow(args, workdir):
    code, stderr, imported = probe(*args)
    assert (code, imported) == (3, [])
    assert stderr.startswith("error: ") and len(stderr.splitlines()) == 1
    assert "DLCLI_OFFLINE is set" in stderr and "dlcli data import" in stderr
    assert not (workdir / "runs").exists() and not (workdir / "sweeps").exists()  # nothing half-made


@pytest.mark.parametrize("command", [["resume"], ["resume", "--workers", "2"]])
def test_a_run_whose_data_is_gone_is_refused_before_tensorflow(command, workdir):
    run = interrupted_mnist_run(workdir)
    code, stderr, imported = probe(command[0], str(run), *command[1:])
    assert (code, imported) == (3, []), stderr
    assert "dataset 'mnist' is not in the cache" in stderr
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


def test_a_pretrained_layer_without_its_weights_is_refused_before_tensorflow(workdir):
    spec = write(workdir / "frozen.yaml", """
        data: {name: digits}
        model: {type: sequential, layers: [{Pretrained: {network: mobilenetv2}}, Flatten, {Dense: {units: 10}}]}
        compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
        fit: {epochs: 1, batch_size: 8}
        """)
    code, stderr, imported = probe("train", str(spec))
    assert (code, imported) == (3, [])
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in stderr


def test_online_a_dataset_without_a_url_is_still_refused_before_tensorflow(workdir):
    code, stderr, imported = probe("train", "cats-dogs-scratch", env={"DLCLI_OFFLINE": "0"})
    assert (code, imported) == (3, []) and "dlcli data split cats-vs-dogs" in stderr
