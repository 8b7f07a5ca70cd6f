"""Shared fixtures: every test runs offline in a fresh working folder with its own cache and runs."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

# A guard against the unbounded behaviour a bound prevents (minutes, a hang, memory filling up),
# not a speed goal (those are measured in bench/): generous, so a loaded CI machine never trips it.
HANG_GUARD_S = 20

TINY_SPEC = """
description: a tiny classifier for tests
seed: 7
data: {name: synthetic, num_samples: 96, num_test: 32, shape: [6], num_classes: 3}
model:
  type: sequential
  layers:
    - Dense: {units: 8, activation: relu}
    - Dense: {units: 3, activation: softmax}
compile: {optimizer: {name: adam, learning_rate: 0.01}, loss: categorical_crossentropy, metrics: [accuracy]}
fit:
  epochs: 3
  batch_size: 16
  validation: {kind: split, fraction: 0.25}
callbacks:
  - ModelCheckpoint: {monitor: val_loss}
  - EarlyStopping: {monitor: val_loss, patience: 5}
reference:
  source: tests
  metric: test_accuracy
  value: 0.0
  direction: at_least
"""


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLCLI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DLCLI_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DLCLI_OFFLINE", "1")
    monkeypatch.setenv("DLCLI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def cache_contents(folder: Path) -> list[str]:
    """What a data cache holds, its lock files aside (they are not data)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".locks") if folder.exists() else []


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def tiny_spec(workdir) -> Path:
    return write(workdir / "tiny.yaml", TINY_SPEC)


class CliResult:
    def __init__(self, code, out, err):
        self.exit_code, self.stdout, self.stderr = code, out, err


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run dlcli's real entry point (with its error handling) in-process."""
    from dlcli.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["dlcli", *args])
        code = 0
        try:
            main(fast_exit=False)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
