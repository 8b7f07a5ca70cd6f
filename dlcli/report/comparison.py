"""The page of several runs side by side: only what differs between them (spec values and final
metrics), their verdicts, and their curves overlaid as `dlcli plot` overlays them (each labelled
by the settings that set it apart)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from dlcli.runs import Run


def differing(flat: list[dict[str, Any]]) -> list[str]:
    """The keys whose values are not the same in every one of `flat` (a missing key differs)."""
    keys = sorted(set().union(*flat)) if flat else []
    return [key for key in keys if len({repr(one.get(key)) for one in flat}) > 1]


def runs_file_name(runs: list[Run]) -> str:
    """report-<experiments>-<hash>.html: readable, and the hash of every run's folder keeps two
    different sets of runs of the same experiments apart."""
    names = []
    for run in runs:
        if run.experiment not in names:
            names.append(run.experiment)
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", "-vs-".join(names))[:80]
    digest = hashlib.sha256("\n".join(str(run.path.resolve()) for run in runs).encode()).hexdigest()[:8]
    return f"report-{readable}-{digest}.html"


def runs_page(runs: list[Run]) -> dict[str, Any]:
    """What the page of several runs shows: each run's page without its pictures, the spec values and
    final metrics that differ (and the metrics that do not), the curves overlaid."""
    from dlcli.comparing import flatten
    from dlcli.report.page import curves, read_spec, run_page

    pages = [run_page(run, whole=False) for run in runs]
    specs = [flatten({key: value for key, value in read_spec(run).items()
                      if key not in ("description", "notes", "reference", "runtime")}) for run in runs]
    spec_keys = differing(specs)
    metric_keys = differing([page["metrics"] for page in pages])
    same_metrics = sorted(set().union(*(page["metrics"] for page in pages)) - set(metric_keys))
    return {"pages": pages,
            "spec_keys": spec_keys, "specs": [{key: spec.get(key) for key in spec_keys} for spec in specs],
            "metric_keys": metric_keys, "same_metrics": same_metrics, "curves": curves(runs)}


def runs_html(runs: list[Run], generated_at: str) -> str:
    from dlcli.report.rendering import render

    return render("runs.html.j2", page=runs_page(runs), generated_at=generated_at)
