"""Did a run reproduce its source? Verdicts from a spec's `reference` block.

A reference may give a number (`metric`, `value`, `tolerance`, `direction`) and claims about
the learning curves (see spec.Claim). The verdict is 'passed', 'differs' (a number outside the
tolerance: better or worse than the source, and by how much), 'failed' (a claim does not hold),
'unverifiable' (a baseline run is missing, or a metric was not produced), 'not comparable' (the
run's resolved spec differs from its source experiment's beyond the seed: see dlcli.recipe_source) or
'none' (no reference). Each is worse than the next-named one, 'passed' aside: the verdict is the
worst of its checks.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np


def smooth_curve(points: list[float], factor: float) -> list[float]:
    """The book's smooth_curve (3.31): an exponential moving average, first point unchanged."""
    smoothed: list[float] = []
    for point in points:
        smoothed.append(smoothed[-1] * factor + point * (1 - factor) if smoothed else point)
    return smoothed


def curve_statistic(history: dict[str, list], claim) -> float | None:
    values = history.get(claim.metric)
    if not values:
        return None
    values = [float("nan") if v is None else float(v) for v in values][claim.skip_first :]
    epochs = list(history.get("epoch", range(1, len(values) + 1 + claim.skip_first)))[claim.skip_first :]
    if not values:
        return None
    if claim.smooth:
        values = smooth_curve(values, claim.smooth)
    array = np.asarray(values, dtype="float64")
    if not np.isfinite(array).any():  # a diverged curve: no statistic (NumPy warns, or raises for argmin)
        return float("nan")
    if claim.statistic == "final":
        return float(array[-1])
    if claim.statistic in ("min", "max"):
        return float(np.nanmin(array) if claim.statistic == "min" else np.nanmax(array))
    index = int(np.nanargmin(array) if claim.statistic == "argmin" else np.nanargmax(array))
    return float(epochs[index])


def _compare(relation: str, actual: float, expected: Any) -> bool:
    if relation == "between":
        return expected[0] <= actual <= expected[1]
    return {
        "greater": actual > expected,
        "less": actual < expected,
        "greater_or_equal": actual >= expected,
        "less_or_equal": actual <= expected,
    }[relation]


def better_way(check) -> str | None:
    """'higher' or 'lower': the check's `better`, else from its metric's name (loss, mae, error...
    lower; acc, auc... higher), else None: a count, a model's output or an epoch number (a
    claim's argmin) is neither better higher nor lower."""
    from dlcli.training.callbacks import monitor_mode

    if check.better is not None:
        return check.better
    if getattr(check, "statistic", None) in ("argmin", "argmax"):
        return None
    return {"min": "lower", "max": "higher"}.get(monitor_mode(check.metric))


def _off_by(check, actual: float, target: float) -> dict:
    """Which way `actual` is off `target` (better or worse where that is known, else higher or
    lower) and by how much."""
    better = better_way(check)
    higher = actual > target
    direction = ("better" if higher == (better == "higher") else "worse") if better else \
        ("higher" if higher else "lower")
    return {"direction": direction, "margin": abs(actual - target)}


def _missed(check, result: dict, missed_status: str) -> dict:
    """A result outside what the source says: `missed_status`, or passed when it is better and
    the reference says beating the source counts (`better_counts`)."""
    if result["direction"] == "better" and check.better_counts:
        return {**result, "status": "passed", "note": "better_counts: beating the source counts"}
    return {**result, "status": missed_status}


