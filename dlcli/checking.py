"""`dlcli check`: a completed run's verdict against its spec's reference, judged again (the
baselines it is judged by may be newer) and stored in its metrics.json, under the run's lock."""

from __future__ import annotations

from typing import Any

from dlcli.errors import UsageError
from dlcli.runs import Run, layout


def check(run_path: str) -> dict[str, Any]:
    """The run's verdict against its spec's reference, recomputed (baselines may be newer); its
    recipe is judged by what run.json recorded when it started (see recipe_source.recipe_record)."""
    from dlcli.reference import run_verdict
    from dlcli.runs.advice import continue_run

    run = Run.open(run_path)
    spec = run.spec()
    status = run.status
    if status != "completed" or not run.has(layout.METRICS):
        raise UsageError(f"{run}: the run is '{status}', not completed; nothing to check"
                         + (f" ({continue_run(run, status)})" if status in ("interrupted", "failed", "crashed") else ""))
    stored = run.metrics()
    verdict = run_verdict(run, spec, stored.get("metrics", {}), run.history())
    run.lock("check")  # metrics.json's verdict is rewritten: one writer at a time
    try:
        run.write_json(layout.METRICS, {**stored, "check": verdict})
    finally:
        run.release()
    return {"run_dir": str(run), "status": status, "experiment": spec.name, "check": verdict}
