"""What the backend, worker and GPU benchmarks share: running one timed process and reading its clock.

Each measured training is a whole process (a backend is chosen per process, by KERAS_BACKEND),
timed from launch to exit, with bench/epoch_clock.py's record of its epochs. Imports no Keras.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CLOCK = BENCH / "epoch_clock.py"


@dataclass
class Timed:
    """One process: its wall time and exit code, its epochs' clock, what it printed."""

    label: str
    wall_s: float
    returncode: int
    started: float  # time.time() at launch, to compare with the clock's wall-clock times
    clock: dict | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.clock is not None and self.clock["end"] is not None

    def why_not(self) -> str:
        """One line saying why a failed process has no result, with the epochs it completed before."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        done = ", ".join(f"{value:.1f}" for value in self.epochs())
        return (f"exit {self.returncode}: {lines[-1] if lines else 'no message'}"
                + (f" (its completed epochs took {done} s)" if done else ""))

    def epochs(self) -> list[float]:
        """Seconds of each completed epoch, start to next start (the last to training's end)."""
        if self.clock is None:
            return []
        marks = [*self.clock["begins"], *([self.clock["end"]] if self.clock["end"] else [])]
        return [after - before for before, after in zip(marks, marks[1:])]

    def first_epoch(self) -> float:
        return self.epochs()[0]

    def later_median(self) -> float | None:
        """Median of the epochs after the first (which holds tracing and compilation); None for one epoch."""
        later = self.epochs()[1:]
        return statistics.median(later) if later else None

    def to_first_step(self) -> float | None:
        """Seconds from launching the process to the end of its first training step."""
        first = self.clock.get("first_step")
        return first - self.started if first else None


def environment(backend: str, data_dir: Path | None = None, **extra: str) -> dict:
    """The environment of a measured process: its Keras backend, quiet TensorFlow, this checkout's dlcli."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])), **extra}
    if data_dir is not None:
        env["DLCLI_DATA_DIR"] = str(data_dir)
    return env


def run_timed(label: str, command: list[str], env: dict, clock_path: Path, timeout: float | None = None) -> Timed:
    """Run one process to its end; its clock is read from `clock_path` (process 0's when several)."""
    clock_path.unlink(missing_ok=True)
    started = time.time()
    start = time.perf_counter()
    # its own session, so that a timeout ends it with every worker it started, and nothing else
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=REPO, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code, err = 124, f"{err}\nstopped after {timeout:.0f} s (--timeout)"
    wall = time.perf_counter() - start
    clock = json.loads(clock_path.read_text()) if clock_path.is_file() else None
    return Timed(label, wall, code, started, clock, out, err)


def announce(timed: Timed) -> None:
    """One line on stderr as each process ends, so a long benchmark shows where it is."""
    state = f"{timed.wall_s:.1f} s" if timed.ok else f"FAILED ({timed.why_not()})"
    print(f"  {timed.label}: {state}", file=sys.stderr, flush=True)


def dlcli_command(experiment: str, run_dir: Path, clock_path: Path, sets: list[str], first_step: bool = False,
                  extra: list[str] = ()) -> list[str]:
    """`dlcli train EXPERIMENT --json` with the epoch clock as the spec's callback and the given --set values."""
    args = f"{{path: '{clock_path}'{', first_step: true' if first_step else ''}}}"
    callback = f"callbacks=[{{Custom: {{path: '{CLOCK}:EpochClock', args: {args}}}}}]"
    command = [sys.executable, "-m", "dlcli", "train", experiment, "--json", "--run-dir", str(run_dir),
               "--set", callback]
    for value in sets:
        command += ["--set", value]
    return command + list(extra)


def printed_json(text: str) -> dict:
    """The JSON object a process printed: its whole stdout (dlcli's --json), else its last line
    that is one (a plain script's result), else {}."""
    for candidate in [text, *reversed(text.splitlines())]:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
