"""A sweep's overhead per trial, beyond the trials' own training.

    python bench/sweep_overhead.py [--trials 8] [--epochs 5]

Runs `dlcli sweep` over a grid of N near-identical trials (Dense units 32..32+N-1) of a small
synthetic spec, and one `dlcli train` of the same spec. Each run's own time is its run.json
`duration_s` (fit, evaluation and saving). The sweep's overhead per trial is

    (sweep wall time - one train's start-up - sum of the trials' duration_s) / N

where a train's start-up is its wall time minus its duration_s (Python, TensorFlow, data, build,
run directory). What is left is what the sweep adds per trial: spec loading and checks, model
building and the run directory of each trial, Optuna's ask/tell and SQLite, and the report.
Goal: under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """
description: sweep overhead
seed: 1
data: {{name: synthetic, num_samples: 2000, num_test: 200, shape: [32], num_classes: 3}}
model:
  type: sequential
  layers: [{{Dense: {{units: 32, activation: relu}}}}, {{Dense: {{units: 3, activation: softmax}}}}]
compile: {{optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}}
fit: {{epochs: {epochs}, batch_size: 32, validation: {{kind: split, fraction: 0.2}}}}
"""


def timed(command: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        env = {**os.environ, "DLCLI_RUNS_DIR": str(folder / "runs"), "DLCLI_DATA_DIR": str(folder / "data")}
        spec = folder / "overhead.yaml"
        spec.write_text(SPEC.format(epochs=args.epochs))
        dlcli = [sys.executable, "-m", "dlcli"]
        train_wall, out = timed([*dlcli, "train", str(spec), "--json", "-q"], env)
        train_own = json.loads((Path(json.loads(out)["run_dir"]) / "run.json").read_text())["duration_s"]
        units = ",".join(str(32 + n) for n in range(args.trials))
        sweep_wall, out = timed([*dlcli, "sweep", str(spec), "--param", f"model.layers.0.Dense.units={units}",
                                 "--no-pruning", "--json", "-q"], env)
        report = json.loads(out)
        own = sum(json.loads((Path(row["run_dir"]) / "run.json").read_text())["duration_s"]
                  for row in report["trials"])
        startup = train_wall - train_own
        overhead = (sweep_wall - startup - own) / args.trials
        print(f"dlcli train: {train_wall:.2f} s wall, {train_own:.2f} s its own (start-up {startup:.2f} s)")
        print(f"dlcli sweep, {args.trials} trials of {args.epochs} epochs: {sweep_wall:.2f} s wall, "
              f"{own:.2f} s the trials' own")
        print(f"overhead per trial beyond its training: {overhead:.3f} s (goal: under 1 s)")


if __name__ == "__main__":
    main()
