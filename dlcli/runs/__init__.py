"""The run directory (a **contract**): one owner of every file a run holds.

- `layout`: every file and folder a run may hold, what writes it, what it holds;
- `files.RunFiles`: paths by layout name, and the writer role (only the lock holder writes);
- `directory.Run`: making (staged, published) and opening a run, run.json, the readers;
- `finding`: the run a RUN argument names, or an experiment's latest completed one (Run's
  classmethods `find`, `locate`, `latest_completed`);
- `records`: what run.json records at start, resume, close and failure;
- `location`: where runs (and sweeps) live and new ones go, and a reader's additions that keep a
  run's times; `liveness`: whose process a run is, alive or not;
- `references`: what a RUN argument may name besides a path (NAME, NAME@N); `listing`: the rows of
  `dlcli runs`, every run and sweep trial newest first;
- `checks`: what makes a run's JSON unreadable; `recipe`: what makes a run not comparable;
- `encoding`: JSON as dlcli writes it.
"""

from dlcli.runs.checks import STATUSES, history_problem, info_problem, metrics_problem
from dlcli.runs.directory import Run
from dlcli.runs.encoding import dumps, plain
from dlcli.runs.files import NotAWriter
from dlcli.runs.liveness import this_process
from dlcli.runs.location import enclosing_run, probe_writable, remove_abandoned_staging, runs_root
from dlcli.runs.recipe import COMPARABLE_OVERRIDES, recipe_changes
from dlcli.runs.records import FORMAT, elapsed, now

__all__ = [
    "COMPARABLE_OVERRIDES", "FORMAT", "NotAWriter", "Run", "STATUSES", "dumps", "elapsed", "enclosing_run",
    "history_problem", "info_problem", "metrics_problem", "now", "plain", "probe_writable", "recipe_changes",
    "remove_abandoned_staging", "runs_root", "this_process",
]
