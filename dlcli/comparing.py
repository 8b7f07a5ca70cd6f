"""`dlcli compare`: several runs' final metrics and verdicts side by side, and which spec values
(each spec flattened to its paths) and metrics differ between them."""

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
    """Several runs side by side: each run's final metrics and verdict, and which spec values and
    metrics differ between them (`differing_spec_keys`, `differing_metric_names`) and how many are
    the same in every run (`equal_counts`), so a reader can show only what tells them apart."""
    from dlcli.spec.reading import read_yaml

    rows, specs, unreadable = [], [], []
    for path in run_paths:
        try:  # a damaged run is reported and the others compared: `compare runs/x/*` over a run that broke
            run = Run.open(path)
            stored = run.metrics()
            spec_data = read_yaml(run.file(layout.SPEC)) if run.has(layout.SPEC) else {}
            row = {"run": str(run), "run_dir": str(run.path.resolve()), "experiment": run.experiment,
                   "status": run.status, "check": stored.get("check") or {"status": "none", "checks": []},
                   "metrics": stored.get("metrics", {})}
        except DlcliError as error:
            unreadable.append({"run": str(path), "error": str(error)})
            continue
        spec_data = spec_data if isinstance(spec_data, dict) else {}
        specs.append(flatten({k: v for k, v in spec_data.items() if k not in ("description", "notes", "reference")}))
        rows.append(row)
    if not rows:
        raise UsageError(unreadable[0]["error"] + (f" (and {len(unreadable) - 1} more unreadable runs)"
                                                   if len(unreadable) > 1 else ""))
    spec_keys = sorted(set().union(*specs))
    differing = _differing(spec_keys, specs)
    for row, flat in zip(rows, specs):
        row["spec"] = {k: flat.get(k) for k in differing}
    metric_names = sorted(set().union(*(row["metrics"] for row in rows)))
    differing_metrics = _differing(metric_names, [row["metrics"] for row in rows])
    return {"runs": rows, "differing_spec_keys": differing, "metric_names": metric_names,
            "differing_metric_names": differing_metrics,
            "equal_counts": {"spec": len(spec_keys) - len(differing),
                             "metrics": len(metric_names) - len(differing_metrics)},
            "unreadable": unreadable}


def _differing(keys: list[str], values: list[dict[str, Any]]) -> list[str]:
    """The keys whose value is not the same in every mapping (absent from one counts as different)."""
    return [key for key in keys if len({repr(mapping.get(key, _ABSENT)) for mapping in values}) > 1]


_ABSENT = object()  # a key a run lacks differs from every value, None included
