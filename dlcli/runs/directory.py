"""Run: one run directory: making it (staged, then published), opening it, its run.json (written
from runs.records), and the readers of what it holds; finding it by what a RUN names is
RunFinding's (dlcli.runs.finding), whose classmethods Run has.

A run whose run.json says `running` but whose writer is gone reads as `crashed`. How files are
named, and who may write them, is RunFiles' (dlcli.runs.files).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.locking import Held, Lock
from dlcli.runs import layout, references
from dlcli.runs.checks import CRASHED, history_problem, info_problem, metrics_problem
from dlcli.runs.encoding import dumps
from dlcli.runs.files import RunFiles
from dlcli.runs.finding import RunFinding
from dlcli.runs.layout import Entry
from dlcli.runs.liveness import process_gone
from dlcli.runs.location import check_new, check_writable, new_staging, publish_candidates
from dlcli.runs.records import FORMAT, now

# Datasets whose scaling moved from the loader into the model with format 2: a format-1 model of
# theirs expects scaled inputs, which nothing feeds it any more.
SCALED_BY_LOADER_BEFORE_2 = ("mnist", "fashion_mnist", "cifar10", "digits")


class Run(RunFiles, RunFinding):
    """One run's directory: `create` a new one, `open` an existing one, read and write its files."""

    def __init__(self, path: str | Path):
        super().__init__(path)
        self._target: Path | None = None  # where `publish` puts a run made with --run-dir

    # ------------------------------------------------------------------ creating and opening

    check_new = staticmethod(check_new)
    check_writable = staticmethod(check_writable)

    @classmethod
    def create(cls, experiment: str, explicit: str | Path | None = None) -> "Run":
        """A new run, made in a hidden staging folder (`.NAME.part<pid>`) and locked by this process;
        `publish` gives it its name once run.json exists, so no run directory is ever visible
        without its run.json. A killed process's staging folder is removed by the next `create`."""
        target = check_new(explicit) if explicit is not None else None
        run = cls(new_staging(experiment, target))
        run.lock("train")
        run._target = target
        return run

    def publish(self) -> None:
        """Move the staging folder to its name: `--run-dir`, else `<YYYYmmdd-HHMMSS>[-N]` (atomic:
        a name taken meanwhile is skipped)."""
        for path in publish_candidates(self.path, self._target):
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                continue
            try:
                os.rename(self.path, path)  # replaces at most an empty folder
            except OSError:  # taken meanwhile by another run
                continue
            self.path = path
            return
        where = f"--run-dir {self._target}" if self._target is not None else str(self.path.parent)
        raise UsageError(f"{where}: cannot name the new run directory (taken meanwhile); choose another")

    @classmethod
    def open(cls, path: str | Path, writer: bool = False, draws: bool = False) -> "Run":
        """An existing run (its directory, or NAME / NAME@N of an experiment: see `find`), to read;
        `writer`: and to write, holding its lock from now on (released by `release`); `draws`: and to
        add pictures to its viz/ (`record_viz`), plots/, samples/ and its report, keeping its times."""
        path = Path(path)
        if not (path / layout.INFO.name).is_file() and references.is_reference(str(path)):  # NAME or NAME@N
            path = cls.locate(str(path), "RUN")
        if not path.is_dir():
            raise UsageError(f"{path}: no such run directory")
        if not (path / layout.INFO.name).is_file():
            raise UsageError(f"{path}: not a run directory (no run.json); runs live in runs/<experiment>/<time>/")
        run = cls(path)
        if not isinstance(run.info, dict):
            raise UsageError(f"{run.file(layout.INFO)}: not a run.json (a JSON object is expected)")
        run._draws = draws
        if writer:
            run.lock("write")
        return run

    # ------------------------------------------------------------------ run.json

    @property
    def info(self) -> dict[str, Any]:
        """run.json as written, its fields of the types dlcli writes (else a UsageError naming it)."""
        info = self.read_json(layout.INFO)
        problem = info_problem(info)
        if problem:
            raise UsageError(f"{self.file(layout.INFO)}: {problem}; the run directory is damaged")
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
            return "running" if alive else CRASHED
        process = info.get("process") or {"pid": info.get("pid"), "host": socket.gethostname()}
        if self._lock is not None and self._lock_was_there and process.get("pid") != os.getpid():
            return CRASHED  # this process took the lock of the run's writer: that writer is gone
        return CRASHED if process_gone(process) else "running"

    def liveness_unknown(self) -> bool:
        """A `running` run whose writer cannot be told alive or dead: no lock of its own (an older
        dlcli), and a live pid without a start time (which may be another process by now)."""
        process = self.info.get("process") or {}
        return not self._lock_was_there and process.get("process_start") is None

    @property
    def experiment(self) -> str:
        return self.info.get("experiment") or self.path.parent.name

    def begin(self, record: dict[str, Any]) -> None:
        """run.json of a new run (runs.records.start_record)."""
        self.write_json(layout.INFO, record)

    def update(self, **fields: Any) -> dict:
        """Rewrite run.json with these fields changed (runs.records builds them)."""
        self._must_write(layout.INFO.name)
        info = self.info if self.has(layout.INFO) else {}
        info.update(fields)
        self.write_json(layout.INFO, info)
        return info

    def record_failure(self, **fields: Any) -> None:
        """run.json's `failed`, even on a full disk: atomically if it can be, else rewritten in place,
        without the traceback (the blocks run.json already holds fit what it must say)."""
        self._must_write(layout.INFO.name)
        try:
            self.update(**fields)
        except OSError:
            info = {**self.info, **fields, "traceback": None}
            with open(self.file(layout.INFO), "r+", encoding="utf-8") as handle:
                handle.write(dumps(info))
                handle.truncate()

    # ------------------------------------------------------------------ what a run holds

    def history(self, name: str | Entry = layout.HISTORY, **parts: Any) -> dict[str, list]:
        """A history file as columns: {'epoch': [1, 2, ...], 'loss': [...], ...} ({} if absent)."""
        history = self.read_json(name, **parts) if self.has(name, **parts) else {}
        problem = history_problem(history)
        if problem:
            raise UsageError(f"{self.file(name, **parts)}: {problem}; the run directory is damaged")
        return history

    def metrics(self) -> dict[str, Any]:
        """metrics.json: {'metrics': {name: number}, 'check': {...}} ({} if absent)."""
        metrics = self.read_json(layout.METRICS) if self.has(layout.METRICS) else {}
        problem = metrics_problem(metrics)
        if problem:
            raise UsageError(f"{self.file(layout.METRICS)}: {problem}; the run directory is damaged")
        return metrics

    def spec(self):
        """The validated spec the run was made with (its spec.yaml, loaded as `train` loads a spec
        file), whose custom callbacks are the run's own copies."""
        from dlcli.spec.loading import load_spec

        if not self.has(layout.SPEC):
            raise UsageError(f"{self}: no spec.yaml; not a complete run directory")
        spec, _ = load_spec(str(self.file(layout.SPEC)))
        for entry in spec.callbacks:  # the run's own copies: code from outside the run is never run by resume
            file = entry.arguments["path"].rpartition(":")[0] if entry.name == "Custom" else None
            if file and not Path(file).resolve().is_relative_to(self.path.resolve()):
                raise UsageError(f"{self.file(layout.SPEC)}: custom callback {file} is outside the run directory; "
                                 f"a run keeps its callbacks' code in its callbacks/ folder")
        return spec

    def vocabulary(self) -> list[str] | None:
        """The vocabulary a text run was trained with, exactly: vocabulary.json's list, else
        vocabulary.txt's lines (a word vocabulary: line 1 is padding); None for other runs."""
        if self.has(layout.VOCABULARY_JSON):
            tokens = self.read_json(layout.VOCABULARY_JSON)
            if not (isinstance(tokens, list) and all(isinstance(token, str) for token in tokens)):
                raise UsageError(f"{self.file(layout.VOCABULARY_JSON)}: not a JSON list of strings; the run "
                                 "directory is damaged")
            return tokens
        if not self.has(layout.VOCABULARY):
            return None
        return self.file(layout.VOCABULARY).read_text(encoding="utf-8").split("\n")[:-1]

    def write_vocabulary(self, tokens: list[str]) -> None:
        """vocabulary.txt, one token a line, as every run before chapter 8 wrote it; a vocabulary with
        a line break inside a token (a character model's "\\n" or "\\r") goes to vocabulary.json."""
        if any("\n" in token or "\r" in token for token in tokens):
            self.write_json(layout.VOCABULARY_JSON, list(tokens))
        else:
            self.write_text(layout.VOCABULARY, "".join(f"{token}\n" for token in tokens))

    def model_path(self) -> Path:
        """model.keras, which must exist and come from a dlcli that keeps preprocessing in the model."""
        if not self.has(layout.MODEL):
            from dlcli.runs.advice import continue_run

            status = self.status
            why = {"crashed": f"; {continue_run(self, status)}", "failed": f"; {continue_run(self, status)}",
                   "running": " yet"}.get(status, "; k-fold runs save one only with fit.retrain, and a run "
                                                   "interrupted before its first epoch ended has none")
            raise UsageError(f"{self}: no model.keras (status: {status}){why}")
        if self.info.get("format", 1) < FORMAT and self._data_name() in SCALED_BY_LOADER_BEFORE_2:
            raise UsageError(f"{self}: made by an older dlcli that scaled inputs outside the model; "
                             f"train it again to use it here")
        return self.file(layout.MODEL)

    def _data_name(self) -> str | None:
        from dlcli.spec.reading import read_yaml

        raw = read_yaml(self.file(layout.SPEC)) if self.has(layout.SPEC) else None
        data = raw.get("data") if isinstance(raw, dict) else None
        return data.get("name") if isinstance(data, dict) else None

    def record_viz(self, entry: dict[str, Any]) -> None:
        """Add one visualisation's description to the run's viz/index.json, in place of the entries
        of the files it rewrote (so no two entries name one file), under viz/.index.lock so that
        two commands drawing into one run at once both keep their entries."""
        self._must_write(layout.VIZ_INDEX.name)
        files = set(entry.get("files") or [])
        self.output(layout.VIZ)
        lock = Lock(self.file(layout.VIZ_INDEX_LOCK))
        for _ in range(200):  # another command's read-and-rewrite of the index takes milliseconds
            try:
                lock.acquire("viz index")
                break
            except Held:
                time.sleep(0.05)
        else:
            raise UsageError(f"{self.file(layout.VIZ_INDEX)}: held by another command for 10 s; try again")
        try:
            index = self.read_json(layout.VIZ_INDEX) if self.has(layout.VIZ_INDEX) else []
            if not isinstance(index, list):
                raise UsageError(f"{self.file(layout.VIZ_INDEX)}: not a JSON list of pictures; the run directory "
                                 "is damaged (move the file away and draw again)")
            kept = [item for item in index if not (isinstance(item, dict) and files & set(item.get("files") or []))]
            self.write_json(layout.VIZ_INDEX, [*kept, {**entry, "created_at": now()}])
        finally:
            lock.release()
