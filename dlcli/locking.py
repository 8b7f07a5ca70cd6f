"""One writer at a time: an advisory lock (flock) on a file, held from a command's check to its end.

A run, a sweep or a dataset being written holds `.lock` (flock, exclusive). A second writer is
refused at once, with who holds it (the lock file says which command, pid, host and since when).
The kernel releases a flock when its process dies, however it dies, so a lock never outlives its
holder, and a lock that can be taken proves that no writer is left.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

from dlcli.errors import UsageError

try:
    import fcntl
except ImportError:  # no flock (Windows): no locks, as before
    fcntl = None


class Held(Exception):
    """The lock is held by another writer; `holder` describes it (one line)."""

    def __init__(self, path: Path, holder: str):
        super().__init__(holder)
        self.path, self.holder = path, holder


class Lock:
    """An exclusive flock on `path`, taken at once or not at all (`Held`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._handle = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._handle is not None

    def acquire(self, purpose: str, waiting=None) -> "Lock":
        """Take the lock now, else raise `Held`; with `waiting` (called with the holder's description),
        wait for it instead."""
        handle = open(self.path, "a+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is None:
                    handle.close()
                    raise Held(self.path, describe_holder(self.path)) from None
                waiting(describe_holder(self.path))
                fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose,
                                 "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300],
                                 "since": datetime.now().astimezone().isoformat(timespec="seconds")}))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the last descriptor releases the flock
            self._handle = None

    def __enter__(self) -> "Lock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def take(path: str | Path, purpose: str, owner: object) -> Lock:
    """The lock on `path` for the writer of `owner` (a run or sweep folder), taken now; else one
    line (UsageError, exit 2) naming who holds it, or why the lock file cannot be made."""
    try:
        return Lock(path).acquire(purpose)
    except Held as held:
        raise UsageError(f"{owner}: in use by {held.holder}; wait for it to end, or stop it") from None
    except OSError as error:
        raise UsageError(f"{owner}: cannot be locked for writing ({error})") from None


def is_held(path: str | Path) -> bool | None:
    """Whether some process holds the lock at `path`; None when there is no lock file (or no flock)."""
    if fcntl is None:
        return None
    try:
        handle = open(path, "rb")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return None
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def describe_holder(path: str | Path) -> str:
    """'dlcli resume runs/x (pid 412 on host, since 2026-12-03T10:01:02+00:00)', from the lock file."""
    try:
        holder = json.loads(Path(path).read_text(encoding="utf-8"))
        return (f"{holder['command']} (pid {holder['pid']} on {holder['host']}, since {holder['since']})"
                if isinstance(holder, dict) else "another process")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
