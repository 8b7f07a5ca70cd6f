"""RUN references: what a command's RUN argument may name, besides a run directory's path.

- `NAME`: the latest completed run of the experiment NAME under the runs root;
- `NAME@N`: the N-th latest (`NAME@1` is `NAME`, `NAME@2` the one before it).

`resume` counts the runs it can continue instead (interrupted, failed or crashed). Runs are
ordered by their directory's name, `<YYYYmmdd-HHMMSS>[-N]`, which is when each was published.
`Run.find` (dlcli.runs.directory) resolves a reference with these helpers and says on stderr
which run it took.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from dlcli.errors import UsageError
from dlcli.runs.location import name_order, runs_root

# NAME or NAME@N: one path component (an experiment's file stem), never a path.
REFERENCE = re.compile(r"(?P<name>[^/\\@]+)(?:@(?P<nth>\d+))?")
COMPLETED = ("completed",)
RESUMABLE = ("interrupted", "failed", "crashed")


def is_reference(text: str) -> bool:
    """Whether `text` has the form of NAME or NAME@N (it may still name nothing)."""
    return REFERENCE.fullmatch(text) is not None and os.sep not in text and text not in (".", "..")


def parse(text: str, where: str) -> tuple[str, int]:
    """(NAME, N) of `NAME` or `NAME@N`; N counts from 1."""
    match = REFERENCE.fullmatch(text)
    nth = int(match["nth"]) if match["nth"] is not None else 1
    if nth < 1:
        raise UsageError(f"{where}: '{text}': NAME@N counts from 1 (NAME@1 is the latest run, NAME@2 the one before)")
    return match["name"], nth


def run_folders(experiment: str) -> list[Path]:
    """The run directories of an experiment under the runs root, newest first (hidden staging
    folders aside)."""
    parent = runs_root() / experiment
    if not parent.is_dir():
        return []
    folders = [path for path in parent.iterdir() if path.is_dir() and not path.name.startswith(".")]
    return sorted(folders, key=lambda path: name_order(path.name), reverse=True)


def ordinal(nth: int) -> str:
    """'', '2nd ', '3rd ', '11th '...: which of the latest runs, as a word before 'latest'."""
    if nth == 1:
        return ""
    suffix = "th" if 10 <= nth % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(nth % 10, "th")
    return f"{nth}{suffix} "


def kind_of(statuses: tuple[str, ...]) -> str:
    """How a message names the runs a reference counts: 'completed' or 'resumable'."""
    return "completed" if statuses == COMPLETED else "resumable"


def none_left(where: str, reference: str, statuses: tuple[str, ...], found: int, others: list[str] = ()) -> str:
    """The message for NAME@N when NAME has only `found` runs of `statuses` (0: none at all);
    `others`: the statuses of all its runs, counted in the message when none is completed."""
    name, nth = parse(reference, where)
    kind = kind_of(statuses)
    if found:
        return (f"{where}: {reference}: {name} has {found} {kind} run{'s' * (found > 1)} under {runs_root()}, "
                f"not {nth} (see `dlcli runs {name}`)")
    if statuses == COMPLETED and others:  # an interrupted or failed one may be resumed rather than trained anew
        counted = ", ".join(f"{count} {status}" for status, count in Counter(others).items())
        then = (f"resume it (dlcli resume {name}) or train it anew (dlcli train {name})"
                if any(status in RESUMABLE for status in others) else f"train it anew: dlcli train {name}")
        return f"{where}: no completed run of '{name}' under {runs_root()} (its runs: {counted}; see `dlcli runs {name}`); {then}"
    if statuses == COMPLETED:
        return f"{where}: no completed run of '{name}' under {runs_root()}; train it first: dlcli train {name}"
    return (f"{where}: no resumable run of '{name}' under {runs_root()} (interrupted, failed or crashed); "
            f"see `dlcli runs {name}`")


def shown(path: Path) -> str:
    """A run directory as a user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