def _finite(value: Any) -> bool:
    """A real number that is not NaN or infinite (JSON from a run may hold anything)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def value_check(reference, metrics: dict[str, Any]) -> dict:
    """One number against the source's: passed, `differs` (outside the tolerance, with the
    direction and the margin from the source's value), or unverifiable (no such metric).

    A result better than the source by more than the tolerance passes only where the reference
    says `better_counts: true`; otherwise it differs, which --check treats as not reproduced."""
    actual = metrics.get(reference.metric)
    if reference.direction == "at_least":
        expected, ok = f">= {reference.value - reference.tolerance:g}", lambda a: a >= reference.value - reference.tolerance
    elif reference.direction == "at_most":
        expected, ok = f"<= {reference.value + reference.tolerance:g}", lambda a: a <= reference.value + reference.tolerance
    else:
        expected, ok = f"{reference.value:g} ± {reference.tolerance:g}", lambda a: abs(a - reference.value) <= reference.tolerance
    check = {"what": f"{reference.metric} {expected}", "metric": reference.metric,
             "expected": expected, "reported": reference.value, "actual": actual}
    if not _finite(actual):
        reason = f"the run produced no '{reference.metric}'" if actual is None else \
            f"the run's '{reference.metric}' is not a finite number ({str(actual)[:40]})"
        return {**check, "status": "unverifiable", "reason": reason}
    if ok(float(actual)):
        return {**check, "status": "passed"}
    return _missed(reference, {**check, **_off_by(reference, float(actual), reference.value)}, "differs")


def claim_check(claim, history: dict,
                baseline_history: Callable[[str], tuple[str | None, dict | None, dict]]) -> dict:
    """`baseline_history(name)` gives (run dir, history, metrics) of the latest completed run."""
    check = {"what": claim.text, "metric": claim.metric, "statistic": claim.statistic, "relation": claim.relation}
    actual = curve_statistic(history, claim)
    if actual is None:
        return {**check, "status": "unverifiable", "reason": f"no '{claim.metric}' in the history"}
    if not math.isfinite(actual):
        return {**check, "status": "unverifiable", "reason": f"the run's '{claim.metric}' is not a finite number"}
    check["actual"] = actual
    expected: Any = claim.value
    if claim.than:
        baseline_dir, other, other_metrics = baseline_history(claim.than)
        if other is None:
            return {**check, "status": "unverifiable",
                    "reason": f"no completed run of '{claim.than}' that follows its recipe (its spec unchanged "
                              f"but the seed) to compare with: run `dlcli train {claim.than}`"}
        wanted = claim.than_metric or claim.metric
        expected = other_metrics.get(claim.than_metric) if claim.than_metric else curve_statistic(other, claim)
        check["baseline_run"] = baseline_dir
        if not _finite(expected):
            what = "no" if expected is None else "no finite number as its"
            return {**check, "status": "unverifiable", "reason": f"the '{claim.than}' run has {what} '{wanted}'"}
    check["expected"] = expected
    if _compare(claim.relation, actual, expected):
        return {**check, "status": "passed"}
    nearest = min(expected if isinstance(expected, list) else [expected], key=lambda bound: abs(actual - bound))
    return _missed(claim, {**check, **_off_by(claim, actual, float(nearest))}, "failed")


def verdict(reference, metrics: dict, history: dict, baseline_history) -> dict:
    """{'status': ..., 'checks': [...]} for a run's metrics and history."""
    if reference is None:
        return {"status": "none", "checks": []}
    checks = []
    if reference.metric is not None:
        checks.append(value_check(reference, metrics))
    checks += [value_check(extra, metrics) for extra in reference.also]
    checks += [claim_check(claim, history, baseline_history) for claim in reference.claims]
    statuses = {check["status"] for check in checks}
    status = next((worst for worst in ("failed", "differs", "unverifiable") if worst in statuses), "passed")
    return {
        "status": status if checks else "none",
        "source": reference.source,
        "listing": reference.listing,
        "checks": checks,
    }


RELATIONS = {"greater": "> ", "less": "< ", "greater_or_equal": ">= ", "less_or_equal": "<= "}


def _number(value: float) -> str:
    """3466 as 3466 (a count), 0.91234 as 0.9123."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def describe(verdict_data: dict) -> list[str]:
    """Human lines for a verdict, one per check."""
    lines = [f"  ({verdict_data[key]})" for key in ("reason", "recipe_note") if verdict_data.get(key)]
    for check in verdict_data.get("checks", []):
        if not isinstance(check, dict):  # a metrics.json written by hand or by another tool
            continue
        actual = check.get("actual")
        shown = _number(actual) if isinstance(actual, (int, float)) else "n/a"
        expected = check.get("expected")
        if isinstance(expected, list) and len(expected) == 2:
            shown_expected = f"between {_number(expected[0])} and {_number(expected[1])}"
        elif isinstance(expected, (int, float)):
            shown_expected = f"{RELATIONS.get(check.get('relation'), '')}{_number(expected)}"
        else:
            shown_expected = expected
        reason = f" ({check['reason']})" if check.get("reason") else ""
        if check.get("direction") and isinstance(check.get("margin"), (int, float)):
            source = f" than the source ({_number(check['reported'])})" if "reported" in check else ""
            reason = f", {check['direction']}{source} by {_number(check['margin'])}" + \
                (f" ({check['note']})" if check.get("note") else "")
        what = check.get("what") or check.get("metric") or "check"
        lines.append(f"  [{check.get('status', 'unknown')}] {what}: got {shown}, expected {shown_expected}{reason}")
    return lines


def comparable(verdict_data: dict, info: dict, source_info: dict | None = None) -> dict:
    """The verdict, marked `not comparable` when the run changed the source's recipe; the
    checks keep their own results, for information."""
    from dlcli.runs import recipe_changes

    changes = recipe_changes(info, source_info)
    if verdict_data.get("status", "none") != "none":  # where the recipe was judged from, and how
        verdict_data = {**verdict_data, **{key: info[key] for key in ("recipe_source", "recipe_note") if info.get(key)}}
    if verdict_data.get("status", "none") == "none" or not changes:
        return verdict_data
    return {**verdict_data, "status": "not comparable",
            "reason": f"the run changed the source's recipe: {', '.join(changes)}"}


def run_verdict(run, spec, metrics: dict, history: dict) -> dict:
    """A run's verdict against its spec's reference; baselines are the latest completed runs."""
    from dlcli.runs import Run

    def baseline(experiment: str) -> tuple[str | None, dict | None, dict]:
        found = Run.latest_completed(experiment, follows_recipe=True)
        if found is None:
            return None, None, {}
        return str(found), found.history(), found.metrics().get("metrics", {})

    info = run.info
    source = Run.open(info["initialized_from"]).info if info.get("initialized_from") else None
    return comparable(verdict(spec.reference, metrics, history, baseline), info, source)
