"""The page of several runs side by side: only what differs between them (spec values and final
metrics), their verdicts, and their curves overlaid, each labelled by what sets it apart."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from dlcli.runs import Run

MAX_LABEL = 48  # characters of a curve's label


def differing(flat: list[dict[str, Any]]) -> list[str]:
    """The keys whose values are not the same in every one of `flat` (a missing key differs)."""
    keys = sorted(set().union(*flat)) if flat else []
    return [key for key in keys if len({repr(one.get(key)) for one in flat}) > 1]


def labels(runs: list[Run], spec_rows: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """A curve's label: what differs in its spec (`fit.epochs=2`), else its experiment, its folder's
    name when runs share one."""
    names = [run.experiment for run in runs]
    out = []
    for run, name, row in zip(runs, names, spec_rows):
        text = ", ".join(f"{key}={row.get(key)}" for key in keys if key not in ("name",))
        if not text or len(text) > MAX_LABEL:
            text = name if names.count(name) == 1 else f"{name} {run.path.name}"
        out.append(text[:MAX_LABEL])
    return out


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
    from dlcli.comparing import flatten
    from dlcli.report.page import read_spec, run_page
    from dlcli.report.pictures import curves_figure, figure_uri

    pages = [run_page(run) for run in runs]
    specs = [flatten({key: value for key, value in read_spec(run).items()
                      if key not in ("description", "notes", "reference", "runtime")}) for run in runs]
    spec_keys = differing(specs)
    metric_keys = [key for key in differing([page["metrics"] for page in pages])]
    same_metrics = sorted(set().union(*(page["metrics"] for page in pages)) - set(metric_keys))
    histories = []
    for run, label in zip(runs, labels(runs, specs, spec_keys)):
        try:
            histories.append((label, run.history()))
        except Exception:  # noqa: BLE001  a damaged history is said on the run's row (page problems)
            histories.append((label, {}))
    bases = []
    for _, history in histories:
        for key in history:
            base = key.removeprefix("val_")
            if base not in ("epoch", "learning_rate", "lr") and base not in bases:
                bases.append(base)
    curves = figure_uri(curves_figure(histories, bases, title="validation curves, overlaid")) \
        if bases and any(history.get("epoch") for _, history in histories) else None
    return {"pages": pages, "labels": [label for label, _ in histories],
            "spec_keys": spec_keys, "specs": [{key: spec.get(key) for key in spec_keys} for spec in specs],
            "metric_keys": metric_keys, "same_metrics": same_metrics, "curves": curves}


def runs_html(runs: list[Run], generated_at: str) -> str:
    from dlcli.report.rendering import render

    return render("runs.html.j2", page=runs_page(runs), generated_at=generated_at)
