"""The run directory contract: runs/<experiment>/<YYYYmmdd-HHMMSS>[-N]/, never reused.

| file            | written                 | holds                                            |
| spec.yaml       | when the run starts     | the resolved, validated spec                     |
| run.json        | at start, then at end   | status, times, command, versions, device, error  |
| history.csv/json| after every epoch       | per-epoch metrics                                |
| metrics.json    | after evaluation        | final metrics and the reference verdict          |
| model.keras     | after fit               | the trained model; checkpoints/ holds the best   |
| plots/ viz/ logs/ | as produced           | PNG plots, visualisations, TensorBoard logs      |

JSON and text files are written atomically: a temporary file, then os.replace.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from dlcli.errors import UsageError

STATUSES = ("running", "completed", "failed", "interrupted")


def runs_root() -> Path:
    return Path(os.environ.get("DLCLI_RUNS_DIR") or Path.cwd() / "runs")


def _plain(value: Any) -> Any:
    """JSON-safe values: NumPy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8")
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def dumps(data: Any) -> str:
    return json.dumps(_plain(data), indent=2, allow_nan=False) + "\n"


class RunDir:
    """One run's directory; create() makes a new one, open() checks an existing one."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    @staticmethod
    def check_new(path: str | Path) -> Path:
        """A --run-dir must not exist yet, or be an empty folder."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(f"--run-dir {path}: exists and is not empty; choose a new directory")
        return path

    @classmethod
    def create(cls, experiment: str, explicit: str | Path | None = None) -> "RunDir":
        if explicit is not None:
            path = cls.check_new(explicit)
            path.mkdir(parents=True, exist_ok=True)
            return cls(path)
        parent = runs_root() / experiment
        parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for attempt in range(1000):
            path = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
            try:
                path.mkdir()  # atomic: two runs started in the same second get -1, -2...
                return cls(path)
            except FileExistsError:
                continue
        raise UsageError(f"{parent}: cannot create a new run directory")

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        path = Path(path)
        if not path.is_dir():
            raise UsageError(f"{path}: no such run directory")
        if not (path / "run.json").is_file():
            raise UsageError(f"{path}: not a run directory (no run.json); runs live in runs/<experiment>/<time>/")
        run = cls(path)
        try:
            run.read_json("run.json")
        except (ValueError, OSError) as error:
            raise UsageError(f"{path / 'run.json'}: unreadable ({error})") from None
        return run

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> None:
        write_atomic(self.file(name), dumps(data))

    def write_text(self, name: str, text: str) -> None:
        write_atomic(self.file(name), text)

    def read_json(self, name: str) -> Any:
        return json.loads(self.file(name).read_text(encoding="utf-8"))

    def has(self, name: str) -> bool:
        return self.file(name).exists()

    def update_run(self, **fields: Any) -> dict:
        info = self.read_json("run.json") if self.has("run.json") else {}
        info.update(fields)
        self.write_json("run.json", info)
        return info

    def history(self) -> dict[str, list]:
        """history.json as columns: {'epoch': [1, 2, ...], 'loss': [...], ...} ({} if absent)."""
        return self.read_json("history.json") if self.has("history.json") else {}

    @property
    def experiment(self) -> str:
        info = self.read_json("run.json")
        return info.get("experiment") or self.path.parent.name


def latest_completed_run(experiment: str) -> RunDir | None:
    """The newest completed run of an experiment under the runs root (for baselines)."""
    parent = runs_root() / experiment
    if not parent.is_dir():
        return None
    for path in sorted((p for p in parent.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
        try:
            if json.loads((path / "run.json").read_text()).get("status") == "completed":
                return RunDir(path)
        except (OSError, ValueError):
            continue
    return None


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def elapsed(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def record_viz(run: RunDir, entry: dict[str, Any]) -> None:
    """Append one visualisation's description to the run's viz/index.json."""
    index = run.read_json("viz/index.json") if run.has("viz/index.json") else []
    index.append({**entry, "created_at": now()})
    run.file("viz").mkdir(exist_ok=True)
    run.write_json("viz/index.json", index)
