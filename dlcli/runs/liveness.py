"""Which process writes a run, and whether it still lives (for runs without a lock of their own)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def this_process() -> dict[str, Any]:
    """Who writes a run: enough to tell later whether that process still lives."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "process_start": process_start(os.getpid())}


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def process_gone(process: dict) -> bool:
    """Whether the process run.json names is dead: its pid is free, or taken by a later process.
    A process of another machine is never called gone: this one cannot tell."""
    if process.get("host") != socket.gethostname() or not process.get("pid"):
        return False
    try:
        os.kill(process["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    started = process.get("process_start")
    return started is not None and process_start(process["pid"]) not in (None, started)
