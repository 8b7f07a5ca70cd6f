"""Signal `dlcli train` while it writes a large model file, then check the run directory.

    python bench/kill_during_save.py [--rounds 6] [--units 2500]

Issue 9's reproduction: with a ~73 MB model, SIGINT sent as `model.keras` appeared left
run.json at `running` and a truncated model (5 of 6). Each round here trains a model of two
Dense(units) layers (units=2500: about 76 MB with Adam's state), watches the run directory every
millisecond, and at a random moment (0-0.1 s) after the temporary file appears, if it is still
being written, sends

- `final`: SIGINT as soon as a temporary file of model.keras appears (the final save);
- `checkpoint`: SIGKILL as soon as the second checkpoint's temporary file appears.

Then it checks what a user relies on: run.json says `completed`, `interrupted` or (after SIGKILL)
reads as `crashed`; model.keras and checkpoints/best.keras load if present; and for a killed
run, `dlcli resume` removes the half-written file and completes. Prints counts per case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """
description: a large model, to be signalled while it is saved
seed: 1
data: {{name: synthetic, num_samples: 64, num_test: 16, shape: [64], num_classes: 3}}
model:
  type: sequential
  layers: [{{Dense: {{units: {units}, activation: relu}}}}, {{Dense: {{units: {units}, activation: relu}}}},
           {{Dense: {{units: 3, activation: softmax}}}}]
compile: {{optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}}
fit: {{epochs: {epochs}, batch_size: 32, validation: {{kind: split, fraction: 0.25}}}}
callbacks: [{{ModelCheckpoint: {{monitor: val_loss, save_best_only: false}}}}]
"""


def dlcli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcli", *args], capture_output=True, text=True, env=env)


def loads(path: Path, env: dict) -> bool:
    code = "import sys; from dlcli.models.saving import load_model; load_model(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, env=env).returncode == 0


def signal_during_save(case: str, spec: Path, runs: Path, env: dict) -> tuple[Path | None, int, float | None]:
    """Start a training, signal it while the watched file is being written; (run, return code, MB seen)."""
    before = set(runs.glob("*/*"))
    process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(spec), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    run, size = None, None
    while process.poll() is None:
        run = run or next(iter(set(runs.glob("*/*")) - before), None)
        if run is not None:
            if case == "final":
                partial = next(iter(run.glob(".model.*part*.keras")), None)
            else:
                partial = next(iter((run / "checkpoints").glob(".best.part*")), None)
                partial = partial if (run / "checkpoints" / "best.keras").exists() else None
            if partial is not None:
                time.sleep(random.uniform(0, 0.1))  # a random moment of the write (~0.2 s for 77 MB)
                try:
                    size = partial.stat().st_size / 1e6
                except FileNotFoundError:  # the write had ended: try the next save
                    continue
                process.send_signal(signal.SIGINT if case == "final" else signal.SIGKILL)
                break
        time.sleep(0.001)
    return run, process.wait(), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--units", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        env = {**os.environ, "DLCLI_RUNS_DIR": str(folder / "runs"), "DLCLI_DATA_DIR": str(folder / "data"),
               "DLCLI_OFFLINE": "1"}
        for case, epochs in (("final", 1), ("checkpoint", 3)):
            spec = folder / "big.yaml"
            spec.write_text(SPEC.format(units=args.units, epochs=epochs))
            counts = {"caught while writing": 0, "valid": 0, **({"resumed": 0} if case == "checkpoint" else {})}
            sizes, problems = [], []
            for _ in range(args.rounds):
                run, code, size = signal_during_save(case, spec, folder / "runs", env)
                if run is None or size is None:
                    problems.append(f"not caught during the save (exit {code})")
                    continue
                counts["caught while writing"] += 1
                sizes.append(size)
                info = json.loads((run / "run.json").read_text())
                listed = json.loads(dlcli("compare", str(run), "--json", env=env).stdout)["runs"][0]["status"]
                found = []
                if case == "final" and (code != 130 or info["status"] not in ("completed", "interrupted")):
                    found.append(f"exit {code}, status {info['status']}")
                if case == "checkpoint" and listed != "crashed":
                    found.append(f"status {listed} after SIGKILL")
                for model in (run / "model.keras", run / "checkpoints" / "best.keras"):
                    if model.exists() and not loads(model, env):
                        found.append(f"{model.name} does not load")
                if case == "checkpoint":
                    resumed = dlcli("resume", str(run), "--json", env=env)
                    if resumed.returncode == 0 and not list(run.rglob(".*part*")):
                        counts["resumed"] += 1
                    else:
                        found.append(f"resume: exit {resumed.returncode} {resumed.stderr.strip()[-200:]}")
                counts["valid"] += not found
                problems += found
            written = f"{min(sizes, default=0):.1f}-{max(sizes, default=0):.1f} MB"
            signal_name = "SIGINT" if case == "final" else "SIGKILL"
            print(f"{case:10s} ({signal_name} while a {args.units}-unit model is written, "
                  f"{written} of it on disk): " + ", ".join(f"{key} {value}/{args.rounds}" for key, value in counts.items()))
            for problem in problems:
                print(f"    {problem}")


if __name__ == "__main__":
    main()
