"""Time per step and per book epoch of chapter 8's experiments, on each installed backend.

    python bench/chapter8.py [--steps N] [--backends tensorflow,jax,torch] [NAME...]

Each experiment is trained by `dlcli train NAME` itself, in a process of its own, for two epochs
of `--steps` steps (default: STEPS, enough that the work at each epoch's end, history and resume
state, is a few per cent of the epoch) on stand-in data of the book's shapes (MNIST, CIFAR-10 and Nietzsche are not on
this machine; the arithmetic does not depend on the values): a 600,893-character text of 57
distinct characters for text-generation-lstm, random 28x28x1 and 32x32x3 pixels for vae-mnist and
gan-cifar10-frogs. The spec's own callbacks stay on (the TextSampler's samples, the GAN's grids)
and bench/epoch_clock.py times the epochs: the second epoch, free of compilation, gives the time
per step, which is scaled to the book's epoch (steps of training, plus the VAE's validation).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLOCK = ROOT / "bench" / "epoch_clock.py"
NIETZSCHE_CHARACTERS = 600_893  # the book's corpus, lower-cased (8.2); 57 distinct characters

# name: (stand-in data, training steps of one book epoch, validation batches of one book epoch, book epochs)
BOOK = {
    "text-generation-lstm": ("text", -(-len(range(0, NIETZSCHE_CHARACTERS - 60, 3)) // 128), 0, 59),
    "vae-mnist": ({"name": "synthetic", "shape": [28, 28, 1], "num_classes": 10, "pixels": True}, 60_000 // 16,
                  10_000 // 16, 10),
    "gan-cifar10-frogs": ({"name": "synthetic", "shape": [32, 32, 3], "num_classes": 2, "pixels": True}, 100, 0, 100),
}


STEPS = {"text-generation-lstm": 60, "vae-mnist": 120, "gan-cifar10-frogs": 4}


def stand_in_text(folder: Path) -> Path:
    """A text of the corpus's length and alphabet size."""
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?'\"()-\n[]=_*&%$"))
    path = folder / "text.txt"
    path.write_text("".join(np.random.default_rng(0).choice(alphabet, NIETZSCHE_CHARACTERS)), encoding="utf-8")
    return path


def overrides(name: str, steps: int, folder: Path, clock: Path) -> list[str]:
    """The --set options: two epochs of `steps` steps on the stand-in data, the epoch clock added."""
    from dlcli.spec import load_spec

    spec, _ = load_spec(name)
    data, _, validation_batches, _ = BOOK[name]
    batch = spec.fit.batch_size
    if data == "text":
        data_override = f"data.path={stand_in_text(folder)}"
    else:
        samples = batch * steps
        tests = batch * max(1, steps * validation_batches // BOOK[name][1]) if validation_batches else batch
        data_override = "data=" + json.dumps({**data, "num_samples": samples, "num_test": tests})
    callbacks = [entry.raw if hasattr(entry, "raw") else entry for entry in _spec_callbacks(name)]
    callbacks.append({"Custom": {"path": f"{CLOCK}:EpochClock", "args": {"path": str(clock)}}})
    return [data_override, "fit.epochs=2", f"fit.steps_per_epoch={steps}", "callbacks=" + json.dumps(callbacks)]


def _spec_callbacks(name: str) -> list:
    """The spec's own callbacks, as written in its YAML."""
    import yaml

    return yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text()).get("callbacks") or []


def time_one(name: str, backend: str, steps: int) -> dict:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        clock = folder / "clock.json"
        command = [sys.executable, "-m", "dlcli", "train", name, "--backend", backend, "-q", "--run-dir",
                   str(folder / "run"), *(part for text in overrides(name, steps, folder, clock) for part in ("--set", text))]
        result = subprocess.run(command, capture_output=True, text=True, cwd=folder, check=False,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        if result.returncode != 0 or not clock.is_file():
            return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1]}
        record = json.loads(clock.read_text())
    begins, end = record["begins"], record["end"]
    first, second = begins[1] - begins[0], end - begins[1]
    _, train_steps, validation_batches, epochs = BOOK[name]
    step = second / steps  # the second epoch's time a step, its validation (if any) included
    epoch = step * train_steps
    return {"first_epoch_s": first, "step_s": step, "book_epoch_min": epoch / 60, "book_run_h": epoch * epochs / 3600}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, help="steps an epoch (default: per experiment, STEPS)")
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("names", nargs="*", default=list(BOOK))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    backends = [name for name in args.backends.split(",") if importlib.util.find_spec(name)]
    print(f"{'experiment':22s} {'backend':10s} {'1st epoch':>9s} {'step':>8s} {'book epoch':>10s} {'book run':>8s}")
    for name in args.names:
        for backend in backends:
            row = time_one(name, backend, args.steps or STEPS[name])
            if "error" in row:
                print(f"{name:22s} {backend:10s} failed: {row['error']}")
                continue
            print(f"{name:22s} {backend:10s} {row['first_epoch_s']:8.1f}s {row['step_s'] * 1000:6.0f}ms "
                  f"{row['book_epoch_min']:8.1f}min {row['book_run_h']:7.1f}h", flush=True)


if __name__ == "__main__":
    main()
