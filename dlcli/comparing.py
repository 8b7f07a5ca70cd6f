"""`dlcli compare`: several runs' final metrics side by side, and the spec values that differ
between them (each spec flattened to its paths)."""

from __future__ import annotations

from typing import Any

from dlcli.errors import DlcliError, UsageError
from dlcli.runs import Run, layout


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{'fit.epochs': 20, 'model.layers[0].Dense.units': 32, ...}: every value by its path (a list
    of mappings by index, any other list whole)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for index, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix: data}


def compare_runs(run_paths: list[str]) -> dict[str, Any]:
    """Final metrics of several runs, and the spec values that differ between them."""
    from dlcli.spec.reading import read_yaml

    rows, specs, unreadable = [], [], []
    for path in run_paths:
        try:  # a damaged run is reported and the others compared: `compare runs/x/*` over a run that broke
            run = Run.open(path)
            stored = run.metrics()
            spec_data = read_yaml(run.file(layout.SPEC)) if run.has(layout.SPEC) else {}
            row = {"run": str(run), "experiment": run.experiment, "status": run.status,
                   "check": (stored.get("check") or {}).get("status", "none"), "metrics": stored.get("metrics", {})}
        except DlcliError as error:
            unreadable.append({"run": str(path), "error": str(error)})
            continue
        spec_data = spec_data if isinstance(spec_data, dict) else {}
        specs.append(flatten({k: v for k, v in spec_data.items() if k not in ("description", "notes", "reference")}))
        rows.append(row)
    if not rows:
        raise UsageError(unreadable[0]["error"] + (f" (and {len(unreadable) - 1} more unreadable runs)"
                                                   if len(unreadable) > 1 else ""))
    keys = sorted(set().union(*specs)) if specs else []
    differing = [k for k in keys if len({repr(s.get(k)) for s in specs}) > 1]
    for row, flat in zip(rows, specs):
        row["spec"] = {k: flat.get(k) for k in differing}
    metric_names = sorted(set().union(*(row["metrics"] for row in rows))) if rows else []
    return {"runs": rows, "differing_spec_keys": differing, "metric_names": metric_names, "unreadable": unreadable}
