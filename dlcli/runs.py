"""The run directory (a **contract**): the only code that creates, opens, reads and closes one.

`runs/<experiment>/<YYYYmmdd-HHMMSS>[-N]/`, never reused, never overwritten:

| file              | written                      | holds                                          |
| spec.yaml         | when the run starts          | the resolved, validated spec                   |
| run.json          | at start, each resume, end   | status, times, command, versions, device, error|
| history.csv/json  | after every completed epoch  | per-epoch metrics (completed epochs only)      |
| metrics.json      | after evaluation             | final metrics and the reference verdict        |
| model.keras       | after fit, or on interrupt   | the model of the last completed epoch          |
| vocabulary.txt    | text runs, at start          | the tokens evaluate and predict must reuse     |
| state/            | after every completed epoch  | what `dlcli resume` continues from             |
| checkpoints/ plots/ viz/ logs/ folds/ | as produced | best model, PNGs, TensorBoard logs, k-fold |

Every file is written atomically (dlcli.atomic). A run whose run.json says `running` but whose
process is gone reads as `crashed`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from dlcli.atomic import write_text_atomic
from dlcli.errors import DataUnavailable, UsageError
from dlcli.locking import Held, Lock, is_held

STATUSES = ("running", "completed", "failed", "interrupted", "crashed")
FORMAT = 2  # 2: input preprocessing (pixels / 255...) lives in the saved model
# Datasets whose scaling moved from the loader into the model with format 2: a format-1 model of
# theirs expects scaled inputs, which nothing feeds it any more.
SCALED_BY_LOADER_BEFORE_2 = ("mnist", "fashion_mnist", "cifar10", "digits")


def runs_root() -> Path:
    return Path(os.environ.get("DLCLI_RUNS_DIR") or Path.cwd() / "runs")


def plain(value: Any) -> Any:
    """JSON-safe values: NumPy scalars and arrays to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(data: Any) -> str:
    return json.dumps(plain(data), indent=2, allow_nan=False) + "\n"


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def this_process() -> dict[str, Any]:
    """Who writes a run: enough to tell later whether that process still lives."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid())}


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _process_gone(process: dict) -> bool:
    if process.get("host") != socket.gethostname() or not process.get("pid"):
        return False  # another machine's run: we cannot tell
    try:
        os.kill(process["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    started = process.get("process_start")
    return started is not None and _process_start(process["pid"]) not in (None, started)


class Run:
    """One run's directory: `create` a new one, `open` an existing one, read and write its files."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock: Lock | None = None
        self._lock_was_there = False

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ creating and opening

    @staticmethod
    def check_new(path: str | Path) -> Path:
        """A --run-dir must not exist yet, or be an empty folder, and not lie inside a run directory
        (a run never holds another run)."""
        path = Path(path)
        try:
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                raise UsageError(f"--run-dir {path}: exists and is not empty; choose a new directory")
            owner = enclosing_run(path)
        except OSError as error:  # a name too long, a loop of links
            raise UsageError(f"--run-dir {path}: cannot use this path ({error.strerror or error})") from None
        if owner is not None:
            raise UsageError(f"--run-dir {path}: inside the run directory {owner}; choose a directory outside every run")
        return path

    @classmethod
    def check_writable(cls, experiment: str, explicit: str | Path | None = None) -> None:
        """Before any heavy work: a run directory can be made where it will go (else exit 2)."""
        target = cls.check_new(explicit) if explicit is not None else runs_root() / experiment
        try:
            probe_writable(target)
        except OSError as error:
            where = "--run-dir" if explicit is not None else "the runs folder ($DLCLI_RUNS_DIR, else ./runs)"
            raise UsageError(f"{target}: cannot create a run directory here ({error}); choose another {where}") from None

    @classmethod
    def create(cls, experiment: str, explicit: str | Path | None = None) -> "Run":
        """A new run, made in a hidden staging folder (`.NAME.part<pid>`) and locked by this process;
        `publish` gives it its name once run.json exists, so no run directory is ever visible
        without its run.json. A killed process's staging folder is removed by the next `create`."""
        target = cls.check_new(explicit) if explicit is not None else None
        parent = target.parent if target is not None else runs_root() / experiment
        parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_staging(parent)
        staging = parent / f".{target.name if target is not None else 'run'}.part{os.getpid()}-{time.time_ns()}"
        staging.mkdir()
        run = cls(staging)
        run.lock("train")
        run._target = target
        return run

    def publish(self) -> None:
        """Move the staging folder to its name: `--run-dir`, else `<YYYYmmdd-HHMMSS>[-N]` (atomic:
        two runs started in the same second get -1, -2...)."""
        target = getattr(self, "_target", None)
        if target is not None:
            candidates = [target]
        else:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            candidates = [self.path.parent / (stamp if attempt == 0 else f"{stamp}-{attempt}") for attempt in range(1000)]
        for path in candidates:
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                continue
            try:
                os.rename(self.path, path)  # replaces at most an empty folder
            except OSError:  # taken meanwhile by another run
                continue
            self.path = path
            return
        where = f"--run-dir {target}" if target is not None else str(self.path.parent)
        raise UsageError(f"{where}: cannot name the new run directory (taken meanwhile); choose another")

    # ------------------------------------------------------------------ one writer at a time

    def lock(self, purpose: str) -> None:
        """Hold the run against other writers until `release` (or the process ends); refused at once,
        naming the holder, while another process holds it."""
        if self._lock is not None:
            return
        self._lock_was_there = self.has(".lock")
        try:
            self._lock = Lock(self.file(".lock")).acquire(purpose)
        except Held as held:
            raise UsageError(f"{self}: in use by {held.holder}; wait for it to end, or stop it") from None
        except OSError as error:
            raise UsageError(f"{self}: cannot lock the run directory for writing ({error})") from None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _writer_alive(self) -> bool | None:
        """Whether the process that wrote `running` still holds the run; None when the run has no
        lock file (made by an older dlcli): then only its pid can tell."""
        if self._lock is not None:  # this process holds it: the writer is this process, or gone
            return None
        return is_held(self.file(".lock"))

    @classmethod
    def open(cls, path: str | Path) -> "Run":
        path = Path(path)
        if not path.is_dir():
            raise UsageError(f"{path}: no such run directory")
        if not (path / "run.json").is_file():
            raise UsageError(f"{path}: not a run directory (no run.json); runs live in runs/<experiment>/<time>/")
        run = cls(path)
        if not isinstance(run.info, dict):
            raise UsageError(f"{path / 'run.json'}: not a run.json (a JSON object is expected)")
        return run

    @classmethod
    def latest_completed(cls, experiment: str, follows_recipe: bool = False) -> "Run | None":
        """The newest completed run of an experiment under the runs root; with `follows_recipe`,
        the newest one that changed nothing of its spec but the seed (a baseline to judge by)."""

        parent = runs_root() / experiment
        if not parent.is_dir():
            return None
        runs = (path for path in parent.iterdir() if path.is_dir() and not path.name.startswith("."))
        for path in sorted(runs, key=lambda p: p.name, reverse=True):
            try:
                run = cls(path)
                if run.has("run.json") and run.status == "completed" and not (follows_recipe and recipe_changes(run.info)):
                    return run
            except UsageError:  # unreadable: not a run to build on
                continue
        return None

    @classmethod
    def find(cls, reference: str, where: str) -> "Run":
        """A run directory as given, else the latest completed run of the experiment so named."""
        if Path(reference).is_dir():
            return cls.open(reference)
        run = cls.latest_completed(reference)
        if run is None:
            raise DataUnavailable(f"{where}: no completed run of '{reference}' under {runs_root()}; train it "
                                  f"first: dlcli train {reference}")
        return run

    # ------------------------------------------------------------------ files

    def file(self, name: str) -> Path:
        return self.path / name

    def has(self, name: str) -> bool:
        return self.file(name).exists()

    def read_json(self, name: str) -> Any:
        """A JSON file of the run; an unreadable one is a UsageError naming it (exit 2)."""
        try:
            return json.loads(self.file(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{self.file(name)}: unreadable ({error}); the run directory is damaged") from None

    def write_json(self, name: str, data: Any) -> None:
        write_text_atomic(self.file(name), dumps(data))

    def write_text(self, name: str, text: str) -> None:
        write_text_atomic(self.file(name), text)

    # ------------------------------------------------------------------ what a run holds

    @property
    def info(self) -> dict[str, Any]:
        """run.json as written, its fields of the types dlcli writes (else a UsageError naming it)."""
        info = self.read_json("run.json")
        problem = info_problem(info)
        if problem:
            raise UsageError(f"{self.file('run.json')}: {problem}; the run directory is damaged")
        return info

    @property
    def status(self) -> str:
        """run.json's status, except that a `running` run whose writer is gone is `crashed`: its lock is
        free (or, for a run of an older dlcli without a lock, its process is gone)."""
        info = self.info
        status = info.get("status", "unknown")
        if status != "running":
            return status
        alive = self._writer_alive()
        if alive is not None:
            return "running" if alive else "crashed"
        process = info.get("process") or {"pid": info.get("pid"), "host": socket.gethostname()}
        if self._lock is not None and self._lock_was_there and process.get("pid") != os.getpid():
            return "crashed"  # this process took the lock of the run's writer: that writer is gone
        return "crashed" if _process_gone(process) else "running"

    def liveness_unknown(self) -> bool:
        """A `running` run whose writer cannot be told alive or dead: no lock of its own (an older
        dlcli), and a live pid without a start time (which may be another process by now)."""
        process = self.info.get("process") or {}
        return not self._lock_was_there and process.get("process_start") is None

    @property
    def experiment(self) -> str:
        return self.info.get("experiment") or self.path.parent.name

    def record_failure(self, **fields: Any) -> None:
        """run.json's `failed`, even on a full disk: atomically if it can be, else rewritten in place,
        without the traceback (the blocks run.json already holds fit what it must say)."""
        try:
            self.update(**fields)
        except OSError:
            info = {**self.info, **fields, "traceback": None}
            with open(self.file("run.json"), "r+", encoding="utf-8") as handle:
                handle.write(dumps(info))
                handle.truncate()

    def remove_leftovers(self) -> list[Path]:
        """Delete the temporary files and folders (`.NAME.part...`) that a killed writer left behind;
        call it only while no process runs in this directory."""
        leftovers = sorted(self.path.rglob(".*.part*"), key=lambda path: -len(path.parts))
        for path in leftovers:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return leftovers

    def update(self, **fields: Any) -> dict:
        info = self.info if self.has("run.json") else {}
        info.update(fields)
        self.write_json("run.json", info)
        return info

    def history(self, name: str = "history.json") -> dict[str, list]:
        """A history file as columns: {'epoch': [1, 2, ...], 'loss': [...], ...} ({} if absent)."""
        history = self.read_json(name) if self.has(name) else {}
        problem = history_problem(history)
        if problem:
            raise UsageError(f"{self.file(name)}: {problem}; the run directory is damaged")
        return history

    def metrics(self) -> dict[str, Any]:
        """metrics.json: {'metrics': {name: number}, 'check': {...}} ({} if absent)."""
        metrics = self.read_json("metrics.json") if self.has("metrics.json") else {}
        problem = metrics_problem(metrics)
        if problem:
            raise UsageError(f"{self.file('metrics.json')}: {problem}; the run directory is damaged")
        return metrics

    def spec(self):
        """The validated spec the run was made with (its spec.yaml)."""
        from dlcli.spec.loading import validate_spec
        from dlcli.spec.reading import read_yaml

        if not self.has("spec.yaml"):
            raise UsageError(f"{self}: no spec.yaml; not a complete run directory")
        raw = read_yaml(self.file("spec.yaml"))
        if not isinstance(raw, dict):
            raise UsageError(f"{self.file('spec.yaml')}: not a spec (a YAML mapping is expected); the run directory is damaged")
        spec = validate_spec(raw, self.file("spec.yaml"))
        for entry in spec.callbacks:  # the run's own copies: code from outside the run is never run by resume
            file = entry.arguments["path"].rpartition(":")[0] if entry.name == "Custom" else None
            if file and not Path(file).resolve().is_relative_to(self.path.resolve()):
                raise UsageError(f"{self.file('spec.yaml')}: custom callback {file} is outside the run directory; "
                                 f"a run keeps its callbacks' code in its callbacks/ folder")
        return spec

    def vocabulary(self) -> list[str] | None:
        """The vocabulary a text run was trained with (one token per line; line 1 is padding)."""
        if not self.has("vocabulary.txt"):
            return None
        return self.file("vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]

    def model_path(self) -> Path:
        """model.keras, which must exist and come from a dlcli that keeps preprocessing in the model."""
        if not self.has("model.keras"):
            status = self.status
            why = {"crashed": f"; resume it: dlcli resume {self}", "failed": f"; resume it: dlcli resume {self}",
                   "running": " yet"}.get(status, "; k-fold runs save one only with fit.retrain, and a run "
                                                   "interrupted before its first epoch ended has none")
            raise UsageError(f"{self}: no model.keras (status: {status}){why}")
        if self.info.get("format", 1) < FORMAT and self._data_name() in SCALED_BY_LOADER_BEFORE_2:
            raise UsageError(f"{self}: made by an older dlcli that scaled inputs outside the model; "
                             f"train it again to use it here")
        return self.file("model.keras")

    def _data_name(self) -> str | None:
        from dlcli.spec.reading import read_yaml

        raw = read_yaml(self.file("spec.yaml")) if self.has("spec.yaml") else None
        data = raw.get("data") if isinstance(raw, dict) else None
        return data.get("name") if isinstance(data, dict) else None

    def record_viz(self, entry: dict[str, Any]) -> None:
        """Add one visualisation's description to the run's viz/index.json, in place of the entries
        of the files it rewrote (so no two entries name one file), under viz/.index.lock so that
        two commands drawing into one run at once both keep their entries."""
        files = set(entry.get("files") or [])
        self.file("viz").mkdir(exist_ok=True)
        lock = Lock(self.file("viz/.index.lock"))
        for _ in range(200):  # another command's read-and-rewrite of the index takes milliseconds
            try:
                lock.acquire("viz index")
                break
            except Held:
                time.sleep(0.05)
        else:
            raise UsageError(f"{self.file('viz/index.json')}: held by another command for 10 s; try again")
        try:
            index = self.read_json("viz/index.json") if self.has("viz/index.json") else []
            if not isinstance(index, list):
                raise UsageError(f"{self.file('viz/index.json')}: not a JSON list of pictures; the run directory "
                                 "is damaged (move the file away and draw again)")
            kept = [item for item in index if not (isinstance(item, dict) and files & set(item.get("files") or []))]
            self.write_json("viz/index.json", [*kept, {**entry, "created_at": now()}])
        finally:
            lock.release()


def enclosing_run(path: str | Path) -> Path | None:
    """The run directory (a folder holding run.json) that `path` is, or lies in at any depth, links
    resolved; None outside every run."""
    resolved = Path(path).resolve()
    return next((folder for folder in (resolved, *resolved.parents) if (folder / "run.json").is_file()), None)


def probe_writable(target: Path) -> None:
    """Raise the OSError that creating `target` would meet: its nearest existing folder is not a
    folder, or a file cannot be made there."""
    existing = next((folder for folder in (target, *target.parents) if folder.exists()), None)
    if existing is None or not existing.is_dir():
        raise NotADirectoryError(f"{existing} is not a folder")
    handle, probe = tempfile.mkstemp(dir=existing, prefix=".dlcli-probe-")
    os.close(handle)
    os.unlink(probe)


def remove_abandoned_staging(parent: Path) -> None:
    """Delete the staging folders (`.NAME.part...`) of runs whose process died before publishing
    them: their lock is free."""
    for staging in parent.glob(".*.part*"):
        if staging.is_dir() and not staging.is_symlink() and is_held(staging / ".lock") is not True:
            shutil.rmtree(staging, ignore_errors=True)


# The fields of run.json that readers use, and the types dlcli writes them as (None is allowed).
INFO_TYPES: dict[str, tuple[type, ...]] = {
    "format": (int,), "status": (str,), "experiment": (str,), "spec_path": (str,), "started_at": (str,),
    "finished_at": (str,), "duration_s": (int, float), "command": (list,), "overrides": (list,),
    "seed": (int,), "versions": (dict,), "process": (dict,), "params": (int,), "model_files": (dict,),
    "class_names": (list,), "input_preprocessing": (list,), "data_info": (dict,), "initialized_from": (str,),
    "resumes": (list,), "error": (str,),
}
TYPE_NAMES = {int: "a whole number", float: "a number", str: "text", list: "a list", dict: "an object"}


def _type_problem(where: str, value: Any, types: tuple[type, ...]) -> str | None:
    if value is None or (isinstance(value, types) and not (isinstance(value, bool) and bool not in types)):
        return None
    return f"'{where}' should be {' or '.join(TYPE_NAMES[t] for t in types)}, not {json.dumps(value)[:40]}"


def info_problem(info: Any) -> str | None:
    """What makes a run.json unreadable for dlcli, or None."""
    if not isinstance(info, dict):
        return "not a JSON object"
    for key, types in INFO_TYPES.items():
        problem = _type_problem(key, info.get(key), types)
        if problem:
            return problem
    if info.get("status") not in (None, *STATUSES[:-1]):
        return f"'status' should be one of {', '.join(STATUSES[:-1])}, not {json.dumps(info['status'])[:40]}"
    for key, types in (("overrides", (str,)), ("resumes", (dict,)), ("class_names", (str,)), ("command", (str,))):
        for index, item in enumerate(info.get(key) or []):
            problem = _type_problem(f"{key}[{index}]", item, types)
            if problem:
                return problem
    return None


def history_problem(history: Any) -> str | None:
    """What makes a history.json unreadable (columns of numbers, all of one length), or None."""
    if not isinstance(history, dict):
        return "not a JSON object of columns"
    lengths = set()
    for name, column in history.items():
        if not isinstance(column, list):
            return f"column '{name}' should be a list, not {json.dumps(column)[:40]}"
        bad = next((value for value in column if value is not None and (isinstance(value, bool)
                                                                          or not isinstance(value, (int, float)))), None)
        if bad is not None:
            return f"column '{name}' holds {json.dumps(bad)[:40]}, not a number"
        lengths.add(len(column))
    return f"columns of different lengths ({', '.join(map(str, sorted(lengths)))})" if len(lengths) > 1 else None


def metrics_problem(metrics: Any) -> str | None:
    """What makes a metrics.json unreadable, or None."""
    if not isinstance(metrics, dict):
        return "not a JSON object"
    for key in ("metrics", "check"):
        if key in metrics and not isinstance(metrics[key], dict):
            return f"'{key}' should be an object, not {json.dumps(metrics[key])[:40]}"
    for name, value in (metrics.get("metrics") or {}).items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str, dict))):
            return f"metric '{name}' should be a number, not {json.dumps(value)[:40]}"
    return None


