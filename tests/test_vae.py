"""The `vae` kind (8.23-8.27): trains through the CLI on TensorFlow and JAX on tiny random images,
its loss is the book's, a seeded run is reproducible and resumes exactly, and `dlcli generate
latent-grid` draws figure 8.14's grid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write
from test_backends import installed

pytestmark = pytest.mark.training

TINY_VAE = """
description: a tiny vae for tests
seed: 5
deterministic: true
data: {name: synthetic, num_samples: 40, num_test: 20, shape: [12, 12, 1], pixels: true}
model: {type: vae, latent_dim: 2}
compile: {optimizer: rmsprop}
fit: {epochs: 2, batch_size: 16, validation: {kind: test}}
"""


def train(run_cli, spec: Path, *args: str):
    result = run_cli("train", str(spec), "--json", "-q", *args)
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


def model_weights(run: Path) -> list:
    from dlcli.models.saving import load_model

    return load_model(run / "model.keras").get_weights()


def test_a_vae_trains_through_the_cli_and_logs_both_parts_of_its_loss(run_cli, workdir):
    run = train(run_cli, write(workdir / "vae.yaml", TINY_VAE), "--epochs", "1")
    history = json.loads((run / "history.json").read_text())
    for prefix in ("", "val_"):
        parts = history[f"{prefix}reconstruction_loss"][0] + history[f"{prefix}kl_loss"][0]
        assert history[f"{prefix}loss"][0] == pytest.approx(parts, rel=1e-5)  # loss = reconstruction + KL
    assert 0.5 < history["reconstruction_loss"][0] < 0.8  # binary crossentropy of grey pixels, untrained
    info = json.loads((run / "run.json").read_text())
    assert info["params"] > 0 and info["model_files"]["config"] == "model.json"
    from dlcli.models.saving import load_model

    loaded = load_model(run / "model.keras")
    assert type(loaded).__name__ == "VariationalAutoencoder" and loaded.seed == json.loads(
        (run / "model.json").read_text())["config"]["seed"]
    evaluated = run_cli("evaluate", str(run), "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)["metrics"]
    assert {"test_loss", "test_reconstruction_loss", "test_kl_loss"} <= set(metrics)


@pytest.mark.parametrize("backend", [installed("jax"), installed("torch")])
def test_a_vae_trains_on_jax_and_torch(workdir, backend):
    spec = write(workdir / "vae.yaml", TINY_VAE)
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-m", "dlcli", "train", str(spec), "--epochs", "1", "--json", "-q"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    run = Path(json.loads(done.stdout)["run_dir"])
    info = json.loads((run / "run.json").read_text())
    assert info["backend"] == backend
    history = json.loads((run / "history.json").read_text())
    assert history["loss"][0] == pytest.approx(history["reconstruction_loss"][0] + history["kl_loss"][0], rel=1e-5)
    assert np.isfinite(history["val_loss"][0])


def test_a_seeded_vae_run_is_reproducible(run_cli, workdir):
    spec = write(workdir / "vae.yaml", TINY_VAE)
    first, second = train(run_cli, spec, "--epochs", "1"), train(run_cli, spec, "--epochs", "1")
    assert (first / "history.json").read_text() == (second / "history.json").read_text()
    for a, b in zip(model_weights(first), model_weights(second), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_interrupted_vae_resumed_equals_the_uninterrupted_run(run_cli, workdir, monkeypatch):
    """The noise of every step comes from the model's seed generator: its state is in the resume
    state, so the resumed epochs draw the very noise the straight run drew."""
    from test_resume import interrupt_at_epoch_end

    spec = write(workdir / "vae.yaml", TINY_VAE.replace("epochs: 2", "epochs: 3"))
    straight = train(run_cli, spec)
    interrupt_at_epoch_end(monkeypatch, 1)
    result = run_cli("train", str(spec), "--json", "-q")
    monkeypatch.undo()
    assert result.exit_code == 130, result.stderr
    run = Path(json.loads(result.stdout)["run_dir"])
    assert json.loads((run / "history.json").read_text())["epoch"] == [1]
    resumed = run_cli("resume", str(run), "--json", "-q")
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((run / "history.json").read_text()) == json.loads((straight / "history.json").read_text())
    for a, b in zip(model_weights(run), model_weights(straight), strict=True):
        np.testing.assert_array_equal(a, b)


def vae(**options):
    from dlcli.models.vae import vae_classes

    return vae_classes()["VariationalAutoencoder"](**{"image_shape": (12, 12, 1), "seed": 1, **options})


def test_the_loss_is_the_books(workdir):
    """8.26: mean binary crossentropy of the flattened images + 5e-4 x -mean(1 + log_var - mean^2 -
    exp(log_var)) over the latent dimensions, against NumPy."""
    rng = np.random.default_rng(0)
    images = rng.random((4, 12, 12, 1), dtype="float32")
    decoded = rng.uniform(0.05, 0.95, (4, 12, 12, 1)).astype("float32")
    z_mean, z_log_var = rng.normal(size=(4, 2)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    model = vae()
    loss = model.compute_loss(images, None, {"reconstruction": decoded, "z_mean": z_mean, "z_log_var": z_log_var})
    flat_x, flat_d = images.reshape(4, -1), decoded.reshape(4, -1)
    crossentropy = -(flat_x * np.log(flat_d) + (1 - flat_x) * np.log(1 - flat_d)).mean()
    kl = -5e-4 * np.mean(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var))
    assert float(loss) == pytest.approx(crossentropy + kl, rel=1e-5)
    assert float(model.kl_tracker.result()) == pytest.approx(kl, rel=1e-5)


def test_the_sampling_scale_is_the_books_or_the_standard_one(workdir):
    z_mean, z_log_var = np.zeros((20000, 2), "float32"), np.full((20000, 2), np.log(4.0), "float32")
    book = np.asarray(vae(sampling_scale="book").sample(z_mean, z_log_var))
    standard = np.asarray(vae(sampling_scale="standard").sample(z_mean, z_log_var))
    assert book.std() == pytest.approx(4.0, rel=0.05)  # exp(z_log_var), as printed in 8.24
    assert standard.std() == pytest.approx(2.0, rel=0.05)  # exp(0.5 * z_log_var)


def test_a_vae_decodes_images_of_any_small_size(workdir):
    model = vae(image_shape=(13, 9, 3))
    images = np.zeros((2, 13, 9, 3), "float32")
    assert tuple(model(images)["reconstruction"].shape) == (2, 13, 9, 3)


def test_a_vae_on_data_that_are_not_images_is_a_spec_error(run_cli, workdir):
    flat = write(workdir / "flat.yaml", TINY_VAE.replace("shape: [12, 12, 1], pixels: true", "shape: [6]"))
    result = run_cli("train", str(flat))
    assert result.exit_code == 2 and "images" in result.stderr and "(6,)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (workdir / "runs").exists()
    with_loss = write(workdir / "loss.yaml", TINY_VAE.replace("compile: {optimizer: rmsprop}",
                                                               "compile: {optimizer: rmsprop, loss: mse}"))
    result = run_cli("train", str(with_loss))
    assert result.exit_code == 2 and "compile.loss" in result.stderr and not (workdir / "runs").exists()


def test_the_latent_grid_is_n_decoded_images_a_side(run_cli, workdir, tiny_spec):
    from PIL import Image

    run = train(run_cli, write(workdir / "vae.yaml", TINY_VAE), "--epochs", "1")
    result = run_cli("generate", "latent-grid", str(run), "--n", "4", "--json")
    assert result.exit_code == 0, result.stderr
    written = json.loads(result.stdout)
    assert Path(written["file"]) == run / "samples" / "latent-grid-4.png"
    with Image.open(written["file"]) as picture:
        assert picture.size == (4 * 12, 4 * 12) and picture.mode == "L"  # grey, tiles touching as in 8.28
    out = workdir / "figure-8.14.png"
    assert run_cli("generate", "latent-grid", str(run), "--n", "3", "--out", str(out)).exit_code == 0
    with Image.open(out) as picture:
        assert picture.size == (36, 36)
    predicted = run_cli("predict", str(run), str(out))  # it classifies nothing: one line pointing to the grid
    assert predicted.exit_code == 2 and "dlcli generate latent-grid" in predicted.stderr, predicted.stderr
    predicted = run_cli("predict", str(run / "model.keras"), str(out))  # not Keras' missing input_shape
    assert predicted.exit_code == 2 and len(predicted.stderr.strip().splitlines()) == 1, predicted.stderr

    line = train(run_cli, write(workdir / "line.yaml", TINY_VAE), "--epochs", "1", "--set", "model.latent_dim=1")
    refused = run_cli("generate", "latent-grid", str(line))
    assert refused.exit_code == 2 and "a grid needs 2" in refused.stderr and not (line / "samples").exists()

    classifier = train(run_cli, tiny_spec, "--epochs", "1")
    refused = run_cli("generate", "latent-grid", str(classifier))
    assert refused.exit_code == 2 and "not a vae" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (classifier / "samples").exists()


def test_the_latent_points_are_the_books(workdir):
    """8.28's loops: row i decodes [xi, yi] with yi = grid[i], column j has xi = grid[j]; a latent
    space of more dimensions is gridded over its first two, the others at 0."""
    from scipy.stats import norm

    from dlcli.generation.latent_grid import latent_points

    n = 5
    grid_x = grid_y = norm.ppf(np.linspace(0.05, 0.95, n))
    book = [[xi, yi] for yi in grid_x for xi in grid_y]  # for i, yi in enumerate(grid_x): for j, xi in ...
    np.testing.assert_allclose(latent_points(n, 2), np.asarray(book, "float32"))
    wider = latent_points(n, 4)
    np.testing.assert_allclose(wider[:, :2], latent_points(n, 2))
    assert not wider[:, 2:].any()


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.realdata
@pytest.mark.skipif(not DEBIAN_FASHION.is_dir() and not os.environ.get("DLCLI_FASHION_MNIST"),
                    reason="Fashion-MNIST absent: apt-get install dataset-fashion-mnist")
def test_vae_mnist_runs_on_fashion_mnist(run_cli):
    """The named experiment with --set data.name=fashion_mnist, on a few real images."""
    from PIL import Image

    source = os.environ.get("DLCLI_FASHION_MNIST", str(DEBIAN_FASHION))
    assert run_cli("data", "import", "fashion_mnist", source).exit_code == 0
    run = train(run_cli, Path("vae-mnist"), "--set", "data.name=fashion_mnist", "--set", "data.train_samples=160",
                "--set", "data.test_samples=32", "--epochs", "1")
    history = json.loads((run / "history.json").read_text())
    assert history["val_reconstruction_loss"][0] < 0.69  # below a constant 0.5 image's crossentropy, log 2
    result = run_cli("generate", "latent-grid", "vae-mnist", "--json")
    assert result.exit_code == 0, result.stderr
    with Image.open(json.loads(result.stdout)["file"]) as picture:
        assert picture.size == (15 * 28, 15 * 28)
