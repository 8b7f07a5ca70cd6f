"""RunFiles: the files of one run directory, by their layout names, and who may write them.

Paths into a run come from the layout (`dlcli.runs.layout`) through `file` (to read, or for the
pictures `plot` and `visualize` write through dlcli.outputs into plots/ and viz/) or `output` (to
write, for Keras, h5py or Graphviz); a name the layout does not list is refused (a bug). Only a
writer writes: the process that holds the run's lock (`Run.create`, `Run.lock`,
`Run.open(path, writer=True)`), or a command that adds pictures or the report (`Run.open(path,
draws=True)`: viz/, plots/, samples/ and report.html only). Any other (`Run.open`, `Run(path)`, a worker other than process 0) refuses
every write with `NotAWriter`. The files RunFiles writes itself are written atomically
(dlcli.atomic).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

from dlcli.atomic import write_text_atomic
from dlcli.errors import UsageError
from dlcli.locking import Lock, is_held, take
from dlcli.runs import layout
from dlcli.runs.encoding import dumps
from dlcli.runs.layout import Entry
from dlcli.runs.location import run_times_kept


# The folders a command that draws from a finished run may add to, and the report it may rewrite
# (Run.open(path, draws=True)).
DRAWN = (layout.VIZ.name, layout.PLOTS.name, layout.SAMPLES.name, layout.REPORT.name)


class NotAWriter(RuntimeError):
    """A write through a Run that may not write it (a reader, a worker other than process 0): a bug."""


class RunFiles:
    """A run directory's files, and the lock that makes this process their writer."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock: Lock | None = None
        self._lock_was_there = False
        self._draws = False

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ one writer at a time

    def lock(self, purpose: str) -> None:
        """Hold the run against other writers until `release` (or the process ends), and write it;
        refused at once, naming the holder, while another process holds it."""
        if self._lock is not None:
            return
        self._lock_was_there = self.has(layout.LOCK)
        self._lock = take(self.file(layout.LOCK), purpose, self)

    def release(self) -> None:
        """Let other writers in; this Run writes nothing more."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def writes(self) -> bool:
        """Whether this Run may write the run: it holds the run's lock."""
        return self._lock is not None

    def _must_write(self, name: str) -> None:
        """Refuse a write this Run may not make: only a writer writes, and a drawing command only
        into viz/, plots/, samples/ and report.html."""
        if self.writes or (self._draws and name.split("/")[0] in DRAWN):
            return
        raise NotAWriter(f"{self}: {name} not written: this process does not hold the run (a bug in dlcli: "
                         f"only Run.create or Run.lock make a writer)")

    def _writer_alive(self) -> bool | None:
        """Whether the process that wrote `running` still holds the run; None when the run has no
        lock file (made by an older dlcli): then only its pid can tell."""
        if self._lock is not None:  # this process holds it: the writer is this process, or gone
            return None
        return is_held(self.file(layout.LOCK))

    # ------------------------------------------------------------------ files

    def file(self, name: str | Entry, **parts: Any) -> Path:
        """The path of a file or folder of the run, to read; `parts` fill in a name's {placeholders}."""
        return self.path / self._name(name, parts)

    def output(self, name: str | Entry, **parts: Any) -> Path:
        """The path of a file or folder of the run, to write (by Keras, h5py, matplotlib...), its
        folder made. Only a writer may ask."""
        text = self._name(name, parts)
        self._must_write(text)
        entry = layout.entry_of(text)
        path = self.path / text
        with self._times_kept():
            (path if entry.folder and entry.matches(text) else path.parent).mkdir(parents=True, exist_ok=True)
        return path

    def _times_kept(self):
        """A command that draws from a run (no lock: `Run.open(path, draws=True)`) leaves the run
        directory's times as they were (runs.location.run_times_kept); its writer does not."""
        return contextlib.nullcontext() if self.writes else run_times_kept(self.path)

    @staticmethod
    def _name(name: str | Entry, parts: dict) -> str:
        text = name.at(**parts) if isinstance(name, Entry) else name
        if layout.entry_of(text) is None:
            raise ValueError(f"{text}: not in the run directory layout (dlcli.runs.layout); add it there first")
        return text

    def has(self, name: str | Entry, **parts: Any) -> bool:
        return self.file(name, **parts).exists()

    def contents(self) -> list[tuple[Entry, list[Path]]]:
        """What the run holds, entry by entry in layout order, each with its paths (layout.present)."""
        return layout.present(self.path)

    def read_json(self, name: str | Entry, **parts: Any) -> Any:
        """A JSON file of the run; an unreadable one is a UsageError naming it (exit 2)."""
        path = self.file(name, **parts)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{path}: unreadable ({error}); the run directory is damaged") from None

    def write_json(self, name: str | Entry, data: Any, **parts: Any) -> None:
        self.write_text(name, dumps(data), **parts)

    def write_text(self, name: str | Entry, text: str, **parts: Any) -> None:
        with self._times_kept():
            write_text_atomic(self.output(name, **parts), text)

    def remove_leftovers(self) -> list[Path]:
        """Delete the temporary files and folders (`.NAME.part...`) that a killed writer left behind;
        call it only while no process runs in this directory."""
        self._must_write("leftovers")
        leftovers = sorted(self.path.rglob(".*.part*"), key=lambda path: -len(path.parts))
        for path in leftovers:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return leftovers