# Overrides that leave a run comparable with its source: another seed is another draw of the
# same recipe, and op determinism changes no arithmetic.
COMPARABLE_OVERRIDES = ("seed", "deterministic")


def recipe_changes(info: dict, source_info: dict | None = None) -> list[str]:
    """What makes a run differ from its source's recipe: how its resolved spec differed from the
    source experiment's when it started (run.json's `recipe_changes`, see reference.recipe_record;
    a run of an older dlcli has only its --set/--epochs overrides, other than the seed), a resume
    to another number of epochs, a resume forced past differences, or a model continued from a
    run (`source_info`) that itself changed its recipe."""
    recorded = info.get("recipe_changes")
    changes = [str(change) for change in recorded] if isinstance(recorded, list) else \
        [text for text in info.get("overrides") or [] if text.split("=", 1)[0].strip() not in COMPARABLE_OVERRIDES]
    for resumed in info.get("resumes") or []:
        changes += [f"resumed with {change}" for change in resumed.get("recipe_changes") or []]
        if resumed.get("forced"):
            changes.append(f"resumed with --force ({'; '.join(resumed.get('differences') or [])})")
    if source_info is not None and recipe_changes(source_info):
        changes.append(f"continued the model of {info.get('initialized_from')}, which changed its own recipe")
    return changes


def elapsed(start: float) -> float:
    return round(time.perf_counter() - start, 3)
