"""Kill `dlcli train` at random moments (SIGKILL, SIGINT or SIGTERM), then check every run directory.

    python bench/kill_sweep.py [--kills 20] [--signal KILL|INT|TERM] [--seed 0]

Each round trains a small synthetic spec (a few seconds an epoch), sends the signal at a random
moment between start-up and the end, and then checks what a user would rely on: run.json, spec.yaml
and every history/metrics file parse; the status is honest (`crashed`, `interrupted`, `completed`,
never `running` for a dead process); model.keras, if present, loads; and `dlcli resume` brings
every unfinished run to `completed`. Prints the counts; the goal is every run valid and resumable.
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
description: kill sweep
seed: 1
data: {name: synthetic, num_samples: 4000, num_test: 200, shape: [32], num_classes: 3}
model:
  type: sequential
  layers: [{Dense: {units: 64, activation: relu}}, {Dropout: {rate: 0.2}}, {Dense: {units: 3, activation: softmax}}]
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 6, batch_size: 16, validation: {kind: split, fraction: 0.2}}
callbacks: [{ModelCheckpoint: {monitor: val_loss, save_best_only: false}}, {EarlyStopping: {patience: 3}}]
"""


def dlcli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcli", *args], capture_output=True, text=True, env=env)


def check(run: Path, env: dict) -> tuple[str, list[str]]:
    """(status as dlcli reports it, problems found)."""
    problems = []
    for path in [run / "run.json", *run.glob("**/*.json")]:
        try:
            json.loads(path.read_text())
        except ValueError as error:
            problems.append(f"{path.name}: {error}")
    listed = dlcli("compare", str(run), "--json", env=env)
    if listed.returncode != 0:
        return "unreadable", problems + [listed.stderr.strip()]
    status = json.loads(listed.stdout)["runs"][0]["status"]
    if status == "running":
        problems.append("status 'running' for a dead process")
    if (run / "model.keras").exists() and dlcli("evaluate", str(run), env=env).returncode != 0:
        problems.append("model.keras does not load")
    return status, problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--signal", choices=["KILL", "INT", "TERM"], default="KILL")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = {**os.environ, "DLCLI_RUNS_DIR": str(root / "runs"), "DLCLI_DATA_DIR": str(root / "data"),
               "DLCLI_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        spec = root / "sweep.yaml"
        spec.write_text(SPEC)
        started = time.perf_counter()
        full = dlcli("train", str(spec), "-q", env=env)
        whole = time.perf_counter() - started
        if full.returncode != 0:
            sys.exit(f"the spec does not train: {full.stderr}")
        counts: dict[str, int] = {}
        invalid, resumed, unresumable = [], 0, []
        runs_seen = set((root / "runs" / "sweep").iterdir())
        for _ in range(args.kills):
            process = subprocess.Popen([sys.executable, "-m", "dlcli", "train", str(spec), "-q"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chooser.uniform(0.2, whole))
            process.send_signal(getattr(signal, f"SIG{args.signal}"))
            process.wait()
            before = set(runs_seen)
            runs_seen.update(path for path in (root / "runs" / "sweep").iterdir() if not path.name.startswith("."))
            new = sorted(runs_seen - before)
            if not new:  # killed before its run directory was published (a hidden staging folder at most)
                counts["no run directory yet"] = counts.get("no run directory yet", 0) + 1
                continue
            run = new[-1]
            if not (run / "run.json").exists():  # a run directory is never visible without its run.json
                counts["visible without run.json"] = counts.get("visible without run.json", 0) + 1
                invalid.append((run.name, ["a run directory without run.json"]))
                continue
            status, problems = check(run, env)
            counts[status] = counts.get(status, 0) + 1
            if problems:
                invalid.append((run.name, problems))
            if status in ("crashed", "interrupted", "failed"):
                again = dlcli("resume", str(run), "-q", env=env)
                if again.returncode == 0:
                    resumed += 1
                else:
                    unresumable.append((run.name, again.stderr.strip()[-200:]))
        staging = [path.name for path in (root / "runs" / "sweep").iterdir() if path.name.startswith(".")]
        print(f"{args.kills} x SIG{args.signal} at random moments of a {whole:.1f} s run: statuses {counts}")
        print(f"hidden staging folders left by killed processes (the next run removes them): {len(staging)}")
        print(f"run directories with a problem: {len(invalid)}; unfinished runs resumed to completed: {resumed}; "
              f"resume refused or failed: {len(unresumable)}")
        for name, problems in invalid + unresumable:
            print(f"  {name}: {problems}")


if __name__ == "__main__":
    main()
