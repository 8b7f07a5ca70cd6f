"""`dlcli generate ... --json` names every path absolutely, also for a run given by a relative path
or by its experiment's name (whose run directory is under the relative runs/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import write
from test_vae import TINY_VAE, train

pytestmark = pytest.mark.training


def test_latent_grid_json_paths_are_absolute_for_a_relative_run(run_cli, workdir, monkeypatch):
    monkeypatch.setenv("DLCLI_RUNS_DIR", "runs")  # relative, as the default ./runs is
    run = train(run_cli, write(workdir / "vae.yaml", TINY_VAE), "--epochs", "1")
    for reference in (os.path.relpath(run, workdir), "vae"):
        result = run_cli("generate", "latent-grid", reference, "--n", "2", "--json")
        assert result.exit_code == 0, result.stderr
        written = json.loads(result.stdout)
        assert Path(written["file"]).is_absolute() and Path(written["run_dir"]).is_absolute()
        assert Path(written["file"]) == run.resolve() / "samples" / "latent-grid-2.png"


def test_generate_images_json_paths_are_absolute_for_a_relative_run(run_cli, workdir, monkeypatch):
    from test_gan import GAN_SPEC, tiny_mnist

    monkeypatch.setenv("DLCLI_RUNS_DIR", "runs")
    tiny_mnist(workdir)
    result = run_cli("train", str(write(workdir / "gan.yaml", GAN_SPEC.format(epochs=1))), "--json", "-q")
    run = Path(json.loads(result.stdout)["run_dir"])
    result = run_cli("generate", "images", os.path.relpath(run, workdir), "--count", "1", "--json")
    assert result.exit_code == 0, result.stderr
    written = json.loads(result.stdout)
    assert Path(written["file"]).is_absolute() and Path(written["file"]).parent == run.resolve() / "samples"
