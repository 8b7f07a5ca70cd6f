"""What makes a run's JSON files unreadable for dlcli: each check says what is wrong, or None.

A reader that finds a problem names the file and calls the run directory damaged (exit 2)
instead of failing later on a value of the wrong type.
"""

from __future__ import annotations

import json
from typing import Any

from dlcli.backend import BACKENDS

STATUSES = ("running", "completed", "failed", "interrupted")  # as run.json records them
# A `running` run whose writer is gone reads as this (never written into run.json).
CRASHED = "crashed"

# The fields of run.json that readers use, and the types dlcli writes them as (None is allowed).
INFO_TYPES: dict[str, tuple[type, ...]] = {
    "format": (int,), "status": (str,), "experiment": (str,), "spec_path": (str,), "started_at": (str,),
    "finished_at": (str,), "duration_s": (int, float), "command": (list,), "overrides": (list,),
    "seed": (int,), "versions": (dict,), "process": (dict,), "params": (int,), "model_files": (dict,),
    "class_names": (list,), "input_preprocessing": (list,), "data_info": (dict,), "initialized_from": (str,),
    "resumes": (list,), "error": (str,), "backend": (str,), "compilation": (dict,), "workers": (dict,),
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
    if info.get("status") not in (None, *STATUSES):
        return f"'status' should be one of {', '.join(STATUSES)}, not {json.dumps(info['status'])[:40]}"
    if info.get("backend") not in (None, *BACKENDS):  # commands on the run import Keras on it
        return f"'backend' should be one of {', '.join(BACKENDS)}, not {json.dumps(info['backend'])[:40]}"
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
